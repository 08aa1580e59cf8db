//! The pipeline: extract → resolve org → verify → authorize → forward | login | refuse.
//!
//! [`handle`] is the core's one entry point: a plain [`RequestView`] and the ports in, an
//! [`Outcome`] and one [`DecisionLog`] line out. The edge only converts and calls it.

use crate::authz::decision::{scope_to_org, Principal, Requirement};
use crate::authz::effective::{effective, Access};
use crate::authz::isolation::check_session_request;
use crate::authz::path::{normalize, NormalizedPath};
use crate::engine::Engine;
use crate::error::Refusal;
use crate::forward::{identity_headers, sanitized_headers};
use crate::http::{Forward, Outcome, RequestView, ResponseView, Upstream, UrlParts};
use crate::log::DecisionLog;
use crate::login;
use crate::org::policy::{OrgPolicy, RuleUpstream, TenantPolicy};
use crate::org::resolve::{addressed, path_or_header, OrgRef};
use crate::org::{load_org, load_tenant, lookup_alias, LoadError};
use crate::ports::{Clock, Ports, Rng, Secrets};
use crate::token::extract::{bearer, Bearer};
use crate::token::{verify, TokenError, VerifiedClaims};
use std::rc::Rc;

/// Reserved paths orggate answers itself.
pub const RESERVED_PREFIX: &str = "/_orggate/";
pub const ASSERTION_JWKS_PATH: &str = "/.well-known/orggate/jwks.json";

/// The core's result for one request.
#[derive(Debug)]
pub struct Handled {
    pub outcome: Outcome,
    pub log: DecisionLog,
}

/// Per-request context threaded through the pipeline.
pub struct Ctx<'a> {
    pub req: &'a RequestView,
    pub url: UrlParts<'a>,
    pub now: u64,
    pub request_id: String,
    pub log: DecisionLog,
    /// `/o/acme` when the org came from a path prefix (links and cookies live under it), else "".
    pub base: String,
}

/// `cf-ray` when Cloudflare sent one; otherwise a per-isolate random prefix and a counter (no
/// call into the platform's RNG on every request).
pub fn request_id<P: Ports>(ports: &P, engine: &Engine, req: &RequestView) -> String {
    if let Some(ray) = req
        .header("cf-ray")
        .filter(|r| r.len() <= 64 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return ray.to_string();
    }
    engine.next_request_id(|b| ports.rng().fill(b).is_ok())
}

/// Handles one request. Never panics; every failure becomes a refusal with a reason.
pub async fn handle<P: Ports>(ports: &P, engine: &Engine, req: &RequestView) -> Handled {
    let started = ports.clock().now_ms();
    engine.set_now_ms(started);
    let request_id = request_id(ports, engine, req);
    let mut log = DecisionLog::new(&request_id, &req.method);
    let Some(url) = req.url_parts() else {
        let r = Refusal::BadRequest { reason: "bad_url" };
        log.refused(&r);
        return Handled {
            outcome: Outcome::Respond(r.to_json(None, &request_id)),
            log,
        };
    };
    let mut ctx = Ctx {
        req,
        url,
        now: started / 1000,
        request_id,
        log,
        base: String::new(),
    };
    let result = pipeline(ports, engine, &mut ctx).await;
    let outcome = match result {
        Ok(o) => o,
        Err((refusal, org)) => {
            ctx.log.refused(&refusal);
            Outcome::Respond(render_refusal(&refusal, org.as_deref(), &ctx))
        }
    };
    let mut log = ctx.log;
    log.status = match &outcome {
        Outcome::Respond(r) => r.status,
        Outcome::Forward(_) => 0,
    };
    log.latency_ms = ports.clock().now_ms().saturating_sub(started);
    Handled { outcome, log }
}

type Fail = (Refusal, Option<Rc<OrgPolicy>>);

fn render_refusal(r: &Refusal, org: Option<&OrgPolicy>, ctx: &Ctx<'_>) -> ResponseView {
    if ctx.req.wants_html() {
        login::page::refusal_page(r, org, &ctx.request_id)
    } else {
        r.to_json(org.map(|o| o.org_id.as_str()), &ctx.request_id)
    }
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    Refusal::Internal {
        detail: e.to_string(),
    }
}

