//! Verification keys: JWK/JWKS parsing ([`jwk`]), the per-issuer cache with throttled refetch and
//! stale-if-error ([`cache`]), OpenID Provider metadata ([`discovery`]), and the JWKS lifecycle
//! that ties them together: which key, when to fetch, how to share ([`jwks`]).

pub mod cache;
pub mod discovery;
pub mod jwk;
pub mod jwks;
