//! Credentials, whole: where a request's proof of identity comes from, in one place.
//!
//! - `Authorization: Bearer` (RFC 6750 §2.1), or a header the tenant configures;
//! - `Authorization: DPoP` with a `DPoP` proof header (RFC 9449 §7.1);
//! - the org's session cookie (see [`crate::session`]), possibly split into chunks;
//! - `?access_token=` (RFC 6750 §2.3) only where the org opted in;
//! - none; or a malformed attempt, which is refused rather than ignored.
//!
//! The order is fixed: a bearer header wins over a cookie, a cookie over the query string. A
//! request is authenticated by exactly one of them.

use crate::http::RequestView;
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::session;

/// The credential a request presents for an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential<'a> {
    /// A bearer token (Authorization or the configured token header).
    Bearer(&'a str),
    /// A DPoP-bound token and its proof of possession.
    Dpop {
        token: &'a str,
        proof: &'a str,
    },
    /// The org's session cookie, chunks joined: ambient authority (see `authz::isolation`).
    Session(String),
    /// `?access_token=` where the org allows it.
    Query(String),
    None,
    /// Two Authorization headers, an empty or spaced token: refused, never ignored.
    Invalid(&'static str),
}

impl Credential<'_> {
    /// The credential's exact text (the key of the decision cache), if it has one.
    pub fn text(&self) -> Option<&str> {
        match self {
            Credential::Bearer(t) | Credential::Dpop { token: t, .. } => Some(t),
            Credential::Session(s) | Credential::Query(s) => Some(s),
            Credential::None | Credential::Invalid(_) => None,
        }
    }
}

/// Finds the request's credential for `org`. `session_cookie` names the org's session cookie
/// for this request (it depends on whether cookies are `Secure` here; `None` when login is off),
/// asked only when there is no bearer token.
pub fn find<'a>(
    req: &'a RequestView,
    tenant: &'a TenantPolicy,
    org: &OrgPolicy,
    session_cookie: impl FnOnce() -> Option<String>,
) -> Credential<'a> {
    match bearer(req, tenant.token_header.as_deref()) {
        Bearer::Token(t) => return Credential::Bearer(t),
        Bearer::Invalid(why) => return Credential::Invalid(why),
        Bearer::None => {}
    }
    if let Some(c) = dpop(req) {
        return c;
    }
    if let Some(name) = session_cookie().filter(|_| req.header("cookie").is_some()) {
        let name = name.as_str();
        let jar: Vec<(&str, &str)> = req
            .header_all("cookie")
            .flat_map(session::parse_cookie_header)
            .collect();
        if let Some(sealed) = session::join_chunks(&jar, name) {
            return Credential::Session(sealed);
        }
    }
    if let Some(t) = query_token(req, org) {
        return Credential::Query(t);
    }
    Credential::None
}

/// RFC 9449 §7.1: `Authorization: DPoP <token>` and exactly one `DPoP` header.
fn dpop(req: &RequestView) -> Option<Credential<'_>> {
    let auth = req.header("authorization")?.trim();
    let (scheme, token) = auth.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("dpop") {
        return None;
    }
    let token = token.trim_start();
    let mut proofs = req.header_all("dpop");
    let c = match (proofs.next(), proofs.next()) {
        _ if token.is_empty() || token.as_bytes().contains(&b' ') => {
            Credential::Invalid("malformed DPoP token")
        }
        (Some(proof), None) if !proof.trim().is_empty() => Credential::Dpop {
            token,
            proof: proof.trim(),
        },
        _ => Credential::Invalid("the DPoP scheme needs exactly one DPoP proof header"),
    };
    Some(c)
}

/// RFC 6750 §2.3, opt-in per org: a plain `access_token=` parameter of JWS characters only.
fn query_token(req: &RequestView, org: &OrgPolicy) -> Option<String> {
    if !org.allow_query_token {
        return None;
    }
    let q = req.url_parts()?.query?;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("access_token="))
        .filter(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_string)
}

/// Outcome of looking for a bearer token in the request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer<'a> {
    None,
    Token(&'a str),
    /// Two Authorization headers, a non-Bearer scheme with no fallback, or an empty token.
    Invalid(&'static str),
}

/// RFC 6750 §2.1: `Authorization: Bearer <token>`, scheme case-insensitive (RFC 7235 §2.1),
/// exactly one header. Other schemes (Basic, DPoP) are not ours and count as no token.
pub fn bearer<'a>(req: &'a RequestView, extra_header: Option<&'a str>) -> Bearer<'a> {
    let mut auth = req.header_all("authorization");
    let first = auth.next();
    if auth.next().is_some() {
        return Bearer::Invalid("more than one Authorization header");
    }
    if let Some(v) = first {
        let v = v.trim();
        if let Some((scheme, rest)) = v.split_once(' ') {
            if scheme.eq_ignore_ascii_case("bearer") {
                let token = rest.trim_start();
                // memchr-fast checks: a bearer token never contains whitespace (RFC 6750 §2.1).
                let b = token.as_bytes();
                if b.is_empty() || b.contains(&b' ') || b.contains(&b'\t') {
                    return Bearer::Invalid("malformed bearer token");
                }
                return Bearer::Token(token);
            }
        } else if v.eq_ignore_ascii_case("bearer") {
            return Bearer::Invalid("empty bearer token");
        }
    }
    if let Some(name) = extra_header {
        let mut values = req.header_all(name);
        if let Some(v) = values.next() {
            if values.next().is_some() {
                return Bearer::Invalid("token header repeated");
            }
            let v = v.trim();
            if v.is_empty() {
                return Bearer::Invalid("empty token header");
            }
            return Bearer::Token(v);
        }
    }
    Bearer::None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> RequestView {
        RequestView::new("GET", "https://acme.example.com/x", headers)
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let r = req(&[("Authorization", "bEaReR abc.def.ghi")]);
        assert_eq!(bearer(&r, None), Bearer::Token("abc.def.ghi"));
    }

    #[test]
    fn two_authorization_headers_are_refused() {
        let r = req(&[
            ("authorization", "Bearer a.b.c"),
            ("Authorization", "Bearer d.e.f"),
        ]);
        assert!(matches!(bearer(&r, None), Bearer::Invalid(_)));
    }

    #[test]
    fn other_schemes_are_no_token() {
        let r = req(&[("authorization", "Basic Zm9vOmJhcg==")]);
        assert_eq!(bearer(&r, None), Bearer::None);
    }

    #[test]
    fn empty_and_spaced_tokens_are_invalid() {
        assert!(matches!(
            bearer(&req(&[("authorization", "Bearer")]), None),
            Bearer::Invalid(_)
        ));
        assert!(matches!(
            bearer(&req(&[("authorization", "Bearer a b")]), None),
            Bearer::Invalid(_)
        ));
    }

    #[test]
    fn configured_header_is_a_fallback() {
        let r = req(&[("x-api-token", "a.b.c")]);
        assert_eq!(bearer(&r, Some("x-api-token")), Bearer::Token("a.b.c"));
        assert_eq!(bearer(&r, None), Bearer::None);
    }

    #[test]
    fn query_string_is_never_read() {
        let r = RequestView::new("GET", "https://acme.example.com/x?access_token=a.b.c", &[]);
        assert_eq!(bearer(&r, None), Bearer::None);
    }
}
