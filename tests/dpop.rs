//! RFC 9449 DPoP through the whole pipeline: a DPoP-bound access token (`cnf.jkt`) with a proof
//! signed by the client's key (`demo-es256-1`). Each test is named by the attack it stops.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::pipeline::*;
use common::*;
use orggate::engine::Engine;
use orggate::testing::FakePorts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const URL: &str = "http://acme.localhost:8787/api/reports/1";

fn jkt(k: &DevKey) -> String {
    orggate::keys::jwk::parse_jwk(k.public())
        .unwrap()
        .rfc7638_thumbprint()
        .unwrap()
}

/// A token bound to the client's key.
fn bound_token() -> String {
    demo_token(json!({"cnf": {"jkt": jkt(&es256_key())}}))
}

/// A proof signed by `key` (ES256 or EdDSA) for `method` and `htu`, for `token`.
fn proof_with(key: &DevKey, alg: &str, token: &str, patch: Value, header_patch: Value) -> String {
    let mut h = json!({"typ": "dpop+jwt", "alg": alg, "jwk": key.public()});
    merge(&mut h, header_patch);
    let mut c = json!({
        "jti": format!("jti-{}", rand_hex()), "htm": "GET", "htu": URL, "iat": NOW,
        "ath": b64(&Sha256::digest(token.as_bytes())),
    });
    merge(&mut c, patch);
    mint(alg, key, &h, &c)
}

fn proof(token: &str, patch: Value) -> String {
    proof_with(&es256_key(), "ES256", token, patch, json!({}))
}

fn rand_hex() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!("{:x}", N.fetch_add(1, Ordering::Relaxed))
}

fn dpop_send(
    ports: &FakePorts,
    engine: &Engine,
    method: &str,
    url: &str,
    token: &str,
    proof: &str,
) -> orggate::app::Handled {
    send(
        ports,
        engine,
        method,
        url,
        &[("authorization", &format!("DPoP {token}")), ("dpop", proof)],
    )
}

#[track_caller]
fn refused(h: &orggate::app::Handled, reason: &str) {
    let r = responded(h);
    assert_eq!(r.status, 401, "{:?}", h.log);
    assert_eq!(body(r)["reason"], reason, "{:?}", h.log);
    let challenges = header_values(&r.headers, "www-authenticate");
    assert!(
        challenges.iter().any(|c| c.starts_with("DPoP algs=")),
        "{challenges:?}"
    );
}

#[test]
fn a_valid_proof_with_its_bound_token_is_forwarded() {
    let ports = stack();
    let engine = Engine::new();
    let token = bound_token();
    let h = dpop_send(
        &ports,
        &engine,
        "GET",
        URL,
        &token,
        &proof(&token, json!({})),
    );
    let f = forwarded(&h);
    assert_eq!(one_header(&f.headers, "x-orggate-subject"), "auth0|alice");
    // The proof of the next request is checked too (a new jti).
    let h = dpop_send(
        &ports,
        &engine,
        "GET",
        URL,
        &token,
        &proof(&token, json!({})),
    );
    forwarded(&h);
}

/// ProofReplay (RFC 9449 §11.1): the same proof twice.
#[test]
fn a_replayed_proof_is_refused() {
    let ports = stack();
    let engine = Engine::new();
    let token = bound_token();
    let p = proof(&token, json!({}));
    forwarded(&dpop_send(&ports, &engine, "GET", URL, &token, &p));
    refused(
        &dpop_send(&ports, &engine, "GET", URL, &token, &p),
        "invalid_dpop_proof",
    );
}

