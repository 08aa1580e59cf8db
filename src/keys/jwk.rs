//! Public JSON Web Keys (RFC 7517) as orggate uses them: only public verification keys, only the
//! key types our algorithms need, parsed once when a JWKS document arrives.

use crate::b64;
use crate::token::jws::Alg;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The key material of one public JWK.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// RFC 7518 §6.3.1: modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// RFC 7518 §6.2.1: `crv` is `P-256` or `P-384`.
    Ec {
        crv: EcCurve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// RFC 8037 §2: `crv` `Ed25519`.
    Ed25519 { x: Vec<u8> },
    /// A shared secret for HS256 (never from a JWKS: only from a Worker secret).
    Oct { k: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcCurve {
    P256,
    P384,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyMaterial::Rsa { n, .. } => write!(f, "Rsa({} bits)", n.len() * 8),
            KeyMaterial::Ec { crv, .. } => write!(f, "Ec({crv:?})"),
            KeyMaterial::Ed25519 { .. } => f.write_str("Ed25519"),
            KeyMaterial::Oct { .. } => f.write_str("Oct(<redacted>)"),
        }
    }
}

/// One public verification key with the metadata we check before use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: Option<String>,
    /// The JWK's own `alg`, when the JWKS states one (RFC 7517 §4.4).
    pub alg: Option<String>,
    pub material: KeyMaterial,
    /// SHA-256 over the key material (a stable identity for caches of imported keys).
    pub thumbprint: [u8; 32],
    /// The public key as a JWK for the host's `crypto.subtle.importKey` (empty for a secret).
    pub import_json: String,
}

/// Why a key cannot be used for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUseError {
    /// `RS256` with an EC key, `HS256` with an RSA key (algorithm confusion), and so on.
    TypeMismatch { alg: Alg, kty: &'static str },
    /// The JWK names another algorithm than the token header.
    AlgMismatch { alg: Alg, jwk_alg: String },
    /// RSA modulus under 2048 bits.
    WeakKey { bits: usize },
}

impl PublicJwk {
    pub fn new(kid: Option<String>, alg: Option<String>, material: KeyMaterial) -> Self {
        let mut h = Sha256::new();
        match &material {
            KeyMaterial::Rsa { n, e } => {
                h.update(b"RSA\0");
                h.update(n);
                h.update(b"\0");
                h.update(e);
            }
            KeyMaterial::Ec { crv, x, y } => {
                h.update(if *crv == EcCurve::P256 {
                    b"P-256\0"
                } else {
                    b"P-384\0"
                });
                h.update(x);
                h.update(y);
            }
            KeyMaterial::Ed25519 { x } => {
                h.update(b"Ed25519\0");
                h.update(x);
            }
            KeyMaterial::Oct { k } => {
                h.update(b"oct\0");
                h.update(k);
            }
        }
        let b = |v: &[u8]| b64::encode(v);
        let import_json = match &material {
            KeyMaterial::Rsa { n, e } => {
                format!(r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#, b(n), b(e))
            }
            KeyMaterial::Ec { crv, x, y } => format!(
                r#"{{"kty":"EC","crv":"{}","x":"{}","y":"{}"}}"#,
                if *crv == EcCurve::P256 {
                    "P-256"
                } else {
                    "P-384"
                },
                b(x),
                b(y)
            ),
            KeyMaterial::Ed25519 { x } => {
                format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b(x))
            }
            // A shared secret never leaves Rust.
            KeyMaterial::Oct { .. } => String::new(),
        };
        Self {
            kid,
            alg,
            material,
            thumbprint: h.finalize().into(),
            import_json,
        }
    }

