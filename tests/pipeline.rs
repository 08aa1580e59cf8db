//! The whole pipeline through `orggate::app::handle` with fake ports and the demo configuration
//! (`dev/kv/settings.json`, `org_acme.json`, `org_globex.json`, `aliases.json`) loaded into the
//! in-memory KV. The demo IdP (`http://127.0.0.1:9000`) is scripted: discovery, then its JWKS.
//!
//! Assertions cover status, JSON body (`error`, `reason`, `rule`, `org`, `request_id`,
//! `missing`), `www-authenticate`, the forwarded URL and headers, and the `DecisionLog`.
//!
//! Tokens are EdDSA (`demo-eddsa-1`), claims (unless stated):
//! `{"iss":"http://127.0.0.1:9000","aud":"https://api.orggate.test","sub":"auth0|alice",
//!   "azp":"spa-client","email":"alice@acme.test","iat":NOW-10,"exp":NOW+600,"org_id":"org_acme",
//!   "org_name":"acme","permissions":["read:reports"]}`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;

use orggate::engine::Engine;
use orggate::forward::AssertionKey;
use orggate::http::{Outcome, Upstream, UrlParts};
use orggate::keys::jwk::parse_jwk;

use serde_json::{json, Value};

/// AcmeReader: GET /api/reports/q1 on acme.localhost with `read:reports`: forwarded to the tenant
/// origin with identity headers and a signed assertion; the decision log says why.
#[test]
fn acme_member_with_permission_is_forwarded() {
    let ports = stack();
    let engine = Engine::new();
    let t = demo_token(json!({}));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/q1?year=2024",
        &[
            ("authorization", &bearer(&t)),
            ("accept", "application/json"),
        ],
    );
    let f = forwarded(&h);
    assert_eq!(f.upstream, Upstream::Origin(ORIGIN.into()));
    assert_eq!(f.url, format!("{ORIGIN}/api/reports/q1?year=2024"));
    assert_eq!(one_header(&f.headers, "x-orggate-org-id"), "org_acme");
    assert_eq!(one_header(&f.headers, "x-orggate-org-name"), "acme");
    assert_eq!(one_header(&f.headers, "x-orggate-caller"), "user");
    assert_eq!(one_header(&f.headers, "x-orggate-subject"), "auth0|alice");
    assert_eq!(one_header(&f.headers, "x-orggate-client-id"), "spa-client");
    assert_eq!(one_header(&f.headers, "x-orggate-email"), "alice@acme.test");
    assert_eq!(
        one_header(&f.headers, "x-orggate-permissions"),
        "read:reports"
    );
    assert_eq!(one_header(&f.headers, "x-orggate-request-id"), RAY);
    // The client's other headers pass; the bearer token is the client's to send on.
    assert_eq!(one_header(&f.headers, "accept"), "application/json");
    assert_eq!(
        one_header(&f.response_headers, "cache-control"),
        "private, no-store"
    );
    assert_eq!(
        one_header(&f.response_headers, "vary"),
        "Cookie, Authorization"
    );

    let log = &h.log;
    assert_eq!(log.decision, "allow");
    assert_eq!(log.reasons, vec!["satisfied:org:reports-read"]);
    assert_eq!(log.rule.as_deref(), Some("org:reports-read"));
    assert_eq!(log.org.as_deref(), Some("org_acme"));
    assert_eq!(log.resolved_via, Some("host"));
    assert_eq!(log.subject.as_deref(), Some("auth0|alice"));
    assert_eq!(log.caller, Some("user"));
    assert_eq!(log.request_id, RAY);
    assert_eq!(log.status, 0);
    assert!(
        !log.to_json_line().contains(&t),
        "the token must never be logged"
    );
}

