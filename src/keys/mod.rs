//! Verification keys: JWK/JWKS parsing ([`jwk`]) and the per-issuer cache with throttled refetch and
//! stale-if-error ([`cache`]).

pub mod cache;
pub mod discovery;
pub mod jwk;
