//! The Workers glue (wasm32 only): the Worker's drivers for the sans-IO core.
//!
//! - `js/shim.js` is the Worker's entry module. It makes **one synchronous call into Wasm**
//!   ([`entry::decide`]) with the method, the URL and the headers the core reads. With warm caches
//!   the answer is the decision: forward (with header edits) or respond.
//! - A signature check is the host's to make: JS checks it with WebCrypto (`js/verify.mjs`,
//!   imported keys cached per key) and hands the answer back synchronously ([`entry::resume`]).
//! - Any other I/O (Workers KV, `fetch`, the Cache API) is performed by [`entry::drive`], the
//!   only async Rust ([`perform`]; concurrent identical fetches share one answer).
//! - [`crate::wire`] is the string format requests and decisions cross the boundary in.
//! - [`host`] gives the core randomness and secrets.
//! - [`state`] is the Durable Object that writes revocations (one per scope) and publishes them
//!   to KV; requests never call it.

pub mod entry;
pub mod host;
pub mod perform;
pub mod state;
