//! Regression tests for the security review's findings, each through the whole pipeline
//! (`orggate::app::handle`, fake ports, the demo configuration). Each test is named by the attack
//! it stops.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;
use orggate::engine::Engine;
use orggate::http::Outcome;
use serde_json::{json, Value};

fn settings_with(patch: impl FnOnce(&mut Value)) -> String {
    let mut s: Value =
        serde_json::from_str(&std::fs::read_to_string("dev/kv/settings.json").unwrap()).unwrap();
    patch(&mut s);
    s.to_string()
}

/// ForeignIdpMintsForOtherOrgs: a second issuer trusted only for org_globex signs a token naming
/// org_acme with admin rights. Claims:
/// `{"iss":"http://127.0.0.1:9000","org_id":"org_acme","permissions":["admin","read:reports"],...}`
/// with the demo issuer restricted to `orgs: ["org_globex"]`: acme refuses it.
#[test]
fn issuer_restricted_to_one_org_cannot_speak_for_another() {
    let ports = stack();
    ports.store.put(
        "settings",
        &settings_with(|s| s["issuers"][0]["orgs"] = json!(["org_globex"])),
    );
    let engine = Engine::new();
    let token = demo_token(json!({"permissions": ["admin", "read:reports"]}));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/1",
        &[("authorization", &bearer(&token))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(body(r)["reason"], "issuer_not_allowed");
    // The same token shape for globex passes the issuer check (and meets globex's own rules).
    let token = demo_token(
        json!({"org_id": "org_globex", "org_name": "globex", "permissions": ["reports:view"]}),
    );
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://globex.localhost:8787/api/reports/1",
        &[("authorization", &bearer(&token))],
    );
    assert!(matches!(h.outcome, Outcome::Forward(_)), "{:?}", h.log);
}

/// An org that lists its issuers refuses every other issuer, even one trusted for all orgs.
#[test]
fn org_issuer_allowlist_is_enforced() {
    let ports = stack();
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string("dev/kv/org_acme.json").unwrap()).unwrap();
    org["issuers"] = json!(["https://login.acme.example"]);
    ports.store.put("org:org_acme", &org.to_string());
    let engine = Engine::new();
    let token = demo_token(json!({}));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/1",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(body(responded(&h))["reason"], "issuer_not_allowed");
}