async fn pipeline<P: Ports>(
    ports: &P,
    engine: &Engine,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, Fail> {
    let tenant = load_tenant(ports, engine, ctx.now)
        .await
        .map_err(|e| (internal(e), None))?;

    engine.init_shared_mac(|| shared_cache_mac(ports, &tenant));

    if ctx.url.path == ASSERTION_JWKS_PATH {
        return assertion_jwks(ports, engine, &tenant).map_err(|r| (r, None));
    }

    // Normalize once; match and forward the same thing (authz::path).
    let path =
        normalize(ctx.url.path).map_err(|e| (Refusal::BadRequest { reason: e.reason() }, None))?;

    // Which org?
    let org = resolve_org(ports, engine, &tenant, ctx, &path).await?;

    // Strip a `/o/{org}` prefix before anything else looks at the path.
    let path = match &org {
        Some((_, strip)) if *strip > 0 => {
            ctx.base = path
                .segments()
                .take(*strip)
                .fold(String::new(), |acc, s| format!("{acc}/{s}"));
            path.strip_prefix_segments(*strip)
        }
        _ => path,
    };

    // orggate's own endpoints: login, callback, logout (org may be None: the org prompt).
    if path.as_str().starts_with(RESERVED_PREFIX)
        || path.as_str() == RESERVED_PREFIX.trim_end_matches('/')
    {
        return login::handle_reserved(
            ports,
            engine,
            &tenant,
            org.as_ref().map(|(o, _)| o.clone()),
            ctx,
            &path,
        )
        .await;
    }

    let Some((org, _)) = org else {
        if tenant.resolution.token_org {
            return token_org_request(ports, engine, &tenant, ctx, &path).await;
        }
        if ctx.req.wants_html() && tenant.login.is_some() && path.as_str() == "/" {
            // The tenant's own host: ask which organization.
            return Ok(Outcome::Respond(login::page::org_prompt(None)));
        }
        return Err((Refusal::UnknownOrg, None));
    };
    ctx.log.org = Some(org.org_id.clone());
    authorize_and_forward(ports, engine, &tenant, org, ctx, &path, None).await
}

/// Resolves the org named by host, path or header; `Ok(None)` when nothing names one.
async fn resolve_org<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
    path: &NormalizedPath,
) -> Result<Option<(Rc<OrgPolicy>, usize)>, Fail> {
    let header = tenant
        .resolution
        .header
        .as_deref()
        .and_then(|h| ctx.req.header(h));
    let Some(mut addr) = addressed(tenant, ctx.url.host, path, header) else {
        return Ok(None);
    };
    let load_err = |e: LoadError| (internal(e), None);
    let org_id = loop {
        let key = match &addr.org {
            OrgRef::Name(n) => format!("name:{n}"),
            OrgRef::Host(h) => format!("host:{h}"),
            OrgRef::Id(id) => break Some(Rc::new(id.clone())),
        };
        match lookup_alias(ports, engine, tenant, &key, ctx.now)
            .await
            .map_err(load_err)?
        {
            Some(id) => break Some(id),
            None if matches!(addr.org, OrgRef::Host(_)) => {
                match path_or_header(tenant, path, header) {
                    Some(next) => addr = next,
                    None => return Ok(None),
                }
            }
            None => break None,
        }
    };
    let Some(org_id) = org_id else {
        return Err((Refusal::UnknownOrg, None));
    };
    ctx.log.resolved_via = Some(addr.via);
    match load_org(ports, engine, tenant, &org_id, ctx.now).await {
        Ok(Some(org)) => Ok(Some((org, addr.strip_segments))),
        Ok(None) => Err((Refusal::UnknownOrg, None)),
        Err(e) => {
            // This org fails closed; every other org keeps working.
            ctx.log.org = Some(org_id.to_string());
            Err((internal(e), None))
        }
    }
}

/// Single-host APIs: the org comes from the verified token itself.
async fn token_org_request<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
    path: &NormalizedPath,
) -> Result<Outcome, Fail> {
    let claims = match bearer(ctx.req, tenant.token_header.as_deref()) {
        Bearer::Token(t) => verify_token(ports, engine, tenant, ctx, t)
            .await
            .map_err(|r| (r, None))?,
        Bearer::Invalid(_) => {
            return Err((
                Refusal::Unauthenticated {
                    reason: "malformed_credentials",
                    invalid_token: true,
                },
                None,
            ))
        }
        Bearer::None => {
            return Err((
                Refusal::Unauthenticated {
                    reason: "no_credentials",
                    invalid_token: false,
                },
                None,
            ))
        }
    };
    let Some(org_id) = claims.identity.org_id.clone() else {
        return Err((
            Refusal::Unauthenticated {
                reason: "missing_org_claim",
                invalid_token: true,
            },
            None,
        ));
    };
    let org = match load_org(ports, engine, tenant, &org_id, ctx.now).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return Err((
                Refusal::Unauthenticated {
                    reason: "unknown_org",
                    invalid_token: true,
                },
                None,
            ))
        }
        Err(e) => return Err((internal(e), None)),
    };
    ctx.log.org = Some(org.org_id.clone());
    ctx.log.resolved_via = Some("token");
    authorize_and_forward(ports, engine, tenant, org, ctx, path, Some(claims)).await
}

