//! Browser login: the branded page ([`page`]), the OIDC authorization code flow with PKCE
//! ([`oidc`], [`pkce`]), return-path checks ([`redirect`]) and the session cookie
//! ([`crate::session`]).
//!
//! Endpoints (under the org's host, or `/o/{org}` when orgs come from the path):
//! - `GET /_orggate/login`: the org's branded page; on the tenant host, the org prompt. Auth0
//!   invitation links (`?invitation=&organization=&organization_name=`) land here.
//! - `GET /_orggate/start`: new transaction (PKCE verifier, state, nonce, org, return path) in a
//!   sealed cookie named after the state, then 302 to the IdP's authorization endpoint.
//! - `GET /_orggate/callback`: state → transaction cookie; code exchange; ID token checks (OIDC
//!   Core 3.1.3.7) and org check; the access token is verified like any bearer token; session.
//! - `GET /_orggate/logout`: clears orggate's cookies, then the IdP's `end_session_endpoint`.
//! - `GET /_orggate/find?q=`: the org prompt's answer (org name or work email → the org's page).

pub mod oidc;
pub mod page;
pub mod pkce;
pub mod redirect;

use crate::app::Ctx;
use crate::authz::path::NormalizedPath;
use crate::engine::Engine;
use crate::error::Refusal;
use crate::http::{Forward, Outcome, ResponseView, Upstream};
use crate::keys::discovery::discover;
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::org::{load_org, lookup_alias};
use crate::ports::{HttpClient, Ports, Secrets};
use crate::session::{self, CookieAttrs, Keyring};
use crate::token::{verify, TokenError, VerifiedClaims};
use oidc::{AuthorizeParams, Client};
use pkce::{constant_time_eq, PkceVerifier};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

type Fail = (Refusal, Option<Rc<OrgPolicy>>);

/// Transactions live 10 minutes; sessions as configured (default 8 h).
const TXN_TTL_S: u64 = 600;
/// Refresh this long before the access token expires, so no request meets an expired token.
const REFRESH_EARLY_S: u64 = 30;

/// What the session cookie says about this request.
pub enum SessionClaims {
    /// No session cookie for this org.
    None,
    /// A valid session; `set_cookies` carries a refreshed session when one was made.
    Valid {
        claims: Rc<VerifiedClaims>,
        set_cookies: Vec<String>,
    },
    /// The session ended (expired, refresh failed, key rotated out): log in again.
    Restart {
        clear_cookies: Vec<String>,
    },
    Fault(String),
}

/// The sealed transaction cookie's contents.
#[derive(Serialize, Deserialize)]
struct Txn {
    state: String,
    nonce: String,
    verifier: String,
    org: String,
    ret: String,
    exp: u64,
}

/// The sealed session cookie's contents.
#[derive(Serialize, Deserialize)]
struct Sess {
    org: String,
    at: String,
    #[serde(default)]
    rt: Option<String>,
    #[serde(default)]
    it: Option<String>,
    exp: u64,
}

/// Names that can never be public sites: loopback, and the RFC 6761 special-use `localhost` and
/// `test` domains (`*.app.test` gives same-site sibling org hosts in local tests).
fn is_dev_host(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "127.0.0.1"
        || host.ends_with(".test")
}

/// Cookies are `Secure` and `__Host-` prefixed, except plain-http localhost in development.
fn secure_cookies(tenant: &TenantPolicy, ctx: &Ctx<'_>) -> bool {
    let dev_ok = tenant
        .login
        .as_ref()
        .is_some_and(|l| l.insecure_dev_cookies);
    !(dev_ok && ctx.url.scheme == "http" && is_dev_host(&ctx.url.host.to_ascii_lowercase()))
}

fn session_cookie(org: &OrgPolicy, secure: bool) -> String {
    session::cookie_name(&format!("orggate_s_{}", org.name), secure)
}

fn txn_cookie(id: &str, secure: bool) -> String {
    session::cookie_name(&format!("orggate_t_{id}"), secure)
}

fn keyring<P: Ports>(ports: &P, tenant: &TenantPolicy) -> Result<Keyring, String> {
    let login = tenant.login.as_ref().ok_or("login is not configured")?;
    let secret = ports
        .secrets()
        .secret(&login.session_keys)
        .ok_or_else(|| format!("secret {} is not set", login.session_keys))?;
    Keyring::parse(&secret).map_err(|e| format!("{}: {e:?}", login.session_keys))
}

