//! The admin API, under each org's `/_orggate/admin/api/`. Today: revocations.
//!
//! `POST /_orggate/admin/api/revocations` with `{"subject": "..."}` ("sign this member out
//! everywhere": every session and token of the subject in this org, issued until now, is
//! refused) or `{"kind": "sub" | "sid" | "jti" | "client", "value": "..."}`. Answers 200 with
//! the entry, once the org's writer has it.
//!
//! Who may call it: a member of *this* org holding the admin permission (`settings.admin.
//! permission`, default `org:admin`), by bearer token or session; or a tenant operator: a token
//! from a tenant issuer that is not bound to one org, holding `settings.admin.operator_permission`
//! (unset: no operators). A session may only call it from the org's own origin (resource
//! isolation, as for any cookie-borne request). A revoked credential is refused here too.

use crate::authz::decision::{scope_to_org, Principal};
use crate::authz::isolation::check_session_request;
use crate::credential::{self, Credential};
use crate::engine::Engine;
use crate::error::{Halt, Refusal};
use crate::exchange::Exchange;
use crate::http::{Outcome, ResponseView};
use crate::io::Pending;
use crate::login::backchannel;
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::ports::Host;
use crate::revoke::{Entry, Kind};
use crate::session::lifecycle::{
    secure_cookies, session_claims, session_cookie_name, SessionClaims,
};
use crate::time::UnixSeconds;
use crate::token::verify;
use serde::Deserialize;

mod dns;
mod pages;
pub mod state;
use std::rc::Rc;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    /// A member of this org with the admin permission.
    OrgAdmin(String),
    /// A tenant operator (may administer every org).
    Operator(String),
}