/// The assertion header is an EdDSA JWT from `ASSERTION_KEY` that verifies against the JWKS
/// orggate serves at /.well-known/orggate/jwks.json, and says what the identity headers say.
#[test]
fn assertion_verifies_against_served_jwks() {
    let ports = stack();
    let engine = Engine::new();
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/q1",
        &[("authorization", &bearer(&demo_token(json!({}))))],
    );
    let assertion = one_header(&forwarded(&h).headers, "x-orggate-assertion").to_string();

    let jwks = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/.well-known/orggate/jwks.json",
        &[],
    );
    let r = responded(&jwks);
    assert_eq!(r.status, 200);
    assert_eq!(r.get_header("cache-control"), Some("public, max-age=300"));
    let doc = body(r);
    assert_eq!(
        doc,
        AssertionKey::from_secret("orggate-dev-1", &b64(&ASSERTION_SEED))
            .unwrap()
            .jwks()
    );
    let key = parse_jwk(doc["keys"][0].clone()).unwrap();

    let (h64, p64, s64) = parts(&assertion);
    let input = format!("{h64}.{p64}");
    let sig = orggate::b64::decode(&s64).unwrap();
    assert!(orggate::sig::verify_eddsa(&key, input.as_bytes(), &sig));
    let mut tampered = sig.clone();
    tampered[0] ^= 1;
    assert!(!orggate::sig::verify_eddsa(
        &key,
        input.as_bytes(),
        &tampered
    ));

    let hdr: Value = serde_json::from_slice(&orggate::b64::decode(&h64).unwrap()).unwrap();
    assert_eq!(
        hdr,
        json!({"alg": "EdDSA", "typ": "JWT", "kid": "orggate-dev-1"})
    );
    let c: Value = serde_json::from_slice(&orggate::b64::decode(&p64).unwrap()).unwrap();
    assert_eq!(c["iss"], "orggate");
    assert_eq!(c["aud"], ORIGIN);
    assert_eq!(c["org_id"], "org_acme");
    assert_eq!(c["org_name"], "acme");
    assert_eq!(c["sub"], "auth0|alice");
    assert_eq!(c["caller"], "user");
    assert_eq!(c["permissions"], json!(["read:reports"]));
    assert_eq!(c["iat"], NOW);
    assert_eq!(c["exp"], NOW + 60);
    assert_eq!(c["jti"], RAY);
}

/// PathPrefixResolution: `http://localhost:8787/o/acme/api/reports/q1`: the org comes from the
/// path, and the `/o/acme` prefix is stripped before matching and forwarding.
#[test]
fn path_prefix_resolution_strips_the_prefix() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://localhost:8787/o/acme/api/reports/q1",
        &[("authorization", &bearer(&demo_token(json!({}))))],
    );
    let f = forwarded(&h);
    assert_eq!(f.url, format!("{ORIGIN}/api/reports/q1"));
    assert_eq!(h.log.resolved_via, Some("path"));
    assert_eq!(h.log.rule.as_deref(), Some("org:reports-read"));
}

/// HeaderSpoofing: the client sends `x-orggate-org-id: org_globex`, `X-Orggate-Permissions:
/// admin` and `x-orggate-assertion: forged`; orggate's session/transaction cookies ride along
/// with the app's own. Only orggate's values reach the origin, and its cookies are stripped.
#[test]
fn spoofed_identity_headers_and_orggate_cookies_are_stripped() {
    let ports = stack();
    let token = demo_token(json!({}));
    let auth = bearer(&token);
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://acme.localhost:8787/api/reports/q1",
        &[
            ("authorization", auth.as_str()),
            ("x-orggate-org-id", "org_globex"),
            ("X-Orggate-Permissions", "admin"),
            ("x-orggate-assertion", "forged"),
            ("x-orggate-caller", "client"),
            (
                "cookie",
                "theme=dark; __Host-orggate_s_acme=v1.k1.AAAA; orggate_t_abc=zzz; lang=en",
            ),
            ("cookie", "orggate_s_acme=v1.k1.BBBB"),
            ("host", "evil.example"),
        ],
    );
    let f = forwarded(&h);
    assert_eq!(one_header(&f.headers, "x-orggate-org-id"), "org_acme");
    assert_eq!(
        one_header(&f.headers, "x-orggate-permissions"),
        "read:reports"
    );
    assert_eq!(one_header(&f.headers, "x-orggate-caller"), "user");
    assert_ne!(one_header(&f.headers, "x-orggate-assertion"), "forged");
    assert_eq!(
        header_values(&f.headers, "cookie"),
        vec!["theme=dark; lang=en"]
    );
    assert!(header_values(&f.headers, "host").is_empty());
}

