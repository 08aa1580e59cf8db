//! A session's life: what the session cookie says about a request, its refresh shortly before
//! the access token expires, and the cookies that carry it.
//!
//! The cookie `__Host-orggate_s_{org}` (plain `orggate_s_{org}` on http development hosts) holds
//! a sealed [`Sess`] bound to its org by the AEAD's associated data: acme's session does not open
//! on globex. It carries the access token the IdP issued for the org, checked like any bearer
//! token on every request, and the refresh token that renews it without a redirect.

use super::{
    clear_cookie, cookie_name, join_chunks, open, parse_cookie_header, seal, set_cookie,
    split_into_chunks, stale_chunk_names, CookieAttrs, Keyring, DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_CHUNKS,
};
use crate::authz::decision::{scope_to_org, Membership, Principal};
use crate::engine::Engine;
use crate::exchange::Exchange;
use crate::http::{RequestView, UrlParts};
use crate::io::{Need, Pending};
use crate::keys::discovery::discover;
use crate::login::{federated, oidc};
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::ports::Host;
use crate::time::UnixSeconds;
use crate::token::{verify, AuthFacts, TokenError, VerifiedClaims};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// Refresh this long before the access token expires, so no request meets an expired token.
pub const REFRESH_EARLY_S: u64 = 30;

/// The sealed session cookie's contents. A tenant-IdP session holds the access token the IdP
/// issued for the org (checked like a bearer token on every request) and its refresh token; an
/// org-IdP session holds the identity the org's own IdP asserted (`idp`) and no token of theirs.
#[derive(Serialize, Deserialize)]
pub(crate) struct Sess {
    pub org: String,
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub rt: Option<String>,
    #[serde(default)]
    pub it: Option<String>,
    pub exp: UnixSeconds,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<crate::login::federated::IdpIdentity>,
    /// How and when the person authenticated, from the ID token (step-up checks).
    #[serde(default)]
    pub auth: AuthFacts,
    /// The IdP's session id (the ID token's `sid`), for back-channel logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// When the person signed in (kept across refreshes): a subject's "not before" revocation
    /// compares with this. Sessions from before this field read as 0, "long ago".
    #[serde(default)]
    pub signed_in: UnixSeconds,
}

impl Sess {
    /// What the revocation check needs to know about this session.
    pub fn issued(&self) -> crate::revoke::Issued {
        crate::revoke::Issued {
            jti: None,
            at: Some(self.signed_in),
            sid: self.sid.clone(),
        }
    }
}

/// Names that can never be public sites: loopback, and the RFC 6761 special-use `localhost` and
/// `test` domains (`*.app.test` gives same-site sibling org hosts in local tests).
pub fn is_dev_host(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "127.0.0.1"
        || host.ends_with(".test")
}

/// Cookies are `Secure` and `__Host-` prefixed, except plain-http development hosts when the
/// tenant turned `insecure_dev_cookies` on.
pub fn secure_cookies(tenant: &TenantPolicy, url: &UrlParts<'_>) -> bool {
    let dev_ok = tenant
        .login
        .as_ref()
        .is_some_and(|l| l.insecure_dev_cookies);
    !(dev_ok && url.scheme == "http" && is_dev_host(&url.host.to_ascii_lowercase()))
}

pub fn session_cookie_name(org: &OrgPolicy, secure: bool) -> String {
    cookie_name(&format!("orggate_s_{}", org.name), secure)
}

/// The session keyring from its Worker secret.
pub fn keyring(host: &dyn Host, tenant: &TenantPolicy) -> Result<Keyring, String> {
    let login = tenant.login.as_ref().ok_or("login is not configured")?;
    let secret = host
        .secret(&login.session_keys)
        .ok_or_else(|| format!("secret {} is not set", login.session_keys))?;
    Keyring::parse(secret.expose()).map_err(|e| format!("{}: {e:?}", login.session_keys))
}

/// AEAD associated data: the purpose and the org (a transaction cookie never opens as a
/// session, acme's session never opens on globex).
pub fn aad(purpose: &str, org: &OrgPolicy) -> Vec<u8> {
    format!("{purpose}\0{}", org.org_id).into_bytes()
}

/// `N` random bytes from the host: AEAD nonces, PKCE verifier seeds, state, nonce, CSP nonce.
pub fn random<const N: usize>(host: &dyn Host) -> Result<[u8; N], String> {
    let mut b = [0u8; N];
    host.random(&mut b).map_err(|e| e.to_string())?;
    Ok(b)
}

/// The request's cookies as (name, value) pairs.
pub fn jar(req: &RequestView) -> Vec<(&str, &str)> {
    req.header_all("cookie")
        .flat_map(parse_cookie_header)
        .collect()
}