/// ProofForAnotherRequest: a proof made for another URL, method or time, or with `typ` or `ath`
/// of another request.
#[test]
fn a_proof_for_another_request_is_refused() {
    let ports = stack();
    let engine = Engine::new();
    let token = bound_token();
    for (patch, header) in [
        (
            json!({"htu": "http://acme.localhost:8787/api/reports/2"}),
            json!({}),
        ),
        (
            json!({"htu": "http://globex.localhost:8787/api/reports/1"}),
            json!({}),
        ),
        (json!({"htm": "POST"}), json!({})),
        (json!({"iat": NOW - 301}), json!({})),
        (json!({"iat": NOW + 61}), json!({})),
        (
            json!({"ath": b64(&Sha256::digest(b"another token"))}),
            json!({}),
        ),
        (json!({"ath": null}), json!({})),
        (json!({"jti": null}), json!({})),
        (json!({}), json!({"typ": "JWT"})),
        (json!({}), json!({"jwk": null})),
    ] {
        let p = proof_with(&es256_key(), "ES256", &token, patch.clone(), header.clone());
        let h = dpop_send(&ports, &engine, "GET", URL, &token, &p);
        refused(&h, "invalid_dpop_proof");
    }
    // The same URL written differently (default port, case, a dot segment, a query) is the same.
    for htu in [
        "HTTP://ACME.localhost:8787/api/reports/1",
        "http://acme.localhost:8787/api/./reports/1",
        "http://acme.localhost:8787/api/reports/1?x=1",
    ] {
        let p = proof(&token, json!({"htu": htu}));
        forwarded(&dpop_send(&ports, &engine, "GET", URL, &token, &p));
    }
}

/// StolenBoundToken: an attacker with the token but not the key signs a proof with their own
/// key. Refused, even after the victim's own request put the decision in the cache.
#[test]
fn a_stolen_bound_token_with_the_thiefs_key_is_refused() {
    let ports = stack();
    let engine = Engine::new();
    let token = bound_token();
    forwarded(&dpop_send(
        &ports,
        &engine,
        "GET",
        URL,
        &token,
        &proof(&token, json!({})),
    ));
    assert_eq!(engine.decisions_len(), 1);
    let thief = proof_with(&eddsa_key(), "EdDSA", &token, json!({}), json!({}));
    refused(
        &dpop_send(&ports, &engine, "GET", URL, &token, &thief),
        "dpop_binding_mismatch",
    );
    // A proof naming a key it was not signed with (the client's RSA key, signed by the rogue
    // one) does not verify.
    let mut h = json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": rs256_key().public()});
    h["jwk"].as_object_mut().unwrap().remove("alg");
    let c = json!({"jti": "forged-1", "htm": "GET", "htu": URL, "iat": NOW,
        "ath": b64(&Sha256::digest(token.as_bytes()))});
    let forged = mint("RS256", &rogue_key(), &h, &c);
    refused(
        &dpop_send(&ports, &engine, "GET", URL, &token, &forged),
        "invalid_dpop_proof",
    );
    // An alg the key cannot make.
    let wrong_alg = proof_with(
        &es256_key(),
        "ES256",
        &token,
        json!({}),
        json!({"alg": "EdDSA"}),
    );
    refused(
        &dpop_send(&ports, &engine, "GET", URL, &token, &wrong_alg),
        "invalid_dpop_proof",
    );
}

/// UnboundTokenAsDpop (RFC 9449 §7.1): a plain token under the DPoP scheme is refused; a bound
/// token under the Bearer scheme too (tests/security.rs); the scheme needs its proof header.
#[test]
fn the_dpop_scheme_needs_a_bound_token_and_one_proof() {
    let ports = stack();
    let engine = Engine::new();
    let plain = demo_token(json!({}));
    refused(
        &dpop_send(
            &ports,
            &engine,
            "GET",
            URL,
            &plain,
            &proof(&plain, json!({})),
        ),
        "dpop_binding_mismatch",
    );
    let token = bound_token();
    let h = send(
        &ports,
        &engine,
        "GET",
        URL,
        &[("authorization", &format!("DPoP {token}"))],
    );
    refused(&h, "malformed_credentials");
    let p = proof(&token, json!({}));
    let h = send(
        &ports,
        &engine,
        "GET",
        URL,
        &[
            ("authorization", &format!("DPoP {token}")),
            ("dpop", &p),
            ("dpop", &p),
        ],
    );
    refused(&h, "malformed_credentials");
    // A 401 without credentials still advertises DPoP.
    let h = send(&ports, &engine, "GET", URL, &[]);
    let r = responded(&h);
    assert!(header_values(&r.headers, "www-authenticate")
        .contains(&"DPoP algs=\"ES256 ES384 EdDSA PS256 RS256\""));
}