async fn verify_token<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    ctx: &mut Ctx<'_>,
    raw: &str,
) -> Result<Rc<VerifiedClaims>, Refusal> {
    match verify(ports, engine, tenant, raw).await {
        Ok(c) => {
            ctx.log.subject = c
                .identity
                .subject
                .clone()
                .or_else(|| c.identity.client_id.clone());
            Ok(c)
        }
        Err(e) => {
            ctx.log.detail = Some(format!("{e:?}"));
            Err(token_refusal(&e))
        }
    }
}

pub fn token_refusal(e: &TokenError) -> Refusal {
    if e.is_internal() {
        Refusal::Internal {
            detail: format!("{e:?}"),
        }
    } else {
        Refusal::Unauthenticated {
            reason: e.reason(),
            invalid_token: true,
        }
    }
}

/// Route rule → credentials → org scoping → requirement → forward.
pub async fn authorize_and_forward<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    org: Rc<OrgPolicy>,
    ctx: &mut Ctx<'_>,
    path: &NormalizedPath,
    claims: Option<Rc<VerifiedClaims>>,
) -> Result<Outcome, Fail> {
    let eff = effective(tenant, &org, &ctx.req.method, path);
    ctx.log.rule = Some(eff.rule.clone());
    let requirement = match eff.access {
        Access::Deny(reason) => {
            return Err((
                Refusal::Forbidden {
                    rule: eff.rule,
                    reason,
                    missing: vec![],
                },
                Some(org),
            ))
        }
        Access::Require(r) => r,
    };
    let upstream = match &eff.upstream {
        RuleUpstream::Assets => Upstream::Assets,
        RuleUpstream::Origin(o) => Upstream::Origin(o.clone()),
        RuleUpstream::Default => Upstream::Origin(
            org.origin
                .clone()
                .or_else(|| tenant.origin.clone())
                .unwrap_or_else(|| ctx.url.origin()),
        ),
    };
    if requirement == Requirement::Public {
        ctx.log.allow(vec!["public".into()]);
        return Ok(Outcome::Forward(build_forward(
            tenant,
            &org,
            ctx,
            path,
            upstream,
            None,
            Vec::new(),
        )));
    }

    // Credentials: bearer header, then the session cookie (browsers), then ?access_token= if the
    // org opted in (RFC 6750 §2.3).
    let mut response_headers = Vec::new();
    let claims = match claims {
        Some(c) => c,
        None => match bearer(ctx.req, tenant.token_header.as_deref()) {
            Bearer::Token(t) => verify_token(ports, engine, tenant, ctx, t)
                .await
                .map_err(|r| (r, Some(org.clone())))?,
            Bearer::Invalid(_) => {
                return Err((
                    Refusal::Unauthenticated {
                        reason: "malformed_credentials",
                        invalid_token: true,
                    },
                    Some(org),
                ))
            }
            Bearer::None => match login::session_claims(ports, engine, tenant, &org, ctx).await {
                login::SessionClaims::Valid {
                    claims,
                    set_cookies,
                } => {
                    // Cookies ride along on requests from sibling org hosts (same site, so
                    // SameSite=Lax still sends them): resource isolation (authz::isolation).
                    if let Err(x) =
                        check_session_request(ctx.req, &ctx.url.origin(), &eff.cross_site_origins)
                    {
                        ctx.log.detail = Some(x.detail);
                        return Err((
                            Refusal::Forbidden {
                                rule: eff.rule,
                                reason: "cross_site_request",
                                missing: vec![],
                            },
                            Some(org),
                        ));
                    }
                    response_headers.extend(
                        set_cookies
                            .into_iter()
                            .map(|c| ("set-cookie".to_string(), c)),
                    );
                    claims
                }
                login::SessionClaims::None => match query_token(&org, ctx) {
                    Some(t) => verify_token(ports, engine, tenant, ctx, &t)
                        .await
                        .map_err(|r| (r, Some(org.clone())))?,
                    None => {
                        if ctx.req.wants_html() && tenant.login.is_some() {
                            ctx.log.deny(vec!["no_session".into()]);
                            return Ok(Outcome::Respond(login::redirect_to_login(ctx, path)));
                        }
                        return Err((
                            Refusal::Unauthenticated {
                                reason: "no_credentials",
                                invalid_token: false,
                            },
                            Some(org),
                        ));
                    }
                },
                login::SessionClaims::Restart { clear_cookies } => {
                    ctx.log.deny(vec!["session_expired".into()]);
                    let mut r = login::redirect_to_login(ctx, path);
                    r.headers.extend(
                        clear_cookies
                            .into_iter()
                            .map(|c| ("set-cookie".to_string(), c)),
                    );
                    return Ok(Outcome::Respond(r));
                }
                login::SessionClaims::Fault(detail) => {
                    return Err((Refusal::Internal { detail }, Some(org)))
                }
            },
        },
    };

    let principal = scope_to_org(&claims, &org, tenant).map_err(|e| {
        (
            Refusal::Unauthenticated {
                reason: e.reason(),
                invalid_token: true,
            },
            Some(org.clone()),
        )
    })?;
    if let Err(missing) = requirement.check(&principal) {
        return Err((
            Refusal::Forbidden {
                rule: eff.rule,
                reason: "missing_requirement",
                missing,
            },
            Some(org),
        ));
    }
    ctx.log.allow(vec![format!("satisfied:{}", eff.rule)]);
    ctx.log.caller = Some(principal.caller.as_str());
    let mut fwd = build_forward(
        tenant,
        &org,
        ctx,
        path,
        upstream,
        Some(&principal),
        response_headers,
    );
    if let Some(a) = &tenant.assertion {
        let key = ports
            .secrets()
            .secret(&a.secret)
            .ok_or_else(|| format!("secret {} is not set", a.secret))
            .and_then(|s| engine.assertion_key(&a.kid, &s))
            .map_err(|d| (Refusal::Internal { detail: d }, Some(org.clone())))?;
        let aud = a.audience.clone().unwrap_or_else(|| match &fwd.upstream {
            Upstream::Origin(o) => o.clone(),
            Upstream::Assets => ctx.url.origin(),
        });
        let token = key.sign(&principal, "orggate", &aud, ctx.now, a.ttl, &ctx.request_id);
        fwd.headers
            .push((format!("{}assertion", tenant.header_prefix), token));
    }
    Ok(Outcome::Forward(fwd))
}

