//! Untrusted token → [`VerifiedClaims`]: issuer, algorithm, key, signature, registered claims.
//!
//! Order matters: everything that can be refused without a key is refused before a key is looked
//! up, and nothing from the payload is believed before the signature checks out except `iss`,
//! which only selects the configuration to verify against (and must then match exactly).

use super::claims::{identity, Identity};
use super::jws::{self, Alg, UntrustedToken};
use super::TokenError;
use crate::engine::Engine;
use crate::keys::cache::{KeySet, Lookup};
use crate::keys::jwk::{parse_jwks, KeyMaterial, PublicJwk};
use crate::org::policy::{IssuerPolicy, TenantPolicy};
use crate::ports::{
    Clock, HttpClient, HttpRequest, Ports, Secrets, SharedCache, SignatureVerifier,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::rc::Rc;

/// Claims whose signature and registered claims were checked. The only input authorization takes.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    pub issuer: String,
    pub alg: Alg,
    pub exp: u64,
    pub identity: Identity,
    /// Every claim, for `explain` and the generic preset. Never logged.
    pub claims: Rc<Map<String, Value>>,
    /// Which JWKS key verified it (None for HS256).
    pub key_thumbprint: Option<[u8; 32]>,
}

/// What the verified-token cache keeps: the outcome of the expensive part (parsing and the
/// signature), never a decision. Registered claims, the issuer's current policy and the preset
/// mapping are applied again on every hit, so a config change or the passage of time (`exp`,
/// `max_age`) takes effect at once.
#[derive(Debug)]
pub struct CachedToken {
    pub issuer: String,
    pub alg: Alg,
    pub claims: Rc<Map<String, Value>>,
    /// Thumbprint of the key that verified the signature (for HS256: of the shared secret).
    pub key_id: [u8; 32],
    pub from_jwks: bool,
    pub exp: u64,
}

/// Verifies `raw` against the tenant's issuers. Request-dependent checks (org, route) are not
/// here: they run on every request, cached or not.
pub async fn verify<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    raw: &str,
) -> Result<Rc<VerifiedClaims>, TokenError> {
    let now = ports.clock().now_s();
    if raw.len() > tenant.max_token_bytes {
        return Err(TokenError::Oversized {
            len: raw.len(),
            max: tenant.max_token_bytes,
        });
    }
    // A token seen before skips parsing and the signature, but only while the key that verified
    // it is still published and usable (within max_stale), or the HS256 secret is unchanged.
    let digest: [u8; 32] = Sha256::digest(raw.as_bytes()).into();
    let cached = engine.verified_get(&digest);
    let hit = cached.filter(|c| {
        let Some(issuer) = tenant.issuer(&c.issuer) else {
            return false;
        };
        if c.from_jwks {
            engine.with_jwks(|j| j.key_fresh(&c.issuer, &c.key_id, now))
        } else {
            hs256_key(ports, issuer).is_ok_and(|k| k.thumbprint == c.key_id)
        }
    });
    let from_cache = hit.is_some();
    let entry = match hit {
        Some(e) => e,
        None => {
            // A stale entry (its key gone or unusable) is forgotten before verifying afresh.
            engine.verified_remove(&digest);
            let e = verify_signature(ports, engine, tenant, raw, now).await?;
            // Remember only tokens that also pass the claims checks now.
            let issuer = tenant.issuer(&e.issuer).ok_or(TokenError::UnknownIssuer)?;
            check_registered_claims(&e.claims, issuer, now)?;
            check_not_sender_constrained(&e.claims)?;
            let e = Rc::new(e);
            engine.verified_put(digest, e.clone(), now);
            e
        }
    };
    let checked = tenant
        .issuer(&entry.issuer)
        .ok_or(TokenError::UnknownIssuer)
        .and_then(|issuer| {
            if !issuer.algorithms.contains(&entry.alg) {
                return Err(TokenError::AlgorithmNotAllowed {
                    alg: entry.alg.name(),
                });
            }
            let exp = check_registered_claims(&entry.claims, issuer, now)?;
            check_not_sender_constrained(&entry.claims)?;
            Ok((issuer, exp))
        });
    let (issuer, exp) = match checked {
        Ok(v) => v,
        Err(e) => {
            // Expired, or refused under the current config: no reason to remember it.
            if from_cache {
                engine.verified_remove(&digest);
            }
            return Err(e);
        }
    };
    let identity = identity(&entry.claims, &issuer.preset, issuer.multi_org_claim())
        .map_err(TokenError::InvalidClaim)?;
    Ok(Rc::new(VerifiedClaims {
        issuer: entry.issuer.clone(),
        alg: entry.alg,
        exp,
        identity,
        claims: entry.claims.clone(),
        key_thumbprint: entry.from_jwks.then_some(entry.key_id),
    }))
}

