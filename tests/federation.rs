//! Browser logins through the whole pipeline with scripted identity providers: globex's **own**
//! IdP (no org claim; `groups` mapped by globex's claim rules), and tenant IdPs whose org claim
//! is not a top-level `org_id` (Keycloak's `organization` map). Each test is named by what must
//! not happen.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;
use orggate::engine::Engine;
use orggate::http::{query_param, ResponseView};
use orggate::testing::FakePorts;
use serde_json::{json, Value};

const GLOBEX_IDP: &str = "https://login.globex.test";
const GLOBEX_JWKS: &str = "https://login.globex.test/jwks";
const GLOBEX_TOKEN: &str = "https://login.globex.test/token";
const GLOBEX_USERINFO: &str = "https://login.globex.test/userinfo";
const HOST: &str = "http://globex.localhost:8787";

/// globex signs in through its own IdP; its claim rules map `groups` to rights.
fn globex_with_own_idp(idp_patch: Value) -> String {
    let mut org: Value =
        serde_json::from_str(&std::fs::read_to_string("dev/kv/org_globex.json").unwrap()).unwrap();
    let mut idp = json!({
        "issuer": GLOBEX_IDP,
        "client_id": "globex-orggate",
        "client_secret": "ORG_GLOBEX_CLIENT_SECRET",
        "scopes": "openid profile email groups",
        "claim_rules": [
            {"claim": "groups", "contains": "globex-staff", "permissions": ["reports:view", "read:docs"]},
            {"claim": "groups", "contains": "eng-admins", "roles": ["admin"], "permissions": ["admin"]}
        ]
    });
    merge(&mut idp, idp_patch);
    org["login"]["idp"] = idp;
    org.to_string()
}

fn customer_idp(ports: &FakePorts, org_doc: &str) {
    ports.store.put("org:org_globex", org_doc);
    ports
        .secrets
        .set("ORG_GLOBEX_CLIENT_SECRET", "globex-secret");
    ports.http.answer(
        &format!("{GLOBEX_IDP}/.well-known/openid-configuration"),
        200,
        &json!({
            "issuer": GLOBEX_IDP,
            "authorization_endpoint": format!("{GLOBEX_IDP}/authorize"),
            "token_endpoint": GLOBEX_TOKEN,
            "userinfo_endpoint": GLOBEX_USERINFO,
            "jwks_uri": GLOBEX_JWKS,
        })
        .to_string(),
        &[],
    );
    let k = es256_key();
    ports.http.answer(
        GLOBEX_JWKS,
        200,
        &jwks_of(&[k.public()]),
        &[("cache-control", "max-age=600")],
    );
}

/// An ID token from globex's IdP (ES256, `demo-es256-1`): no org claim anywhere.
fn globex_id_token(nonce: &str, patch: Value) -> String {
    let k = es256_key();
    let mut c = json!({
        "iss": GLOBEX_IDP, "aud": "globex-orggate", "sub": "okta|bob", "nonce": nonce,
        "iat": NOW - 5, "exp": NOW + 300,
        "email": "bob@globex.test", "email_verified": true, "name": "Bob Example",
        "groups": ["globex-staff"],
    });
    merge(&mut c, patch);
    mint("ES256", &k, &header("ES256", &k.kid), &c)
}

