//! Compact-JWS structure and JOSE header defects (RFC 7515 §4, §5.2, §7.1). Each fixture is
//! refused with its specific `TokenError` before any key is fetched; the tests check that too
//! (`sent_urls` empty), because a header that can make us fetch is a header an attacker controls.
//!
//! Base claims (unless stated): `common::claims()` =
//! `{"iss":"https://idp.orggate.test/","aud":"https://api.orggate.test","sub":"auth0|alice",
//!   "azp":"spa-client","iat":NOW-10,"exp":NOW+600,"org_id":"org_acme","org_name":"acme",
//!   "permissions":["read:reports"]}`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use orggate::engine::Engine;
use orggate::token::TokenError;
use serde_json::json;

/// Verifies with a fresh engine and the demo IdP; returns the error and the URLs fetched.
fn refuse(raw: &str) -> (TokenError, Vec<String>) {
    let ports = idp();
    let e = expect_err(run(&ports, &Engine::new(), &tenant(json!({})), raw));
    (e, sent_urls(&ports))
}

/// Like `refuse`, and asserts nothing was fetched.
#[track_caller]
fn refuse_offline(raw: &str) -> TokenError {
    let (e, sent) = refuse(raw);
    assert!(sent.is_empty(), "{e:?} was decided after fetching {sent:?}");
    e
}

/// An EdDSA token with `header` (kid demo-eddsa-1 unless overridden) and the base claims.
fn with_header(h: serde_json::Value) -> String {
    let k = eddsa_key();
    let mut hv = header("EdDSA", &k.kid);
    merge(&mut hv, h);
    mint("EdDSA", &k, &hv, &claims())
}

// --- alg: none -------------------------------------------------------------------------------

/// AlgNoneToken: header `{"alg":"none","typ":"JWT"}`, signature part "c2ln" (non-empty, so the
/// alg itself is what gets refused). Also `None` and `nOnE` (RFC 7515 §4.1.1: case-sensitive,
/// so neither is an alias of anything).
#[test]
fn alg_none_in_any_case_is_unsupported() {
    for alg in ["none", "None", "nOnE", "NONE"] {
        let input = signing_input(
            &json!({"alg": alg, "typ": "JWT"}).to_string(),
            &claims().to_string(),
        );
        let e = refuse_offline(&format!("{input}.c2ln"));
        assert_eq!(
            e,
            TokenError::UnsupportedAlgorithm {
                alg: alg.to_string()
            },
            "alg {alg}"
        );
        assert_eq!(e.reason(), "unsupported_alg");
    }
}

