//! `crypto.subtle.verify` for RS*/PS*/ES* and EdDSA (the host's native crypto: RSA/ECDSA are
//! 20-40x faster than pure Rust in Wasm, see TOOLCHAIN.md; Ed25519 about 1.4x), with imported
//! `CryptoKey`s cached per key thumbprint. HS256 stays in Rust ([`crate::sig`]): HMAC is faster in
//! Wasm than a Promise round trip. If a runtime lacks WebCrypto Ed25519, EdDSA falls back to Rust.

use crate::keys::jwk::{EcCurve, KeyMaterial, PublicJwk};
use crate::ports::{PortError, SignatureVerifier};
use crate::token::jws::Alg;
use js_sys::{Array, Object, Reflect};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

thread_local! {
    /// (thumbprint, alg) → imported key. Keys are immutable; a rotated key has a new thumbprint.
    static KEYS: RefCell<HashMap<([u8; 32], Alg), CryptoKey>> = RefCell::new(HashMap::new());
}

const MAX_CACHED_KEYS: usize = 256;

#[derive(Debug, Default, Clone, Copy)]
pub struct SubtleVerifier;

fn subtle() -> Result<SubtleCrypto, PortError> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|_| PortError::new("subtle", "no globalThis.crypto"))?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle"))
        .map_err(|_| PortError::new("subtle", "no crypto.subtle"))?;
    Ok(subtle.unchecked_into::<SubtleCrypto>())
}

fn set(o: &Object, k: &str, v: &JsValue) -> Result<(), PortError> {
    Reflect::set(o, &JsValue::from_str(k), v)
        .map(|_| ())
        .map_err(|_| PortError::new("subtle", "Reflect.set failed"))
}

fn hash_name(alg: Alg) -> &'static str {
    match alg {
        Alg::RS384 | Alg::PS384 | Alg::ES384 => "SHA-384",
        Alg::RS512 | Alg::PS512 => "SHA-512",
        _ => "SHA-256",
    }
}

/// The WebCrypto algorithm object for importKey and verify (RFC 7518 §3.3, §3.4, §3.5).
fn algorithm(alg: Alg, for_verify: bool) -> Result<Object, PortError> {
    let o = Object::new();
    match alg {
        Alg::RS256 | Alg::RS384 | Alg::RS512 => {
            set(&o, "name", &"RSASSA-PKCS1-v1_5".into())?;
            set(&o, "hash", &hash_name(alg).into())?;
        }
        Alg::PS256 | Alg::PS384 | Alg::PS512 => {
            set(&o, "name", &"RSA-PSS".into())?;
            set(&o, "hash", &hash_name(alg).into())?;
            if for_verify {
                // §3.5: salt length equals the hash output size.
                let salt = match alg {
                    Alg::PS384 => 48,
                    Alg::PS512 => 64,
                    _ => 32,
                };
                set(&o, "saltLength", &JsValue::from_f64(salt as f64))?;
            }
        }
        Alg::ES256 | Alg::ES384 => {
            set(&o, "name", &"ECDSA".into())?;
            if for_verify {
                set(&o, "hash", &hash_name(alg).into())?;
            } else {
                set(
                    &o,
                    "namedCurve",
                    &(if alg == Alg::ES256 { "P-256" } else { "P-384" }).into(),
                )?;
            }
        }
        Alg::EdDSA => set(&o, "name", &"Ed25519".into())?,
        Alg::HS256 => return Err(PortError::new("subtle", "HS256 is verified in Rust")),
    }
    Ok(o)
}

fn jwk_object(key: &PublicJwk) -> Result<Object, PortError> {
    let o = Object::new();
    match &key.material {
        KeyMaterial::Rsa { n, e } => {
            set(&o, "kty", &"RSA".into())?;
            set(&o, "n", &crate::b64::encode(n).into())?;
            set(&o, "e", &crate::b64::encode(e).into())?;
        }
        KeyMaterial::Ec { crv, x, y } => {
            set(&o, "kty", &"EC".into())?;
            set(
                &o,
                "crv",
                &(if *crv == EcCurve::P256 {
                    "P-256"
                } else {
                    "P-384"
                })
                .into(),
            )?;
            set(&o, "x", &crate::b64::encode(x).into())?;
            set(&o, "y", &crate::b64::encode(y).into())?;
        }
        KeyMaterial::Ed25519 { x } => {
            set(&o, "kty", &"OKP".into())?;
            set(&o, "crv", &"Ed25519".into())?;
            set(&o, "x", &crate::b64::encode(x).into())?;
        }
        KeyMaterial::Oct { .. } => {
            return Err(PortError::new(
                "subtle",
                "secrets are not imported through WebCrypto",
            ))
        }
    }
    set(&o, "ext", &JsValue::TRUE)?;
    Ok(o)
}

async fn import(subtle: &SubtleCrypto, alg: Alg, key: &PublicJwk) -> Result<CryptoKey, PortError> {
    if let Some(k) = KEYS.with(|m| m.borrow().get(&(key.thumbprint, alg)).cloned()) {
        return Ok(k);
    }
    let usages = Array::of1(&JsValue::from_str("verify"));
    let promise = subtle
        .import_key_with_object(
            "jwk",
            &jwk_object(key)?,
            &algorithm(alg, false)?,
            false,
            &usages,
        )
        .map_err(|e| PortError::new("subtle", format!("importKey: {e:?}")))?;
    let k: CryptoKey = JsFuture::from(promise)
        .await
        .map_err(|e| PortError::new("subtle", format!("importKey rejected: {e:?}")))?
        .unchecked_into();
    KEYS.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MAX_CACHED_KEYS {
            m.clear();
        }
        m.insert((key.thumbprint, alg), k.clone());
    });
    Ok(k)
}

impl SignatureVerifier for SubtleVerifier {
    async fn verify(
        &self,
        alg: Alg,
        key: &PublicJwk,
        input: &[u8],
        sig: &[u8],
    ) -> Result<bool, PortError> {
        if alg == Alg::HS256 {
            return Ok(crate::sig::verify_hs256(key, input, sig));
        }
        let subtle = subtle()?;
        let k = match import(&subtle, alg, key).await {
            Ok(k) => k,
            // A runtime without WebCrypto Ed25519: verify in Rust instead.
            Err(_) if alg == Alg::EdDSA => return Ok(crate::sig::verify_eddsa(key, input, sig)),
            Err(e) => return Err(e),
        };
        let promise = subtle
            .verify_with_object_and_u8_array_and_u8_array(&algorithm(alg, true)?, &k, sig, input)
            .map_err(|e| PortError::new("subtle", format!("verify: {e:?}")))?;
        match JsFuture::from(promise).await {
            Ok(v) => Ok(v.as_bool().unwrap_or(false)),
            // A malformed signature makes some engines reject instead of answering false.
            Err(_) => Ok(false),
        }
    }
}
