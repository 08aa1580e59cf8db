//! Delegated administration through the whole pipeline: the admin API and pages, the org's
//! writer (the fake Durable Object, running the same `admin::state::execute`), KV publication.
//! Each test is named by what must not happen.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;
use orggate::engine::Engine;
use orggate::http::RequestView;
use orggate::testing::FakePorts;
use orggate::time::UnixSeconds;
use serde_json::{json, Value};

const ACME: &str = "http://acme.localhost:8787";
const GLOBEX: &str = "http://globex.localhost:8787";
const RESOLVER: &str = "http://127.0.0.1:9053/dns-query";

fn admin_stack() -> FakePorts {
    let ports = stack();
    let mut settings: Value = serde_json::from_str(&dev_kv("settings.json")).unwrap();
    settings["admin"] = json!({"permission": "admin", "operator_permission": "orggate:operator",
        "dns_resolver": RESOLVER});
    ports.store.put("settings", &settings.to_string());
    ports
}

fn token(org: &str, sub: &str, perms: &[&str]) -> String {
    bearer(&demo_token(
        json!({"org_id": format!("org_{org}"), "org_name": org, "sub": sub,
        "permissions": perms}),
    ))
}

/// A tenant operator: a token that speaks for no org, with the operator permission.
fn operator_token() -> String {
    bearer(&demo_token(
        json!({"sub": "ops|1", "org_id": null, "org_name": null,
        "permissions": ["orggate:operator"]}),
    ))
}

fn alice() -> String {
    token("acme", "auth0|alice", &["read:reports", "admin"])
}

struct Resp {
    status: u16,
    body: Value,
    etag: Option<String>,
    location: Option<String>,
    html: String,
}

