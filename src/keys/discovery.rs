//! OpenID Provider metadata (OpenID Connect Discovery 1.0 §4), fetched once and cached.

use crate::engine::Engine;
use crate::http::HttpRequest;
use crate::io::{Answers, Pending};
use crate::time::UnixSeconds;
use serde::Deserialize;
use std::rc::Rc;

/// The endpoints orggate uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// RFC 7009 token revocation (used at logout to revoke the refresh token).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
}

/// How long a discovery document is trusted before it is fetched again.
const DISCOVERY_TTL_S: u64 = 3600;

pub fn discovery_url(issuer: &str) -> String {
    // Discovery §4: issuer + "/.well-known/openid-configuration", removing a trailing "/" first.
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Parses and checks a discovery document. Discovery §4.3: the `issuer` inside must be identical
/// to the issuer we asked about, or the document is refused.
pub fn parse(issuer: &str, body: &[u8]) -> Result<Discovery, String> {
    let doc: Discovery =
        serde_json::from_slice(body).map_err(|e| format!("discovery document: {e}"))?;
    if doc.issuer != issuer {
        return Err(format!(
            "discovery issuer mismatch: configured {issuer}, document says {}",
            doc.issuer
        ));
    }
    Ok(doc)
}

/// The issuer's metadata: from the isolate's cache, or from the discovery URL (one coalesced
/// GET per issuer in flight).
pub fn discover(
    engine: &Engine,
    io: &Answers,
    issuer: &str,
    now: UnixSeconds,
) -> Result<Rc<Discovery>, Pending<String>> {
    if let Some(d) = engine.discovery_get(issuer, now) {
        return Ok(d);
    }
    let url = discovery_url(issuer);
    let resp = io
        .fetch(HttpRequest::get(&url), Some(format!("discovery:{issuer}")))?
        .map_err(|e| Pending::Fail(e.to_string()))?;
    if resp.status != 200 {
        return Err(Pending::Fail(format!("discovery answered {}", resp.status)));
    }
    let doc = Rc::new(parse(issuer, &resp.body).map_err(Pending::Fail)?);
    engine.discovery_put(issuer, doc.clone(), now.plus(DISCOVERY_TTL_S));
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_issuer_check() {
        assert_eq!(
            discovery_url("https://t.auth0.com/"),
            "https://t.auth0.com/.well-known/openid-configuration"
        );
        let body = br#"{"issuer":"https://t.auth0.com/","authorization_endpoint":"a","token_endpoint":"t","jwks_uri":"j"}"#;
        assert!(parse("https://t.auth0.com/", body).is_ok());
        assert!(parse("https://t.auth0.com", body).is_err());
    }
}