/// PublicRoute: /public/logo.png with no token and a spoofed identity header: forwarded with no
/// identity headers at all, and no per-user cache headers.
#[test]
fn public_route_forwards_without_identity() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://acme.localhost:8787/public/logo.png",
        &[("x-orggate-org-id", "org_globex")],
    );
    let f = forwarded(&h);
    assert_eq!(f.url, format!("{ORIGIN}/public/logo.png"));
    assert!(
        f.headers.iter().all(|(n, _)| !n.starts_with("x-orggate-")),
        "{:?}",
        f.headers
    );
    assert!(f.response_headers.is_empty(), "{:?}", f.response_headers);
    assert_eq!(h.log.decision, "allow");
    assert_eq!(h.log.reasons, vec!["public"]);
    assert_eq!(h.log.rule.as_deref(), Some("base:public"));
    assert!(
        ports.http.sent.borrow().is_empty(),
        "no token, so no IdP traffic"
    );
}

/// StaticDocs: acme's /docs/* rule forwards to the assets binding under /sites/acme/.
#[test]
fn docs_go_to_the_assets_binding() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://acme.localhost:8787/docs/intro.html",
        &[(
            "authorization",
            &bearer(&demo_token(json!({"permissions": ["read:docs"]}))),
        )],
    );
    let f = forwarded(&h);
    assert_eq!(f.upstream, Upstream::Assets);
    assert_eq!(
        f.url,
        "http://acme.localhost:8787/sites/acme/docs/intro.html"
    );
}

// --- refused ---------------------------------------------------------------------------------

/// AcmeReaderWrites: POST /api/reports/q1 with only `read:reports`: 403 naming the rule and
/// `permission:write:reports`.
#[test]
fn acme_member_without_permission_is_forbidden() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "POST",
        "http://acme.localhost:8787/api/reports/q1",
        &[("authorization", &bearer(&demo_token(json!({}))))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 403);
    assert_eq!(r.get_header("content-type"), Some("application/json"));
    assert_eq!(r.get_header("www-authenticate"), None);
    assert_eq!(
        body(r),
        json!({
            "error": "forbidden",
            "reason": "missing_requirement",
            "rule": "org:reports-write",
            "org": "org_acme",
            "request_id": RAY,
            "missing": ["permission:write:reports"],
        })
    );
    assert_eq!(h.log.decision, "deny");
    assert_eq!(
        h.log.reasons,
        vec!["missing_requirement", "permission:write:reports"]
    );
    assert_eq!(h.log.rule.as_deref(), Some("org:reports-write"));
    assert_eq!(h.log.status, 403);
}

