//! RFC 9449 DPoP at a resource server: `Authorization: DPoP <token>` with a `DPoP: <proof>`
//! header. The proof is a JWT the client signs, for this request, with the private half of the
//! key its access token is bound to (`cnf.jkt`, the RFC 7638 thumbprint of the public key). A
//! stolen DPoP-bound token is worthless without that key.
//!
//! [`check_proof`] follows §4.3 step by step; the token itself is then verified like any other,
//! allowed to carry `cnf.jkt` only when it equals the proof key's thumbprint (§7.1).

use super::jws::{split, Alg};
use super::verify::{numeric, precheck_signature_shape};
use crate::authz::path::normalize;
use crate::engine::Engine;
use crate::http::UrlParts;
use crate::io::{Answers, Pending, SignatureCheck};
use crate::keys::jwk::parse_jwk;
use crate::time::UnixSeconds;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::rc::Rc;

/// Algorithms a proof may use (§4.3 (6): asymmetric only; `none` and MACs are refused).
pub const PROOF_ALGS: [Alg; 5] = [Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::PS256, Alg::RS256];
/// How old a proof may be (its `iat`), and how far in the future (clock skew).
pub const MAX_PROOF_AGE_S: u64 = 300;
pub const MAX_PROOF_SKEW_S: u64 = 60;
const MAX_PROOF_BYTES: usize = 8 * 1024;

/// Why a DPoP proof was refused (401 `invalid_dpop_proof`, RFC 9449 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpopError {
    Malformed(&'static str),
    /// `typ` is not `dpop+jwt` (§4.2).
    BadType,
    /// Not an asymmetric algorithm we accept, or the key does not fit it.
    BadAlgorithm,
    /// The `jwk` header is missing, private, or not a key we can use.
    BadKey,
    BadSignature,
    /// `htm` is not the request's method.
    WrongMethod,
    /// `htu` is not the request's URL (query and fragment ignored).
    WrongUri,
    /// `iat` outside the accepted window.
    Stale,
    /// A `jti` seen before within the window.
    Replayed,
    /// `ath` is not the hash of the access token presented with it.
    WrongAccessTokenHash,
    /// The host could not check the signature.
    Fault(String),
}

impl DpopError {
    pub fn detail(&self) -> String {
        format!("{self:?}")
    }
}

/// A valid proof: the thumbprint of its key, to compare with the token's `cnf.jkt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub jkt: String,
    pub jti: String,
    pub iat: UnixSeconds,
}

/// The request's URI for `htu`: scheme and host lowercased, default port dropped, the path
/// normalized as orggate matches it (RFC 9449 §4.3 (9); RFC 3986 §6.2.2, §6.2.3).
fn canonical_uri(u: &UrlParts<'_>) -> Option<String> {
    let scheme = u.scheme.to_ascii_lowercase();
    let mut authority = u.authority.to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    if let Some(a) = authority.strip_suffix(default) {
        authority = a.to_string();
    }
    let path = normalize(u.path).ok()?;
    Some(format!("{scheme}://{authority}{}", path.as_str()))
}

fn err<T>(e: DpopError) -> Result<T, Pending<DpopError>> {
    Err(Pending::Fail(e))
}

/// Checks `proof` for this request (§4.3). The signature is the host's to check (I/O); a `jti`
/// is recorded only once everything else holds, so invalid proofs cannot burn other clients'
/// identifiers. `already_accepted`: this request accepted this proof before a replay of the
/// pipeline (its `jti` is then ours, not a replay).
#[allow(clippy::too_many_arguments)]
pub fn check_proof(
    engine: &Engine,
    io: &Answers,
    proof: &str,
    access_token: &str,
    method: &str,
    url: &UrlParts<'_>,
    now: UnixSeconds,
    already_accepted: bool,
) -> Result<Proof, Pending<DpopError>> {
    // (2)-(4) a well-formed JWT with strict JSON.
    let j = match split(proof, MAX_PROOF_BYTES) {
        Ok(j) => j,
        Err(_) => return err(DpopError::Malformed("not a compact JWS")),
    };
    // (5) typ.
    if j.header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return err(DpopError::BadType);
    }
    if j.header.contains_key("crit") {
        return err(DpopError::Malformed("crit"));
    }
    // (6) an asymmetric algorithm we support.
    let alg = match j
        .header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Alg::from_name)
    {
        Some(a) if PROOF_ALGS.contains(&a) => a,
        _ => return err(DpopError::BadAlgorithm),
    };
    // (7) the public key in `jwk` (private members refused by the parser).
    let Some(jwk) = j.header.get("jwk").filter(|v| v.is_object()) else {
        return err(DpopError::BadKey);
    };
    let key = match parse_jwk(jwk.clone()) {
        Ok(k) => Rc::new(k),
        Err(_) => return err(DpopError::BadKey),
    };
    if key.check_use(alg).is_err() {
        return err(DpopError::BadAlgorithm);
    }
    let c = &j.claims;
    let text = |n: &str| c.get(n).and_then(Value::as_str);
    // (9) htm and htu.
    if text("htm") != Some(method) {
        return err(DpopError::WrongMethod);
    }
    // The scheme compares case-insensitively (RFC 3986 §3.1): lowercase it before parsing.
    let htu = text("htu").map(|h| match h.split_once("://") {
        Some((scheme, rest)) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
        None => h.to_string(),
    });
    let htu = htu
        .as_deref()
        .and_then(UrlParts::parse)
        .and_then(|u| canonical_uri(&u));
    if htu.is_none() || htu != canonical_uri(url) {
        return err(DpopError::WrongUri);
    }
    // (11) iat within the window.
    let iat = match numeric(c, "iat") {
        Ok(Some(i)) => i,
        _ => return err(DpopError::Malformed("iat")),
    };
    if iat > now.plus(MAX_PROOF_SKEW_S) || now.since(iat) > MAX_PROOF_AGE_S {
        return err(DpopError::Stale);
    }
    // (12) ath: base64url(SHA-256(the access token's ASCII)).
    let ath = crate::b64::encode(&Sha256::digest(access_token.as_bytes()));
    if text("ath") != Some(ath.as_str()) {
        return err(DpopError::WrongAccessTokenHash);
    }
    let jti = match text("jti") {
        Some(j) if !j.is_empty() && j.len() <= 256 => j.to_string(),
        _ => return err(DpopError::Malformed("jti")),
    };
    // (8) the signature, with the key in the proof.
    if precheck_signature_shape(alg, &j.signature).is_err() {
        return err(DpopError::BadSignature);
    }
    let ok = io
        .verify(SignatureCheck {
            alg,
            key: key.clone(),
            input: j.signing_input.clone(),
            signature: j.signature.clone(),
        })?
        .map_err(|e| Pending::Fail(DpopError::Fault(e.to_string())))?;
    if !ok {
        return err(DpopError::BadSignature);
    }
    let jkt = key
        .rfc7638_thumbprint()
        .ok_or(Pending::Fail(DpopError::BadKey))?;
    // (10) jti not seen before (per isolate, for as long as a proof is acceptable).
    if !already_accepted
        && !engine.dpop_jti_fresh(
            &jkt,
            &jti,
            now.plus(MAX_PROOF_AGE_S + MAX_PROOF_SKEW_S),
            now,
        )
    {
        return err(DpopError::Replayed);
    }
    Ok(Proof { jkt, jti, iat })
}
