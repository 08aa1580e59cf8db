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
fn adopt(engine: &Engine, tenant: &TenantPolicy, org_id: &str, body: &serde_json::Value, now: u64) {
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
        let ok = url.starts_with("/_orggate/assets/")
            || host.is_some_and(|h| hosts.contains(&h));
        if !ok {
            return Err((
                "$.branding.logo_url".into(),
                format!("logos come from /_orggate/assets/ or {}", hosts.join(", ")),
            ));
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
    let admin = caller(engine, host, ex, tenant, org)?;
    ex.log.subject = Some(admin.subject().to_string());
    let actor = state::Actor {
        subject: admin.subject().to_string(),
        role: match admin {
            Admin::OrgAdmin(_) => state::Role::OrgAdmin,
            Admin::Operator(_) => state::Role::Operator,
        },
    };
    match (method.as_str(), endpoint) {
        ("POST", "/admin/api/revocations") => revocations(engine, ex, tenant, org),
        ("GET", "/admin/api/org") => {
            let (status, body) = run(ex, org, &state::Command::Get)?;
            ex.log.allow(vec!["admin_read".into()]);
            Ok(writer_answer(status, body))
        }
        ("PATCH", "/admin/api/org") => {
            let patch: serde_json::Value = json_body(ex)?;
            if let Err((path, message)) = tenant_allows(tenant, actor.role, &patch) {
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
    let (status, body) = run(ex, org, &state::Command::Get)?;
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
        expires: ex.now.saturating_add(backchannel::entry_lifetime(tenant)),
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

/// The caller, if it may administer `org`.
pub fn caller(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &Rc<OrgPolicy>,
) -> Result<Admin, Halt> {
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
            // A tenant operator: a token from an issuer not bound to one org.
            let operator = tenant.admin.operator_permission.as_ref().is_some_and(|p| {
                claims.identity.permissions.contains(p)
                    && tenant
                        .issuer(&claims.issuer)
                        .is_some_and(|i| i.orgs.is_none())
            });
            if operator {
                let who = claims
                    .identity
                    .subject
                    .clone()
                    .or_else(|| claims.identity.client_id.clone())
                    .unwrap_or_default();
                return Ok(Admin::Operator(who));
            }
            match scope_to_org(&claims, org, tenant) {
                Ok(p) => Rc::new(p),
                Err(e) => return Err(unauthenticated(e.reason())),
            }
        }
        Found::Session(sealed) => {
            if let Err(x) = check_session_request(&ex.req, &ex.origin(), &[]) {
                ex.log.detail = Some(x.detail);
                return Err(forbidden("cross_site_request", vec![]));
            }
            match session_claims(engine, host, ex, tenant, org, &sealed)
                .map_err(|n| Halt::Need(n.0))?
            {
                SessionClaims::Valid { claims, issued, .. } => {
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
    Ok(Admin::OrgAdmin(
        principal
            .subject
            .clone()
            .or_else(|| principal.client_id.clone())
            .unwrap_or_default(),
    ))
}

enum Found {
    Token(String),
    Session(String),
}
