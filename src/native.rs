//! Native (non-wasm) implementations of ports: pure-Rust signatures through jwt-compact (the CLI
//! and the native tests use them) and the system clock for the CLI.

use crate::keys::jwk::{EcCurve, KeyMaterial, PublicJwk};
use crate::ports::{Clock, PortError, SignatureVerifier};
use crate::time::UnixSeconds;
use crate::token::jws::Alg;
use jwt_compact::alg::{Es256, Rsa, RsaPublicKey, RsaSignature};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmSignature};
use std::borrow::Cow;

/// jwt-compact for everything (RSA and ECDSA in pure Rust: fine natively, 20-40x too slow in Wasm).
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeVerifier;

impl SignatureVerifier for NativeVerifier {
    fn verify(
        &self,
        alg: Alg,
        key: &PublicJwk,
        input: &[u8],
        sig: &[u8],
    ) -> Result<bool, PortError> {
        Ok(verify_sync(alg, key, input, sig))
    }
}

pub fn verify_sync(alg: Alg, key: &PublicJwk, input: &[u8], sig: &[u8]) -> bool {
    match (alg, &key.material) {
        (Alg::HS256, _) => crate::sig::verify_hs256(key, input, sig),
        (Alg::EdDSA, _) => crate::sig::verify_eddsa(key, input, sig),
        (
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512,
            KeyMaterial::Rsa { n, e },
        ) => {
            let jwk = JsonWebKey::Rsa {
                modulus: Cow::Borrowed(n),
                public_exponent: Cow::Borrowed(e),
                private_parts: None,
            };
            let (Ok(pk), Ok(signature)) = (
                RsaPublicKey::try_from(&jwk),
                RsaSignature::try_from_slice(sig),
            ) else {
                return false;
            };
            Rsa::with_name(alg.name()).verify_signature(&signature, &pk, input)
        }
        (
            Alg::ES256,
            KeyMaterial::Ec {
                crv: EcCurve::P256,
                x,
                y,
            },
        ) => {
            let jwk = JsonWebKey::EllipticCurve {
                curve: Cow::Borrowed("P-256"),
                x: Cow::Borrowed(x),
                y: Cow::Borrowed(y),
                secret: None,
            };
            let (Ok(pk), Ok(signature)) = (
                <Es256 as Algorithm>::VerifyingKey::try_from(&jwk),
                <Es256 as Algorithm>::Signature::try_from_slice(sig),
            ) else {
                return false;
            };
            Es256.verify_signature(&signature, &pk, input)
        }
        (
            Alg::ES384,
            KeyMaterial::Ec {
                crv: EcCurve::P384,
                x,
                y,
            },
        ) => {
            use p384::ecdsa::signature::Verifier;
            let mut sec1 = Vec::with_capacity(97);
            sec1.push(4u8);
            sec1.extend_from_slice(x);
            sec1.extend_from_slice(y);
            let (Ok(pk), Ok(signature)) = (
                p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1),
                p384::ecdsa::Signature::from_slice(sig),
            ) else {
                return false;
            };
            pk.verify(input, &signature).is_ok()
        }
        _ => false,
    }
}

/// The system clock (CLI only; the core never reads a clock).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixSeconds {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| UnixSeconds::new(d.as_secs()))
            .unwrap_or_default()
    }
}
