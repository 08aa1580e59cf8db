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
    sealed_session(
        "acme",
        &json!({"org": "org_acme", "at": token, "exp": NOW + 3600}),
    )
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

/// SiblingHostRidesOnSession (issue 14): a page on globex's host makes the browser send acme's
/// `SameSite=Lax` session cookie to acme's API. Fetch Metadata says `same-site`; every kind of
/// subresource request is refused with 403 `cross_site_request` (branded HTML for a browser
/// asking for it), and the origin never sees the request.
#[test]
fn sibling_host_subresource_requests_on_a_session_are_refused() {
    let ports = stack();
    let engine = Engine::new();
    let cookie = session_cookie(&demo_token(json!({})));
    let url = "http://acme.localhost:8787/api/reports/1";
    for (what, extra) in [
        (
            "fetch credentials no-cors",
            vec![("sec-fetch-mode", "no-cors"), ("sec-fetch-dest", "empty")],
        ),
        (
            "fetch credentials cors",
            vec![
                ("sec-fetch-mode", "cors"),
                ("sec-fetch-dest", "empty"),
                ("origin", "http://globex.localhost:8787"),
            ],
        ),
        (
            "img",
            vec![("sec-fetch-mode", "no-cors"), ("sec-fetch-dest", "image")],
        ),
        (
            "iframe object",
            vec![("sec-fetch-mode", "navigate"), ("sec-fetch-dest", "object")],
        ),
    ] {
        let mut h = vec![("cookie", cookie.as_str()), ("sec-fetch-site", "same-site")];
        h.extend(extra.iter().copied());
        let out = send(&ports, &engine, "GET", url, &h);
        let r = responded(&out);
        assert_eq!(r.status, 403, "{what}");
        // JSON for subresources; a navigation into <object> asks for HTML and gets the page.
        assert!(
            String::from_utf8_lossy(&r.body).contains("cross_site_request"),
            "{what}"
        );
        assert_eq!(out.log.org.as_deref(), Some("org_acme"));
    }
    // A browser navigating (HTML wanted) to a refused subresource gets the branded page.
    let out = send(
        &ports,
        &engine,
        "GET",
        url,
        &[
            ("cookie", cookie.as_str()),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-mode", "no-cors"),
            ("sec-fetch-dest", "iframe"),
        ],
    );
    let r = responded(&out);
    assert_eq!(r.status, 403);
    assert!(one_header(&r.headers, "content-type").starts_with("text/html"));
    let html = String::from_utf8_lossy(&r.body);
    assert!(html.contains("Acme Corporation"), "branded: {html}");
}

/// TopLevelLinkFromSibling: a plain link from globex's page to acme is a top-level GET
/// navigation and must keep working; the user arrives signed in.
#[test]
fn top_level_navigation_from_a_sibling_host_is_allowed() {
    let ports = stack();
    let engine = Engine::new();
    let cookie = session_cookie(&demo_token(json!({})));
    let out = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/1",
        &[
            ("cookie", cookie.as_str()),
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-dest", "document"),
        ],
    );
    let f = forwarded(&out);
    assert_eq!(one_header(&f.headers, "x-orggate-subject"), "auth0|alice");
}

/// CrossSiteWebSocketHijacking: a handshake carrying acme's cookie from globex's page (Chromium
/// sends no Fetch Metadata on handshakes, only `Origin`) is refused; the same handshake from
/// acme's own origin is forwarded with the upgrade intact and the identity headers added; a
/// handshake with a bearer token (no ambient credential) is not subject to the check.
#[test]
fn websocket_handshake_from_another_org_origin_is_refused() {
    let ports = stack();
    let engine = Engine::new();
    let token = demo_token(json!({}));
    let cookie = session_cookie(&token);
    let url = "http://acme.localhost:8787/api/reports/live";
    let ws = |origin: &'static str| {
        vec![
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("origin", origin),
        ]
    };
    let mut h = ws("http://globex.localhost:8787");
    h.push(("cookie", cookie.as_str()));
    let out = send(&ports, &engine, "GET", url, &h);
    let r = responded(&out);
    assert_eq!(r.status, 403);
    assert_eq!(body(r)["reason"], "cross_site_request");

    let mut h = ws("http://acme.localhost:8787");
    h.push(("cookie", cookie.as_str()));
    let out = send(&ports, &engine, "GET", url, &h);
    let f = forwarded(&out);
    assert_eq!(one_header(&f.headers, "upgrade"), "websocket");
    assert_eq!(
        one_header(&f.headers, "sec-websocket-key"),
        "dGhlIHNhbXBsZSBub25jZQ=="
    );
    assert_eq!(one_header(&f.headers, "x-orggate-subject"), "auth0|alice");
    assert_eq!(header_values(&f.headers, "x-orggate-assertion").len(), 1);

    let auth = bearer(&token);
    let mut h = ws("http://globex.localhost:8787");
    h.push(("authorization", auth.as_str()));
    let out = send(&ports, &engine, "GET", url, &h);
    forwarded(&out);

    // No credential at all: 401, never forwarded.
    let out = send(
        &ports,
        &engine,
        "GET",
        url,
        &ws("http://acme.localhost:8787"),
    );
    assert_eq!(responded(&out).status, 401);
}