/// The key that authenticates JWKS entries shared through the Cache API: derived from the
/// session keyring or the assertion key secret, whichever is configured.
fn shared_cache_mac<P: Ports>(ports: &P, tenant: &TenantPolicy) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let name = tenant
        .login
        .as_ref()
        .map(|l| l.session_keys.clone())
        .or_else(|| tenant.assertion.as_ref().map(|a| a.secret.clone()))?;
    let secret = ports.secrets().secret(&name)?;
    let mut h = Sha256::new();
    h.update(b"orggate/jwks-shared-cache/v1\0");
    h.update(secret.as_bytes());
    Some(h.finalize().into())
}

fn query_token(org: &OrgPolicy, ctx: &Ctx<'_>) -> Option<String> {
    if !org.allow_query_token {
        return None;
    }
    let q = ctx.url.query?;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("access_token="))
        .filter(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_string)
}

fn build_forward(
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    ctx: &Ctx<'_>,
    path: &NormalizedPath,
    upstream: Upstream,
    principal: Option<&Principal>,
    mut response_headers: Vec<(String, String)>,
) -> Forward {
    let mut headers = sanitized_headers(tenant, &ctx.req.headers);
    if let Some(p) = principal {
        headers.extend(identity_headers(tenant, p, &ctx.request_id));
        // Gated content is per-user: never let a shared cache keep it.
        response_headers.push(("cache-control".into(), "private, no-store".into()));
        response_headers.push(("vary".into(), "Cookie, Authorization".into()));
    }
    // A query token never travels on to the origin's logs.
    let query = match ctx.url.query {
        Some(q) if q.split('&').any(|kv| kv.starts_with("access_token=")) => {
            let kept: Vec<&str> = q
                .split('&')
                .filter(|kv| !kv.starts_with("access_token="))
                .collect();
            if kept.is_empty() {
                String::new()
            } else {
                format!("?{}", kept.join("&"))
            }
        }
        Some(q) => format!("?{q}"),
        None => String::new(),
    };
    let url = match &upstream {
        Upstream::Origin(o) => format!("{o}{}{query}", path.as_str()),
        // Static sites live under /sites/{org_name}/ in the assets binding.
        Upstream::Assets => format!(
            "{}/sites/{}{}{query}",
            ctx.url.origin(),
            org.name,
            path.as_str()
        ),
    };
    Forward {
        upstream,
        method: ctx.req.method.clone(),
        url,
        headers,
        response_headers,
    }
}

fn assertion_jwks<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
) -> Result<Outcome, Refusal> {
    let Some(a) = &tenant.assertion else {
        return Ok(Outcome::Respond(ResponseView::json(
            404,
            &serde_json::json!({"error": "not_found", "reason": "assertions_disabled"}),
        )));
    };
    let secret = ports
        .secrets()
        .secret(&a.secret)
        .ok_or_else(|| internal(format!("secret {} is not set", a.secret)))?;
    let key = engine.assertion_key(&a.kid, &secret).map_err(internal)?;
    let mut r = ResponseView::json(200, &key.jwks());
    r.headers.retain(|(n, _)| n != "cache-control");
    Ok(Outcome::Respond(
        r.header("cache-control", "public, max-age=300"),
    ))
}
