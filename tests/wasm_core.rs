//! The sans-IO core compiled to wasm32 and run under node (wasm-bindgen-test-runner): the same
//! pipeline the Worker runs, driven by hand, answering each piece of I/O it names. This is what
//! the Worker's Wasm does between the JS entry's calls, minus the platform: it proves the core
//! runs on wasm32 (no clock, no threads, no panics) and that what crosses the boundary is right.
//!
//! Run: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_USE_JS_SYS=1
//! cargo test --target wasm32-unknown-unknown --test wasm_core` (`make test-wasm`).
#![cfg(target_arch = "wasm32")]

use hmac::{Hmac, Mac};
use orggate::app::{self, Step};
use orggate::engine::Engine;
use orggate::http::{Outcome, RequestView};
use orggate::io::{Answer, Io, PortError};
use orggate::ports::Host;
use serde_json::json;
use sha2::Sha256;
use wasm_bindgen_test::wasm_bindgen_test;

const NOW: u64 = 1_700_000_000;
const SECRET: &str = "a-shared-secret-of-32-bytes-or-more!";

struct TestHost;

impl Host for TestHost {
    fn random(&self, buf: &mut [u8]) -> Result<(), PortError> {
        buf.fill(7);
        Ok(())
    }
    fn secret(&self, name: &str) -> Option<orggate::ports::Secret> {
        (name == "HS_SECRET").then(|| orggate::ports::Secret::new(SECRET))
    }
}

fn kv(key: &str) -> Option<String> {
    match key {
        "settings" => Some(
            json!({
                "version": 1,
                "resolution": {"base_domains": ["localhost"]},
                "issuers": [{"issuer": "https://idp.test/", "audiences": ["api"], "algorithms": ["HS256", "RS256"],
                             "hs256_secret": "HS_SECRET", "jwks_uri": "https://idp.test/jwks"}],
                "routes": [{"id": "reports", "methods": ["GET"], "path": "/api/reports/*", "require": {"permissions": ["read:reports"]}}],
                "origin": "https://origin.test"
            })
            .to_string(),
        ),
        "name:acme" => Some("org_acme".into()),
        "org:org_acme" => Some(json!({"version": 1, "org_id": "org_acme", "name": "acme"}).to_string()),
        _ => None,
    }
}

fn b64(b: &[u8]) -> String {
    orggate::b64::encode(b)
}

fn hs256_token(claims: serde_json::Value) -> String {
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(input.as_bytes());
    format!("{input}.{}", b64(&m.finalize().into_bytes()))
}

fn claims(perms: &[&str]) -> serde_json::Value {
    json!({"iss": "https://idp.test/", "aud": "api", "sub": "u1", "iat": NOW - 5, "exp": NOW + 300,
           "org_id": "org_acme", "permissions": perms})
}

/// Steps the core to a decision, answering KV from [`kv`]; returns the outcome and the I/O kinds
/// it needed, in order.
fn run(engine: &Engine, auth: &str) -> (Outcome, Vec<&'static str>) {
    let req = RequestView::new(
        "GET",
        "https://acme.localhost/api/reports/1",
        &[("authorization", auth), ("cf-ray", "r1")],
    );
    let mut ex = app::begin(engine, &TestHost, req, orggate::time::UnixSeconds::new(NOW));
    let mut kinds = Vec::new();
    loop {
        match app::step(engine, &TestHost, &mut ex) {
            Step::Done(h) => return (h.outcome, kinds),
            Step::Need(io) => {
                kinds.push(io.kind());
                let answer = match &io {
                    Io::Kv { key } => Answer::Kv(Ok(kv(key))),
                    other => panic!("unexpected I/O {other:?}"),
                };
                ex.io.record(io, answer);
            }
            Step::NeedHeaders(h) => panic!("headers {h:?}"),
        }
    }
}

#[wasm_bindgen_test]
fn a_member_is_forwarded_and_a_repeat_needs_no_io() {
    let engine = Engine::new();
    let auth = format!("Bearer {}", hs256_token(claims(&["read:reports"])));
    let (out, kinds) = run(&engine, &auth);
    assert_eq!(
        kinds,
        vec!["kv", "kv", "kv", "kv", "kv"],
        "settings, name, org, then the tenant's and the org's revocation sets"
    );
    let Outcome::Forward(f) = out else {
        panic!("expected a forward, got {out:?}")
    };
    assert_eq!(f.url, "https://origin.test/api/reports/1");
    assert!(f
        .identity
        .iter()
        .any(|(k, v)| k == "x-orggate-org-id" && v == "org_acme"));
    let (again, kinds) = run(&engine, &auth);
    assert!(kinds.is_empty(), "warm: one call, no I/O");
    assert!(matches!(again, Outcome::Forward(_)));
}

#[wasm_bindgen_test]
fn a_missing_permission_is_refused_with_what_is_missing() {
    let engine = Engine::new();
    let auth = format!("Bearer {}", hs256_token(claims(&["other"])));
    let (out, _) = run(&engine, &auth);
    let Outcome::Respond(r) = out else {
        panic!("expected a refusal")
    };
    assert_eq!(r.status, 403);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["missing"], json!(["permission:read:reports"]));
}

/// An RS256 token makes the core fetch the JWKS and then name the signature check, which is
/// the host's (WebCrypto) to make: the request the JS entry receives carries the key as a JWK,
/// the signature and the signing input.
#[wasm_bindgen_test]
fn an_rs256_token_names_its_signature_check_for_the_host() {
    let engine = Engine::new();
    let rsa = json!({"kty": "RSA", "kid": "k1", "e": "AQAB",
        "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"});
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"RS256","kid":"k1"}"#),
        b64(claims(&["read:reports"]).to_string().as_bytes())
    );
    let token = format!("{input}.{}", b64(&[5u8; 256]));
    let req = RequestView::new(
        "GET",
        "https://acme.localhost/api/reports/1",
        &[("authorization", &format!("Bearer {token}"))],
    );
    let mut ex = app::begin(
        &engine,
        &TestHost,
        req,
        orggate::time::UnixSeconds::new(NOW),
    );
    let check = loop {
        match app::step(&engine, &TestHost, &mut ex) {
            Step::Need(Io::Verify(c)) => break c,
            Step::Need(io) => {
                let a = match &io {
                    Io::Kv { key } => Answer::Kv(Ok(kv(key))),
                    Io::Fetch { request, .. } if request.url == "https://idp.test/jwks" => {
                        Answer::Fetch(Ok(orggate::http::HttpResponse {
                            status: 200,
                            headers: vec![],
                            body: json!({"keys": [rsa]}).to_string().into_bytes(),
                        }))
                    }
                    other => panic!("unexpected {other:?}"),
                };
                ex.io.record(io, a);
            }
            other => panic!("expected a signature check, got {other:?}"),
        }
    };
    let wire = orggate::wire::verify_request(9, &check);
    let f: Vec<&str> = wire.splitn(7, '\0').collect();
    assert_eq!(&f[..3], &["V", "9", "RS256"]);
    assert!(f[4].starts_with(r#"{"kty":"RSA","n":"ofgW"#), "{}", f[4]);
    assert_eq!(f[6], input, "the signing input, last");
    // The host says the signature is bad: 401, never a forward.
    ex.io
        .record(Io::Verify(check), orggate::wire::verify_answer("0"));
    match app::step(&engine, &TestHost, &mut ex) {
        Step::Done(h) => match h.outcome {
            Outcome::Respond(r) => assert_eq!(r.status, 401),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}
