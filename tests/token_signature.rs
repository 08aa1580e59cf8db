//! Signatures and keys: happy paths per algorithm (signed natively with jwt-compact from the
//! committed dev keys), forged and tampered tokens, algorithm confusion, ECDSA r = s = 0
//! (CVE-2022-21449), `kid` games, and key/alg pairing (RFC 7518 §3.1).
//!
//! Base claims (unless stated): `common::claims()` =
//! `{"iss":"https://idp.orggate.test/","aud":"https://api.orggate.test","sub":"auth0|alice",
//!   "azp":"spa-client","iat":NOW-10,"exp":NOW+600,"org_id":"org_acme","org_name":"acme",
//!   "permissions":["read:reports"]}`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use orggate::engine::Engine;
use orggate::keys::jwk::{parse_jwk, KeyUseError};
use orggate::ports::SignatureVerifier;
use orggate::token::jws::Alg;
use orggate::token::TokenError;
use serde_json::json;

/// The demo keys plus the RSA key re-published as `rsa-any` without a JWK `alg`, so one RSA
/// key can verify RS256, RS384, RS512 and PS256 tokens.
fn idp_with_rsa_any() -> orggate::testing::FakePorts {
    let rsa = rs256_key();
    ports_serving(&jwks_of(&[
        rsa.public(),
        rsa.public_as("rsa-any"),
        es256_key().public(),
        eddsa_key().public(),
    ]))
}

// --- happy paths -----------------------------------------------------------------------------

/// Valid tokens, one per algorithm: header `{"alg":ALG,"typ":"at+jwt","kid":KID}` + base claims.
#[test]
fn each_algorithm_verifies() {
    let rsa = rs256_key();
    let cases: [(&str, &common::DevKey, &str, Alg); 6] = [
        ("RS256", &rsa, "demo-rs256-1", Alg::RS256),
        ("RS384", &rsa, "rsa-any", Alg::RS384),
        ("RS512", &rsa, "rsa-any", Alg::RS512),
        ("PS256", &rsa, "rsa-any", Alg::PS256),
        ("ES256", &es256_key(), "demo-es256-1", Alg::ES256),
        ("EdDSA", &eddsa_key(), "demo-eddsa-1", Alg::EdDSA),
    ];
    for (alg, key, kid, expect) in cases {
        let raw = mint(alg, key, &header(alg, kid), &claims());
        let ports = idp_with_rsa_any();
        let c = expect_ok(run(&ports, &Engine::new(), &tenant(json!({})), &raw));
        assert_eq!(c.alg, expect, "{alg}");
        assert_eq!(c.issuer, ISS);
        assert_eq!(c.identity.org_id.as_deref(), Some("org_acme"), "{alg}");
        assert!(c.key_thumbprint.is_some(), "{alg}");
        assert_eq!(sent_urls(&ports), vec![JWKS_URI.to_string()], "{alg}");
    }
}

/// PS384/PS512 have no native test of their own elsewhere: sign and verify through the port.
#[test]
fn ps384_and_ps512_verify_through_the_native_port() {
    let rsa = rs256_key();
    let jwk = parse_jwk(rsa.public_as("rsa-any")).unwrap();
    for (name, alg) in [("PS384", Alg::PS384), ("PS512", Alg::PS512)] {
        let input = b"eyJhbGciOiJQUzM4NCJ9.e30";
        let sig = sign_bytes(name, &rsa, input);
        assert!(
            orggate::native::verify_sync(alg, &jwk, input, &sig),
            "{name}"
        );
        assert!(!orggate::native::verify_sync(
            alg,
            &jwk,
            b"eyJhbGciOiJQUzM4NCJ9.e31",
            &sig
        ));
        // Same key, other hash: a PS512 signature is not a PS384 one.
        let other = if alg == Alg::PS384 {
            Alg::PS512
        } else {
            Alg::PS384
        };
        assert!(!orggate::native::verify_sync(other, &jwk, input, &sig));
    }
}

