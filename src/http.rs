//! Plain request and response views: what the core sees of HTTP, with no platform types.

use std::rc::Rc;

/// An incoming request as the core sees it: method, URL and the headers the pipeline reads.
/// Requests to the origin never bring their body into the core (the edge streams it through
/// untouched); only a `POST` or `PATCH` to orggate's own endpoints (back-channel logout, the
/// admin pages and API) carries it, at most [`MAX_BODY`] bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestView {
    pub method: String,
    /// Absolute URL as the runtime parsed it (`https://acme.example.com/a/b?q=1`).
    pub url: String,
    /// Header names lowercased; repeated headers stay separate entries.
    pub headers: Vec<(String, String)>,
    /// The body of a `POST`/`PATCH` to `/_orggate/*` (text), else `None`.
    pub body: Option<String>,
    /// Where the URL's parts are, found once at construction (`None`: not an http(s) URL).
    spans: Option<Spans>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spans {
    scheme: (usize, usize),
    authority: (usize, usize),
    host: (usize, usize),
    path: (usize, usize),
    query: Option<(usize, usize)>,
}

impl Spans {
    /// The parts of `url`, which these spans were found in (an empty path reads as `/`).
    // Inlined into both callers, as the two copies it replaced were: called, it made the
    // Worker 1.9 KB (gzip) bigger.
    #[inline(always)]
    fn parts(self, url: &str) -> UrlParts<'_> {
        let at = |(a, b): (usize, usize)| url.get(a..b).unwrap_or("");
        UrlParts {
            scheme: at(self.scheme),
            authority: at(self.authority),
            host: at(self.host),
            path: if self.path.0 == self.path.1 {
                "/"
            } else {
                at(self.path)
            },
            query: self.query.map(at),
        }
    }
}

/// The value of one hexadecimal digit (either case), for percent-decoding.
pub fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The largest body orggate's own endpoints read.
pub const MAX_BODY: usize = 64 * 1024;

impl RequestView {
    pub fn new(method: &str, url: &str, headers: &[(&str, &str)]) -> Self {
        Self::from_parts(
            method.to_ascii_uppercase(),
            url.to_string(),
            headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
        )
    }

    /// From owned parts (the edge); `headers` names must already be lowercase.
    pub fn from_parts(method: String, url: String, headers: Vec<(String, String)>) -> Self {
        let spans = Spans::find(&url);
        Self {
            method,
            url,
            headers,
            body: None,
            spans,
        }
    }

    /// With a body (orggate's own `POST` endpoints).
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The URL split into its parts, or `None` when it is not an absolute http(s) URL.
    pub fn url_parts(&self) -> Option<UrlParts<'_>> {
        self.spans.map(|s| s.parts(&self.url))
    }

    /// Does the client want HTML (a browser navigation) rather than JSON (an API)?
    pub fn wants_html(&self) -> bool {
        if self.header("authorization").is_some() {
            return false;
        }
        let accept = self.header("accept").unwrap_or("");
        let mode = self.header("sec-fetch-mode").unwrap_or("");
        mode == "navigate" || accept.contains("text/html")
    }
}

impl Spans {
    fn find(url: &str) -> Option<Spans> {
        let scheme_end = url.find("://")?;
        let scheme = &url[..scheme_end];
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let rest_start = scheme_end + 3;
        // The runtime strips the fragment; be safe anyway.
        let end = url[rest_start..]
            .find('#')
            .map_or(url.len(), |i| rest_start + i);
        let rest = &url[rest_start..end];
        let path_start = rest_start + rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &url[rest_start..path_start];
        let (path_end, query) = match url[path_start..end].find('?') {
            Some(q) => (path_start + q, Some((path_start + q + 1, end))),
            None => (end, None),
        };
        let host_len = if authority.starts_with('[') {
            authority.find(']').map_or(authority.len(), |i| i + 1)
        } else {
            authority.find(':').unwrap_or(authority.len())
        };
        if host_len == 0 || authority.contains('@') {
            return None;
        }
        Some(Spans {
            scheme: (0, scheme_end),
            authority: (rest_start, path_start),
            host: (rest_start, rest_start + host_len),
            path: (path_start, path_end),
            query,
        })
    }
}

/// `scheme://authority/path?query` of an absolute URL; no fragment (the runtime strips it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    /// `host[:port]`
    pub authority: &'a str,
    /// Host without port, as sent (lowercase it before use).
    pub host: &'a str,
    /// Raw, percent-encoded path, starting with `/`.
    pub path: &'a str,
    /// Raw query without the `?`.
    pub query: Option<&'a str>,
}

impl<'a> UrlParts<'a> {
    pub fn parse(url: &'a str) -> Option<Self> {
        Spans::find(url).map(|s| s.parts(url))
    }

    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

/// An outgoing HTTP request built by the core (JWKS, discovery, token endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: "GET".into(),
            url: url.into(),
            headers: vec![("accept".into(), "application/json".into())],
            body: None,
        }
    }
}

/// The answer to an [`HttpRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response the core built itself (refusals, login pages, redirects, JWKS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseView {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ResponseView {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status)
            .header("content-type", "application/json")
            .header("cache-control", "no-store")
            .with_body(value.to_string().into_bytes())
    }

    pub fn html(status: u16, html: String) -> Self {
        Self::new(status)
            .header("content-type", "text/html; charset=utf-8")
            .header("cache-control", "no-store")
            .with_body(html.into_bytes())
    }

    pub fn redirect(location: &str) -> Self {
        Self::new(302)
            .header("location", location)
            .header("cache-control", "no-store")
    }

    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Where a request goes once the core has decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// An origin URL (`https://app.internal`), path and query appended by the edge.
    Origin(String),
    /// The Workers static-assets binding (per-org static sites).
    Assets,
}

