//! # orggate: an organization-scoped authorizer for the edge
//!
//! orggate runs as a Cloudflare Worker in front of a multi-tenant app, API or static site. Every
//! request belongs to an organization; orggate proves the caller acts for that organization with
//! the rights the route needs, or refuses with a reason.
//!
//! ## The shape: a sans-IO core, a thin edge
//!
//! The core decides and never performs I/O: [`app::step`] is synchronous. Given a request
//! ([`exchange::Exchange`]) and what the isolate holds ([`engine::Engine`]), it returns a decision
//! or names the one piece of I/O it needs next ([`io::Io`]: a KV key, a JWKS or discovery URL, a
//! signature check, a token-endpoint call, a shared-cache read). A driver performs it and steps
//! again; with warm caches a request is one synchronous call. [`driver`] is the synchronous
//! driver (native tests, the CLI); `edge` is the Worker's (the only async code).
//!
//! ## A request's journey, and who owns each step
//!
//! ```text
//!  edge (wasm32 only)          JS entry → one call into Wasm (decide) → Forward | Respond
//!        │                     or Need → the async driver performs I/O, steps again
//!  app::step                   the pipeline, one DecisionLog line per request
//!        ├─ org::load_tenant   KV `settings` → org::policy::TenantPolicy (compiled once per version)
//!        ├─ authz::path        normalize the path once (RFC 3986); refuse what is ambiguous
//!        ├─ org::resolve       host / custom domain / path prefix / header → org (KV aliases)
//!        ├─ login              /_orggate/*: branded page, OIDC code+PKCE, callback, logout
//!        ├─ authz::effective   base rule ⊕ org rule for (method, path) via authz::routes
//!        ├─ credential         Bearer header | session cookie | opt-in query token
//!        ├─ authz::isolation   Fetch Metadata resource isolation for cookie-borne requests
//!        ├─ engine             decision cache: a repeated credential skips everything below
//!        ├─ token::verify      jws → issuer → keys::jwks (JWKS lifecycle) → signature (Io)
//!        │  session::lifecycle → registered claims → token::claims preset → VerifiedClaims
//!        ├─ authz::decision    scope_to_org (token org == addressed org) → Principal
//!        │                     → Requirement::check (permissions, roles, scopes, caller)
//!        ├─ revoke             the org's and the tenant's revocation sets (KV, per isolate)
//!        └─ forward            header edits: strip orggate's family, add identity + assertion
//!        │
//!  error::Refusal / Halt       stage errors convert with `?`; one place refusals become HTTP
//! ```
//!
//! The core never names the platform: it reads randomness and secrets through [`ports::Host`]
//! and names everything else as [`io::Io`]. [`edge`] performs it on Workers (wasm32 only);
//! [`testing`] and [`native`] implement the ports for tests and the CLI.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod admin;
pub mod app;
pub mod authz;
pub mod b64;
pub mod credential;
pub mod driver;
pub mod engine;
pub mod error;
pub mod exchange;
pub mod forward;
pub mod http;
pub mod io;
pub mod json;
pub mod keys;
pub mod log;
pub mod login;
pub mod org;
pub mod ports;
pub mod revoke;
pub mod session;
pub mod sig;
pub mod time;
pub mod token;
pub mod wire;

#[cfg(not(target_arch = "wasm32"))]
pub mod kvdir;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

#[cfg(target_arch = "wasm32")]
pub mod edge;
