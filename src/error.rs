//! Refusals and faults, and the one place they become HTTP.
//!
//! Client-facing refusals carry a stable `reason` code and, for 403s, the rule and what was
//! missing. Internal faults reach the client as a generic 503 with the request id; the detail goes
//! to the decision log only (daphne hides `Fatal` the same way).

use crate::http::ResponseView;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: a request we cannot interpret safely (path normalization, malformed URL).
    BadRequest { reason: &'static str },
    /// 404: unknown or disabled org. Says nothing about which orgs exist.
    UnknownOrg,
    /// 401: no credentials (`error` absent) or bad ones (`invalid_token`, RFC 6750 §3.1).
    Unauthenticated {
        reason: &'static str,
        invalid_token: bool,
    },
    /// 401: the credential is good, but the person did not authenticate strongly or recently
    /// enough for the route (RFC 9470).
    StepUp {
        acr_values: Option<String>,
        max_age: Option<u64>,
        /// Methods the route accepts (space-separated; not part of the challenge).
        amr: String,
        /// What fell short (log only).
        why: &'static str,
    },
    /// 403: authenticated, but the route needs more (or nothing may pass).
    Forbidden {
        rule: String,
        reason: &'static str,
        missing: Vec<String>,
    },
    /// 503: config invalid, KV or IdP down. `detail` goes to the log, never to the client.
    Internal { detail: String },
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest { .. } => 400,
            Refusal::UnknownOrg => 404,
            Refusal::Unauthenticated { .. } | Refusal::StepUp { .. } => 401,
            Refusal::Forbidden { .. } => 403,
            Refusal::Internal { .. } => 503,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::BadRequest { reason } => reason,
            Refusal::UnknownOrg => "unknown_org",
            Refusal::Unauthenticated { reason, .. } => reason,
            Refusal::StepUp { .. } => "insufficient_user_authentication",
            Refusal::Forbidden { reason, .. } => reason,
            Refusal::Internal { .. } => "internal_error",
        }
    }

    fn error_code(&self) -> &'static str {
        match self {
            Refusal::BadRequest { .. } => "bad_request",
            Refusal::UnknownOrg => "not_found",
            Refusal::Unauthenticated { .. } | Refusal::StepUp { .. } => "unauthorized",
            Refusal::Forbidden { .. } => "forbidden",
            Refusal::Internal { .. } => "unavailable",
        }
    }

    /// The JSON answer for APIs: `{error, reason, request_id}`, `org` when known, and on 403
    /// `rule` and `missing`. Built directly as text (no `serde_json::Value` on this path).
    pub fn to_json(&self, org: Option<&str>, request_id: &str) -> ResponseView {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let mut body = format!(
            r#"{{"error":"{}","reason":{},"request_id":{}"#,
            self.error_code(),
            q(self.reason()),
            q(request_id)
        );
        if let Some(o) = org.filter(|_| !matches!(self, Refusal::UnknownOrg)) {
            body.push_str(&format!(r#","org":{}"#, q(o)));
        }
        if let Refusal::Forbidden { rule, missing, .. } = self {
            let m: Vec<String> = missing.iter().map(|x| q(x)).collect();
            body.push_str(&format!(
                r#","rule":{},"missing":[{}]"#,
                q(rule),
                m.join(",")
            ));
        }
        body.push('}');
        let mut resp = ResponseView::new(self.status())
            .header("content-type", "application/json")
            .header("cache-control", "no-store")
            .with_body(body.into_bytes());
        if let Refusal::Unauthenticated {
            reason,
            invalid_token,
        } = self
        {
            // RFC 6750 §3: the challenge; error only when a token was presented (§3.1). RFC 9449
            // §7.1: a DPoP challenge too, naming the proof algorithms, with the error when the
            // proof was the problem.
            let v = if *invalid_token {
                format!("Bearer realm=\"orggate\", error=\"invalid_token\", error_description=\"{reason}\"")
            } else {
                "Bearer realm=\"orggate\"".to_string()
            };
            resp = resp.header("www-authenticate", v);
            let algs = "algs=\"ES256 ES384 EdDSA PS256 RS256\"";
            let dpop = match *reason {
                "invalid_dpop_proof" => format!("DPoP {algs}, error=\"invalid_dpop_proof\""),
                "dpop_binding_mismatch" => format!("DPoP {algs}, error=\"invalid_token\""),
                _ => format!("DPoP {algs}"),
            };
            resp = resp.header("www-authenticate", dpop);
        }
        if let Refusal::StepUp {
            acr_values,
            max_age,
            ..
        } = self
        {
            // RFC 9470 §3: what a new authentication must satisfy.
            let mut v = "Bearer realm=\"orggate\", error=\"insufficient_user_authentication\", error_description=\"A stronger or more recent authentication is required\"".to_string();
            if let Some(a) = acr_values {
                v.push_str(&format!(", acr_values=\"{a}\""));
            }
            if let Some(m) = max_age {
                v.push_str(&format!(", max_age={m}"));
            }
            resp = resp.header("www-authenticate", v);
        }
        if matches!(self, Refusal::Internal { .. }) {
            resp = resp.header("retry-after", "5");
        }
        resp
    }
}

/// Why the pipeline stopped before a decision: it needs I/O first, or it refuses. Stages return
/// their own errors; `From` impls turn each into this, so the pipeline reads as a chain of `?`
/// and a refusal becomes HTTP in one place ([`Refusal::to_json`], the branded refusal page).
#[derive(Debug, Clone, PartialEq)]
pub enum Halt {
    Need(crate::io::Io),
    /// The host passed only some request headers, and the tenant's config reads these others.
    NeedHeaders(Vec<String>),
    Refuse(Refusal),
}

impl From<crate::io::Need> for Halt {
    fn from(n: crate::io::Need) -> Self {
        Halt::Need(n.0)
    }
}

impl From<Refusal> for Halt {
    fn from(r: Refusal) -> Self {
        Halt::Refuse(r)
    }
}

impl<E: Into<Refusal>> From<crate::io::Pending<E>> for Halt {
    fn from(p: crate::io::Pending<E>) -> Self {
        match p {
            crate::io::Pending::Need(io) => Halt::Need(io),
            crate::io::Pending::Fail(e) => Halt::Refuse(e.into()),
        }
    }
}

impl From<crate::token::TokenError> for Refusal {
    /// RFC 6750 §3.1: a bad token is `invalid_token` (401); keys the IdP could not give us are
    /// our fault (503).
    fn from(e: crate::token::TokenError) -> Self {
        if e.is_internal() {
            Refusal::Internal {
                detail: format!("{e:?}"),
            }
        } else {
            Refusal::Unauthenticated {
                reason: e.reason(),
                invalid_token: true,
            }
        }
    }
}

impl From<crate::org::LoadError> for Refusal {
    /// KV down or a document invalid: that org (or the tenant) fails closed with a 503.
    fn from(e: crate::org::LoadError) -> Self {
        Refusal::Internal {
            detail: e.to_string(),
        }
    }
}

impl From<crate::token::TokenError> for Halt {
    fn from(e: crate::token::TokenError) -> Self {
        Halt::Refuse(e.into())
    }
}

impl From<crate::org::LoadError> for Halt {
    fn from(e: crate::org::LoadError) -> Self {
        Halt::Refuse(e.into())
    }
}

/// An internal fault with its detail (for the log only).
pub fn internal(detail: impl std::fmt::Display) -> Refusal {
    Refusal::Internal {
        detail: detail.to_string(),
    }
}