    /// RFC 7638 JWK thumbprint: base64url(SHA-256) of the required members in lexicographic
    /// order with no whitespace (§3.2). What a DPoP-bound token's `cnf.jkt` names (RFC 9449
    /// §6.1). `None` for a secret (never thumbprinted, never shown).
    pub fn rfc7638_thumbprint(&self) -> Option<String> {
        let b = |v: &[u8]| b64::encode(v);
        let canonical = match &self.material {
            KeyMaterial::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b(e), b(n))
            }
            KeyMaterial::Ec { crv, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                if *crv == EcCurve::P256 {
                    "P-256"
                } else {
                    "P-384"
                },
                b(x),
                b(y)
            ),
            KeyMaterial::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b(x))
            }
            KeyMaterial::Oct { .. } => return None,
        };
        Some(b64::encode(&Sha256::digest(canonical.as_bytes())))
    }

    pub fn kty(&self) -> &'static str {
        match self.material {
            KeyMaterial::Rsa { .. } => "RSA",
            KeyMaterial::Ec { .. } => "EC",
            KeyMaterial::Ed25519 { .. } => "OKP",
            KeyMaterial::Oct { .. } => "oct",
        }
    }

    /// RFC 7518 §3.1: each `alg` needs one key type; refuse every other pairing (the defence
    /// against algorithm confusion is that the key decides what it may verify, not the token).
    pub fn check_use(&self, alg: Alg) -> Result<(), KeyUseError> {
        let ok = matches!(
            (alg, &self.material),
            (
                Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512,
                KeyMaterial::Rsa { .. }
            ) | (
                Alg::ES256,
                KeyMaterial::Ec {
                    crv: EcCurve::P256,
                    ..
                }
            ) | (
                Alg::ES384,
                KeyMaterial::Ec {
                    crv: EcCurve::P384,
                    ..
                }
            ) | (Alg::EdDSA, KeyMaterial::Ed25519 { .. })
                | (Alg::HS256, KeyMaterial::Oct { .. })
        );
        if !ok {
            return Err(KeyUseError::TypeMismatch {
                alg,
                kty: self.kty(),
            });
        }
        if let Some(jwk_alg) = &self.alg {
            if jwk_alg != alg.name() {
                return Err(KeyUseError::AlgMismatch {
                    alg,
                    jwk_alg: jwk_alg.clone(),
                });
            }
        }
        if let KeyMaterial::Rsa { n, .. } = &self.material {
            let bits = rsa_bits(n);
            if bits < 2048 {
                return Err(KeyUseError::WeakKey { bits });
            }
        }
        Ok(())
    }
}

fn rsa_bits(n: &[u8]) -> usize {
    let trimmed: &[u8] = {
        let start = n.iter().position(|b| *b != 0).unwrap_or(n.len());
        &n[start..]
    };
    match trimmed.first() {
        None => 0,
        Some(b) => (trimmed.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
    }
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
    d: Option<String>,
}

/// What came of parsing a JWKS document: the usable keys plus, for the log, what was skipped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedJwks {
    pub keys: Vec<PublicJwk>,
    pub skipped: Vec<String>,
}

/// Parses a JWKS (RFC 7517 §5). Keys we cannot use (encryption keys, unknown types, private keys,
/// symmetric keys) are skipped with a note, never an error, so one odd key does not take an
/// issuer down. A document that is not a JWKS at all is an error.
pub fn parse_jwks(body: &[u8]) -> Result<ParsedJwks, String> {
    let raw: RawJwks = serde_json::from_slice(body).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut out = ParsedJwks::default();
    for (i, value) in raw.keys.into_iter().enumerate() {
        match parse_jwk(value) {
            Ok(k) => out.keys.push(k),
            Err(why) => out.skipped.push(format!("keys[{i}]: {why}")),
        }
    }
    Ok(out)
}