/// AlgNoneUnsecuredJws: the RFC 7515 §A.5 shape `{"alg":"none"}.payload.` (empty signature).
#[test]
fn alg_none_unsecured_form_is_malformed() {
    let input = signing_input(r#"{"alg":"none"}"#, &claims().to_string());
    let e = refuse_offline(&format!("{input}."));
    assert_eq!(
        e,
        TokenError::Malformed {
            reason: "missing signature"
        }
    );
}

/// LowercaseAlg: `{"alg":"rs256"}`, and `{"alg":"HS512"}` / `{"alg":"ES256K"}` (not ours).
#[test]
fn unknown_or_miscased_algorithms() {
    for alg in ["rs256", "Rs256", "HS512", "ES256K", "Ed25519", ""] {
        let input = signing_input(&json!({ "alg": alg }).to_string(), &claims().to_string());
        let e = refuse_offline(&format!("{input}.c2ln"));
        assert_eq!(
            e,
            TokenError::UnsupportedAlgorithm {
                alg: alg.to_string()
            }
        );
    }
}

/// MissingAlg: header `{"typ":"JWT","kid":"demo-eddsa-1"}`; NonStringAlg: `{"alg":256}`.
#[test]
fn missing_or_non_string_alg() {
    for h in [
        json!({"typ": "JWT", "kid": "demo-eddsa-1"}),
        json!({"alg": 256}),
    ] {
        let input = signing_input(&h.to_string(), &claims().to_string());
        let e = refuse_offline(&format!("{input}.c2ln"));
        assert_eq!(
            e,
            TokenError::Malformed {
                reason: "header has no alg"
            },
            "{h}"
        );
    }
}

// --- shape -----------------------------------------------------------------------------------

/// StrippedSignature: a valid EdDSA token with its signature removed: `header.payload.`.
#[test]
fn stripped_signature() {
    let (h, p, _) = parts(&ed_token(json!({})));
    let e = refuse_offline(&format!("{h}.{p}."));
    assert_eq!(
        e,
        TokenError::Malformed {
            reason: "missing signature"
        }
    );
    assert_eq!(e.reason(), "malformed_token");
}

/// TruncatedToken: `header.payload` (two parts), one part, four parts, five (a JWE).
#[test]
fn wrong_number_of_parts() {
    let (h, p, s) = parts(&ed_token(json!({})));
    for raw in [
        format!("{h}.{p}"),
        h.clone(),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        String::new(),
    ] {
        let e = refuse_offline(&raw);
        assert_eq!(
            e,
            TokenError::Malformed {
                reason: "not three dot-separated parts"
            },
            "{raw}"
        );
    }
}

/// EmptyHeader / EmptyPayload: `.payload.sig` and `header..sig`.
#[test]
fn empty_header_or_payload() {
    let (h, p, s) = parts(&ed_token(json!({})));
    for raw in [format!(".{p}.{s}"), format!("{h}..{s}")] {
        assert_eq!(
            refuse_offline(&raw),
            TokenError::Malformed {
                reason: "empty header or payload"
            }
        );
    }
}

/// BadBase64: standard-alphabet `+` in the header, `/` in the payload, `=` padding on the
/// signature, whitespace (RFC 7515 §2: base64url without padding, nothing else).
#[test]
fn bad_base64_per_part() {
    let (h, p, s) = parts(&ed_token(json!({})));
    let cases = [
        (format!("{}+.{p}.{s}", &h[..h.len() - 1]), "header"),
        (format!("{h}.{}/.{s}", &p[..p.len() - 1]), "payload"),
        (format!("{h}.{p}.{s}=="), "signature"),
        (format!("{h}.{p}.{s}="), "signature"),
        (format!("{h}.{p} .{s}"), "payload"),
        (format!("{h}.{p}.{}*", &s[..s.len() - 1]), "signature"),
    ];
    for (raw, part) in cases {
        assert_eq!(
            refuse_offline(&raw),
            TokenError::BadBase64 { part },
            "{raw}"
        );
    }
}

/// NonJsonPayload: payload `not json` (base64url of plain text); NonObjectPayload: `[1,2]`;
/// NonJsonHeader: header `{alg:EdDSA}`; TrailingGarbage: `{"alg":"EdDSA"} x`.
#[test]
fn non_json_parts() {
    let k = eddsa_key();
    let h = header("EdDSA", &k.kid).to_string();
    let cases = [
        (mint_raw("EdDSA", &k, &h, "not json"), "payload"),
        (mint_raw("EdDSA", &k, &h, "[1,2]"), "payload"),
        (mint_raw("EdDSA", &k, &h, "\"a string\""), "payload"),
        (
            mint_raw("EdDSA", &k, "{alg:EdDSA}", &claims().to_string()),
            "header",
        ),
        (
            mint_raw("EdDSA", &k, r#"{"alg":"EdDSA"} x"#, &claims().to_string()),
            "header",
        ),
    ];
    for (raw, part) in cases {
        let e = refuse_offline(&raw);
        assert_eq!(e, TokenError::NotJson { part }, "{raw}");
        assert_eq!(e.reason(), "not_json");
    }
}

/// DuplicateClaims: hand-assembled payload
/// `{"iss":"https://idp.orggate.test/","aud":"https://api.orggate.test","exp":NOW+600,
///   "org_id":"org_acme","org_id":"org_globex"}`, correctly signed. Parsers disagree on which
/// duplicate wins (RFC 7515 §5.2 step 4), so orggate refuses the token.
#[test]
fn duplicate_claim_is_refused() {
    let k = eddsa_key();
    let payload = format!(
        r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"org_id":"org_acme","org_id":"org_globex"}}"#,
        NOW + 600
    );
    let raw = mint_raw("EdDSA", &k, &header("EdDSA", &k.kid).to_string(), &payload);
    let e = refuse_offline(&raw);
    assert_eq!(
        e,
        TokenError::DuplicateMember {
            part: "payload",
            name: "org_id".into()
        }
    );
    assert_eq!(e.reason(), "duplicate_claim");
}

