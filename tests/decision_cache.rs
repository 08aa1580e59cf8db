//! The decision cache for repeated credentials, through the whole pipeline: a repeat of a
//! credential in the same scope needs no I/O and no verification, and nothing that would change
//! the decision is ever served from the cache. Each test is named by what must not happen.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;
use orggate::app::{self, Handled, Step};
use orggate::engine::Engine;
use orggate::http::RequestView;
use orggate::testing::FakePorts;
use serde_json::{json, Value};

/// One request through the core, counting the pieces of I/O it needed.
fn send_counting(
    ports: &FakePorts,
    engine: &Engine,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> (Handled, usize) {
    let (h, all, _) = send_counting_verifies(ports, engine, method, url, headers);
    (h, all)
}

/// The same, also counting the signature checks among them.
fn send_counting_verifies(
    ports: &FakePorts,
    engine: &Engine,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> (Handled, usize, usize) {
    let mut h: Vec<(&str, &str)> = vec![("cf-ray", RAY)];
    h.extend_from_slice(headers);
    let req = RequestView::new(method, url, &h);
    let mut ex = app::begin(
        engine,
        ports,
        req,
        orggate::time::UnixSeconds::new(NOW_S.with(|n| n.get())),
    );
    let (mut needs, mut verifies) = (0, 0);
    loop {
        match app::step(engine, ports, &mut ex) {
            Step::Done(h) => return (*h, needs, verifies),
            Step::NeedHeaders(n) => panic!("all headers were passed, yet {n:?}"),
            Step::Need(io) => {
                needs += 1;
                verifies += usize::from(matches!(io, orggate::io::Io::Verify(_)));
                let a = orggate::driver::perform(ports, &io);
                ex.io.record(io, a);
            }
        }
    }
}

thread_local! {
    static NOW_S: std::cell::Cell<u64> = const { std::cell::Cell::new(NOW) };
}

fn at(s: u64, ports: &FakePorts) {
    NOW_S.with(|n| n.set(s));
    ports.clock.set_s(s);
}

const URL: &str = "http://acme.localhost:8787/api/reports/1";

fn acme_with(patch: impl FnOnce(&mut Value)) -> String {
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string("dev/kv/org_acme.json").unwrap()).unwrap();
    patch(&mut org);
    org.to_string()
}

/// RepeatedTokenReverified: the second request with the same token in the same scope is decided
/// without any I/O (no KV, no JWKS, no signature check), with the same identity headers.
#[test]
fn repeat_needs_no_io_and_forwards_the_same_identity() {
    let ports = stack();
    let engine = Engine::new();
    let token = demo_token(json!({}));
    let auth = bearer(&token);
    let (first, n1) = send_counting(&ports, &engine, "GET", URL, &[("authorization", &auth)]);
    assert!(
        n1 >= 3,
        "a cold request needs KV, keys and a signature ({n1})"
    );
    let (second, n2) = send_counting(&ports, &engine, "GET", URL, &[("authorization", &auth)]);
    assert_eq!(n2, 0, "a repeat needs no I/O");
    assert_eq!(engine.decisions_len(), 1);
    // The same request (another path under the same rule) is the same decision.
    let (_, n3) = send_counting(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/2",
        &[("authorization", &auth)],
    );
    assert_eq!(n3, 0);
    let strip = |h: &Handled| {
        let mut f = forwarded(h);
        f.headers.retain(|(k, _)| k != "x-orggate-assertion");
        f.headers
    };
    assert_eq!(strip(&first), strip(&second));
    assert_eq!(second.log.subject.as_deref(), Some("auth0|alice"));
    assert_eq!(second.log.decision, "allow");
}

/// CachedDecisionOutlivesToken: a token cached while valid is refused once it expires (plus
/// leeway), not replayed from the cache.
#[test]
fn expired_token_is_not_served_from_the_cache() {
    let ports = stack();
    let engine = Engine::new();
    let token = demo_token(json!({"exp": NOW + 100}));
    let auth = bearer(&token);
    at(NOW, &ports);
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        URL,
        &[("authorization", &auth)],
    ));
    at(NOW + 100 + 59, &ports);
    let (h, _, verifies) =
        send_counting_verifies(&ports, &engine, "GET", URL, &[("authorization", &auth)]);
    assert_eq!(verifies, 0, "still within leeway: cached");
    forwarded(&h);
    at(NOW + 100 + 60, &ports);
    let (h, _) = send_counting(&ports, &engine, "GET", URL, &[("authorization", &auth)]);
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(body(r)["reason"], "expired");
}

