//! Browser login: the branded page ([`page`]), the OIDC authorization code flow with PKCE
//! ([`oidc`], [`pkce`]), return-path checks ([`redirect`]) and the session cookie
//! ([`crate::session`]).

pub mod page;
pub mod pkce;
pub mod redirect;

use crate::app::Ctx;
use crate::authz::path::NormalizedPath;
use crate::engine::Engine;
use crate::error::Refusal;
use crate::http::{Outcome, ResponseView};
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::ports::Ports;
use crate::token::VerifiedClaims;
use std::rc::Rc;

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

/// The session's token, verified like any bearer token.
pub async fn session_claims<P: Ports>(
    _ports: &P,
    _engine: &Engine,
    _tenant: &TenantPolicy,
    _org: &OrgPolicy,
    _ctx: &mut Ctx<'_>,
) -> SessionClaims {
    SessionClaims::None
}

/// 302 to the org's login page, remembering where the user was going.
pub fn redirect_to_login(ctx: &Ctx<'_>, path: &NormalizedPath) -> ResponseView {
    let mut ret = path.as_str().to_string();
    if let Some(q) = ctx.url.query {
        ret.push('?');
        ret.push_str(q);
    }
    let ret = redirect::safe_return_path(&ret).unwrap_or_else(|| "/".into());
    ResponseView::redirect(&format!(
        "/_orggate/login?return_to={}",
        page::url_encode(&ret)
    ))
}

/// `/_orggate/*`: login page, start, callback, logout.
pub async fn handle_reserved<P: Ports>(
    _ports: &P,
    _engine: &Engine,
    _tenant: &TenantPolicy,
    org: Option<Rc<OrgPolicy>>,
    _ctx: &mut Ctx<'_>,
    _path: &NormalizedPath,
) -> Result<Outcome, (Refusal, Option<Rc<OrgPolicy>>)> {
    Err((Refusal::UnknownOrg, org))
}
