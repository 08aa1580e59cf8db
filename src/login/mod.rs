//! Browser login: the branded page ([`page`]), the OIDC authorization code flow with PKCE
//! ([`oidc`], [`pkce`]), return-path checks ([`redirect`]); the session it ends in lives in
//! [`crate::session`].
//!
//! Endpoints (under the org's host, or `/o/{org}` when orgs come from the path):
//! - `GET /_orggate/login`: the org's branded page; on the tenant host, the org prompt. Auth0
//!   invitation links (`?invitation=&organization=&organization_name=`) land here.
//! - `GET /_orggate/start`: new transaction (PKCE verifier, state, nonce, org, return path) in a
//!   sealed cookie named after the state, then 302 to the IdP's authorization endpoint.
//! - `GET /_orggate/callback`: state → transaction cookie; code exchange; ID token checks (OIDC
//!   Core 3.1.3.7) and org check; the access token is verified like any bearer token; session.
//! - `GET /_orggate/logout`: clears orggate's cookies, revokes the refresh token at the IdP (RFC
//!   7009, when it has a `revocation_endpoint`), then the IdP's `end_session_endpoint`; with
//!   `?everywhere=1` it first revokes every session and token of the person in the org.
//! - `POST /_orggate/backchannel-logout`: OIDC Back-Channel Logout ([`backchannel`]).
//! - `/_orggate/admin/api/*`: the admin API ([`crate::admin`]).
//! - `GET /_orggate/find?q=`: the org prompt's answer (org name or work email → the org's page).
//!
//! Every function here is synchronous: I/O (KV, discovery, the token endpoint, key sets,
//! signatures) is named through the request's answers and performed by a driver.

pub mod backchannel;
pub mod federated;
pub mod oidc;
pub mod page;
pub mod pkce;
pub mod redirect;

use crate::authz::decision::{names_org, scope_to_org, Membership};
use crate::authz::path::NormalizedPath;
use crate::engine::Engine;
use crate::error::{internal, Halt, Refusal};
use crate::exchange::Exchange;
use crate::http::{query_param, Forward, Outcome, ResponseView, Upstream};
use crate::io::{Need, Pending};
use crate::keys::discovery::discover;
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::org::resolve::{domain_key, login_url, name_key, tenant_home};
use crate::org::{load_org, lookup_alias};
use crate::ports::Host;
use crate::session::lifecycle::{
    aad, jar, keyring, random, secure_cookies, session_cookie_name, session_set_cookies, Sess,
};
use crate::session::{self, CookieAttrs};
use crate::time::UnixSeconds;
use crate::token::claims::{identity, Preset};
use crate::token::AuthFacts;
use crate::token::{verify, TokenError};
use oidc::AuthorizeParams;
use pkce::{constant_time_eq, PkceVerifier};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// Transactions live 10 minutes.
const TXN_TTL_S: u64 = 600;

/// The sealed transaction cookie's contents.
#[derive(Serialize, Deserialize)]
struct Txn {
    state: String,
    nonce: String,
    verifier: String,
    org: String,
    ret: String,
    exp: UnixSeconds,
    /// A step-up login: what the IdP's answer must satisfy (checked at the callback).
    #[serde(default)]
    step_up: Option<TxnStepUp>,
}

#[derive(Serialize, Deserialize)]
struct TxnStepUp {
    acr_values: Vec<String>,
    amr: Vec<String>,
    max_age: Option<u64>,
}

/// A login step that could not finish: it needs I/O, or it failed (an internal fault: the
/// caller's mistakes are answered with pages, not errors).
enum Stop {
    Need(crate::io::Io),
    Fault(String),
}

impl From<Need> for Stop {
    fn from(n: Need) -> Self {
        Stop::Need(n.0)
    }
}

impl From<String> for Stop {
    fn from(s: String) -> Self {
        Stop::Fault(s)
    }
}

impl From<&str> for Stop {
    fn from(s: &str) -> Self {
        Stop::Fault(s.to_string())
    }
}

impl From<Pending<String>> for Stop {
    fn from(p: Pending<String>) -> Self {
        match p {
            Pending::Need(io) => Stop::Need(io),
            Pending::Fail(e) => Stop::Fault(e),
        }
    }
}

