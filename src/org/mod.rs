//! Organizations: the KV format ([`config`]), validated policy ([`policy`]), the isolate cache of
//! compiled configs ([`cache`]) and which org a request addresses ([`resolve`]); natively, the
//! config's JSON Schema ([`schema`]).

pub mod cache;
pub mod config;
pub mod policy;
pub mod resolve;
#[cfg(not(target_arch = "wasm32"))]
pub mod schema;

use crate::engine::Engine;
use crate::io::{Answers, Pending, PortError};
use crate::time::UnixSeconds;
use cache::Cached;
use policy::{ConfigError, OrgPolicy, TenantPolicy};
use std::rc::Rc;

/// Loading config failed: the store is down, or the document is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Store(PortError),
    Missing { key: String },
    Invalid { key: String, error: ConfigError },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Store(e) => write!(f, "{e}"),
            LoadError::Missing { key } => write!(f, "KV key {key} is missing"),
            LoadError::Invalid { key, error } => write!(f, "KV key {key}: {error}"),
        }
    }
}

pub const SETTINGS_KEY: &str = "settings";
/// How long the tenant settings stay in isolate memory (KV's own propagation time); org
/// documents use the `cache.config_ttl_s` those settings name.
pub const SETTINGS_TTL_S: u64 = 60;

/// Reads `key` from KV (through the request's answers) and compiles it once per version; the
/// compiled value lives in the isolate's [`cache::ConfigCache`].
#[allow(clippy::too_many_arguments)]
fn fetch_compiled<T>(
    engine: &Engine,
    io: &Answers,
    key: &str,
    now: UnixSeconds,
    ttl: u64,
    negative_ttl: u64,
    compile: impl Fn(&str) -> Result<T, ConfigError>,
    wrap: impl Fn(Rc<T>) -> Cached,
    unwrap: impl Fn(&Cached) -> Option<Rc<T>>,
) -> Result<Option<Rc<T>>, Pending<LoadError>> {
    if let Some(hit) = engine.with_configs(|c| c.get(key, now)) {
        return match hit {
            cache::Entry::Absent => Ok(None),
            cache::Entry::Invalid(error) => Err(Pending::Fail(LoadError::Invalid {
                key: key.to_string(),
                error,
            })),
            cache::Entry::Value(v) => Ok(unwrap(&v)),
        };
    }
    let text = match io.kv(key)? {
        Ok(t) => t,
        Err(e) => {
            // Stale-if-error: a KV hiccup serves the last answer this isolate had (an org it
            // knew, a key it knew to be absent, such as an empty revocation set).
            // Revocation sets are only trusted so stale: past that, their scope fails closed.
            let stale = if key.starts_with("revoked:") {
                engine.with_configs(|c| c.get_stale_within(key, now, REVOCATIONS_MAX_STALE_S))
            } else {
                engine.with_configs(|c| c.get_stale(key))
            };
            match stale {
                Some(cache::Entry::Value(v)) => return Ok(unwrap(&v)),
                Some(cache::Entry::Absent) => return Ok(None),
                _ => {}
            }
            return Err(Pending::Fail(LoadError::Store(e)));
        }
    };
    let Some(text) = text else {
        engine.with_configs(|c| c.put_absent(key, now, now.plus(negative_ttl)));
        return Ok(None);
    };
    let until = now.plus(ttl);
    // Parse and compile once per config version: unchanged text reuses the compiled value.
    if let Some(v) = engine.with_configs(|c| c.revalidate(key, &text, until)) {
        return Ok(unwrap(&v));
    }
    match compile(&text) {
        Ok(v) => {
            let v = Rc::new(v);
            engine.with_configs(|c| c.put(key, &text, wrap(v.clone()), now, until));
            Ok(Some(v))
        }
        Err(error) => {
            engine.with_configs(|c| {
                c.put_invalid(key, &text, error.clone(), now, now.plus(ttl.min(10)))
            });
            Err(Pending::Fail(LoadError::Invalid {
                key: key.to_string(),
                error,
            }))
        }
    }
}

/// The tenant settings (KV `settings`).
pub fn load_tenant(
    engine: &Engine,
    io: &Answers,
    now: UnixSeconds,
) -> Result<Rc<TenantPolicy>, Pending<LoadError>> {
    fetch_compiled(
        engine,
        io,
        SETTINGS_KEY,
        now,
        SETTINGS_TTL_S,
        10,
        |t| {
            let mut p = TenantPolicy::parse(t)?;
            p.version = engine.next_config_version();
            Ok(p)
        },
        Cached::Tenant,
        |c| match c {
            Cached::Tenant(t) => Some(t.clone()),
            _ => None,
        },
    )?
    .ok_or(Pending::Fail(LoadError::Missing {
        key: SETTINGS_KEY.into(),
    }))
}