/// Parse, pick the issuer and key, check the signature: the part worth caching.
async fn verify_signature<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    raw: &str,
    now: u64,
) -> Result<CachedToken, TokenError> {
    let token = jws::parse(raw, tenant.max_token_bytes)?;

    // RFC 7519 §4.1.1 / OIDC Core 3.1.3.7 (2): iss selects the issuer and must match exactly
    // (no trailing-slash or case folding).
    let iss = match token.claims.get("iss") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(TokenError::BadClaim { name: "iss" }),
        None => return Err(TokenError::MissingClaim { name: "iss" }),
    };
    let issuer = tenant.issuer(iss).ok_or(TokenError::UnknownIssuer)?;
    if !issuer.algorithms.contains(&token.header.alg) {
        return Err(TokenError::AlgorithmNotAllowed {
            alg: token.header.alg.name(),
        });
    }
    let key = check_signature(ports, engine, issuer, &token, now).await?;
    let exp = token.claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    Ok(CachedToken {
        issuer: issuer.issuer.clone(),
        alg: token.header.alg,
        key_id: key.thumbprint,
        from_jwks: !matches!(key.material, KeyMaterial::Oct { .. }),
        exp,
        claims: Rc::new(token.claims),
    })
}

/// The key for `token` (JWKS by kid, or the HS256 secret), checked against the algorithm, and the
/// signature over the signing input. Shared by access tokens and ID tokens.
pub async fn check_signature<P: Ports>(
    ports: &P,
    engine: &Engine,
    issuer: &IssuerPolicy,
    token: &UntrustedToken<'_>,
    now: u64,
) -> Result<Rc<PublicJwk>, TokenError> {
    let key = resolve_key(ports, engine, issuer, token, now).await?;
    key.check_use(token.header.alg)
        .map_err(TokenError::KeyUnusable)?;
    precheck_signature_shape(token.header.alg, &token.signature)?;
    let ok = ports
        .verifier()
        .verify(
            token.header.alg,
            &key,
            token.signing_input.as_bytes(),
            &token.signature,
        )
        .await
        .map_err(|e| TokenError::KeysUnavailable {
            detail: e.to_string(),
        })?;
    if ok {
        Ok(key)
    } else {
        Err(TokenError::BadSignature)
    }
}

/// The HS256 key: only ever from a Worker secret, never from a JWKS.
fn hs256_key<P: Ports>(ports: &P, issuer: &IssuerPolicy) -> Result<PublicJwk, TokenError> {
    let name = issuer
        .hs256_secret
        .as_deref()
        .ok_or(TokenError::AlgorithmNotAllowed { alg: "HS256" })?;
    let secret = ports
        .secrets()
        .secret(name)
        .ok_or_else(|| TokenError::KeysUnavailable {
            detail: format!("secret {name} is not set"),
        })?;
    Ok(PublicJwk::new(
        None,
        None,
        KeyMaterial::Oct {
            k: secret.into_bytes(),
        },
    ))
}

/// RFC 7518 §3.4: an ECDSA JWS signature is exactly R || S. All-zero R or S can never be valid
/// (CVE-2022-21449 accepted r = s = 0): refuse before the crypto backend sees it.
pub fn precheck_signature_shape(alg: Alg, sig: &[u8]) -> Result<(), TokenError> {
    let half = match alg {
        Alg::ES256 => 32,
        Alg::ES384 => 48,
        Alg::EdDSA if sig.len() != 64 => return Err(TokenError::BadSignature),
        Alg::HS256 if sig.len() != 32 => return Err(TokenError::BadSignature),
        _ => return Ok(()),
    };
    if sig.len() != 2 * half {
        return Err(TokenError::BadSignature);
    }
    let (r, s) = sig.split_at(half);
    if r.iter().all(|b| *b == 0) || s.iter().all(|b| *b == 0) {
        return Err(TokenError::BadSignature);
    }
    Ok(())
}

fn numeric(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        // RFC 7519 §2 NumericDate: seconds, may be fractional; negative is nonsense.
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.is_finite())
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or(TokenError::BadClaim { name }),
        Some(_) => Err(TokenError::BadClaim { name }),
    }
}