impl From<Pending<crate::org::LoadError>> for Stop {
    fn from(p: Pending<crate::org::LoadError>) -> Self {
        match p {
            Pending::Need(io) => Stop::Need(io),
            Pending::Fail(e) => Stop::Fault(e.to_string()),
        }
    }
}

impl From<Stop> for Halt {
    fn from(s: Stop) -> Self {
        match s {
            Stop::Need(io) => Halt::Need(io),
            Stop::Fault(detail) => Halt::Refuse(Refusal::Internal { detail }),
        }
    }
}

/// 302 to the org's login page, remembering where the user was going.
pub fn redirect_to_login(ex: &Exchange, path: &NormalizedPath) -> ResponseView {
    let mut ret = format!("{}{}", ex.base, path.as_str());
    if let Some(q) = ex.req.url_parts().and_then(|u| u.query) {
        ret.push('?');
        ret.push_str(q);
    }
    let ret = redirect::safe_return_path(&ret).unwrap_or_else(|| "/".into());
    ResponseView::redirect(&format!(
        "{}/_orggate/login?return_to={}",
        ex.base,
        crate::http::url_encode(&ret)
    ))
}

/// 302 to sign in again with what a route's step-up needs (RFC 9470 §4): straight to the IdP
/// (the person is signed in; this is a re-authentication, not a choice of account).
pub fn redirect_to_step_up(
    ex: &Exchange,
    path: &NormalizedPath,
    acr_values: Option<&str>,
    max_age: Option<u64>,
    amr: &str,
) -> ResponseView {
    let mut ret = format!("{}{}", ex.base, path.as_str());
    if let Some(q) = ex.req.url_parts().and_then(|u| u.query) {
        ret.push('?');
        ret.push_str(q);
    }
    let ret = redirect::safe_return_path(&ret).unwrap_or_else(|| "/".into());
    let max_age = max_age.map(|m| m.to_string());
    let q = [
        Some(("return_to", ret.as_str())),
        acr_values.map(|a| ("acr_values", a)),
        max_age.as_deref().map(|m| ("max_age", m)),
        (!amr.is_empty()).then_some(("amr", amr)),
    ];
    let q = crate::http::form_encode(q.into_iter().flatten());
    ResponseView::redirect(&format!("{}/_orggate/start?{q}", ex.base))
}

