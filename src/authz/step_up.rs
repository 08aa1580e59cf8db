//! Step-up authentication per route (RFC 9470): how, and how recently, the person behind a
//! credential must have authenticated. A route may ask for an authentication context class
//! (`acr_values`: one of them), authentication methods (`amr`: at least one of them) and a
//! maximum authentication age (`max_age_s`, measured from `auth_time`: when the person last
//! authenticated, which is not when the token was issued).
//!
//! APIs that fall short get 401 `insufficient_user_authentication` with `acr_values` and
//! `max_age` in the challenge (RFC 9470 §3); browsers are sent to sign in again with those
//! parameters.

use super::decision::Principal;
use crate::org::policy::ConfigError;
use crate::time::UnixSeconds;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUp {
    pub acr_values: Vec<String>,
    pub amr: Vec<String>,
    pub max_age: Option<u64>,
}

/// What a step-up demands of a login that would satisfy it (the challenge's parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insufficient {
    /// Space-separated, as in the challenge and the authorization request.
    pub acr_values: Option<String>,
    pub max_age: Option<u64>,
    /// For the log: what fell short.
    pub why: &'static str,
}

fn token_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b',')
}

impl StepUp {
    pub fn parse(path: &str, raw: &crate::org::config::RawStepUp) -> Result<StepUp, ConfigError> {
        for (i, v) in raw.acr_values.iter().enumerate() {
            if !token_ok(v) {
                return Err(ConfigError::new(
                    format!("{path}.acr_values[{i}]"),
                    "visible ASCII without quotes, commas or backslashes",
                ));
            }
        }
        for (i, v) in raw.amr.iter().enumerate() {
            if !token_ok(v) {
                return Err(ConfigError::new(
                    format!("{path}.amr[{i}]"),
                    "visible ASCII without quotes, commas or backslashes",
                ));
            }
        }
        if raw.acr_values.is_empty() && raw.amr.is_empty() && raw.max_age_s.is_none() {
            return Err(ConfigError::new(
                path,
                "at least one of acr_values, amr, max_age_s",
            ));
        }
        Ok(StepUp {
            acr_values: raw.acr_values.clone(),
            amr: raw.amr.clone(),
            max_age: raw.max_age_s.map(|m| m.min(30 * 86_400)),
        })
    }

    /// Does the principal's authentication satisfy this at `now`?
    pub fn check(&self, p: &Principal, now: UnixSeconds) -> Result<(), Insufficient> {
        let fail = |why| Insufficient {
            acr_values: (!self.acr_values.is_empty()).then(|| self.acr_values.join(" ")),
            max_age: self.max_age,
            why,
        };
        if !self.acr_values.is_empty()
            && !p
                .auth
                .acr
                .as_ref()
                .is_some_and(|a| self.acr_values.contains(a))
        {
            return Err(fail("acr"));
        }
        if !self.amr.is_empty() && !p.auth.amr.iter().any(|m| self.amr.contains(m)) {
            return Err(fail("amr"));
        }
        if let Some(max) = self.max_age {
            match p.auth.auth_time {
                Some(t) if now.since(t) <= max => {}
                Some(_) => return Err(fail("max_age")),
                None => return Err(fail("no_auth_time")),
            }
        }
        Ok(())
    }

    /// The first second at which a principal that passes now stops passing.
    pub fn until(&self, p: &Principal) -> UnixSeconds {
        match (self.max_age, p.auth.auth_time) {
            (Some(m), Some(t)) => t.plus(m).plus(1),
            _ => UnixSeconds::NEVER_ENDS,
        }
    }
}
