//! Revocation through the whole pipeline: back-channel logout, sign-out everywhere, an admin's
//! revocation, and credentials refused before they expire. The writer is the fake Durable
//! Object (`FakePorts` as `StateWriter`), publishing to the fake KV. Each test is named by
//! what must not happen.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;
use orggate::engine::Engine;
use orggate::login::backchannel::EVENT;
use orggate::testing::FakePorts;
use serde_json::{json, Value};

const REPORT: &str = "http://acme.localhost:8787/api/reports/1";
const ADMIN_API: &str = "http://acme.localhost:8787/_orggate/admin/api/revocations";
const BCL: &str = "http://localhost:8787/_orggate/backchannel-logout";

/// The demo stack with admins holding `admin` (the demo's permission) and operators
/// `orggate:operator`.
fn revocable() -> FakePorts {
    let ports = stack();
    let mut settings: Value = serde_json::from_str(&dev_kv("settings.json")).unwrap();
    settings["admin"] = json!({"permission": "admin", "operator_permission": "orggate:operator"});
    settings["revocation"] = json!({"refresh_s": 20});
    ports.store.put("settings", &settings.to_string());
    ports
}

fn bob(patch: Value) -> String {
    let mut c = json!({"sub": "auth0|bob", "email": "bob@acme.test"});
    merge(&mut c, patch);
    demo_token(c)
}

fn get(ports: &FakePorts, engine: &Engine, auth: &str) -> orggate::app::Handled {
    send(ports, engine, "GET", REPORT, &[("authorization", auth)])
}

fn admin_post(ports: &FakePorts, engine: &Engine, auth: &str, body: &Value) -> (u16, Value) {
    let req = orggate::http::RequestView::new(
        "POST",
        ADMIN_API,
        &[
            ("authorization", auth),
            ("content-type", "application/json"),
            ("cf-ray", RAY),
        ],
    )
    .with_body(body.to_string());
    let h = orggate::driver::run(ports, engine, req);
    let r = responded(&h);
    (r.status, body_of(r))
}

fn body_of(r: &orggate::http::ResponseView) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn alice_admin() -> String {
    bearer(&demo_token(
        json!({"permissions": ["read:reports", "admin"]}),
    ))
}

