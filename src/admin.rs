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

/// `/_orggate/admin/api/*` on an org's host.
pub fn handle(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &Rc<OrgPolicy>,
    endpoint: &str,
) -> Result<Outcome, Halt> {
    if endpoint != "/admin/api/revocations" {
        return Err(Refusal::UnknownOrg.into());
    }
    if ex.req.method != "POST" {
        return Err(Refusal::BadRequest {
            reason: "method_not_allowed",
        }
        .into());
    }
    let admin = caller(engine, host, ex, tenant, org)?;
    ex.log.subject = Some(admin.subject().to_string());
    let body: RevokeBody = ex
        .req
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .ok_or(Refusal::BadRequest {
            reason: "bad_request_body",
        })?;
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
