//! Forwarding an allowed request: sanitize headers, add identity headers and the signed assertion.
//!
//! Envoy strips client-sent payload headers *before* verification; we strip every header in
//! orggate's family (and configured extras) from every request, allowed or public, so a client
//! can never smuggle an identity to the origin.

use crate::authz::decision::Principal;
use crate::b64;
use crate::org::policy::TenantPolicy;
use crate::session;

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

/// The client's headers minus everything orggate owns and anything that re-routes the origin.
pub fn sanitized_headers(
    tenant: &TenantPolicy,
    headers: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(headers.len() + 8);
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        // CGI-style servers map `x_orggate_org_id` onto the same variable as
        // `x-orggate-org-id`: compare with underscores read as dashes.
        let n = lower.replace('_', "-");
        if n.starts_with(&tenant.header_prefix)
            || n.starts_with("x-orggate-")
            || ROUTING_OVERRIDE_HEADERS.contains(&n.as_str())
            || tenant.strip_headers.contains(&n)
            // hop-by-hop and CDN-internal headers the runtime sets itself
            || n == "host"
            || n == "content-length"
            || n == "connection"
        {
            continue;
        }
        if n == "cookie" {
            let kept: Vec<String> = session::parse_cookie_header(value)
                .into_iter()
                .filter(|(k, _)| !is_orggate_cookie(k))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if !kept.is_empty() {
                out.push((lower, kept.join("; ")));
            }
            continue;
        }
        out.push((lower, value.clone()));
    }
    out
}

/// Header values must be visible ASCII; anything else is dropped from identity headers.
fn header_safe(v: &str) -> Option<String> {
    let ok = !v.is_empty() && v.len() <= 4096 && v.bytes().all(|b| (0x20..0x7f).contains(&b));
    ok.then(|| v.to_string())
}

/// Identity headers for the origin (names with the configured prefix, default `x-orggate-`).
pub fn identity_headers(
    tenant: &TenantPolicy,
    p: &Principal,
    request_id: &str,
) -> Vec<(String, String)> {
    let pre = &tenant.header_prefix;
    let mut h = vec![
        (format!("{pre}org-id"), p.org_id.clone()),
        (format!("{pre}org-name"), p.org_name.clone()),
        (format!("{pre}caller"), p.caller.as_str().to_string()),
        (
            format!("{pre}membership"),
            p.membership.as_str().to_string(),
        ),
        (format!("{pre}request-id"), request_id.to_string()),
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
        now: u64,
        ttl: u64,
        jti: &str,
    ) -> String {
        let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid});
        let claims = serde_json::json!({
            "iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": now + ttl, "jti": jti,
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
