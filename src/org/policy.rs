//! Validated, compiled configuration: made once per config version from [`super::config`] with
//! `TryFrom`, rejecting bad config with the JSON path of the bad field.

use super::config::*;
use crate::authz::decision::Requirement;
use crate::authz::routes::{MethodSet, Pattern, RouteTable, RouteTableBuilder};
use crate::keys::cache::JwksTiming;
use crate::token::claims::{ClaimPath, GenericMap, Preset};
use crate::token::jws::Alg;
use crate::token::CallerKind;
use serde_json::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// A configuration error: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// JSON path of the bad field, e.g. `$.routes[2].require.permissions`.
    pub path: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

pub const CONFIG_VERSION: u32 = 1;
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
pub const DEFAULT_LEEWAY_S: u64 = 60;
const DAY_S: u64 = 86_400;
const WEEK_S: u64 = 7 * DAY_S;

/// Parses JSON text into a raw type, reporting serde errors with their JSON path.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse_raw<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            "$".to_string()
        } else {
            format!("$.{path}")
        };
        ConfigError::new(path, e.inner().to_string())
    })
}

/// In the Worker, serde's own error (what is wrong, with line and column) without the JSON path:
/// tracking paths while deserializing doubled the deserializer code every isolate compiles on its
/// first request. `orggate validate` names the path of the same error.
#[cfg(target_arch = "wasm32")]
pub fn parse_raw<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    serde_json::from_str(text).map_err(|e| ConfigError::new("$", e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Issuers

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudiencePattern {
    Exact(String),
    /// `urn:logto:organization:{org_id}`: any id in that slot; org scoping then checks the id.
    OrgTemplate {
        prefix: String,
        suffix: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Copy)]
pub enum MultiOrgPermissions {
    ActiveOrg,
    AllListedOrgs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiOrg {
    pub claim: ClaimPath,
    pub permissions: MultiOrgPermissions,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerPolicy {
    pub issuer: String,
    /// Empty only for session-token issuers ([`IssuerPolicy::session_tokens`]).
    pub audiences: Vec<AudiencePattern>,
    /// When not empty, `azp` must be one of these (lowercase origins).
    pub authorized_parties: Vec<String>,
    pub algorithms: Vec<Alg>,
    pub jwks_uri: Option<String>,
    pub preset: Preset,
    pub leeway: u64,
    pub max_age: Option<u64>,
    pub hs256_secret: Option<String>,
    pub multi_org: Option<MultiOrg>,
    pub timing: JwksTiming,
    /// Org ids this issuer may speak for; `None`: every org.
    pub orgs: Option<Vec<String>>,
}

impl IssuerPolicy {
    /// An issuer configured without audiences: its tokens are the IdP's own session tokens
    /// (Clerk, WorkOS AuthKit), which carry no `aud`. The key set is the application's own, so
    /// the signature binds the token to it; a token that *does* carry `aud` was minted for
    /// someone else (a Clerk JWT template for a third party) and is refused, and so is one
    /// without a session id (`sid`).
    pub fn session_tokens(&self) -> bool {
        self.audiences.is_empty()
    }

    pub fn accepts_audience(&self, aud: &str) -> bool {
        self.audiences.iter().any(|p| match p {
            AudiencePattern::Exact(a) => a == aud,
            AudiencePattern::OrgTemplate { prefix, suffix } => aud
                .strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_suffix(suffix.as_str()))
                .is_some_and(|id| !id.is_empty() && !id.contains(['/', ':'])),
        })
    }

    pub fn multi_org_claim(&self) -> Option<&ClaimPath> {
        self.multi_org.as_ref().map(|m| &m.claim)
    }
}

/// Allows `https://` URLs, and `http://` only for loopback development hosts.
pub fn check_url(path: &str, url: &str) -> Result<(), ConfigError> {
    let dev = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
    let ok = url.starts_with("https://")
        || dev.iter().any(|d| {
            url.strip_prefix(d)
                .is_some_and(|r| r.is_empty() || r.starts_with([':', '/']))
        });
    if !ok || url.contains(char::is_whitespace) || url.len() > 2048 {
        return Err(ConfigError::new(
            path,
            "must be an https URL (http only for 127.0.0.1/localhost)",
        ));
    }
    Ok(())
}

fn claim_path(path: &str, v: &RawClaimPath) -> Result<ClaimPath, ConfigError> {
    match v {
        // A namespaced claim (`https://example.com/roles`) contains dots of its own: as a dotted
        // string it would be read as nested keys and never found.
        RawClaimPath::Dotted(s) if s.contains("://") => Err(ConfigError::new(
            path,
            format!("{s:?} looks like a namespaced claim; write it as one key: [{s:?}]"),
        )),
        RawClaimPath::Dotted(s) if !s.is_empty() => Ok(ClaimPath::dotted(s)),
        RawClaimPath::Keys(keys) if !keys.is_empty() => Ok(ClaimPath(keys.clone())),
        _ => Err(ConfigError::new(path, "an empty claim path")),
    }
}

fn parse_preset(path: &str, v: &RawPreset) -> Result<Preset, ConfigError> {
    Ok(match v {
        RawPreset::Named(name) => match name {
            RawPresetName::Auth0 => Preset::Auth0 { roles: None },
            RawPresetName::Clerk => Preset::Clerk,
            RawPresetName::Keycloak => Preset::Keycloak,
            RawPresetName::Workos => Preset::WorkOs,
            RawPresetName::Logto => Preset::Logto,
            RawPresetName::Stytch => Preset::Stytch,
        },
        RawPreset::Custom(RawPresetCustom::Auth0(a)) => Preset::Auth0 {
            roles: Some(claim_path(&format!("{path}.auth0.roles"), &a.roles)?),
        },
        RawPreset::Custom(RawPresetCustom::Generic(g)) => {
            let p = |k: &str, v: &Option<RawClaimPath>| {
                v.as_ref()
                    .map(|v| claim_path(&format!("{path}.generic.{k}"), v))
                    .transpose()
            };
            let map = GenericMap {
                org_id: p("org_id", &g.org_id)?,
                org_name: p("org_name", &g.org_name)?,
                permissions: p("permissions", &g.permissions)?,
                roles: p("roles", &g.roles)?,
                subject: p("subject", &g.subject)?,
                client_id: p("client_id", &g.client_id)?,
            };
            if map.org_id.is_none() && map.org_name.is_none() {
                return Err(ConfigError::new(
                    format!("{path}.generic"),
                    "needs org_id or org_name",
                ));
            }
            Preset::Generic(map)
        }
    })
}

fn issuer_policy(path: &str, raw: &RawIssuer) -> Result<IssuerPolicy, ConfigError> {
    // The issuer is a URL unless keys come from an explicit jwks_uri (Stytch's `iss` is
    // `stytch.com/{project_id}`): then it is only compared, never fetched.
    match &raw.jwks_uri {
        Some(u) => {
            check_url(&format!("{path}.jwks_uri"), u)?;
            if raw.issuer.is_empty()
                || raw.issuer.len() > 512
                || raw.issuer.contains(char::is_whitespace)
            {
                return Err(ConfigError::new(
                    format!("{path}.issuer"),
                    "1-512 characters, no whitespace",
                ));
            }
        }
        None => check_url(&format!("{path}.issuer"), &raw.issuer)?,
    }
    let preset = parse_preset(&format!("{path}.preset"), &raw.preset)?;
    if raw.audiences.is_empty() && !matches!(preset, Preset::Clerk | Preset::WorkOs) {
        return Err(ConfigError::new(
            format!("{path}.audiences"),
            "at least one audience is required (only the clerk and workos presets, whose session tokens carry no aud, may omit it)",
        ));
    }
    if raw.audiences.is_empty() && raw.jwks_uri.is_none() && matches!(preset, Preset::WorkOs) {
        return Err(ConfigError::new(
            format!("{path}.jwks_uri"),
            "WorkOS session tokens are bound to your client only by its key set: set jwks_uri to https://api.workos.com/sso/jwks/{client_id}",
        ));
    }
    if raw.audiences.is_empty()
        && matches!(preset, Preset::Clerk)
        && raw.authorized_parties.is_empty()
    {
        return Err(ConfigError::new(
            format!("{path}.authorized_parties"),
            "Clerk session tokens are bound to your app only by azp: list its origins",
        ));
    }
    let mut authorized_parties = Vec::new();
    for (i, o) in raw.authorized_parties.iter().enumerate() {
        authorized_parties.push(crate::authz::isolation::parse_origin(o).ok_or_else(|| {
            ConfigError::new(
                format!("{path}.authorized_parties[{i}]"),
                "an origin such as https://app.example.com (no path, no wildcard)",
            )
        })?);
    }
    let audiences = raw
        .audiences
        .iter()
        .map(|a| match a.split_once("{org_id}") {
            Some((prefix, suffix)) => AudiencePattern::OrgTemplate {
                prefix: prefix.to_string(),
                suffix: suffix.to_string(),
            },
            None => AudiencePattern::Exact(a.clone()),
        })
        .collect();
    if raw.algorithms.is_empty() {
        return Err(ConfigError::new(
            format!("{path}.algorithms"),
            "at least one algorithm is required",
        ));
    }
    let mut algorithms = Vec::new();
    for (i, a) in raw.algorithms.iter().enumerate() {
        let alg = Alg::from_name(a).ok_or_else(|| {
            ConfigError::new(
                format!("{path}.algorithms[{i}]"),
                format!(
                    "unknown algorithm {a:?} (RS256..512, PS256..512, ES256, ES384, EdDSA, HS256)"
                ),
            )
        })?;
        algorithms.push(alg);
    }
    if algorithms.contains(&Alg::HS256) && raw.hs256_secret.is_none() {
        return Err(ConfigError::new(
            format!("{path}.hs256_secret"),
            "HS256 needs the name of the Worker secret holding the shared key",
        ));
    }
    let multi_org = match &raw.multi_org {
        None => None,
        Some(m) => Some(MultiOrg {
            claim: claim_path(&format!("{path}.multi_org.claim"), &m.claim)?,
            permissions: match m.permissions.as_deref() {
                None | Some("active_org") => MultiOrgPermissions::ActiveOrg,
                Some("all_listed_orgs") => MultiOrgPermissions::AllListedOrgs,
                Some(other) => {
                    return Err(ConfigError::new(
                        format!("{path}.multi_org.permissions"),
                        format!("{other:?}: expected active_org or all_listed_orgs"),
                    ))
                }
            },
        }),
    };
    if let (Some(m), Preset::Keycloak) = (&multi_org, &preset) {
        if m.claim.0 != ["organization"] {
            return Err(ConfigError::new(
                format!("{path}.multi_org.claim"),
                "the keycloak preset lists orgs in \"organization\"",
            ));
        }
    }
    let d = JwksTiming::default();
    let j = &raw.jwks;
    let timing = JwksTiming {
        // Every duration from config is clamped to a sane range, so time arithmetic on them
        // cannot overflow and no typo keeps keys for a century.
        default_ttl: j.default_ttl_s.unwrap_or(d.default_ttl).clamp(1, WEEK_S),
        min_ttl: j.min_ttl_s.unwrap_or(d.min_ttl).min(DAY_S),
        max_ttl: j.max_ttl_s.unwrap_or(d.max_ttl).clamp(1, WEEK_S),
        refetch_window: j.refetch_window_s.unwrap_or(d.refetch_window).min(3600),
        max_stale: j.max_stale_s.unwrap_or(d.max_stale).min(30 * DAY_S),
    };
    if timing.refetch_window == 0 {
        return Err(ConfigError::new(
            format!("{path}.jwks.refetch_window_s"),
            "at least 1 second (0 would send every unknown kid to the IdP)",
        ));
    }
    if timing.min_ttl > timing.max_ttl {
        return Err(ConfigError::new(
            format!("{path}.jwks"),
            "min_ttl_s exceeds max_ttl_s",
        ));
    }
    let leeway = raw.leeway_s.unwrap_or(DEFAULT_LEEWAY_S);
    if leeway > 600 {
        return Err(ConfigError::new(
            format!("{path}.leeway_s"),
            "at most 600 seconds",
        ));
    }
    Ok(IssuerPolicy {
        issuer: raw.issuer.clone(),
        audiences,
        algorithms,
        jwks_uri: raw.jwks_uri.clone(),
        authorized_parties,
        preset,
        leeway,
        max_age: raw.max_age_s.map(|m| m.min(365 * DAY_S)),
        hs256_secret: raw.hs256_secret.clone(),
        multi_org,
        timing,
        orgs: match &raw.orgs {
            None => None,
            Some(list) => {
                for (i, o) in list.iter().enumerate() {
                    if !valid_org_id(o) {
                        return Err(ConfigError::new(format!("{path}.orgs[{i}]"), "an org id"));
                    }
                }
                Some(list.clone())
            }
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Routes

/// Where an allowed request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleUpstream {
    Default,
    Assets,
    Origin(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub pattern: String,
    pub requirement: Rc<Requirement>,
    /// `base:{id}` or `org:{id}`: the rule's name in logs and refusals.
    pub label: Rc<str>,
    pub loosen: bool,
    pub upstream: RuleUpstream,
    /// Origins allowed to send cross-site requests on a session cookie (see
    /// [`crate::authz::isolation`]); empty: none.
    pub cross_site_origins: Vec<String>,
    /// Step-up authentication for this route ([`crate::authz::step_up`]).
    pub step_up: Option<Rc<crate::authz::step_up::StepUp>>,
    /// CORS for this route ([`crate::authz::cors`]).
    pub cors: Option<Rc<crate::authz::cors::CorsPolicy>>,
}

fn parse_rules(
    path: &str,
    raws: &[RawRule],
    allow_loosen: bool,
) -> Result<RouteTable<Rc<Rule>>, ConfigError> {
    let mut builder = RouteTableBuilder::new();
    let mut ids = std::collections::HashSet::new();
    for (i, r) in raws.iter().enumerate() {
        let p = format!("{path}[{i}]");
        if r.id.is_empty()
            || r.id.len() > 64
            || !r
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        {
            return Err(ConfigError::new(
                format!("{p}.id"),
                "1-64 characters of [A-Za-z0-9-_.:]",
            ));
        }
        if !ids.insert(r.id.clone()) {
            return Err(ConfigError::new(
                format!("{p}.id"),
                format!("duplicate rule id {:?}", r.id),
            ));
        }
        if r.loosen && !allow_loosen {
            return Err(ConfigError::new(
                format!("{p}.loosen"),
                "only org rules may loosen base rules",
            ));
        }
        let pattern: Pattern = r
            .path
            .parse()
            .map_err(|e| ConfigError::new(format!("{p}.path"), format!("{e}")))?;
        let methods = match &r.methods {
            None => MethodSet::all(),
            Some(ms) => MethodSet::from_names(ms)
                .map_err(|e| ConfigError::new(format!("{p}.methods"), e.to_string()))?,
        };
        let upstream = match r.upstream.as_deref() {
            None => RuleUpstream::Default,
            Some("assets") => RuleUpstream::Assets,
            Some(url) => {
                check_url(&format!("{p}.upstream"), url)?;
                RuleUpstream::Origin(url.trim_end_matches('/').to_string())
            }
        };
        let mut cross_site_origins = Vec::new();
        for (j, o) in r.cross_site_origins.iter().enumerate() {
            let at = format!("{p}.cross_site_origins[{j}]");
            cross_site_origins.push(crate::authz::isolation::parse_origin(o).ok_or_else(|| {
                ConfigError::new(at, "an origin: scheme://host[:port], no path, no wildcard")
            })?);
        }
        let rule = Rc::new(Rule {
            id: r.id.clone(),
            pattern: r.path.clone(),
            requirement: Rc::new(Requirement::parse(&format!("{p}.require"), &r.require)?),
            label: Rc::from(format!(
                "{}:{}",
                if allow_loosen { "org" } else { "base" },
                r.id
            )),
            loosen: r.loosen,
            upstream,
            cross_site_origins,
            step_up: match &r.step_up {
                Some(su) => Some(Rc::new(crate::authz::step_up::StepUp::parse(
                    &format!("{p}.step_up"),
                    su,
                )?)),
                None => None,
            },
            cors: match &r.cors {
                Some(c) => Some(Rc::new(crate::authz::cors::CorsPolicy::parse(
                    &format!("{p}.cors"),
                    c,
                )?)),
                None => None,
            },
        });
        builder
            .insert(methods, pattern, rule)
            .map_err(|e| ConfigError::new(format!("{p}.path"), format!("{e}")))?;
    }
    Ok(builder.build())
}

// ---------------------------------------------------------------------------------------------
// Tenant

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    Deny,
    Authenticated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub base_domains: Vec<String>,
    pub path_prefix: Option<String>,
    pub strip_path_prefix: bool,
    pub header: Option<String>,
    pub token_org: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionPolicy {
    pub secret: String,
    pub kid: String,
    pub ttl: u64,
    pub audience: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginPolicy {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: String,
    pub audience: Option<String>,
    pub session_keys: String,
    pub session_ttl: u64,
    pub insecure_dev_cookies: bool,
}

#[derive(Debug)]
pub struct TenantPolicy {
    /// Set by the loader: a new number for each compiled version of the document (decisions
    /// for repeated credentials are cached per version).
    pub version: u64,
    pub resolution: Resolution,
    issuers: HashMap<String, Rc<IssuerPolicy>>,
    pub base_routes: RouteTable<Rc<Rule>>,
    pub unmatched: Unmatched,
    pub origin: Option<String>,
    pub header_prefix: String,
    pub strip_headers: Vec<String>,
    pub assertion: Option<AssertionPolicy>,
    pub login: Option<LoginPolicy>,
    pub config_ttl: u64,
    pub negative_ttl: u64,
    pub token_header: Option<String>,
    pub max_token_bytes: usize,
    /// CORS for routes without their own.
    pub cors: Option<Rc<crate::authz::cors::CorsPolicy>>,
    pub revocation: RevocationPolicy,
    pub admin: AdminPolicy,
    /// The tenant's name and branding (pages without an org).
    pub display_name: Option<String>,
    pub branding: Branding,
    /// Header names no client may send to the origin (see [`crate::forward::strip_lists`]).
    pub strip_prefixes: Rc<[String]>,
    pub strip_names: Rc<[String]>,
}

impl TenantPolicy {
    pub fn issuer(&self, iss: &str) -> Option<&IssuerPolicy> {
        self.issuers.get(iss).map(|r| r.as_ref())
    }

    /// Request headers the config reads besides the fixed set a host always passes (the org
    /// header, the token header), lowercase.
    pub fn extra_headers(&self) -> Vec<String> {
        self.resolution
            .header
            .iter()
            .chain(self.token_header.iter())
            .cloned()
            .collect()
    }

    pub fn issuers(&self) -> impl Iterator<Item = &IssuerPolicy> {
        self.issuers.values().map(|r| r.as_ref())
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: RawSettings = parse_raw(text)?;
        Self::try_from(&raw)
    }
}

fn check_version(v: u32) -> Result<(), ConfigError> {
    if v != CONFIG_VERSION {
        return Err(ConfigError::new(
            "$.version",
            format!("unsupported version {v} (this orggate reads 1)"),
        ));
    }
    Ok(())
}

fn header_name_ok(h: &str) -> bool {
    !h.is_empty() && h.len() <= 64 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl TryFrom<&RawSettings> for TenantPolicy {
    type Error = ConfigError;
    fn try_from(raw: &RawSettings) -> Result<Self, ConfigError> {
        check_version(raw.version)?;
        if raw.issuers.is_empty() {
            return Err(ConfigError::new("$.issuers", "at least one issuer"));
        }
        let mut issuers = HashMap::new();
        for (i, ri) in raw.issuers.iter().enumerate() {
            let p = issuer_policy(&format!("$.issuers[{i}]"), ri)?;
            if issuers.insert(p.issuer.clone(), Rc::new(p)).is_some() {
                return Err(ConfigError::new(
                    format!("$.issuers[{i}].issuer"),
                    "duplicate issuer",
                ));
            }
        }
        let r = &raw.resolution;
        for (i, d) in r.base_domains.iter().enumerate() {
            if d.is_empty() || d.starts_with('.') || d.contains(['/', ':', '*']) {
                return Err(ConfigError::new(
                    format!("$.resolution.base_domains[{i}]"),
                    "a bare domain like example.com",
                ));
            }
        }
        if let Some(pp) = &r.path_prefix {
            if !(pp.starts_with('/')
                && pp.ends_with('/')
                && pp.len() >= 3
                && !pp[1..pp.len() - 1].contains('/'))
            {
                return Err(ConfigError::new(
                    "$.resolution.path_prefix",
                    "one segment between slashes, like \"/o/\"",
                ));
            }
        }
        if let Some(h) = &r.header {
            if !header_name_ok(h) {
                return Err(ConfigError::new("$.resolution.header", "not a header name"));
            }
        }
        let header_prefix = raw
            .forwarding
            .header_prefix
            .clone()
            .unwrap_or_else(|| "x-orggate-".into())
            .to_ascii_lowercase();
        if !header_name_ok(&header_prefix) {
            return Err(ConfigError::new(
                "$.forwarding.header_prefix",
                "not a header name prefix",
            ));
        }
        for (i, h) in raw.forwarding.strip_headers.iter().enumerate() {
            if !header_name_ok(h) {
                return Err(ConfigError::new(
                    format!("$.forwarding.strip_headers[{i}]"),
                    "not a header name",
                ));
            }
        }
        if let Some(o) = &raw.origin {
            check_url("$.origin", o)?;
        }
        let assertion = match &raw.forwarding.assertion {
            None => None,
            Some(a) => {
                if a.kid.is_empty() || a.kid.len() > 64 {
                    return Err(ConfigError::new(
                        "$.forwarding.assertion.kid",
                        "1-64 characters",
                    ));
                }
                Some(AssertionPolicy {
                    secret: a.secret.clone(),
                    kid: a.kid.clone(),
                    ttl: a.ttl_s.unwrap_or(60).clamp(5, 3600),
                    audience: a.audience.clone(),
                })
            }
        };
        let login = match &raw.login {
            None => None,
            Some(l) => {
                check_url("$.login.issuer", &l.issuer)?;
                Some(LoginPolicy {
                    issuer: l.issuer.clone(),
                    client_id: l.client_id.clone(),
                    client_secret: l.client_secret.clone(),
                    scopes: l
                        .scopes
                        .clone()
                        .unwrap_or_else(|| "openid profile email offline_access".into()),
                    audience: l.audience.clone(),
                    session_keys: l
                        .session_keys
                        .clone()
                        .unwrap_or_else(|| "SESSION_KEYS".into()),
                    session_ttl: l.session_ttl_s.unwrap_or(8 * 3600).clamp(60, 30 * DAY_S),
                    insecure_dev_cookies: l.insecure_dev_cookies,
                })
            }
        };
        let unmatched = match raw.unmatched.as_deref() {
            None | Some("deny") => Unmatched::Deny,
            Some("authenticated") => Unmatched::Authenticated,
            Some(o) => {
                return Err(ConfigError::new(
                    "$.unmatched",
                    format!("{o:?}: expected deny or authenticated"),
                ))
            }
        };
        if let Some(h) = &raw.token_header {
            if !header_name_ok(h) {
                return Err(ConfigError::new("$.token_header", "not a header name"));
            }
        }
        let strip = crate::forward::strip_lists(&header_prefix, &raw.forwarding.strip_headers);
        Ok(TenantPolicy {
            version: 0,
            resolution: Resolution {
                base_domains: r
                    .base_domains
                    .iter()
                    .map(|d| d.to_ascii_lowercase())
                    .collect(),
                path_prefix: r.path_prefix.clone(),
                strip_path_prefix: r.strip_path_prefix.unwrap_or(true),
                header: r.header.as_ref().map(|h| h.to_ascii_lowercase()),
                token_org: r.token_org,
            },
            issuers,
            base_routes: parse_rules("$.routes", &raw.routes, false)?,
            unmatched,
            origin: raw
                .origin
                .as_ref()
                .map(|o| o.trim_end_matches('/').to_string()),
            header_prefix,
            strip_headers: raw
                .forwarding
                .strip_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            assertion,
            login,
            config_ttl: raw.cache.config_ttl_s.unwrap_or(60).clamp(1, 3600),
            negative_ttl: raw.cache.negative_ttl_s.unwrap_or(10).clamp(1, 600),
            token_header: raw.token_header.as_ref().map(|h| h.to_ascii_lowercase()),
            max_token_bytes: raw
                .max_token_bytes
                .unwrap_or(DEFAULT_MAX_TOKEN_BYTES)
                .clamp(512, 64 * 1024),
            strip_prefixes: strip.0.into(),
            strip_names: strip.1.into(),
            cors: match &raw.cors {
                Some(c) => Some(Rc::new(crate::authz::cors::CorsPolicy::parse("$.cors", c)?)),
                None => None,
            },
            revocation: RevocationPolicy {
                refresh_s: raw.revocation.refresh_s.unwrap_or(30).clamp(1, 300),
                max_token_lifetime_s: raw
                    .revocation
                    .max_token_lifetime_s
                    .unwrap_or(DAY_S)
                    .clamp(60, 30 * DAY_S),
            },
            display_name: match &raw.display_name {
                Some(n) if n.is_empty() || n.len() > 100 => {
                    return Err(ConfigError::new("$.display_name", "1 to 100 characters"))
                }
                n => n.clone(),
            },
            branding: parse_branding(&raw.branding)?,
            admin: AdminPolicy {
                permission: raw
                    .admin
                    .permission
                    .clone()
                    .unwrap_or_else(|| "org:admin".into()),
                operator_permission: raw.admin.operator_permission.clone(),
                dns_resolver: match &raw.admin.dns_resolver {
                    Some(u) => {
                        check_url("$.admin.dns_resolver", u)?;
                        u.clone()
                    }
                    None => "https://cloudflare-dns.com/dns-query".into(),
                },
                logo_hosts: raw
                    .admin
                    .logo_hosts
                    .as_ref()
                    .map(|hs| hs.iter().map(|h| h.to_ascii_lowercase()).collect()),
                grantable_permissions: raw.admin.grantable_permissions.clone(),
                grantable_roles: raw.admin.grantable_roles.clone(),
            },
        })
    }
}

/// Revocation timing ([`crate::revoke`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationPolicy {
    /// An isolate reads a scope's revocation set again after this long (1-300 s).
    pub refresh_s: u64,
    /// The longest any accepted token lives; entries outlive it by nothing.
    pub max_token_lifetime_s: u64,
}

/// Who administers orgs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminPolicy {
    /// An org member with this permission administers their org.
    pub permission: String,
    /// A tenant-issuer token with this permission administers every org.
    pub operator_permission: Option<String>,
    /// DNS-over-HTTPS resolver (JSON API) for domain verification.
    pub dns_resolver: String,
    /// Lowercase hosts an org admin may take a logo from; `None`: any https host.
    pub logo_hosts: Option<Vec<String>>,
    /// What an org admin's claim rules may grant; `None`: anything.
    pub grantable_permissions: Option<Vec<String>>,
    pub grantable_roles: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// Organizations

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub logo_url: Option<String>,
    pub primary: String,
    pub page_background: String,
    pub css_vars: Vec<(String, String)>,
    pub tagline: Option<String>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            logo_url: None,
            primary: DEFAULT_PRIMARY.into(),
            page_background: DEFAULT_PAGE_BACKGROUND.into(),
            css_vars: Vec::new(),
            tagline: None,
        }
    }
}

const DEFAULT_PRIMARY: &str = "#3b5bdb";
const DEFAULT_PAGE_BACKGROUND: &str = "#f8f9fa";

/// `branding` of an org document or of the settings: logo URL, colours, CSS variables, tagline.
fn parse_branding(b: &RawBranding) -> Result<Branding, ConfigError> {
    if let Some(u) = &b.logo_url {
        // Same-origin login assets (`/_orggate/assets/...`) or an https URL.
        if !u.starts_with("/_orggate/assets/") {
            check_url("$.branding.logo_url", u)?;
        }
        if u.contains(['"', '\'', '<', '>', '(', ')']) {
            return Err(ConfigError::new(
                "$.branding.logo_url",
                "quotes, brackets and parentheses are not allowed",
            ));
        }
    }
    let color = |path: &str, v: &Option<String>, default: &str| -> Result<String, ConfigError> {
        match v {
            None => Ok(default.to_string()),
            Some(c) if valid_color(c) => Ok(c.to_ascii_lowercase()),
            Some(_) => Err(ConfigError::new(path, "a hex colour like #1a73e8")),
        }
    };
    let mut css_vars = Vec::new();
    for (k, v) in &b.css_vars {
        let p = format!("$.branding.css_vars.{k}");
        if k.is_empty()
            || k.len() > 32
            || !k
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        {
            return Err(ConfigError::new(
                p,
                "names are [a-z0-9-], up to 32 characters",
            ));
        }
        if !valid_css_value(v) {
            return Err(ConfigError::new(
                p,
                "values are up to 64 characters of [A-Za-z0-9 #.,%()-], no url()",
            ));
        }
        css_vars.push((k.clone(), v.clone()));
    }
    Ok(Branding {
        logo_url: b.logo_url.clone(),
        primary: color(
            "$.branding.colors.primary",
            &b.colors.primary,
            DEFAULT_PRIMARY,
        )?,
        page_background: color(
            "$.branding.colors.page_background",
            &b.colors.page_background,
            "#f8f9fa",
        )?,
        css_vars,
        tagline: b.tagline.clone(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    Enterprise,
    Social,
    Database,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub connection: String,
    pub label: String,
    pub kind: ConnectionKind,
}

/// The org's own identity provider: the org is implied by the IdP, never read from a claim.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgIdp {
    pub issuer: String,
    pub client_id: String,
    /// The name of the Worker secret holding the client secret.
    pub client_secret: String,
    pub scopes: String,
    pub userinfo: bool,
    pub algorithms: Vec<Alg>,
    /// Lowercase domains; empty: any user of the IdP.
    pub allowed_email_domains: Vec<String>,
    pub claim_rules: Vec<ClaimRule>,
}

/// What an IdP claim must hold for a rule to grant.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimMatch {
    /// A string claim equal to it, or an array of strings containing it.
    Contains(String),
    /// Exactly this JSON value.
    Equals(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRule {
    pub claim: ClaimPath,
    pub matches: ClaimMatch,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

impl ClaimRule {
    pub fn applies(&self, claims: &serde_json::Map<String, Value>) -> bool {
        let Ok(Some(v)) = self.claim.lookup(claims) else {
            return false;
        };
        match &self.matches {
            ClaimMatch::Equals(want) => v == want,
            ClaimMatch::Contains(want) => match v {
                Value::String(s) => s == want,
                Value::Array(items) => items.iter().any(|i| i.as_str() == Some(want.as_str())),
                _ => false,
            },
        }
    }
}

fn org_idp(i: &RawOrgIdp) -> Result<OrgIdp, ConfigError> {
    check_url("$.login.idp.issuer", &i.issuer)?;
    // An org document may only name secrets reserved for orgs: otherwise it could send
    // SESSION_KEYS or ASSERTION_KEY to an IdP of its choosing as a client secret.
    let s = &i.client_secret;
    if !(s.starts_with("ORG_")
        && s.len() > 4
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
    {
        return Err(ConfigError::new(
            "$.login.idp.client_secret",
            "the name of a Worker secret starting with ORG_ (e.g. ORG_INITECH_CLIENT_SECRET)",
        ));
    }
    if i.client_id.is_empty() || i.client_id.len() > 256 {
        return Err(ConfigError::new(
            "$.login.idp.client_id",
            "1-256 characters",
        ));
    }
    let scopes = i
        .scopes
        .clone()
        .unwrap_or_else(|| "openid profile email".into());
    if !scopes.split(' ').any(|s| s == "openid") || scopes.len() > 512 {
        return Err(ConfigError::new(
            "$.login.idp.scopes",
            "space-separated scopes including openid",
        ));
    }
    let algorithms = match &i.algorithms {
        None => vec![Alg::RS256, Alg::PS256, Alg::ES256, Alg::EdDSA],
        Some(list) => {
            let mut out = Vec::new();
            for (n, a) in list.iter().enumerate() {
                match Alg::from_name(a) {
                    Some(Alg::HS256) | None => {
                        return Err(ConfigError::new(
                            format!("$.login.idp.algorithms[{n}]"),
                            "an asymmetric JWS algorithm (RS*, PS*, ES256, ES384, EdDSA)",
                        ))
                    }
                    Some(alg) => out.push(alg),
                }
            }
            if out.is_empty() {
                return Err(ConfigError::new("$.login.idp.algorithms", "at least one"));
            }
            out
        }
    };
    let mut domains = Vec::new();
    for (n, d) in i.allowed_email_domains.iter().enumerate() {
        let d = d.trim().to_ascii_lowercase();
        if d.is_empty() || d.starts_with('.') || d.contains(['@', '/', ' ', '*']) {
            return Err(ConfigError::new(
                format!("$.login.idp.allowed_email_domains[{n}]"),
                "a bare domain like example.com",
            ));
        }
        domains.push(d);
    }
    let mut claim_rules = Vec::new();
    for (n, r) in i.claim_rules.iter().enumerate() {
        let p = format!("$.login.idp.claim_rules[{n}]");
        let matches = match (&r.contains, &r.equals) {
            (Some(c), None) => ClaimMatch::Contains(c.clone()),
            (None, Some(e)) => ClaimMatch::Equals(e.clone()),
            _ => {
                return Err(ConfigError::new(
                    p,
                    "exactly one of contains (a string) or equals (a JSON value)",
                ))
            }
        };
        if r.roles.is_empty() && r.permissions.is_empty() {
            return Err(ConfigError::new(p, "a rule grants roles or permissions"));
        }
        for (k, x) in r.roles.iter().chain(r.permissions.iter()).enumerate() {
            if x.is_empty() || x.contains([' ', ',']) || x.len() > 128 {
                return Err(ConfigError::new(
                    format!("{p}.grants[{k}]"),
                    "roles and permissions are 1-128 characters without spaces or commas",
                ));
            }
        }
        claim_rules.push(ClaimRule {
            claim: claim_path(&format!("{p}.claim"), &r.claim)?,
            matches,
            roles: r.roles.clone(),
            permissions: r.permissions.clone(),
        });
    }
    Ok(OrgIdp {
        issuer: i.issuer.clone(),
        client_id: i.client_id.clone(),
        client_secret: i.client_secret.clone(),
        scopes,
        userinfo: i.userinfo,
        algorithms,
        allowed_email_domains: domains,
        claim_rules,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrgLogin {
    pub connections: Vec<Connection>,
    pub signup: bool,
    pub passwordless_connection: Option<String>,
    pub idp: Option<OrgIdp>,
}

#[derive(Debug)]
pub struct OrgPolicy {
    /// Set by the loader, like [`TenantPolicy::version`].
    pub version: u64,
    pub org_id: String,
    pub name: String,
    pub display_name: String,
    pub branding: Branding,
    pub login: OrgLogin,
    pub routes: RouteTable<Rc<Rule>>,
    pub issuers: Option<Vec<String>>,
    pub m2m_clients: Vec<String>,
    pub origin: Option<String>,
    pub allow_org_name_match: bool,
    pub allow_personal_accounts: bool,
    pub allow_query_token: bool,
    pub disabled: bool,
}

impl OrgPolicy {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: RawOrg = parse_raw(text)?;
        Self::try_from(&raw)
    }
}

/// Auth0 organization names: lowercase `a-z0-9_-`, 1 to 50 characters.
pub fn valid_org_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 50
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

pub fn valid_org_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `#rgb` or `#rrggbb`.
pub fn valid_color(c: &str) -> bool {
    c.strip_prefix('#')
        .is_some_and(|h| (h.len() == 3 || h.len() == 6) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn valid_css_value(v: &str) -> bool {
    v.len() <= 64
        && !v.to_ascii_lowercase().contains("url(")
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" #.,%()-".contains(&b))
}

impl TryFrom<&RawOrg> for OrgPolicy {
    type Error = ConfigError;
    fn try_from(raw: &RawOrg) -> Result<Self, ConfigError> {
        check_version(raw.version)?;
        if !valid_org_id(&raw.org_id) {
            return Err(ConfigError::new(
                "$.org_id",
                "1-64 characters of [A-Za-z0-9_-]",
            ));
        }
        if !valid_org_name(&raw.name) {
            return Err(ConfigError::new(
                "$.name",
                "lowercase a-z0-9_-, 1 to 50 characters",
            ));
        }
        let branding = parse_branding(&raw.branding)?;
        let l = &raw.login;
        if l.connections.len() > 10 {
            return Err(ConfigError::new(
                "$.login.connections",
                "Auth0 allows at most 10 connections per organization",
            ));
        }
        let mut connections = Vec::new();
        for (i, c) in l.connections.iter().enumerate() {
            let p = format!("$.login.connections[{i}]");
            if c.connection.is_empty() || c.connection.len() > 128 {
                return Err(ConfigError::new(
                    format!("{p}.connection"),
                    "1-128 characters",
                ));
            }
            let kind = match c.kind.as_deref() {
                None | Some("enterprise") => ConnectionKind::Enterprise,
                Some("social") => ConnectionKind::Social,
                Some("database") => ConnectionKind::Database,
                Some(o) => {
                    return Err(ConfigError::new(
                        format!("{p}.kind"),
                        format!("{o:?}: enterprise, social or database"),
                    ))
                }
            };
            connections.push(Connection {
                connection: c.connection.clone(),
                label: c.label.clone(),
                kind,
            });
        }
        let idp = l.idp.as_ref().map(org_idp).transpose()?;
        if let Some(o) = &raw.origin {
            check_url("$.origin", o)?;
        }
        Ok(OrgPolicy {
            version: 0,
            org_id: raw.org_id.clone(),
            name: raw.name.clone(),
            display_name: raw.display_name.clone().unwrap_or_else(|| raw.name.clone()),
            branding,
            login: OrgLogin {
                connections,
                signup: l.signup,
                passwordless_connection: l.passwordless_connection.clone(),
                idp,
            },
            routes: parse_rules("$.routes", &raw.routes, true)?,
            issuers: raw.issuers.clone(),
            m2m_clients: raw.m2m_clients.clone(),
            origin: raw
                .origin
                .as_ref()
                .map(|o| o.trim_end_matches('/').to_string()),
            allow_org_name_match: raw.allow_org_name_match,
            allow_personal_accounts: raw.allow_personal_accounts,
            allow_query_token: raw.allow_query_token,
            disabled: raw.disabled,
        })
    }
}

/// Used by `CallerKind` parsing in requirements.
pub fn caller_kind(s: &str) -> Option<CallerKind> {
    match s {
        "user" => Some(CallerKind::User),
        "client" => Some(CallerKind::Client),
        _ => None,
    }
}

/// Validates one config document of any kind, told apart by its shape: an org (has `org_id`),
/// tenant `settings` (has `issuers`), or an alias map (`name:`/`host:`/`domain:` → org id).
/// The CLI's `validate` and the config tests use this; the Worker parses each KV key directly.
pub fn check_document(text: &str) -> Result<&'static str, ConfigError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ConfigError::new("$", e.to_string()))?;
    if v.get("org_id").is_some() {
        OrgPolicy::parse(text).map(|_| "org")
    } else if v.get("issuers").is_some() {
        TenantPolicy::parse(text).map(|_| "settings")
    } else if let Some(m) = v.as_object().filter(|m| !m.is_empty()) {
        for (k, val) in m {
            let ok_key = ["name:", "host:", "domain:"]
                .iter()
                .any(|p| k.starts_with(p) && k.len() > p.len());
            if !ok_key || !val.as_str().is_some_and(valid_org_id) {
                return Err(ConfigError::new(
                    format!("$.{k}"),
                    "aliases map name:/host:/domain: keys to org ids",
                ));
            }
        }
        Ok("aliases")
    } else {
        Err(ConfigError::new(
            "$",
            "not a settings, org or aliases document",
        ))
    }
}