/// RevokedMemberKeepsAccess: bob's token works (and its decision is cached); an admin signs bob
/// out everywhere; the very same token is refused at once in this isolate (the cached decision
/// included), and a token issued after the revocation passes.
#[test]
fn a_token_issued_before_the_subjects_not_before_gets_401_revoked() {
    let ports = revocable();
    let engine = Engine::new();
    let token = bearer(&bob(json!({})));
    forwarded(&get(&ports, &engine, &token));
    forwarded(&get(&ports, &engine, &token));
    let (status, body) = admin_post(
        &ports,
        &engine,
        &alice_admin(),
        &json!({"subject": "auth0|bob"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"]["kind"], "sub");
    let h = get(&ports, &engine, &token);
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(body_of(r)["reason"], "revoked");
    assert_eq!(h.log.detail.as_deref(), Some("subject_revoked"));
    // Issued after the revocation: passes (a later login is not revoked).
    ports.clock.set_s(NOW + 5);
    forwarded(&get(
        &ports,
        &engine,
        &bearer(&bob(json!({"iat": NOW + 4, "exp": NOW + 600}))),
    ));
    // Other subjects are untouched.
    forwarded(&get(&ports, &engine, &alice_admin()));
}

/// StaleRevocationForever: another isolate that read the (empty) set before the revocation keeps
/// it for `revocation.refresh_s` (20 s here), then reads KV and refuses: the documented bound.
#[test]
fn other_isolates_refuse_within_the_refresh_interval() {
    let ports = revocable();
    let writer = Engine::new();
    let other = Engine::new();
    let token = bearer(&bob(json!({})));
    forwarded(&get(&ports, &other, &token));
    let (status, _) = admin_post(
        &ports,
        &writer,
        &alice_admin(),
        &json!({"subject": "auth0|bob"}),
    );
    assert_eq!(status, 200);
    ports.clock.set_s(NOW + 19);
    forwarded(&get(&ports, &other, &token));
    ports.clock.set_s(NOW + 20);
    assert_eq!(
        body_of(responded(&get(&ports, &other, &token)))["reason"],
        "revoked"
    );
}

/// LostRevocation: the writer keeps a revocation whose publication to KV failed and publishes it
/// on retry (the Durable Object's alarm); until then the isolate that wrote it refuses at once.
#[test]
fn a_failed_publish_is_retried_and_nothing_is_lost() {
    let ports = revocable();
    let writer = Engine::new();
    let other = Engine::new();
    let token = bearer(&bob(json!({})));
    ports.writer.fail_publish.set(2);
    let (status, _) = admin_post(
        &ports,
        &writer,
        &alice_admin(),
        &json!({"kind": "jti", "value": "bob-token-1"}),
    );
    assert_eq!(status, 200);
    let t = bearer(&bob(json!({"jti": "bob-token-1"})));
    assert_eq!(
        body_of(responded(&get(&ports, &writer, &t)))["reason"],
        "revoked"
    );
    // KV does not have it yet: another isolate still passes it.
    forwarded(&get(&ports, &other, &t));
    ports.retry_publish(); // fails again (2nd injected failure)
    ports.clock.set_s(NOW + 25);
    forwarded(&get(&ports, &other, &t));
    ports.retry_publish();
    ports.clock.set_s(NOW + 50);
    assert_eq!(
        body_of(responded(&get(&ports, &other, &t)))["reason"],
        "revoked"
    );
    assert!(ports.writer.unpublished.borrow().is_empty());
    // A token without that jti is not affected.
    forwarded(&get(&ports, &other, &token));
}

/// RevokedClientKeepsCalling: an M2M client id revoked refuses that client's tokens, never a
/// user's token that names the same app as `azp`.
#[test]
fn client_revocations_refuse_machine_callers_only() {
    let ports = revocable();
    let engine = Engine::new();
    let m2m = bearer(&demo_token(json!({"sub": "batch@clients", "azp": "batch",
        "gty": "client-credentials", "email": null})));
    forwarded(&get(&ports, &engine, &m2m));
    let (status, _) = admin_post(
        &ports,
        &engine,
        &alice_admin(),
        &json!({"kind": "client", "value": "batch"}),
    );
    assert_eq!(status, 200);
    assert_eq!(
        body_of(responded(&get(&ports, &engine, &m2m)))["reason"],
        "revoked"
    );
    let user = bearer(&bob(json!({"azp": "batch"})));
    forwarded(&get(&ports, &engine, &user));
}

/// AdminApiOpenToAnyone: every caller but an acme admin or a tenant operator is refused.
#[test]
fn admin_api_authorization_matrix() {
    let ports = revocable();
    let engine = Engine::new();
    let body = json!({"subject": "auth0|carol"});
    let member = bearer(&bob(json!({})));
    let globex_admin = bearer(&demo_token(
        json!({"org_id": "org_globex", "org_name": "globex",
        "permissions": ["admin"]}),
    ));
    // A tenant operator speaks for no org.
    let operator = bearer(&demo_token(json!({"sub": "ops|1", "org_id": null,
        "org_name": null, "permissions": ["orggate:operator"]})));
    for (who, auth, status, reason) in [
        ("member", member.as_str(), 403, "missing_requirement"),
        ("globex admin", globex_admin.as_str(), 401, "org_mismatch"),
        ("no credential", "", 401, "no_credentials"),
        ("garbage", "Bearer x.y.z", 401, "bad_base64"),
    ] {
        let (s, b) = admin_post(&ports, &engine, auth, &body);
        assert_eq!(
            (s, b["reason"].as_str()),
            (status, Some(reason)),
            "{who}: {b}"
        );
    }
    assert_eq!(
        ports.writer.writes.get(),
        0,
        "no refused call wrote anything"
    );
    let (s, b) = admin_post(&ports, &engine, &alice_admin(), &body);
    assert_eq!(s, 200, "{b}");
    let (s, b) = admin_post(&ports, &engine, &operator, &body);
    assert_eq!(s, 200, "operator: {b}");
    // Malformed bodies are refused before anything is written.
    let writes = ports.writer.writes.get();
    for bad in [
        json!({}),
        json!({"subject": ""}),
        json!({"kind": "nope", "value": "x"}),
        json!({"subject": "a", "kind": "sub", "value": "b"}),
    ] {
        let (s, _) = admin_post(&ports, &engine, &alice_admin(), &bad);
        assert_eq!(s, 400, "{bad}");
    }
    assert_eq!(ports.writer.writes.get(), writes);
}

fn logout_token(key: &DevKey, patch: Value) -> String {
    let mut c = json!({"iss": DEMO_ISS, "aud": "orggate", "iat": NOW, "exp": NOW + 120,
        "jti": "lt-1", "sid": "op-session-1", "sub": "auth0|bob",
        "events": {EVENT: {}}});
    merge(&mut c, patch);
    mint(
        "EdDSA",
        key,
        &json!({"alg": "EdDSA", "typ": "logout+jwt", "kid": key.kid}),
        &c,
    )
}

fn backchannel(ports: &FakePorts, engine: &Engine, token: &str) -> (u16, Value) {
    let req = orggate::http::RequestView::new(
        "POST",
        BCL,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("cf-ray", RAY),
        ],
    )
    .with_body(format!("logout_token={token}"));
    let h = orggate::driver::run(ports, engine, req);
    let r = responded(&h);
    (r.status, body_of(r))
}

/// A browser session of bob's, from the OP session `sid`, signed in at `signed_in`.
fn session(sid: &str, signed_in: u64) -> String {
    sealed_session(
        "acme",
        &json!({"org": "org_acme", "at": bob(json!({})), "exp": NOW + 3600,
            "sid": sid, "signed_in": signed_in}),
    )
}

fn browse(ports: &FakePorts, engine: &Engine, cookie: &str) -> orggate::app::Handled {
    send(
        ports,
        engine,
        "GET",
        REPORT,
        &[
            ("cookie", cookie),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
        ],
    )
}

/// SessionOutlivesIdpLogout: the IdP's back-channel logout for `sid` sends that session's next
/// request to the login page (its cookie cleared); another session of bob's (another `sid`)
/// goes on.
#[test]
fn backchannel_logout_ends_the_idp_sessions_orggate_sessions() {
    let ports = revocable();
    let engine = Engine::new();
    let mine = session("op-session-1", NOW - 100);
    let other = session("op-session-2", NOW - 100);
    forwarded(&browse(&ports, &engine, &mine));
    let (status, body) = backchannel(&ports, &engine, &logout_token(&eddsa_key(), json!({})));
    assert_eq!(status, 200, "{body}");
    let h = browse(&ports, &engine, &mine);
    let r = responded(&h);
    assert_eq!(r.status, 302);
    assert!(r
        .get_header("location")
        .unwrap()
        .starts_with("/_orggate/login?return_to="));
    assert!(header_values(&r.headers, "set-cookie")
        .iter()
        .any(|c| c.starts_with("orggate_s_acme=;")));
    forwarded(&browse(&ports, &engine, &other));
}

/// A logout token with only `sub` signs out every session of that subject issued until now.
#[test]
fn backchannel_logout_by_subject_signs_out_every_session() {
    let ports = revocable();
    let engine = Engine::new();
    let (status, _) = backchannel(
        &ports,
        &engine,
        &logout_token(&eddsa_key(), json!({"sid": null})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        responded(&browse(&ports, &engine, &session("op-session-9", NOW - 1))).status,
        302
    );
    // The tenant IdP names no org: its logout applies to bob's tokens in every org.
    let h = get(&ports, &engine, &bearer(&bob(json!({}))));
    assert_eq!(body_of(responded(&h))["reason"], "revoked");
}

/// Bad logout tokens, each refused with 400 and nothing written: replayed, wrong audience, with
/// a nonce (an ID token is not a logout token), without the event, signed by another IdP, an
/// access token's type, neither sid nor sub, too old.
#[test]
fn bad_logout_tokens_are_refused() {
    let ports = revocable();
    let engine = Engine::new();
    let ok = logout_token(&eddsa_key(), json!({"jti": "lt-replay"}));
    assert_eq!(backchannel(&ports, &engine, &ok).0, 200);
    let writes = ports.writer.writes.get();
    let (s, b) = backchannel(&ports, &engine, &ok);
    assert_eq!(
        (s, b["error_description"].as_str()),
        (400, Some("replayed jti"))
    );
    let k = eddsa_key();
    for (name, token) in [
        (
            "wrong audience",
            logout_token(&k, json!({"aud": "another-client"})),
        ),
        ("nonce", logout_token(&k, json!({"nonce": "n-1"}))),
        ("no events", logout_token(&k, json!({"events": null}))),
        (
            "other event",
            logout_token(&k, json!({"events": {"urn:other": {}}})),
        ),
        (
            "neither sid nor sub",
            logout_token(&k, json!({"sid": null, "sub": null})),
        ),
        (
            "too old",
            logout_token(&k, json!({"iat": NOW - 3600, "exp": NOW + 60})),
        ),
        ("no jti", logout_token(&k, json!({"jti": null}))),
        (
            "wrong issuer",
            logout_token(&k, json!({"iss": "https://evil.example"})),
        ),
        ("signed by another IdP", {
            let rogue = rogue_key();
            let c = json!({"iss": DEMO_ISS, "aud": "orggate", "iat": NOW, "jti": "r-1",
                    "sid": "op-session-1", "events": {EVENT: {}}});
            mint(
                "RS256",
                &rogue,
                &json!({"alg": "RS256", "typ": "logout+jwt",
                    "kid": "demo-rs256-1"}),
                &c,
            )
        }),
        (
            "access token type",
            mint(
                "EdDSA",
                &k,
                &json!({"alg": "EdDSA", "typ": "at+jwt", "kid": k.kid}),
                &json!({"iss": DEMO_ISS, "aud": "orggate", "iat": NOW, "jti": "a-1",
                    "sid": "x", "events": {EVENT: {}}}),
            ),
        ),
    ] {
        let (s, b) = backchannel(&ports, &engine, &token);
        assert_eq!(s, 400, "{name}: {b}");
        assert_eq!(b["error"], "invalid_request", "{name}");
    }
    assert_eq!(backchannel(&ports, &engine, "").0, 400);
    assert_eq!(
        ports.writer.writes.get(),
        writes,
        "nothing refused was written"
    );
}

/// "Sign out of all devices": from the org's own page, logout with `everywhere=1` revokes every
/// session of the person in the org, not only this browser's.
#[test]
fn sign_out_everywhere_ends_the_other_devices_sessions() {
    let ports = revocable();
    let engine = Engine::new();
    // The session's ID token names bob (the subject a session is revoked by).
    let k = eddsa_key();
    let id = mint(
        "EdDSA",
        &k,
        &header("EdDSA", &k.kid),
        &json!({"iss": DEMO_ISS, "aud": "orggate", "sub": "auth0|bob", "iat": NOW - 100,
            "exp": NOW + 3600}),
    );
    let seal = |sid: &str| {
        sealed_session(
            "acme",
            &json!({"org": "org_acme", "at": bob(json!({})), "it": id, "exp": NOW + 3600,
                "sid": sid, "signed_in": NOW - 100}),
        )
    };
    let laptop = seal("op-a");
    let phone = seal("op-b");
    forwarded(&browse(&ports, &engine, &phone));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/_orggate/logout?everywhere=1",
        &[
            ("cookie", &laptop),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
        ],
    );
    assert_eq!(responded(&h).status, 302, "{:?}", h.log);
    assert!(
        h.log.reasons.iter().any(|r| r == "signed_out_everywhere"),
        "{:?}",
        h.log
    );
    assert_eq!(responded(&browse(&ports, &engine, &phone)).status, 302);
    // From another site the same link only asks.
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/_orggate/logout?everywhere=1",
        &[
            ("cookie", &laptop),
            ("accept", "text/html"),
            ("sec-fetch-site", "cross-site"),
        ],
    );
    let r = responded(&h);
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("on all your devices"));
}

