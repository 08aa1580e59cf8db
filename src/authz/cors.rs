//! CORS at the edge, from config: a tenant-wide policy (`settings.cors`) and one per route
//! (`routes[].cors`, base or org; an org rule's replaces the base rule's).
//!
//! - A **preflight** (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered
//!   here without a token: 204 with the allowed origin, methods, headers, credentials and
//!   max-age, or 403 `cors_preflight_refused` without CORS headers (the browser then blocks the
//!   real request).
//! - Every other answer to an allowed origin carries `Access-Control-Allow-Origin` (and
//!   `-Credentials`, `-Expose-Headers`), **refusals included**, so a single-page app on another
//!   origin reads the 401 or 403 and its reason instead of an opaque network error.
//! - `*` is never sent together with credentials (config refuses `"origins": ["*"]` with
//!   `"credentials": true`), and `null` is not an origin one can allow.

use super::isolation::parse_origin;
use crate::http::ResponseView;
use crate::org::config::RawCors;
use crate::org::policy::ConfigError;

const DEFAULT_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const DEFAULT_HEADERS: &[&str] = &["authorization", "content-type", "dpop"];
const DEFAULT_MAX_AGE_S: u64 = 600;
/// Browsers cap it lower (Chromium: 2 h); more only delays a config change.
const MAX_MAX_AGE_S: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsPolicy {
    /// `*`: any origin (never with credentials).
    pub any_origin: bool,
    /// Lowercase exact origins.
    pub origins: Vec<String>,
    /// Uppercase method names, and the same joined for the header.
    pub methods: Vec<String>,
    methods_header: String,
    /// Lowercase request header names a request may send.
    pub headers: Vec<String>,
    /// `Access-Control-Expose-Headers` as configured (may be empty).
    expose: String,
    pub credentials: bool,
    pub max_age: u64,
}

/// Why a preflight was refused (for the log and the JSON body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreflightRefusal {
    Origin,
    Method,
    Header(String),
}

impl PreflightRefusal {
    pub fn detail(&self) -> String {
        match self {
            PreflightRefusal::Origin => "origin not allowed".into(),
            PreflightRefusal::Method => "method not allowed".into(),
            PreflightRefusal::Header(h) => format!("request header {h:?} not allowed"),
        }
    }
}

fn token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A configured list of HTTP tokens (method or header names), `default` when absent; `*` and
/// anything but a token is refused with its path.
fn names(
    path: &str,
    given: Option<&[String]>,
    default: &[&str],
    what: &str,
    case: fn(&str) -> String,
) -> Result<Vec<String>, ConfigError> {
    let Some(given) = given else {
        return Ok(default.iter().map(|d| d.to_string()).collect());
    };
    given
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if token(n) && n != "*" {
                Ok(case(n))
            } else {
                Err(ConfigError::new(format!("{path}[{i}]"), what))
            }
        })
        .collect()
}

