//! Pure-Rust signature checks shared by every target: HS256 (HMAC is fast in Wasm) and EdDSA
//! (Ed25519, acceptable in Wasm). RS*/PS*/ES* go to WebCrypto on wasm32 (`edge::subtle`) and to
//! jwt-compact natively (`native`).

use crate::keys::jwk::{KeyMaterial, PublicJwk};
use jwt_compact::alg::{Ed25519, Hs256, Hs256Key, Hs256Signature};
use jwt_compact::{Algorithm, AlgorithmSignature};

/// RFC 7518 §3.2. Constant-time comparison inside the HMAC crate (`CtOutput`).
pub fn verify_hs256(key: &PublicJwk, input: &[u8], sig: &[u8]) -> bool {
    let KeyMaterial::Oct { k } = &key.material else {
        return false;
    };
    let Ok(signature) = Hs256Signature::try_from_slice(sig) else {
        return false;
    };
    Hs256.verify_signature(&signature, &Hs256Key::new(k), input)
}

/// RFC 8037 §3.1.
pub fn verify_eddsa(key: &PublicJwk, input: &[u8], sig: &[u8]) -> bool {
    let KeyMaterial::Ed25519 { x } = &key.material else {
        return false;
    };
    let (Ok(pk), Ok(signature)) = (
        ed25519_compact::PublicKey::from_slice(x),
        <Ed25519 as Algorithm>::Signature::try_from_slice(sig),
    ) else {
        return false;
    };
    Ed25519.verify_signature(&signature, &pk, input)
}
