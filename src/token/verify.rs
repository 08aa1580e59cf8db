//! Untrusted token → [`VerifiedClaims`]: issuer, algorithm, key, signature, registered claims.
//!
//! Order matters: everything that can be refused without a key is refused before a key is looked
//! up, and nothing from the payload is believed before the signature checks out except `iss`,
//! which only selects the configuration to verify against (and must then match exactly).

use super::claims::{identity, Identity};
use super::jws::{self, Alg, UntrustedToken};
use super::TokenError;
use crate::engine::Engine;
use crate::exchange::Exchange;
use crate::io::{Pending, SignatureCheck};
use crate::keys::jwk::{KeyMaterial, PublicJwk};
use crate::keys::jwks::{hs256_key, key_for};
use crate::org::policy::{IssuerPolicy, TenantPolicy};
use crate::ports::Host;
use crate::time::UnixSeconds;
use serde_json::{Map, Value};
use std::rc::Rc;

/// Claims whose signature and registered claims were checked: the only input authorization
/// takes. Built only here, after a successful signature check (the private field keeps every
/// other module from constructing one, as jwt-compact's `Token<T>`).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    pub issuer: String,
    pub alg: Alg,
    pub exp: UnixSeconds,
    /// The first second at which these claims stop being acceptable (`exp`, `max_age`, leeway).
    pub valid_until: UnixSeconds,
    pub identity: Identity,
    /// Every claim, for the generic preset and the ID-token checks. Never logged.
    pub claims: Rc<Map<String, Value>>,
    /// Which JWKS key verified it (None for HS256).
    pub key_thumbprint: Option<[u8; 32]>,
    _verified: Sealed,
}

#[derive(Debug, Clone, PartialEq)]
struct Sealed;

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
    pub exp: UnixSeconds,
}

/// Verifies `raw` against the tenant's issuers. Request-dependent checks (org, route) are not
/// here: they run on every request, cached or not.
pub fn verify(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    raw: &str,
) -> Result<Rc<VerifiedClaims>, Pending<TokenError>> {
    verify_bound(engine, host, ex, tenant, raw, None)
}

/// [`verify`] for a token presented with a valid DPoP proof whose key has thumbprint `binding`:
/// the token must then be bound to exactly that key (`cnf.jkt`, RFC 9449 §7.1).
pub fn verify_bound(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    raw: &str,
    binding: Option<&str>,
) -> Result<Rc<VerifiedClaims>, Pending<TokenError>> {
    let now = ex.now;
    if raw.len() > tenant.max_token_bytes {
        return Err(Pending::Fail(TokenError::Oversized {
            len: raw.len(),
            max: tenant.max_token_bytes,
        }));
    }
    // A token seen before skips parsing and the signature, but only while the key that verified
    // it is still published and usable (within max_stale), or the HS256 secret is unchanged.
    let hit = engine.verified_get(raw).filter(|c| {
        let Some(issuer) = tenant.issuer(&c.issuer) else {
            return false;
        };
        if c.from_jwks {
            engine.with_jwks(|j| j.key_fresh(&c.issuer, &c.key_id, now))
        } else {
            hs256_key(host, issuer).is_ok_and(|k| k.thumbprint == c.key_id)
        }
    });
    let from_cache = hit.is_some();
    let entry = match hit {
        Some(e) => e,
        None => {
            // A stale entry (its key gone or unusable) is forgotten before verifying afresh.
            engine.verified_remove(raw);
            let e = verify_signature(engine, host, ex, tenant, raw)?;
            // Remember only tokens that also pass the claims checks now.
            let issuer = tenant
                .issuer(&e.issuer)
                .ok_or(Pending::Fail(TokenError::UnknownIssuer))?;
            check_registered_claims(&e.claims, issuer, now).map_err(Pending::Fail)?;
            check_binding(&e.claims, binding).map_err(Pending::Fail)?;
            let e = Rc::new(e);
            engine.verified_put(raw, e.clone(), now);
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
            // Revocation entries are kept for `max_token_lifetime_s`: a token that could outlive
            // them would come back after its revocation expired.
            let limit = now
                .plus(tenant.revocation.max_token_lifetime_s)
                .plus(issuer.leeway);
            if exp > limit {
                return Err(TokenError::LifetimeTooLong { exp, now });
            }
            check_binding(&entry.claims, binding)?;
            let identity = identity(&entry.claims, &issuer.preset, issuer.multi_org_claim())
                .map_err(TokenError::InvalidClaim)?;
            Ok((issuer, exp, identity))
        });
    let (issuer, exp, identity) = match checked {
        Ok(v) => v,
        Err(e) => {
            // Expired, or refused under the current config: no reason to remember it.
            if from_cache {
                engine.verified_remove(raw);
            }
            return Err(Pending::Fail(e));
        }
    };
    Ok(Rc::new(VerifiedClaims {
        issuer: entry.issuer.clone(),
        alg: entry.alg,
        exp,
        valid_until: valid_until(&entry.claims, issuer, exp),
        identity,
        claims: entry.claims.clone(),
        key_thumbprint: entry.from_jwks.then_some(entry.key_id),
        _verified: Sealed,
    }))
}

