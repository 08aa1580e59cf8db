//! The per-issuer key cache: freshness, throttled refetch on unknown `kid`, stale-if-error.
//!
//! Decisions are pure functions of the cache state and a clock reading (`now` in seconds), so the
//! bounds are tested without I/O. The fetch itself happens in [`crate::token::verify`] through the
//! ports, with concurrent misses in one isolate coalesced onto one fetch.
//!
//! Rules (defaults in [`JwksTiming`]):
//! - Keys are fresh for the response's `Cache-Control: max-age`, clamped to `[min_ttl, max_ttl]`
//!   (`default_ttl` when the header says nothing).
//! - An unknown `kid` triggers at most one refetch per `refetch_window` per issuer (aws-jwt-verify's
//!   "penalty box"; go-oidc refetches on every miss and so lets a flood of random kids through to
//!   the IdP, whose JWKS endpoint Auth0 rate-limits).
//! - When a refresh fails (IdP down, garbage, non-200), the last good keys keep working until
//!   `max_stale` after they stopped being fresh; then the issuer fails closed.
//! - A key removed from the JWKS stops verifying at the next successful refresh, because the whole
//!   set is replaced.

use super::jwk::PublicJwk;
use crate::time::UnixSeconds;
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksTiming {
    pub default_ttl: u64,
    pub min_ttl: u64,
    pub max_ttl: u64,
    pub refetch_window: u64,
    pub max_stale: u64,
}

impl Default for JwksTiming {
    fn default() -> Self {
        Self {
            default_ttl: 600,
            min_ttl: 60,
            max_ttl: 86_400,
            refetch_window: 30,
            max_stale: 86_400,
        }
    }
}

impl JwksTiming {
    /// Freshness from `Cache-Control` (RFC 9111 §5.2.2.1 max-age; `no-store`/`no-cache` → min).
    pub fn ttl_from_cache_control(&self, header: Option<&str>) -> u64 {
        let Some(h) = header else {
            return self.default_ttl.clamp(self.min_ttl, self.max_ttl);
        };
        let mut ttl = None;
        for directive in h.split(',') {
            let d = directive.trim().to_ascii_lowercase();
            if d == "no-store" || d == "no-cache" {
                return self.min_ttl;
            }
            if let Some(v) = d.strip_prefix("max-age=") {
                ttl = v.trim_matches('"').parse::<u64>().ok();
            }
        }
        ttl.unwrap_or(self.default_ttl)
            .clamp(self.min_ttl, self.max_ttl)
    }
}

/// One issuer's current key set.
#[derive(Debug, Clone)]
pub struct KeySet {
    pub keys: Vec<Rc<PublicJwk>>,
    pub fetched_at: UnixSeconds,
    pub fresh_until: UnixSeconds,
}

impl KeySet {
    pub fn find(&self, kid: Option<&str>) -> Option<&Rc<PublicJwk>> {
        match kid {
            Some(k) => self.keys.iter().find(|j| j.kid.as_deref() == Some(k)),
            // RFC 7515 §4.1.4: kid is optional; without it, only an unambiguous single key.
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }

    pub fn contains_thumbprint(&self, t: &[u8; 32]) -> bool {
        self.keys.iter().any(|k| &k.thumbprint == t)
    }
}

#[derive(Debug, Default)]
struct IssuerEntry {
    set: Option<KeySet>,
    /// When we last asked the IdP (success or failure): the refetch throttle.
    last_attempt: Option<UnixSeconds>,
    last_error: Option<String>,
    fetches: u64,
}

/// What the verifier should do for one (issuer, kid) lookup.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Use this key.
    Key(Rc<PublicJwk>),
    /// Fetch the JWKS now, then look again.
    Fetch,
    /// The kid is not in a fresh set and the refetch window is closed.
    UnknownKid,
    /// No usable keys and fetching is throttled after a failure.
    Unavailable(String),
}

/// All issuers' key sets of one isolate.
#[derive(Debug, Default)]
pub struct JwksCache {
    issuers: HashMap<String, IssuerEntry>,
}

impl JwksCache {
    pub fn lookup(
        &self,
        issuer: &str,
        kid: Option<&str>,
        now: UnixSeconds,
        t: &JwksTiming,
    ) -> Lookup {
        self.decide(issuer, kid, now, t, true)
    }