fn aad(purpose: &str, org: &OrgPolicy) -> Vec<u8> {
    format!("{purpose}\0{}", org.org_id).into_bytes()
}

/// `N` random bytes from the platform: AEAD nonces, PKCE verifier seeds, state, nonce, CSP nonce.
fn random<const N: usize, P: Ports>(ports: &P) -> Result<[u8; N], String> {
    use crate::ports::Rng;
    let mut b = [0u8; N];
    ports.rng().fill(&mut b).map_err(|e| e.to_string())?;
    Ok(b)
}

/// `N` random bytes as base64url (a 24-byte `state` or `nonce` is 32 characters).
fn random_token<const N: usize, P: Ports>(ports: &P) -> Result<String, String> {
    Ok(pkce::random_token(&random::<N, P>(ports)?))
}

/// The IdP client for this org: its own, or the tenant's.
fn client<P: Ports>(ports: &P, tenant: &TenantPolicy, org: &OrgPolicy) -> Result<Client, String> {
    let login = tenant.login.as_ref().ok_or("login is not configured")?;
    let (issuer, client_id, secret_name) = match &org.login.idp {
        Some(idp) => (
            idp.issuer.clone(),
            idp.client_id.clone(),
            idp.client_secret.clone(),
        ),
        None => (
            login.issuer.clone(),
            login.client_id.clone(),
            login.client_secret.clone(),
        ),
    };
    let client_secret = ports
        .secrets()
        .secret(&secret_name)
        .ok_or_else(|| format!("secret {secret_name} is not set"))?;
    Ok(Client {
        issuer,
        client_id,
        client_secret,
        scopes: login.scopes.clone(),
        audience: login.audience.clone(),
    })
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| percent_decode(v)).flatten()
    })
}

/// application/x-www-form-urlencoded value decoding (`+` is a space); `None` for bad UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = b.get(i + 1..i + 3)?;
                if !h.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn cookies<'a>(ctx: &Ctx<'a>) -> Vec<(&'a str, &'a str)> {
    let req: &'a crate::http::RequestView = ctx.req;
    req.header_all("cookie")
        .flat_map(session::parse_cookie_header)
        .collect()
}

/// 302 to the org's login page, remembering where the user was going.
pub fn redirect_to_login(ctx: &Ctx<'_>, path: &NormalizedPath) -> ResponseView {
    let mut ret = format!("{}{}", ctx.base, path.as_str());
    if let Some(q) = ctx.url.query {
        ret.push('?');
        ret.push_str(q);
    }
    let ret = redirect::safe_return_path(&ret).unwrap_or_else(|| "/".into());
    ResponseView::redirect(&format!(
        "{}/_orggate/login?return_to={}",
        ctx.base,
        page::url_encode(&ret)
    ))
}