/// When claims that pass now stop passing: `exp` plus leeway, or `iat + max_age` plus leeway.
fn valid_until(
    claims: &Map<String, Value>,
    issuer: &IssuerPolicy,
    exp: UnixSeconds,
) -> UnixSeconds {
    let mut until = exp.plus(issuer.leeway);
    if let (Some(max_age), Ok(Some(iat))) = (issuer.max_age, numeric(claims, "iat")) {
        until = until.min(iat.plus(max_age).plus(issuer.leeway).plus(1));
    }
    until
}

/// The parsed token for `raw`, parsed once per request (replays reuse it).
pub fn parse_once(
    ex: &mut Exchange,
    raw: &str,
    max_len: usize,
) -> Result<Rc<UntrustedToken>, TokenError> {
    if let Some(t) = ex.parsed(raw) {
        return Ok(t);
    }
    let t = Rc::new(jws::parse(raw, max_len)?);
    ex.remember_parsed(raw, t.clone());
    Ok(t)
}

/// Parse, pick the issuer and key, check the signature: the part worth caching.
fn verify_signature(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    raw: &str,
) -> Result<CachedToken, Pending<TokenError>> {
    let token = parse_once(ex, raw, tenant.max_token_bytes).map_err(Pending::Fail)?;

    // RFC 7519 §4.1.1 / OIDC Core 3.1.3.7 (2): iss selects the issuer and must match exactly
    // (no trailing-slash or case folding).
    let iss = match token.claims.get("iss") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Pending::Fail(TokenError::BadClaim { name: "iss" })),
        None => return Err(Pending::Fail(TokenError::MissingClaim { name: "iss" })),
    };
    let issuer = tenant
        .issuer(iss)
        .ok_or(Pending::Fail(TokenError::UnknownIssuer))?;
    if !issuer.algorithms.contains(&token.header.alg) {
        return Err(Pending::Fail(TokenError::AlgorithmNotAllowed {
            alg: token.header.alg.name(),
        }));
    }
    let key = check_signature(engine, host, ex, issuer, &token)?;
    let exp = numeric(&token.claims, "exp")
        .ok()
        .flatten()
        .unwrap_or_default();
    Ok(CachedToken {
        issuer: issuer.issuer.clone(),
        alg: token.header.alg,
        key_id: key.thumbprint,
        from_jwks: !matches!(key.material, KeyMaterial::Oct { .. }),
        exp,
        claims: token.claims.clone(),
    })
}