/// RefreshTokenOutlivesLogout: signing out revokes the session's refresh token at the IdP (RFC
/// 7009) when discovery advertises a revocation endpoint, with the client's authentication.
#[test]
fn logout_revokes_the_refresh_token_at_the_idp() {
    let ports = revocable();
    ports.http.answer(
        &format!("{DEMO_ISS}/.well-known/openid-configuration"),
        200,
        &json!({"issuer": DEMO_ISS, "authorization_endpoint": format!("{DEMO_ISS}/authorize"),
            "token_endpoint": format!("{DEMO_ISS}/oauth/token"), "jwks_uri": DEMO_JWKS,
            "revocation_endpoint": format!("{DEMO_ISS}/token/revocation")})
        .to_string(),
        &[],
    );
    ports
        .http
        .answer(&format!("{DEMO_ISS}/token/revocation"), 200, "", &[]);
    let cookie = sealed_session(
        "acme",
        &json!({"org": "org_acme", "at": bob(json!({})), "rt": "rt-secret-1",
            "exp": NOW + 3600, "signed_in": NOW - 10}),
    );
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://acme.localhost:8787/_orggate/logout",
        &[
            ("cookie", &cookie),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
        ],
    );
    assert_eq!(responded(&h).status, 302);
    assert!(
        h.log.reasons.iter().any(|r| r == "refresh_token_revoked"),
        "{:?}",
        h.log
    );
    let sent = ports.http.sent.borrow();
    let rev = sent
        .iter()
        .find(|r| r.url.ends_with("/token/revocation"))
        .expect("the revocation endpoint was called");
    assert_eq!(rev.method, "POST");
    let body = String::from_utf8(rev.body.clone().unwrap()).unwrap();
    assert!(
        body.contains("token=rt-secret-1") && body.contains("token_type_hint=refresh_token"),
        "{body}"
    );
    assert!(rev
        .headers
        .iter()
        .any(|(n, v)| n == "authorization" && v.starts_with("Basic ")));
}

