//! Registered-claim defects (RFC 7519 §4.1, RFC 9068 §4), each refused with its own
//! `TokenError` variant. Every fixture is a correctly signed EdDSA token from the committed
//! `demo-eddsa-1` key, so the only defect is the one named. Issuer: `leeway_s: 60`.
//!
//! Unless a test says otherwise the claims are (see `common::claims`):
//! `{"iss":"https://idp.orggate.test/","aud":"https://api.orggate.test","sub":"auth0|alice",
//!   "azp":"spa-client","iat":NOW-10,"exp":NOW+600,"org_id":"org_acme","org_name":"acme",
//!   "permissions":["read:reports"]}` with header `{"alg":"EdDSA","typ":"at+jwt","kid":"demo-eddsa-1"}`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use orggate::engine::Engine;
use orggate::time::UnixSeconds;
use orggate::token::jws::Alg;
use orggate::token::TokenError;
use serde_json::json;

/// Control: the base fixture verifies, so every refusal below is caused by its one defect.
#[test]
fn valid_token_verifies() {
    let c = expect_ok(verify_default(&ed_token(json!({}))));
    assert_eq!(c.issuer, ISS);
    assert_eq!(c.alg, Alg::EdDSA);
    assert_eq!(c.exp.get(), NOW + 600);
    assert_eq!(c.identity.org_id.as_deref(), Some("org_acme"));
    assert_eq!(c.identity.subject.as_deref(), Some("auth0|alice"));
    assert_eq!(c.identity.permissions, vec!["read:reports"]);
    assert!(c.key_thumbprint.is_some());
}

/// ExpiredToken: `"exp": NOW-61` (one second past the 60 s leeway).
#[test]
fn expired() {
    let e = expect_err(verify_default(&ed_token(json!({"exp": NOW - 61}))));
    assert_eq!(
        e,
        TokenError::Expired {
            exp: UnixSeconds::new(NOW - 61),
            now: UnixSeconds::new(NOW)
        }
    );
    assert_eq!(e.reason(), "expired");
    assert!(!e.is_internal());
}

/// ExpiredAtLeewayBoundary: `"exp": NOW-60`. RFC 7519 §4.1.4: "on or after" exp is expired, and
/// exp + leeway == now is exactly that instant.
#[test]
fn expired_exactly_at_leeway_boundary() {
    let e = expect_err(verify_default(&ed_token(json!({"exp": NOW - 60}))));
    assert_eq!(
        e,
        TokenError::Expired {
            exp: UnixSeconds::new(NOW - 60),
            now: UnixSeconds::new(NOW)
        }
    );
}

/// ExpiredWithinLeeway: `"exp": NOW-30`: clock skew the issuer's 60 s leeway forgives.
#[test]
fn expired_within_leeway_is_accepted() {
    let c = expect_ok(verify_default(&ed_token(json!({"exp": NOW - 30}))));
    assert_eq!(c.exp.get(), NOW - 30);
}

/// NotYetValidToken: `"nbf": NOW+120`.
#[test]
fn not_yet_valid() {
    let e = expect_err(verify_default(&ed_token(json!({"nbf": NOW + 120}))));
    assert_eq!(
        e,
        TokenError::NotYetValid {
            nbf: UnixSeconds::new(NOW + 120),
            now: UnixSeconds::new(NOW)
        }
    );
    assert_eq!(e.reason(), "not_yet_valid");
}

/// NbfWithinLeeway: `"nbf": NOW+30` (accepted).
#[test]
fn nbf_within_leeway_is_accepted() {
    expect_ok(verify_default(&ed_token(json!({"nbf": NOW + 30}))));
}

/// FutureIatToken: `"iat": NOW+3600`.
#[test]
fn issued_in_future() {
    let e = expect_err(verify_default(&ed_token(json!({"iat": NOW + 3600}))));
    assert_eq!(
        e,
        TokenError::IssuedInFuture {
            iat: UnixSeconds::new(NOW + 3600),
            now: UnixSeconds::new(NOW)
        }
    );
    assert_eq!(e.reason(), "issued_in_future");
}

