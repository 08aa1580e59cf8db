//! Published test vectors, byte for byte: RFC 7515 Appendix A.1 (HS256), A.2 (RS256),
//! A.3 (ES256) and RFC 8037 Appendix A.4 (Ed25519). Their payload
//! `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}` has no `aud` and
//! expired in 2011, so they go through the signature layer (`orggate::sig`, `orggate::native`)
//! rather than the full pipeline; each is paired with a tampered variant that must fail.
//! The same vectors run under wasm32 against WebCrypto in `tests/wasm_subtle.rs`.
#![cfg(not(target_arch = "wasm32"))]

use orggate::keys::jwk::{parse_jwk, KeyMaterial, PublicJwk};
use orggate::native::verify_sync;
use orggate::token::jws::{self, Alg};
use serde_json::json;

/// RFC 7515 §A.1-§A.3 payload, BASE64URL-encoded (the JSON contains CR LF).
const PAYLOAD: &str =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

// RFC 7515 §A.1: header {"typ":"JWT",\r\n "alg":"HS256"}
const A1_HEADER: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const A1_SIG: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// RFC 7515 §A.2: header {"alg":"RS256"}
const A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_E: &str = "AQAB";
const A2_SIG: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

// RFC 7515 §A.3: header {"alg":"ES256"}
const A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_SIG: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 8037 §A.4: header {"alg":"EdDSA"}, payload "Example of Ed25519 signing"
const ED_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const ED_SIG: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn d(s: &str) -> Vec<u8> {
    orggate::b64::decode(s).expect("vector is base64url")
}

fn input(header: &str) -> String {
    format!("{header}.{PAYLOAD}")
}

/// The signing input with its last payload character changed (`Q` → `R`: `true}` → a different
/// final byte), the classic tampered variant.
fn tampered(header: &str) -> String {
    let mut s = input(header);
    s.pop();
    s.push('R');
    s
}

fn flip_first_bit(sig: &[u8]) -> Vec<u8> {
    let mut v = sig.to_vec();
    v[0] ^= 0x80;
    v
}

fn a2_key() -> PublicJwk {
    parse_jwk(json!({"kty": "RSA", "n": A2_N, "e": A2_E})).unwrap()
}
fn a3_key() -> PublicJwk {
    parse_jwk(json!({"kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y})).unwrap()
}
fn ed_key() -> PublicJwk {
    parse_jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X})).unwrap()
}
fn a1_key() -> PublicJwk {
    PublicJwk::new(None, None, KeyMaterial::Oct { k: d(A1_KEY) })
}

/// The vectors parse as compact JWS (structure only; their claims are not ours to judge).
#[test]
fn vectors_parse_as_compact_jws() {
    for (header, sig, alg) in [
        (A1_HEADER, A1_SIG, Alg::HS256),
        (A2_HEADER, A2_SIG, Alg::RS256),
        (A3_HEADER, A3_SIG, Alg::ES256),
    ] {
        let raw = format!("{}.{sig}", input(header));
        let t = jws::parse(&raw, 16 * 1024).unwrap();
        assert_eq!(t.header.alg, alg);
        assert_eq!(t.claims["iss"], "joe");
        assert_eq!(t.claims["exp"], 1_300_819_380u64);
        assert_eq!(&*t.signing_input, input(header).as_str());
        assert_eq!(&*t.signature, d(sig).as_slice());
    }
}

#[test]
fn rfc7515_a1_hs256() {
    let k = a1_key();
    let sig = d(A1_SIG);
    assert!(orggate::sig::verify_hs256(
        &k,
        input(A1_HEADER).as_bytes(),
        &sig
    ));
    assert!(verify_sync(
        Alg::HS256,
        &k,
        input(A1_HEADER).as_bytes(),
        &sig
    ));
    assert!(!orggate::sig::verify_hs256(
        &k,
        tampered(A1_HEADER).as_bytes(),
        &sig
    ));
    assert!(!orggate::sig::verify_hs256(
        &k,
        input(A1_HEADER).as_bytes(),
        &flip_first_bit(&sig)
    ));
    // Another key (the first byte changed) does not verify it.
    let mut other = d(A1_KEY);
    other[0] ^= 1;
    let other = PublicJwk::new(None, None, KeyMaterial::Oct { k: other });
    assert!(!orggate::sig::verify_hs256(
        &other,
        input(A1_HEADER).as_bytes(),
        &sig
    ));
    // An HS256 check with a non-oct key is always false (no algorithm confusion in the port).
    assert!(!orggate::sig::verify_hs256(
        &a2_key(),
        input(A1_HEADER).as_bytes(),
        &sig
    ));
}

/// ShortHmacSignature: the A.1 signature cut to 31 bytes (and an empty one) must be `false`, not
/// a panic: `Hs256Signature::try_from_slice` is `GenericArray::clone_from_slice`, which panics on
/// any length but 32.
#[test]
fn rfc7515_a1_hs256_wrong_length_signature_is_false() {
    let k = a1_key();
    let sig = d(A1_SIG);
    for bad in [
        &sig[..31],
        &[][..],
        &[sig.clone(), sig.clone()].concat()[..],
    ] {
        let r = std::panic::catch_unwind(|| {
            orggate::sig::verify_hs256(&k, input(A1_HEADER).as_bytes(), bad)
        });
        assert_eq!(r.ok(), Some(false), "{}-byte signature", bad.len());
    }
}