/// GlobexRules: the same path under globex needs `reports:view` to read and role `editor` to
/// write; acme's permission name means nothing there.
#[test]
fn globex_has_its_own_rules_on_the_same_path() {
    let ports = stack();
    let engine = Engine::new();
    let url = "http://globex.localhost:8787/api/reports/q1";
    let token = demo_token(json!({"org_id": "org_globex", "org_name": "globex"}));
    let h = send(
        &ports,
        &engine,
        "GET",
        url,
        &[("authorization", &bearer(&token))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 403);
    let b = body(r);
    assert_eq!(b["rule"], "org:reports-read");
    assert_eq!(b["org"], "org_globex");
    assert_eq!(b["missing"], json!(["permission:reports:view"]));

    let viewer = demo_token(json!({"org_id": "org_globex", "org_name": "globex",
                                    "permissions": ["reports:view"]}));
    let h = send(
        &ports,
        &engine,
        "GET",
        url,
        &[("authorization", &bearer(&viewer))],
    );
    assert_eq!(
        one_header(&forwarded(&h).headers, "x-orggate-org-id"),
        "org_globex"
    );

    let h = send(
        &ports,
        &engine,
        "POST",
        url,
        &[("authorization", &bearer(&viewer))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 403);
    assert_eq!(body(r)["missing"], json!(["role:editor"]));
    assert_eq!(body(r)["rule"], "org:reports-write");
}

/// CrossOrgToken: acme's token on globex.localhost: 401 `org_mismatch` with an RFC 6750
/// `invalid_token` challenge.
#[test]
fn cross_org_token_is_unauthenticated() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://globex.localhost:8787/api/reports/q1",
        &[("authorization", &bearer(&demo_token(json!({}))))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.get_header("www-authenticate"),
        Some(r#"Bearer realm="orggate", error="invalid_token", error_description="org_mismatch""#)
    );
    assert_eq!(
        body(r),
        json!({"error": "unauthorized", "reason": "org_mismatch", "org": "org_globex", "request_id": RAY})
    );
    assert_eq!(h.log.reasons, vec!["org_mismatch"]);
}

/// NoCredentials: an API call without a token: 401 with a bare challenge (RFC 6750 §3.1: no
/// error code when no token was presented).
#[test]
fn no_credentials() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://acme.localhost:8787/api/me",
        &[],
    );
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.get_header("www-authenticate"),
        Some(r#"Bearer realm="orggate""#)
    );
    assert_eq!(body(r)["reason"], "no_credentials");
    assert_eq!(body(r)["org"], "org_acme");
}

/// ForgedToken: signed with the unpublished rogue key under the published kid: 401
/// `bad_signature`, and the log keeps the variant.
#[test]
fn forged_token_is_refused() {
    let ports = stack();
    let rogue = rogue_key();
    let token = mint(
        "RS256",
        &rogue,
        &header("RS256", "demo-rs256-1"),
        &demo_claims(json!({})),
    );
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://acme.localhost:8787/api/me",
        &[("authorization", &bearer(&token))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 401);
    assert_eq!(body(r)["reason"], "bad_signature");
    assert_eq!(
        r.get_header("www-authenticate"),
        Some(r#"Bearer realm="orggate", error="invalid_token", error_description="bad_signature""#)
    );
    assert_eq!(h.log.detail.as_deref(), Some("BadSignature"));
}

/// UnknownOrg: nope.localhost: 404 that names no org.
#[test]
fn unknown_org_is_404() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://nope.localhost:8787/api/me",
        &[("authorization", &bearer(&demo_token(json!({}))))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 404);
    assert_eq!(
        body(r),
        json!({"error": "not_found", "reason": "unknown_org", "request_id": RAY})
    );
    assert_eq!(h.log.reasons, vec!["unknown_org"]);
    assert!(
        ports.http.sent.borrow().is_empty(),
        "no token work for an unknown org"
    );
}

/// BrokenOrgConfig: `org:org_globex` in KV has `"primary": "red"`. Globex fails closed with a
/// generic 503 (detail in the log only); acme keeps working.
#[test]
fn malformed_org_config_fails_that_org_only() {
    let ports = stack();
    let mut doc: Value = serde_json::from_str(&dev_kv("org_globex.json")).unwrap();
    doc["branding"]["colors"]["primary"] = json!("red");
    ports.store.put("org:org_globex", &doc.to_string());
    let engine = Engine::new();

    let token = demo_token(json!({"org_id": "org_globex", "org_name": "globex",
                                   "permissions": ["reports:view"]}));
    let h = send(
        &ports,
        &engine,
        "GET",
        "http://globex.localhost:8787/api/reports/q1",
        &[("authorization", &bearer(&token))],
    );
    let r = responded(&h);
    assert_eq!(r.status, 503);
    assert_eq!(r.get_header("retry-after"), Some("5"));
    assert_eq!(
        body(r),
        json!({"error": "unavailable", "reason": "internal_error", "request_id": RAY})
    );
    assert_eq!(h.log.decision, "error");
    assert_eq!(h.log.org.as_deref(), Some("org_globex"));
    let detail = h.log.detail.clone().unwrap_or_default();
    assert!(detail.contains("$.branding.colors.primary"), "{detail}");

    let h = send(
        &ports,
        &engine,
        "GET",
        "http://acme.localhost:8787/api/reports/q1",
        &[("authorization", &bearer(&demo_token(json!({}))))],
    );
    assert_eq!(
        one_header(&forwarded(&h).headers, "x-orggate-org-id"),
        "org_acme"
    );
}

