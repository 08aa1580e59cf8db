//! Step-up authentication per route (RFC 9470) through the whole pipeline: acme's `/admin/*`
//! needs `acr` `urn:acme:mfa` within the last 5 minutes. Each test is named by what must not
//! happen.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;
use orggate::engine::Engine;
use orggate::http::query_param;
use orggate::testing::FakePorts;
use serde_json::{json, Value};

const ADMIN: &str = "http://acme.localhost:8787/admin/settings";

fn stepped_up_stack() -> FakePorts {
    let ports = stack();
    let mut org: Value = serde_json::from_str(&dev_kv("org_acme.json")).unwrap();
    org["routes"].as_array_mut().unwrap().push(json!({
        "id": "admin-mfa", "path": "/admin/*", "require": {"permissions": ["admin"]},
        "step_up": {"acr_values": ["urn:acme:mfa"], "max_age_s": 300}
    }));
    ports.store.put("org:org_acme", &org.to_string());
    ports
}

fn admin_token(patch: Value) -> String {
    let mut c = json!({"permissions": ["admin"], "acr": "urn:acme:mfa", "auth_time": NOW - 10});
    merge(&mut c, patch);
    demo_token(c)
}

/// WeakAuthReachesAdmin: an API token without the route's acr, or authenticated too long ago,
/// gets 401 `insufficient_user_authentication` with what a new authentication must satisfy.
#[test]
fn api_tokens_below_the_step_up_get_the_rfc9470_challenge() {
    let ports = stepped_up_stack();
    let engine = Engine::new();
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        ADMIN,
        &[("authorization", &bearer(&admin_token(json!({}))))],
    ));
    for patch in [
        json!({"acr": "urn:acme:password"}),
        json!({"acr": null}),
        json!({"auth_time": NOW - 301}),
        json!({"auth_time": null}),
    ] {
        let h = send(
            &ports,
            &engine,
            "GET",
            ADMIN,
            &[("authorization", &bearer(&admin_token(patch.clone())))],
        );
        let r = responded(&h);
        assert_eq!(r.status, 401, "{patch}");
        assert_eq!(body(r)["reason"], "insufficient_user_authentication");
        let challenge = header_values(&r.headers, "www-authenticate")
            .into_iter()
            .find(|c| c.contains("insufficient_user_authentication"))
            .unwrap_or_else(|| panic!("{:?}", r.headers));
        assert!(
            challenge.contains(r#"acr_values="urn:acme:mfa""#),
            "{challenge}"
        );
        assert!(challenge.contains("max_age=300"), "{challenge}");
    }
    // A wrongly typed acr is refused as a claim, never coerced.
    let h = send(
        &ports,
        &engine,
        "GET",
        ADMIN,
        &[("authorization", &bearer(&admin_token(json!({"acr": 2}))))],
    );
    assert_eq!(body(responded(&h))["reason"], "invalid_claim");
}

/// CachedStepUpOutlivesMaxAge: a token that passes now (authenticated 250 s ago) is not served
/// from the decision cache once its authentication is older than the route allows.
#[test]
fn a_cached_decision_ends_when_the_authentication_gets_too_old() {
    let ports = stepped_up_stack();
    let engine = Engine::new();
    let auth = bearer(&admin_token(json!({"auth_time": NOW - 250})));
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        ADMIN,
        &[("authorization", &auth)],
    ));
    ports.clock.set_s(NOW + 40);
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        ADMIN,
        &[("authorization", &auth)],
    ));
    ports.clock.set_s(NOW + 51);
    let h = send(&ports, &engine, "GET", ADMIN, &[("authorization", &auth)]);
    assert_eq!(
        body(responded(&h))["reason"],
        "insufficient_user_authentication"
    );
}