    /// The answer when a fetch has just been made (or may not be): never [`Lookup::Fetch`], so
    /// a failed fetch falls back to stale keys or a clear refusal whatever the refetch window.
    pub fn lookup_without_fetch(
        &self,
        issuer: &str,
        kid: Option<&str>,
        now: UnixSeconds,
        t: &JwksTiming,
    ) -> Lookup {
        match self.decide(issuer, kid, now, t, false) {
            Lookup::Fetch => Lookup::Unavailable(
                self.issuers
                    .get(issuer)
                    .and_then(|e| e.last_error.clone())
                    .unwrap_or_else(|| "no keys".into()),
            ),
            other => other,
        }
    }

    fn decide(
        &self,
        issuer: &str,
        kid: Option<&str>,
        now: UnixSeconds,
        t: &JwksTiming,
        allow_fetch: bool,
    ) -> Lookup {
        let Some(entry) = self.issuers.get(issuer) else {
            return if allow_fetch {
                Lookup::Fetch
            } else {
                Lookup::Unavailable("no keys yet".into())
            };
        };
        let may_fetch = allow_fetch
            && entry
                .last_attempt
                .is_none_or(|at| now.since(at) >= t.refetch_window);
        match &entry.set {
            None => {
                if may_fetch {
                    Lookup::Fetch
                } else {
                    Lookup::Unavailable(
                        entry
                            .last_error
                            .clone()
                            .unwrap_or_else(|| "no keys yet".into()),
                    )
                }
            }
            Some(set) => {
                let fresh = now < set.fresh_until;
                let usable_stale = now < set.fresh_until.plus(t.max_stale);
                match (set.find(kid), fresh) {
                    (Some(k), true) => Lookup::Key(k.clone()),
                    (Some(k), false) => {
                        if may_fetch {
                            Lookup::Fetch
                        } else if usable_stale {
                            Lookup::Key(k.clone())
                        } else {
                            Lookup::Unavailable(format!(
                                "keys stale for more than {} s: {}",
                                t.max_stale,
                                entry.last_error.clone().unwrap_or_default()
                            ))
                        }
                    }
                    (None, _) => {
                        if may_fetch {
                            Lookup::Fetch
                        } else if fresh || usable_stale {
                            Lookup::UnknownKid
                        } else {
                            Lookup::Unavailable("keys stale and refetch throttled".into())
                        }
                    }
                }
            }
        }
    }

    /// Marks the start of a fetch (closes the refetch window for everyone else).
    pub fn begin_fetch(&mut self, issuer: &str, now: UnixSeconds) {
        let e = self.issuers.entry(issuer.to_string()).or_default();
        e.last_attempt = Some(now);
        e.fetches += 1;
    }

    pub fn store(&mut self, issuer: &str, set: KeySet) {
        let e = self.issuers.entry(issuer.to_string()).or_default();
        e.set = Some(set);
        e.last_error = None;
    }

    pub fn record_failure(&mut self, issuer: &str, error: String) {
        let e = self.issuers.entry(issuer.to_string()).or_default();
        e.last_error = Some(error);
    }

    /// Is a key with this thumbprint in a *fresh* set? The verified-token cache asks this on
    /// every hit: once the set goes stale, the token takes the full path, which refreshes the
    /// keys (so a key the IdP removed stops verifying) or, if the IdP is down, serves stale keys
    /// within `max_stale` and then fails closed.
    pub fn key_fresh(&self, issuer: &str, thumbprint: &[u8; 32], now: UnixSeconds) -> bool {
        self.issuers
            .get(issuer)
            .and_then(|e| e.set.as_ref())
            .is_some_and(|s| s.contains_thumbprint(thumbprint) && now < s.fresh_until)
    }

    /// How many times this isolate asked the IdP for `issuer`'s keys (tests, `explain`).
    pub fn fetch_count(&self, issuer: &str) -> u64 {
        self.issuers.get(issuer).map_or(0, |e| e.fetches)
    }

