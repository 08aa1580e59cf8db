//! Shared test helpers: the committed dev keys, token minting with jwt-compact, a scripted IdP,
//! tenant/org configs and small assertions. Each `tests/*.rs` file that says `mod common;`
//! compiles this module once; not every file uses every helper.
#![allow(dead_code)]

pub mod pipeline;

use jwt_compact::alg::{Ed25519, Es256, Hs256, Hs256Key, Rsa, RsaPrivateKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmSignature};
use orggate::engine::Engine;
use orggate::org::policy::TenantPolicy;
use orggate::testing::FakePorts;
use orggate::token::{TokenError, VerifiedClaims};
use serde_json::{json, Map, Value};
use std::rc::Rc;

/// The issuer the token tests configure (`jwks_uri` explicit, so no discovery round trip).
pub const ISS: &str = "https://idp.orggate.test/";
pub const JWKS_URI: &str = "https://idp.orggate.test/.well-known/jwks.json";
pub const AUD: &str = "https://api.orggate.test";
/// The fixed clock of every test: 2023-11-14T22:13:20Z.
pub const NOW: u64 = 1_700_000_000;

// ---------------------------------------------------------------------------------------------
// Keys

/// One committed dev key (`dev/keys/*.jwk.json`): the private JWK as text, and its metadata.
#[derive(Debug, Clone)]
pub struct DevKey {
    pub kid: String,
    pub private_text: String,
    pub private: Value,
}

impl DevKey {
    /// The public half, as the IdP would publish it (RFC 7517 §4: private members removed).
    pub fn public(&self) -> Value {
        let mut v = self.private.clone();
        let m = v.as_object_mut().expect("a JWK is an object");
        for k in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
            m.remove(k);
        }
        v
    }

    /// The public half under another kid and with `alg` removed (for RS384/RS512/PS256, whose
    /// tokens the `"alg": "RS256"` of the committed JWK would otherwise refuse).
    pub fn public_as(&self, kid: &str) -> Value {
        let mut v = self.public();
        let m = v.as_object_mut().expect("a JWK is an object");
        m.insert("kid".into(), kid.into());
        m.remove("alg");
        v
    }
}

/// `name` is the file stem: `demo-rs256-1`, `demo-es256-1`, `demo-eddsa-1`, `rogue-rs256`.
pub fn dev_key(name: &str) -> DevKey {
    let path = format!("{}/dev/keys/{name}.jwk.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let private: Value = serde_json::from_str(&text).expect("dev key is JSON");
    let kid = private["kid"]
        .as_str()
        .expect("dev key has a kid")
        .to_string();
    DevKey {
        kid,
        private_text: text,
        private,
    }
}

pub fn rs256_key() -> DevKey {
    dev_key("demo-rs256-1")
}
pub fn es256_key() -> DevKey {
    dev_key("demo-es256-1")
}
pub fn eddsa_key() -> DevKey {
    dev_key("demo-eddsa-1")
}
pub fn rogue_key() -> DevKey {
    dev_key("rogue-rs256")
}

/// A JWKS document from public JWKs.
pub fn jwks_of(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// What the demo IdP publishes: the three demo keys, never the rogue one.
pub fn published_jwks() -> String {
    jwks_of(&[
        rs256_key().public(),
        es256_key().public(),
        eddsa_key().public(),
    ])
}

// ---------------------------------------------------------------------------------------------
// Signing

pub fn b64(bytes: &[u8]) -> String {
    orggate::b64::encode(bytes)
}

/// Signs `input` with `key` under the JWS algorithm `alg` (RFC 7518 §3).
pub fn sign_bytes(alg: &str, key: &DevKey, input: &[u8]) -> Vec<u8> {
    let jwk: JsonWebKey<'_> = serde_json::from_str(&key.private_text).expect("JWK");
    match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            let sk = RsaPrivateKey::try_from(&jwk).expect("RSA private key");
            Rsa::with_name(alg).sign(&sk, input).as_bytes().to_vec()
        }
        "ES256" => {
            let sk = <Es256 as Algorithm>::SigningKey::try_from(&jwk).expect("P-256 key");
            Es256.sign(&sk, input).as_bytes().to_vec()
        }
        "EdDSA" => {
            let sk = <Ed25519 as Algorithm>::SigningKey::try_from(&jwk).expect("Ed25519 key");
            Ed25519.sign(&sk, input).as_bytes().to_vec()
        }
        other => panic!("sign_bytes: {other} is not an asymmetric alg"),
    }
}

/// HMAC-SHA-256 (RFC 7518 §3.2) over `input` with `secret`.
pub fn hs256_bytes(secret: &[u8], input: &[u8]) -> Vec<u8> {
    Hs256
        .sign(&Hs256Key::new(secret), input)
        .as_bytes()
        .to_vec()
}

/// `BASE64URL(header_text) || '.' || BASE64URL(payload_text)`: texts are used byte for byte,
/// so hand-assembled JSON (duplicate members) survives.
pub fn signing_input(header_text: &str, payload_text: &str) -> String {
    format!(
        "{}.{}",
        b64(header_text.as_bytes()),
        b64(payload_text.as_bytes())
    )
}

