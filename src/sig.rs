//! Pure-Rust signature checks shared by every target: HS256 (HMAC is faster in Wasm than a
//! Promise round trip to WebCrypto) and EdDSA (Ed25519, acceptable in Wasm). RS*/PS*/ES* go to
//! WebCrypto on wasm32 (`edge::subtle`) and to jwt-compact natively (`native`).
//!
//! These use `hmac` and `ed25519-compact` directly rather than through jwt-compact, so the Worker
//! does not carry jwt-compact's generic token machinery; the native tests check both paths
//! against the same RFC vectors.

use crate::keys::jwk::{KeyMaterial, PublicJwk};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// RFC 7518 §3.2: HMAC-SHA-256, compared in constant time (`verify_slice`).
pub fn verify_hs256(key: &PublicJwk, input: &[u8], sig: &[u8]) -> bool {
    let KeyMaterial::Oct { k } = &key.material else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(k) else {
        return false;
    };
    mac.update(input);
    mac.verify_slice(sig).is_ok()
}

/// RFC 8037 §3.1: Ed25519 over the JWS signing input.
pub fn verify_eddsa(key: &PublicJwk, input: &[u8], sig: &[u8]) -> bool {
    let KeyMaterial::Ed25519 { x } = &key.material else {
        return false;
    };
    let (Ok(pk), Ok(signature)) = (
        ed25519_compact::PublicKey::from_slice(x),
        ed25519_compact::Signature::from_slice(sig),
    ) else {
        return false;
    };
    pk.verify(input, &signature).is_ok()
}
