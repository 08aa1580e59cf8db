//! The JWKS lifecycle of one issuer, whole: which key verifies a token, and when and how the key
//! set is refreshed (discover, share, fetch, parse, store, share again).
//!
//! [`key_for`] answers from the isolate's [`JwksCache`](super::cache::JwksCache) when it can. When
//! the cache says to fetch (no keys yet, stale keys, an unknown `kid` with the refetch window
//! open), [`refresh`] names the I/O it needs, one piece at a time, in this order:
//! 1. the location's shared cache (`SharedGet`), when no fresh set is held and entries can be
//!    authenticated: another isolate's fetch spares the IdP, whose JWKS endpoint is rate-limited;
//! 2. the issuer's discovery document, when no `jwks_uri` is configured ([`super::discovery`]);
//! 3. the JWKS itself (`Fetch`, coalesced by URL: concurrent requests of one isolate that need
//!    the same set share one fetch).
//!
//! Once the JWKS answer is in, the fetch is recorded (closing the refetch window for everyone
//! else), the set is stored or the failure recorded, and the set is offered to the other
//! isolates after the response (`Effect::SharedPut`). The cache's rules then decide between the
//! key, stale keys and a refusal.

use super::cache::{KeySet, Lookup};
use super::jwk::{parse_jwks, KeyMaterial, PublicJwk};
use crate::engine::Engine;
use crate::http::HttpRequest;
use crate::io::{Answers, Effect, Pending};
use crate::org::policy::IssuerPolicy;
use crate::ports::Host;
use crate::time::UnixSeconds;
use crate::token::jws::{self, Alg};
use crate::token::TokenError;
use serde_json::Value;
use sha2::Sha256;
use std::rc::Rc;

/// Keys of the shared tier (a URL on a host nobody can reach: the Cache API keys by URL).
const SHARED_PREFIX: &str = "https://orggate.internal/jwks/";

/// The key that verifies a token from `issuer` with header `alg` and `kid`.
pub fn key_for(
    engine: &Engine,
    host: &dyn Host,
    io: &mut Answers,
    issuer: &IssuerPolicy,
    alg: Alg,
    kid: Option<&str>,
    now: UnixSeconds,
) -> Result<Rc<PublicJwk>, Pending<TokenError>> {
    if alg == Alg::HS256 {
        return hs256_key(host, issuer).map(Rc::new).map_err(Pending::Fail);
    }
    let unknown = || match kid {
        Some(k) => TokenError::UnknownKid {
            kid: jws::truncate(k),
        },
        None => TokenError::MissingKid,
    };
    let iss = issuer.issuer.as_str();
    let mut lookup = engine.with_jwks(|c| c.lookup(iss, kid, now, &issuer.timing));
    if lookup == Lookup::Fetch {
        refresh(engine, io, issuer, now)?;
        // After one fetch (ours, or one that shared its answer), never another in this request.
        lookup = engine.with_jwks(|c| c.lookup_without_fetch(iss, kid, now, &issuer.timing));
    }
    match lookup {
        Lookup::Key(k) => Ok(k),
        Lookup::UnknownKid | Lookup::Fetch => Err(Pending::Fail(unknown())),
        Lookup::Unavailable(detail) => {
            // Keys are there but not this kid: that is the token's problem, not the IdP's.
            let have_set_without_kid =
                engine.with_jwks(|c| c.key_set(iss).is_some_and(|s| s.find(kid).is_none()));
            Err(Pending::Fail(if have_set_without_kid {
                unknown()
            } else {
                TokenError::KeysUnavailable { detail }
            }))
        }
    }
}

/// The HS256 key: only ever from a Worker secret, never from a JWKS.
pub fn hs256_key(host: &dyn Host, issuer: &IssuerPolicy) -> Result<PublicJwk, TokenError> {
    let name = issuer
        .hs256_secret
        .as_deref()
        .ok_or(TokenError::AlgorithmNotAllowed { alg: "HS256" })?;
    let secret = host
        .secret(name)
        .ok_or_else(|| TokenError::KeysUnavailable {
            detail: format!("secret {name} is not set"),
        })?;
    Ok(PublicJwk::new(
        None,
        None,
        KeyMaterial::Oct {
            k: secret.expose().as_bytes().to_vec(),
        },
    ))
}