/// `Set-Cookie` lines as a `Cookie` header (name=value; ...), skipping cleared ones.
fn cookie_header(r: &ResponseView) -> String {
    header_values(&r.headers, "set-cookie")
        .iter()
        .filter(|c| !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

struct Started {
    state: String,
    nonce: String,
    txn_cookie: String,
    authorize: String,
}

fn start(ports: &FakePorts, engine: &Engine, host: &str) -> Started {
    let out = send(
        ports,
        engine,
        "GET",
        &format!("{host}/_orggate/start?return_to=%2Fdocs%2F"),
        &[],
    );
    let r = responded(&out);
    assert_eq!(r.status, 302, "{:?}", out.log);
    let loc = r.get_header("location").unwrap().to_string();
    let q = loc.split_once('?').map(|(_, q)| q);
    Started {
        state: query_param(q, "state").unwrap(),
        nonce: query_param(q, "nonce").unwrap(),
        txn_cookie: cookie_header(r),
        authorize: loc,
    }
}

fn callback(
    ports: &FakePorts,
    engine: &Engine,
    host: &str,
    s: &Started,
    extra: &str,
) -> ResponseView {
    let out = send(
        ports,
        engine,
        "GET",
        &format!("{host}/_orggate/callback?code=c1&state={}{extra}", s.state),
        &[("cookie", &s.txn_cookie)],
    );
    responded(&out).clone()
}

fn token_response(id_token: &str) -> String {
    json!({"access_token": "opaque-customer-at", "token_type": "Bearer", "expires_in": 300,
           "id_token": id_token})
    .to_string()
}

/// GlobexIdpLoginCannotComplete (issue 10): bob signs in at globex's own IdP, whose ID token has
/// no org claim. The login completes, the session holds globex's view of bob, and the origin
/// receives the permissions globex's claim rules grant; the customer's access token is not kept.
#[test]
fn member_of_an_org_idp_signs_in_and_gets_mapped_permissions() {
    let ports = stack();
    customer_idp(&ports, &globex_with_own_idp(json!({})));
    let engine = Engine::new();
    let s = start(&ports, &engine, HOST);
    assert!(
        s.authorize.starts_with(&format!("{GLOBEX_IDP}/authorize?")),
        "{}",
        s.authorize
    );
    assert!(
        !s.authorize.contains("organization="),
        "no Auth0 organization parameter to the org's own IdP"
    );
    let query = s.authorize.split_once('?').map(|(_, q)| q);
    assert_eq!(
        orggate::http::query_param(query, "scope").as_deref(),
        Some("openid profile email groups")
    );
    ports.http.answer(
        GLOBEX_TOKEN,
        200,
        &token_response(&globex_id_token(&s.nonce, json!({}))),
        &[],
    );
    let r = callback(
        &ports,
        &engine,
        HOST,
        &s,
        &format!("&iss={}", "https%3A%2F%2Flogin.globex.test"),
    );
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.get_header("location"), Some("/docs/"));
    let session = cookie_header(&r);
    assert!(session.contains("orggate_s_globex="), "{session}");
    let sent = ports.http.sent.borrow().clone();
    let exchange = sent.iter().find(|q| q.url == GLOBEX_TOKEN).unwrap();
    let body = String::from_utf8_lossy(exchange.body.as_ref().unwrap()).to_string();
    assert!(body.contains("grant_type=authorization_code") && body.contains("code_verifier="));

    let out = send(
        &ports,
        &engine,
        "GET",
        &format!("{HOST}/api/reports/7"),
        &[("cookie", &session), ("sec-fetch-site", "same-origin")],
    );
    let f = forwarded(&out);
    assert_eq!(one_header(&f.headers, "x-orggate-org-id"), "org_globex");
    assert_eq!(one_header(&f.headers, "x-orggate-subject"), "okta|bob");
    assert_eq!(one_header(&f.headers, "x-orggate-email"), "bob@globex.test");
    assert_eq!(one_header(&f.headers, "x-orggate-membership"), "member");
    assert_eq!(
        one_header(&f.headers, "x-orggate-permissions"),
        "reports:view read:docs"
    );
    assert!(!one_header(&f.headers, "x-orggate-assertion").is_empty());
    // Not an admin: globex's /admin/* needs `admin`, which only eng-admins get.
    let out = send(
        &ports,
        &engine,
        "GET",
        &format!("{HOST}/admin/x"),
        &[
            ("cookie", &session),
            ("sec-fetch-site", "same-origin"),
            ("accept", "application/json"),
        ],
    );
    assert_eq!(responded(&out).status, 403);
}

/// StaleGroupRights: the org's claim rules apply on every request: a rule the org adds later
/// takes effect for sessions already open (after the config TTL), without a new login.
#[test]
fn claim_rules_apply_to_open_sessions() {
    let ports = stack();
    customer_idp(&ports, &globex_with_own_idp(json!({})));
    let engine = Engine::new();
    let s = start(&ports, &engine, HOST);
    ports.http.answer(
        GLOBEX_TOKEN,
        200,
        &token_response(&globex_id_token(
            &s.nonce,
            json!({"groups": ["globex-staff", "eng-admins"]}),
        )),
        &[],
    );
    let session = cookie_header(&callback(&ports, &engine, HOST, &s, ""));
    let admin = |ports: &FakePorts| {
        let out = send(
            ports,
            &engine,
            "GET",
            &format!("{HOST}/admin/x"),
            &[("cookie", &session), ("sec-fetch-site", "same-origin")],
        );
        out
    };
    forwarded(&admin(&ports));
    // globex drops the eng-admins rule.
    ports.store.put(
        "org:org_globex",
        &globex_with_own_idp(json!({"claim_rules": [
            {"claim": "groups", "contains": "globex-staff", "permissions": ["reports:view"]}
        ]})),
    );
    ports.clock.set_s(NOW + 61);
    assert_eq!(responded(&admin(&ports)).status, 403);
}

/// OrgIdpUserInOtherOrg: a user of globex's IdP never gets an acme session: acme signs in through
/// the tenant IdP, and globex's session cookie does not open on acme.
#[test]
fn an_org_idp_session_is_worthless_elsewhere() {
    let ports = stack();
    customer_idp(&ports, &globex_with_own_idp(json!({})));
    let engine = Engine::new();
    let s = start(&ports, &engine, HOST);
    ports.http.answer(
        GLOBEX_TOKEN,
        200,
        &token_response(&globex_id_token(&s.nonce, json!({}))),
        &[],
    );
    let session = cookie_header(&callback(&ports, &engine, HOST, &s, ""));
    let value = session.split_once('=').unwrap().1;
    let out = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/1",
        &[
            ("cookie", &format!("orggate_s_acme={value}")),
            ("accept", "text/html"),
        ],
    );
    let r = responded(&out);
    assert_eq!(r.status, 302, "to acme's login page, not in");
    assert!(r
        .get_header("location")
        .unwrap()
        .contains("/_orggate/login"));
}