/// NestedDuplicateClaim: `{"o":{"id":"org_a","id":"org_b"}, ...}` (Clerk's shape) and a
/// duplicate `alg` in the header `{"alg":"EdDSA","alg":"HS256","kid":"demo-eddsa-1"}`.
#[test]
fn nested_and_header_duplicates_are_refused() {
    let k = eddsa_key();
    let payload = format!(
        r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"o":{{"id":"org_a","id":"org_b"}}}}"#,
        NOW + 600
    );
    let raw = mint_raw("EdDSA", &k, &header("EdDSA", &k.kid).to_string(), &payload);
    assert_eq!(
        refuse_offline(&raw),
        TokenError::DuplicateMember {
            part: "payload",
            name: "id".into()
        }
    );
    let raw = mint_raw(
        "EdDSA",
        &k,
        r#"{"alg":"EdDSA","alg":"HS256","kid":"demo-eddsa-1"}"#,
        &claims().to_string(),
    );
    assert_eq!(
        refuse_offline(&raw),
        TokenError::DuplicateMember {
            part: "header",
            name: "alg".into()
        }
    );
}

/// OversizedToken: a correctly signed token whose `padding` claim makes it 16 KiB + 1 byte
/// or more. Refused before parsing, issuer lookup or any fetch.
#[test]
fn oversized_is_refused_before_anything_else() {
    let mut raw = ed_token(json!({"padding": "x".repeat(13_000)}));
    let mut pad = 13_000;
    while raw.len() <= 16 * 1024 {
        pad += 500;
        raw = ed_token(json!({ "padding": "x".repeat(pad) }));
    }
    let ports = idp();
    let engine = Engine::new();
    let e = expect_err(run(&ports, &engine, &tenant(json!({})), &raw));
    assert_eq!(
        e,
        TokenError::Oversized {
            len: raw.len(),
            max: 16 * 1024
        }
    );
    assert_eq!(e.reason(), "token_too_large");
    assert!(
        ports.http.sent.borrow().is_empty(),
        "oversized token caused a fetch"
    );
    assert_eq!(engine.with_jwks(|c| c.fetch_count(ISS)), 0);
    // Garbage of the same size is refused the same way (no parsing happened).
    let junk = "!".repeat(16 * 1024 + 1);
    let e = expect_err(run(&ports, &engine, &tenant(json!({})), &junk));
    assert_eq!(
        e,
        TokenError::Oversized {
            len: 16 * 1024 + 1,
            max: 16 * 1024
        }
    );
    assert!(ports.http.sent.borrow().is_empty());
}

/// Control for the size limit: a token of exactly 16 KiB is parsed and verified. (Header
/// `{"alg":"EdDSA","typ":"at+jwt","kid":"demo-eddsa-1","x-pad":"…"}`: unknown header members are
/// ignored; the two paddings let the base64url lengths land exactly on 16384.)
#[test]
fn token_of_exactly_the_limit_is_accepted() {
    let k = eddsa_key();
    let mut found = None;
    'search: for h_pad in 0..4 {
        let mut h = header("EdDSA", &k.kid);
        merge(&mut h, json!({ "x-pad": "y".repeat(h_pad) }));
        let base = mint("EdDSA", &k, &h, &claims_with(json!({"padding": ""})));
        let approx = (16 * 1024 - base.len()) * 3 / 4;
        for n in approx.saturating_sub(4)..approx + 4 {
            let t = mint(
                "EdDSA",
                &k,
                &h,
                &claims_with(json!({ "padding": "x".repeat(n) })),
            );
            if t.len() == 16 * 1024 {
                found = Some(t);
                break 'search;
            }
        }
    }
    let raw = found.expect("paddings that hit 16384 exactly");
    expect_ok(verify_default(&raw));
}

