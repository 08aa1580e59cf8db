//! OIDC Back-Channel Logout 1.0 receiver: `POST /_orggate/backchannel-logout` with
//! `logout_token=...` (form-encoded), sent by an IdP when a user's session there ends.
//!
//! Which IdP: on an org's host whose org has its own IdP (`login.idp`), that IdP, and the
//! revocation applies to that org; anywhere else the tenant's IdP (`settings.login`), and the
//! revocation applies to every org (a tenant IdP's logout token names no org). Register
//! `https://{org host}/_orggate/backchannel-logout` with an org's IdP and
//! `https://{tenant host}/_orggate/backchannel-logout` with the tenant's.
//!
//! The logout token is checked as §2.6 says: signature by the IdP's JWKS with an allowed
//! algorithm; `typ`, when present, `logout+jwt` (or `JWT`); `iss`; `aud` containing our client
//! id; `iat` present, not in the future, at most [`MAX_AGE_S`] old; `exp`, when present, not
//! passed; a `jti`, never seen before in this isolate; `events` holding the back-channel logout
//! event; `sid` and/or `sub`; and no `nonce` (an ID token is not a logout token). With a `sid`
//! the IdP session's orggate sessions are revoked; with only a `sub`, every session and token of
//! that subject issued until now.
//!
//! Answers (§2.8): 200 once the revocation is written; 400 with a JSON error for a token that
//! fails a check; 501 when the revocation could not be written.

use super::oidc::{client, id_token_policy, tenant_client, Client};
use crate::engine::Engine;
use crate::error::Halt;
use crate::exchange::Exchange;
use crate::http::{query_param, Outcome, ResponseView};
use crate::io::Pending;
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::ports::Host;
use crate::revoke::{Entry, Kind, TENANT_SCOPE};
use crate::time::UnixSeconds;
use crate::token::claims::audiences;
use crate::token::jws;
use crate::token::verify::{check_signature, numeric};
use crate::token::TokenError;
use serde_json::{Map, Value};

/// The event a logout token carries (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How old a logout token may be (its `iat`).
pub const MAX_AGE_S: u64 = 600;

/// Why a logout token was refused (the 400's `error_description` and the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    Missing,
    Token(TokenError),
    Claim(&'static str),
    Replayed,
}

impl Invalid {
    pub fn reason(&self) -> String {
        match self {
            Invalid::Missing => "no logout_token".into(),
            Invalid::Token(e) => e.reason().to_string(),
            Invalid::Claim(c) => format!("bad {c}"),
            Invalid::Replayed => "replayed jti".into(),
        }
    }
}

/// A checked logout token: who to sign out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logout {
    pub sid: Option<String>,
    pub sub: Option<String>,
    pub jti: String,
}

/// The claim checks of §2.6 (after the signature).
pub fn check_claims(
    c: &Map<String, Value>,
    client: &Client,
    leeway: u64,
    now: UnixSeconds,
) -> Result<Logout, Invalid> {
    let s = |name: &'static str| -> Result<Option<String>, Invalid> {
        match c.get(name) {
            None => Ok(None),
            Some(Value::String(v)) if !v.is_empty() => Ok(Some(v.clone())),
            Some(_) => Err(Invalid::Claim(name)),
        }
    };
    if s("iss")?.as_deref() != Some(client.issuer.as_str()) {
        return Err(Invalid::Claim("iss"));
    }
    let auds = audiences(c).map_err(|_| Invalid::Claim("aud"))?;
    if !auds.contains(&client.client_id.as_str()) {
        return Err(Invalid::Claim("aud"));
    }
    let iat = numeric(c, "iat")
        .map_err(Invalid::Token)?
        .ok_or(Invalid::Claim("iat"))?;
    if iat > now.plus(leeway) || now.since(iat) > MAX_AGE_S {
        return Err(Invalid::Claim("iat"));
    }
    if let Some(exp) = numeric(c, "exp").map_err(Invalid::Token)? {
        if now >= exp.plus(leeway) {
            return Err(Invalid::Claim("exp"));
        }
    }
    let events_ok = match c.get("events") {
        Some(Value::Object(e)) => matches!(e.get(EVENT), Some(Value::Object(_))),
        _ => false,
    };
    if !events_ok {
        return Err(Invalid::Claim("events"));
    }
    if c.contains_key("nonce") {
        return Err(Invalid::Claim("nonce"));
    }
    let jti = s("jti")?.ok_or(Invalid::Claim("jti"))?;
    let (sid, sub) = (s("sid")?, s("sub")?);
    if sid.is_none() && sub.is_none() {
        return Err(Invalid::Claim("sid"));
    }
    Ok(Logout { sid, sub, jti })
}