/// MethodFallsToBroaderRule: acme's `/api/reports/*` lists GET/HEAD and POST/PUT/DELETE; a base
/// `/api/*` rule only asks for `authenticated`. A read-only token's PATCH must not fall through to
/// `/api/*`: the most specific pattern decides which methods exist.
#[test]
fn method_missing_from_specific_rule_does_not_fall_back_to_broader_rule() {
    let ports = stack();
    ports.store.put(
        "settings",
        &settings_with(|s| {
            s["routes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"id": "api", "path": "/api/*", "require": "authenticated"}))
        }),
    );
    let engine = Engine::new();
    let token = demo_token(json!({}));
    for method in ["PATCH", "OPTIONS", "PROPFIND"] {
        let h = send(
            &ports,
            &engine,
            method,
            "http://acme.localhost:8787/api/reports/1",
            &[("authorization", &bearer(&token))],
        );
        let r = responded(&h);
        assert_eq!(r.status, 403, "{method}");
        let b = body(r);
        assert_eq!(b["reason"], "method_not_allowed", "{method}");
        assert!(
            b["rule"].as_str().unwrap().starts_with("org:reports-"),
            "{b}"
        );
    }
    // GET still works, and the broader rule still serves paths it is the most specific for.
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/1",
        &[("authorization", &bearer(&token))],
    );
    assert!(matches!(h.outcome, Outcome::Forward(_)));
    let h = send(
        &ports,
        &engine,
        "PATCH",
        "http://acme.localhost:8787/api/other",
        &[("authorization", &bearer(&token))],
    );
    assert!(matches!(h.outcome, Outcome::Forward(_)), "{:?}", h.log);
}

/// RoutingOverrideHeaders and UnderscoreIdentityHeaders: an anonymous request to a public route
/// carries headers that some origins route or authorize on; none reach the origin.
#[test]
fn routing_override_and_underscore_identity_headers_are_stripped() {
    let ports = stack();
    let engine = Engine::new();
    let sneaky = [
        ("x-original-url", "/admin/users/1"),
        ("X-Rewrite-URL", "/admin"),
        ("x-http-method-override", "DELETE"),
        ("x-method-override", "DELETE"),
        ("x-http-method", "DELETE"),
        ("x-forwarded-host", "globex.localhost"),
        ("forwarded", "host=globex.localhost"),
        ("x_orggate_org_id", "org_globex"),
        ("X_ORGGATE_PERMISSIONS", "admin"),
        ("x-orggate_membership", "member"),
    ];
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/public/x",
        &sneaky,
    );
    let f = forwarded(&h);
    for (name, _) in sneaky {
        assert!(
            f.headers.iter().all(|(n, _)| !n.eq_ignore_ascii_case(name)),
            "{name} reached the origin: {:?}",
            f.headers
        );
    }
}

/// PersonalAccountLooksLikeMember: a token with no org claim on an org that allows personal
/// accounts is forwarded marked `membership: personal`, without permissions or scopes.
#[test]
fn personal_accounts_are_marked_and_carry_no_rights() {
    let ports = stack();
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string("dev/kv/org_acme.json").unwrap()).unwrap();
    org["allow_personal_accounts"] = json!(true);
    org["routes"].as_array_mut().unwrap().push(
        json!({"id": "scoped", "path": "/api/scoped", "require": {"scopes": ["write:reports"]}}),
    );
    ports.store.put("org:org_acme", &org.to_string());
    let engine = Engine::new();
    let token = demo_token(
        json!({"org_id": null, "org_name": null, "scope": "write:reports", "permissions": ["admin"]}),
    );
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/me",
        &[("authorization", &bearer(&token))],
    );
    let f = forwarded(&h);
    assert_eq!(one_header(&f.headers, "x-orggate-membership"), "personal");
    assert!(
        header_values(&f.headers, "x-orggate-permissions").is_empty(),
        "{:?}",
        f.headers
    );
    // Scopes do not carry either: the scope-gated route refuses.
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/scoped",
        &[("authorization", &bearer(&token))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 403);
    assert_eq!(body(r)["missing"], json!(["scope:write:reports"]));
}

/// A member is marked as one.
#[test]
fn members_are_marked_member() {
    let ports = stack();
    let engine = Engine::new();
    let token = demo_token(json!({}));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/1",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(
        one_header(&forwarded(&h).headers, "x-orggate-membership"),
        "member"
    );
}

/// A session cookie for acme holding `token`, sealed with the test keyring (`SESSION_KEYS`).
fn session_cookie(token: &str) -> String {
    let ring = orggate::session::Keyring::parse(&format!("k1:{}", b64(&[8u8; 32]))).unwrap();
    let sess = json!({"org": "org_acme", "at": token, "exp": NOW + 3600});
    let sealed = orggate::session::seal(
        &ring,
        b"session\0org_acme",
        sess.to_string().as_bytes(),
        [3; 12],
    )
    .unwrap();
    format!("orggate_s_acme={sealed}")
}

/// CrossSiteWriteOnSession: a session cookie rides on a POST from a sibling subdomain; without
/// `Sec-Fetch-Site: same-origin` or a matching `Origin`, the write is refused. The same request
/// from the page's own origin passes, and bearer-token APIs are unaffected.
#[test]
fn cross_site_writes_on_a_session_are_refused() {
    let ports = stack();
    let engine = Engine::new();
    let token = demo_token(json!({"permissions": ["read:reports", "write:reports"]}));
    let cookie = session_cookie(&token);
    let url = "http://acme.localhost:8787/api/reports/1";
    for extra in [
        vec![],
        vec![("sec-fetch-site", "same-site")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "http://evil.localhost:8787")],
    ] {
        let mut h = vec![("cookie", cookie.as_str())];
        h.extend(extra.iter().copied());
        let out = send(&ports, &engine, "POST", url, &h);
        let r = responded(&out);
        assert_eq!(r.status, 403, "{extra:?}");
        assert_eq!(body(r)["reason"], "cross_site_request");
    }
    for extra in [
        ("sec-fetch-site", "same-origin"),
        ("origin", "http://acme.localhost:8787"),
    ] {
        let out = send(
            &ports,
            &engine,
            "POST",
            url,
            &[("cookie", cookie.as_str()), extra],
        );
        assert!(
            matches!(out.outcome, Outcome::Forward(_)),
            "{extra:?}: {:?}",
            out.log
        );
    }
    let out = send(
        &ports,
        &engine,
        "POST",
        url,
        &[("authorization", &bearer(&token))],
    );
    assert!(matches!(out.outcome, Outcome::Forward(_)));
    // Reads on a session need no origin check.
    let out = send(&ports, &engine, "GET", url, &[("cookie", cookie.as_str())]);
    assert!(matches!(out.outcome, Outcome::Forward(_)), "{:?}", out.log);
}

/// LogoutCsrf: a cross-site link to /_orggate/logout only shows a confirmation page.
#[test]
fn cross_site_logout_asks_first() {
    let ports = stack();
    let engine = Engine::new();
    let out = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/_orggate/logout",
        &[("sec-fetch-site", "cross-site")],
    );
    let r = responded(&out);
    assert_eq!(r.status, 200);
    assert!(
        String::from_utf8_lossy(&r.body).contains("Do you want to sign out of Acme Corporation?")
    );
    assert!(
        r.headers.iter().all(|(n, _)| n != "set-cookie"),
        "no cookie cleared"
    );
}

/// QueryTokenInOriginLogs: with `allow_query_token`, `?access_token=` authenticates but is not
/// forwarded.
#[test]
fn query_token_is_not_forwarded() {
    let ports = stack();
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string("dev/kv/org_acme.json").unwrap()).unwrap();
    org["allow_query_token"] = json!(true);
    ports.store.put("org:org_acme", &org.to_string());
    let engine = Engine::new();
    let token = demo_token(json!({}));
    let url =
        format!("http://acme.localhost:8787/api/reports/1?year=2024&access_token={token}&q=x");
    let h = send(&ports, &engine, "GET", &url, &[]);
    let f = forwarded(&h);
    assert!(f.url.ends_with("/api/reports/1?year=2024&q=x"), "{}", f.url);
}
