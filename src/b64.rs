//! The one place base64 is spelled. Tokens, sealed cookies and JWKs use base64url without
//! padding (RFC 7515 §2), strict: padding, `+` `/` and whitespace are refused. Secrets typed by
//! people ([`decode_key`]) may carry padding; CSP hashes use standard base64 ([`encode_standard`]).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// base64url, padding optional (a 32-byte key is 43 characters, or 44 with one `=`).
const KEY: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// base64url of a secret someone pasted: padding optional.
pub fn decode_key(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    KEY.decode(s)
}

/// Standard base64 with padding (CSP `sha256-` sources).
pub fn encode_standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(s)
}

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
