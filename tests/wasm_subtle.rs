//! `orggate::edge::subtle::SubtleVerifier` against the host's WebCrypto (node's
//! `globalThis.crypto.subtle` under wasm-bindgen-test-runner; workerd in production).
//!
//! Vectors come from `tests/fixtures/jws_vectors.json` (RFC 7515 A.1 HS256, A.2 RS256, A.3 ES256,
//! RFC 8037 A.4 Ed25519, and a PS256 signature made natively with jwt-compact by
//! `dev/keys/demo-rs256-1`), the same file `tests/token_rfc_vectors.rs` checks natively.
//!
//! Run: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_USE_JS_SYS=1
//! cargo test --target wasm32-unknown-unknown --test wasm_subtle` (node, not a browser: no
//! `wasm_bindgen_test_configure!(run_in_browser)` here).
#![cfg(target_arch = "wasm32")]

use orggate::edge::subtle::SubtleVerifier;
use orggate::keys::jwk::{parse_jwk, KeyMaterial, PublicJwk};
use orggate::ports::SignatureVerifier;
use orggate::token::jws::Alg;
use serde_json::Value;
use wasm_bindgen_test::wasm_bindgen_test;

struct Vector {
    name: String,
    alg: Alg,
    key: PublicJwk,
    input: Vec<u8>,
    sig: Vec<u8>,
}

fn vectors() -> Vec<Vector> {
    let doc: Value = serde_json::from_str(include_str!("fixtures/jws_vectors.json")).unwrap();
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let key = if v["key"]["kty"] == "oct" {
                let k = orggate::b64::decode(v["key"]["k"].as_str().unwrap()).unwrap();
                PublicJwk::new(None, None, KeyMaterial::Oct { k })
            } else {
                parse_jwk(v["key"].clone()).unwrap()
            };
            Vector {
                name: v["name"].as_str().unwrap().to_string(),
                alg: Alg::from_name(v["alg"].as_str().unwrap()).unwrap(),
                key,
                input: v["input"].as_str().unwrap().as_bytes().to_vec(),
                sig: orggate::b64::decode(v["signature"].as_str().unwrap()).unwrap(),
            }
        })
        .collect()
}

fn vector(name: &str) -> Vector {
    vectors()
        .into_iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

async fn check(v: &Vector, input: &[u8], sig: &[u8]) -> bool {
    SubtleVerifier
        .verify(v.alg, &v.key, input, sig)
        .await
        .unwrap_or_else(|e| panic!("{}: verifier fault {e}", v.name))
}

/// Every vector verifies, and fails with (a) its last input byte changed, (b) its first
/// signature bit flipped, (c) the input of another vector.
async fn genuine_and_tampered(name: &str) {
    let v = vector(name);
    assert!(check(&v, &v.input, &v.sig).await, "{name}: genuine");
    let mut input = v.input.clone();
    *input.last_mut().unwrap() ^= 1;
    assert!(!check(&v, &input, &v.sig).await, "{name}: tampered input");
    let mut sig = v.sig.clone();
    sig[0] ^= 0x80;
    assert!(
        !check(&v, &v.input, &sig).await,
        "{name}: flipped signature bit"
    );
    assert!(
        !check(&v, b"eyJhbGciOiJub25lIn0.e30", &v.sig).await,
        "{name}: other input"
    );
}

#[wasm_bindgen_test]
async fn rfc7515_a1_hs256() {
    genuine_and_tampered("rfc7515-a1-hs256").await;
}

#[wasm_bindgen_test]
async fn rfc7515_a2_rs256() {
    genuine_and_tampered("rfc7515-a2-rs256").await;
}

#[wasm_bindgen_test]
async fn rfc7515_a3_es256() {
    genuine_and_tampered("rfc7515-a3-es256").await;
}

#[wasm_bindgen_test]
async fn rfc8037_a4_ed25519() {
    genuine_and_tampered("rfc8037-a4-ed25519").await;
}

#[wasm_bindgen_test]
async fn ps256_from_jwt_compact() {
    genuine_and_tampered("orggate-ps256-demo-rs256-1").await;
}

/// PsychicSignature (CVE-2022-21449): r = s = 0 over the A.3 input and key is false.
#[wasm_bindgen_test]
async fn es256_all_zero_signature_is_false() {
    let v = vector("rfc7515-a3-es256");
    assert!(!check(&v, &v.input, &[0u8; 64]).await);
}

/// The RSA key and signature of A.2 under the wrong RSA algorithms: RS384 (other hash) and
/// PS256 (other padding) are false; the cached CryptoKey of one alg is not reused for another.
#[wasm_bindgen_test]
async fn rs256_signature_is_not_valid_under_other_rsa_algs() {
    let v = vector("rfc7515-a2-rs256");
    assert!(check(&v, &v.input, &v.sig).await);
    for alg in [Alg::RS384, Alg::RS512, Alg::PS256] {
        let ok = SubtleVerifier
            .verify(alg, &v.key, &v.input, &v.sig)
            .await
            .unwrap();
        assert!(!ok, "{alg:?}");
    }
    // And the PS256 fixture is not an RS256 signature.
    let p = vector("orggate-ps256-demo-rs256-1");
    let ok = SubtleVerifier
        .verify(Alg::RS256, &p.key, &p.input, &p.sig)
        .await
        .unwrap();
    assert!(!ok);
}

/// Wrong-length ECDSA/RSA signatures are false (some engines reject the promise instead of
/// answering false; the verifier maps that to false).
#[wasm_bindgen_test]
async fn wrong_length_signatures_are_false() {
    let es = vector("rfc7515-a3-es256");
    assert!(!check(&es, &es.input, &es.sig[..63]).await);
    let rs = vector("rfc7515-a2-rs256");
    assert!(!check(&rs, &rs.input, &rs.sig[..255]).await);
    assert!(!check(&rs, &rs.input, &[]).await);
}

/// A key WebCrypto cannot import for the alg (an EC key under RS256) is an `Err` (a fault the
/// pipeline turns into 503), never `Ok(true)`.
#[wasm_bindgen_test]
async fn mismatched_key_type_is_never_true() {
    let es = vector("rfc7515-a3-es256");
    let r = SubtleVerifier
        .verify(Alg::RS256, &es.key, &es.input, &es.sig)
        .await;
    assert_ne!(r, Ok(true));
}