/// WrongIssuerToken: `"iss": "https://evil.example/"`.
#[test]
fn wrong_issuer() {
    let e = expect_err(verify_default(&ed_token(
        json!({"iss": "https://evil.example/"}),
    )));
    assert_eq!(e, TokenError::UnknownIssuer);
    assert_eq!(e.reason(), "unknown_issuer");
}

/// IssuerWithoutTrailingSlash: `"iss": "https://idp.orggate.test"` (configured with the slash).
/// OIDC Core 3.1.3.7 (2): exact match, no normalization. Also the upper-case host variant.
#[test]
fn issuer_trailing_slash_and_case_variants_are_unknown() {
    for iss in [
        "https://idp.orggate.test",
        "https://idp.orggate.test//",
        "https://IDP.orggate.test/",
        "https://idp.orggate.test/ ",
    ] {
        let e = expect_err(verify_default(&ed_token(json!({ "iss": iss }))));
        assert_eq!(e, TokenError::UnknownIssuer, "iss {iss:?}");
    }
}

/// MissingIssuer: no `iss`; NonStringIssuer: `"iss": 7`.
#[test]
fn missing_or_non_string_issuer() {
    let e = expect_err(verify_default(&ed_token(json!({"iss": null}))));
    assert_eq!(e, TokenError::MissingClaim { name: "iss" });
    let e = expect_err(verify_default(&ed_token(json!({"iss": 7}))));
    assert_eq!(e, TokenError::BadClaim { name: "iss" });
}

/// WrongAudienceToken: `"aud": "https://other-api.example"`.
#[test]
fn wrong_audience() {
    let e = expect_err(verify_default(&ed_token(
        json!({"aud": "https://other-api.example"}),
    )));
    assert_eq!(e, TokenError::WrongAudience);
    assert_eq!(e.reason(), "wrong_audience");
}

/// AudienceArrayWithoutOurs: `"aud": ["https://a.example", "https://api.orggate.test/"]`
/// (the second differs from ours by a trailing slash).
#[test]
fn audience_array_without_ours() {
    let e = expect_err(verify_default(&ed_token(
        json!({"aud": ["https://a.example", "https://api.orggate.test/"]}),
    )));
    assert_eq!(e, TokenError::WrongAudience);
}

/// AudienceArrayWithOurs: `"aud": ["https://idp.orggate.test/userinfo", "https://api.orggate.test"]`
/// (Auth0's shape with `openid` scope): accepted.
#[test]
fn audience_array_with_ours_is_accepted() {
    expect_ok(verify_default(&ed_token(
        json!({"aud": ["https://idp.orggate.test/userinfo", AUD]}),
    )));
}

/// MissingAudience: no `aud` (RFC 9068 §4: an access token must name its resource server).
/// NonStringAudience: `"aud": 42`.
#[test]
fn missing_or_malformed_audience() {
    let e = expect_err(verify_default(&ed_token(json!({"aud": null}))));
    assert_eq!(e, TokenError::WrongAudience);
    let e = expect_err(verify_default(&ed_token(json!({"aud": 42}))));
    assert_eq!(e, TokenError::BadClaim { name: "aud" });
}

/// MissingExp: no `exp` (an access token that never dies).
#[test]
fn missing_exp() {
    let e = expect_err(verify_default(&ed_token(json!({"exp": null}))));
    assert_eq!(e, TokenError::MissingClaim { name: "exp" });
    assert_eq!(e.reason(), "missing_claim");
}

