//! Forwarding an allowed request: sanitize headers, add identity headers and the signed assertion.
//!
//! Envoy strips client-sent payload headers *before* verification; we strip every header in
//! orggate's family (and configured extras) from every request, allowed or public, so a client
//! can never smuggle an identity to the origin.

use crate::authz::decision::Principal;
use crate::b64;
use crate::session;
use crate::time::UnixSeconds;

/// orggate's cookies never reach the origin.
pub const COOKIE_PREFIXES: [&str; 2] = ["__Host-orggate_", "orggate_"];

fn is_orggate_cookie(name: &str) -> bool {
    COOKIE_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Headers some origins and frameworks obey to override the path, method or host they route on
/// (IIS `X-Original-URL`, method overrides, a proxy's forwarded host): the origin must route on
/// exactly what orggate authorized, so these never pass.
pub const ROUTING_OVERRIDE_HEADERS: [&str; 9] = [
    "x-original-url",
    "x-rewrite-url",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-forwarded-host",
    "x-forwarded-prefix",
    "x-forwarded-path",
    "forwarded",
];

/// Header names (dash-normalized, lowercase) no client may send to the origin: every header of
/// orggate's family (`x-orggate-` and the configured prefix, so `x_orggate_org_id` too: CGI-style
/// servers map it onto the same variable) and the routing overrides, plus the tenant's extras.
pub fn strip_lists(header_prefix: &str, extra: &[String]) -> (Vec<String>, Vec<String>) {
    let mut prefixes = vec!["x-orggate-".to_string()];
    if header_prefix != "x-orggate-" {
        prefixes.push(header_prefix.replace('_', "-"));
    }
    let mut names: Vec<String> = ROUTING_OVERRIDE_HEADERS
        .iter()
        .map(|s| s.to_string())
        .collect();
    for h in extra {
        let n = h.to_ascii_lowercase().replace('_', "-");
        if !names.contains(&n) {
            names.push(n);
        }
    }
    (prefixes, names)
}

/// The `Cookie` header the origin may see: the client's cookies minus orggate's own.
/// `None`: the header is unchanged; `Some(None)`: remove it; `Some(Some(v))`: replace it.
pub fn cookie_edit<'a>(values: impl Iterator<Item = &'a str>) -> Option<Option<String>> {
    let values: Vec<&str> = values.collect();
    if !values.iter().any(|v| v.contains("orggate_")) {
        return None;
    }
    let kept: Vec<String> = values
        .iter()
        .flat_map(|v| session::parse_cookie_header(v))
        .filter(|(k, _)| !is_orggate_cookie(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Some((!kept.is_empty()).then(|| kept.join("; ")))
}

/// Header values must be visible ASCII; anything else is dropped from identity headers.
fn header_safe(v: &str) -> Option<String> {
    let ok = !v.is_empty() && v.len() <= 4096 && v.bytes().all(|b| (0x20..0x7f).contains(&b));
    ok.then(|| v.to_string())
}

/// Identity headers for the origin (names with the configured prefix, default `x-orggate-`).
/// The same for every request of one principal (the request id is added per request).
pub fn identity_headers(pre: &str, p: &Principal) -> Vec<(String, String)> {
    let mut h = vec![
        (format!("{pre}org-id"), p.org_id.clone()),
        (format!("{pre}org-name"), p.org_name.clone()),
        (format!("{pre}caller"), p.caller.as_str().to_string()),
        (
            format!("{pre}membership"),
            p.membership.as_str().to_string(),
        ),
    ];
    let mut opt = |name: &str, v: Option<&str>| {
        if let Some(v) = v.and_then(header_safe) {
            h.push((format!("{pre}{name}"), v));
        }
    };
    opt("subject", p.subject.as_deref());
    opt("client-id", p.client_id.as_deref());
    opt("email", p.email.as_deref());
    let perms = p
        .permissions
        .iter()
        .filter(|x| !x.contains([' ', ',']))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    opt("permissions", Some(&perms));
    let roles = p
        .roles
        .iter()
        .filter(|x| !x.contains([' ', ',']))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    opt("roles", Some(&roles));
    h
}

/// The assertion signing key: Ed25519 from a 32-byte seed in a Worker secret (base64url).
pub struct AssertionKey {
    kp: ed25519_compact::KeyPair,
    pub kid: String,
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AssertionKey({})", self.kid)
    }
}

impl AssertionKey {
    pub fn from_secret(kid: &str, secret: &str) -> Result<Self, String> {
        let seed =
            b64::decode(secret.trim()).map_err(|_| "assertion key is not base64url".to_string())?;
        let seed = ed25519_compact::Seed::from_slice(&seed)
            .map_err(|_| "assertion key must be a 32-byte seed".to_string())?;
        Ok(Self {
            kp: ed25519_compact::KeyPair::from_seed(seed),
            kid: kid.to_string(),
        })
    }

    /// The JWKS origins fetch from `/.well-known/orggate/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
            "kid": self.kid, "x": b64::encode(self.kp.pk.as_ref()),
        }]})
    }

    /// A short-lived EdDSA JWT with the same facts as the identity headers.
    pub fn sign(
        &self,
        p: &Principal,
        issuer: &str,
        audience: &str,
        now: UnixSeconds,
        ttl: u64,
        jti: &str,
    ) -> String {
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid});
        let claims = serde_json::json!({
            "iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": now.plus(ttl), "jti": jti,
            "sub": p.subject, "client_id": p.client_id, "caller": p.caller.as_str(), "membership": p.membership.as_str(),
            "org_id": p.org_id, "org_name": p.org_name,
            "permissions": p.permissions, "roles": p.roles,
        });
        let input = format!(
            "{}.{}",
            b64::encode(header.to_string().as_bytes()),
            b64::encode(claims.to_string().as_bytes())
        );
        let sig = self.kp.sk.sign(input.as_bytes(), None);
        format!("{input}.{}", b64::encode(sig.as_ref()))
    }
}
