//! The pipeline harness: the demo configuration (`dev/kv/*.json`) in fake KV, the demo IdP
//! scripted (discovery, JWKS), and helpers to send a request through `orggate::app::handle` and
//! look at what came out. Used by `tests/pipeline.rs` and `tests/security.rs`.

use super::*;
use orggate::app::Handled;
use orggate::driver;
use orggate::engine::Engine;
use orggate::http::{Outcome, RequestView, ResponseView, Upstream};
use orggate::testing::FakePorts;
use serde_json::{json, Value};
use std::cell::RefCell;

pub const DEMO_ISS: &str = "http://127.0.0.1:9000";
pub const DEMO_JWKS: &str = "http://127.0.0.1:9000/jwks";
pub const ORIGIN: &str = "http://127.0.0.1:9100";
pub const RAY: &str = "ray-0001";
/// The assertion signing seed (`ASSERTION_KEY`), 32 bytes of 7.
pub const ASSERTION_SEED: [u8; 32] = [7; 32];

pub fn dev_kv(file: &str) -> String {
    let path = format!("{}/dev/kv/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Fake ports at NOW with the demo KV, secrets and IdP.
pub fn stack() -> FakePorts {
    let ports = FakePorts::default();
    ports.clock.set_s(NOW);
    ports.store.put("settings", &dev_kv("settings.json"));
    ports.store.put("org:org_acme", &dev_kv("org_acme.json"));
    ports
        .store
        .put("org:org_globex", &dev_kv("org_globex.json"));
    let aliases: Value = serde_json::from_str(&dev_kv("aliases.json")).unwrap();
    for (k, v) in aliases.as_object().unwrap() {
        ports.store.put(k, v.as_str().unwrap());
    }
    ports.secrets.set("ASSERTION_KEY", &b64(&ASSERTION_SEED));
    ports
        .secrets
        .set("SESSION_KEYS", &format!("k1:{}", b64(&[8u8; 32])));
    ports.secrets.set("OIDC_CLIENT_SECRET", "dev-client-secret");
    ports.http.answer(
        &format!("{DEMO_ISS}/.well-known/openid-configuration"),
        200,
        &json!({
            "issuer": DEMO_ISS,
            "authorization_endpoint": format!("{DEMO_ISS}/authorize"),
            "token_endpoint": format!("{DEMO_ISS}/oauth/token"),
            "jwks_uri": DEMO_JWKS,
        })
        .to_string(),
        &[],
    );
    ports.http.answer(
        DEMO_JWKS,
        200,
        &published_jwks(),
        &[("cache-control", "max-age=600")],
    );
    ports
}

pub fn demo_claims(patch: Value) -> Value {
    let mut c = json!({
        "iss": DEMO_ISS,
        "aud": "https://api.orggate.test",
        "sub": "auth0|alice",
        "azp": "spa-client",
        "email": "alice@acme.test",
        "iat": NOW - 10,
        "exp": NOW + 600,
        "org_id": "org_acme",
        "org_name": "acme",
        "permissions": ["read:reports"],
    });
    merge(&mut c, patch);
    c
}

pub fn demo_token(patch: Value) -> String {
    let k = eddsa_key();
    mint("EdDSA", &k, &header("EdDSA", &k.kid), &demo_claims(patch))
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

thread_local! {
    /// The headers of the last request [`send`] made, so [`forwarded`] can show what the origin
    /// receives (the forward is a list of edits on the incoming headers).
    static LAST_HEADERS: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

/// One request through the real pipeline (`orggate::driver::run`, fake ports).
pub fn send(
    ports: &FakePorts,
    engine: &Engine,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Handled {
    let mut h: Vec<(&str, &str)> = vec![("cf-ray", RAY)];
    h.extend_from_slice(headers);
    let req = RequestView::new(method, url, &h);
    LAST_HEADERS.with(|l| *l.borrow_mut() = req.headers.clone());
    driver::run(ports, engine, req)
}

/// What the origin receives for a forwarded request.
#[derive(Debug, Clone)]
pub struct Forwarded {
    pub upstream: Upstream,
    pub url: String,
    /// The incoming headers with the forward's edits applied.
    pub headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
}

#[track_caller]
pub fn forwarded(h: &Handled) -> Forwarded {
    match &h.outcome {
        Outcome::Forward(f) => Forwarded {
            upstream: f.upstream.clone(),
            url: f.url.clone(),
            headers: LAST_HEADERS.with(|l| f.apply(&l.borrow())),
            response_headers: f.response_headers.clone(),
        },
        Outcome::Respond(r) => panic!(
            "expected a forward, got {} {} (log {:?})",
            r.status,
            String::from_utf8_lossy(&r.body),
            h.log
        ),
    }
}

#[track_caller]
pub fn responded(h: &Handled) -> &ResponseView {
    match &h.outcome {
        Outcome::Respond(r) => r,
        Outcome::Forward(f) => panic!("expected a response, got a forward to {}", f.url),
    }
}

pub fn body(r: &ResponseView) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {}",
            String::from_utf8_lossy(&r.body)
        )
    })
}

pub fn header_values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

pub fn one_header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    let v = header_values(headers, name);
    assert_eq!(v.len(), 1, "header {name}: {v:?} in {headers:?}");
    v[0]
}

// --- allowed ---------------------------------------------------------------------------------

/// A session cookie for `org` (e.g. `"acme"`) holding the session document `sess`, sealed with
/// the test keyring (`SESSION_KEYS`): `orggate_s_{org}=…`.
pub fn sealed_session(org: &str, sess: &Value) -> String {
    let ring = orggate::session::Keyring::parse(&format!("k1:{}", b64(&[8u8; 32]))).unwrap();
    let aad = format!("session\0org_{org}");
    let sealed =
        orggate::session::seal(&ring, aad.as_bytes(), sess.to_string().as_bytes(), [3; 12])
            .unwrap();
    format!("orggate_s_{org}={sealed}")
}
