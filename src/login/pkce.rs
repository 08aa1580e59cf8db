//! PKCE (RFC 7636) and the random values of a login transaction (`state`, `nonce`).
//!
//! The core never draws randomness itself: callers pass bytes obtained from the `Rng` port, so
//! everything here is deterministic and testable with fixed inputs.
//!
//! The code verifier is a one-use secret. [`PkceVerifier`] is therefore not `Clone` and its `Debug`
//! output is redacted; it is created once at login start, sealed into the login transaction cookie,
//! restored with [`PkceVerifier::parse`] at the callback and consumed by the token request.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The only `code_challenge_method` orggate sends. RFC 7636 §4.2: clients capable of S256 MUST use it.
pub const CHALLENGE_METHOD_S256: &str = "S256";

/// RFC 7636 §4.1: the verifier is at least 43 characters long.
pub const VERIFIER_MIN_LEN: usize = 43;
/// RFC 7636 §4.1: the verifier is at most 128 characters long.
pub const VERIFIER_MAX_LEN: usize = 128;

/// A PKCE `code_verifier` (RFC 7636 §4.1). Not `Clone`: it is used once, in one token request.
pub struct PkceVerifier(String);

/// Why a stored verifier string is not a valid RFC 7636 §4.1 `code_verifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PkceError {
    /// §4.1: the length must be between 43 and 128 characters.
    BadLength { len: usize },
    /// §4.1: only unreserved characters `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"` are allowed.
    BadCharacter { position: usize },
}

impl std::fmt::Display for PkceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PkceError::BadLength { len } => write!(
                f,
                "PKCE code_verifier has {len} characters, RFC 7636 4.1 requires {VERIFIER_MIN_LEN}..={VERIFIER_MAX_LEN}"
            ),
            PkceError::BadCharacter { position } => write!(
                f,
                "PKCE code_verifier has a character outside the RFC 7636 4.1 unreserved set at position {position}"
            ),
        }
    }
}

impl std::error::Error for PkceError {}

impl PkceVerifier {
    /// RFC 7636 §4.1: "the octet sequence is then base64url-encoded to produce a 43-octet URL safe
    /// string to use as the code verifier" — 32 random octets, base64url without padding.
    pub fn from_random(bytes: &[u8; 32]) -> Self {
        PkceVerifier(crate::b64::encode(bytes))
    }

    /// Restores a verifier read back from the sealed login transaction, checking the RFC 7636 §4.1
    /// syntax: `43*128unreserved`.
    pub fn parse(verifier: String) -> Result<Self, PkceError> {
        let len = verifier.len();
        if !(VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&len) {
            return Err(PkceError::BadLength { len });
        }
        if let Some(position) = verifier.bytes().position(|b| !is_unreserved(b)) {
            return Err(PkceError::BadCharacter { position });
        }
        Ok(PkceVerifier(verifier))
    }

    /// RFC 7636 §4.2, S256: `code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
    pub fn challenge_s256(&self) -> String {
        crate::b64::encode(&Sha256::digest(self.0.as_bytes()))
    }

    /// The verifier itself, for the `code_verifier` parameter of the token request (RFC 7636 §4.5)
    /// and for sealing into the login transaction cookie.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// RFC 3986 §2.3 unreserved characters, the alphabet of RFC 7636 §4.1.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Encodes random bytes as base64url without padding, for the OAuth `state` (RFC 6749 §10.12) and
/// the OIDC `nonce` (OIDC Core 3.1.2.1). Pass at least 16 random bytes (128 bits); 32 is typical.
pub fn random_token(bytes: &[u8]) -> String {
    crate::b64::encode(bytes)
}

/// Compares two byte strings in time that depends only on their lengths, not on their contents
/// (for `state` and `nonce` checks at the callback). Lengths are not treated as secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // subtle's slice comparison returns false at once for different lengths, then compares
    // every byte without early exit.
    a.ct_eq(b).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: the 32 octets behind the example verifier.
    const APPENDIX_B_OCTETS: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const APPENDIX_B_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const APPENDIX_B_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_verifier_from_octets() {
        let v = PkceVerifier::from_random(&APPENDIX_B_OCTETS);
        assert_eq!(v.secret(), APPENDIX_B_VERIFIER);
    }

    #[test]
    fn rfc7636_appendix_b_challenge() {
        let v = PkceVerifier::parse(APPENDIX_B_VERIFIER.to_string()).unwrap();
        assert_eq!(v.challenge_s256(), APPENDIX_B_CHALLENGE);
    }

    #[test]
    fn verifier_from_random_is_43_unreserved_chars() {
        for fill in [0u8, 0xff, 0x5a] {
            let v = PkceVerifier::from_random(&[fill; 32]);
            assert_eq!(v.secret().len(), 43);
            assert!(PkceVerifier::parse(v.secret().to_string()).is_ok());
        }
    }

    #[test]
    fn debug_is_redacted() {
        let v = PkceVerifier::from_random(&APPENDIX_B_OCTETS);
        let dbg = format!("{v:?}");
        assert!(!dbg.contains(APPENDIX_B_VERIFIER));
        assert!(dbg.contains("redacted"));
    }

    #[test]
    fn parse_rejects_short_long_and_bad_chars() {
        assert_eq!(
            PkceVerifier::parse("a".repeat(42)).unwrap_err(),
            PkceError::BadLength { len: 42 }
        );
        assert_eq!(
            PkceVerifier::parse("a".repeat(129)).unwrap_err(),
            PkceError::BadLength { len: 129 }
        );
        assert!(PkceVerifier::parse("a".repeat(128)).is_ok());
        assert!(PkceVerifier::parse(format!("{}.~-_", "A".repeat(40))).is_ok());
        let mut bad = "a".repeat(43);
        bad.replace_range(7..8, "+");
        assert_eq!(
            PkceVerifier::parse(bad).unwrap_err(),
            PkceError::BadCharacter { position: 7 }
        );
        // Non-ASCII: 'é' is two bytes, so 41 + 2 = 43 bytes.
        assert!(PkceVerifier::parse(format!("{}é", "a".repeat(41))).is_err());
    }

    #[test]
    fn random_token_is_base64url_no_padding() {
        assert_eq!(random_token(&[0xfb, 0xff]), "-_8");
        assert_eq!(random_token(&[0u8; 32]).len(), 43);
        assert_eq!(random_token(&[]), "");
    }

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"state-123", b"state-123"));
        assert!(!constant_time_eq(b"state-123", b"state-124"));
        assert!(!constant_time_eq(b"state-123", b"state-12"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
