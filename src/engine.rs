//! The in-isolate state one Worker isolate keeps between requests: compiled configs, key sets,
//! discovery documents, verified tokens and decisions for repeated credentials. Plain data behind
//! `RefCell`s: an isolate is single-threaded and the core never awaits, so no borrow outlives a
//! call.

use crate::authz::decision::Principal;

use crate::error::Refusal;
use crate::forward::AssertionKey;
use crate::keys::cache::JwksCache;
use crate::keys::discovery::Discovery;
use crate::org::cache::ConfigCache;
use crate::time::UnixSeconds;
use crate::token::verify::CachedToken;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// Memory the verified-token cache may hold, counted as token bytes plus a fixed overhead per
/// entry (Workers isolates have 128 MB; 10,000 typical 1 KB access tokens fit).
pub const VERIFIED_CACHE_BYTES: usize = 16 * 1024 * 1024;
/// Memory the decision cache may hold, counted the same way.
pub const DECISION_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// What one cached entry costs besides its credential (claims map, headers, bookkeeping).
const ENTRY_OVERHEAD: usize = 1024;

/// What was decided for one (credential, org, config versions, method, rule): the expensive
/// part of a request, replayed for a repeated credential.
#[derive(Debug)]
pub enum Decided {
    /// The caller may pass: the principal and the identity headers for the origin.
    Allowed {
        principal: Rc<Principal>,
        identity_headers: Rc<[(String, String)]>,
    },
    /// Refused for reasons that only the credential, the org and the rules decide.
    Refused(Refusal),
}

/// Everything a cached decision depends on besides the credential text itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionScope {
    pub org_id: String,
    pub tenant_version: u64,
    pub org_version: u64,
    pub method: String,
    pub rule: Rc<str>,
    /// The DPoP key thumbprint the request proved (a bound token's decision holds only with it).
    pub binding: Option<String>,
}

/// A decision and the bounds of its validity.
#[derive(Debug)]
pub struct CachedDecision {
    pub scope: DecisionScope,
    /// Unix seconds from which the decision no longer holds (token expiry, session refresh time,
    /// `max_age`).
    pub valid_until: UnixSeconds,
    /// The issuer and JWKS key that verified the credential: the decision holds only while that
    /// key is in a fresh key set (a rotated-out key stops a cached decision at once).
    pub key: Option<(String, [u8; 32])>,
    pub decided: Rc<Decided>,
}

/// Hashes a credential by its length and its last 32 bytes: for a JWS the signature, for a
/// sealed cookie the AEAD tag, which only the issuer (or our key) can choose. Lookups still
/// compare the whole credential; only verified credentials are ever stored, so a flood of
/// crafted keys can only probe, never fill, a bucket. (SipHash over every byte of a 1 KB token
/// cost more than the rest of a cached decision.)
#[derive(Default, Clone, Copy)]
pub struct TailHash(u64);

impl std::hash::Hasher for TailHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0 ^ (bytes.len() as u64).wrapping_mul(K);
        for chunk in bytes[bytes.len().saturating_sub(32)..].chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        self.0 = h;
    }
}

type Build = std::hash::BuildHasherDefault<TailHash>;

struct Bounded<V> {
    map: HashMap<Rc<str>, V, Build>,
    bytes: usize,
}

impl<V> Default for Bounded<V> {
    fn default() -> Self {
        Self {
            map: HashMap::default(),
            bytes: 0,
        }
    }
}

#[derive(Default)]
pub struct Engine {
    jwks: RefCell<JwksCache>,
    verified: RefCell<Bounded<Rc<CachedToken>>>,
    decisions: RefCell<Bounded<Vec<CachedDecision>>>,
    discovery: RefCell<HashMap<String, (Rc<Discovery>, UnixSeconds)>>,
    configs: RefCell<ConfigCache>,
    /// (random isolate prefix, counter) for request ids.
    request_seq: Cell<(u32, u64)>,
    /// MAC key for entries in the shared (Cache API) tier; `None`: no shared tier.
    shared_mac: RefCell<Option<Option<[u8; 32]>>>,
    /// The assertion signing key, derived once per (kid, secret).
    assertion_key: RefCell<Option<([u8; 32], Rc<AssertionKey>)>>,
    /// Versions handed to compiled configs (decisions are cached per version).
    config_versions: Cell<u64>,
    /// DPoP proof ids seen: (key thumbprint, jti) → until when a replay would still be accepted.
    dpop_jtis: RefCell<HashMap<(String, String), UnixSeconds>>,
    /// The set every scope without a revocation document shares.
    no_revocations: Rc<crate::revoke::RevocationSet>,
}