/// One org by id (KV `org:{id}`); `Ok(None)` for an unknown or disabled org (a disabled org is
/// unknown everywhere: requests, login, the org prompt, invitation links).
pub fn load_org(
    engine: &Engine,
    io: &Answers,
    tenant: &TenantPolicy,
    org_id: &str,
    now: UnixSeconds,
) -> Result<Option<Rc<OrgPolicy>>, Pending<LoadError>> {
    if !policy::valid_org_id(org_id) {
        return Ok(None);
    }
    let key = format!("org:{org_id}");
    let org = fetch_compiled(
        engine,
        io,
        &key,
        now,
        tenant.config_ttl,
        tenant.negative_ttl,
        |t| {
            let mut p = OrgPolicy::parse(t)?;
            p.version = engine.next_config_version();
            Ok(p)
        },
        Cached::Org,
        |c| match c {
            Cached::Org(o) => Some(o.clone()),
            _ => None,
        },
    )?;
    // A document stored under another org's key is a config error, not a way in.
    if let Some(o) = &org {
        if o.org_id != org_id {
            return Err(Pending::Fail(LoadError::Invalid {
                key,
                error: ConfigError::new(
                    "$.org_id",
                    format!(
                        "document says {} but is stored under org:{org_id}",
                        o.org_id
                    ),
                ),
            }));
        }
    }
    Ok(org.filter(|o| !o.disabled))
}

/// How long past its refresh a revocation set may stand in while KV is unreachable.
pub const REVOCATIONS_MAX_STALE_S: u64 = 3600;

/// A scope's revocation set (KV `revoked:{org_id}`, `revoked:*` for the tenant), kept per
/// isolate for the tenant's `revocation.refresh_s`; absent is empty. A document that does not
/// parse fails closed (the scope's requests get 503) rather than revoking nothing.
pub fn load_revocations(
    engine: &Engine,
    io: &Answers,
    tenant: &TenantPolicy,
    scope: &str,
    now: UnixSeconds,
) -> Result<Rc<crate::revoke::RevocationSet>, Pending<LoadError>> {
    let key = crate::revoke::kv_key(scope);
    let refresh = tenant.revocation.refresh_s;
    let set = fetch_compiled(
        engine,
        io,
        &key,
        now,
        refresh,
        refresh,
        |t| {
            crate::revoke::RevocationSet::parse(t, now)
                .map_err(|e| ConfigError::new("$", format!("revocation set: {e}")))
        },
        Cached::Revocations,
        |c| match c {
            Cached::Revocations(r) => Some(r.clone()),
            _ => None,
        },
    )?;
    Ok(set.unwrap_or_else(|| engine.empty_revocations()))
}

/// Takes a scope's revocation document the writer just published as this isolate's copy, so a
/// revocation made here takes effect here at once (KV may still serve the previous one).
pub fn adopt_revocations(
    engine: &Engine,
    tenant: &TenantPolicy,
    scope: &str,
    doc: &str,
    now: UnixSeconds,
) {
    if let Ok(set) = crate::revoke::RevocationSet::parse(doc, now) {
        let key = crate::revoke::kv_key(scope);
        let until = now.plus(tenant.revocation.refresh_s);
        engine.with_configs(|c| c.put(&key, doc, Cached::Revocations(Rc::new(set)), now, until));
    }
}

/// Takes an org document the org's writer just published as this isolate's copy, so an admin's
/// change shows here at once (KV may still serve the previous one for a while).
pub fn adopt_org(
    engine: &Engine,
    tenant: &TenantPolicy,
    org_id: &str,
    doc: &str,
    now: UnixSeconds,
) {
    if let Ok(mut p) = OrgPolicy::parse(doc) {
        if p.org_id != org_id {
            return;
        }
        p.version = engine.next_config_version();
        let key = format!("org:{org_id}");
        let until = now.plus(tenant.config_ttl);
        engine.with_configs(|c| c.put(&key, doc, Cached::Org(Rc::new(p)), now, until));
    }
}

/// Drops this isolate's copy of a scope's revocation set (after this isolate wrote to it, so
/// the change takes effect here at once).
pub fn forget_revocations(engine: &Engine, scope: &str) {
    engine.with_configs(|c| c.forget(&crate::revoke::kv_key(scope)));
}

/// An alias key (`host:…`, `name:…`, `domain:…`) to an org id.
pub fn lookup_alias(
    engine: &Engine,
    io: &Answers,
    tenant: &TenantPolicy,
    key: &str,
    now: UnixSeconds,
) -> Result<Option<Rc<String>>, Pending<LoadError>> {
    fetch_compiled(
        engine,
        io,
        key,
        now,
        tenant.config_ttl,
        tenant.negative_ttl,
        |t| {
            let id = t.trim().trim_matches('"').to_string();
            if policy::valid_org_id(&id) {
                Ok(id)
            } else {
                Err(ConfigError::new("$", "an alias holds an org id"))
            }
        },
        Cached::Alias,
        |c| match c {
            Cached::Alias(a) => Some(a.clone()),
            _ => None,
        },
    )
}