    pub fn key_set(&self, issuer: &str) -> Option<&KeySet> {
        self.issuers.get(issuer).and_then(|e| e.set.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::jwk::KeyMaterial;

    fn key(kid: &str, b: u8) -> Rc<PublicJwk> {
        Rc::new(PublicJwk::new(
            Some(kid.into()),
            None,
            KeyMaterial::Ed25519 { x: vec![b; 32] },
        ))
    }

    fn set(keys: Vec<Rc<PublicJwk>>, at: u64, ttl: u64) -> KeySet {
        KeySet {
            keys,
            fetched_at: UnixSeconds::new(at),
            fresh_until: UnixSeconds::new(at).plus(ttl),
        }
    }

    const ISS: &str = "https://idp";

    #[test]
    fn empty_cache_fetches() {
        let c = JwksCache::default();
        assert_eq!(
            c.lookup(ISS, Some("a"), UnixSeconds::new(0), &JwksTiming::default()),
            Lookup::Fetch
        );
    }

    #[test]
    fn fresh_hit_and_unknown_kid_throttle() {
        let t = JwksTiming::default();
        let mut c = JwksCache::default();
        c.begin_fetch(ISS, UnixSeconds::new(1000));
        c.store(ISS, set(vec![key("a", 1)], 1000, 600));
        assert!(matches!(
            c.lookup(ISS, Some("a"), UnixSeconds::new(1001), &t),
            Lookup::Key(_)
        ));
        // within the window: unknown kid is refused without a fetch
        assert_eq!(
            c.lookup(ISS, Some("zz"), UnixSeconds::new(1010), &t),
            Lookup::UnknownKid
        );
        // window passed: one refetch allowed
        assert_eq!(
            c.lookup(ISS, Some("zz"), UnixSeconds::new(1030), &t),
            Lookup::Fetch
        );
        c.begin_fetch(ISS, UnixSeconds::new(1030));
        assert_eq!(
            c.lookup(ISS, Some("zz2"), UnixSeconds::new(1031), &t),
            Lookup::UnknownKid
        );
    }

    #[test]
    fn stale_keys_serve_while_idp_is_down_then_fail_closed() {
        let t = JwksTiming {
            max_stale: 1000,
            ..JwksTiming::default()
        };
        let mut c = JwksCache::default();
        c.begin_fetch(ISS, UnixSeconds::new(0));
        c.store(ISS, set(vec![key("a", 1)], 0, 100));
        // stale: a fetch is due
        assert_eq!(
            c.lookup(ISS, Some("a"), UnixSeconds::new(150), &t),
            Lookup::Fetch
        );
        c.begin_fetch(ISS, UnixSeconds::new(150));
        c.record_failure(ISS, "503".into());
        // within the throttle window after the failure, the stale key still verifies
        assert!(matches!(
            c.lookup(ISS, Some("a"), UnixSeconds::new(160), &t),
            Lookup::Key(_)
        ));
        // past max_stale, fail closed even when throttled
        c.begin_fetch(ISS, UnixSeconds::new(1099));
        assert!(matches!(
            c.lookup(ISS, Some("a"), UnixSeconds::new(1101), &t),
            Lookup::Unavailable(_)
        ));
    }

    #[test]
    fn removed_key_stops_verifying_after_refresh() {
        let mut c = JwksCache::default();
        let a = key("a", 1);
        c.store(ISS, set(vec![a.clone()], 0, 100));
        assert!(c.key_fresh(ISS, &a.thumbprint, UnixSeconds::new(50)));
        c.store(ISS, set(vec![key("b", 2)], 200, 100));
        assert!(!c.key_fresh(ISS, &a.thumbprint, UnixSeconds::new(201)));
        assert_eq!(
            c.lookup(
                ISS,
                Some("a"),
                UnixSeconds::new(201),
                &JwksTiming::default()
            ),
            Lookup::Fetch
        );
    }

    #[test]
    fn cache_control_is_clamped() {
        let t = JwksTiming::default();
        assert_eq!(t.ttl_from_cache_control(Some("public, max-age=5")), 60);
        assert_eq!(t.ttl_from_cache_control(Some("max-age=3600")), 3600);
        assert_eq!(t.ttl_from_cache_control(Some("max-age=99999999")), 86_400);
        assert_eq!(t.ttl_from_cache_control(Some("no-store")), 60);
        assert_eq!(t.ttl_from_cache_control(None), 600);
    }
}