/// KvOutage: after a successful request, KV starts failing and the config TTL passes: acme is
/// served from the stale compiled config (stale-if-error).
#[test]
fn kv_outage_serves_stale_config() {
    let ports = stack();
    let engine = Engine::new();
    let url = "http://acme.localhost:8787/api/reports/q1";
    let auth = bearer(&demo_token(json!({})));
    forwarded(&send(
        &ports,
        &engine,
        "GET",
        url,
        &[("authorization", &auth)],
    ));
    ports.store.fail.set(true);
    ports.clock.set_s(NOW + 120);
    let h = send(&ports, &engine, "GET", url, &[("authorization", &auth)]);
    assert_eq!(
        one_header(&forwarded(&h).headers, "x-orggate-org-id"),
        "org_acme"
    );
}

/// UnmatchedRoute: GET /nothing/here matches no base or org rule: `unmatched: deny`.
#[test]
fn unmatched_route_is_denied() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://acme.localhost:8787/nothing/here",
        &[(
            "authorization",
            &bearer(&demo_token(json!({"permissions": ["admin"]}))),
        )],
    );
    let r = responded(&h);
    assert_eq!(r.status, 403);
    assert_eq!(
        body(r),
        json!({"error": "forbidden", "reason": "no_matching_rule", "rule": "unmatched",
               "org": "org_acme", "request_id": RAY, "missing": []})
    );
    assert_eq!(h.log.rule.as_deref(), Some("unmatched"));
    assert_eq!(h.log.reasons, vec!["no_matching_rule"]);
    // Denied before any token work.
    assert!(ports.http.sent.borrow().is_empty());
}

// --- path confusion --------------------------------------------------------------------------

/// Raw paths that try to reach the protected `/admin/*` through the public `/public/*` (or
/// around normalization). Sent as-is (the fake runtime does not pre-normalize).
const CONFUSION_PATHS: &[&str] = &[
    "/public/../admin/x",
    "/public/%2e%2e/admin/x",
    "/public/%2E%2E/admin/x",
    "/public/.%2e/admin/x",
    "/public/%2e./admin/x",
    "/public/..%2fadmin/x",
    "/public/..%2Fadmin/x",
    "/public/..;/admin/x",
    "/public/..%3b/admin/x",
    "//admin/x",
    "///admin//x",
    "/public/./../admin",
    "/./admin/x",
    "/%61dmin/x",
    "/public/%2e%2e/%61dmin/x",
    "/public%2f..%2fadmin",
    "/public/%2e%2e%2fadmin",
    "/public/..%5cadmin/x",
    "/public/..\\admin/x",
    "/public/%252e%252e/admin/x",
    "/public/%c0%ae%c0%ae/admin/x",
    "/public/%ef%bc%8e%ef%bc%8e/admin/x",
    "/public/..%ef%bc%8fadmin/x",
    "/public/../../admin/x",
    "/public//../admin/x",
    "/public/x/../../admin/x",
    "/public/..%00/admin/x",
    "/public/..%09/admin/x",
    "/public/%u002e%u002e/admin/x",
    "/public/x?/../../admin/x",
    "/public/x#/../../admin/x",
    "/public/%23/../../admin/x",
    "/public/ /../admin/x",
    "/public/..%2f..%2fadmin/x",
    "/admin%2fx",
    "/ADMIN/x",
    "/public/../admin/users/x",
];