impl CorsPolicy {
    pub fn parse(path: &str, raw: &RawCors) -> Result<CorsPolicy, ConfigError> {
        if raw.origins.is_empty() {
            return Err(ConfigError::new(
                format!("{path}.origins"),
                "at least one origin (or \"*\")",
            ));
        }
        let mut any_origin = false;
        let mut origins = Vec::new();
        for (i, o) in raw.origins.iter().enumerate() {
            if o == "*" {
                any_origin = true;
                continue;
            }
            origins.push(parse_origin(o).ok_or_else(|| {
                ConfigError::new(
                    format!("{path}.origins[{i}]"),
                    "an exact origin such as https://app.example.com, or \"*\"",
                )
            })?);
        }
        if any_origin && raw.credentials {
            return Err(ConfigError::new(
                format!("{path}.credentials"),
                "credentials cannot be allowed for any origin (\"*\"): list the origins",
            ));
        }
        let methods = names(
            &format!("{path}.methods"),
            raw.methods.as_deref(),
            DEFAULT_METHODS,
            "a method name (no wildcard)",
            str::to_ascii_uppercase,
        )?;
        let headers = names(
            &format!("{path}.headers"),
            raw.headers.as_deref(),
            DEFAULT_HEADERS,
            "a header name (no wildcard)",
            str::to_ascii_lowercase,
        )?;
        names(
            &format!("{path}.expose_headers"),
            Some(&raw.expose_headers),
            &[],
            "a header name (no wildcard)",
            str::to_string,
        )?;
        Ok(CorsPolicy {
            any_origin,
            origins,
            methods_header: methods.join(", "),
            methods,
            headers,
            expose: raw.expose_headers.join(", "),
            credentials: raw.credentials,
            max_age: raw
                .max_age_s
                .unwrap_or(DEFAULT_MAX_AGE_S)
                .min(MAX_MAX_AGE_S),
        })
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed.
    fn allow_origin<'a>(&self, origin: &'a str) -> Option<&'a str> {
        if origin.eq_ignore_ascii_case("null") {
            return None;
        }
        if self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            Some(origin)
        } else if self.any_origin {
            Some("*")
        } else {
            None
        }
    }

    /// Answers a preflight for `method` (the `Access-Control-Request-Method`) and the
    /// comma-separated `Access-Control-Request-Headers`.
    pub fn preflight(
        &self,
        origin: &str,
        method: &str,
        request_headers: Option<&str>,
    ) -> Result<ResponseView, PreflightRefusal> {
        let allow = self.allow_origin(origin).ok_or(PreflightRefusal::Origin)?;
        if !self.methods.iter().any(|m| m == method) {
            return Err(PreflightRefusal::Method);
        }
        let mut asked = Vec::new();
        for h in request_headers
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            let h = h.to_ascii_lowercase();
            if !self.headers.contains(&h) {
                return Err(PreflightRefusal::Header(h));
            }
            asked.push(h);
        }
        let mut r = ResponseView::new(204)
            .header("access-control-allow-origin", allow)
            .header("access-control-allow-methods", self.methods_header.as_str())
            .header("access-control-max-age", self.max_age.to_string());
        if !asked.is_empty() {
            r = r.header("access-control-allow-headers", asked.join(", "));
        }
        if self.credentials {
            r = r.header("access-control-allow-credentials", "true");
        }
        if allow != "*" {
            r = r.header(
                "vary",
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            );
        }
        Ok(r)
    }

    /// Headers for an actual (non-preflight) answer to a request from `origin`: nothing but
    /// `Vary: Origin` when the origin is not allowed. `refusal_challenge`: the answer carries
    /// `WWW-Authenticate`, which the app may then read.
    pub fn response_headers(
        &self,
        origin: Option<&str>,
        refusal_challenge: bool,
    ) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(4);
        if !self.any_origin || !self.origins.is_empty() {
            out.push(("vary".to_string(), "Origin".to_string()));
        }
        let Some(allow) = origin.and_then(|o| self.allow_origin(o)) else {
            return out;
        };
        out.push(("access-control-allow-origin".into(), allow.to_string()));
        if self.credentials {
            out.push(("access-control-allow-credentials".into(), "true".into()));
        }
        let expose = match (self.expose.is_empty(), refusal_challenge) {
            (true, false) => None,
            (true, true) => Some("WWW-Authenticate".to_string()),
            (false, false) => Some(self.expose.clone()),
            (false, true) => Some(format!("{}, WWW-Authenticate", self.expose)),
        };
        if let Some(e) = expose {
            out.push(("access-control-expose-headers".into(), e));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(v: serde_json::Value) -> Result<CorsPolicy, ConfigError> {
        CorsPolicy::parse("$.cors", &serde_json::from_value(v).unwrap())
    }

    #[test]
    fn star_with_credentials_is_a_config_error() {
        let e = policy(serde_json::json!({"origins": ["*"], "credentials": true})).unwrap_err();
        assert!(e.to_string().contains("$.cors.credentials"), "{e}");
        for bad in ["null", "https://a.example/path", "*.example.com", ""] {
            let e = policy(serde_json::json!({"origins": [bad]})).unwrap_err();
            assert!(e.to_string().contains("$.cors.origins[0]"), "{bad}: {e}");
        }
    }

    #[test]
    fn preflight_checks_origin_method_and_headers() {
        let p = policy(serde_json::json!({"origins": ["https://app.example.com"],
            "methods": ["GET", "POST"], "headers": ["Authorization", "Content-Type"],
            "credentials": true, "max_age_s": 999999}))
        .unwrap();
        let r = p
            .preflight(
                "https://app.example.com",
                "POST",
                Some("authorization, content-type"),
            )
            .unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(
            r.get_header("access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            r.get_header("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(r.get_header("access-control-max-age"), Some("86400"));
        assert_eq!(
            r.get_header("access-control-allow-headers"),
            Some("authorization, content-type")
        );
        assert_eq!(
            p.preflight("https://evil.example", "POST", None),
            Err(PreflightRefusal::Origin)
        );
        assert_eq!(
            p.preflight("null", "POST", None),
            Err(PreflightRefusal::Origin)
        );
        assert_eq!(
            p.preflight("https://app.example.com", "DELETE", None),
            Err(PreflightRefusal::Method)
        );
        assert_eq!(
            p.preflight("https://app.example.com", "GET", Some("x-admin")),
            Err(PreflightRefusal::Header("x-admin".into()))
        );
    }

    #[test]
    fn any_origin_answers_star_and_never_credentials() {
        let p = policy(serde_json::json!({"origins": ["*"]})).unwrap();
        let h = p.response_headers(Some("https://x.example"), true);
        assert!(h.contains(&("access-control-allow-origin".into(), "*".into())));
        assert!(!h
            .iter()
            .any(|(n, _)| n == "access-control-allow-credentials"));
        assert!(h.contains(&(
            "access-control-expose-headers".into(),
            "WWW-Authenticate".into()
        )));
        // Not allowed: only Vary.
        let p = policy(serde_json::json!({"origins": ["https://app.example.com"]})).unwrap();
        assert_eq!(
            p.response_headers(Some("https://evil.example"), false),
            vec![("vary".to_string(), "Origin".to_string())]
        );
    }
}