/// What the session cookie says about this request.
#[derive(Debug)]
pub enum SessionClaims {
    /// A valid session; `set_cookies` carries a refreshed session when one was made.
    Valid {
        claims: Rc<VerifiedClaims>,
        set_cookies: Vec<String>,
        /// From this second on, the session takes the refresh path (or ends).
        refresh_at: UnixSeconds,
        /// The login's authentication facts (the ID token's `acr`, `amr`, `auth_time`).
        auth: AuthFacts,
        /// The session's sign-in time and IdP session (revocation checks).
        issued: crate::revoke::Issued,
    },
    /// An org-IdP session: the principal, under the org's current claim rules.
    Member {
        principal: Rc<Principal>,
        until: UnixSeconds,
    },
    /// The session ended (expired, refresh failed, key rotated out): log in again.
    Restart {
        clear_cookies: Vec<String>,
    },
    Fault(String),
}

/// The session's access token, verified like any bearer token; refreshed shortly before expiry.
/// `sealed` is the session cookie's value (chunks joined).
pub fn session_claims(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    sealed: &str,
) -> Result<SessionClaims, Need> {
    let Some(url) = ex.req.url_parts() else {
        return Ok(SessionClaims::Fault("no URL".into()));
    };
    let secure = secure_cookies(tenant, &url);
    let name = session_cookie_name(org, secure);
    let attrs = CookieAttrs::host_only(secure, None);
    let clear: Vec<String> = stale_chunk_names(&jar(&ex.req), &name, 0)
        .iter()
        .map(|n| clear_cookie(n, &attrs))
        .collect();
    let ring = match keyring(host, tenant) {
        Ok(r) => r,
        Err(e) => return Ok(SessionClaims::Fault(e)),
    };
    // The AAD binds the cookie to this org: acme's session does not open on globex.
    let Ok(plain) = open(&ring, &aad("session", org), sealed) else {
        ex.log.detail = Some("session cookie did not open".into());
        return Ok(SessionClaims::Restart {
            clear_cookies: clear,
        });
    };
    let Ok(sess) = serde_json::from_slice::<Sess>(&plain) else {
        return Ok(SessionClaims::Restart {
            clear_cookies: clear,
        });
    };
    let now = ex.now;
    if sess.org != org.org_id || now >= sess.exp {
        return Ok(SessionClaims::Restart {
            clear_cookies: clear,
        });
    }
    if let Some(who) = &sess.idp {
        // Still the org's IdP? (A config change to another IdP ends its sessions.)
        return Ok(match &org.login.idp {
            Some(idp) if idp.issuer == who.iss => {
                ex.log.subject = Some(who.sub.clone());
                SessionClaims::Member {
                    principal: Rc::new(federated::principal(
                        org,
                        idp,
                        who,
                        sess.exp,
                        sess.signed_in,
                    )),
                    until: sess.exp,
                }
            }
            _ => {
                ex.log.detail = Some("the session's IdP is no longer the org's".into());
                SessionClaims::Restart {
                    clear_cookies: clear,
                }
            }
        });
    }
    let verified = match verify(engine, host, ex, tenant, &sess.at) {
        Ok(c) => Ok(c),
        Err(Pending::Need(io)) => return Err(Need(io)),
        Err(Pending::Fail(e)) => Err(e),
    };
    let needs_refresh = match &verified {
        Ok(c) => c.exp <= now.plus(REFRESH_EARLY_S),
        Err(TokenError::Expired { .. }) => true,
        Err(e) if e.is_internal() => return Ok(SessionClaims::Fault(format!("{e:?}"))),
        Err(_) => false,
    };
    if !needs_refresh {
        return Ok(match verified {
            Ok(claims) => SessionClaims::Valid {
                refresh_at: claims
                    .exp
                    .minus(REFRESH_EARLY_S)
                    .min(sess.exp)
                    .min(claims.valid_until),
                claims,
                set_cookies: vec![],
                auth: sess.auth.clone(),
                issued: sess.issued(),
            },
            Err(e) => {
                ex.log.detail = Some(format!("session token: {e:?}"));
                SessionClaims::Restart {
                    clear_cookies: clear,
                }
            }
        });
    }
    // Refresh without a redirect; a failed refresh falls back to a fresh login (no loop: the
    // login page is a page, not an automatic redirect).
    match refresh(engine, host, ex, tenant, org, &sess, &ring, secure) {
        Ok((claims, set_cookies)) => {
            ex.log.reasons.push("session_refreshed".into());
            Ok(SessionClaims::Valid {
                refresh_at: now,
                claims,
                set_cookies,
                auth: sess.auth.clone(),
                issued: sess.issued(),
            })
        }
        Err(Pending::Need(io)) => Err(Need(io)),
        Err(Pending::Fail(e)) => {
            ex.log.detail = Some(format!("refresh failed: {e}"));
            Ok(match verified {
                // Still valid (refresh was early): keep going, try again next request.
                Ok(claims) if claims.exp > now => SessionClaims::Valid {
                    refresh_at: now,
                    claims,
                    set_cookies: vec![],
                    auth: sess.auth.clone(),
                    issued: sess.issued(),
                },
                _ => SessionClaims::Restart {
                    clear_cookies: clear,
                },
            })
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn refresh(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    sess: &Sess,
    ring: &Keyring,
    secure: bool,
) -> Result<(Rc<VerifiedClaims>, Vec<String>), Pending<String>> {
    let rt = sess.rt.as_deref().ok_or("no refresh token").map_err(fail)?;
    let client = oidc::client(host, tenant, org).map_err(Pending::Fail)?;
    let disco = discover(engine, &ex.io, &client.issuer, ex.now)?;
    let resp = ex
        .io
        .fetch(
            oidc::refresh_request(&disco.token_endpoint, &client, rt),
            None,
        )?
        .map_err(|e| Pending::Fail(e.to_string()))?;
    let tokens = oidc::parse_token_response(&resp).map_err(Pending::Fail)?;
    let claims = verify(engine, host, ex, tenant, &tokens.access_token)
        .map_err(|p| p.map_fail(|e| format!("{e:?}")))?;
    // The refreshed token is read like any other: the issuer's preset, the org scoping rules.
    if !scope_to_org(&claims, org, tenant).is_ok_and(|p| p.membership == Membership::Member) {
        return Err(fail("refreshed token is for another organization"));
    }
    let new = Sess {
        org: org.org_id.clone(),
        at: tokens.access_token,
        rt: tokens.refresh_token.or_else(|| sess.rt.clone()),
        it: tokens.id_token.or_else(|| sess.it.clone()),
        exp: sess.exp,
        idp: None,
        auth: sess.auth.clone(),
        sid: sess.sid.clone(),
        signed_in: sess.signed_in,
    };
    let cookies =
        session_set_cookies(host, org, ring, &new, secure, ex.now, &jar(&ex.req)).map_err(fail)?;
    Ok((claims, cookies))
}

fn fail(e: impl Into<String>) -> Pending<String> {
    Pending::Fail(e.into())
}

/// The `Set-Cookie` lines that store `sess` (in chunks when large) and clear stale chunks.
pub(crate) fn session_set_cookies(
    host: &dyn Host,
    org: &OrgPolicy,
    ring: &Keyring,
    sess: &Sess,
    secure: bool,
    now: UnixSeconds,
    jar: &[(&str, &str)],
) -> Result<Vec<String>, String> {
    let plain = serde_json::to_vec(sess).map_err(|e| e.to_string())?;
    let sealed = seal(ring, &aad("session", org), &plain, random::<12>(host)?)
        .map_err(|e| format!("{e:?}"))?;
    let name = session_cookie_name(org, secure);
    let chunks = split_into_chunks(&name, &sealed, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNKS)
        .map_err(|e| format!("session cookie too large ({} bytes, max {})", e.len, e.max))?;
    let attrs = CookieAttrs::host_only(
        secure,
        Some(i64::try_from(sess.exp.since(now)).unwrap_or(i64::MAX)),
    );
    let clear_attrs = CookieAttrs::host_only(secure, None);
    let mut out: Vec<String> = chunks
        .iter()
        .map(|(n, v)| set_cookie(n, v, &attrs))
        .collect();
    for stale in stale_chunk_names(jar, &name, chunks.len()) {
        out.push(clear_cookie(&stale, &clear_attrs));
    }
    Ok(out)
}

/// `Set-Cookie` lines that clear this org's session cookie (every chunk the request carries).
pub fn clear_session_cookies(
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    req: &RequestView,
) -> Vec<String> {
    let Some(url) = req.url_parts() else {
        return Vec::new();
    };
    let secure = secure_cookies(tenant, &url);
    let name = session_cookie_name(org, secure);
    let attrs = CookieAttrs::host_only(secure, None);
    stale_chunk_names(&jar(req), &name, 0)
        .iter()
        .map(|n| clear_cookie(n, &attrs))
        .collect()
}

/// The request's session for `org`, if its cookie opens (expired or not).
pub(crate) fn open_session(
    host: &dyn Host,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    req: &RequestView,
    secure: bool,
) -> Option<Sess> {
    let name = session_cookie_name(org, secure);
    let sealed = join_chunks(&jar(req), &name)?;
    let ring = keyring(host, tenant).ok()?;
    let plain = open(&ring, &aad("session", org), &sealed).ok()?;
    serde_json::from_slice::<Sess>(&plain)
        .ok()
        .filter(|s| s.org == org.org_id)
}

impl Sess {
    /// Who signed in: the org IdP's subject, or the subject of the ID token this session was
    /// made from (verified at sign-in; the cookie is sealed, so it is still ours).
    pub(crate) fn subject(&self) -> Option<String> {
        if let Some(who) = &self.idp {
            return Some(who.sub.clone());
        }
        let payload = self.it.as_deref()?.split('.').nth(1)?;
        let bytes = crate::b64::decode(payload).ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        claims.get("sub")?.as_str().map(str::to_string)
    }
}