/// A session below the step-up: the browser goes to sign in again with `acr_values` and
/// `max_age`; an IdP that does not deliver them gets a page, not a redirect loop; one that does
/// gives a session that passes.
#[test]
fn browsers_sign_in_again_and_never_loop() {
    let ports = stepped_up_stack();
    let engine = Engine::new();
    let cookie = sealed_session(
        "acme",
        &json!({"org": "org_acme", "at": admin_token(json!({"acr": null, "auth_time": null})),
            "exp": NOW + 3600, "auth": {"acr": "urn:acme:password", "auth_time": NOW - 3000}}),
    );
    let browser = [
        ("cookie", cookie.as_str()),
        ("accept", "text/html"),
        ("sec-fetch-site", "same-origin"),
    ];
    let h = send(&ports, &engine, "GET", ADMIN, &browser);
    let r = responded(&h);
    assert_eq!(r.status, 302);
    let loc = r.get_header("location").unwrap();
    assert!(
        loc.starts_with("/_orggate/start?return_to=%2Fadmin%2Fsettings"),
        "{loc}"
    );
    assert!(
        loc.contains("acr_values=urn%3Aacme%3Amfa") && loc.contains("max_age=300"),
        "{loc}"
    );

    // /_orggate/start asks the IdP for it.
    let start = |ports: &FakePorts| {
        let h = send(
            ports,
            &engine,
            "GET",
            &format!("http://acme.localhost:8787{loc}"),
            &[],
        );
        let r = responded(&h).clone();
        let authorize = r.get_header("location").unwrap().to_string();
        let q = authorize.split_once('?').map(|(_, q)| q);
        assert_eq!(
            query_param(q, "acr_values").as_deref(),
            Some("urn:acme:mfa")
        );
        assert_eq!(query_param(q, "max_age").as_deref(), Some("300"));
        let txn = header_values(&r.headers, "set-cookie")[0]
            .split(';')
            .next()
            .unwrap()
            .to_string();
        (
            query_param(q, "state").unwrap(),
            query_param(q, "nonce").unwrap(),
            txn,
        )
    };
    let k = eddsa_key();
    let finish = |acr: &str, ports: &FakePorts, (state, nonce, txn): (String, String, String)| {
        let id = mint(
            "EdDSA",
            &k,
            &header("EdDSA", &k.kid),
            &json!({"iss": DEMO_ISS, "aud": "orggate",
            "sub": "auth0|alice", "nonce": nonce, "iat": NOW, "exp": NOW + 300, "org_id": "org_acme",
            "acr": acr, "auth_time": NOW - 5}),
        );
        let tokens = json!({"access_token": admin_token(json!({"acr": null, "auth_time": null})),
            "token_type": "Bearer", "id_token": id});
        ports.http.answer(
            &format!("{DEMO_ISS}/oauth/token"),
            200,
            &tokens.to_string(),
            &[],
        );
        let h = send(
            ports,
            &engine,
            "GET",
            &format!("http://acme.localhost:8787/_orggate/callback?code=c&state={state}"),
            &[("cookie", &txn)],
        );
        responded(&h).clone()
    };
    // The IdP answers with a password-only login: a page saying so, no new session, no loop.
    let r = finish("urn:acme:password", &ports, start(&ports));
    assert_eq!(r.status, 403);
    assert!(String::from_utf8_lossy(&r.body).contains("Stronger sign-in required"));
    assert!(header_values(&r.headers, "set-cookie")
        .iter()
        .all(|c| !c.starts_with("orggate_s_acme=v")));
    // Start again; this time the IdP steps up, and the new session reaches /admin.
    let r = finish("urn:acme:mfa", &ports, start(&ports));
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.get_header("location"), Some("/admin/settings"));
    let session = header_values(&r.headers, "set-cookie")
        .into_iter()
        .find(|c| c.starts_with("orggate_s_acme="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let h = send(
        &ports,
        &engine,
        "GET",
        ADMIN,
        &[
            ("cookie", &session),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
        ],
    );
    forwarded(&h);
}

/// OrgStepUpDropsBase: a base rule's step-up (`amr` with a hardware key) and an org rule's
/// (`acr`) over the same path must both hold; `amr` needs one of its values, not all.
#[test]
fn base_and_org_step_ups_both_hold() {
    let ports = stepped_up_stack();
    let mut settings: Value = serde_json::from_str(&dev_kv("settings.json")).unwrap();
    for r in settings["routes"].as_array_mut().unwrap() {
        if r["id"] == "admin" {
            r["step_up"] = json!({"amr": ["hwk", "swk"]});
        }
    }
    ports.store.put("settings", &settings.to_string());
    let engine = Engine::new();
    let go = |patch: Value| {
        send(
            &ports,
            &engine,
            "GET",
            ADMIN,
            &[("authorization", &bearer(&admin_token(patch)))],
        )
    };
    forwarded(&go(json!({"amr": ["pwd", "hwk"]})));
    for patch in [
        json!({"amr": ["pwd", "otp"]}),
        json!({}),
        json!({"amr": ["hwk"], "acr": "urn:acme:password"}),
    ] {
        let h = go(patch.clone());
        assert_eq!(
            body(responded(&h))["reason"],
            "insufficient_user_authentication",
            "{patch}"
        );
    }
    // amr must be an array of strings.
    let h = go(json!({"amr": "hwk"}));
    assert_eq!(body(responded(&h))["reason"], "invalid_claim");
}

/// A step-up that asks for nothing, or values that could break out of the challenge, make the
/// org fail closed with the JSON path named.
#[test]
fn malformed_step_ups_fail_closed() {
    for bad in [
        json!({}),
        json!({"acr_values": ["a\"b"]}),
        json!({"amr": ["x,y"]}),
        json!({"extra": 1, "max_age_s": 5}),
    ] {
        let ports = stack();
        let mut org: Value = serde_json::from_str(&dev_kv("org_acme.json")).unwrap();
        org["routes"].as_array_mut().unwrap().push(json!({
            "id": "admin-mfa", "path": "/admin/*", "require": "authenticated", "step_up": bad
        }));
        ports.store.put("org:org_acme", &org.to_string());
        let h = send(
            &ports,
            &Engine::new(),
            "GET",
            ADMIN,
            &[("authorization", &bearer(&admin_token(json!({}))))],
        );
        assert_eq!(responded(&h).status, 503, "{bad}");
    }
}
