//! # orggate: an organization-scoped authorizer for the edge
//!
//! orggate runs as a Cloudflare Worker in front of a multi-tenant app, API or static site. Every
//! request belongs to an organization; orggate proves the caller acts for that organization with
//! the rights the route needs, or refuses with a reason.
//!
//! ## A request's journey, and who owns each step
//!
//! ```text
//!  edge::entry (wasm32 only)   Request → http::RequestView
//!        │
//!  app::handle                 the pipeline, one DecisionLog line per request
//!        ├─ org::load_tenant   KV `settings` → org::policy::TenantPolicy (compiled once, cached)
//!        ├─ authz::path        normalize the path once (RFC 3986); refuse what is ambiguous
//!        ├─ org::resolve       host / path prefix / header (/ token) → org id; org::load_org
//!        ├─ login              /_orggate/*: branded page, OIDC code+PKCE, callback, logout
//!        ├─ authz::effective   base rule ⊕ org rule for (method, path) via authz::routes
//!        ├─ token::extract     Bearer header | session cookie (login, session) | opt-in query
//!        ├─ token::verify      jws → issuer → keys::cache (JWKS) → ports::SignatureVerifier
//!        │                     → registered claims → token::claims preset → VerifiedClaims
//!        ├─ authz::decision    scope_to_org (token org == addressed org) → Principal
//!        │                     → Requirement::check (permissions, roles, scopes, caller)
//!        └─ forward            strip orggate headers, add identity headers + signed assertion
//!        │
//!  error::Refusal              the one place refusals become 400/401/403/404/503
//!  edge::entry                 Outcome::Forward → fetch(origin | ASSETS); Respond → Response
//! ```
//!
//! The core never names the platform: it reaches KV, `fetch`, the clock, randomness, WebCrypto,
//! the Cache API and secrets only through the traits in [`ports`]. [`edge`] implements them for
//! Workers (wasm32 only); [`testing`] and [`native`] implement them for tests and the CLI.
//! [`engine::Engine`] is the in-isolate state (key sets, verified tokens, compiled configs).
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod app;
pub mod authz;
pub mod b64;
pub mod engine;
pub mod error;
pub mod forward;
pub mod http;
pub mod json;
pub mod keys;
pub mod log;
pub mod login;
pub mod org;
pub mod ports;
pub mod session;
pub mod sig;
pub mod token;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

#[cfg(target_arch = "wasm32")]
pub mod edge;
