//! Which organization a request addresses, in the configured order:
//! 1. host: `{name}.{base_domain}` (one label), else a custom domain mapped by `host:{hostname}`;
//! 2. path prefix: `/o/{name}/...` (stripped before matching and forwarding unless configured);
//! 3. header: a configured request header carrying the org id;
//! 4. token: only when `resolution.token_org` is on (single-host APIs): the verified token's org.
//!
//! Names are resolved to ids through `name:{name}`. Unknown orgs are a plain 404 that says nothing
//! about which orgs exist.

use super::policy::{valid_org_id, valid_org_name, TenantPolicy};
use crate::authz::path::NormalizedPath;

/// How the request names its organization (before KV lookups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRef {
    /// A subdomain label or a `/o/{name}` segment: a name, looked up via `name:{name}`.
    Name(String),
    /// A custom domain, looked up via `host:{hostname}`.
    Host(String),
    /// An org id from the configured header.
    Id(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub org: OrgRef,
    pub via: &'static str,
    /// Segments to strip from the path before matching and forwarding (the `/o/{name}` prefix).
    pub strip_segments: usize,
}

/// Finds the org reference in host, path and header. `None`: the request names no org (the
/// tenant's own host: org prompt, or token resolution when enabled).
pub fn addressed(
    tenant: &TenantPolicy,
    host: &str,
    path: &NormalizedPath,
    header: Option<&str>,
) -> Option<Addressed> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let r = &tenant.resolution;
    for base in &r.base_domains {
        if let Some(label) = host
            .strip_suffix(base.as_str())
            .and_then(|h| h.strip_suffix('.'))
        {
            if !label.contains('.') && valid_org_name(label) {
                return Some(Addressed {
                    org: OrgRef::Name(label.to_string()),
                    via: "host",
                    strip_segments: 0,
                });
            }
        }
    }
    let is_base = r.base_domains.contains(&host);
    if !is_base
        && !host.is_empty()
        && r.base_domains
            .iter()
            .all(|b| !host.ends_with(&format!(".{b}")))
    {
        // Possibly a custom domain (host:{hostname}); if that lookup misses, path/header follow.
        return Some(Addressed {
            org: OrgRef::Host(host),
            via: "host",
            strip_segments: 0,
        });
    }
    path_or_header(tenant, path, header)
}

/// Path prefix and header resolution (also used after a custom-domain miss).
pub fn path_or_header(
    tenant: &TenantPolicy,
    path: &NormalizedPath,
    header: Option<&str>,
) -> Option<Addressed> {
    let r = &tenant.resolution;
    if let Some(prefix) = &r.path_prefix {
        let word = prefix.trim_matches('/');
        let mut segs = path.segments();
        if segs.next() == Some(word) {
            if let Some(name) = segs.next() {
                if valid_org_name(name) {
                    return Some(Addressed {
                        org: OrgRef::Name(name.to_string()),
                        via: "path",
                        strip_segments: if r.strip_path_prefix { 2 } else { 0 },
                    });
                }
            }
        }
    }
    if r.header.is_some() {
        if let Some(v) = header.map(str::trim) {
            if valid_org_id(v) {
                return Some(Addressed {
                    org: OrgRef::Id(v.to_string()),
                    via: "header",
                    strip_segments: 0,
                });
            }
        }
    }
    None
}