/// NoKidSingleKey: header `{"alg":"EdDSA"}` against a JWKS holding only the EdDSA key: the one
/// key is unambiguous (RFC 7515 §4.1.4). Against the three-key JWKS: `MissingKid`.
#[test]
fn missing_kid_uses_a_single_key_only() {
    let k = eddsa_key();
    let raw = mint("EdDSA", &k, &json!({"alg": "EdDSA"}), &claims());
    let single = ports_serving(&jwks_of(&[k.public()]));
    expect_ok(run(&single, &Engine::new(), &tenant(json!({})), &raw));
    let e = expect_err(verify_default(&raw));
    assert_eq!(e, TokenError::MissingKid);
    assert_eq!(e.reason(), "missing_kid");
}

// --- forged and tampered ---------------------------------------------------------------------

/// TamperedPayload: a valid RS256 token whose payload is re-encoded with
/// `"org_id":"org_globex","permissions":["admin"]`, keeping the original signature.
#[test]
fn tampered_payload_keeps_old_signature() {
    let rsa = rs256_key();
    let raw = mint("RS256", &rsa, &header("RS256", &rsa.kid), &claims());
    let (h, _, s) = parts(&raw);
    let forged = claims_with(json!({"org_id": "org_globex", "permissions": ["admin"]}));
    let tampered = format!("{h}.{}.{s}", b64(forged.to_string().as_bytes()));
    let e = expect_err(verify_default(&tampered));
    assert_eq!(e, TokenError::BadSignature);
    assert_eq!(e.reason(), "bad_signature");
    // Control: the untampered token verifies.
    expect_ok(verify_default(&raw));
}

/// TamperedHeader: the EdDSA token with its header re-encoded to add `"typ":"JWT"`: the header is
/// part of the signing input (RFC 7515 §5.1), so the signature no longer matches.
#[test]
fn tampered_header_breaks_signature() {
    let raw = ed_token(json!({}));
    let (_, p, s) = parts(&raw);
    let h2 = json!({"alg": "EdDSA", "typ": "JWT", "kid": "demo-eddsa-1"}).to_string();
    let e = expect_err(verify_default(&format!("{}.{p}.{s}", b64(h2.as_bytes()))));
    assert_eq!(e, TokenError::BadSignature);
}

/// FlippedSignatureBit for each algorithm: last signature byte XOR 1.
#[test]
fn flipped_signature_bit_for_each_algorithm() {
    let rsa = rs256_key();
    for (alg, key) in [
        ("RS256", rsa.clone()),
        ("ES256", es256_key()),
        ("EdDSA", eddsa_key()),
    ] {
        let raw = mint(alg, &key, &header(alg, &key.kid), &claims());
        let (h, p, s) = parts(&raw);
        let mut sig = orggate::b64::decode(&s).unwrap();
        let last = sig.len() - 1;
        sig[last] ^= 1;
        let e = expect_err(verify_default(&format!("{h}.{p}.{}", b64(&sig))));
        assert_eq!(e, TokenError::BadSignature, "{alg}");
    }
}

/// RogueKeyClaimsPublishedKid: signed with `rogue-rs256` (not published) but header
/// `{"alg":"RS256","kid":"demo-rs256-1"}`: `BadSignature`. With its own kid `rogue-rs256-1`:
/// `UnknownKid`.
#[test]
fn rogue_key_signatures_are_refused() {
    let rogue = rogue_key();
    let raw = mint("RS256", &rogue, &header("RS256", "demo-rs256-1"), &claims());
    assert_eq!(expect_err(verify_default(&raw)), TokenError::BadSignature);
    let raw = mint("RS256", &rogue, &header("RS256", &rogue.kid), &claims());
    assert_eq!(
        expect_err(verify_default(&raw)),
        TokenError::UnknownKid {
            kid: "rogue-rs256-1".into()
        }
    );
}

/// TruncatedRsaSignature: an RS256 signature cut to 255 bytes; EmptyishSignature: one byte.
#[test]
fn wrong_length_signatures() {
    let rsa = rs256_key();
    let raw = mint("RS256", &rsa, &header("RS256", &rsa.kid), &claims());
    let (h, p, s) = parts(&raw);
    let sig = orggate::b64::decode(&s).unwrap();
    for bad in [&sig[..255], &sig[..1]] {
        let e = expect_err(verify_default(&format!("{h}.{p}.{}", b64(bad))));
        assert_eq!(e, TokenError::BadSignature);
    }
    // EdDSA signatures are exactly 64 bytes (RFC 8032 §5.1.6).
    let raw = ed_token(json!({}));
    let (h, p, s) = parts(&raw);
    let sig = orggate::b64::decode(&s).unwrap();
    let e = expect_err(verify_default(&format!("{h}.{p}.{}", b64(&sig[..63]))));
    assert_eq!(e, TokenError::BadSignature);
}