// --- header parameters -----------------------------------------------------------------------

/// JkuInjection / X5uInjection / JwkInjection / X5cInjection: a header naming its own key, e.g.
/// `{"alg":"EdDSA","kid":"demo-eddsa-1","jku":"https://evil.example/jwks.json"}`. Refused
/// without fetching the URL (or anything else).
#[test]
fn key_selecting_headers_are_forbidden() {
    let evil_jwk = json!({"kty":"OKP","crv":"Ed25519","x": eddsa_key().public()["x"]});
    let cases = [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", evil_jwk),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIU"])),
    ];
    for (name, value) in cases {
        let mut h = serde_json::Map::new();
        h.insert(name.to_string(), value);
        let (e, sent) = refuse(&with_header(serde_json::Value::Object(h)));
        assert_eq!(e, TokenError::ForbiddenHeader { name }, "{name}");
        assert_eq!(e.reason(), "forbidden_header");
        assert!(sent.is_empty(), "{name}: fetched {sent:?}");
    }
}

/// UnknownCrit: `{"alg":"EdDSA","kid":"demo-eddsa-1","crit":["exp"],"exp":1}` (RFC 7515
/// §4.1.11: an extension we do not understand must be refused), and a malformed `crit`.
#[test]
fn unknown_crit_is_refused() {
    let e = refuse_offline(&with_header(json!({"crit": ["exp"], "exp": 1})));
    assert_eq!(e, TokenError::UnknownCrit { name: "exp".into() });
    assert_eq!(e.reason(), "unknown_crit");
    let e = refuse_offline(&with_header(json!({"crit": ["b64"], "b64": false})));
    assert_eq!(e, TokenError::UnknownCrit { name: "b64".into() });
    let e = refuse_offline(&with_header(json!({"crit": "b64"})));
    assert_eq!(
        e,
        TokenError::UnknownCrit {
            name: "<malformed>".into()
        }
    );
}

/// BadTyp: `"typ": "dpop+jwt"`, `"JWE"`, `"secevent+jwt"`, `"id_token+jwt"`; typ not a string.
#[test]
fn bad_typ_is_refused() {
    for typ in [
        "dpop+jwt",
        "JWE",
        "secevent+jwt",
        "application/dpop+jwt",
        "",
    ] {
        let e = refuse_offline(&with_header(json!({ "typ": typ })));
        let expect = typ.to_ascii_lowercase();
        let expect = expect.strip_prefix("application/").unwrap_or(&expect);
        assert_eq!(
            e,
            TokenError::BadType {
                typ: expect.to_string()
            },
            "typ {typ:?}"
        );
        assert_eq!(e.reason(), "bad_typ");
    }
    let e = refuse_offline(&with_header(json!({"typ": 1})));
    assert_eq!(
        e,
        TokenError::Malformed {
            reason: "typ is not a string"
        }
    );
}

/// Accepted typ spellings (RFC 7519 §5.1, RFC 9068 §2.1, media types case-insensitive), and
/// no typ at all.
#[test]
fn accepted_typ_spellings() {
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!("at+jwt"),
        json!("AT+JWT"),
        json!("application/at+jwt"),
        json!("application/JWT"),
        serde_json::Value::Null,
    ] {
        let raw = with_header(json!({ "typ": typ }));
        expect_ok(verify_default(&raw));
    }
}

/// NonStringKid: `"kid": 1` is malformed, not "no kid".
#[test]
fn non_string_kid_is_malformed() {
    let e = refuse_offline(&with_header(json!({"kid": 1})));
    assert_eq!(
        e,
        TokenError::Malformed {
            reason: "kid is not a string"
        }
    );
}
