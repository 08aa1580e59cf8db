//! CORS per tenant and per route through the whole pipeline. The tenant allows its own SPA
//! (`https://app.example.com`); acme's reports routes also allow acme's portal, with cookies.
//! Each test is named by what must not happen.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use orggate::engine::Engine;
use orggate::testing::FakePorts;
use serde_json::{json, Value};

const SPA: &str = "https://app.example.com";
const PORTAL: &str = "https://portal.acme.example";
const REPORT: &str = "http://acme.localhost:8787/api/reports/1";

fn cors_stack() -> FakePorts {
    let ports = stack();
    let mut settings: Value = serde_json::from_str(&dev_kv("settings.json")).unwrap();
    settings["cors"] = json!({"origins": [SPA], "expose_headers": ["x-request-id"]});
    ports.store.put("settings", &settings.to_string());
    let mut org: Value = serde_json::from_str(&dev_kv("org_acme.json")).unwrap();
    for r in org["routes"].as_array_mut().unwrap() {
        if r["id"] == "reports-read" || r["id"] == "reports-write" {
            r["cors"] = json!({"origins": [PORTAL], "methods": ["GET", "POST", "DELETE"],
                "headers": ["authorization", "content-type", "x-trace"], "credentials": true,
                "max_age_s": 120});
        }
    }
    ports.store.put("org:org_acme", &org.to_string());
    ports
}

fn preflight(
    ports: &FakePorts,
    url: &str,
    origin: &str,
    method: &str,
    hdrs: &str,
) -> Vec<(String, String)> {
    let h = send(
        ports,
        &Engine::new(),
        "OPTIONS",
        url,
        &[
            ("origin", origin),
            ("access-control-request-method", method),
            ("access-control-request-headers", hdrs),
        ],
    );
    let r = responded(&h);
    let mut out = vec![(":status".to_string(), r.status.to_string())];
    out.extend(r.headers.iter().cloned());
    out
}

fn get<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// PreflightNeedsToken: a preflight never carries credentials, so it is answered at the edge
/// from the route's policy; the origin never sees it.
#[test]
fn preflights_are_answered_from_the_route_policy_without_a_token() {
    let ports = cors_stack();
    let h = preflight(&ports, REPORT, PORTAL, "DELETE", "Authorization, X-Trace");
    assert_eq!(get(&h, ":status"), Some("204"), "{h:?}");
    assert_eq!(get(&h, "access-control-allow-origin"), Some(PORTAL));
    assert_eq!(
        get(&h, "access-control-allow-methods"),
        Some("GET, POST, DELETE")
    );
    assert_eq!(
        get(&h, "access-control-allow-headers"),
        Some("authorization, x-trace")
    );
    assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(get(&h, "access-control-max-age"), Some("120"));
    assert!(get(&h, "vary").unwrap().contains("Origin"));
}

/// PreflightFromAnyone: an origin, method or header the route does not allow gets 403 without
/// CORS headers (the browser then never sends the real request); the org rule's policy replaces
/// the tenant's, so the tenant SPA is not allowed on acme's reports.
#[test]
fn preflights_outside_the_policy_are_refused_without_cors_headers() {
    let ports = cors_stack();
    for (origin, method, hdrs) in [
        ("https://evil.example", "GET", ""),
        ("null", "GET", ""),
        (SPA, "GET", ""),
        (PORTAL, "PATCH", ""),
        (PORTAL, "GET", "x-admin-override"),
    ] {
        let h = preflight(&ports, REPORT, origin, method, hdrs);
        assert_eq!(get(&h, ":status"), Some("403"), "{origin} {method} {hdrs}");
        assert!(
            !h.iter().any(|(n, _)| n.starts_with("access-control-")),
            "{origin} {method} {hdrs}: {h:?}"
        );
    }
}

/// SpaSeesOpaqueError: the 401 (no token) and the 403 (missing permission) reach an allowed
/// origin with CORS headers, and `WWW-Authenticate` is readable.
#[test]
fn refusals_carry_cors_headers_for_allowed_origins() {
    let ports = cors_stack();
    let engine = Engine::new();
    let h = send(&ports, &engine, "GET", REPORT, &[("origin", PORTAL)]);
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(r.get_header("access-control-allow-origin"), Some(PORTAL));
    assert_eq!(
        r.get_header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        r.get_header("access-control-expose-headers"),
        Some("WWW-Authenticate")
    );
    let token = bearer(&demo_token(json!({"permissions": []})));
    let h = send(
        &ports,
        &engine,
        "GET",
        REPORT,
        &[("origin", PORTAL), ("authorization", &token)],
    );
    let r = responded(&h);
    assert_eq!(r.status, 403);
    assert_eq!(body(r)["reason"], "missing_requirement");
    assert_eq!(r.get_header("access-control-allow-origin"), Some(PORTAL));
    // Another origin gets the refusal without CORS headers (its page cannot read it).
    let h = send(
        &ports,
        &engine,
        "GET",
        REPORT,
        &[
            ("origin", "https://evil.example"),
            ("authorization", &token),
        ],
    );
    let r = responded(&h);
    assert_eq!(r.get_header("access-control-allow-origin"), None);
    assert_eq!(r.get_header("vary"), Some("Origin"));
}