/// Parses one public JWK.
pub fn parse_jwk(value: serde_json::Value) -> Result<PublicJwk, String> {
    let raw: RawJwk = serde_json::from_value(value).map_err(|e| e.to_string())?;
    // RFC 7517 §4.2: a key marked for encryption is not a signature key.
    if raw.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err("use is not sig".into());
    }
    if raw.d.is_some() {
        return Err("private key material in a public JWKS".into());
    }
    let need = |v: &Option<String>, name: &str| -> Result<Vec<u8>, String> {
        let s = v.as_deref().ok_or_else(|| format!("missing {name}"))?;
        b64::decode(s).map_err(|_| format!("{name} is not base64url"))
    };
    let material = match raw.kty.as_str() {
        "RSA" => KeyMaterial::Rsa {
            n: need(&raw.n, "n")?,
            e: need(&raw.e, "e")?,
        },
        "EC" => {
            let crv = match raw.crv.as_deref() {
                Some("P-256") => EcCurve::P256,
                Some("P-384") => EcCurve::P384,
                other => return Err(format!("unsupported EC curve {other:?}")),
            };
            let (x, y) = (need(&raw.x, "x")?, need(&raw.y, "y")?);
            let len = if crv == EcCurve::P256 { 32 } else { 48 };
            if x.len() != len || y.len() != len {
                return Err("EC coordinate length does not match the curve".into());
            }
            KeyMaterial::Ec { crv, x, y }
        }
        "OKP" => {
            if raw.crv.as_deref() != Some("Ed25519") {
                return Err(format!("unsupported OKP curve {:?}", raw.crv));
            }
            let x = need(&raw.x, "x")?;
            if x.len() != 32 {
                return Err("Ed25519 key is not 32 bytes".into());
            }
            KeyMaterial::Ed25519 { x }
        }
        other => return Err(format!("unsupported kty {other}")),
    };
    Ok(PublicJwk::new(raw.kid, raw.alg, material))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7515 Appendix A.2 RSA public key (2048 bits).
    pub(crate) const RFC7515_A2_JWK: &str = r#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#;

    #[test]
    fn parses_rfc7515_rsa_key_and_accepts_rs256_only() {
        let k = parse_jwk(serde_json::from_str(RFC7515_A2_JWK).unwrap()).unwrap();
        assert_eq!(k.kty(), "RSA");
        assert!(k.check_use(Alg::RS256).is_ok());
        assert!(k.check_use(Alg::PS512).is_ok());
        assert_eq!(
            k.check_use(Alg::HS256),
            Err(KeyUseError::TypeMismatch {
                alg: Alg::HS256,
                kty: "RSA"
            })
        );
        assert!(matches!(
            k.check_use(Alg::ES256),
            Err(KeyUseError::TypeMismatch { .. })
        ));
    }

    /// RFC 7638 §3.1: the example RSA key's thumbprint.
    #[test]
    fn rfc7638_thumbprint_vector() {
        let k = parse_jwk(serde_json::json!({"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}))
        .unwrap();
        assert_eq!(
            k.rfc7638_thumbprint().as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    #[test]
    fn jwk_alg_must_match_header_alg() {
        let mut v: serde_json::Value = serde_json::from_str(RFC7515_A2_JWK).unwrap();
        v["alg"] = "RS512".into();
        let k = parse_jwk(v).unwrap();
        assert!(matches!(
            k.check_use(Alg::RS256),
            Err(KeyUseError::AlgMismatch { .. })
        ));
        assert!(k.check_use(Alg::RS512).is_ok());
    }

    #[test]
    fn skips_unusable_keys_but_keeps_good_ones() {
        let doc = format!(
            r#"{{"keys":[{RFC7515_A2_JWK},{{"kty":"oct","k":"AAAA"}},{{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}},{{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}}]}}"#
        );
        let parsed = parse_jwks(doc.as_bytes()).unwrap();
        assert_eq!(parsed.keys.len(), 1);
        assert_eq!(parsed.skipped.len(), 3);
    }

    #[test]
    fn refuses_non_jwks_documents() {
        assert!(parse_jwks(b"<html>").is_err());
        assert!(parse_jwks(br#"{"keys":"x"}"#).is_err());
    }

    #[test]
    fn weak_rsa_keys_are_refused() {
        let k = PublicJwk::new(
            None,
            None,
            KeyMaterial::Rsa {
                n: vec![0xff; 128],
                e: vec![1, 0, 1],
            },
        );
        assert_eq!(
            k.check_use(Alg::RS256),
            Err(KeyUseError::WeakKey { bits: 1024 })
        );
    }

    #[test]
    fn thumbprints_differ_between_keys() {
        let a = PublicJwk::new(None, None, KeyMaterial::Ed25519 { x: vec![1; 32] });
        let b = PublicJwk::new(None, None, KeyMaterial::Ed25519 { x: vec![2; 32] });
        assert_ne!(a.thumbprint, b.thumbprint);
    }
}