/// ShortEd25519Signature: the RFC 8037 signature cut to 63 bytes must be `false` at the port
/// (`verify_eddsa`, `NativeVerifier`, and on wasm32 `SubtleVerifier`), not a panic. The pipeline
/// pre-checks the length, but the port contract is `Ok(false)` for a bad signature.
#[test]
fn rfc8037_wrong_length_signature_is_false() {
    let k = ed_key();
    let sig = d(ED_SIG);
    for bad in [&sig[..63], &[][..]] {
        let r =
            std::panic::catch_unwind(|| orggate::sig::verify_eddsa(&k, ED_INPUT.as_bytes(), bad));
        assert_eq!(r.ok(), Some(false), "{}-byte signature", bad.len());
    }
}

#[test]
fn rfc7515_a2_rs256() {
    let k = a2_key();
    let sig = d(A2_SIG);
    assert_eq!(sig.len(), 256);
    assert!(k.check_use(Alg::RS256).is_ok());
    assert!(verify_sync(
        Alg::RS256,
        &k,
        input(A2_HEADER).as_bytes(),
        &sig
    ));
    assert!(!verify_sync(
        Alg::RS256,
        &k,
        tampered(A2_HEADER).as_bytes(),
        &sig
    ));
    assert!(!verify_sync(
        Alg::RS256,
        &k,
        input(A2_HEADER).as_bytes(),
        &flip_first_bit(&sig)
    ));
    // Same key and signature under another RSA alg: refused.
    for alg in [Alg::RS384, Alg::RS512, Alg::PS256] {
        assert!(
            !verify_sync(alg, &k, input(A2_HEADER).as_bytes(), &sig),
            "{alg:?}"
        );
    }
}

#[test]
fn rfc7515_a3_es256() {
    let k = a3_key();
    let sig = d(A3_SIG);
    assert_eq!(sig.len(), 64);
    assert!(verify_sync(
        Alg::ES256,
        &k,
        input(A3_HEADER).as_bytes(),
        &sig
    ));
    assert!(!verify_sync(
        Alg::ES256,
        &k,
        tampered(A3_HEADER).as_bytes(),
        &sig
    ));
    assert!(!verify_sync(
        Alg::ES256,
        &k,
        input(A3_HEADER).as_bytes(),
        &flip_first_bit(&sig)
    ));
    assert!(!verify_sync(
        Alg::ES256,
        &k,
        input(A3_HEADER).as_bytes(),
        &[0u8; 64]
    ));
    // ECDSA over the RFC's key with the RS256 verifier: a type mismatch is false, never a panic.
    assert!(!verify_sync(
        Alg::RS256,
        &k,
        input(A3_HEADER).as_bytes(),
        &sig
    ));
}

#[test]
fn rfc8037_a4_ed25519() {
    let k = ed_key();
    let sig = d(ED_SIG);
    assert!(orggate::sig::verify_eddsa(&k, ED_INPUT.as_bytes(), &sig));
    assert!(verify_sync(Alg::EdDSA, &k, ED_INPUT.as_bytes(), &sig));
    let mut t = ED_INPUT.to_string();
    t.push('x');
    assert!(!orggate::sig::verify_eddsa(&k, t.as_bytes(), &sig));
    assert!(!orggate::sig::verify_eddsa(
        &k,
        ED_INPUT.as_bytes(),
        &flip_first_bit(&sig)
    ));
    assert!(!orggate::sig::verify_eddsa(
        &k,
        ED_INPUT.as_bytes(),
        &[0u8; 64]
    ));
    // The header really is {"alg":"EdDSA"}.
    let raw = format!("{ED_INPUT}.{ED_SIG}");
    let err = jws::parse(&raw, 16 * 1024).unwrap_err();
    // (the payload is not a JSON object: the RFC signs plain text)
    assert_eq!(err, orggate::token::TokenError::NotJson { part: "payload" });
}

/// The shared fixture file (`tests/fixtures/jws_vectors.json`, also read by the wasm32 WebCrypto
/// tests) verifies natively, and every vector fails with its last signature byte flipped.
#[test]
fn shared_fixture_vectors_verify_natively() {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/jws_vectors.json")).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let alg = Alg::from_name(v["alg"].as_str().unwrap()).unwrap();
        let key = if v["key"]["kty"] == "oct" {
            PublicJwk::new(
                None,
                None,
                KeyMaterial::Oct {
                    k: d(v["key"]["k"].as_str().unwrap()),
                },
            )
        } else {
            parse_jwk(v["key"].clone()).unwrap()
        };
        let input = v["input"].as_str().unwrap().as_bytes();
        let mut sig = d(v["signature"].as_str().unwrap());
        assert!(verify_sync(alg, &key, input, &sig), "{name}");
        let last = sig.len() - 1;
        sig[last] ^= 1;
        assert!(!verify_sync(alg, &key, input, &sig), "{name} tampered");
    }
}