/// Space-separated step-up values from a query parameter: visible ASCII tokens only.
fn step_up_list(q: Option<&str>, name: &str) -> Vec<String> {
    query_param(q, name)
        .map(|v| {
            v.split(' ')
                .filter(|t| {
                    !t.is_empty()
                        && t.len() <= 256
                        && t.bytes()
                            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
                })
                .take(16)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `/_orggate/*`.
pub fn handle_reserved(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    path: &NormalizedPath,
) -> Result<Outcome, Halt> {
    let endpoint = path
        .as_str()
        .trim_start_matches("/_orggate")
        .trim_end_matches('/');
    let org = ex.org.clone();
    ex.log.org = org.as_ref().map(|o| o.org_id.clone());
    ex.log.rule = Some(format!("orggate:{}", endpoint.trim_start_matches('/')));
    if let Some(asset) = endpoint.strip_prefix("/assets/") {
        // Login page assets (logos, styles) are public and served from the assets binding.
        ex.log.allow(vec!["public_asset".into()]);
        return Ok(Outcome::Forward(Forward::plain(
            Upstream::Assets,
            format!("{}/_orggate/assets/{asset}", ex.origin()),
        )));
    }
    if endpoint == "/admin" || endpoint.starts_with("/admin/") {
        // The admin pages and the JSON API.
        let Some(org) = org else {
            return Err(Refusal::UnknownOrg.into());
        };
        return crate::admin::handle(engine, host, ex, tenant, &org, endpoint);
    }
    if tenant.login.is_none() {
        return Err(Refusal::UnknownOrg.into());
    }
    if endpoint == "/backchannel-logout" {
        if ex.req.method != "POST" {
            return Err(Refusal::BadRequest {
                reason: "method_not_allowed",
            }
            .into());
        }
        return backchannel::receive(engine, host, ex, tenant, org.as_deref());
    }
    if ex.req.method != "GET" && ex.req.method != "HEAD" {
        return Err(Refusal::BadRequest {
            reason: "method_not_allowed",
        }
        .into());
    }
    let result = match (endpoint, org) {
        ("/login", Some(org)) => login_page(ex, tenant, &org),
        ("/login", None) => invitation_or_prompt(engine, ex, tenant),
        ("/find", None) => find_org(engine, ex, tenant),
        ("/start", Some(org)) => start(engine, host, ex, tenant, &org),
        ("/callback", Some(org)) => callback(engine, host, ex, tenant, &org),
        ("/logout", Some(org)) if !logout_confirmed(host, ex, tenant, &org) => {
            // Another site sent the browser here, or a browser that does not say where a
            // request comes from: ask, so a link elsewhere cannot sign users out. The answer
            // carries a token only this session's page can know.
            let everywhere = query_param(query(ex), "everywhere").as_deref() == Some("1");
            let token = logout_token(host, ex, tenant, &org).unwrap_or_default();
            Ok(page::message_page(
                &page::Brand::org(&org),
                200,
                "Sign out?",
                &format!(
                    "Do you want to sign out of {}{}?",
                    org.display_name,
                    if everywhere {
                        " on all your devices"
                    } else {
                        ""
                    }
                ),
                Some((
                    format!(
                        "{}/_orggate/logout?confirm={}{}",
                        ex.base,
                        crate::http::url_encode(&token),
                        if everywhere { "&everywhere=1" } else { "" }
                    )
                    .as_str(),
                    "Sign out",
                )),
            ))
        }
        ("/logout", Some(org)) => logout(engine, host, ex, tenant, &org),
        ("/logged-out", org) => Ok(page::message_page(
            &page::Brand::of(org.as_deref(), Some(tenant)),
            200,
            "You are signed out",
            &format!(
                "You have signed out of {}.",
                org.as_ref()
                    .map_or("your organization", |o| o.display_name.as_str())
            ),
            Some((
                format!("{}/_orggate/login", ex.base).as_str(),
                "Sign in again",
            )),
        )),
        _ => return Err(Refusal::UnknownOrg.into()),
    };
    result.map(Outcome::Respond).map_err(Halt::from)
}

fn query(ex: &Exchange) -> Option<&str> {
    ex.req.url_parts().and_then(|u| u.query)
}

fn login_page(
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
) -> Result<ResponseView, Stop> {
    let q = query(ex);
    let ret = return_to(ex);
    // Auth0 invitation links: `invitation` and `organization` go to the IdP unchanged;
    // `organization_name` only picks the page. An invitation for another org is ignored.
    let invitation = query_param(q, "invitation").filter(|i| {
        i.len() <= 256
            && i.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && query_param(q, "organization").is_none_or(|o| o == org.org_id || o == org.name)
    });
    let notice = query_param(q, "error").map(|e| match e.as_str() {
        "access_denied" => format!(
            "That account is not a member of {}. Try another account.",
            org.display_name
        ),
        _ => "Sign-in did not complete. Please try again.".to_string(),
    });
    let switch_url = ex
        .req
        .url_parts()
        .map(|u| tenant_home(tenant, &u))
        .unwrap_or_else(|| "/".into());
    ex.log.allow(vec!["login_page".into()]);
    Ok(page::login_page(&page::LoginView {
        switch_url: &switch_url,
        org,
        base: &ex.base,
        return_to: &ret,
        invitation: invitation.as_deref(),
        notice: notice.as_deref(),
    }))
}

fn invitation_or_prompt(
    engine: &Engine,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
) -> Result<ResponseView, Stop> {
    let q = query(ex);
    // An invitation link on the tenant host: find the org by id or name, go to its page.
    let org_ref = query_param(q, "organization").or_else(|| query_param(q, "organization_name"));
    if let Some(r) = org_ref {
        let id = if r.starts_with("org_")
            || crate::org::policy::valid_org_id(&r) && !crate::org::policy::valid_org_name(&r)
        {
            Some(Rc::new(r.clone()))
        } else {
            lookup_alias(
                engine,
                &ex.io,
                tenant,
                &name_key(&r.to_ascii_lowercase()),
                ex.now,
            )?
        };
        if let Some(id) = id {
            if let Some(org) = load_org(engine, &ex.io, tenant, &id, ex.now)? {
                let query = q.map(|q| format!("?{q}")).unwrap_or_default();
                if let Some(u) = ex.req.url_parts() {
                    return Ok(ResponseView::redirect(&login_url(tenant, &u, &org, &query)));
                }
            }
        }
    }
    Ok(page::org_prompt(&page::Brand::tenant(tenant), None))
}

/// Org prompt: a name, or a work email whose domain maps to an org (home-realm discovery).
fn find_org(
    engine: &Engine,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
) -> Result<ResponseView, Stop> {
    let q = query_param(query(ex), "q").unwrap_or_default();
    let q = q.trim().to_ascii_lowercase();
    let (key, hint) = match q.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            (domain_key(domain), Some(q.clone()))
        }
        _ => (name_key(&q), None),
    };
    let valid = q.len() <= 254 && !q.is_empty() && !q.contains(char::is_whitespace);
    let id = if valid {
        lookup_alias(engine, &ex.io, tenant, &key, ex.now)?
    } else {
        None
    };
    let org = match id {
        Some(id) => load_org(engine, &ex.io, tenant, &id, ex.now)?,
        None => None,
    };
    match (org, ex.req.url_parts()) {
        (Some(org), Some(u)) => {
            let query = hint
                .map(|h| format!("?login_hint={}", crate::http::url_encode(&h)))
                .unwrap_or_default();
            Ok(ResponseView::redirect(&login_url(tenant, &u, &org, &query)))
        }
        // Same answer for every miss: nothing about which names or domains exist.
        _ => Ok(page::org_prompt(
            &page::Brand::tenant(tenant),
            Some(
            "We could not find a sign-in page for that. Check the name, or ask your administrator for your organization's sign-in link.",
        ))),
    }
}

/// The `return_to` query parameter when it is a safe same-origin path, else the org's home.
fn return_to(ex: &Exchange) -> String {
    query_param(query(ex), "return_to")
        .and_then(|r| redirect::safe_return_path(&r))
        .unwrap_or_else(|| format!("{}/", ex.base))
}

fn callback_uri(ex: &Exchange) -> String {
    format!("{}{}/_orggate/callback", ex.origin(), ex.base)
}

fn is_secure(ex: &Exchange, tenant: &TenantPolicy) -> bool {
    ex.req
        .url_parts()
        .is_none_or(|u| secure_cookies(tenant, &u))
}

fn txn_cookie(id: &str, secure: bool) -> String {
    session::cookie_name(&format!("orggate_t_{id}"), secure)
}

fn start(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
) -> Result<ResponseView, Stop> {
    let q = query(ex);
    let ret = return_to(ex);
    let client = oidc::client(host, tenant, org)?;
    let disco = discover(engine, &ex.io, &client.issuer, ex.now)?;
    let verifier = PkceVerifier::from_random(&random::<32>(host)?);
    let state = pkce::random_token(&random::<24>(host)?);
    let nonce = pkce::random_token(&random::<24>(host)?);
    let id = oidc::txn_id(&state).ok_or("state too short")?.to_string();
    // Only connections the org offers may be requested (plus its passwordless connection).
    let connection = query_param(q, "connection").filter(|c| {
        org.login.connections.iter().any(|k| &k.connection == c)
            || org.login.passwordless_connection.as_deref() == Some(c.as_str())
    });
    let login_hint =
        query_param(q, "login_hint").filter(|h| h.len() <= 254 && !h.chars().any(char::is_control));
    let screen_hint = query_param(q, "screen_hint").filter(|s| s == "signup" && org.login.signup);
    let invitation = query_param(q, "invitation").filter(|i| {
        i.len() <= 256
            && i.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    });
    let prompt = query_param(q, "prompt")
        .filter(|p| ["login", "none", "consent", "select_account"].contains(&p.as_str()));
    // Step-up (RFC 9470 §4): what a route asked for, passed to the IdP and checked on return.
    let acr_values = step_up_list(q, "acr_values");
    let amr = step_up_list(q, "amr");
    let max_age = query_param(q, "max_age")
        .and_then(|m| m.parse::<u64>().ok())
        .map(|m| m.min(30 * 86_400));
    let step_up =
        (!acr_values.is_empty() || !amr.is_empty() || max_age.is_some()).then(|| TxnStepUp {
            acr_values: acr_values.clone(),
            amr,
            max_age,
        });
    let params = AuthorizeParams {
        redirect_uri: callback_uri(ex),
        state: state.clone(),
        nonce: nonce.clone(),
        code_challenge: verifier.challenge_s256(),
        // Auth0's organization parameter is the tenant IdP's; an org's own IdP has no orgs.
        organization: (!client.org_bound).then(|| org.org_id.clone()),
        connection,
        login_hint,
        screen_hint,
        prompt,
        invitation,
        acr_values: (!acr_values.is_empty()).then(|| acr_values.join(" ")),
        max_age,
    };
    let url = oidc::authorize_url(&disco.authorization_endpoint, &client, &params);
    let txn = Txn {
        state,
        nonce,
        verifier: verifier.secret().to_string(),
        org: org.org_id.clone(),
        ret,
        exp: ex.now.plus(TXN_TTL_S),
        step_up,
    };
    let ring = keyring(host, tenant)?;
    let plain = serde_json::to_vec(&txn).map_err(|e| e.to_string())?;
    let sealed = session::seal(&ring, &aad("txn", org), &plain, random::<12>(host)?)
        .map_err(|e| format!("{e:?}"))?;
    let secure = is_secure(ex, tenant);
    let cookie = session::set_cookie(
        &txn_cookie(&id, secure),
        &sealed,
        &CookieAttrs::host_only(secure, Some(TXN_TTL_S as i64)),
    );
    ex.log.allow(vec!["login_start".into()]);
    Ok(ResponseView::redirect(&url).header("set-cookie", cookie))
}

fn login_again(ex: &Exchange, status: u16, title: &str, text: &str) -> ResponseView {
    let brand = page::Brand::of(ex.org.as_deref(), ex.tenant.as_deref());
    page::message_page(
        &brand,
        status,
        title,
        text,
        Some((
            format!("{}/_orggate/login", ex.base).as_str(),
            "Sign in again",
        )),
    )
}

fn callback(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
) -> Result<ResponseView, Stop> {
    let q = query(ex).map(str::to_string);
    let q = q.as_deref();
    let secure = is_secure(ex, tenant);
    let state = query_param(q, "state").unwrap_or_default();
    let Some(id) = oidc::txn_id(&state) else {
        ex.log.deny(vec!["bad_state".into()]);
        return Ok(login_again(
            ex,
            400,
            "Sign-in failed",
            "This sign-in link is not valid. Please start again.",
        ));
    };
    let name = txn_cookie(id, secure);
    let clear = session::clear_cookie(&name, &CookieAttrs::host_only(secure, None));
    let ring = keyring(host, tenant)?;
    let txn = session::find_cookie(&jar(&ex.req), &name)
        .and_then(|sealed| session::open(&ring, &aad("txn", org), sealed).ok())
        .and_then(|plain| serde_json::from_slice::<Txn>(&plain).ok());
    // The state must match the transaction exactly, once: the cookie is cleared on every answer.
    let now = ex.now;
    let Some(txn) = txn.filter(|t| {
        constant_time_eq(t.state.as_bytes(), state.as_bytes()) && t.org == org.org_id && now < t.exp
    }) else {
        ex.log.deny(vec!["unknown_state".into()]);
        return Ok(login_again(
            ex,
            400,
            "Sign-in failed",
            "This sign-in attempt expired or was already used. Please start again.",
        )
        .header("set-cookie", clear));
    };
    if let Some(err) = query_param(q, "error") {
        ex.log.deny(vec![format!(
            "idp_error:{}",
            err.chars().take(40).collect::<String>()
        )]);
        let loc = format!(
            "{}/_orggate/login?error={}&return_to={}",
            ex.base,
            crate::http::url_encode(&err),
            crate::http::url_encode(&txn.ret)
        );
        return Ok(ResponseView::redirect(&loc).header("set-cookie", clear));
    }
    let code = query_param(q, "code").unwrap_or_default();
    let client = oidc::client(host, tenant, org)?;
    // RFC 9207: when the IdP names itself in the callback, it must be the one we asked.
    if let Some(iss) = query_param(q, "iss") {
        if iss != client.issuer {
            ex.log.deny(vec!["issuer_mismatch".into()]);
            return Ok(login_again(
                ex,
                400,
                "Sign-in failed",
                "The sign-in answer came from an unexpected provider.",
            )
            .header("set-cookie", clear));
        }
    }
    let disco = discover(engine, &ex.io, &client.issuer, now)?;
    let verifier = PkceVerifier::parse(txn.verifier.clone()).map_err(|e| format!("{e:?}"))?;
    let resp = ex
        .io
        .fetch(
            oidc::code_request(
                &disco.token_endpoint,
                &client,
                &code,
                &callback_uri(ex),
                verifier.secret(),
            ),
            None,
        )?
        .map_err(|e| e.to_string())?;
    let tokens = match oidc::parse_token_response(&resp) {
        Ok(t) => t,
        Err(e) => {
            ex.log.deny(vec!["code_exchange_failed".into()]);
            ex.log.detail = Some(e);
            return Ok(login_again(
                ex,
                400,
                "Sign-in failed",
                "The sign-in could not be completed. Please start again.",
            )
            .header("set-cookie", clear));
        }
    };
    let id_token = tokens.id_token.clone().unwrap_or_default();
    let id_claims = match oidc::validate_id_token(engine, host, ex, &client, &id_token, &txn.nonce)
    {
        Ok(c) => c,
        Err(Pending::Need(io)) => return Err(Stop::Need(io)),
        Err(Pending::Fail(e)) => {
            ex.log.deny(vec![format!("id_token:{}", e.reason())]);
            return Ok(login_again(
                ex,
                400,
                "Sign-in failed",
                "The identity provider's answer could not be verified.",
            )
            .header("set-cookie", clear));
        }
    };
    // A step-up login must come back with what was asked (RFC 9470 §4): otherwise say so here
    // rather than send the browser round again.
    let auth = AuthFacts::from_claims(&id_claims.claims).unwrap_or_default();
    if let Some(su) = &txn.step_up {
        let acr_ok = su.acr_values.is_empty()
            || auth.acr.as_ref().is_some_and(|a| su.acr_values.contains(a));
        let amr_ok = su.amr.is_empty() || auth.amr.iter().any(|m| su.amr.contains(m));
        let age_ok = su.max_age.is_none_or(|m| {
            auth.auth_time
                .is_some_and(|t| now.since(t) <= m.saturating_add(60))
        });
        if !(acr_ok && amr_ok && age_ok) {
            ex.log.deny(vec!["step_up_not_delivered".into()]);
            return Ok(login_again(
                ex,
                403,
                "Stronger sign-in required",
                "This page needs a stronger or more recent sign-in than your identity provider provided.",
            )
            .header("set-cookie", clear));
        }
    }
    let session_ttl = tenant.login.as_ref().map_or(8 * 3600, |l| l.session_ttl);
    let sess = match &org.login.idp {
        // The org's own IdP: the org is implied; the identity is the IdP's, kept sealed.
        Some(idp) if client.org_bound => {
            let userinfo = if client.userinfo {
                let ep = disco
                    .userinfo_endpoint
                    .clone()
                    .ok_or("the IdP advertises no userinfo_endpoint")?;
                let resp = ex
                    .io
                    .fetch(oidc::userinfo_request(&ep, &tokens.access_token), None)?
                    .map_err(|e| e.to_string())?;
                match oidc::parse_userinfo(&resp, &id_claims.subject) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        ex.log.deny(vec!["userinfo_refused".into()]);
                        ex.log.detail = Some(e);
                        return Ok(login_again(
                            ex,
                            400,
                            "Sign-in failed",
                            "The identity provider's answer could not be verified.",
                        )
                        .header("set-cookie", clear));
                    }
                }
            } else {
                None
            };
            let who = federated::identity(&client.issuer, &id_claims, userinfo);
            if let Err(n) = federated::admit(idp, &who) {
                ex.log.deny(vec![n.reason().into()]);
                ex.log.subject = Some(who.sub.clone());
                return Ok(login_again(
                    ex,
                    403,
                    "Account not allowed",
                    &format!(
                        "That account may not sign in to {}. Use your {} work account.",
                        org.display_name, org.display_name
                    ),
                )
                .header("set-cookie", clear));
            }
            ex.log.subject = Some(who.sub.clone());
            Sess {
                org: org.org_id.clone(),
                at: String::new(),
                rt: None,
                it: tokens.id_token,
                exp: now.plus(session_ttl),
                sid: who.sid.clone(),
                idp: Some(who),
                auth: auth.clone(),
                signed_in: now,
            }
        }
        // The tenant's IdP: the org that signed in, read through the issuer's preset from the
        // ID token and from the access token, must be the org that started the login.
        _ => {
            let id_org = tenant
                .issuer(&client.issuer)
                .map(|i| identity(&id_claims.claims, &i.preset, i.multi_org_claim()))
                .unwrap_or_else(|| {
                    identity(&id_claims.claims, &Preset::Auth0 { roles: None }, None)
                });
            let access = match verify(engine, host, ex, tenant, &tokens.access_token) {
                Ok(c) => Ok(c),
                Err(Pending::Need(io)) => return Err(Stop::Need(io)),
                Err(Pending::Fail(e)) => Err::<_, TokenError>(e),
            };
            let id_ok = id_org.as_ref().is_ok_and(|i| names_org(i, org));
            let access_ok = access.as_ref().is_ok_and(|c| {
                scope_to_org(c, org, tenant).is_ok_and(|p| p.membership == Membership::Member)
            });
            if !(id_ok && access_ok) {
                ex.log.deny(vec!["org_mismatch".into()]);
                ex.log.detail = access.err().map(|e| format!("{e:?}"));
                return Ok(login_again(
                    ex,
                    403,
                    "Wrong organization",
                    &format!("That sign-in is not for {}.", org.display_name),
                )
                .header("set-cookie", clear));
            }
            ex.log.subject = Some(id_claims.subject.clone());
            Sess {
                org: org.org_id.clone(),
                at: tokens.access_token,
                rt: tokens.refresh_token,
                it: tokens.id_token,
                exp: now.plus(session_ttl),
                idp: None,
                auth: auth.clone(),
                sid: match id_claims.claims.get("sid") {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    _ => None,
                },
                signed_in: now,
            }
        }
    };
    let mut resp = ResponseView::redirect(&txn.ret).header("set-cookie", clear);
    for c in session_set_cookies(host, org, &ring, &sess, secure, now, &jar(&ex.req))? {
        resp = resp.header("set-cookie", c);
    }
    ex.log.allow(vec!["login_complete".into()]);
    Ok(resp)
}