/// The session's access token, verified like any bearer token; refreshed shortly before expiry.
pub async fn session_claims<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    ctx: &mut Ctx<'_>,
) -> SessionClaims {
    if tenant.login.is_none() {
        return SessionClaims::None;
    }
    let secure = secure_cookies(tenant, ctx);
    let name = session_cookie(org, secure);
    let jar = cookies(ctx);
    let Some(sealed) = session::join_chunks(&jar, &name) else {
        return SessionClaims::None;
    };
    let attrs = CookieAttrs::host_only(secure, None);
    let clear: Vec<String> = session::stale_chunk_names(&jar, &name, 0)
        .iter()
        .map(|n| session::clear_cookie(n, &attrs))
        .collect();
    let ring = match keyring(ports, tenant) {
        Ok(r) => r,
        Err(e) => return SessionClaims::Fault(e),
    };
    // The AAD binds the cookie to this org: acme's session does not open on globex.
    let Ok(plain) = session::open(&ring, &aad("session", org), &sealed) else {
        ctx.log.detail = Some("session cookie did not open".into());
        return SessionClaims::Restart {
            clear_cookies: clear,
        };
    };
    let Ok(sess) = serde_json::from_slice::<Sess>(&plain) else {
        return SessionClaims::Restart {
            clear_cookies: clear,
        };
    };
    if sess.org != org.org_id || ctx.now >= sess.exp {
        return SessionClaims::Restart {
            clear_cookies: clear,
        };
    }
    let verified = verify(ports, engine, tenant, &sess.at).await;
    let needs_refresh = match &verified {
        Ok(c) => c.exp <= ctx.now + REFRESH_EARLY_S,
        Err(TokenError::Expired { .. }) => true,
        Err(e) if e.is_internal() => return SessionClaims::Fault(format!("{e:?}")),
        Err(_) => false,
    };
    if !needs_refresh {
        return match verified {
            Ok(claims) => SessionClaims::Valid {
                claims,
                set_cookies: vec![],
            },
            Err(e) => {
                ctx.log.detail = Some(format!("session token: {e:?}"));
                SessionClaims::Restart {
                    clear_cookies: clear,
                }
            }
        };
    }
    // Refresh without a redirect; a failed refresh falls back to a fresh login (no loop: the
    // login page is a page, not an automatic redirect).
    match refresh(ports, engine, tenant, org, ctx, &sess, &ring, secure, &jar).await {
        Ok((claims, set_cookies)) => {
            ctx.log.reasons.push("session_refreshed".into());
            SessionClaims::Valid {
                claims,
                set_cookies,
            }
        }
        Err(e) => {
            ctx.log.detail = Some(format!("refresh failed: {e}"));
            match verified {
                // Still valid (refresh was early): keep going, try again next request.
                Ok(claims) if claims.exp > ctx.now => SessionClaims::Valid {
                    claims,
                    set_cookies: vec![],
                },
                _ => SessionClaims::Restart {
                    clear_cookies: clear,
                },
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn refresh<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    ctx: &Ctx<'_>,
    sess: &Sess,
    ring: &Keyring,
    secure: bool,
    jar: &[(&str, &str)],
) -> Result<(Rc<VerifiedClaims>, Vec<String>), String> {
    let rt = sess.rt.as_deref().ok_or("no refresh token")?;
    let client = client(ports, tenant, org)?;
    let disco = discover(ports, engine, &client.issuer, ctx.now).await?;
    let resp = ports
        .http()
        .send(oidc::refresh_request(&disco.token_endpoint, &client, rt))
        .await
        .map_err(|e| e.to_string())?;
    let tokens = oidc::parse_token_response(&resp)?;
    let claims = verify(ports, engine, tenant, &tokens.access_token)
        .await
        .map_err(|e| format!("{e:?}"))?;
    if claims.identity.org_id.as_deref() != Some(org.org_id.as_str()) {
        return Err("refreshed token is for another organization".into());
    }
    let new = Sess {
        org: org.org_id.clone(),
        at: tokens.access_token,
        rt: tokens.refresh_token.or_else(|| sess.rt.clone()),
        it: tokens.id_token.or_else(|| sess.it.clone()),
        exp: sess.exp,
    };
    let cookies = session_set_cookies(ports, org, ring, &new, secure, ctx.now, jar)?;
    Ok((claims, cookies))
}

fn session_set_cookies<P: Ports>(
    ports: &P,
    org: &OrgPolicy,
    ring: &Keyring,
    sess: &Sess,
    secure: bool,
    now: u64,
    jar: &[(&str, &str)],
) -> Result<Vec<String>, String> {
    let plain = serde_json::to_vec(sess).map_err(|e| e.to_string())?;
    let sealed = session::seal(ring, &aad("session", org), &plain, random::<12, P>(ports)?)
        .map_err(|e| format!("{e:?}"))?;
    let name = session_cookie(org, secure);
    let chunks = session::split_into_chunks(
        &name,
        &sealed,
        session::DEFAULT_CHUNK_SIZE,
        session::DEFAULT_MAX_CHUNKS,
    )
    .map_err(|e| format!("session cookie too large ({} bytes, max {})", e.len, e.max))?;
    let attrs = CookieAttrs::host_only(secure, Some(sess.exp.saturating_sub(now) as i64));
    let clear_attrs = CookieAttrs::host_only(secure, None);
    let mut out: Vec<String> = chunks
        .iter()
        .map(|(n, v)| session::set_cookie(n, v, &attrs))
        .collect();
    for stale in session::stale_chunk_names(jar, &name, chunks.len()) {
        out.push(session::clear_cookie(&stale, &clear_attrs));
    }
    Ok(out)
}

/// `/_orggate/*`.
pub async fn handle_reserved<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    org: Option<Rc<OrgPolicy>>,
    ctx: &mut Ctx<'_>,
    path: &NormalizedPath,
) -> Result<Outcome, Fail> {
    let endpoint = path
        .as_str()
        .trim_start_matches("/_orggate")
        .trim_end_matches('/');
    ctx.log.org = org.as_ref().map(|o| o.org_id.clone());
    ctx.log.rule = Some(format!("orggate:{}", endpoint.trim_start_matches('/')));
    if let Some(asset) = endpoint.strip_prefix("/assets/") {
        // Login page assets (logos, styles) are public and served from the assets binding.
        ctx.log.allow(vec!["public_asset".into()]);
        return Ok(Outcome::Forward(Forward {
            upstream: Upstream::Assets,
            method: "GET".into(),
            url: format!("{}/_orggate/assets/{asset}", ctx.url.origin()),
            headers: vec![],
            response_headers: vec![],
        }));
    }
    if tenant.login.is_none() {
        return Err((Refusal::UnknownOrg, org));
    }
    if ctx.req.method != "GET" && ctx.req.method != "HEAD" {
        return Err((
            Refusal::BadRequest {
                reason: "method_not_allowed",
            },
            org,
        ));
    }
    let result = match (endpoint, org) {
        ("/login", Some(org)) => login_page(ports, tenant, ctx, &org),
        ("/login", None) => invitation_or_prompt(ports, engine, tenant, ctx).await,
        ("/find", None) => find_org(ports, engine, tenant, ctx).await,
        ("/start", Some(org)) => start(ports, engine, tenant, ctx, &org).await,
        ("/callback", Some(org)) => callback(ports, engine, tenant, ctx, &org).await,
        ("/logout", Some(org))
            if matches!(
                ctx.req.header("sec-fetch-site"),
                Some("cross-site" | "same-site")
            ) =>
        {
            // Another site sent the browser here: ask, so a link elsewhere cannot sign users out.
            Ok(page::message_page(
                200,
                "Sign out?",
                &format!("Do you want to sign out of {}?", org.display_name),
                Some((&format!("{}/_orggate/logout", ctx.base), "Sign out")),
            ))
        }
        ("/logout", Some(org)) => logout(ports, engine, tenant, ctx, &org).await,
        ("/logged-out", org) => Ok(page::message_page(
            200,
            "You are signed out",
            &format!(
                "You have signed out of {}.",
                org.as_ref()
                    .map_or("your organization", |o| o.display_name.as_str())
            ),
            Some((&format!("{}/_orggate/login", ctx.base), "Sign in again")),
        )),
        (_, org) => return Err((Refusal::UnknownOrg, org)),
    };
    result
        .map(Outcome::Respond)
        .map_err(|detail| (Refusal::Internal { detail }, None))
}

fn csp_nonce<P: Ports>(ports: &P) -> Result<String, String> {
    random_token::<16, P>(ports)
}

fn login_page<P: Ports>(
    ports: &P,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
    org: &OrgPolicy,
) -> Result<ResponseView, String> {
    let q = ctx.url.query;
    let ret = return_to(ctx);
    // Auth0 invitation links: `invitation` and `organization` go to the IdP unchanged;
    // `organization_name` only picks the page. An invitation for another org is ignored.
    let invitation = query_param(q, "invitation").filter(|i| {
        i.len() <= 256
            && i.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && query_param(q, "organization").is_none_or(|o| o == org.org_id || o == org.name)
    });
    let nonce = csp_nonce(ports)?;
    let notice = query_param(q, "error").map(|e| match e.as_str() {
        "access_denied" => format!(
            "That account is not a member of {}. Try another account.",
            org.display_name
        ),
        _ => "Sign-in did not complete. Please try again.".to_string(),
    });
    ctx.log.allow(vec!["login_page".into()]);
    let switch_url = tenant_home(tenant, ctx);
    Ok(page::login_page(&page::LoginView {
        switch_url: &switch_url,
        org,
        base: &ctx.base,
        return_to: &ret,
        invitation: invitation.as_deref(),
        notice: notice.as_deref(),
        nonce: &nonce,
    }))
}

/// The tenant's own host (the org prompt), e.g. `http://localhost:8787/`.
fn tenant_home(tenant: &TenantPolicy, ctx: &Ctx<'_>) -> String {
    let port = ctx
        .url
        .authority
        .rsplit_once(':')
        .map(|(_, p)| format!(":{p}"))
        .unwrap_or_default();
    match tenant.resolution.base_domains.first() {
        Some(base) => format!("{}://{base}{port}/", ctx.url.scheme),
        None => "/".into(),
    }
}

/// The org's own login URL on its host (subdomain of the first base domain).
fn org_login_url(tenant: &TenantPolicy, ctx: &Ctx<'_>, org: &OrgPolicy, query: &str) -> String {
    let port = ctx
        .url
        .authority
        .rsplit_once(':')
        .map(|(_, p)| format!(":{p}"))
        .unwrap_or_default();
    match (
        tenant.resolution.base_domains.first(),
        &tenant.resolution.path_prefix,
    ) {
        (Some(base), _) => format!(
            "{}://{}.{base}{port}/_orggate/login{query}",
            ctx.url.scheme, org.name
        ),
        (None, Some(prefix)) => format!("{prefix}{}/_orggate/login{query}", org.name),
        (None, None) => format!("/_orggate/login{query}"),
    }
}

async fn invitation_or_prompt<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
) -> Result<ResponseView, String> {
    let q = ctx.url.query;
    // An invitation link on the tenant host: find the org by id or name, go to its page.
    let org_ref = query_param(q, "organization").or_else(|| query_param(q, "organization_name"));
    if let Some(r) = org_ref {
        let id = if r.starts_with("org_")
            || crate::org::policy::valid_org_id(&r) && !crate::org::policy::valid_org_name(&r)
        {
            Some(Rc::new(r.clone()))
        } else {
            lookup_alias(
                ports,
                engine,
                tenant,
                &format!("name:{}", r.to_ascii_lowercase()),
                ctx.now,
            )
            .await
            .map_err(|e| e.to_string())?
        };
        if let Some(id) = id {
            if let Some(org) = load_org(ports, engine, tenant, &id, ctx.now)
                .await
                .map_err(|e| e.to_string())?
            {
                let query = q.map(|q| format!("?{q}")).unwrap_or_default();
                return Ok(ResponseView::redirect(&org_login_url(
                    tenant, ctx, &org, &query,
                )));
            }
        }
    }
    Ok(page::org_prompt(None))
}

/// Org prompt: a name, or a work email whose domain maps to an org (home-realm discovery).
async fn find_org<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
) -> Result<ResponseView, String> {
    let q = query_param(ctx.url.query, "q").unwrap_or_default();
    let q = q.trim().to_ascii_lowercase();
    let (key, hint) = match q.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            (format!("domain:{domain}"), Some(q.clone()))
        }
        _ => (format!("name:{q}"), None),
    };
    let valid = q.len() <= 254 && !q.is_empty() && !q.contains(char::is_whitespace);
    let id = if valid {
        lookup_alias(ports, engine, tenant, &key, ctx.now)
            .await
            .map_err(|e| e.to_string())?
    } else {
        None
    };
    let org = match id {
        Some(id) => load_org(ports, engine, tenant, &id, ctx.now)
            .await
            .map_err(|e| e.to_string())?,
        None => None,
    };
    match org {
        Some(org) => {
            let query = hint.map(|h| format!("?login_hint={}", page::url_encode(&h))).unwrap_or_default();
            Ok(ResponseView::redirect(&org_login_url(tenant, ctx, &org, &query)))
        }
        // Same answer for every miss: nothing about which names or domains exist.
        _ => Ok(page::org_prompt(
            Some("We could not find a sign-in page for that. Check the name, or ask your administrator for your organization's sign-in link."),
        )),
    }
}