/// The key for `token` (JWKS by kid, or the HS256 secret), checked against the algorithm, and the
/// signature over the signing input. Shared by access tokens, ID tokens and logout tokens.
pub fn check_signature(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    issuer: &IssuerPolicy,
    token: &UntrustedToken,
) -> Result<Rc<PublicJwk>, Pending<TokenError>> {
    let alg = token.header.alg;
    let key = key_for(
        engine,
        host,
        &mut ex.io,
        issuer,
        alg,
        token.header.kid.as_deref(),
        ex.now,
    )?;
    key.check_use(alg)
        .map_err(|e| Pending::Fail(TokenError::KeyUnusable(e)))?;
    precheck_signature_shape(alg, &token.signature).map_err(Pending::Fail)?;
    let ok = if alg == Alg::HS256 {
        // HMAC is cheaper in Rust than a round trip to the host's crypto.
        crate::sig::verify_hs256(&key, token.signing_input.as_bytes(), &token.signature)
    } else {
        ex.io
            .verify(SignatureCheck {
                alg,
                key: key.clone(),
                input: token.signing_input.clone(),
                signature: token.signature.clone(),
            })?
            .map_err(|e| {
                Pending::Fail(TokenError::KeysUnavailable {
                    detail: e.to_string(),
                })
            })?
    };
    if ok {
        Ok(key)
    } else {
        Err(Pending::Fail(TokenError::BadSignature))
    }
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

/// A NumericDate claim (RFC 7519 §2): seconds since the epoch, possibly fractional.
pub fn numeric(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<UnixSeconds>, TokenError> {
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
            .map(|s| Some(UnixSeconds::new(s)))
            .ok_or(TokenError::BadClaim { name }),
        Some(_) => Err(TokenError::BadClaim { name }),
    }
}

/// RFC 7800 `cnf`: a token bound to a key may only be used with proof of that key. With a valid
/// DPoP proof (`binding`, its key's thumbprint), a token bound by `cnf.jkt` to that key passes.
/// Anything else bound is refused: a DPoP-bound token presented as Bearer (RFC 9449 §7.1), an
/// `x5t#S256`-bound one (RFC 8705 §3: orggate checks no client certificates), other methods.
fn check_binding(claims: &Map<String, Value>, binding: Option<&str>) -> Result<(), TokenError> {
    let Some(cnf) = claims.get("cnf") else {
        // RFC 9449 §7.1: the DPoP scheme with a token not bound to a key is refused.
        return match binding {
            Some(_) => Err(TokenError::DpopBinding),
            None => Ok(()),
        };
    };
    if let (Some(proved), Some(jkt)) = (binding, cnf.get("jkt").and_then(Value::as_str)) {
        return if proved == jkt {
            Ok(())
        } else {
            Err(TokenError::DpopBinding)
        };
    }
    let binding = match cnf.as_object() {
        Some(o) if o.contains_key("jkt") => "dpop",
        Some(o) if o.contains_key("x5t#S256") => "mtls",
        // Any other confirmation method (jwk, jku, kid, ...) is a binding we cannot check either.
        _ => "other",
    };
    Err(TokenError::SenderConstrained { binding })
}

/// RFC 7519 §4.1.3-4.1.6 and RFC 9068 §4, with the issuer's leeway.
pub fn check_registered_claims(
    claims: &Map<String, Value>,
    issuer: &IssuerPolicy,
    now: UnixSeconds,
) -> Result<UnixSeconds, TokenError> {
    let leeway = issuer.leeway;
    // §4.1.4: exp is required here (an access token without one never dies).
    let exp = numeric(claims, "exp")?.ok_or(TokenError::MissingClaim { name: "exp" })?;
    if now >= exp.plus(leeway) {
        return Err(TokenError::Expired { exp, now });
    }
    if let Some(nbf) = numeric(claims, "nbf")? {
        if now.plus(leeway) < nbf {
            return Err(TokenError::NotYetValid { nbf, now });
        }
    }
    let iat = numeric(claims, "iat")?;
    if let Some(iat) = iat {
        if iat > now.plus(leeway) {
            return Err(TokenError::IssuedInFuture { iat, now });
        }
    }
    if let Some(max_age) = issuer.max_age {
        let iat = iat.ok_or(TokenError::MissingClaim { name: "iat" })?;
        if now.since(iat) > max_age.saturating_add(leeway) {
            return Err(TokenError::TooOld { iat, max_age });
        }
    }
    // §4.1.3: the token must be meant for us.
    let auds =
        super::claims::audiences(claims).map_err(|_| TokenError::BadClaim { name: "aud" })?;
    if auds.is_empty() && claims.contains_key("aud") {
        return Err(TokenError::BadClaim { name: "aud" });
    }
    if issuer.session_tokens() {
        // The IdP's own session tokens carry no `aud`; one that does is meant for someone else.
        if claims.contains_key("aud") {
            return Err(TokenError::WrongAudience);
        }
        match claims.get("sid") {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err(TokenError::BadClaim { name: "sid" }),
            None => return Err(TokenError::MissingClaim { name: "sid" }),
        }
    } else if !auds.iter().any(|a| issuer.accepts_audience(a)) {
        return Err(TokenError::WrongAudience);
    }
    if !issuer.authorized_parties.is_empty() {
        let ok = match claims.get("azp") {
            Some(Value::String(azp)) => issuer
                .authorized_parties
                .iter()
                .any(|o| o.eq_ignore_ascii_case(azp)),
            Some(_) => return Err(TokenError::BadClaim { name: "azp" }),
            None => false,
        };
        if !ok {
            return Err(TokenError::WrongAuthorizedParty);
        }
    }
    Ok(exp)
}