/// A token bound to this browser's session for this org (an HMAC under the session secret of
/// the sealed session), so the sign-out question's answer cannot come from another site.
fn logout_token(
    host: &dyn Host,
    ex: &Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
) -> Option<String> {
    use hmac::{Hmac, Mac};
    let url = ex.req.url_parts()?;
    let name = session_cookie_name(org, secure_cookies(tenant, &url));
    let sealed = session::join_chunks(&jar(&ex.req), &name)?;
    let secret = host.secret(&tenant.login.as_ref()?.session_keys)?;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.expose().as_bytes()).ok()?;
    mac.update(format!("logout\0{}\0{sealed}", org.org_id).as_bytes());
    Some(crate::b64::encode(&mac.finalize().into_bytes()))
}

/// Sign out now? From the org's own pages (Fetch Metadata `same-origin`, or `none`: typed,
/// bookmarked), or with the sign-out question's token.
fn logout_confirmed(
    host: &dyn Host,
    ex: &Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
) -> bool {
    let site = ex.req.header("sec-fetch-site");
    if matches!(site, Some("same-origin" | "none")) {
        return true;
    }
    match logout_token(host, ex, tenant, org) {
        // No session: nothing of orggate's to lose; an old browser (no Fetch Metadata) goes on,
        // a cross-site request is still asked (the IdP's session is the user's).
        None => site.is_none(),
        Some(t) => query_param(query(ex), "confirm")
            .is_some_and(|c| pkce::constant_time_eq(c.as_bytes(), t.as_bytes())),
    }
}