/// The `return_to` query parameter when it is a safe same-origin path, else the org's home.
fn return_to(ctx: &Ctx<'_>) -> String {
    query_param(ctx.url.query, "return_to")
        .and_then(|r| redirect::safe_return_path(&r))
        .unwrap_or_else(|| format!("{}/", ctx.base))
}

fn callback_uri(ctx: &Ctx<'_>) -> String {
    format!("{}{}/_orggate/callback", ctx.url.origin(), ctx.base)
}

async fn start<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
    org: &OrgPolicy,
) -> Result<ResponseView, String> {
    let q = ctx.url.query;
    let ret = return_to(ctx);
    let client = client(ports, tenant, org)?;
    let disco = discover(ports, engine, &client.issuer, ctx.now).await?;
    let verifier = PkceVerifier::from_random(&random::<32, P>(ports)?);
    let state = random_token::<24, P>(ports)?;
    let nonce = random_token::<24, P>(ports)?;
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
    let params = AuthorizeParams {
        redirect_uri: callback_uri(ctx),
        state: state.clone(),
        nonce: nonce.clone(),
        code_challenge: verifier.challenge_s256(),
        organization: org.org_id.clone(),
        connection,
        login_hint,
        screen_hint,
        prompt,
        invitation,
    };
    let url = oidc::authorize_url(&disco.authorization_endpoint, &client, &params);
    let txn = Txn {
        state,
        nonce,
        verifier: verifier.secret().to_string(),
        org: org.org_id.clone(),
        ret,
        exp: ctx.now + TXN_TTL_S,
    };
    let ring = keyring(ports, tenant)?;
    let plain = serde_json::to_vec(&txn).map_err(|e| e.to_string())?;
    let sealed = session::seal(&ring, &aad("txn", org), &plain, random::<12, P>(ports)?)
        .map_err(|e| format!("{e:?}"))?;
    let secure = secure_cookies(tenant, ctx);
    let cookie = session::set_cookie(
        &txn_cookie(&id, secure),
        &sealed,
        &CookieAttrs::host_only(secure, Some(TXN_TTL_S as i64)),
    );
    ctx.log.allow(vec!["login_start".into()]);
    Ok(ResponseView::redirect(&url).header("set-cookie", cookie))
}