/// A compact JWS over hand-written header and payload texts, signed with `key` under `alg`.
pub fn mint_raw(alg: &str, key: &DevKey, header_text: &str, payload_text: &str) -> String {
    let input = signing_input(header_text, payload_text);
    let sig = sign_bytes(alg, key, input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

/// A compact JWS with the given header and claims objects.
pub fn mint(alg: &str, key: &DevKey, header: &Value, claims: &Value) -> String {
    mint_raw(alg, key, &header.to_string(), &claims.to_string())
}

/// The usual header: `{"alg", "typ": "at+jwt", "kid"}`.
pub fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "typ": "at+jwt", "kid": kid})
}

/// An Auth0-shaped access token's claims for acme, valid at [`NOW`].
pub fn claims() -> Value {
    json!({
        "iss": ISS,
        "aud": AUD,
        "sub": "auth0|alice",
        "azp": "spa-client",
        "iat": NOW - 10,
        "exp": NOW + 600,
        "org_id": "org_acme",
        "org_name": "acme",
        "permissions": ["read:reports"],
    })
}

/// `claims()` with `patch` merged in; a `null` in `patch` removes the member.
pub fn claims_with(patch: Value) -> Value {
    let mut c = claims();
    merge(&mut c, patch);
    c
}

pub fn merge(target: &mut Value, patch: Value) {
    let m = target.as_object_mut().expect("object");
    for (k, v) in patch.as_object().expect("patch is an object").clone() {
        if v.is_null() {
            m.remove(&k);
        } else {
            m.insert(k, v);
        }
    }
}

/// An EdDSA token (fast to sign) with `claims_with(patch)`.
pub fn ed_token(patch: Value) -> String {
    let k = eddsa_key();
    mint("EdDSA", &k, &header("EdDSA", &k.kid), &claims_with(patch))
}

/// Splits a compact JWS into its three parts.
pub fn parts(token: &str) -> (String, String, String) {
    let v: Vec<&str> = token.split('.').collect();
    assert_eq!(v.len(), 3, "not a compact JWS: {token}");
    (v[0].to_string(), v[1].to_string(), v[2].to_string())
}

// ---------------------------------------------------------------------------------------------
// Tenant and IdP

/// One issuer entry (auth0 preset, explicit jwks_uri); `patch` merged in.
pub fn issuer_json(patch: Value) -> Value {
    let mut v = json!({
        "issuer": ISS,
        "audiences": [AUD],
        "algorithms": ["RS256", "RS384", "RS512", "PS256", "ES256", "EdDSA"],
        "jwks_uri": JWKS_URI,
        "preset": "auth0",
        "leeway_s": 60,
    });
    merge(&mut v, patch);
    v
}

pub fn tenant_json(issuer_patch: Value) -> Value {
    json!({
        "version": 1,
        "issuers": [issuer_json(issuer_patch)],
        "routes": [{"id": "all", "path": "/*", "require": "authenticated"}],
    })
}

pub fn tenant(issuer_patch: Value) -> TenantPolicy {
    let text = tenant_json(issuer_patch).to_string();
    TenantPolicy::parse(&text).unwrap_or_else(|e| panic!("tenant config: {e}\n{text}"))
}

/// Fake ports at [`NOW`] whose IdP serves `jwks` at [`JWKS_URI`] with `max-age=600`.
pub fn ports_serving(jwks: &str) -> FakePorts {
    let ports = FakePorts::default();
    ports.clock.set_s(NOW);
    ports
        .http
        .answer(JWKS_URI, 200, jwks, &[("cache-control", "max-age=600")]);
    ports
}

/// Fake ports whose IdP publishes the three demo keys.
pub fn idp() -> FakePorts {
    ports_serving(&published_jwks())
}

/// The URLs the core sent requests to, in order.
pub fn sent_urls(ports: &FakePorts) -> Vec<String> {
    ports
        .http
        .sent
        .borrow()
        .iter()
        .map(|r| r.url.clone())
        .collect()
}

/// One verification through the full token stage (`orggate::token::verify`, driven by
/// `orggate::driver::verify_token` over the fake ports).
pub fn run(
    ports: &FakePorts,
    engine: &Engine,
    tenant: &TenantPolicy,
    raw: &str,
) -> Result<Rc<VerifiedClaims>, TokenError> {
    orggate::driver::verify_token(ports, engine, tenant, raw)
}

/// Verifies `raw` with a fresh engine, the demo IdP and the default tenant.
pub fn verify_default(raw: &str) -> Result<Rc<VerifiedClaims>, TokenError> {
    run(&idp(), &Engine::new(), &tenant(json!({})), raw)
}

/// Asserts `result` is an error and returns it (with the token in the failure message).
#[track_caller]
pub fn expect_err(result: Result<Rc<VerifiedClaims>, TokenError>) -> TokenError {
    match result {
        Ok(c) => panic!("expected a refusal, got verified claims {:?}", c.claims),
        Err(e) => e,
    }
}

#[track_caller]
pub fn expect_ok(result: Result<Rc<VerifiedClaims>, TokenError>) -> Rc<VerifiedClaims> {
    match result {
        Ok(c) => c,
        Err(e) => panic!("expected verified claims, got {e:?} ({})", e.reason()),
    }
}

/// The claims map of a JSON object value.
pub fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}
