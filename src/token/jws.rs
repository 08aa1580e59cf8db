//! Compact JWS parsing (RFC 7515 §7.1) into an [`UntrustedToken`]: nothing here is trusted yet.
//!
//! The header is checked against orggate's rules before any key is looked up: the key comes only
//! from the issuer's JWKS by `kid`, so `jku`, `x5u`, `jwk` and `x5c` are refused outright (they let a
//! token name its own key); `crit` extensions are refused because we understand none (RFC 7515
//! §4.1.11); `alg: none` is not an algorithm we know.

use super::TokenError;
use crate::b64;
use crate::json::{parse_object_strict, JsonError};
use serde_json::{Map, Value};
use std::rc::Rc;

/// The signature algorithms orggate verifies (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
    HS256,
}

impl Alg {
    pub const ALL: [Alg; 10] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
        Alg::HS256,
    ];

    /// Exact, case-sensitive names (RFC 7515 §4.1.1: `alg` is case-sensitive, so `None`, `none`
    /// and `rs256` are all unknown).
    pub fn from_name(s: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
            Alg::HS256 => "HS256",
        }
    }
}

/// The JOSE header fields orggate reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub alg: Alg,
    pub kid: Option<String>,
    pub typ: Option<String>,
}

/// A token split and decoded, signature not yet checked. Only [`super::verify`] turns it into
/// [`super::VerifiedClaims`].
#[derive(Debug)]
pub struct UntrustedToken {
    pub header: Header,
    /// Shared with the verified-token cache once the signature checks out (parsed once).
    pub claims: Rc<Map<String, Value>>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the JWS Signing Input (RFC 7515 §5.1).
    pub signing_input: Rc<str>,
    pub signature: Rc<[u8]>,
}

/// Header parameters that would let a token choose its own key.
const KEY_SELECTING_PARAMS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// A compact JWS split and decoded, before any header rule: the header and claims as strict JSON
/// objects (duplicate members refused), the signing input and the signature.
#[derive(Debug)]
pub struct RawJws {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signing_input: Rc<str>,
    pub signature: Rc<[u8]>,
}

/// RFC 7515 §7.1: splits and decodes a compact JWS. `max_len` bounds the work an attacker can
/// ask for.
pub fn split(raw: &str, max_len: usize) -> Result<RawJws, TokenError> {
    if raw.len() > max_len {
        return Err(TokenError::Oversized {
            len: raw.len(),
            max: max_len,
        });
    }
    // Exactly three parts. (A JWE has five: not a token we accept.)
    let mut parts = raw.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed {
            reason: "not three dot-separated parts",
        });
    };
    if h.is_empty() || p.is_empty() {
        return Err(TokenError::Malformed {
            reason: "empty header or payload",
        });
    }
    if s.is_empty() {
        return Err(TokenError::Malformed {
            reason: "missing signature",
        });
    }
    let header_bytes = b64::decode(h).map_err(|_| TokenError::BadBase64 { part: "header" })?;
    let payload = b64::decode(p).map_err(|_| TokenError::BadBase64 { part: "payload" })?;
    let signature = b64::decode(s).map_err(|_| TokenError::BadBase64 { part: "signature" })?;
    Ok(RawJws {
        header: parse_object_strict(&header_bytes).map_err(|e| json_error("header", e))?,
        claims: parse_object_strict(&payload).map_err(|e| json_error("payload", e))?,
        signing_input: Rc::from(&raw[..h.len() + 1 + p.len()]),
        signature: Rc::from(signature),
    })
}

/// Splits and decodes a compact JWS and applies the header rules for tokens.
pub fn parse(raw: &str, max_len: usize) -> Result<UntrustedToken, TokenError> {
    parse_typed(raw, max_len, &["jwt", "at+jwt"])
}

/// [`parse`] for a token of another explicit type (RFC 8725 §3.11): `typ`, when present, must
/// be one of `types` (lowercase, without `application/`). A logout token (`logout+jwt`) is
/// never accepted where an access token is expected, nor the other way round.
pub fn parse_typed(
    raw: &str,
    max_len: usize,
    types: &[&str],
) -> Result<UntrustedToken, TokenError> {
    let j = split(raw, max_len)?;
    let header = parse_header(&j.header, types)?;
    Ok(UntrustedToken {
        header,
        claims: Rc::new(j.claims),
        signing_input: j.signing_input,
        signature: j.signature,
    })
}

fn json_error(part: &'static str, e: JsonError) -> TokenError {
    match e {
        JsonError::DuplicateKey(name) => TokenError::DuplicateMember { part, name },
        JsonError::Invalid(_) | JsonError::TooDeep => TokenError::NotJson { part },
    }
}

fn parse_header(h: &Map<String, Value>, types: &[&str]) -> Result<Header, TokenError> {
    let alg_name = h
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(TokenError::Malformed {
            reason: "header has no alg",
        })?;
    let alg = Alg::from_name(alg_name).ok_or_else(|| TokenError::UnsupportedAlgorithm {
        alg: truncate(alg_name),
    })?;
    for name in KEY_SELECTING_PARAMS {
        if h.contains_key(name) {
            return Err(TokenError::ForbiddenHeader { name });
        }
    }
    // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must reject.
    if let Some(crit) = h.get("crit") {
        let first = crit
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .unwrap_or("<malformed>");
        return Err(TokenError::UnknownCrit {
            name: truncate(first),
        });
    }
    let kid = match h.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            return Err(TokenError::Malformed {
                reason: "kid is not a string",
            })
        }
    };
    let typ = match h.get("typ") {
        None => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => {
            return Err(TokenError::Malformed {
                reason: "typ is not a string",
            })
        }
    };
    // RFC 7519 §5.1 / RFC 9068 §2.1: JWT or at+jwt for access tokens (media types compare
    // case-insensitively, and the "application/" prefix may be present).
    if let Some(t) = &typ {
        let t = t.to_ascii_lowercase();
        let t = t.strip_prefix("application/").unwrap_or(&t);
        if !types.contains(&t) {
            return Err(TokenError::BadType { typ: truncate(t) });
        }
    }
    Ok(Header { alg, kid, typ })
}

/// Keeps attacker-chosen strings short in logs and error bodies.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(64).filter(|c| !c.is_control()).collect()
}