/// IdpMixUp (RFC 9207): a response naming another issuer in `iss`, or an ID token from another
/// IdP (the tenant's, with an org claim naming globex) at globex's callback, is refused.
#[test]
fn a_response_from_the_wrong_idp_is_refused() {
    let ports = stack();
    customer_idp(&ports, &globex_with_own_idp(json!({})));
    let engine = Engine::new();
    let s = start(&ports, &engine, HOST);
    let r = callback(
        &ports,
        &engine,
        HOST,
        &s,
        "&iss=http%3A%2F%2F127.0.0.1%3A9000",
    );
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("unexpected provider"));
    assert_eq!(
        ports.http.count(GLOBEX_TOKEN),
        0,
        "no code exchange for a mixed-up response"
    );

    // The tenant IdP's ID token, served by globex's token endpoint: wrong issuer, refused.
    let s = start(&ports, &engine, HOST);
    let k = eddsa_key();
    let tenant_token = mint(
        "EdDSA",
        &k,
        &header("EdDSA", &k.kid),
        &json!({"iss": DEMO_ISS, "aud": "globex-orggate", "sub": "user_bob", "nonce": s.nonce,
                "iat": NOW, "exp": NOW + 300, "org_id": "org_globex"}),
    );
    ports
        .http
        .answer(GLOBEX_TOKEN, 200, &token_response(&tenant_token), &[]);
    let r = callback(&ports, &engine, HOST, &s, "");
    assert_eq!(r.status, 400);
    assert!(header_values(&r.headers, "set-cookie")
        .iter()
        .all(|c| !c.contains("orggate_s_globex=v")));
}

/// UnverifiedEmailAdmitted: globex admits only verified globex.test emails.
#[test]
fn org_email_domains_admit_only_verified_addresses() {
    let ports = stack();
    customer_idp(
        &ports,
        &globex_with_own_idp(json!({"allowed_email_domains": ["globex.test"]})),
    );
    let engine = Engine::new();
    for (patch, admitted) in [
        (json!({"email_verified": false}), false),
        (json!({"email": "mallory@evil.test"}), false),
        (json!({}), true),
    ] {
        let s = start(&ports, &engine, HOST);
        ports.http.answer(
            GLOBEX_TOKEN,
            200,
            &token_response(&globex_id_token(&s.nonce, patch.clone())),
            &[],
        );
        let r = callback(&ports, &engine, HOST, &s, "");
        assert_eq!(r.status == 302, admitted, "{patch}: {}", r.status);
        if !admitted {
            assert_eq!(r.status, 403);
            assert!(String::from_utf8_lossy(&r.body).contains("may not sign in to Globex"));
        }
    }
}