/// CachedDecisionOutlivesConfig: the org tightens the rule (a new permission). The decision
/// cached under the old config version is not reused.
#[test]
fn config_change_is_not_hidden_by_the_cache() {
    let ports = stack();
    let engine = Engine::new();
    let auth = bearer(&demo_token(json!({})));
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        URL,
        &[("authorization", &auth)],
    ));
    ports.store.put(
        "org:org_acme",
        &acme_with(|o| {
            o["routes"][0]["require"] = json!({"permissions": ["read:reports", "audit"]});
        }),
    );
    // After the config TTL the new version is compiled; the cached decision no longer applies.
    at(NOW + 61, &ports);
    let h = send(&ports, &engine, "GET", URL, &[("authorization", &auth)]);
    let r = responded(&h);
    assert_eq!(r.status, 403);
    assert_eq!(body(r)["missing"], json!(["permission:audit"]));
}

/// CachedDecisionOutlivesKey: the IdP drops the key that verified the token. Once the key set is
/// refreshed, the cached decision stops (the key is no longer in a fresh set) and the token is
/// refused.
#[test]
fn rotated_out_key_ends_cached_decisions() {
    let ports = stack();
    let engine = Engine::new();
    let token = demo_token(json!({"exp": NOW + 7200}));
    let auth = bearer(&token);
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        URL,
        &[("authorization", &auth)],
    ));
    ports.http.answer(
        DEMO_JWKS,
        200,
        &jwks_of(&[rs256_key().public()]),
        &[("cache-control", "max-age=600")],
    );
    at(NOW + 601, &ports);
    let h = send(&ports, &engine, "GET", URL, &[("authorization", &auth)]);
    let r = responded(&h);
    assert_eq!(r.status, 401, "{:?}", h.log);
    assert_eq!(body(r)["reason"], "unknown_kid");
}

/// CachedAllowLeaksToOtherRoute: a decision is per (method, rule). The same token is refused on
/// a route it lacks the permission for, and on a method the rule does not cover.
#[test]
fn decisions_do_not_cross_methods_or_rules() {
    let ports = stack();
    let engine = Engine::new();
    let auth = bearer(&demo_token(json!({})));
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        URL,
        &[("authorization", &auth)],
    ));
    let h = send(&ports, &engine, "POST", URL, &[("authorization", &auth)]);
    assert_eq!(responded(&h).status, 403);
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/admin/users/1",
        &[("authorization", &auth)],
    );
    assert_eq!(responded(&h).status, 403);
    // And the refusals are remembered as refusals, with the same reasons.
    let (h, n) = send_counting(&ports, &engine, "POST", URL, &[("authorization", &auth)]);
    assert_eq!(n, 0);
    let r = responded(&h);
    assert_eq!(body(r)["missing"], json!(["permission:write:reports"]));
}

/// CachedAllowLeaksToOtherOrg: the same token on globex is decided for globex, not replayed from
/// acme's entry.
#[test]
fn decisions_do_not_cross_orgs() {
    let ports = stack();
    let engine = Engine::new();
    let auth = bearer(&demo_token(json!({})));
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        URL,
        &[("authorization", &auth)],
    ));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://globex.localhost:8787/api/reports/1",
        &[("authorization", &auth)],
    );
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(body(r)["reason"], "org_mismatch");
}

/// CachedSessionSkipsIsolation: a session decision in the cache does not let a cross-site
/// request through: resource isolation runs before the cache is consulted.
#[test]
fn cached_session_decision_still_checks_isolation() {
    let ports = stack();
    let engine = Engine::new();
    let cookie = sealed_session(
        "acme",
        &json!({"org": "org_acme", "at": demo_token(json!({})), "exp": NOW + 3600}),
    );
    let same = send(
        &ports,
        &engine,
        "GET",
        URL,
        &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
    );
    forwarded(&same);
    assert_eq!(engine.decisions_len(), 1);
    let h = send(
        &ports,
        &engine,
        "GET",
        URL,
        &[
            ("cookie", &cookie),
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-mode", "no-cors"),
        ],
    );
    assert_eq!(responded(&h).status, 403);
}