// --- ECDSA r = s = 0 (CVE-2022-21449, "psychic signatures") ----------------------------------

/// PsychicSignature: header `{"alg":"ES256","typ":"at+jwt","kid":"demo-es256-1"}`, base claims,
/// signature = 64 zero bytes (r = 0, s = 0). Java 15-18 accepted it for any message and key.
#[test]
fn es256_all_zero_signature_is_refused() {
    let input = signing_input(
        &header("ES256", "demo-es256-1").to_string(),
        &claims().to_string(),
    );
    let raw = format!("{input}.{}", b64(&[0u8; 64]));
    let ports = idp();
    let e = expect_err(run(&ports, &Engine::new(), &tenant(json!({})), &raw));
    assert_eq!(e, TokenError::BadSignature);
}

/// r = 0 with s = n-ish garbage, and s = 0 with a real r: each half on its own is refused.
#[test]
fn es256_zero_half_signatures_are_refused() {
    let k = es256_key();
    let good = mint("ES256", &k, &header("ES256", &k.kid), &claims());
    let (h, p, s) = parts(&good);
    let sig = orggate::b64::decode(&s).unwrap();
    let mut r_zero = sig.clone();
    r_zero[..32].fill(0);
    let mut s_zero = sig.clone();
    s_zero[32..].fill(0);
    for bad in [r_zero, s_zero] {
        let e = expect_err(verify_default(&format!("{h}.{p}.{}", b64(&bad))));
        assert_eq!(e, TokenError::BadSignature);
    }
}

/// Defence in depth: the native verifier itself (behind the pre-check) says no to r = s = 0,
/// and to a DER-encoded signature (RFC 7518 §3.4 wants raw R || S).
#[test]
fn native_verifier_rejects_zero_and_der_ecdsa_signatures() {
    let k = es256_key();
    let jwk = parse_jwk(k.public()).unwrap();
    let input = signing_input(&header("ES256", &k.kid).to_string(), &claims().to_string());
    let verifier = orggate::native::NativeVerifier;
    let zero = verifier.verify(Alg::ES256, &jwk, input.as_bytes(), &[0u8; 64]);
    assert_eq!(zero, Ok(false));
    let sig = sign_bytes("ES256", &k, input.as_bytes());
    assert_eq!(
        verifier.verify(Alg::ES256, &jwk, input.as_bytes(), &sig),
        Ok(true)
    );
    // The same r and s as a DER SEQUENCE of two INTEGERs (the X.509 form, not the JWS one):
    // 70 bytes, never valid here.
    let mut der = vec![0x30, 0x44, 0x02, 0x20];
    der.extend_from_slice(&sig[..32]);
    der.extend_from_slice(&[0x02, 0x20]);
    der.extend_from_slice(&sig[32..]);
    assert_eq!(
        verifier.verify(Alg::ES256, &jwk, input.as_bytes(), &der),
        Ok(false)
    );
}

// --- algorithm confusion ---------------------------------------------------------------------

/// The RSA public key as an attacker would use it for HMAC: the published JWK's JSON text.
fn rsa_public_bytes() -> Vec<u8> {
    rs256_key().public().to_string().into_bytes()
}