/// UserinfoSubstituted (OIDC Core 5.3.2): a userinfo answer about another subject is refused;
/// one about the same subject adds its claims.
#[test]
fn userinfo_must_be_about_the_same_subject() {
    let ports = stack();
    customer_idp(&ports, &globex_with_own_idp(json!({"userinfo": true})));
    let engine = Engine::new();
    let s = start(&ports, &engine, HOST);
    ports.http.answer(
        GLOBEX_TOKEN,
        200,
        &token_response(&globex_id_token(&s.nonce, json!({"groups": []}))),
        &[],
    );
    ports.http.answer(
        GLOBEX_USERINFO,
        200,
        &json!({"sub": "okta|mallory", "groups": ["eng-admins"]}).to_string(),
        &[],
    );
    assert_eq!(callback(&ports, &engine, HOST, &s, "").status, 400);
    let s = start(&ports, &engine, HOST);
    ports.http.answer(
        GLOBEX_TOKEN,
        200,
        &token_response(&globex_id_token(&s.nonce, json!({"groups": []}))),
        &[],
    );
    ports.http.answer(
        GLOBEX_USERINFO,
        200,
        &json!({"sub": "okta|bob", "groups": ["globex-staff"]}).to_string(),
        &[],
    );
    let r = callback(&ports, &engine, HOST, &s, "");
    assert_eq!(r.status, 302);
    let sent = ports.http.sent.borrow().clone();
    let ui = sent.iter().rfind(|q| q.url == GLOBEX_USERINFO).unwrap();
    assert!(ui
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v == "Bearer opaque-customer-at"));
    let out = send(
        &ports,
        &engine,
        "GET",
        &format!("{HOST}/api/reports/1"),
        &[
            ("cookie", &cookie_header(&r)),
            ("sec-fetch-site", "same-origin"),
        ],
    );
    assert_eq!(
        one_header(&forwarded(&out).headers, "x-orggate-permissions"),
        "reports:view read:docs"
    );
}

/// KeycloakOrgClaimIgnored (issue 10 §2): a tenant IdP whose tokens carry Keycloak's
/// `organization` map instead of `org_id` completes the login when the issuer's preset says so.
#[test]
fn tenant_idp_org_is_read_through_its_preset() {
    let ports = stack();
    let mut settings: Value = serde_json::from_str(&dev_kv("settings.json")).unwrap();
    settings["issuers"][0]["preset"] = json!("keycloak");
    ports.store.put("settings", &settings.to_string());
    let engine = Engine::new();
    let acme = "http://acme.localhost:8787";
    let s = start(&ports, &engine, acme);
    assert!(s.authorize.contains("organization=org_acme"));
    let k = eddsa_key();
    let org_claim = json!({"acme": {"id": "org_acme"}});
    let id_token = mint(
        "EdDSA",
        &k,
        &header("EdDSA", &k.kid),
        &json!({"iss": DEMO_ISS, "aud": "orggate", "sub": "kc|alice", "nonce": s.nonce,
                "iat": NOW, "exp": NOW + 300, "organization": org_claim}),
    );
    let access = demo_token(
        json!({"org_id": null, "org_name": null, "organization": org_claim,
        "realm_access": {"roles": ["reader"]}}),
    );
    let tokens = json!({"access_token": access, "token_type": "Bearer", "id_token": id_token});
    ports.http.answer(
        &format!("{DEMO_ISS}/oauth/token"),
        200,
        &tokens.to_string(),
        &[],
    );
    let r = callback(&ports, &engine, acme, &s, "");
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));

    // The same login where the IdP's organization names globex: refused.
    let s = start(&ports, &engine, acme);
    let other = json!({"globex": {"id": "org_globex"}});
    let id_token = mint(
        "EdDSA",
        &k,
        &header("EdDSA", &k.kid),
        &json!({"iss": DEMO_ISS, "aud": "orggate", "sub": "kc|alice", "nonce": s.nonce,
                "iat": NOW, "exp": NOW + 300, "organization": other}),
    );
    let access = demo_token(json!({"org_id": null, "org_name": null, "organization": other}));
    let tokens = json!({"access_token": access, "token_type": "Bearer", "id_token": id_token});
    ports.http.answer(
        &format!("{DEMO_ISS}/oauth/token"),
        200,
        &tokens.to_string(),
        &[],
    );
    let r = callback(&ports, &engine, acme, &s, "");
    assert_eq!(r.status, 403);
}

/// ImpliedOrgForEveryone: an issuer bound to one org (`orgs: [one]`) implies that org for its
/// tokens without an org claim; the same token is refused on every other org.
#[test]
fn an_issuer_bound_to_one_org_implies_it() {
    let ports = stack();
    let mut settings: Value = serde_json::from_str(&dev_kv("settings.json")).unwrap();
    settings["issuers"][0]["orgs"] = json!(["org_acme"]);
    ports.store.put("settings", &settings.to_string());
    let engine = Engine::new();
    let token = demo_token(json!({"org_id": null, "org_name": null}));
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
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://globex.localhost:8787/api/reports/1",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(body(responded(&h))["reason"], "issuer_not_allowed");
}