/// For each raw path, with a token lacking `admin`: either a 400 refusal or another non-forward
/// refusal; and whenever the request IS forwarded, the forwarded path starts with `/public/`
/// and has no dot segment (what was authorized is what is forwarded).
#[test]
fn path_confusion_never_reaches_admin() {
    let ports = stack();
    let engine = Engine::new();
    let token = demo_token(json!({}));
    let auth = bearer(&token);
    let mut forwards = Vec::new();
    for raw in CONFUSION_PATHS {
        let url = format!("http://acme.localhost:8787{raw}");
        let h = send(&ports, &engine, "GET", &url, &[("authorization", &auth)]);
        match &h.outcome {
            Outcome::Forward(f) => {
                let path = UrlParts::parse(&f.url)
                    .expect("forward URL parses")
                    .path
                    .to_string();
                assert!(path.starts_with("/public/"), "{raw} forwarded to {}", f.url);
                assert!(
                    path.split('/').all(|s| s != ".." && s != "."),
                    "{raw} forwarded with a dot segment: {}",
                    f.url
                );
                assert!(
                    !path.to_ascii_lowercase().contains("admin"),
                    "{raw} → {}",
                    f.url
                );
                forwards.push(raw);
            }
            Outcome::Respond(r) => {
                assert!(
                    matches!(r.status, 400 | 403),
                    "{raw}: status {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
                let b = body(r);
                if r.status == 400 {
                    assert_eq!(b["error"], "bad_request", "{raw}");
                } else {
                    // Refused by the admin rule (missing permission:admin) or by no rule at all.
                    let rule = b["rule"].as_str().unwrap_or_default();
                    assert!(
                        rule.starts_with("base:admin") || rule == "unmatched",
                        "{raw}: rule {rule}"
                    );
                }
                assert_eq!(h.log.decision, "deny", "{raw}");
            }
        }
    }
    // The query/fragment cases are the only ones that reach the origin, under /public/.
    assert_eq!(
        forwards,
        vec![&"/public/x?/../../admin/x", &"/public/x#/../../admin/x"]
    );
}

/// Control for the suite: with `admin`, `/public/../admin/x` IS forwarded, to the normalized
/// `/admin/x` — so the suite above would notice a bypass.
#[test]
fn path_confusion_control_admin_reaches_normalized_admin() {
    let ports = stack();
    let h = send(
        &ports,
        &Engine::new(),
        "GET",
        "http://acme.localhost:8787/public/%2e%2e/%61dmin/x",
        &[(
            "authorization",
            &bearer(&demo_token(json!({"permissions": ["admin"]}))),
        )],
    );
    let f = forwarded(&h);
    assert_eq!(f.url, format!("{ORIGIN}/admin/x"));
    assert_eq!(h.log.rule.as_deref(), Some("base:admin"));
}

/// Specific refusal reasons for a few of the paths above.
#[test]
fn path_refusals_name_their_reason() {
    let ports = stack();
    let engine = Engine::new();
    for (raw, reason) in [
        ("/public/..%2fadmin/x", "encoded_slash"),
        ("/public/..%5cadmin/x", "encoded_backslash"),
        ("/public/..;/admin/x", "path_parameter"),
        ("/public/%252e%252e/admin/x", "double_encoding"),
        ("/public/%c0%ae%c0%ae/admin/x", "invalid_utf8"),
        ("/public/../../admin/x", "dot_segment_above_root"),
        ("/public/..%00/admin/x", "control_character"),
        ("/public/%ef%bc%8e%ef%bc%8e/admin/x", "unicode_lookalike"),
    ] {
        let h = send(
            &ports,
            &engine,
            "GET",
            &format!("http://acme.localhost:8787{raw}"),
            &[],
        );
        let r = responded(&h);
        assert_eq!(r.status, 400, "{raw}");
        assert_eq!(
            body(r),
            json!({"error": "bad_request", "reason": reason, "request_id": RAY}),
            "{raw}"
        );
    }
}