/// RFC 7800 `cnf`: a token bound to a key may only be used with proof of that key. orggate
/// checks neither DPoP proofs nor client certificates on this path, so a bound token presented
/// as a plain bearer token is refused (RFC 9449 §7.1: a DPoP-bound token must not be accepted
/// as Bearer; RFC 8705 §3: an `x5t#S256`-bound token needs the certificate).
fn check_not_sender_constrained(claims: &Map<String, Value>) -> Result<(), TokenError> {
    let Some(cnf) = claims.get("cnf") else {
        return Ok(());
    };
    let binding = match cnf.as_object() {
        Some(o) if o.contains_key("jkt") => "dpop",
        Some(o) if o.contains_key("x5t#S256") => "mtls",
        // Any other confirmation method (jwk, jku, kid, ...) is a binding we cannot check either.
        _ => "other",
    };
    Err(TokenError::SenderConstrained { binding })
}

/// RFC 7519 §4.1.3-4.1.6 and RFC 9068 §4, with the issuer's leeway.
fn check_registered_claims(
    claims: &Map<String, Value>,
    issuer: &IssuerPolicy,
    now: u64,
) -> Result<u64, TokenError> {
    let leeway = issuer.leeway;
    // §4.1.4: exp is required here (an access token without one never dies).
    let exp = numeric(claims, "exp")?.ok_or(TokenError::MissingClaim { name: "exp" })?;
    if now >= exp.saturating_add(leeway) {
        return Err(TokenError::Expired { exp, now });
    }
    if let Some(nbf) = numeric(claims, "nbf")? {
        if now.saturating_add(leeway) < nbf {
            return Err(TokenError::NotYetValid { nbf, now });
        }
    }
    let iat = numeric(claims, "iat")?;
    if let Some(iat) = iat {
        if iat > now.saturating_add(leeway) {
            return Err(TokenError::IssuedInFuture { iat, now });
        }
    }
    if let Some(max_age) = issuer.max_age {
        let iat = iat.ok_or(TokenError::MissingClaim { name: "iat" })?;
        if now.saturating_sub(iat) > max_age.saturating_add(leeway) {
            return Err(TokenError::TooOld { iat, max_age });
        }
    }
    // §4.1.3: the token must be meant for us.
    let auds =
        super::claims::audiences(claims).map_err(|_| TokenError::BadClaim { name: "aud" })?;
    if auds.is_empty() && claims.contains_key("aud") {
        return Err(TokenError::BadClaim { name: "aud" });
    }
    if !auds.iter().any(|a| issuer.accepts_audience(a)) {
        return Err(TokenError::WrongAudience);
    }
    Ok(exp)
}

pub async fn resolve_key<P: Ports>(
    ports: &P,
    engine: &Engine,
    issuer: &IssuerPolicy,
    token: &UntrustedToken<'_>,
    now: u64,
) -> Result<Rc<PublicJwk>, TokenError> {
    if token.header.alg == Alg::HS256 {
        return Ok(Rc::new(hs256_key(ports, issuer)?));
    }
    let kid = token.header.kid.as_deref();
    let unknown = || match kid {
        Some(k) => TokenError::UnknownKid {
            kid: jws::truncate(k),
        },
        None => TokenError::MissingKid,
    };
    let ask = |allow_fetch: bool| {
        engine.with_jwks(|c| {
            if allow_fetch {
                c.lookup(&issuer.issuer, kid, now, &issuer.timing)
            } else {
                c.lookup_without_fetch(&issuer.issuer, kid, now, &issuer.timing)
            }
        })
    };
    let first = match ask(true) {
        Lookup::Fetch => {
            refresh_keys(ports, engine, issuer, now).await;
            // After one fetch (ours or a coalesced one), never another in this request.
            ask(false)
        }
        // Another request of this isolate is fetching right now (a cold isolate's first burst):
        // wait for its answer instead of refusing.
        other @ (Lookup::Unavailable(_) | Lookup::UnknownKid) => {
            match engine.wait_inflight(&issuer.issuer) {
                Some(done) => {
                    let _ = done.await;
                    ask(false)
                }
                None => other,
            }
        }
        other => other,
    };
    match first {
        Lookup::Key(k) => Ok(k),
        Lookup::UnknownKid | Lookup::Fetch => Err(unknown()),
        Lookup::Unavailable(detail) => {
            // Keys are there but not this kid: that is the token's problem, not the IdP's.
            let have_set = engine.with_jwks(|c| c.key_set(&issuer.issuer).is_some());
            if have_set
                && engine.with_jwks(|c| {
                    c.key_set(&issuer.issuer)
                        .is_some_and(|s| s.find(kid).is_none())
                })
            {
                Err(unknown())
            } else {
                Err(TokenError::KeysUnavailable { detail })
            }
        }
    }
}