/// Brings `issuer`'s key set up to date (see the module docs). Failures are recorded in the
/// cache, not returned: the caller looks again and the cache's rules decide.
pub fn refresh(
    engine: &Engine,
    io: &mut Answers,
    issuer: &IssuerPolicy,
    now: UnixSeconds,
) -> Result<(), Pending<TokenError>> {
    let iss = issuer.issuer.as_str();
    // (1) A fresh copy fetched by another isolate of this location, unless we are here because
    // a kid was missing from a fresh set: then only the IdP can help. Only entries we can
    // authenticate are used (anything else with access to the zone's cache could plant keys).
    let have_fresh = engine.with_jwks(|c| c.key_set(iss).is_some_and(|s| now < s.fresh_until));
    let shared_key = format!("{SHARED_PREFIX}{}", crate::b64::encode(iss.as_bytes()));
    let mac_key = engine.shared_mac_key();
    if let (false, Some(mac)) = (have_fresh, mac_key.as_ref()) {
        if let Some(text) = io.shared_get(&shared_key)? {
            if let Some(set) = shared_entry(&text, mac, issuer, now) {
                engine.with_jwks_mut(|c| {
                    c.begin_fetch(iss, now);
                    c.store(iss, set)
                });
                return Ok(());
            }
        }
    }
    // (2) Where the keys are.
    let jwks_uri = match &issuer.jwks_uri {
        Some(u) => u.clone(),
        None => match super::discovery::discover(engine, io, iss, now) {
            Ok(d) => d.jwks_uri.clone(),
            Err(Pending::Need(n)) => return Err(Pending::Need(n)),
            Err(Pending::Fail(e)) => {
                engine.with_jwks_mut(|c| {
                    c.begin_fetch(iss, now);
                    c.record_failure(iss, e)
                });
                return Ok(());
            }
        },
    };
    // (3) The keys.
    let answer = io.fetch(
        HttpRequest::get(&jwks_uri),
        Some(format!("jwks:{jwks_uri}")),
    )?;
    let parsed = answer
        .map_err(|e| e.to_string())
        .and_then(|resp| parse_answer(issuer, &resp, now).map(|set| (set, resp)));
    match parsed {
        Ok((set, resp)) => {
            if let Some(key) = mac_key.as_ref() {
                if let Some(entry) = shared_doc(key, issuer, &set, &resp.body) {
                    io.effect(Effect::SharedPut {
                        key: shared_key,
                        value: entry,
                        ttl_s: set.fresh_until.since(now),
                    });
                }
            }
            engine.with_jwks_mut(|c| {
                c.begin_fetch(iss, now);
                c.store(iss, set)
            });
        }
        Err(e) => engine.with_jwks_mut(|c| {
            c.begin_fetch(iss, now);
            c.record_failure(iss, e)
        }),
    }
    Ok(())
}

fn parse_answer(
    issuer: &IssuerPolicy,
    resp: &crate::http::HttpResponse,
    now: UnixSeconds,
) -> Result<KeySet, String> {
    if resp.status != 200 {
        return Err(format!("JWKS answered {}", resp.status));
    }
    let parsed = parse_jwks(&resp.body)?;
    if parsed.keys.is_empty() {
        return Err("JWKS has no usable keys".into());
    }
    let ttl = issuer
        .timing
        .ttl_from_cache_control(resp.header("cache-control"));
    Ok(KeySet {
        keys: parsed.keys.into_iter().map(Rc::new).collect(),
        fetched_at: now,
        fresh_until: now.plus(ttl),
    })
}

fn hmac(key: &[u8; 32], payload: &[u8]) -> Option<[u8; 32]> {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    m.update(payload);
    Some(m.finalize().into_bytes().into())
}

/// `base64url(HMAC) "." doc`, where doc names the issuer and the set's freshness.
fn shared_doc(key: &[u8; 32], issuer: &IssuerPolicy, set: &KeySet, body: &[u8]) -> Option<String> {
    let doc = serde_json::json!({
        "iss": issuer.issuer,
        "fresh_until": set.fresh_until,
        "fetched_at": set.fetched_at,
        "jwks": serde_json::from_slice::<Value>(body).unwrap_or(Value::Null),
    })
    .to_string();
    let tag = hmac(key, doc.as_bytes())?;
    Some(format!("{}.{doc}", crate::b64::encode(&tag)))
}

/// A shared entry is used only if its MAC checks, it is for this issuer, it was not fetched in
/// the future, and its freshness does not exceed the issuer's `max_ttl`.
fn shared_entry(
    text: &str,
    mac: &[u8; 32],
    issuer: &IssuerPolicy,
    now: UnixSeconds,
) -> Option<KeySet> {
    use hmac::{Hmac, Mac};
    let (tag, doc) = text.split_once('.')?;
    let tag = crate::b64::decode(tag).ok()?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(mac).ok()?;
    m.update(doc.as_bytes());
    m.verify_slice(&tag).ok()?;
    let v: Value = serde_json::from_str(doc).ok()?;
    if v.get("iss")?.as_str()? != issuer.issuer {
        return None;
    }
    let fetched_at = UnixSeconds::new(v.get("fetched_at")?.as_u64()?);
    let fresh_until = UnixSeconds::new(v.get("fresh_until")?.as_u64()?)
        .min(fetched_at.plus(issuer.timing.max_ttl));
    if fetched_at > now || now >= fresh_until {
        return None;
    }
    let body = serde_json::to_vec(v.get("jwks")?).ok()?;
    let parsed = parse_jwks(&body).ok()?;
    if parsed.keys.is_empty() {
        return None;
    }
    Some(KeySet {
        keys: parsed.keys.into_iter().map(Rc::new).collect(),
        fetched_at,
        fresh_until,
    })
}