/// CrossSiteOptOutTooWide: a route's `cross_site_origins` admits exactly the origins it names
/// (for CORS use), never an `<img>` (no Origin) or another sibling.
#[test]
fn cross_site_origins_opt_out_admits_only_listed_origins() {
    let ports = stack();
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string("dev/kv/org_acme.json").unwrap()).unwrap();
    org["routes"][0]["cross_site_origins"] = json!(["http://portal.localhost:8787"]);
    ports.store.put("org:org_acme", &org.to_string());
    let engine = Engine::new();
    let cookie = session_cookie(&demo_token(json!({})));
    let url = "http://acme.localhost:8787/api/reports/1";
    let send_from = |origin: Option<&'static str>| {
        let mut h = vec![
            ("cookie", cookie.as_str()),
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-mode", "cors"),
        ];
        if let Some(o) = origin {
            h.push(("origin", o));
        }
        send(&ports, &engine, "GET", url, &h)
    };
    forwarded(&send_from(Some("http://portal.localhost:8787")));
    assert_eq!(
        responded(&send_from(Some("http://globex.localhost:8787"))).status,
        403
    );
    assert_eq!(responded(&send_from(None)).status, 403);
    // Bad config is refused at load with the field's path.
    let mut bad = org.clone();
    bad["routes"][0]["cross_site_origins"] = json!(["https://*.example.com"]);
    let err = orggate::org::policy::OrgPolicy::parse(&bad.to_string()).unwrap_err();
    assert_eq!(err.path, "$.routes[0].cross_site_origins[0]");
}

/// StringPermissionsCoerced (issue 10 §5): a token whose `permissions` is the string
/// `"read:reports admin"` used to be split on spaces and reach `/admin/*` with `admin`. Claims:
/// `{"org_id":"org_acme","permissions":"read:reports admin",...}`. It is refused whole: 401
/// `invalid_claim`, on every route, before any rule is consulted.
#[test]
fn string_permissions_claim_is_refused_not_split() {
    let ports = stack();
    let engine = Engine::new();
    let token = demo_token(json!({"permissions": "read:reports admin"}));
    for path in ["/admin/users", "/api/reports/1"] {
        let h = send(
            &ports,
            &engine,
            "GET",
            &format!("http://acme.localhost:8787{path}"),
            &[("authorization", &bearer(&token))],
        );
        let r = responded(&h);
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(body(r)["reason"], "invalid_claim");
        assert!(header_values(&r.headers, "www-authenticate")
            .iter()
            .any(|v| v.starts_with("Bearer") && v.contains("invalid_token")));
    }
}

/// NumericOrgIdBecomesPersonal: `org_id: 123` is not "no org claim"; on an org that allows
/// personal accounts it must not pass as a personal account either.
#[test]
fn non_string_org_id_is_refused_not_treated_as_absent() {
    let ports = stack();
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string("dev/kv/org_acme.json").unwrap()).unwrap();
    org["allow_personal_accounts"] = json!(true);
    ports.store.put("org:org_acme", &org.to_string());
    let engine = Engine::new();
    let token = demo_token(json!({"org_id": 123, "org_name": null}));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/me",
        &[("authorization", &bearer(&token))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(body(r)["reason"], "invalid_claim");
}

/// BoundTokenAsBearer (RFC 9449 §7.1, RFC 8705 §3): an access token bound to a DPoP key
/// (`cnf.jkt`) or a client certificate (`cnf.x5t#S256`), stolen and replayed as a plain Bearer
/// token, is refused: 401 `sender_constrained_token`, and it is not remembered as verified.
#[test]
fn sender_constrained_token_presented_as_bearer_is_refused() {
    let ports = stack();
    let engine = Engine::new();
    for cnf in [
        json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}),
    ] {
        let token = demo_token(json!({ "cnf": cnf }));
        for _ in 0..2 {
            let h = send(
                &ports,
                &engine,
                "GET",
                "http://acme.localhost:8787/api/reports/1",
                &[("authorization", &bearer(&token))],
            );
            let r = responded(&h);
            assert_eq!(r.status, 401, "{cnf}");
            assert_eq!(body(r)["reason"], "sender_constrained_token");
            assert_eq!(engine.verified_len(), 0, "bound tokens are not cached");
        }
    }
}

/// LogoutCsrfOldBrowser: a browser that sends no Fetch Metadata is asked too when it has a
/// session; the question's link carries a token bound to that session, which signs out, and a
/// forged or missing token does not.
#[test]
fn logout_without_fetch_metadata_needs_the_session_token() {
    let ports = stack();
    let engine = Engine::new();
    let cookie = session_cookie(&demo_token(json!({})));
    let ask = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/_orggate/logout?everywhere=1",
        &[("cookie", &cookie), ("accept", "text/html")],
    );
    let r = responded(&ask);
    assert_eq!(r.status, 200);
    let html = String::from_utf8_lossy(&r.body).to_string();
    let href = html
        .split("href=\"")
        .nth(1)
        .and_then(|h| h.split('"').next())
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        href.contains("confirm=") && href.contains("everywhere=1"),
        "{href}"
    );
    for forged in [
        "/_orggate/logout?confirm=AAAA&everywhere=1",
        "/_orggate/logout?everywhere=1",
    ] {
        let out = send(
            &ports,
            &engine,
            "GET",
            &format!("http://acme.localhost:8787{forged}"),
            &[("cookie", &cookie), ("accept", "text/html")],
        );
        assert_eq!(responded(&out).status, 200, "{forged}: still asking");
    }
    let out = send(
        &ports,
        &engine,
        "GET",
        &format!("http://acme.localhost:8787{href}"),
        &[("cookie", &cookie), ("accept", "text/html")],
    );
    assert_eq!(responded(&out).status, 302, "{:?}", out.log);
}
