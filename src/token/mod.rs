//! Tokens: from a credential ([`crate::credential`]) to [`VerifiedClaims`].
//!
//! - [`jws`] splits and decodes it into an [`jws::UntrustedToken`]; header rules live there.
//! - [`verify`] picks the issuer, the key (from [`crate::keys`]), checks the signature (naming the
//!   check as I/O, [`crate::io::Io::Verify`]) and the registered claims, and remembers verified
//!   tokens.
//! - [`claims`] maps each IdP's claim shape (presets) to one [`claims::Identity`].
//!
//! Only [`VerifiedClaims`] reaches organization scoping and authorization: trust is a type (as
//! jwt-compact moves `UntrustedToken` to `Token`).

pub mod claims;
pub mod dpop;
pub mod jws;
pub mod verify;

pub use claims::{AuthFacts, CallerKind, Identity};
pub use verify::{verify, VerifiedClaims};

use crate::keys::jwk::KeyUseError;
use crate::time::UnixSeconds;

/// Why a token was refused. Each variant maps to a stable `reason` code (RFC 6750 `invalid_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Oversized {
        len: usize,
        max: usize,
    },
    Malformed {
        reason: &'static str,
    },
    BadBase64 {
        part: &'static str,
    },
    NotJson {
        part: &'static str,
    },
    DuplicateMember {
        part: &'static str,
        name: String,
    },
    UnsupportedAlgorithm {
        alg: String,
    },
    AlgorithmNotAllowed {
        alg: &'static str,
    },
    ForbiddenHeader {
        name: &'static str,
    },
    UnknownCrit {
        name: String,
    },
    BadType {
        typ: String,
    },
    UnknownIssuer,
    MissingKid,
    UnknownKid {
        kid: String,
    },
    KeyUnusable(KeyUseError),
    BadSignature,
    MissingClaim {
        name: &'static str,
    },
    BadClaim {
        name: &'static str,
    },
    /// A claim of the wrong JSON type for the issuer's format: refused, never coerced.
    InvalidClaim(claims::ClaimError),
    /// The token is bound to a key (`cnf`: DPoP `jkt`, mTLS `x5t#S256`) and was presented without
    /// proof of that key (RFC 9449 §7.1, RFC 8705 §3).
    SenderConstrained {
        binding: &'static str,
    },
    /// Presented with a DPoP proof but not bound to a key (no `cnf.jkt`), or bound to another.
    DpopBinding,
    Expired {
        exp: UnixSeconds,
        now: UnixSeconds,
    },
    NotYetValid {
        nbf: UnixSeconds,
        now: UnixSeconds,
    },
    IssuedInFuture {
        iat: UnixSeconds,
        now: UnixSeconds,
    },
    TooOld {
        iat: UnixSeconds,
        max_age: u64,
    },
    WrongAudience,
    /// The token lives longer than `revocation.max_token_lifetime_s` (plus leeway) from now.
    LifetimeTooLong {
        exp: UnixSeconds,
        now: UnixSeconds,
    },
    /// `azp` is not one of the issuer's `authorized_parties`.
    WrongAuthorizedParty,
    /// The issuer's keys could not be fetched and no usable copy is left: an internal fault.
    KeysUnavailable {
        detail: String,
    },
}

impl TokenError {
    /// A stable, non-secret code for the `reason` field and the decision log.
    pub fn reason(&self) -> &'static str {
        match self {
            TokenError::Oversized { .. } => "token_too_large",
            TokenError::Malformed { .. } => "malformed_token",
            TokenError::BadBase64 { .. } => "bad_base64",
            TokenError::NotJson { .. } => "not_json",
            TokenError::DuplicateMember { .. } => "duplicate_claim",
            TokenError::UnsupportedAlgorithm { .. } => "unsupported_alg",
            TokenError::AlgorithmNotAllowed { .. } => "alg_not_allowed",
            TokenError::ForbiddenHeader { .. } => "forbidden_header",
            TokenError::UnknownCrit { .. } => "unknown_crit",
            TokenError::BadType { .. } => "bad_typ",
            TokenError::UnknownIssuer => "unknown_issuer",
            TokenError::MissingKid => "missing_kid",
            TokenError::UnknownKid { .. } => "unknown_kid",
            TokenError::KeyUnusable(KeyUseError::TypeMismatch { .. }) => "key_type_mismatch",
            TokenError::KeyUnusable(KeyUseError::AlgMismatch { .. }) => "key_alg_mismatch",
            TokenError::KeyUnusable(KeyUseError::WeakKey { .. }) => "weak_key",
            TokenError::BadSignature => "bad_signature",
            TokenError::MissingClaim { .. } => "missing_claim",
            TokenError::BadClaim { .. } => "bad_claim",
            TokenError::InvalidClaim(_) => "invalid_claim",
            TokenError::SenderConstrained { .. } => "sender_constrained_token",
            TokenError::DpopBinding => "dpop_binding_mismatch",
            TokenError::Expired { .. } => "expired",
            TokenError::NotYetValid { .. } => "not_yet_valid",
            TokenError::IssuedInFuture { .. } => "issued_in_future",
            TokenError::TooOld { .. } => "too_old",
            TokenError::WrongAudience => "wrong_audience",
            TokenError::LifetimeTooLong { .. } => "token_lifetime_too_long",
            TokenError::WrongAuthorizedParty => "wrong_authorized_party",
            TokenError::KeysUnavailable { .. } => "keys_unavailable",
        }
    }

    /// True for faults that are not the caller's (they become 503, not 401).
    pub fn is_internal(&self) -> bool {
        matches!(self, TokenError::KeysUnavailable { .. })
    }
}