/// NonNumericExp: `"exp": "1700000600"` (a string); NegativeExp: `"exp": -1`.
#[test]
fn malformed_exp() {
    let e = expect_err(verify_default(&ed_token(json!({"exp": "1700000600"}))));
    assert_eq!(e, TokenError::BadClaim { name: "exp" });
    let e = expect_err(verify_default(&ed_token(json!({"exp": -1}))));
    assert_eq!(e, TokenError::BadClaim { name: "exp" });
}

/// FractionalExp: `"exp": NOW+600.5` (RFC 7519 §2 NumericDate may be fractional): accepted.
#[test]
fn fractional_exp_is_accepted() {
    let c = expect_ok(verify_default(&ed_token(
        json!({"exp": (NOW + 600) as f64 + 0.5}),
    )));
    assert_eq!(c.exp.get(), NOW + 600);
}

/// TooOldToken: issuer `max_age_s: 300`, `"iat": NOW-400` (older than 300 s + 60 s leeway).
#[test]
fn max_age_exceeded() {
    let t = tenant(json!({"max_age_s": 300}));
    let e = expect_err(run(
        &idp(),
        &Engine::new(),
        &t,
        &ed_token(json!({"iat": NOW - 400})),
    ));
    assert_eq!(
        e,
        TokenError::TooOld {
            iat: UnixSeconds::new(NOW - 400),
            max_age: 300
        }
    );
    assert_eq!(e.reason(), "too_old");
    // Control: NOW-350 is within max_age + leeway.
    expect_ok(run(
        &idp(),
        &Engine::new(),
        &t,
        &ed_token(json!({"iat": NOW - 350})),
    ));
}

/// MaxAgeWithoutIat: issuer `max_age_s: 300`, no `iat`: the age cannot be checked.
#[test]
fn max_age_needs_iat() {
    let t = tenant(json!({"max_age_s": 300}));
    let e = expect_err(run(
        &idp(),
        &Engine::new(),
        &t,
        &ed_token(json!({"iat": null})),
    ));
    assert_eq!(e, TokenError::MissingClaim { name: "iat" });
}

/// CachedTokenOutlivesMaxAge: issuer `max_age_s: 300`, `"iat": NOW-10`, `"exp": NOW+3600`.
/// Verified at NOW (fine), then presented again at NOW+400: a fresh engine refuses it as
/// `TooOld`, and so must the engine that cached it.
#[test]
fn cached_token_is_still_refused_once_too_old() {
    let t = tenant(json!({"max_age_s": 300}));
    let ports = idp();
    let engine = Engine::new();
    let token = ed_token(json!({"exp": NOW + 3600}));
    expect_ok(run(&ports, &engine, &t, &token));
    ports.clock.set_s(NOW + 400);
    // Without the verified-token cache:
    let fresh = expect_err(run(&ports, &Engine::new(), &t, &token));
    assert_eq!(
        fresh,
        TokenError::TooOld {
            iat: UnixSeconds::new(NOW - 10),
            max_age: 300
        }
    );
    // With it: must be the same answer.
    let cached = run(&ports, &engine, &t, &token);
    assert_eq!(cached.map(|c| c.exp), Err(fresh));
}

/// CachedTokenAfterAudienceChange: verified while the tenant accepted `https://api.orggate.test`;
/// the settings in KV then change the issuer's audiences to `https://api-v2.orggate.test` only.
/// The same engine (same isolate) must re-check the audience against the new config.
#[test]
fn cached_token_is_rechecked_against_new_audience_config() {
    let ports = idp();
    let engine = Engine::new();
    let token = ed_token(json!({}));
    expect_ok(run(&ports, &engine, &tenant(json!({})), &token));
    let v2 = tenant(json!({"audiences": ["https://api-v2.orggate.test"]}));
    let fresh = expect_err(run(&ports, &Engine::new(), &v2, &token));
    assert_eq!(fresh, TokenError::WrongAudience);
    let cached = run(&ports, &engine, &v2, &token);
    assert_eq!(cached.map(|c| c.exp), Err(TokenError::WrongAudience));
}