fn login_again(ctx: &Ctx<'_>, status: u16, title: &str, text: &str) -> ResponseView {
    page::message_page(
        status,
        title,
        text,
        Some((&format!("{}/_orggate/login", ctx.base), "Sign in again")),
    )
}

async fn callback<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
    org: &OrgPolicy,
) -> Result<ResponseView, String> {
    let q = ctx.url.query;
    let secure = secure_cookies(tenant, ctx);
    let state = query_param(q, "state").unwrap_or_default();
    let Some(id) = oidc::txn_id(&state) else {
        ctx.log.deny(vec!["bad_state".into()]);
        return Ok(login_again(
            ctx,
            400,
            "Sign-in failed",
            "This sign-in link is not valid. Please start again.",
        ));
    };
    let jar = cookies(ctx);
    let name = txn_cookie(id, secure);
    let clear = session::clear_cookie(&name, &CookieAttrs::host_only(secure, None));
    let ring = keyring(ports, tenant)?;
    let txn = session::find_cookie(&jar, &name)
        .and_then(|sealed| session::open(&ring, &aad("txn", org), sealed).ok())
        .and_then(|plain| serde_json::from_slice::<Txn>(&plain).ok());
    // The state must match the transaction exactly, once: the cookie is cleared on every answer.
    let Some(txn) = txn.filter(|t| {
        constant_time_eq(t.state.as_bytes(), state.as_bytes())
            && t.org == org.org_id
            && ctx.now < t.exp
    }) else {
        ctx.log.deny(vec!["unknown_state".into()]);
        return Ok(login_again(
            ctx,
            400,
            "Sign-in failed",
            "This sign-in attempt expired or was already used. Please start again.",
        )
        .header("set-cookie", clear));
    };
    if let Some(err) = query_param(q, "error") {
        ctx.log.deny(vec![format!(
            "idp_error:{}",
            err.chars().take(40).collect::<String>()
        )]);
        let loc = format!(
            "{}/_orggate/login?error={}&return_to={}",
            ctx.base,
            page::url_encode(&err),
            page::url_encode(&txn.ret)
        );
        return Ok(ResponseView::redirect(&loc).header("set-cookie", clear));
    }
    let code = query_param(q, "code").unwrap_or_default();
    let client = client(ports, tenant, org)?;
    let disco = discover(ports, engine, &client.issuer, ctx.now).await?;
    // RFC 9207: when the IdP names itself in the callback, it must be the one we asked.
    if let Some(iss) = query_param(q, "iss") {
        if iss != client.issuer {
            ctx.log.deny(vec!["issuer_mismatch".into()]);
            return Ok(login_again(
                ctx,
                400,
                "Sign-in failed",
                "The sign-in answer came from an unexpected provider.",
            )
            .header("set-cookie", clear));
        }
    }
    let verifier = PkceVerifier::parse(txn.verifier.clone()).map_err(|e| format!("{e:?}"))?;
    let resp = ports
        .http()
        .send(oidc::code_request(
            &disco.token_endpoint,
            &client,
            &code,
            &callback_uri(ctx),
            verifier.secret(),
        ))
        .await
        .map_err(|e| e.to_string())?;
    let tokens = match oidc::parse_token_response(&resp) {
        Ok(t) => t,
        Err(e) => {
            ctx.log.deny(vec!["code_exchange_failed".into()]);
            ctx.log.detail = Some(e);
            return Ok(login_again(
                ctx,
                400,
                "Sign-in failed",
                "The sign-in could not be completed. Please start again.",
            )
            .header("set-cookie", clear));
        }
    };
    let id_token = tokens.id_token.as_deref().unwrap_or("");
    let id_claims = match oidc::validate_id_token(
        ports, engine, &client, id_token, &txn.nonce, ctx.now,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            ctx.log.deny(vec![format!("id_token:{}", e.reason())]);
            return Ok(login_again(
                ctx,
                400,
                "Sign-in failed",
                "The identity provider's answer could not be verified.",
            )
            .header("set-cookie", clear));
        }
    };
    // The org that signed in must be the org that started the login.
    let access = verify(ports, engine, tenant, &tokens.access_token).await;
    let org_ok = id_claims.org_id.as_deref() == Some(org.org_id.as_str())
        && access
            .as_ref()
            .is_ok_and(|c| c.identity.org_id.as_deref() == Some(org.org_id.as_str()));
    if !org_ok {
        ctx.log.deny(vec!["org_mismatch".into()]);
        ctx.log.detail = access.err().map(|e| format!("{e:?}"));
        return Ok(login_again(
            ctx,
            403,
            "Wrong organization",
            &format!("That sign-in is not for {}.", org.display_name),
        )
        .header("set-cookie", clear));
    }
    ctx.log.subject = Some(id_claims.subject.clone());
    let session_ttl = tenant.login.as_ref().map_or(8 * 3600, |l| l.session_ttl);
    let sess = Sess {
        org: org.org_id.clone(),
        at: tokens.access_token,
        rt: tokens.refresh_token,
        it: tokens.id_token,
        exp: ctx.now + session_ttl,
    };
    let mut resp = ResponseView::redirect(&txn.ret).header("set-cookie", clear);
    for c in session_set_cookies(ports, org, &ring, &sess, secure, ctx.now, &jar)? {
        resp = resp.header("set-cookie", c);
    }
    ctx.log.allow(vec!["login_complete".into()]);
    Ok(resp)
}