/// How many DPoP proof ids an isolate remembers.
pub const DPOP_JTI_CAP: usize = 100_000;

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty revocation set (shared, no allocation per request).
    pub fn empty_revocations(&self) -> Rc<crate::revoke::RevocationSet> {
        self.no_revocations.clone()
    }

    /// `{isolate prefix}-{counter}`; `fill` supplies randomness for the prefix, once.
    pub fn next_request_id(&self, fill: impl FnOnce(&mut [u8]) -> bool) -> String {
        let (mut prefix, count) = self.request_seq.get();
        if prefix == 0 {
            let mut b = [0u8; 4];
            prefix = if fill(&mut b) {
                u32::from_le_bytes(b) | 1
            } else {
                1
            };
        }
        self.request_seq.set((prefix, count + 1));
        format!("{prefix:08x}-{count:x}")
    }

    /// A new version number for a freshly compiled config.
    pub fn next_config_version(&self) -> u64 {
        let v = self.config_versions.get() + 1;
        self.config_versions.set(v);
        v
    }

    pub fn with_jwks<R>(&self, f: impl FnOnce(&JwksCache) -> R) -> R {
        f(&self.jwks.borrow())
    }

    pub fn with_jwks_mut<R>(&self, f: impl FnOnce(&mut JwksCache) -> R) -> R {
        f(&mut self.jwks.borrow_mut())
    }

    pub fn with_configs<R>(&self, f: impl FnOnce(&mut ConfigCache) -> R) -> R {
        f(&mut self.configs.borrow_mut())
    }

    // --- verified tokens --------------------------------------------------------------------

    /// A token whose signature was verified earlier, found by its **whole text** (no hash
    /// stands in for it). The caller re-checks the key, the claims and the policy.
    pub fn verified_get(&self, raw: &str) -> Option<Rc<CachedToken>> {
        self.verified.borrow().map.get(raw).cloned()
    }

    pub fn verified_remove(&self, raw: &str) {
        let mut c = self.verified.borrow_mut();
        if c.map.remove(raw).is_some() {
            c.bytes = c.bytes.saturating_sub(raw.len() + ENTRY_OVERHEAD);
        }
    }

    pub fn verified_put(&self, raw: &str, token: Rc<CachedToken>, now: UnixSeconds) {
        let mut c = self.verified.borrow_mut();
        let cost = raw.len() + ENTRY_OVERHEAD;
        if c.bytes + cost > VERIFIED_CACHE_BYTES {
            // Drop what expired (beyond any sane leeway); if that is not enough, start over.
            c.map.retain(|_, t| now < t.exp.plus(600));
            c.bytes = c.map.keys().map(|k| k.len() + ENTRY_OVERHEAD).sum();
            if c.bytes + cost > VERIFIED_CACHE_BYTES {
                c.map.clear();
                c.bytes = 0;
            }
        }
        if c.map.insert(Rc::from(raw), token).is_none() {
            c.bytes += cost;
        }
    }

    pub fn verified_len(&self) -> usize {
        self.verified.borrow().map.len()
    }

    // --- decisions for repeated credentials -----------------------------------------------------

    /// The decision made earlier for this exact credential in this scope, if it still holds at
    /// `now` (its time bound, and the freshness of the key that verified the credential).
    pub fn decision_get(
        &self,
        credential: &str,
        scope: &DecisionScope,
        now: UnixSeconds,
    ) -> Option<Rc<Decided>> {
        let c = self.decisions.borrow();
        let d = c.map.get(credential)?.iter().find(|d| d.scope == *scope)?;
        if now >= d.valid_until {
            return None;
        }
        if let Some((iss, thumb)) = &d.key {
            if !self.with_jwks(|j| j.key_fresh(iss, thumb, now)) {
                return None;
            }
        }
        Some(d.decided.clone())
    }

    pub fn decision_put(&self, credential: &str, d: CachedDecision, now: UnixSeconds) {
        let mut c = self.decisions.borrow_mut();
        let cost = ENTRY_OVERHEAD + credential.len();
        if c.bytes + cost > DECISION_CACHE_BYTES {
            c.map.retain(|_, v| {
                v.retain(|d| now < d.valid_until);
                !v.is_empty()
            });
            c.bytes = c
                .map
                .iter()
                .map(|(k, v)| v.len() * (ENTRY_OVERHEAD + k.len()))
                .sum();
            if c.bytes + cost > DECISION_CACHE_BYTES {
                c.map.clear();
                c.bytes = 0;
            }
        }
        // Share the text with the verified-token cache when it holds the same credential.
        let key = self
            .verified
            .borrow()
            .map
            .get_key_value(credential)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| Rc::from(credential));
        let entry = c.map.entry(key).or_default();
        // One entry per scope: a newer decision replaces an older one.
        let before = entry.len();
        entry.retain(|x| x.scope != d.scope);
        let removed = before - entry.len();
        entry.push(d);
        c.bytes = c.bytes + cost - removed * cost;
    }

    pub fn decisions_len(&self) -> usize {
        self.decisions.borrow().map.values().map(Vec::len).sum()
    }

    /// Forgets every decision made for this credential (a refusal on the full path, a session
    /// that ended).
    pub fn decisions_forget(&self, credential: &str) {
        let mut c = self.decisions.borrow_mut();
        if let Some(v) = c.map.remove(credential) {
            c.bytes = c
                .bytes
                .saturating_sub(v.len() * (ENTRY_OVERHEAD + credential.len()));
        }
    }

    /// Records a DPoP proof's `jti` for its key; `false` if it was seen before and its proof would
    /// still be accepted (RFC 9449 §11.1: a replay). Expired ids are forgotten.
    /// Has (`scope`, `jti`) been recorded and not yet expired? (Checks without recording.)
    pub fn jti_seen(&self, scope: &str, jti: &str, now: UnixSeconds) -> bool {
        self.dpop_jtis
            .borrow()
            .get(&(scope.to_string(), jti.to_string()))
            .is_some_and(|u| now < *u)
    }

    pub fn dpop_jti_fresh(
        &self,
        jkt: &str,
        jti: &str,
        until: UnixSeconds,
        now: UnixSeconds,
    ) -> bool {
        let mut m = self.dpop_jtis.borrow_mut();
        let key = (jkt.to_string(), jti.to_string());
        if m.get(&key).is_some_and(|u| now < *u) {
            return false;
        }
        if m.len() >= DPOP_JTI_CAP {
            m.retain(|_, u| now < *u);
        }
        m.insert(key, until);
        true
    }

    // --- the rest ---------------------------------------------------------------------------

    /// Sets the shared-tier MAC key once per isolate (secrets do not change within one).
    pub fn init_shared_mac(&self, derive: impl FnOnce() -> Option<[u8; 32]>) {
        if self.shared_mac.borrow().is_none() {
            *self.shared_mac.borrow_mut() = Some(derive());
        }
    }

    pub fn shared_mac_key(&self) -> Option<[u8; 32]> {
        self.shared_mac.borrow().flatten()
    }

    /// The assertion key for `kid` and `secret`, derived on first use (an Ed25519 key derivation
    /// per request would cost more than the rest of the request).
    pub fn assertion_key(&self, kid: &str, secret: &str) -> Result<Rc<AssertionKey>, String> {
        use sha2::{Digest, Sha256};
        let id: [u8; 32] = Sha256::digest(format!("{kid}\0{secret}").as_bytes()).into();
        if let Some((cached_id, key)) = self.assertion_key.borrow().as_ref() {
            if *cached_id == id {
                return Ok(key.clone());
            }
        }
        let key = Rc::new(AssertionKey::from_secret(kid, secret)?);
        *self.assertion_key.borrow_mut() = Some((id, key.clone()));
        Ok(key)
    }

    pub fn discovery_get(&self, issuer: &str, now: UnixSeconds) -> Option<Rc<Discovery>> {
        let map = self.discovery.borrow();
        let (doc, fresh_until) = map.get(issuer)?;
        (now < *fresh_until).then(|| doc.clone())
    }

    pub fn discovery_put(&self, issuer: &str, doc: Rc<Discovery>, fresh_until: UnixSeconds) {
        self.discovery
            .borrow_mut()
            .insert(issuer.to_string(), (doc, fresh_until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn at(s: u64) -> UnixSeconds {
        UnixSeconds::new(s)
    }

    fn scope(rule: &str) -> DecisionScope {
        DecisionScope {
            org_id: "org_a".into(),
            tenant_version: 1,
            org_version: 1,
            method: "GET".into(),
            rule: Rc::from(rule),
            binding: None,
        }
    }

    fn refused() -> CachedDecision {
        CachedDecision {
            scope: scope("r"),
            valid_until: at(100),
            key: None,
            decided: Rc::new(Decided::Refused(Refusal::UnknownOrg)),
        }
    }

    /// A hit needs the whole credential and the same scope; a time bound ends it.
    #[test]
    fn decisions_match_whole_credential_and_scope_until_their_bound() {
        let e = Engine::new();
        e.decision_put("tok-1", refused(), at(0));
        assert!(e.decision_get("tok-1", &scope("r"), at(99)).is_some());
        assert!(e.decision_get("tok-1", &scope("r"), at(100)).is_none());
        assert!(e.decision_get("tok-", &scope("r"), at(1)).is_none());
        assert!(e.decision_get("tok-1", &scope("other"), at(1)).is_none());
        let mut s = scope("r");
        s.org_version = 2;
        assert!(e.decision_get("tok-1", &s, at(1)).is_none(), "a new config");
        e.decisions_forget("tok-1");
        assert_eq!(e.decisions_len(), 0);
    }

    /// A decision verified by a JWKS key holds only while that key is in a fresh set.
    #[test]
    fn decisions_end_with_their_key() {
        let e = Engine::new();
        let mut d = refused();
        d.key = Some(("iss".into(), [1; 32]));
        e.decision_put("tok", d, at(0));
        assert!(
            e.decision_get("tok", &scope("r"), at(1)).is_none(),
            "no key set"
        );
    }

    /// The caches are bounded in bytes: a flood of distinct long credentials never grows them
    /// past their budget.
    #[test]
    fn decision_cache_is_bounded_in_bytes() {
        let e = Engine::new();
        let long = "x".repeat(4000);
        for i in 0..5000 {
            let mut d = refused();
            d.valid_until = UnixSeconds::NEVER_ENDS;
            e.decision_put(&format!("{long}{i}"), d, at(0));
        }
        let c = e.decisions.borrow();
        assert!(c.bytes <= DECISION_CACHE_BYTES, "{}", c.bytes);
        assert!(c.map.len() < 5000);
    }
}