fn refused(ex: &mut Exchange, why: Invalid) -> Result<Outcome, Halt> {
    ex.log.deny(vec!["logout_token_refused".into()]);
    ex.log.detail = Some(why.reason());
    Ok(Outcome::Respond(
        ResponseView::json(
            400,
            &serde_json::json!({"error": "invalid_request", "error_description": why.reason()}),
        )
        .header("cache-control", "no-store"),
    ))
}

/// `POST /_orggate/backchannel-logout`.
pub fn receive(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: Option<&OrgPolicy>,
) -> Result<Outcome, Halt> {
    let raw = query_param(ex.req.body.as_deref(), "logout_token");
    let Some(raw) = raw.filter(|t| !t.is_empty()) else {
        return refused(ex, Invalid::Missing);
    };
    // The org's own IdP on its host; the tenant's IdP everywhere else.
    let (client, scope) = match org.filter(|o| o.login.idp.is_some()) {
        Some(o) => (client(host, tenant, o), o.org_id.clone()),
        None => (tenant_client(host, tenant), TENANT_SCOPE.to_string()),
    };
    let client = client.map_err(super::fault)?;
    let policy = id_token_policy(&client);
    let token = match jws::parse_typed(&raw, 16 * 1024, &["jwt", "logout+jwt"]) {
        Ok(t) => t,
        Err(e) => return refused(ex, Invalid::Token(e)),
    };
    if !policy.algorithms.contains(&token.header.alg) {
        let alg = token.header.alg.name();
        return refused(ex, Invalid::Token(TokenError::AlgorithmNotAllowed { alg }));
    }
    match check_signature(engine, host, ex, &policy, &token) {
        Ok(_) => {}
        Err(Pending::Need(io)) => return Err(Halt::Need(io)),
        Err(Pending::Fail(e)) if e.is_internal() => {
            return Err(super::fault(format!("{e:?}")));
        }
        Err(Pending::Fail(e)) => return refused(ex, Invalid::Token(e)),
    }
    let now = ex.now;
    let logout = match check_claims(&token.claims, &client, policy.leeway, now) {
        Ok(l) => l,
        Err(e) => return refused(ex, e),
    };
    // A jti seen before is a replay (per isolate; a replay could only revoke the same thing
    // again). It is recorded once the revocation is written, so an IdP that retries after a
    // failed write (501) is heard.
    let jti_key = format!("logout\0{}", client.issuer);
    if engine.jti_seen(&jti_key, &logout.jti, now) {
        return refused(ex, Invalid::Replayed);
    }
    let expires = now.plus(entry_lifetime(tenant));
    let entry = match (&logout.sid, &logout.sub) {
        (Some(sid), _) => Entry {
            kind: Kind::Sid,
            value: sid.clone(),
            at: now,
            expires,
        },
        (None, Some(sub)) => Entry {
            kind: Kind::Sub,
            value: sub.clone(),
            at: now,
            expires,
        },
        (None, None) => return refused(ex, Invalid::Claim("sid")),
    };
    if !entry.valid() {
        return refused(ex, Invalid::Claim("sid"));
    }
    ex.log.subject = logout.sub.clone();
    match write(engine, ex, tenant, &scope, vec![entry]).map_err(|n| Halt::Need(n.0))? {
        Ok(()) => {
            engine.dpop_jti_fresh(&jti_key, &logout.jti, now.plus(MAX_AGE_S), now);
            ex.log.allow(vec!["backchannel_logout".into()]);
            Ok(Outcome::Respond(
                ResponseView::new(200).header("cache-control", "no-store"),
            ))
        }
        Err(detail) => {
            ex.log.deny(vec!["revocation_failed".into()]);
            ex.log.detail = Some(detail);
            Ok(Outcome::Respond(
                ResponseView::json(
                    501,
                    &serde_json::json!({"error": "logout_failed", "request_id": ex.request_id}),
                )
                .header("cache-control", "no-store"),
            ))
        }
    }
}

/// How long a revocation entry must be kept: until nothing it covers can still be valid (the
/// longest session, or the longest token, whichever is longer).
pub fn entry_lifetime(tenant: &TenantPolicy) -> u64 {
    let session = tenant.login.as_ref().map_or(0, |l| l.session_ttl);
    // Tokens are refused beyond `max_token_lifetime_s` plus their issuer's leeway (at most 600).
    session.max(tenant.revocation.max_token_lifetime_s) + 600
}

/// Writes `entries` through the scope's writer; on success this isolate takes the published set
/// at once (other isolates within `revocation.refresh_s` plus KV's propagation).
pub fn write(
    engine: &Engine,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    scope: &str,
    entries: Vec<Entry>,
) -> Result<Result<(), String>, crate::io::Need> {
    match ex.io.revoke(scope, &entries, ex.now) {
        Err(need) => Err(need),
        Ok(Err(e)) => Ok(Err(e.to_string())),
        Ok(Ok(doc)) => {
            crate::org::adopt_revocations(engine, tenant, scope, &doc, ex.now);
            Ok(Ok(()))
        }
    }
}
