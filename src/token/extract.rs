//! Where a token comes from: `Authorization: Bearer` (RFC 6750 §2.1), the session (see
//! [`crate::session`]), or a header an org configures. Never the query string.

use crate::http::RequestView;

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
                if token.is_empty() || token.contains(char::is_whitespace) {
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