impl Admin {
    pub fn subject(&self) -> &str {
        match self {
            Admin::OrgAdmin(s) | Admin::Operator(s) => s,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    value: Option<String>,
}

fn unauthenticated(reason: &'static str) -> Halt {
    Refusal::Unauthenticated {
        reason,
        invalid_token: reason != "no_credentials",
    }
    .into()
}

fn forbidden(reason: &'static str, missing: Vec<String>) -> Halt {
    Refusal::Forbidden {
        rule: "orggate:admin".into(),
        reason,
        missing,
    }
    .into()
}

/// The writer's answer as an HTTP response (JSON, never cached; `ETag` on the org's state).
fn writer_answer(status: u16, body: serde_json::Value) -> Outcome {
    let mut r = ResponseView::json(status, &body).header("cache-control", "no-store");
    if let Some(rev) = body.get("revision").and_then(serde_json::Value::as_u64) {
        r = r.header("etag", format!("\"v{rev}\""));
    }
    Outcome::Respond(r)
}

/// Runs a command on the org's writer; a fault of the writer is a 503.
fn run(
    ex: &mut Exchange,
    org: &OrgPolicy,
    command: &state::Command,
) -> Result<(u16, serde_json::Value), Halt> {
    match ex.io.org_state(&org.org_id, command) {
        Err(need) => Err(Halt::Need(need.0)),
        Ok(Err(e)) => Err(Refusal::Internal {
            detail: e.to_string(),
        }
        .into()),
        Ok(Ok(answer)) => Ok(answer),
    }
}

/// After a change this isolate uses the published org document at once (KV may still serve
/// the previous one for a while elsewhere).
fn adopt(
    engine: &Engine,
    tenant: &TenantPolicy,
    org_id: &str,
    body: &serde_json::Value,
    now: UnixSeconds,
) {
    if let Some(doc) = body.get("document").filter(|d| d.is_object()) {
        crate::org::adopt_org(engine, tenant, org_id, &doc.to_string(), now);
    }
}

/// What the tenant allows org admins beyond the fields they may edit: the logo's host
/// (`settings.admin.logo_hosts`). The JSON path and reason of the first thing refused.
pub fn tenant_allows(
    tenant: &TenantPolicy,
    role: state::Role,
    patch: &serde_json::Value,
) -> Result<(), (String, String)> {
    if role == state::Role::Operator {
        return Ok(());
    }
    if let (Some(hosts), Some(serde_json::Value::String(url))) = (
        &tenant.admin.logo_hosts,
        patch.pointer("/branding/logo_url"),
    ) {
        let host = url
            .strip_prefix("https://")
            .and_then(|r| r.split(['/', '?', '#']).next())
            .map(str::to_ascii_lowercase);
        let ok = url.starts_with("/_orggate/assets/") || host.is_some_and(|h| hosts.contains(&h));
        if !ok {
            return Err((
                "$.branding.logo_url".into(),
                format!("logos come from /_orggate/assets/ or {}", hosts.join(", ")),
            ));
        }
    }
    // Claim rules grant what the IdP's users get in this org: only what the tenant lets org
    // admins hand out.
    if let Some(rules) = patch
        .pointer("/login/idp/claim_rules")
        .and_then(|r| r.as_array())
    {
        for (i, rule) in rules.iter().enumerate() {
            for (field, allowed) in [
                ("permissions", &tenant.admin.grantable_permissions),
                ("roles", &tenant.admin.grantable_roles),
            ] {
                let Some(allowed) = allowed else { continue };
                for (j, g) in rule[field].as_array().into_iter().flatten().enumerate() {
                    if !g.as_str().is_some_and(|g| allowed.iter().any(|a| a == g)) {
                        return Err((
                            format!("$.login.idp.claim_rules[{i}].{field}[{j}]"),
                            format!("org admins may grant only {}", allowed.join(", ")),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The id prefix of route rules an org admin writes: those are the only rules an org admin may
/// change or remove (the others are the tenant's operators').
pub const ADMIN_ROUTE_PREFIX: &str = "org-admin-";

/// Concrete paths a route pattern covers, to ask the tenant's base rules about: the pattern with
/// each `:param` filled in, and for a trailing `*` both the prefix itself and a path under it.
fn probe_paths(pattern: &str) -> Vec<String> {
    let fill = |p: &str| -> String {
        p.split('/')
            .map(|seg| {
                if seg.starts_with(':') {
                    "orggate-probe"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    match pattern.strip_suffix("/*") {
        Some(prefix) => {
            let base = fill(prefix);
            let base = if base.is_empty() {
                "/".to_string()
            } else {
                base
            };
            let under = format!("{}/orggate-probe/orggate-probe", base.trim_end_matches('/'));
            vec![base, under]
        }
        None => vec![fill(pattern)],
    }
}

/// An org admin's route rules may only tighten what the tenant already allows: rules the tenant's
/// operators wrote stay as they are, and a rule an org admin writes (id `org-admin-…`) must lie
/// where a base rule already applies, both requirements then holding. Where no base rule
/// matches, the tenant's `unmatched` setting is the baseline, so a rule there would open what the
/// tenant keeps shut (`deny`), or make public what needs a sign-in (`authenticated`).
fn routes_only_tighten(
    tenant: &TenantPolicy,
    current_doc: &serde_json::Value,
    new: &[serde_json::Value],
) -> Result<(), (String, String)> {
    let id_of = |r: &serde_json::Value| r["id"].as_str().unwrap_or_default().to_string();
    let current: Vec<serde_json::Value> = current_doc["routes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let current = current.as_slice();
    // The tenant's operators' own org rules: an org admin's rule must not shadow one of them
    // (inside the org's table the most specific rule wins, so it would replace it).
    let operators_rules = {
        let mut d = current_doc.clone();
        d["routes"] = serde_json::Value::Array(
            current
                .iter()
                .filter(|r| !id_of(r).starts_with(ADMIN_ROUTE_PREFIX))
                .cloned()
                .collect(),
        );
        OrgPolicy::parse(&d.to_string()).ok()
    };
    for r in current {
        let id = id_of(r);
        if id.starts_with(ADMIN_ROUTE_PREFIX) {
            continue;
        }
        if !new.contains(r) {
            return Err((
                "$.routes".into(),
                format!(
                    "the rule {id:?} is the tenant's: an org admin may not change or remove it"
                ),
            ));
        }
    }
    const ALL: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    for (i, r) in new.iter().enumerate() {
        if current.contains(r) && !id_of(r).starts_with(ADMIN_ROUTE_PREFIX) {
            continue; // one of the tenant's, unchanged
        }
        if !id_of(r).starts_with(ADMIN_ROUTE_PREFIX) {
            return Err((
                format!("$.routes[{i}].id"),
                format!("rules an org admin writes have ids starting with {ADMIN_ROUTE_PREFIX:?}"),
            ));
        }
        if current.contains(r) {
            continue;
        }
        let methods: Vec<String> = match r["methods"].as_array() {
            Some(ms) => ms
                .iter()
                .filter_map(|m| m.as_str().map(str::to_ascii_uppercase))
                .collect(),
            None => ALL.iter().map(|m| m.to_string()).collect(),
        };
        // Judged on the compiled requirement, as the Worker will read it (any spelling of
        // "public"); one that does not compile counts as public here (the validator refuses it).
        // (Read from text, as config is: a second deserializer for `Value` would add 3 KB.)
        let public =
            serde_json::from_str::<crate::org::config::RawRequire>(&r["require"].to_string())
                .ok()
                .and_then(|raw| crate::authz::decision::Requirement::parse("$", &raw).ok())
                .is_none_or(|q| q == crate::authz::decision::Requirement::Public);
        for probe in probe_paths(r["path"].as_str().unwrap_or("/")) {
            let Ok(path) = crate::authz::path::normalize(&probe) else {
                return Err((
                    format!("$.routes[{i}].path"),
                    "not a path orggate can match".into(),
                ));
            };
            for m in &methods {
                let shadows = operators_rules.as_ref().is_some_and(|o| {
                    !matches!(
                        o.routes.lookup_strict(m, &path),
                        crate::authz::routes::RouteLookup::NoMatch
                    )
                });
                if shadows {
                    return Err((
                        format!("$.routes[{i}].path"),
                        format!("{m} {probe} is under one of the tenant's rules for this org; a rule there would replace it"),
                    ));
                }
                let covered = matches!(
                    tenant.base_routes.lookup_strict(m, &path),
                    crate::authz::routes::RouteLookup::Matched(_)
                );
                let fine = covered
                    || (tenant.unmatched == crate::org::policy::Unmatched::Authenticated
                        && !public);
                if !fine {
                    return Err((
                        format!("$.routes[{i}].path"),
                        format!("{m} {probe} has no base rule: a rule there would loosen the tenant's {:?} for unmatched paths", tenant.unmatched),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `If-Match: "v3"` (or `v3`, `W/"v3"`) → 3.
fn if_match(ex: &Exchange) -> Option<u64> {
    let v = ex.req.header("if-match")?.trim();
    let v = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    v.strip_prefix('v')?.parse().ok()
}

fn json_body<T: serde::de::DeserializeOwned>(ex: &Exchange) -> Result<T, Halt> {
    ex.req
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .ok_or_else(|| {
            Refusal::BadRequest {
                reason: "bad_request_body",
            }
            .into()
        })
}

/// `/_orggate/admin` and `/_orggate/admin/*` on an org's host: the admin pages and the JSON
/// API (`/_orggate/admin/api/*`).
pub fn handle(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &Rc<OrgPolicy>,
    endpoint: &str,
) -> Result<Outcome, Halt> {
    let method = ex.req.method.clone();
    let known = matches!(
        (method.as_str(), endpoint),
        ("POST", "/admin/api/revocations")
            | ("GET" | "PATCH", "/admin/api/org")
            | ("POST", "/admin/api/domains")
            | ("POST", "/admin/api/domains/verify")
            | ("GET", "/admin/api/audit")
            | ("GET" | "POST", "/admin")
            | ("GET", "/admin/audit")
    );
    if !known {
        return Err(Refusal::BadRequest {
            reason: "method_not_allowed",
        }
        .into());
    }
    // A browser without a session: sign in first, then come back here.
    if ex.req.wants_html() && tenant.login.is_some() && ex.req.method == "GET" {
        let session_name = ex
            .req
            .url_parts()
            .map(|u| session_cookie_name(org, secure_cookies(tenant, &u)));
        if matches!(
            credential::find(&ex.req, tenant, org, || session_name),
            Credential::None
        ) {
            if let Ok(path) = crate::authz::path::normalize(&format!("/_orggate{endpoint}")) {
                ex.log.deny(vec!["no_session".into()]);
                return Ok(Outcome::Respond(crate::login::redirect_to_login(ex, &path)));
            }
        }
    }
    let (admin, cookies) = caller(engine, host, ex, tenant, org)?;
    ex.log.subject = Some(admin.subject().to_string());
    let out = dispatch(engine, host, ex, tenant, org, admin, &method, endpoint)?;
    Ok(match out {
        Outcome::Respond(mut r) if !cookies.is_empty() => {
            r.headers
                .extend(cookies.into_iter().map(|c| ("set-cookie".to_string(), c)));
            Outcome::Respond(r)
        }
        other => other,
    })
}

#[allow(clippy::too_many_arguments)]
fn dispatch(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &Rc<OrgPolicy>,
    admin: Admin,
    method: &str,
    endpoint: &str,
) -> Result<Outcome, Halt> {
    let actor = state::Actor {
        subject: admin.subject().to_string(),
        role: match admin {
            Admin::OrgAdmin(_) => state::Role::OrgAdmin,
            Admin::Operator(_) => state::Role::Operator,
        },
    };
    match (method, endpoint) {
        ("POST", "/admin/api/revocations") => revocations(engine, ex, tenant, org),
        ("GET", "/admin/api/org") => {
            let (status, body) = run(ex, org, &state::Command::Get { now: ex.now })?;
            ex.log.allow(vec!["admin_read".into()]);
            Ok(writer_answer(status, body))
        }
        ("PATCH", "/admin/api/org") => {
            let patch: serde_json::Value = json_body(ex)?;
            let mut allowed = tenant_allows(tenant, actor.role, &patch);
            if let (Ok(()), state::Role::OrgAdmin, Some(new)) = (
                &allowed,
                actor.role,
                patch.get("routes").and_then(|r| r.as_array()),
            ) {
                let (status, body) = run(ex, org, &state::Command::Get { now: ex.now })?;
                if status != 200 {
                    return Ok(writer_answer(status, body));
                }
                allowed = routes_only_tighten(tenant, &body["document"], new);
            }
            // An operator's rename must not take another org's name (and with it its host).
            if let (Ok(()), Some(name)) = (&allowed, patch.get("name").and_then(|n| n.as_str())) {
                let key = crate::org::resolve::name_key(name);
                if let Some(owner) = crate::org::lookup_alias(engine, &ex.io, tenant, &key, ex.now)?
                {
                    if owner.as_str() != org.org_id {
                        allowed = Err(("$.name".into(), format!("{name:?} is another org's name")));
                    }
                }
            }
            if let Err((path, message)) = allowed {
                ex.log.deny(vec!["admin_patch_not_allowed".into()]);
                return Ok(writer_answer(
                    400,
                    serde_json::json!({"error": "not_allowed_by_tenant", "path": path, "message": message}),
                ));
            }
            let command = state::Command::Patch {
                if_match: if_match(ex),
                patch,
                actor,
                now: ex.now,
            };
            let (status, body) = run(ex, org, &command)?;
            if status == 200 {
                adopt(engine, tenant, &org.org_id, &body, ex.now);
                ex.log.allow(vec!["admin_patch".into()]);
            } else {
                ex.log.deny(vec![format!("admin_patch_{status}")]);
            }
            Ok(writer_answer(status, body))
        }
        ("POST", "/admin/api/domains") => {
            #[derive(serde::Deserialize)]
            struct D {
                domain: String,
            }
            let d: D = json_body(ex)?;
            let domain = d.domain.trim().to_ascii_lowercase();
            let command = state::Command::AddDomain {
                token: domain_token(ex, org, &domain),
                domain,
                actor,
                now: ex.now,
            };
            let (status, body) = run(ex, org, &command)?;
            ex.log.allow(vec!["admin_domain_add".into()]);
            Ok(writer_answer(status, body))
        }
        ("POST", "/admin/api/domains/verify") => {
            #[derive(serde::Deserialize)]
            struct D {
                domain: String,
            }
            let d: D = json_body(ex)?;
            let (status, body) = verify_domain(engine, ex, tenant, org, &d.domain, actor)?;
            Ok(writer_answer(status, body))
        }
        ("GET", "/admin/api/audit") => {
            let page = crate::http::query_param(ex.req.url_parts().and_then(|u| u.query), "page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let (status, body) = run(ex, org, &state::Command::Audit { page })?;
            ex.log.allow(vec!["admin_audit".into()]);
            Ok(writer_answer(status, body))
        }
        (m, e) => pages::handle(engine, host, ex, tenant, org, actor, m, e),
    }
}

/// The TXT challenge token for `domain`: bound to the org, the time and this request, and the
/// same on every replay of the request (the pipeline runs again after each I/O, so a random
/// value drawn here would change the command it already sent). It proves control only by being
/// published in the domain's DNS, so it need not be secret.
pub fn domain_token(ex: &Exchange, org: &OrgPolicy, domain: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(
        format!(
            "orggate-domain\0{}\0{domain}\0{}\0{}",
            org.org_id, ex.now, ex.request_id
        )
        .as_bytes(),
    );
    crate::b64::encode(&d[..16])
}

/// Checks the domain's TXT record through the tenant's DNS-over-HTTPS resolver, then has the
/// writer publish `domain:{domain}`. A domain another org already verified is refused.
fn verify_domain(
    engine: &Engine,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    domain: &str,
    actor: state::Actor,
) -> Result<(u16, serde_json::Value), Halt> {
    let domain = domain.trim().to_ascii_lowercase();
    let (status, body) = run(ex, org, &state::Command::Get { now: ex.now })?;
    if status != 200 {
        return Ok((status, body));
    }
    let Some(entry) = body["domains"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["domain"] == domain.as_str()))
        .cloned()
    else {
        return Ok((
            404,
            serde_json::json!({"error": "unknown_domain", "domain": domain}),
        ));
    };
    if entry["verified"] == true {
        return Ok((200, serde_json::json!({"domain": domain, "verified": true})));
    }
    let txt_name = entry["txt_name"].as_str().unwrap_or_default().to_string();
    let txt_value = entry["txt_value"].as_str().unwrap_or_default().to_string();
    let found = dns::txt_contains(ex, &tenant.admin.dns_resolver, &txt_name, &txt_value)?;
    if !found {
        ex.log.deny(vec!["domain_not_verified".into()]);
        return Ok((
            409,
            serde_json::json!({"error": "txt_record_not_found", "domain": domain,
                "txt_name": txt_name, "txt_value": txt_value}),
        ));
    }
    // Already claimed by another org? Its alias stays; this one is refused.
    let key = crate::org::resolve::domain_key(&domain);
    if let Some(owner) = crate::org::lookup_alias(engine, &ex.io, tenant, &key, ex.now)? {
        if owner.as_str() != org.org_id {
            return Ok((
                409,
                serde_json::json!({"error": "domain_taken", "domain": domain}),
            ));
        }
    }
    let command = state::Command::VerifyDomain {
        domain: domain.clone(),
        actor,
        now: ex.now,
    };
    let (status, body) = run(ex, org, &command)?;
    if status == 200 {
        engine.with_configs(|c| c.forget(&key));
        ex.log.allow(vec!["admin_domain_verified".into()]);
    }
    Ok((status, body))
}

/// `POST /_orggate/admin/api/revocations`.
fn revocations(
    engine: &Engine,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &Rc<OrgPolicy>,
) -> Result<Outcome, Halt> {
    let body: RevokeBody = json_body(ex)?;
    let (kind, value) = match (body.subject, body.kind, body.value) {
        (Some(s), None, None) => (Kind::Sub, s),
        (None, Some(k), Some(v)) => (k, v),
        _ => {
            return Err(Refusal::BadRequest {
                reason: "bad_request_body",
            }
            .into())
        }
    };
    let entry = Entry {
        kind,
        value,
        at: ex.now,
        expires: ex.now.plus(backchannel::entry_lifetime(tenant)),
    };
    if !entry.valid() {
        return Err(Refusal::BadRequest {
            reason: "bad_request_body",
        }
        .into());
    }
    match backchannel::write(engine, ex, tenant, &org.org_id, vec![entry.clone()])? {
        Ok(()) => {
            ex.log.allow(vec![format!("revoked:{}", entry.kind.name())]);
            Ok(Outcome::Respond(
                ResponseView::json(
                    200,
                    &serde_json::json!({"revoked": entry, "org": org.org_id}),
                )
                .header("cache-control", "no-store"),
            ))
        }
        Err(detail) => Err(Refusal::Internal { detail }.into()),
    }
}

/// The caller, if it may administer `org`, and the cookies of a session refreshed on the way
/// (they must reach the browser, or a rotated refresh token would be reused).
pub fn caller(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &Rc<OrgPolicy>,
) -> Result<(Admin, Vec<String>), Halt> {
    let session_name = || {
        tenant.login.as_ref().and_then(|_| {
            ex.req
                .url_parts()
                .map(|u| session_cookie_name(org, secure_cookies(tenant, &u)))
        })
    };
    let found = match credential::find(&ex.req, tenant, org, session_name) {
        Credential::Bearer(t) => Found::Token(t.to_string()),
        Credential::Session(s) => Found::Session(s),
        Credential::None => return Err(unauthenticated("no_credentials")),
        Credential::Invalid(_) => return Err(unauthenticated("malformed_credentials")),
        Credential::Dpop { .. } | Credential::Query(_) => {
            return Err(unauthenticated("bearer_or_session_required"))
        }
    };
    let mut cookies = Vec::new();
    let principal: Rc<Principal> = match found {
        Found::Token(raw) => {
            let claims = match verify(engine, host, ex, tenant, &raw) {
                Ok(c) => c,
                Err(Pending::Need(io)) => return Err(Halt::Need(io)),
                Err(Pending::Fail(e)) => {
                    ex.log.detail = Some(format!("{e:?}"));
                    return Err(e.into());
                }
            };
            // A tenant operator: a token from an issuer not bound to one org, that speaks for no
            // org at all (a permission held *in* some org is that org's to grant, not the
            // tenant's), holding the operator permission.
            let id = &claims.identity;
            let operator = tenant.admin.operator_permission.as_ref().is_some_and(|p| {
                id.permissions.contains(p)
                    && id.org_id.is_none()
                    && id.org_name.is_none()
                    && id.member_of.is_empty()
                    && tenant
                        .issuer(&claims.issuer)
                        .is_some_and(|i| i.orgs.is_none())
            });
            if operator {
                let who = id
                    .subject
                    .clone()
                    .or_else(|| id.client_id.clone())
                    .unwrap_or_default();
                // Revoked operators are refused like anyone (tenant-wide and this org's entries).
                let issued = crate::revoke::Issued {
                    jti: claims
                        .claims
                        .get("jti")
                        .and_then(|v| v.as_str())
                        .map(str::to_string),
                    at: crate::token::verify::numeric(&claims.claims, "iat")
                        .ok()
                        .flatten(),
                    sid: claims
                        .claims
                        .get("sid")
                        .and_then(|v| v.as_str())
                        .map(str::to_string),
                };
                let facts = crate::revoke::Facts {
                    subject: id.subject.as_deref(),
                    client_id: id
                        .client_id
                        .as_deref()
                        .filter(|_| id.caller == Some(crate::token::CallerKind::Client)),
                    issued: Some(&issued),
                };
                if crate::revoke::facts_revoked(engine, &ex.io, tenant, org, &facts, ex.now)?
                    .is_some()
                {
                    return Err(unauthenticated("revoked"));
                }
                return Ok((Admin::Operator(who), Vec::new()));
            }
            match scope_to_org(&claims, org, tenant) {
                Ok(p) => Rc::new(p),
                Err(e) => return Err(unauthenticated(e.reason())),
            }
        }
        Found::Session(sealed) => {
            // Orgs told apart by path or header share one origin: a page of another org's could
            // use this org's session from the same origin. Administration there needs a token.
            if matches!(ex.log.resolved_via, Some("path" | "header")) {
                return Err(forbidden("admin_needs_own_host", vec![]));
            }
            if let Err(x) = check_session_request(&ex.req, &ex.origin(), &[]) {
                ex.log.detail = Some(x.detail);
                return Err(forbidden("cross_site_request", vec![]));
            }
            match session_claims(engine, host, ex, tenant, org, &sealed)
                .map_err(|n| Halt::Need(n.0))?
            {
                SessionClaims::Valid {
                    claims,
                    issued,
                    set_cookies,
                    ..
                } => {
                    cookies = set_cookies;
                    let mut p = scope_to_org(&claims, org, tenant)
                        .map_err(|e| unauthenticated(e.reason()))?;
                    p.issued.at = issued.at;
                    p.issued.sid = issued.sid;
                    Rc::new(p)
                }
                SessionClaims::Member { principal, .. } => principal,
                SessionClaims::Restart { .. } => return Err(unauthenticated("session_expired")),
                SessionClaims::Fault(detail) => return Err(Refusal::Internal { detail }.into()),
            }
        }
    };
    if let Some(why) =
        crate::revoke::principal_revoked(engine, &ex.io, tenant, org, &principal, ex.now)?
    {
        ex.log.detail = Some(why.to_string());
        return Err(unauthenticated("revoked"));
    }
    let perm = &tenant.admin.permission;
    if principal.membership != crate::authz::decision::Membership::Member
        || !principal.permissions.contains(perm)
    {
        return Err(forbidden(
            "missing_requirement",
            vec![format!("permission:{perm}")],
        ));
    }
    Ok((
        Admin::OrgAdmin(
            principal
                .subject
                .clone()
                .or_else(|| principal.client_id.clone())
                .unwrap_or_default(),
        ),
        cookies,
    ))
}

enum Found {
    Token(String),
    Session(String),
}