/// An allowed request is forwarded, and the origin's answer gets the CORS headers (and `Vary:
/// Origin` besides the identity-dependent `Vary`).
#[test]
fn forwarded_answers_carry_cors_headers() {
    let ports = cors_stack();
    let engine = Engine::new();
    let token = bearer(&demo_token(json!({})));
    let f = forwarded(&send(
        &ports,
        &engine,
        "GET",
        REPORT,
        &[("origin", PORTAL), ("authorization", &token)],
    ));
    assert_eq!(
        get(&f.response_headers, "access-control-allow-origin"),
        Some(PORTAL)
    );
    let vary: Vec<&str> = header_values(&f.response_headers, "vary");
    assert_eq!(vary, vec!["Cookie, Authorization", "Origin"]);
    // Same token from the tenant's SPA on a route without its own policy: the tenant's applies.
    let f = forwarded(&send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/me",
        &[("origin", SPA), ("authorization", &token)],
    ));
    assert_eq!(
        get(&f.response_headers, "access-control-allow-origin"),
        Some(SPA)
    );
    assert_eq!(
        get(&f.response_headers, "access-control-expose-headers"),
        Some("x-request-id")
    );
    assert_eq!(
        get(&f.response_headers, "access-control-allow-credentials"),
        None
    );
}

/// The tenant's policy also answers where there is no org (unknown org: the 404 is readable)
/// and preflights for it; orggate's own login endpoints never carry CORS headers.
#[test]
fn tenant_policy_covers_unknown_orgs_but_not_login_endpoints() {
    let ports = cors_stack();
    let engine = Engine::new();
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://nosuch.localhost:8787/api/x",
        &[("origin", SPA)],
    );
    let r = responded(&h);
    assert_eq!(r.status, 404);
    assert_eq!(r.get_header("access-control-allow-origin"), Some(SPA));
    let h = preflight(
        &ports,
        "http://nosuch.localhost:8787/api/x",
        SPA,
        "GET",
        "authorization",
    );
    assert_eq!(get(&h, ":status"), Some("204"));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/_orggate/login",
        &[("origin", SPA), ("accept", "text/html")],
    );
    assert!(!responded(&h)
        .headers
        .iter()
        .any(|(n, _)| n.starts_with("access-control-")));
}

/// Without any CORS policy an OPTIONS preflight is an ordinary request: it needs a credential
/// like any other, and nothing grants it CORS headers.
#[test]
fn without_a_policy_preflights_are_ordinary_requests() {
    let ports = stack();
    let h = preflight(&ports, REPORT, PORTAL, "GET", "authorization");
    assert_eq!(get(&h, ":status"), Some("403"), "{h:?}");
    assert!(!h.iter().any(|(n, _)| n.starts_with("access-control-")));
}

/// StarWithCredentials: `"*"` with credentials would let every site read members' data with
/// their cookies: the org's document fails closed.
#[test]
fn any_origin_with_credentials_fails_closed() {
    let ports = stack();
    let mut org: Value = serde_json::from_str(&dev_kv("org_acme.json")).unwrap();
    org["routes"][0]["cors"] = json!({"origins": ["*"], "credentials": true});
    ports.store.put("org:org_acme", &org.to_string());
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        REPORT,
        &[("authorization", &bearer(&demo_token(json!({}))))],
    );
    assert_eq!(responded(&h).status, 503);
}

/// PreflightHeadersNeverReachCore: the Worker's shim passes the core a fixed list of headers;
/// it must be the list the core reads (the preflight's `Access-Control-Request-*` included), or
/// preflights in production would look like plain OPTIONS requests.
#[test]
fn the_shim_passes_every_header_the_core_reads() {
    let shim = std::fs::read_to_string("src/edge/js/shim.js").unwrap();
    let start = shim.find("const FIXED = [").expect("FIXED in shim.js") + "const FIXED = [".len();
    let end = start + shim[start..].find("];").unwrap();
    let js: Vec<String> = shim[start..end]
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(js, orggate::wire::FIXED_HEADERS.to_vec());
}
