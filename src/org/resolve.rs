//! Which organization a request addresses, in the configured order:
//! 1. host: `{name}.{base_domain}` (one label), else a custom domain mapped by `host:{hostname}`;
//! 2. path prefix: `/o/{name}/...` (stripped before matching and forwarding unless configured);
//! 3. header: a configured request header carrying the org id;
//! 4. token: only when `resolution.token_org` is on (single-host APIs): the verified token's org.
//!
//! Names are resolved to ids through `name:{name}`. Unknown orgs are a plain 404 that says nothing
//! about which orgs exist.
//!
//! This module owns resolution whole: the alias key formats (`name:`, `host:`, `domain:`), the
//! order above, the prefix strip, and the way back: the login URL of an org ([`login_url`]) and
//! the tenant's own host ([`tenant_home`]).

use super::policy::{valid_org_id, valid_org_name, OrgPolicy, TenantPolicy};
use super::{load_org, lookup_alias, LoadError};
use crate::authz::path::NormalizedPath;
use crate::engine::Engine;
use crate::error::Refusal;
use crate::http::UrlParts;
use crate::io::{Answers, Pending};
use crate::time::UnixSeconds;
use std::rc::Rc;

/// The KV key of an org name (subdomain labels and `/o/{name}` segments).
pub fn name_key(name: &str) -> String {
    format!("name:{name}")
}

/// The KV key of a custom domain.
pub fn host_key(host: &str) -> String {
    format!("host:{host}")
}

/// The KV key of a verified email domain (home-realm discovery on the org prompt).
pub fn domain_key(domain: &str) -> String {
    format!("domain:{domain}")
}

/// Why no org could be found for a request that names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// The request names an org that does not exist or is disabled: a plain 404.
    UnknownOrg,
    /// KV failed or a document is invalid: that org fails closed (the id, when known, goes to
    /// the log).
    Load {
        org_id: Option<String>,
        error: LoadError,
    },
}

impl From<ResolveError> for Refusal {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::UnknownOrg => Refusal::UnknownOrg,
            ResolveError::Load { error, .. } => error.into(),
        }
    }
}

impl From<Pending<LoadError>> for Pending<ResolveError> {
    fn from(p: Pending<LoadError>) -> Self {
        p.map_fail(|error| ResolveError::Load {
            org_id: None,
            error,
        })
    }
}

/// The org a request addresses, loaded.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub org: Rc<OrgPolicy>,
    /// `host`, `path` or `header` (for the decision log).
    pub via: &'static str,
    /// Segments to strip from the path before matching and forwarding (`/o/{name}`).
    pub strip_segments: usize,
}

/// Resolves the org named by host, path or header: `Ok(None)` when the request names none (the
/// tenant's own host), `Err(UnknownOrg)` when it names one that does not exist.
pub fn resolve(
    engine: &Engine,
    io: &Answers,
    now: UnixSeconds,
    tenant: &TenantPolicy,
    host: &str,
    path: &NormalizedPath,
    header: Option<&str>,
) -> Result<Option<Resolved>, Pending<ResolveError>> {
    let Some(mut addr) = addressed(tenant, host, path, header) else {
        return Ok(None);
    };
    let org_id = loop {
        let key = match &addr.org {
            OrgRef::Name(n) => name_key(n),
            OrgRef::Host(h) => host_key(h),
            OrgRef::Id(id) => break Rc::new(id.clone()),
        };
        match lookup_alias(engine, io, tenant, &key, now)? {
            Some(id) => break id,
            // A host that is not a custom domain: the path or header may still name the org.
            None if matches!(addr.org, OrgRef::Host(_)) => {
                match path_or_header(tenant, path, header) {
                    Some(next) => addr = next,
                    None => return Ok(None),
                }
            }
            None => return Err(Pending::Fail(ResolveError::UnknownOrg)),
        }
    };
    let loaded = load_org(engine, io, tenant, &org_id, now).map_err(|p| {
        p.map_fail(|error| ResolveError::Load {
            org_id: Some(org_id.to_string()),
            error,
        })
    })?;
    match loaded {
        Some(org) => Ok(Some(Resolved {
            org,
            via: addr.via,
            strip_segments: addr.strip_segments,
        })),
        None => Err(Pending::Fail(ResolveError::UnknownOrg)),
    }
}

/// `:port` of the request's authority, or "".
fn port_suffix(url: &UrlParts<'_>) -> String {
    if url.authority.ends_with(']') {
        return String::new();
    }
    url.authority
        .rsplit_once(':')
        .map(|(_, p)| format!(":{p}"))
        .unwrap_or_default()
}

/// The tenant's own host (the org prompt), e.g. `http://localhost:8787/`.
pub fn tenant_home(tenant: &TenantPolicy, url: &UrlParts<'_>) -> String {
    match tenant.resolution.base_domains.first() {
        Some(base) => format!("{}://{base}{}/", url.scheme, port_suffix(url)),
        None => "/".into(),
    }
}

/// The org's own login page: on its subdomain of the first base domain, else under the path
/// prefix. `query` is appended as given (`?...` or "").
pub fn login_url(
    tenant: &TenantPolicy,
    url: &UrlParts<'_>,
    org: &OrgPolicy,
    query: &str,
) -> String {
    match (
        tenant.resolution.base_domains.first(),
        &tenant.resolution.path_prefix,
    ) {
        (Some(base), _) => format!(
            "{}://{}.{base}{}/_orggate/login{query}",
            url.scheme,
            org.name,
            port_suffix(url)
        ),
        (None, Some(prefix)) => format!("{prefix}{}/_orggate/login{query}", org.name),
        (None, None) => format!("/_orggate/login{query}"),
    }
}

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
