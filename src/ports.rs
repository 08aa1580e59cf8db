//! The core's needs, named as small traits ("ports").
//!
//! Two kinds:
//! - [`Host`]: what the core reads **synchronously** while it decides: randomness (login state,
//!   nonces, AEAD nonces) and Worker secrets by name. The clock is not a port the core calls: the
//!   driver reads it once and the request carries the reading ([`crate::exchange::Exchange`]).
//! - The I/O ports ([`OrgStore`], [`HttpClient`], [`SignatureVerifier`], [`SharedCache`],
//!   [`StateWriter`]): the core never calls these. It names the I/O it needs
//!   ([`crate::io::Io`]) and a driver performs it. [`crate::driver`] performs it through these
//!   traits (the native tests and `orggate explain` with the fakes of [`crate::testing`], whose
//!   signature checks are [`crate::native`]'s); the Worker's driver (`edge`) performs the same
//!   I/O with workers-rs, WebCrypto and the `OrgState` Durable Object.

pub use crate::http::{HttpRequest, HttpResponse};
pub use crate::io::PortError;
use crate::keys::jwk::PublicJwk;
use crate::time::UnixSeconds;
use crate::token::jws::Alg;

/// A secret's value: never printed (`Debug` shows `Secret([redacted])`, there is no `Display`);
/// [`Secret::expose`] hands out the text where it is used.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Randomness and secrets, read synchronously by the core.
pub trait Host {
    /// Cryptographically secure random bytes.
    fn random(&self, buf: &mut [u8]) -> Result<(), PortError>;
    /// A Worker secret by name (`wrangler secret put`; `.dev.vars` locally).
    fn secret(&self, name: &str) -> Option<Secret>;
}

/// Wall-clock time, read by drivers once per request (the core never reads a clock).
pub trait Clock {
    fn now(&self) -> UnixSeconds;
}

/// Organization config store (Workers KV binding `ORGS`). Values are JSON text.
pub trait OrgStore {
    fn get(&self, key: &str) -> Result<Option<String>, PortError>;
}

/// Outgoing HTTP (`fetch` on Workers).
pub trait HttpClient {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, PortError>;
}

/// Checks one JWS signature (RS*/PS*/ES*/EdDSA; the core checks HS256 itself).
pub trait SignatureVerifier {
    /// `Ok(false)` is a bad signature; `Err` is a fault (e.g. a key the platform cannot import).
    fn verify(
        &self,
        alg: Alg,
        key: &PublicJwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<bool, PortError>;
}

/// A cache shared between isolates of one location (the Workers Cache API): a JWKS fetched by
/// one isolate serves the others, sparing the IdP's rate limit.
pub trait SharedCache {
    fn get(&self, key: &str) -> Option<String>;
    fn put(&self, key: &str, value: &str, ttl_s: u64);
}

/// Everything a synchronous driver needs to run the core on one platform.
/// The single writer per org (and one for the tenant): a Durable Object on Workers. It keeps
/// revocations and the org's administrative state, and publishes what the edge reads to the org
/// store (KV).
pub trait StateWriter {
    /// The scope's published document (JSON) after the write. A write that was kept but not
    /// yet published still succeeds: publishing is retried until it lands.
    fn revoke(
        &self,
        scope: &str,
        entries: &[crate::revoke::Entry],
        now: UnixSeconds,
    ) -> Result<String, PortError>;

    /// Runs an admin command on the org's state ([`crate::admin::state::execute`]): the status
    /// and JSON body to answer.
    fn org_state(
        &self,
        org_id: &str,
        command: &crate::admin::state::Command,
    ) -> Result<(u16, serde_json::Value), PortError>;
}

pub trait Ports: Host {
    type Store: OrgStore;
    type Http: HttpClient;
    type Clock: Clock;
    type Verifier: SignatureVerifier;
    type Cache: SharedCache;
    type Writer: StateWriter;
    fn store(&self) -> &Self::Store;
    fn writer(&self) -> &Self::Writer;
    fn http(&self) -> &Self::Http;
    fn clock(&self) -> &Self::Clock;
    fn verifier(&self) -> &Self::Verifier;
    fn cache(&self) -> &Self::Cache;
}
