//! The core's needs, named as small traits ("ports").
//!
//! The Workers glue in [`crate::edge`] implements each once against the platform (KV, `fetch`,
//! `Date.now`, `crypto.getRandomValues`, `crypto.subtle`, the Cache API); `crate::testing` implements
//! each once more as an in-memory fake. The core never performs I/O except through these.
//!
//! The traits use `async fn` without `Send` bounds on purpose: a Worker isolate is single-threaded
//! and its futures are `!Send`.
#![allow(async_fn_in_trait)]

use crate::keys::jwk::PublicJwk;
use crate::token::jws::Alg;

/// A failure of the platform underneath a port: never the caller's fault, so it maps to a 5xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortError {
    pub port: &'static str,
    pub detail: String,
}

impl PortError {
    pub fn new(port: &'static str, detail: impl Into<String>) -> Self {
        Self {
            port,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} port: {}", self.port, self.detail)
    }
}

/// Organization config store (Workers KV binding `ORGS`). Values are JSON text.
pub trait OrgStore {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError>;
}

/// An outgoing HTTP request built by the core (JWKS, discovery, token endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: "GET".into(),
            url: url.into(),
            headers: vec![("accept".into(), "application/json".into())],
            body: None,
        }
    }
}

/// The answer to an [`HttpRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Outgoing HTTP (`fetch` on Workers).
pub trait HttpClient {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, PortError>;
}

/// Wall-clock time. The core never reads a clock itself (style principle 3).
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    fn now_s(&self) -> u64 {
        self.now_ms() / 1000
    }
}

/// Cryptographically secure random bytes.
pub trait Rng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError>;
}

/// Checks one JWS signature. On wasm32 RS*/PS*/ES* go to `crypto.subtle.verify`; natively (tests,
/// CLI) everything is pure Rust. Implementations may cache imported keys, keyed by
/// [`PublicJwk::thumbprint`], so a rotated key is never confused with its predecessor.
pub trait SignatureVerifier {
    /// `Ok(false)` is a bad signature; `Err` is a fault (e.g. a key the platform cannot import).
    async fn verify(
        &self,
        alg: Alg,
        key: &PublicJwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<bool, PortError>;
}

/// A cache shared between isolates of one location (the Workers Cache API): used so that a JWKS
/// fetched by one isolate serves the others, sparing the IdP's rate limit.
pub trait SharedCache {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError>;
    async fn put(&self, key: &str, value: &str, ttl_s: u64) -> Result<(), PortError>;
}

/// Worker secrets by name (`wrangler secret put`; `.dev.vars` locally).
pub trait Secrets {
    fn secret(&self, name: &str) -> Option<String>;
}

/// Everything the core needs from its platform, in one bundle.
pub trait Ports {
    type Store: OrgStore;
    type Http: HttpClient;
    type Clock: Clock;
    type Rng: Rng;
    type Verifier: SignatureVerifier;
    type Cache: SharedCache;
    type Secrets: Secrets;
    fn store(&self) -> &Self::Store;
    fn http(&self) -> &Self::Http;
    fn clock(&self) -> &Self::Clock;
    fn rng(&self) -> &Self::Rng;
    fn verifier(&self) -> &Self::Verifier;
    fn cache(&self) -> &Self::Cache;
    fn secrets(&self) -> &Self::Secrets;
}