/// Fetches the issuer's JWKS once, coalescing concurrent callers in this isolate onto the same
/// fetch. Failures are recorded in the cache; the caller looks again and gets stale keys or an
/// error according to the cache's rules.
pub async fn refresh_keys<P: Ports>(ports: &P, engine: &Engine, issuer: &IssuerPolicy, now: u64) {
    let iss = issuer.issuer.as_str();
    if let Some(wait) = engine.join_inflight(iss) {
        let _ = wait.await;
        return;
    }
    engine.with_jwks_mut(|c| c.begin_fetch(iss, now));
    let result = fetch_jwks(ports, engine, issuer, now).await;
    match result {
        Ok(set) => engine.with_jwks_mut(|c| c.store(iss, set)),
        Err(e) => engine.with_jwks_mut(|c| c.record_failure(iss, e)),
    }
    engine.finish_inflight(iss);
}

const SHARED_PREFIX: &str = "https://orggate.internal/jwks/";

async fn fetch_jwks<P: Ports>(
    ports: &P,
    engine: &Engine,
    issuer: &IssuerPolicy,
    now: u64,
) -> Result<KeySet, String> {
    let timing = &issuer.timing;
    // A fresh copy fetched by another isolate of this location spares the IdP (unless we are
    // here because a kid was missing from a fresh set: then only the IdP can help).
    let have_fresh = engine.with_jwks(|c| {
        c.key_set(&issuer.issuer)
            .is_some_and(|s| now < s.fresh_until)
    });
    let shared_key = format!(
        "{SHARED_PREFIX}{}",
        crate::b64::encode(issuer.issuer.as_bytes())
    );
    // The shared tier is used only when entries can be authenticated (a MAC key derived from a
    // Worker secret): anything else with access to the zone's cache could otherwise plant keys.
    let mac_key = engine.shared_mac_key();
    if let (false, Some(mac)) = (have_fresh, mac_key.as_ref()) {
        if let Ok(Some(text)) = ports.cache().get(&shared_key).await {
            if let Some(set) = shared_entry(&text, mac, issuer, now) {
                return Ok(set);
            }
        }
    }
    let jwks_uri = match &issuer.jwks_uri {
        Some(u) => u.clone(),
        None => crate::keys::discovery::jwks_uri(ports, engine, &issuer.issuer, now).await?,
    };
    let resp = ports
        .http()
        .send(HttpRequest::get(&jwks_uri))
        .await
        .map_err(|e| e.to_string())?;
    if resp.status != 200 {
        return Err(format!("JWKS answered {}", resp.status));
    }
    let parsed = parse_jwks(&resp.body)?;
    if parsed.keys.is_empty() {
        return Err("JWKS has no usable keys".into());
    }
    let ttl = timing.ttl_from_cache_control(resp.header("cache-control"));
    let set = KeySet {
        keys: parsed.keys.into_iter().map(Rc::new).collect(),
        fetched_at: now,
        fresh_until: now + ttl,
    };
    if let Some(key) = mac_key.as_ref() {
        let doc = serde_json::json!({
            "iss": issuer.issuer,
            "fresh_until": set.fresh_until,
            "fetched_at": now,
            "jwks": serde_json::from_slice::<Value>(&resp.body).unwrap_or(Value::Null),
        })
        .to_string();
        if let Some(tag) = shared_mac(key, doc.as_bytes()) {
            let entry = format!("{}.{doc}", crate::b64::encode(&tag));
            let _ = ports.cache().put(&shared_key, &entry, ttl).await;
        }
    }
    Ok(set)
}

fn shared_mac(key: &[u8; 32], payload: &[u8]) -> Option<[u8; 32]> {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    m.update(payload);
    Some(m.finalize().into_bytes().into())
}

/// A shared entry is used only if its MAC checks, it is for this issuer, it was not fetched in
/// the future, and its freshness does not exceed the issuer's `max_ttl`.
fn shared_entry(text: &str, mac: &[u8; 32], issuer: &IssuerPolicy, now: u64) -> Option<KeySet> {
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
    let fetched_at = v.get("fetched_at")?.as_u64()?;
    let fresh_until = v
        .get("fresh_until")?
        .as_u64()?
        .min(fetched_at.saturating_add(issuer.timing.max_ttl));
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