async fn logout<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
    org: &OrgPolicy,
) -> Result<ResponseView, String> {
    let secure = secure_cookies(tenant, ctx);
    let name = session_cookie(org, secure);
    let jar = cookies(ctx);
    let attrs = CookieAttrs::host_only(secure, None);
    let id_token = session::join_chunks(&jar, &name)
        .and_then(|s| {
            keyring(ports, tenant)
                .ok()
                .and_then(|r| session::open(&r, &aad("session", org), &s).ok())
        })
        .and_then(|p| serde_json::from_slice::<Sess>(&p).ok())
        .and_then(|s| s.it);
    let client = client(ports, tenant, org)?;
    let after = format!("{}{}/_orggate/logged-out", ctx.url.origin(), ctx.base);
    let disco = discover(ports, engine, &client.issuer, ctx.now).await?;
    // OIDC RP-Initiated Logout 1.0 §2: id_token_hint, post_logout_redirect_uri, client_id.
    let location = match &disco.end_session_endpoint {
        Some(end) => {
            let mut q = vec![
                format!("client_id={}", page::url_encode(&client.client_id)),
                format!("post_logout_redirect_uri={}", page::url_encode(&after)),
            ];
            if let Some(t) = &id_token {
                q.push(format!("id_token_hint={}", page::url_encode(t)));
            }
            format!(
                "{end}{}{}",
                if end.contains('?') { '&' } else { '?' },
                q.join("&")
            )
        }
        None => after,
    };
    let mut resp = ResponseView::redirect(&location);
    for n in session::stale_chunk_names(&jar, &name, 0) {
        resp = resp.header("set-cookie", session::clear_cookie(&n, &attrs));
    }
    ctx.log.allow(vec!["logout".into()]);
    Ok(resp)
}