/// AlgConfusionHs256: header `{"alg":"HS256","typ":"JWT","kid":"demo-rs256-1"}`, base claims,
/// HMAC-SHA-256 keyed with the RSA public key's bytes. Issuer allows RS256 only:
/// `AlgorithmNotAllowed` before any key is looked up.
#[test]
fn hs256_with_rsa_public_key_against_rs256_only_issuer() {
    let input = signing_input(
        &json!({"alg": "HS256", "typ": "JWT", "kid": "demo-rs256-1"}).to_string(),
        &claims().to_string(),
    );
    for secret in [rsa_public_bytes(), {
        let n = rs256_key().public()["n"].as_str().unwrap().to_string();
        orggate::b64::decode(&n).unwrap()
    }] {
        let raw = format!("{input}.{}", b64(&hs256_bytes(&secret, input.as_bytes())));
        let ports = idp();
        let t = tenant(json!({"algorithms": ["RS256"]}));
        let e = expect_err(run(&ports, &Engine::new(), &t, &raw));
        assert_eq!(e, TokenError::AlgorithmNotAllowed { alg: "HS256" });
        assert_eq!(e.reason(), "alg_not_allowed");
        assert!(sent_urls(&ports).is_empty());
    }
}

/// AlgConfusionHs256 against an issuer that allows RS256 *and* HS256 (secret `IDP_HS256` =
/// "a-different-shared-secret-of-32-bytes!"): the HMAC key is the Worker secret, never the JWKS
/// key the kid names, so the signature is bad.
#[test]
fn hs256_with_rsa_public_key_against_mixed_issuer() {
    let input = signing_input(
        &json!({"alg": "HS256", "typ": "JWT", "kid": "demo-rs256-1"}).to_string(),
        &claims().to_string(),
    );
    let raw = format!(
        "{input}.{}",
        b64(&hs256_bytes(&rsa_public_bytes(), input.as_bytes()))
    );
    let ports = idp();
    ports
        .secrets
        .set("IDP_HS256", "a-different-shared-secret-of-32-bytes!");
    let t = tenant(json!({"algorithms": ["RS256", "HS256"], "hs256_secret": "IDP_HS256"}));
    let e = expect_err(run(&ports, &Engine::new(), &t, &raw));
    assert_eq!(e, TokenError::BadSignature);
    assert!(
        sent_urls(&ports).is_empty(),
        "HS256 must not consult the JWKS"
    );
    // Control: the same claims HMAC'd with the configured secret verify, with no thumbprint.
    let good = format!(
        "{input}.{}",
        b64(&hs256_bytes(
            b"a-different-shared-secret-of-32-bytes!",
            input.as_bytes()
        ))
    );
    let c = expect_ok(run(&ports, &Engine::new(), &t, &good));
    assert_eq!(c.alg, Alg::HS256);
    assert_eq!(c.key_thumbprint, None);
}

/// Hs256SecretUnset: issuer allows HS256 but the Worker secret is missing: an internal fault
/// (503), not the caller's.
#[test]
fn hs256_secret_missing_is_internal() {
    let input = signing_input(&json!({"alg": "HS256"}).to_string(), &claims().to_string());
    let raw = format!("{input}.{}", b64(&hs256_bytes(b"x", input.as_bytes())));
    let t = tenant(json!({"algorithms": ["HS256"], "hs256_secret": "IDP_HS256"}));
    let e = expect_err(run(&idp(), &Engine::new(), &t, &raw));
    assert!(matches!(e, TokenError::KeysUnavailable { .. }), "{e:?}");
    assert!(e.is_internal());
}

/// ShortHs256Signature: header `{"alg":"HS256"}`, base claims, a 31-byte signature, against an
/// issuer that allows HS256. Must be `BadSignature`; a panic here is a crashed request (and on
/// Workers, `panic = "abort"` kills the isolate).
#[test]
fn hs256_short_signature_is_bad_not_a_panic() {
    let secret = "a-different-shared-secret-of-32-bytes!";
    let input = signing_input(&json!({"alg": "HS256"}).to_string(), &claims().to_string());
    let full = hs256_bytes(secret.as_bytes(), input.as_bytes());
    let t = tenant(json!({"algorithms": ["HS256"], "hs256_secret": "IDP_HS256"}));
    for bad in [&full[..31], &full[..1]] {
        let raw = format!("{input}.{}", b64(bad));
        let r = std::panic::catch_unwind(|| {
            let ports = idp();
            ports.secrets.set("IDP_HS256", secret);
            run(&ports, &Engine::new(), &t, &raw).map(|c| c.exp)
        });
        assert_eq!(
            r.ok(),
            Some(Err(TokenError::BadSignature)),
            "{} bytes",
            bad.len()
        );
    }
}

