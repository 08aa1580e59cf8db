//! One test per issuer preset: a token shaped exactly as that IdP documents it, verified through
//! the whole pipeline under the issuer entry of `examples/settings-multi-idp.json` (the config
//! the README shows). Only where keys come from is changed: the test's fake IdP serves them.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;
use orggate::engine::Engine;
use orggate::testing::FakePorts;
use p384::ecdsa::signature::Signer;
use serde_json::{json, Value};

const EXAMPLE: &str = "examples/settings-multi-idp.json";
const ACME_API: &str = "https://acme.app.example.com/api/projects";
const ACME_BILLING: &str = "https://acme.app.example.com/api/billing/invoices";

/// The example settings, with the issuer whose preset is `preset` taking its keys from the
/// test's IdP at `JWKS_URI`.
fn example_with_keys_for(preset: &Value) -> (Value, Value) {
    let mut settings: Value =
        serde_json::from_str(&std::fs::read_to_string(EXAMPLE).unwrap()).unwrap();
    let entry = settings["issuers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| &i["preset"] == preset)
        .unwrap_or_else(|| panic!("no issuer with preset {preset} in {EXAMPLE}"));
    let documented = entry.clone();
    entry["jwks_uri"] = JWKS_URI.into();
    (settings, documented)
}

/// Ports serving the example tenant, acme (`org_id`) under the name `acme`, and `jwks`.
fn ports(settings: &Value, org_id: &str, jwks: &str) -> FakePorts {
    let ports = ports_serving(jwks);
    ports.store.put("settings", &settings.to_string());
    ports.store.put(
        &format!("org:{org_id}"),
        &json!({"version": 1, "org_id": org_id, "name": "acme"}).to_string(),
    );
    ports.store.put("name:acme", org_id);
    ports.secrets.set("ASSERTION_KEY", &b64(&ASSERTION_SEED));
    ports
}

fn get(ports: &FakePorts, url: &str, token: &str) -> orggate::app::Handled {
    send(
        ports,
        &Engine::new(),
        "GET",
        url,
        &[("authorization", &bearer(token))],
    )
}

fn rs256(claims: Value) -> String {
    let k = rs256_key();
    mint(
        "RS256",
        &k,
        &json!({"alg": "RS256", "typ": "JWT", "kid": k.kid}),
        &claims,
    )
}

/// Org id, permissions and roles as the origin receives them (an empty list sends no header).
fn identity(f: &Forwarded) -> (String, String, String) {
    let h = |n| {
        let v = header_values(&f.headers, n);
        assert!(v.len() <= 1, "{n}: {v:?}");
        v.first().map(|s| s.to_string()).unwrap_or_default()
    };
    (
        h("x-orggate-org-id"),
        h("x-orggate-permissions"),
        h("x-orggate-roles"),
    )
}

#[track_caller]
fn refused_as(h: &orggate::app::Handled, status: u16, reason: &str) {
    let r = responded(h);
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(body(r)["reason"], reason);
}

/// Auth0 access token for an organization, as Auth0 documents it: `org_id`, `org_name`,
/// `permissions` (RBAC), `scope`, two audiences (the API and userinfo), roles under a
/// namespaced custom claim.
#[test]
fn auth0_organization_access_token() {
    let (settings, doc) =
        example_with_keys_for(&json!({"auth0": {"roles": ["https://example.com/roles"]}}));
    let ports = ports(&settings, "org_9ybsU1dN2dKfDkBi", &published_jwks());
    let token = rs256(json!({
        "iss": doc["issuer"], "sub": "auth0|64b0c3", "azp": "Zx8XWHcd6ZQYCMw0",
        "aud": ["https://api.example.com", "https://example.eu.auth0.com/userinfo"],
        "iat": NOW - 60, "exp": NOW + 3600, "scope": "openid profile email",
        "org_id": "org_9ybsU1dN2dKfDkBi", "org_name": "acme",
        "permissions": ["billing:manage", "read:projects"],
        "https://example.com/roles": ["owner"]
    }));
    let f = forwarded(&get(&ports, ACME_BILLING, &token));
    assert_eq!(
        identity(&f),
        (
            "org_9ybsU1dN2dKfDkBi".into(),
            "billing:manage read:projects".into(),
            "owner".into()
        )
    );
    assert_eq!(one_header(&f.headers, "x-orggate-caller"), "user");
}

fn clerk_token(patch: Value) -> String {
    let mut c = json!({
        "azp": "https://app.example.com", "exp": NOW + 60, "fva": [7, -1], "iat": NOW - 5,
        "iss": "https://clerk.example.com", "nbf": NOW - 15, "sid": "sess_2mJw4Yf",
        "sts": "active", "sub": "user_2mJw4Yf", "v": 2, "pla": "o:pro",
        "fea": "o:billing,o:projects",
        "o": {"id": "org_2mJw4Yf", "rol": "admin", "slg": "acme",
              "per": "manage,read", "fpm": "3,2"}
    });
    merge(&mut c, patch);
    rs256(c)
}

/// Clerk session token v2, as Clerk documents it: no `aud`; `azp` is the app's origin; the org
/// in `o`; permissions rebuilt per feature (`org:billing:manage`, `org:billing:read`,
/// `org:projects:read`); `o.rol` without the `org:` prefix.
#[test]
fn clerk_session_token_v2() {
    let (settings, doc) = example_with_keys_for(&json!("clerk"));
    assert!(doc.get("audiences").is_none());
    let ports = ports(&settings, "org_2mJw4Yf", &published_jwks());
    let f = forwarded(&get(&ports, ACME_API, &clerk_token(json!({}))));
    assert_eq!(
        identity(&f),
        (
            "org_2mJw4Yf".into(),
            "org:billing:manage org:billing:read org:projects:read".into(),
            "org:admin".into()
        )
    );
    // The example's billing rule names `billing:manage`, not Clerk's key: refused, not guessed.
    refused_as(
        &get(&ports, ACME_BILLING, &clerk_token(json!({}))),
        403,
        "missing_requirement",
    );
}

/// ClerkTemplateTokenReplayed: a Clerk JWT-template token (signed by the same instance keys,
/// minted for a third party: it has `aud` and no `sid`) is not a session token; an `azp` that is
/// not an authorized party (another site's frontend) is refused too.
#[test]
fn clerk_tokens_for_someone_else_are_refused() {
    let (settings, _) = example_with_keys_for(&json!("clerk"));
    let ports = ports(&settings, "org_2mJw4Yf", &published_jwks());
    for (patch, reason) in [
        (json!({"aud": "supabase"}), "wrong_audience"),
        (json!({"sid": null}), "missing_claim"),
        (json!({"sid": 5}), "bad_claim"),
        (
            json!({"azp": "https://evil.example.net"}),
            "wrong_authorized_party",
        ),
        (json!({"azp": null}), "wrong_authorized_party"),
    ] {
        let token = clerk_token(patch.clone());
        let h = get(&ports, ACME_API, &token);
        assert_eq!(body(responded(&h))["reason"], reason, "{patch}");
        refused_as(&h, 401, reason);
    }
}

/// Keycloak 26 access token with the `organization` scope, ids mapped: `organization` is a map
/// from alias to attributes; roles in `realm_access.roles`; `aud` from an audience mapper.
#[test]
fn keycloak_26_organization_token() {
    let (settings, doc) = example_with_keys_for(&json!("keycloak"));
    let ports = ports(
        &settings,
        "9d4a7a3e-1b7b-4a7e-9a59-0d3f2c7f1a11",
        &published_jwks(),
    );
    let token = rs256(json!({
        "exp": NOW + 300, "iat": NOW - 10, "jti": "onrtac:1", "iss": doc["issuer"],
        "aud": "orggate", "sub": "f1b2c3", "typ": "Bearer", "azp": "b2b-portal", "sid": "s-1",
        "realm_access": {"roles": ["owner", "default-roles-b2b"]},
        "scope": "openid organization profile email",
        "organization": {"acme": {"id": "9d4a7a3e-1b7b-4a7e-9a59-0d3f2c7f1a11"}}
    }));
    let f = forwarded(&get(&ports, ACME_BILLING, &token));
    assert_eq!(
        identity(&f),
        (
            "9d4a7a3e-1b7b-4a7e-9a59-0d3f2c7f1a11".into(),
            "".into(),
            "owner default-roles-b2b".into()
        )
    );
}

fn workos_token(patch: Value) -> String {
    let mut c = json!({
        "iss": "https://api.workos.com/user_management/client_123",
        "sub": "user_01HBEQKA6K4QJAS93VPE39W1JT",
        "org_id": "org_01HRDMC6CM357W30QMHMQ96Q0S", "role": "admin", "roles": ["admin"],
        "permissions": ["billing:manage", "posts:read"], "entitlements": ["audit-logs"],
        "sid": "session_01HQSXZGF8FHF7A9ZZFCW4387R", "jti": "01HQSXZXPPFPKMDD32RKTFY6PV",
        "exp": NOW + 300, "iat": NOW - 10
    });
    merge(&mut c, patch);
    rs256(c)
}

/// WorkOS AuthKit access token, as WorkOS documents it: no `aud` (the key set is the client's
/// own), `org_id`, `role` and `roles`, `permissions`, `sid`.
#[test]
fn workos_authkit_access_token() {
    let (settings, doc) = example_with_keys_for(&json!("workos"));
    assert!(doc["jwks_uri"]
        .as_str()
        .unwrap()
        .starts_with("https://api.workos.com/sso/jwks/"));
    let ports = ports(
        &settings,
        "org_01HRDMC6CM357W30QMHMQ96Q0S",
        &published_jwks(),
    );
    let f = forwarded(&get(&ports, ACME_BILLING, &workos_token(json!({}))));
    assert_eq!(
        identity(&f),
        (
            "org_01HRDMC6CM357W30QMHMQ96Q0S".into(),
            "billing:manage posts:read".into(),
            "admin".into()
        )
    );
    // A WorkOS token that carries an audience was minted for something else.
    refused_as(
        &get(
            &ports,
            ACME_API,
            &workos_token(json!({"aud": "client_999"})),
        ),
        401,
        "wrong_audience",
    );
}

/// Logto's default algorithm is ES384; the test signs with a P-384 key of its own.
fn es384(claims: &Value) -> (String, String) {
    let sk = p384::ecdsa::SigningKey::from_slice(&[0x42; 48]).unwrap();
    let point = sk.verifying_key().to_encoded_point(false);
    let jwk = json!({"kty": "EC", "crv": "P-384", "kid": "logto-1", "alg": "ES384", "use": "sig",
        "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
    let input = signing_input(
        &json!({"alg": "ES384", "typ": "at+jwt", "kid": "logto-1"}).to_string(),
        &claims.to_string(),
    );
    let sig: p384::ecdsa::Signature = sk.sign(input.as_bytes());
    (format!("{input}.{}", b64(&sig.to_bytes())), jwks_of(&[jwk]))
}

/// Logto: an organization-level API-resource token (`organization_id`, `aud` = the API,
/// permissions in `scope`) and an organization token (`aud` = `urn:logto:organization:{id}`).
#[test]
fn logto_organization_tokens() {
    let (settings, doc) = example_with_keys_for(&json!("logto"));
    let base = json!({"jti": "x1", "sub": "u1k3", "iat": NOW - 10, "exp": NOW + 3600,
        "client_id": "m0bile", "iss": doc["issuer"]});
    let mut api = base.clone();
    merge(
        &mut api,
        json!({"aud": "https://api.example.com", "organization_id": "t0r9lq",
               "scope": "billing:manage read:projects"}),
    );
    let (token, jwks) = es384(&api);
    let ports = ports(&settings, "t0r9lq", &jwks);
    let f = forwarded(&get(&ports, ACME_BILLING, &token));
    assert_eq!(identity(&f).0.as_str(), "t0r9lq", "{:?}", identity(&f));
    assert_eq!(identity(&f).1, "billing:manage read:projects");

    let mut org = base;
    merge(
        &mut org,
        json!({"aud": "urn:logto:organization:t0r9lq", "scope": "read:projects"}),
    );
    let (token, _) = es384(&org);
    let f = forwarded(&get(&ports, ACME_API, &token));
    assert_eq!(identity(&f).0, "t0r9lq");
    // The same organization token for another org does not open acme.
    merge(&mut org, json!({"aud": "urn:logto:organization:zz9999"}));
    let (token, _) = es384(&org);
    refused_as(&get(&ports, ACME_API, &token), 401, "org_mismatch");
}

/// Stytch B2B session JWT: `iss` is `stytch.com/{project_id}` (not a URL), `aud` the project,
/// the org and roles under Stytch's namespaced claims.
#[test]
fn stytch_b2b_session_jwt() {
    let (settings, doc) = example_with_keys_for(&json!("stytch"));
    let ports = ports(&settings, "organization-live-5e4b", &published_jwks());
    let token = rs256(json!({
        "aud": ["project-live-1"], "exp": NOW + 300, "iat": NOW - 10, "nbf": NOW - 10,
        "iss": doc["issuer"], "sub": "member-live-1c2d",
        "https://stytch.com/organization": {"organization_id": "organization-live-5e4b",
            "slug": "acme"},
        "https://stytch.com/session": {"id": "member-session-live-9f", "started_at": "2026-12-02T08:00:00Z",
            "last_accessed_at": "2026-12-02T08:00:00Z", "expires_at": "2026-12-02T09:00:00Z",
            "attributes": {"ip_address": "", "user_agent": ""},
            "authentication_factors": [{"type": "magic_link", "delivery_method": "email",
                "last_authenticated_at": "2026-12-02T08:00:00Z"}],
            "roles": ["stytch_member", "owner"]}
    }));
    let f = forwarded(&get(&ports, ACME_BILLING, &token));
    assert_eq!(
        identity(&f),
        (
            "organization-live-5e4b".into(),
            "".into(),
            "stytch_member owner".into()
        )
    );
}

/// Only Clerk and WorkOS, whose session tokens carry no `aud`, may leave `audiences` out.
#[test]
fn audiences_are_required_for_every_other_preset() {
    for preset in ["auth0", "keycloak", "logto", "stytch"] {
        let doc = json!({"version": 1, "issuers": [{"issuer": "https://idp.example.com/",
            "algorithms": ["RS256"], "jwks_uri": "https://idp.example.com/jwks", "preset": preset}]});
        let e = orggate::org::policy::check_document(&doc.to_string()).unwrap_err();
        assert!(
            e.to_string().contains("$.issuers[0].audiences"),
            "{preset}: {e}"
        );
    }
    // WorkOS without its client's key set would accept any WorkOS customer's session token.
    let doc = json!({"version": 1, "issuers": [{"issuer": "https://api.workos.com",
        "algorithms": ["RS256"], "preset": "workos"}]});
    let e = orggate::org::policy::check_document(&doc.to_string()).unwrap_err();
    assert!(e.to_string().contains("$.issuers[0].jwks_uri"), "{e}");
    // Clerk session tokens without aud are bound to an app only by azp: the origins are required.
    let doc = json!({"version": 1, "issuers": [{"issuer": "https://clerk.example.com",
        "algorithms": ["RS256"], "preset": "clerk"}]});
    let e = orggate::org::policy::check_document(&doc.to_string()).unwrap_err();
    assert!(
        e.to_string().contains("$.issuers[0].authorized_parties"),
        "{e}"
    );
    let doc = json!({"version": 1, "issuers": [{"issuer": "https://clerk.example.com",
        "algorithms": ["RS256"], "preset": "clerk", "authorized_parties": ["https://a.example/x"]}]});
    let e = orggate::org::policy::check_document(&doc.to_string()).unwrap_err();
    assert!(
        e.to_string().contains("$.issuers[0].authorized_parties[0]"),
        "{e}"
    );
}

/// Keycloak with `organization:*`: a member of two orgs gets both in a map. Neither is active,
/// so under the example's `active_org` the caller is a listed member of acme with no rights (the
/// realm roles are not acme's to grant).
#[test]
fn keycloak_multi_org_token_lists_without_rights() {
    let (settings, doc) = example_with_keys_for(&json!("keycloak"));
    assert_eq!(doc["multi_org"]["permissions"], "active_org");
    let ports = ports(
        &settings,
        "9d4a7a3e-1b7b-4a7e-9a59-0d3f2c7f1a11",
        &published_jwks(),
    );
    let token = rs256(json!({
        "exp": NOW + 300, "iat": NOW - 10, "iss": doc["issuer"], "aud": "orggate",
        "sub": "f1b2c3", "typ": "Bearer", "azp": "b2b-portal",
        "realm_access": {"roles": ["owner"]},
        "organization": {"acme": {"id": "9d4a7a3e-1b7b-4a7e-9a59-0d3f2c7f1a11"},
                         "globex": {"id": "0b8e61c2-5d1e-4f7a-8d4c-3f3b2a1c9e77"}}
    }));
    let f = forwarded(&get(&ports, ACME_API, &token));
    assert_eq!(one_header(&f.headers, "x-orggate-membership"), "listed");
    assert_eq!(identity(&f).2, "");
    refused_as(
        &get(&ports, ACME_BILLING, &token),
        403,
        "missing_requirement",
    );
}

/// NamespacedClaimAsDottedPath: `"roles": "https://example.com/roles"` would be read as the
/// nested keys `https://example` and `com/roles` and never match; config refuses it.
#[test]
fn namespaced_claim_names_must_be_one_key() {
    let doc = json!({"version": 1, "issuers": [{"issuer": "https://idp.example.com/",
        "audiences": ["a"], "algorithms": ["RS256"],
        "preset": {"auth0": {"roles": "https://example.com/roles"}}}]});
    let e = orggate::org::policy::check_document(&doc.to_string()).unwrap_err();
    assert!(
        e.to_string().contains("$.issuers[0].preset.auth0.roles"),
        "{e}"
    );
}