fn logout(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
) -> Result<ResponseView, Stop> {
    let secure = is_secure(ex, tenant);
    let name = session_cookie_name(org, secure);
    let attrs = CookieAttrs::host_only(secure, None);
    let sess = session::lifecycle::open_session(host, tenant, org, &ex.req, secure);
    let client = oidc::client(host, tenant, org)?;
    let after = format!("{}{}/_orggate/logged-out", ex.origin(), ex.base);
    let disco = discover(engine, &ex.io, &client.issuer, ex.now)?;
    // "Sign out of all devices": every session and token of this person in this org, issued
    // until now, is refused from now on (`revoke`), not only this browser's cookie.
    let everywhere = query_param(query(ex), "everywhere").as_deref() == Some("1");
    if everywhere {
        if let Some(sub) = sess.as_ref().and_then(|s| s.subject()) {
            let entry = crate::revoke::Entry {
                kind: crate::revoke::Kind::Sub,
                value: sub.clone(),
                at: ex.now,
                expires: ex.now.plus(backchannel::entry_lifetime(tenant)),
            };
            match backchannel::write(engine, ex, tenant, &org.org_id, vec![entry]) {
                Ok(Ok(())) => ex.log.reasons.push("signed_out_everywhere".into()),
                Ok(Err(e)) => {
                    ex.log.detail = Some(e);
                    return Ok(page::message_page(
                        &page::Brand::org(org),
                        503,
                        "Could not sign out everywhere",
                        "Your other sessions could not be signed out. Please try again.",
                        Some((
                            &format!("{}/_orggate/logout?everywhere=1", ex.base),
                            "Try again",
                        )),
                    ));
                }
                Err(need) => return Err(need.into()),
            }
            ex.log.subject = Some(sub);
        }
    }
    // RFC 7009: the refresh token dies with the session (best effort: a failure is logged and
    // the sign-out goes on).
    if let (Some(endpoint), Some(rt)) = (
        &disco.revocation_endpoint,
        sess.as_ref().and_then(|s| s.rt.as_deref()),
    ) {
        match ex
            .io
            .fetch(oidc::revocation_request(endpoint, &client, rt), None)?
        {
            Ok(r) if r.status == 200 => ex.log.reasons.push("refresh_token_revoked".into()),
            Ok(r) => ex.log.detail = Some(format!("revocation endpoint answered {}", r.status)),
            Err(e) => ex.log.detail = Some(format!("revocation endpoint: {e}")),
        }
    }
    let id_token = sess.and_then(|s| s.it);
    // OIDC RP-Initiated Logout 1.0 §2: id_token_hint, post_logout_redirect_uri, client_id.
    let location = match &disco.end_session_endpoint {
        Some(end) => {
            let q = [
                Some(("client_id", client.client_id.as_str())),
                Some(("post_logout_redirect_uri", after.as_str())),
                id_token.as_deref().map(|t| ("id_token_hint", t)),
            ];
            let sep = if end.contains('?') { '&' } else { '?' };
            format!(
                "{end}{sep}{}",
                crate::http::form_encode(q.into_iter().flatten())
            )
        }
        None => after,
    };
    let mut resp = ResponseView::redirect(&location);
    for n in session::stale_chunk_names(&jar(&ex.req), &name, 0) {
        resp = resp.header("set-cookie", session::clear_cookie(&n, &attrs));
    }
    ex.log.allow(vec!["logout".into()]);
    Ok(resp)
}

/// Internal faults of the login flow (for `From` conversions in the pipeline).
pub fn fault(detail: impl std::fmt::Display) -> Halt {
    Halt::Refuse(internal(detail))
}