/// AlgNotAllowedForIssuer: a valid ES256 token for an issuer configured with `["RS256"]`.
#[test]
fn valid_signature_with_disallowed_alg() {
    let k = es256_key();
    let raw = mint("ES256", &k, &header("ES256", &k.kid), &claims());
    let t = tenant(json!({"algorithms": ["RS256"]}));
    let e = expect_err(run(&idp(), &Engine::new(), &t, &raw));
    assert_eq!(e, TokenError::AlgorithmNotAllowed { alg: "ES256" });
}

/// KeyTypeMismatch: header `{"alg":"RS256","kid":"demo-es256-1"}`: the kid names an EC key.
/// The key decides what it may verify (RFC 7518 §3.1), not the token.
#[test]
fn alg_and_key_type_must_agree() {
    let input = signing_input(
        &header("RS256", "demo-es256-1").to_string(),
        &claims().to_string(),
    );
    let raw = format!("{input}.{}", b64(&[7u8; 256]));
    let e = expect_err(verify_default(&raw));
    assert_eq!(
        e,
        TokenError::KeyUnusable(KeyUseError::TypeMismatch {
            alg: Alg::RS256,
            kty: "EC"
        })
    );
    assert_eq!(e.reason(), "key_type_mismatch");
}

/// JwkAlgMismatch: a genuine RS384 signature by the RSA key under its published kid
/// `demo-rs256-1`, whose JWK says `"alg":"RS256"` (RFC 7517 §4.4).
#[test]
fn jwk_alg_must_match_token_alg() {
    let rsa = rs256_key();
    let raw = mint("RS384", &rsa, &header("RS384", &rsa.kid), &claims());
    let e = expect_err(verify_default(&raw));
    assert_eq!(
        e,
        TokenError::KeyUnusable(KeyUseError::AlgMismatch {
            alg: Alg::RS384,
            jwk_alg: "RS256".into()
        })
    );
    assert_eq!(e.reason(), "key_alg_mismatch");
}

// --- kid -------------------------------------------------------------------------------------

/// UnknownKidToken: header `{"alg":"EdDSA","kid":"nope"}`: one JWKS fetch, then `UnknownKid`.
#[test]
fn unknown_kid() {
    let k = eddsa_key();
    let raw = mint("EdDSA", &k, &header("EdDSA", "nope"), &claims());
    let ports = idp();
    let e = expect_err(run(&ports, &Engine::new(), &tenant(json!({})), &raw));
    assert_eq!(e, TokenError::UnknownKid { kid: "nope".into() });
    assert_eq!(e.reason(), "unknown_kid");
    assert_eq!(sent_urls(&ports), vec![JWKS_URI.to_string()]);
}

/// KidPathTraversal: `"kid":"../../dev/null"` (and friends): a kid is only ever a lookup key in
/// the fetched JWKS; nothing is read or fetched by it.
#[test]
fn kid_path_traversal_is_just_an_unknown_kid() {
    let k = eddsa_key();
    for kid in [
        "../../dev/null",
        "/etc/passwd",
        "..\\..\\windows\\win.ini",
        "' OR 1=1 --",
        "https://evil.example/jwks.json",
    ] {
        let raw = mint("EdDSA", &k, &header("EdDSA", kid), &claims());
        let ports = idp();
        let e = expect_err(run(&ports, &Engine::new(), &tenant(json!({})), &raw));
        assert_eq!(e, TokenError::UnknownKid { kid: kid.into() }, "{kid}");
        assert_eq!(sent_urls(&ports), vec![JWKS_URI.to_string()], "{kid}");
    }
}

/// LongKid: a 5,000-character kid is reported truncated to 64 characters (log hygiene).
#[test]
fn long_kid_is_truncated_in_the_error() {
    let k = eddsa_key();
    let kid = "k".repeat(5000);
    let raw = mint("EdDSA", &k, &header("EdDSA", &kid), &claims());
    let e = expect_err(verify_default(&raw));
    assert_eq!(
        e,
        TokenError::UnknownKid {
            kid: "k".repeat(64)
        }
    );
}