/// LogoutLostOnRetry: a logout the writer could not take (501) is heard when the IdP sends the
/// same token again; only a token already acted on is a replay.
#[test]
fn a_logout_that_failed_to_write_can_be_retried() {
    let ports = revocable();
    let engine = Engine::new();
    ports.writer.fail_writes.set(1);
    let t = logout_token(&eddsa_key(), json!({"jti": "lt-retry"}));
    assert_eq!(backchannel(&ports, &engine, &t).0, 501);
    assert_eq!(backchannel(&ports, &engine, &t).0, 200);
    assert_eq!(backchannel(&ports, &engine, &t).0, 400);
}

/// RevocationOutlived: revocation entries are kept `max_token_lifetime_s` (plus leeway); a token
/// that could outlive them is refused, so a revoked long-lived token never comes back.
#[test]
fn tokens_may_not_outlive_revocation_entries() {
    let ports = revocable();
    let engine = Engine::new();
    let long = bearer(&bob(json!({"exp": NOW + 2 * 86_400})));
    let h = get(&ports, &engine, &long);
    assert_eq!(body_of(responded(&h))["reason"], "token_lifetime_too_long");
    forwarded(&get(
        &ports,
        &engine,
        &bearer(&bob(json!({"exp": NOW + 86_400}))),
    ));
}

/// StaleRevocationsForever: while KV is unreachable an isolate keeps its last revocation sets for
/// up to an hour past their refresh; after that a credentialed request fails closed (503) rather
/// than being checked against nothing.
#[test]
fn revocation_sets_are_not_trusted_stale_forever() {
    let ports = revocable();
    let engine = Engine::new();
    let token = bearer(&bob(json!({"exp": NOW + 86_400})));
    forwarded(&get(&ports, &engine, &token));
    ports.store.fail.set(true);
    ports.clock.set_s(NOW + 20 + 3_000);
    forwarded(&get(&ports, &engine, &token));
    ports.clock.set_s(NOW + 20 + 3_700);
    assert_eq!(responded(&get(&ports, &engine, &token)).status, 503);
}
