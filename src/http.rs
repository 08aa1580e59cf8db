//! Plain request and response views: what the core sees of HTTP, with no platform types.

/// An incoming request as the core sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestView {
    pub method: String,
    /// Absolute URL as the runtime parsed it (`https://acme.example.com/a/b?q=1`).
    pub url: String,
    /// Header names lowercased; repeated headers stay separate entries.
    pub headers: Vec<(String, String)>,
    /// Read only for the login form posts (small, bounded by the edge).
    pub body: Option<Vec<u8>>,
}

impl RequestView {
    pub fn new(method: &str, url: &str, headers: &[(&str, &str)]) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            url: url.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: None,
        }
    }

    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.body = Some(body.to_vec());
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
        UrlParts::parse(&self.url)
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
        let (scheme, rest) = url.split_once("://")?;
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let rest = rest.split('#').next().unwrap_or(rest);
        let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..path_start];
        let after = &rest[path_start..];
        let (path, query) = match after.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (after, None),
        };
        let path = if path.is_empty() { "/" } else { path };
        let host = if authority.starts_with('[') {
            authority.split_inclusive(']').next().unwrap_or(authority)
        } else {
            authority.split(':').next().unwrap_or(authority)
        };
        if host.is_empty() || authority.contains('@') {
            return None;
        }
        Some(Self {
            scheme,
            authority,
            host,
            path,
            query,
        })
    }

    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
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

/// An allowed request, rewritten: the edge sends exactly this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub upstream: Upstream,
    pub method: String,
    /// Absolute URL to fetch, with the normalized path the route matcher saw.
    pub url: String,
    /// The full header list to send (client headers minus orggate's, plus identity headers).
    pub headers: Vec<(String, String)>,
    /// Headers to set on the origin's response (e.g. `cache-control: private`, refreshed cookies).
    pub response_headers: Vec<(String, String)>,
}

/// What the core decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Respond(ResponseView),
    Forward(Forward),
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