fn call(
    ports: &FakePorts,
    engine: &Engine,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Resp {
    let mut h: Vec<(&str, &str)> = vec![("cf-ray", RAY)];
    h.extend_from_slice(headers);
    let mut req = RequestView::new(method, url, &h);
    if let Some(b) = body {
        req = req.with_body(b);
    }
    let out = orggate::driver::run(ports, engine, req);
    let r = responded(&out);
    Resp {
        status: r.status,
        body: serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        etag: r.get_header("etag").map(str::to_string),
        location: r.get_header("location").map(str::to_string),
        html: String::from_utf8_lossy(&r.body).to_string(),
    }
}

fn get_org(ports: &FakePorts, engine: &Engine, auth: &str) -> Resp {
    call(
        ports,
        engine,
        "GET",
        &format!("{ACME}/_orggate/admin/api/org"),
        &[("authorization", auth)],
        None,
    )
}

fn patch(ports: &FakePorts, engine: &Engine, auth: &str, etag: Option<&str>, p: Value) -> Resp {
    let mut h = vec![
        ("authorization", auth),
        ("content-type", "application/json"),
    ];
    if let Some(e) = etag {
        h.push(("if-match", e));
    }
    call(
        ports,
        engine,
        "PATCH",
        &format!("{ACME}/_orggate/admin/api/org"),
        &h,
        Some(p.to_string()),
    )
}

/// LostUpdate: two admins read revision 0; the first write wins, the second gets 412 with the
/// current revision (and nothing of it is applied); a write without If-Match gets 428.
#[test]
fn optimistic_concurrency_never_loses_an_update() {
    let ports = admin_stack();
    let engine = Engine::new();
    let r = get_org(&ports, &engine, &alice());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.etag.as_deref(), Some("\"v0\""));
    assert_eq!(r.body["document"]["display_name"], "Acme Corporation");
    let none = patch(
        &ports,
        &engine,
        &alice(),
        None,
        json!({"display_name": "X"}),
    );
    assert_eq!(none.status, 428);
    let first = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v0\""),
        json!({"display_name": "Acme One"}),
    );
    assert_eq!(
        (first.status, first.etag.as_deref()),
        (200, Some("\"v1\"")),
        "{}",
        first.body
    );
    let second = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v0\""),
        json!({"display_name": "Acme Two"}),
    );
    assert_eq!((second.status, &second.body["revision"]), (412, &json!(1)));
    let kv: Value = serde_json::from_str(&ports.store.peek("org:org_acme").unwrap()).unwrap();
    assert_eq!(kv["display_name"], "Acme One");
    // 50 writes in a row, each on the revision it read: the revision ends at 51, all audited.
    for rev in 1..=50 {
        let r = patch(
            &ports,
            &engine,
            &alice(),
            Some(&format!("\"v{rev}\"")),
            json!({"branding": {"tagline": format!("tagline {rev}")}}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(get_org(&ports, &engine, &alice()).body["revision"], 51);
    assert_eq!(ports.writer.audits.borrow()["org_acme"].len(), 51);
}

/// AdminChangeInvisible: a branding change shows on the login page at once in this isolate, and
/// in another isolate once its copy of the org expires (the config TTL).
#[test]
fn a_branding_change_reaches_the_login_page() {
    let ports = admin_stack();
    let (here, there) = (Engine::new(), Engine::new());
    let login = |e: &Engine| {
        call(
            &ports,
            e,
            "GET",
            &format!("{ACME}/_orggate/login"),
            &[("accept", "text/html")],
            None,
        )
        .html
    };
    assert!(login(&there).contains("--primary: #c2410c"));
    let r = patch(
        &ports,
        &here,
        &alice(),
        Some("\"v0\""),
        json!({"branding": {"colors": {"primary": "#0f766e"}, "logo_url": "https://cdn.acme.example/logo.svg"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(login(&here).contains("--primary: #0f766e"));
    assert!(
        login(&there).contains("--primary: #c2410c"),
        "still within its TTL"
    );
    ports.clock.set_s(NOW + 61);
    let page = login(&there);
    assert!(
        page.contains("--primary: #0f766e") && page.contains("https://cdn.acme.example/logo.svg")
    );
}

/// AdminEditsAnything: an org admin changes only what the issue lets them, routes only tighten,
/// the document stays valid; every refusal names its JSON path and changes nothing.
#[test]
fn org_admins_are_limited_to_their_fields() {
    let ports = admin_stack();
    let engine = Engine::new();
    let mut loose = get_org(&ports, &engine, &alice()).body["document"]["routes"].clone();
    loose.as_array_mut().unwrap().push(
        json!({"id": "org-admin-open", "path": "/admin/*", "require": "public", "loosen": true}),
    );
    for (p, path) in [
        (json!({"org_id": "org_globex"}), "$.org_id"),
        (json!({"issuers": ["https://evil.example"]}), "$.issuers"),
        (json!({"allow_query_token": true}), "$.allow_query_token"),
        (json!({"routes": loose}), "$.routes[4].loosen"),
        (
            json!({"branding": {"colors": {"primary": "blue"}}}),
            "$.branding.colors.primary",
        ),
    ] {
        let r = patch(&ports, &engine, &alice(), Some("\"v0\""), p.clone());
        assert_eq!(
            (r.status, r.body["path"].as_str()),
            (400, Some(path)),
            "{p}: {}",
            r.body
        );
    }
    assert_eq!(ports.writer.writes.get(), 0);
    // A tightening rule under a base rule is fine and both hold: /admin/exports/* needs `admin`
    // (base) and now `export` too.
    let routes = get_org(&ports, &engine, &alice()).body["document"]["routes"].clone();
    let with = |extra: Value| {
        let mut r = routes.clone();
        r.as_array_mut().unwrap().push(extra);
        json!({ "routes": r })
    };
    let export = json!({"id": "org-admin-exports", "path": "/admin/exports/*", "methods": ["GET"],
        "require": {"permissions": ["export"]}});
    let r = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v0\""),
        with(export.clone()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let h = send(
        &ports,
        &engine,
        "GET",
        &format!("{ACME}/admin/exports/1"),
        &[("authorization", &alice())],
    );
    assert_eq!(responded(&h).status, 403);
    assert_eq!(body(responded(&h))["missing"], json!(["permission:export"]));
    assert_eq!(ports.writer.writes.get(), 1);
}

/// PublicInDisguise: where the tenant lets any signed-in member through unmatched paths, an org
/// admin may add an `authenticated` rule there, but not a public one, however it is spelled
/// (`{"public": null}` once read as "public" by serde's enum reading, past a check that compared
/// the JSON with the string "public").
#[test]
fn org_admins_cannot_open_unmatched_paths_to_the_public_in_any_spelling() {
    let ports = admin_stack();
    let mut settings: Value = serde_json::from_str(&ports.store.peek("settings").unwrap()).unwrap();
    settings["unmatched"] = json!("authenticated");
    ports.store.put("settings", &settings.to_string());
    let engine = Engine::new();
    let routes = get_org(&ports, &engine, &alice()).body["document"]["routes"].clone();
    let with = |require: Value| {
        let mut r = routes.clone();
        r.as_array_mut()
            .unwrap()
            .push(json!({"id": "org-admin-internal", "path": "/internal/*", "require": require}));
        json!({ "routes": r })
    };
    for require in [
        json!("public"),
        json!({"public": null}),
        json!({"authenticated": null}),
        json!({}),
    ] {
        let r = patch(
            &ports,
            &engine,
            &alice(),
            Some("\"v0\""),
            with(require.clone()),
        );
        assert_eq!(r.status, 400, "{require}: {}", r.body);
    }
    assert_eq!(ports.writer.writes.get(), 0, "nothing refused was written");
    let h = send(&ports, &engine, "GET", &format!("{ACME}/internal/x"), &[]);
    assert_ne!(responded(&h).status, 200, "no anonymous way in");
    // The same path with a requirement that is not public is the org admin's to add.
    let r = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v0\""),
        with(json!("authenticated")),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

/// OrgAdminOpensUnmatchedPath, OrgAdminShadowsTenantRule, OrgAdminDropsTenantRule: an org admin
/// may not put a rule where no base rule applies (the tenant denies unmatched paths), under a
/// rule the tenant's operators wrote for the org (the more specific one would replace it), nor
/// change or remove those rules; an org admin's own rules are named `org-admin-…` and stay theirs.
#[test]
fn org_admin_rules_cannot_loosen_anything() {
    let ports = admin_stack();
    let engine = Engine::new();
    let routes = get_org(&ports, &engine, &alice()).body["document"]["routes"].clone();
    let with = |extra: Value| {
        let mut r = routes.clone();
        r.as_array_mut().unwrap().push(extra);
        json!({ "routes": r })
    };
    for (rule, path) in [
        (
            json!({"id": "org-admin-open", "path": "/internal/*", "require": "authenticated"}),
            "$.routes[4].path",
        ),
        (
            json!({"id": "org-admin-pub", "path": "/internal/x", "require": "public"}),
            "$.routes[4].path",
        ),
        (
            json!({"id": "org-admin-export", "path": "/api/reports/export", "require": "authenticated"}),
            "$.routes[4].path",
        ),
        (
            json!({"id": "export", "path": "/admin/x/*", "require": "authenticated"}),
            "$.routes[4].id",
        ),
    ] {
        let r = patch(
            &ports,
            &engine,
            &alice(),
            Some("\"v0\""),
            with(rule.clone()),
        );
        assert_eq!(
            (r.status, r.body["path"].as_str()),
            (400, Some(path)),
            "{rule}: {}",
            r.body
        );
    }
    // Removing (or changing) one of the tenant's rules.
    let mut fewer = routes.clone();
    fewer
        .as_array_mut()
        .unwrap()
        .retain(|r| r["id"] != "admin-users");
    let r = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v0\""),
        json!({"routes": fewer}),
    );
    assert_eq!(
        (r.status, r.body["path"].as_str()),
        (400, Some("$.routes")),
        "{}",
        r.body
    );
    assert_eq!(ports.writer.writes.get(), 0, "nothing refused was written");
    // The internal path stays shut.
    let h = send(
        &ports,
        &engine,
        "GET",
        &format!("{ACME}/internal/x"),
        &[("authorization", &alice())],
    );
    assert_eq!(body(responded(&h))["reason"], "no_matching_rule");
    // An admin's own rule can be removed again by an admin.
    let mine = json!({"id": "org-admin-exports", "path": "/admin/exports/*", "require": {"permissions": ["export"]}});
    assert_eq!(
        patch(&ports, &engine, &alice(), Some("\"v0\""), with(mine)).status,
        200
    );
    assert_eq!(
        patch(
            &ports,
            &engine,
            &alice(),
            Some("\"v1\""),
            json!({"routes": routes})
        )
        .status,
        200
    );
}

/// AdminApiOpenToAnyone: every operation × {org admin, member, other org's admin, operator, no
/// credential}. Only acme's admins and operators get through; nobody else writes anything.
#[test]
fn authorization_matrix() {
    let ports = admin_stack();
    let engine = Engine::new();
    ports.http.answer(
        &format!("{RESOLVER}?name=_orggate-challenge.acme.example&type=TXT"),
        200,
        &json!({"Status": 0, "Answer": []}).to_string(),
        &[],
    );
    let member = token("acme", "auth0|dave", &["read:reports"]);
    let globex_admin = token("globex", "auth0|carol", &["admin"]);
    let operator = operator_token();
    let ops: Vec<(&str, &str, Option<Value>)> = vec![
        ("GET", "/_orggate/admin/api/org", None),
        (
            "PATCH",
            "/_orggate/admin/api/org",
            Some(json!({"display_name": "M"})),
        ),
        (
            "POST",
            "/_orggate/admin/api/domains",
            Some(json!({"domain": "acme.example"})),
        ),
        (
            "POST",
            "/_orggate/admin/api/domains/verify",
            Some(json!({"domain": "acme.example"})),
        ),
        ("GET", "/_orggate/admin/api/audit", None),
        (
            "POST",
            "/_orggate/admin/api/revocations",
            Some(json!({"subject": "auth0|x"})),
        ),
    ];
    for (who, auth, expect) in [
        ("member", member.as_str(), Some(403)),
        ("globex admin", globex_admin.as_str(), Some(401)),
        ("no credential", "", Some(401)),
        ("acme admin", alice().leak() as &str, None),
        ("operator", operator.as_str(), None),
    ] {
        for (method, path, body) in &ops {
            let rev = get_org(&ports, &engine, &alice()).body["revision"]
                .as_u64()
                .unwrap();
            let etag = format!("\"v{rev}\"");
            let r = call(
                &ports,
                &engine,
                method,
                &format!("{ACME}{path}"),
                &[("authorization", auth), ("if-match", &etag)],
                body.as_ref().map(Value::to_string),
            );
            match expect {
                Some(s) => assert_eq!(r.status, s, "{who} {method} {path}: {}", r.body),
                // Allowed through; the domain check itself answers 409 (no TXT record yet).
                None => assert!(
                    r.status == 200 || (path.ends_with("/verify") && r.status == 409),
                    "{who} {method} {path}: {} {}",
                    r.status,
                    r.body
                ),
            }
        }
    }
    // Operators and admins act on acme; carol administers globex only.
    let r = call(
        &ports,
        &engine,
        "GET",
        &format!("{GLOBEX}/_orggate/admin/api/org"),
        &[("authorization", &globex_admin)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let audit = &ports.writer.audits.borrow()["org_acme"];
    assert!(audit
        .iter()
        .all(|a| a.actor.subject == "auth0|alice" || a.actor.subject == "ops|1"));
}

/// LostPublish: the writer keeps a change whose KV publication failed and publishes it on the
/// retry (the alarm); in the end its state and KV agree.
#[test]
fn a_failed_publish_is_retried_until_kv_agrees() {
    let ports = admin_stack();
    let engine = Engine::new();
    ports.writer.fail_publish.set(3);
    for (rev, name) in [(0, "One"), (1, "Two")] {
        let r = patch(
            &ports,
            &engine,
            &alice(),
            Some(&format!("\"v{rev}\"")),
            json!({"display_name": name}),
        );
        assert_eq!(r.status, 200);
    }
    let kv = || serde_json::from_str::<Value>(&ports.store.peek("org:org_acme").unwrap()).unwrap();
    assert_eq!(
        kv()["display_name"],
        "Acme Corporation",
        "nothing published yet"
    );
    ports.retry_publish(); // the third failure
    assert_eq!(kv()["display_name"], "Acme Corporation");
    ports.retry_publish();
    assert_eq!(kv()["display_name"], "Two", "in order, up to the last");
    let state = ports.writer.orgs.borrow()["org_acme"].doc.clone().unwrap();
    assert_eq!(Value::Object(state), kv());
}

/// UnverifiedDomainDrivesDiscovery: a domain reaches home-realm discovery only after its TXT
/// record is seen; one another org verified is refused.
#[test]
fn domains_need_their_txt_record() {
    let ports = admin_stack();
    let engine = Engine::new();
    let post = |path: &str, body: Value| {
        call(
            &ports,
            &engine,
            "POST",
            &format!("{ACME}{path}"),
            &[("authorization", &alice())],
            Some(body.to_string()),
        )
    };
    let added = post(
        "/_orggate/admin/api/domains",
        json!({"domain": "Acme.Example"}),
    );
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.body["txt_name"], "_orggate-challenge.acme.example");
    let value = added.body["txt_value"].as_str().unwrap().to_string();
    let dns = format!("{RESOLVER}?name=_orggate-challenge.acme.example&type=TXT");
    ports.http.answer(
        &dns,
        200,
        &json!({"Status": 0, "Answer": [{"type": 16, "data": "\"something-else\""}]}).to_string(),
        &[],
    );
    let r = post(
        "/_orggate/admin/api/domains/verify",
        json!({"domain": "acme.example"}),
    );
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (409, Some("txt_record_not_found"))
    );
    assert!(ports.store.peek("domain:acme.example").is_none());
    // Discovery does not know it.
    let find = |e: &Engine| {
        call(
            &ports,
            e,
            "GET",
            "http://localhost:8787/_orggate/find?q=bob%40acme.example",
            &[("accept", "text/html")],
            None,
        )
    };
    assert_eq!(
        find(&engine).status,
        200,
        "the prompt again, not a redirect"
    );
    ports.http.answer(
        &dns,
        200,
        &json!({"Status": 0, "Answer": [{"type": 16, "data": format!("\"{value}\"")}]}).to_string(),
        &[],
    );
    let r = post(
        "/_orggate/admin/api/domains/verify",
        json!({"domain": "acme.example"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        ports.store.peek("domain:acme.example").as_deref(),
        Some("org_acme")
    );
    let f = find(&Engine::new());
    assert_eq!(f.status, 302);
    assert!(f.location.unwrap().contains("acme"));
    // globex.test is globex's (the demo aliases): acme cannot take it.
    let added = post(
        "/_orggate/admin/api/domains",
        json!({"domain": "globex.test"}),
    );
    let v = added.body["txt_value"].as_str().unwrap().to_string();
    ports.http.answer(
        &format!("{RESOLVER}?name=_orggate-challenge.globex.test&type=TXT"),
        200,
        &json!({"Status": 0, "Answer": [{"type": 16, "data": format!("\"{v}\"")}]}).to_string(),
        &[],
    );
    let r = post(
        "/_orggate/admin/api/domains/verify",
        json!({"domain": "globex.test"}),
    );
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (409, Some("domain_taken"))
    );
    assert_eq!(
        ports.store.peek("domain:globex.test").as_deref(),
        Some("org_globex")
    );
}

fn session(sub: &str, org: &str, perms: &[&str]) -> String {
    let at = demo_token(
        json!({"org_id": format!("org_{org}"), "org_name": org, "sub": sub, "permissions": perms}),
    );
    sealed_session(
        org,
        &json!({"org": format!("org_{org}"), "at": at, "exp": NOW + 3600, "signed_in": NOW - 5}),
    )
}

/// CrossSiteAdminForm: the admin page's forms need their token and a same-origin request; with
/// both, a branding change is saved and the page says so.
#[test]
fn admin_page_forms_need_their_token_and_the_org_origin() {
    let ports = admin_stack();
    let engine = Engine::new();
    let cookie = session("auth0|alice", "acme", &["admin"]);
    let page = call(
        &ports,
        &engine,
        "GET",
        &format!("{ACME}/_orggate/admin"),
        &[
            ("cookie", &cookie),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
        ],
        None,
    );
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Administer Acme Corporation"));
    let csrf = page
        .html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form = |token: &str| {
        format!("csrf={}&revision=0&action=branding&display_name=Acme+Rockets&logo_url=&primary=%23123456&page_background=%23ffffff",
        orggate::http::url_encode(token))
    };
    let post = |body: String, site: &str| {
        call(
            &ports,
            &engine,
            "POST",
            &format!("{ACME}/_orggate/admin"),
            &[
                ("cookie", &cookie),
                ("accept", "text/html"),
                ("sec-fetch-site", site),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            Some(body),
        )
    };
    assert_eq!(post(form("forged"), "same-origin").status, 403);
    assert_eq!(post(form(&csrf), "cross-site").status, 403);
    assert_eq!(post(form(&csrf), "same-site").status, 403);
    assert_eq!(ports.writer.writes.get(), 0);
    let ok = post(form(&csrf), "same-origin");
    assert_eq!(
        (ok.status, ok.location.as_deref()),
        (303, Some("/_orggate/admin?saved=branding"))
    );
    let kv: Value = serde_json::from_str(&ports.store.peek("org:org_acme").unwrap()).unwrap();
    assert_eq!(kv["display_name"], "Acme Rockets");
    // A stale form (revision 0 again) is not applied; the page explains and shows the current values.
    let stale = post(form(&csrf), "same-origin");
    assert_eq!(stale.status, 412);
    assert!(stale.html.contains("Someone else changed these settings"));
    // The audit page lists the change.
    let audit = call(
        &ports,
        &engine,
        "GET",
        &format!("{ACME}/_orggate/admin/audit"),
        &[
            ("cookie", &cookie),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
        ],
        None,
    );
    assert_eq!(audit.status, 200);
    assert!(
        audit.html.contains("$.display_name") && audit.html.contains("Acme Rockets"),
        "{}",
        audit.html
    );
    // bob (not an acme member) is refused the page.
    let bob = session("auth0|bob", "acme", &[]);
    let r = call(
        &ports,
        &engine,
        "GET",
        &format!("{ACME}/_orggate/admin"),
        &[
            ("cookie", &bob),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
        ],
        None,
    );
    assert_eq!(r.status, 403);
}

/// LogoFromAnywhere: with `settings.admin.logo_hosts`, an org admin's logo comes from those
/// hosts or the Worker's own assets; an operator is not limited.
#[test]
fn the_tenant_limits_where_logos_come_from() {
    let ports = admin_stack();
    let mut settings: Value = serde_json::from_str(&ports.store.peek("settings").unwrap()).unwrap();
    settings["admin"]["logo_hosts"] = json!(["cdn.saas.example"]);
    ports.store.put("settings", &settings.to_string());
    let engine = Engine::new();
    let logo = |u: &str| json!({"branding": {"logo_url": u}});
    let r = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v0\""),
        logo("https://tracker.evil.example/pixel.svg"),
    );
    assert_eq!(
        (r.status, r.body["path"].as_str()),
        (400, Some("$.branding.logo_url")),
        "{}",
        r.body
    );
    assert_eq!(ports.writer.writes.get(), 0);
    let r = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v0\""),
        logo("https://CDN.saas.example/acme.svg"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v1\""),
        logo("/_orggate/assets/acme-logo.svg"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let operator = operator_token();
    let r = patch(
        &ports,
        &engine,
        &operator,
        Some("\"v2\""),
        logo("https://brand.acme.example/logo.svg"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

/// OrgAdminPromotesToOperator: the operator permission inside some org's token (an org admin can
/// grant its members any role) is not tenant operator status; a revoked operator is refused.
#[test]
fn operators_speak_for_no_org_and_can_be_revoked() {
    let ports = admin_stack();
    let engine = Engine::new();
    let org_scoped = token("globex", "ops|2", &["orggate:operator"]);
    assert_eq!(get_org(&ports, &engine, &org_scoped).status, 401);
    assert_eq!(get_org(&ports, &engine, &operator_token()).status, 200);
    // The tenant revokes the operator (a tenant-wide not-before for its subject).
    let entry = orggate::revoke::Entry {
        kind: orggate::revoke::Kind::Sub,
        value: "ops|1".into(),
        at: UnixSeconds::new(NOW),
        expires: UnixSeconds::new(NOW).plus(86_400),
    };
    use orggate::ports::StateWriter;
    ports.revoke("*", &[entry], UnixSeconds::new(NOW)).unwrap();
    ports.clock.set_s(NOW + 31);
    let r = get_org(&ports, &engine, &operator_token());
    assert_eq!(
        (r.status, r.body["reason"].as_str()),
        (401, Some("revoked"))
    );
}

/// StaleWriterOverwritesKv: an operator changes acme's document in KV directly (`orggate kv
/// push`); the writer's copy is now stale. An org admin's edit based on the old revision gets
/// 412, the next read shows the operator's change (audited as external), and an edit on it keeps
/// the operator's change.
#[test]
fn a_change_made_in_kv_is_not_overwritten_by_the_writer() {
    let ports = admin_stack();
    let engine = Engine::new();
    let r = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v0\""),
        json!({"display_name": "Acme A"}),
    );
    assert_eq!(r.status, 200);
    let mut doc: Value = serde_json::from_str(&ports.store.peek("org:org_acme").unwrap()).unwrap();
    doc["allow_query_token"] = json!(false);
    doc["m2m_clients"] = json!(["ops-batch"]);
    ports.store.put("org:org_acme", &doc.to_string());
    let stale = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v1\""),
        json!({"display_name": "Acme B"}),
    );
    assert_eq!(
        (stale.status, &stale.body["revision"]),
        (412, &json!(2)),
        "{}",
        stale.body
    );
    let now = get_org(&ports, &engine, &alice());
    assert_eq!(now.body["document"]["m2m_clients"], json!(["ops-batch"]));
    let ok = patch(
        &ports,
        &engine,
        &alice(),
        Some("\"v2\""),
        json!({"display_name": "Acme B"}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let kv: Value = serde_json::from_str(&ports.store.peek("org:org_acme").unwrap()).unwrap();
    assert_eq!(
        (kv["display_name"].clone(), kv["m2m_clients"].clone()),
        (json!("Acme B"), json!(["ops-batch"]))
    );
    let audit = &ports.writer.audits.borrow()["org_acme"];
    assert!(audit
        .iter()
        .any(|a| a.op == "external_change" && a.changes.iter().any(|c| c.path == "$.m2m_clients")));
}

/// OperatorRenameHijacksHost: renaming an org to another org's name would take its subdomain.
#[test]
fn a_rename_cannot_take_another_orgs_name() {
    let ports = admin_stack();
    let engine = Engine::new();
    let r = patch(
        &ports,
        &engine,
        &operator_token(),
        Some("\"v0\""),
        json!({"name": "globex"}),
    );
    assert_eq!(
        (r.status, r.body["path"].as_str()),
        (400, Some("$.name")),
        "{}",
        r.body
    );
    let r = patch(
        &ports,
        &engine,
        &operator_token(),
        Some("\"v0\""),
        json!({"name": "acme-rockets"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        ports.store.peek("name:acme-rockets").as_deref(),
        Some("org_acme")
    );
    assert!(ports.store.peek("name:acme").is_none());
}

/// OrgAdminGrantsAnything: with `settings.admin.grantable_permissions`/`_roles`, an org admin's
/// IdP claim rules may grant only those.
#[test]
fn claim_rules_grant_only_what_the_tenant_allows() {
    let ports = admin_stack();
    let mut settings: Value = serde_json::from_str(&ports.store.peek("settings").unwrap()).unwrap();
    settings["admin"]["grantable_permissions"] = json!(["read:docs", "reports:view"]);
    settings["admin"]["grantable_roles"] = json!(["viewer"]);
    ports.store.put("settings", &settings.to_string());
    let engine = Engine::new();
    let carol = token("globex", "auth0|carol", &["admin"]);
    let call_patch = |p: Value| {
        call(
            &ports,
            &engine,
            "PATCH",
            &format!("{GLOBEX}/_orggate/admin/api/org"),
            &[("authorization", &carol), ("if-match", "\"v0\"")],
            Some(p.to_string()),
        )
    };
    let rules = |perms: Value, roles: Value| {
        json!({"login": {"idp": {"claim_rules": [
        {"claim": "groups", "contains": "everyone", "permissions": perms, "roles": roles}]}}})
    };
    let r = call_patch(rules(json!(["read:docs", "billing:manage"]), json!([])));
    assert_eq!(
        (r.status, r.body["path"].as_str()),
        (400, Some("$.login.idp.claim_rules[0].permissions[1]")),
        "{}",
        r.body
    );
    let r = call_patch(rules(json!([]), json!(["owner"])));
    assert_eq!(r.body["path"], "$.login.idp.claim_rules[0].roles[0]");
    let r = call_patch(rules(json!(["reports:view"]), json!(["viewer"])));
    assert_eq!(r.status, 200, "{}", r.body);
}

/// LaggingKvReverts: KV is eventually consistent, so the writer may read back one of its own
/// older documents; that is KV lagging, not someone's change, and must not be adopted.
#[test]
fn an_older_document_of_the_writers_own_in_kv_is_not_adopted() {
    let ports = admin_stack();
    let engine = Engine::new();
    assert_eq!(
        patch(
            &ports,
            &engine,
            &alice(),
            Some("\"v0\""),
            json!({"display_name": "One"})
        )
        .status,
        200
    );
    let one = ports.store.peek("org:org_acme").unwrap();
    assert_eq!(
        patch(
            &ports,
            &engine,
            &alice(),
            Some("\"v1\""),
            json!({"display_name": "Two"})
        )
        .status,
        200
    );
    ports.store.put("org:org_acme", &one); // a location that has not seen the last write yet
    let r = get_org(&ports, &engine, &alice());
    assert_eq!(
        (
            r.body["revision"].clone(),
            r.body["document"]["display_name"].clone()
        ),
        (json!(2), json!("Two"))
    );
    assert!(!ports.writer.audits.borrow()["org_acme"]
        .iter()
        .any(|a| a.op == "external_change"));
}