/// An allowed request, rewritten. The edge forwards the incoming request (its body streamed
/// through untouched) to `url`, with these header edits: every header whose name, with `_` read
/// as `-`, starts with one of `strip_prefixes` or equals one of `strip_names` is removed, then
/// `set_headers` are set. [`Forward::apply`] computes the result for a header list (tests and
/// `explain` show exactly what the origin receives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub upstream: Upstream,
    /// Absolute URL to fetch, with the normalized path the route matcher saw.
    pub url: String,
    pub strip_prefixes: Rc<[String]>,
    pub strip_names: Rc<[String]>,
    /// The principal's identity headers (shared with the cached decision), set first.
    pub identity: Rc<[(String, String)]>,
    /// Set after `identity` (request id, assertion, the filtered cookie).
    pub set_headers: Vec<(String, String)>,
    /// Headers to set on the origin's response (e.g. `cache-control: private`, refreshed cookies).
    pub response_headers: Vec<(String, String)>,
    /// Send none of the client's headers (public login assets).
    pub no_client_headers: bool,
}

impl Forward {
    /// A GET of a public resource, without the client's headers.
    pub fn plain(upstream: Upstream, url: String) -> Self {
        Self {
            upstream,
            url,
            strip_prefixes: Rc::from(Vec::new()),
            strip_names: Rc::from(Vec::new()),
            identity: Rc::from(Vec::new()),
            set_headers: Vec::new(),
            response_headers: Vec::new(),
            no_client_headers: true,
        }
    }

    /// Does the edit remove this (lowercase) header name?
    pub fn strips(&self, name: &str) -> bool {
        let n = name.replace('_', "-");
        self.strip_prefixes
            .iter()
            .any(|p| n.starts_with(p.as_str()))
            || self.strip_names.contains(&n)
            || self.identity.iter().any(|(k, _)| *k == n)
            || self.set_headers.iter().any(|(k, _)| *k == n)
    }

    /// The headers the origin receives for a request that carried `incoming` (the runtime sets
    /// `host`, `content-length` and `connection` itself).
    pub fn apply(&self, incoming: &[(String, String)]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = if self.no_client_headers {
            Vec::new()
        } else {
            incoming
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .filter(|(k, _)| {
                    !self.strips(k)
                        && !matches!(k.as_str(), "host" | "content-length" | "connection")
                })
                .collect()
        };
        out.extend(self.identity.iter().cloned());
        out.extend(self.set_headers.iter().cloned());
        out
    }
}

/// What the core decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Respond(ResponseView),
    Forward(Forward),
}

/// The first value of `name` in an `application/x-www-form-urlencoded` string (a query or a
/// form body), decoded as browsers' `URLSearchParams` does (`+` is a space, a broken escape stays
/// literal, bad UTF-8 becomes U+FFFD). The one parser of query strings and form bodies.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Percent-encodes one query or form value (`application/x-www-form-urlencoded`: only
/// alphanumerics and `*-._` stay, a space becomes `+`).
pub fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `k1=v1&k2=v2`, each name and value form-encoded.
pub fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_strings_parse_and_encode_as_browsers_do() {
        let q = Some("a=1&return%5Fto=%2Fx%3Fy%3D1&b=x+y&c=%ZZ&a=2&d");
        assert_eq!(query_param(q, "a").as_deref(), Some("1"), "the first value");
        assert_eq!(query_param(q, "return_to").as_deref(), Some("/x?y=1"));
        assert_eq!(query_param(q, "b").as_deref(), Some("x y"));
        assert_eq!(query_param(q, "c").as_deref(), Some("%ZZ"));
        assert_eq!(query_param(q, "d").as_deref(), Some(""));
        assert_eq!(query_param(q, "e"), None);
        assert_eq!(query_param(None, "a"), None);
        assert_eq!(url_encode("/a b?c=d&e~"), "%2Fa+b%3Fc%3Dd%26e%7E");
        let back = form_encode([("return_to", "/a b?c=d&e"), ("x", "é+")]);
        assert_eq!(back, "return_to=%2Fa+b%3Fc%3Dd%26e&x=%C3%A9%2B");
        assert_eq!(query_param(Some(&back), "x").as_deref(), Some("é+"));
        assert_eq!(
            query_param(Some(&back), "return_to").as_deref(),
            Some("/a b?c=d&e")
        );
    }

    #[test]
    fn url_parts_split() {
        let u = UrlParts::parse("http://acme.localhost:8787/a/b?x=1").unwrap();
        assert_eq!(u.host, "acme.localhost");
        assert_eq!(u.authority, "acme.localhost:8787");
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.query, Some("x=1"));
        let u = UrlParts::parse("https://acme.example.com").unwrap();
        assert_eq!(u.path, "/");
        assert_eq!(u.host, "acme.example.com");
        assert!(UrlParts::parse("ftp://x/").is_none());
        assert!(UrlParts::parse("https://user@x/").is_none());
        let u = UrlParts::parse("https://[::1]:8443?x#f").unwrap();
        assert_eq!(
            (u.host, u.authority, u.path, u.query),
            ("[::1]", "[::1]:8443", "/", Some("x"))
        );
        let r = RequestView::new("get", "http://a.b/p?q=1", &[("X-A", "1")]);
        assert_eq!(r.url_parts().unwrap().path, "/p");
        assert_eq!(r.header("x-a"), Some("1"));
        assert!(RequestView::new("GET", "nope", &[]).url_parts().is_none());
    }
}
