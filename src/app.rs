//! The pipeline: extract → resolve org → verify → authorize → forward | login | refuse.
//!
//! [`step`] is the core's one entry point. It is synchronous: given the request
//! ([`Exchange`]) and what the isolate holds ([`Engine`]), it returns [`Step::Done`] with the
//! decision and one decision-log line, or [`Step::Need`] naming the I/O it needs first (see
//! [`crate::io`]). Drivers loop: perform, record the answer, step again.
//!
//! Stages return their own results and errors (`Resolved`, `Credential`, `VerifiedClaims`,
//! `Principal`, `Decided`); `From` impls turn each error into [`Halt`], so this file reads as a
//! chain of `?`, and a refusal becomes HTTP in one place ([`render_refusal`]).

use crate::authz::cors::CorsPolicy;
use crate::authz::decision::{scope_to_org, Principal, Requirement};
use crate::authz::effective::{effective, Access, Effective};
use crate::authz::isolation::check_session_request;
use crate::authz::path::{normalize, NormalizedPath};
use crate::credential::{self, Credential};
use crate::engine::{CachedDecision, Decided, DecisionScope, Engine};
use crate::error::{internal, Halt, Refusal};
use crate::exchange::Exchange;
use crate::forward::{cookie_edit, identity_headers};
use crate::http::{Forward, Outcome, RequestView, ResponseView, Upstream};
use crate::io::{Effect, Io, Pending};
use crate::log::DecisionLog;
use crate::login;
use crate::org::policy::{OrgPolicy, RuleUpstream, TenantPolicy};
use crate::org::resolve::resolve;
use crate::org::{load_org, load_tenant};
use crate::ports::Host;
use crate::session::lifecycle::{
    secure_cookies, session_claims, session_cookie_name, SessionClaims,
};
use crate::time::UnixSeconds;
use crate::token::verify::verify_bound;
use crate::token::{AuthFacts, VerifiedClaims};
use std::rc::Rc;

/// Reserved paths orggate answers itself.
pub const RESERVED_PREFIX: &str = "/_orggate/";
pub const ASSERTION_JWKS_PATH: &str = "/.well-known/orggate/jwks.json";

/// The core's result for one request.
#[derive(Debug)]
pub struct Handled {
    pub outcome: Outcome,
    pub log: DecisionLog,
    /// Work for after the response (sharing key sets with other isolates).
    pub effects: Vec<Effect>,
}

/// What one call into the core produced.
#[derive(Debug)]
pub enum Step {
    Done(Box<Handled>),
    /// Perform this, record its answer in `ex.io`, and call [`step`] again.
    Need(Io),
    /// Pass these request headers too (the tenant's config reads them), and start again.
    NeedHeaders(Vec<String>),
}

/// `cf-ray` when Cloudflare sent one; otherwise a per-isolate random prefix and a counter (no
/// call into the platform's RNG on every request).
pub fn request_id(host: &dyn Host, engine: &Engine, req: &RequestView) -> String {
    if let Some(ray) = req
        .header("cf-ray")
        .filter(|r| r.len() <= 64 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return ray.to_string();
    }
    engine.next_request_id(|b| host.random(b).is_ok())
}

/// A new exchange for `req` at `now`.
pub fn begin(engine: &Engine, host: &dyn Host, req: RequestView, now: UnixSeconds) -> Exchange {
    let id = request_id(host, engine, &req);
    Exchange::new(req, now, id)
}

/// Runs the pipeline on what is known so far. Never panics; every failure becomes a refusal
/// with a reason.
pub fn step(engine: &Engine, host: &dyn Host, ex: &mut Exchange) -> Step {
    ex.reset_for_replay();
    let outcome = match pipeline(engine, host, ex) {
        Ok(o) => o,
        Err(Halt::Need(io)) => {
            if ex.out_of_round_trips() {
                let r = internal(format!("more than {} round trips", ex.round_trips));
                ex.log.refused(&r);
                Outcome::Respond(render_refusal(&r, ex))
            } else {
                ex.round_trips += 1;
                return Step::Need(io);
            }
        }
        Err(Halt::NeedHeaders(names)) => return Step::NeedHeaders(names),
        Err(Halt::Refuse(r)) => {
            ex.log.refused(&r);
            Outcome::Respond(render_refusal(&r, ex))
        }
    };
    let outcome = with_cors(ex, outcome);
    let mut log = std::mem::take(&mut ex.log);
    log.status = match &outcome {
        Outcome::Respond(r) => r.status,
        Outcome::Forward(_) => 0,
    };
    Step::Done(Box::new(Handled {
        outcome,
        log,
        effects: ex.io.take_effects(),
    }))
}

/// CORS headers for the request's `Origin` on every answer (refusals too, so a page on another
/// origin can read why), unless the answer is a preflight that carries its own.
fn with_cors(ex: &Exchange, outcome: Outcome) -> Outcome {
    let Some(policy) = ex.cors.as_deref().filter(|_| !ex.cors_answered) else {
        return outcome;
    };
    let origin = ex.req.header("origin");
    match outcome {
        Outcome::Respond(mut r) => {
            let challenge = r.get_header("www-authenticate").is_some();
            r.headers.extend(policy.response_headers(origin, challenge));
            Outcome::Respond(r)
        }
        Outcome::Forward(mut f) => {
            f.response_headers
                .extend(policy.response_headers(origin, false));
            Outcome::Forward(f)
        }
    }
}

/// The method a CORS preflight asks about (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`), or `None` for any other request.
fn preflight_method(req: &RequestView) -> Option<String> {
    if req.method != "OPTIONS" || req.header("origin").is_none() {
        return None;
    }
    req.header("access-control-request-method")
        .filter(|m| !m.is_empty() && m.len() <= 32 && m.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(str::to_string)
}

/// Answers a preflight from `policy`, without a token.
fn answer_preflight(
    ex: &mut Exchange,
    policy: &CorsPolicy,
    method: &str,
    rule: &str,
) -> Result<Outcome, Halt> {
    ex.cors_answered = true;
    let origin = ex.req.header("origin").unwrap_or("");
    match policy.preflight(
        origin,
        method,
        ex.req.header("access-control-request-headers"),
    ) {
        Ok(r) => {
            ex.log.allow(vec!["cors_preflight".into()]);
            Ok(Outcome::Respond(r))
        }
        Err(why) => {
            ex.log.detail = Some(why.detail());
            Err(Refusal::Forbidden {
                rule: rule.to_string(),
                reason: "cors_preflight_refused",
                missing: vec![],
            }
            .into())
        }
    }
}

/// The one place a refusal becomes a response: the branded page for browsers, JSON for APIs.
fn render_refusal(r: &Refusal, ex: &Exchange) -> ResponseView {
    let org = ex.org.as_deref();
    if ex.req.wants_html() {
        let brand = login::page::Brand::of(org, ex.tenant.as_deref());
        login::page::refusal_page(r, &brand, &ex.request_id)
    } else {
        r.to_json(org.map(|o| o.org_id.as_str()), &ex.request_id)
    }
}

fn pipeline(engine: &Engine, host: &dyn Host, ex: &mut Exchange) -> Result<Outcome, Halt> {
    let Some(url) = ex.req.url_parts() else {
        return Err(Refusal::BadRequest { reason: "bad_url" }.into());
    };
    let raw_path = url.path.to_string();
    let host_name = url.host.to_string();
    let tenant = load_tenant(engine, &ex.io, ex.now)?;
    if let Some(provided) = &ex.provided_extras {
        let needed = tenant.extra_headers();
        if needed.iter().any(|n| !provided.contains(n)) {
            return Err(Halt::NeedHeaders(needed));
        }
    }
    ex.tenant = Some(tenant.clone());
    ex.cors = tenant.cors.clone();
    engine.init_shared_mac(|| shared_cache_mac(host, &tenant));

    if raw_path == ASSERTION_JWKS_PATH {
        return assertion_jwks(engine, host, &tenant);
    }

    // Normalize once; match and forward the same thing (authz::path).
    let path = normalize(&raw_path).map_err(|e| Refusal::BadRequest { reason: e.reason() })?;

    // Which org?
    let header = tenant
        .resolution
        .header
        .as_deref()
        .and_then(|h| ex.req.header(h))
        .map(str::to_string);
    let resolved = match resolve(
        engine,
        &ex.io,
        ex.now,
        &tenant,
        &host_name,
        &path,
        header.as_deref(),
    ) {
        Ok(r) => r,
        Err(Pending::Need(io)) => return Err(Halt::Need(io)),
        Err(Pending::Fail(e)) => {
            if let (Some(m), Some(policy)) = (preflight_method(&ex.req), tenant.cors.clone()) {
                // The real request gets the refusal, readable under the tenant's policy.
                return answer_preflight(ex, &policy, &m, "tenant");
            }
            if let crate::org::resolve::ResolveError::Load { org_id, .. } = &e {
                // This org fails closed; every other org keeps working.
                ex.log.org = org_id.clone();
            }
            return Err(Refusal::from(e).into());
        }
    };
    let mut path = path;
    if let Some(r) = &resolved {
        ex.org = Some(r.org.clone());
        ex.log.org = Some(r.org.org_id.clone());
        ex.log.resolved_via = Some(r.via);
        // Strip a `/o/{org}` prefix before anything else looks at the path.
        if r.strip_segments > 0 {
            ex.base = path
                .segments()
                .take(r.strip_segments)
                .fold(String::new(), |acc, s| format!("{acc}/{s}"));
            path = path.strip_prefix_segments(r.strip_segments);
        }
    }

    // orggate's own endpoints: login, callback, logout (org may be None: the org prompt).
    if path.as_str().starts_with(RESERVED_PREFIX)
        || path.as_str() == RESERVED_PREFIX.trim_end_matches('/')
    {
        // Login pages and callbacks are navigations, never read cross-origin.
        ex.cors = None;
        return login::handle_reserved(engine, host, ex, &tenant, &path);
    }

    let Some(org) = ex.org.clone() else {
        if let (Some(m), Some(policy)) = (preflight_method(&ex.req), tenant.cors.clone()) {
            // No org to take a route from (yet): the tenant's policy answers.
            return answer_preflight(ex, &policy, &m, "tenant");
        }
        if tenant.resolution.token_org {
            return token_org_request(engine, host, ex, &tenant, &path);
        }
        if ex.req.wants_html() && tenant.login.is_some() && path.as_str() == "/" {
            // The tenant's own host: ask which organization.
            let brand = login::page::Brand::tenant(&tenant);
            return Ok(Outcome::Respond(login::page::org_prompt(&brand, None)));
        }
        return Err(Refusal::UnknownOrg.into());
    };
    authorize_and_forward(engine, host, ex, &tenant, &org, &path, None)
}

/// Single-host APIs: the org comes from the verified token itself.
fn token_org_request(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    path: &NormalizedPath,
) -> Result<Outcome, Halt> {
    let raw = match credential::bearer(&ex.req, tenant.token_header.as_deref()) {
        credential::Bearer::Token(t) => t.to_string(),
        credential::Bearer::Invalid(_) => {
            return Err(Refusal::Unauthenticated {
                reason: "malformed_credentials",
                invalid_token: true,
            }
            .into())
        }
        credential::Bearer::None => {
            return Err(Refusal::Unauthenticated {
                reason: "no_credentials",
                invalid_token: false,
            }
            .into())
        }
    };
    let claims = verify_logged(engine, host, ex, tenant, &raw, None)?;
    let Some(org_id) = claims.identity.org_id.clone() else {
        return Err(Refusal::Unauthenticated {
            reason: "missing_org_claim",
            invalid_token: true,
        }
        .into());
    };
    let org =
        load_org(engine, &ex.io, tenant, &org_id, ex.now)?.ok_or(Refusal::Unauthenticated {
            reason: "unknown_org",
            invalid_token: true,
        })?;
    ex.org = Some(org.clone());
    ex.log.org = Some(org.org_id.clone());
    ex.log.resolved_via = Some("token");
    authorize_and_forward(engine, host, ex, tenant, &org, path, Some((raw, claims)))
}

/// Verifies a token (bound to the DPoP key `binding` when given) and notes the subject (or the
/// token error) in the log.
fn verify_logged(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    raw: &str,
    binding: Option<&str>,
) -> Result<Rc<VerifiedClaims>, Halt> {
    match verify_bound(engine, host, ex, tenant, raw, binding) {
        Ok(c) => {
            ex.log.subject = c
                .identity
                .subject
                .clone()
                .or_else(|| c.identity.client_id.clone());
            Ok(c)
        }
        Err(Pending::Need(io)) => Err(Halt::Need(io)),
        Err(Pending::Fail(e)) => {
            ex.log.detail = Some(format!("{e:?}"));
            Err(e.into())
        }
    }
}

/// Route rule → credential → (decision cache | verify → org scoping → requirement) → forward.
fn authorize_and_forward(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &Rc<OrgPolicy>,
    path: &NormalizedPath,
    verified: Option<(String, Rc<VerifiedClaims>)>,
) -> Result<Outcome, Halt> {
    // A preflight is matched with the method it asks about, and answered from the route's CORS
    // policy (else the tenant's) without a token; with no policy it is an OPTIONS request like
    // any other.
    let preflight = preflight_method(&ex.req);
    let mut eff = effective(
        tenant,
        org,
        preflight.as_deref().unwrap_or(&ex.req.method),
        path,
    );
    if eff.cors.is_some() {
        ex.cors = eff.cors.clone();
    }
    if let Some(m) = &preflight {
        if let Some(policy) = ex.cors.clone() {
            ex.log.rule = Some(eff.rule.to_string());
            return answer_preflight(ex, &policy, m, &eff.rule);
        }
        eff = effective(tenant, org, &ex.req.method, path);
    }
    ex.log.rule = Some(eff.rule.to_string());
    let requirement = match &eff.access {
        Access::Deny(reason) => {
            return Err(Refusal::Forbidden {
                rule: eff.rule.to_string(),
                reason,
                missing: vec![],
            }
            .into())
        }
        Access::Require(r) => r.clone(),
    };
    if *requirement == Requirement::Public {
        ex.log.allow(vec!["public".into()]);
        return Ok(Outcome::Forward(build_forward(
            tenant,
            org,
            ex,
            path,
            &eff,
            None,
            Vec::new(),
        )?));
    }

    // The credential: the token already verified (token-org APIs), or the request's own.
    let session_name = || {
        tenant.login.as_ref().and_then(|_| {
            ex.req
                .url_parts()
                .map(|u| session_cookie_name(org, secure_cookies(tenant, &u)))
        })
    };
    let found = owned(match &verified {
        Some((raw, _)) => Credential::Bearer(raw),
        None => credential::find(&ex.req, tenant, org, session_name),
    });
    let is_session = matches!(found, OwnedCredential::Session(_));
    if is_session {
        // Cookies ride along on requests from sibling org hosts (same site, so SameSite=Lax
        // still sends them): resource isolation (authz::isolation).
        if let Err(x) = check_session_request(&ex.req, &ex.origin(), &eff.cross_site_origins) {
            ex.log.detail = Some(x.detail);
            return Err(Refusal::Forbidden {
                rule: eff.rule.to_string(),
                reason: "cross_site_request",
                missing: vec![],
            }
            .into());
        }
    }
    let text = match &found {
        OwnedCredential::Bearer(t)
        | OwnedCredential::Session(t)
        | OwnedCredential::Query(t)
        | OwnedCredential::Dpop { token: t, .. } => t.clone(),
        OwnedCredential::Invalid(why) => {
            ex.log.detail = Some((*why).to_string());
            return Err(Refusal::Unauthenticated {
                reason: "malformed_credentials",
                invalid_token: true,
            }
            .into());
        }
        OwnedCredential::None => {
            if ex.req.wants_html() && tenant.login.is_some() {
                ex.log.deny(vec!["no_session".into()]);
                return Ok(Outcome::Respond(login::redirect_to_login(ex, path)));
            }
            return Err(Refusal::Unauthenticated {
                reason: "no_credentials",
                invalid_token: false,
            }
            .into());
        }
    };

    // DPoP: the proof first (RFC 9449 §4.3), on every request; its key binds the token.
    let binding = match &found {
        OwnedCredential::Dpop { token, proof } => {
            let url = ex
                .req
                .url_parts()
                .ok_or(Refusal::BadRequest { reason: "bad_url" })?;
            let accepted = ex.dpop_accepted.as_deref() == Some(proof.as_str());
            match crate::token::dpop::check_proof(
                engine,
                &ex.io,
                proof,
                token,
                &ex.req.method,
                &url,
                ex.now,
                accepted,
            ) {
                Ok(p) => {
                    ex.dpop_accepted = Some(proof.clone());
                    Some(p.jkt)
                }
                Err(Pending::Need(io)) => return Err(Halt::Need(io)),
                Err(Pending::Fail(e)) => {
                    ex.log.detail = Some(e.detail());
                    return Err(Refusal::Unauthenticated {
                        reason: "invalid_dpop_proof",
                        invalid_token: true,
                    }
                    .into());
                }
            }
        }
        _ => None,
    };

    // A credential seen before in this scope: the decision is already known.
    let scope = DecisionScope {
        org_id: org.org_id.clone(),
        tenant_version: tenant.version,
        org_version: org.version,
        method: ex.req.method.clone(),
        rule: eff.rule.clone(),
        binding: binding.clone(),
    };
    if let Some(decided) = engine.decision_get(&text, &scope, ex.now) {
        return apply_decision(
            engine,
            host,
            ex,
            tenant,
            org,
            path,
            &eff,
            &decided,
            Vec::new(),
            matches!(found, OwnedCredential::Session(_)),
        );
    }

    // The full path: verify (or open the session), scope to the org, check the requirement.
    let mut response_headers = Vec::new();
    let is_session = matches!(found, OwnedCredential::Session(_));
    let (principal, valid_until, key) = match (&found, verified) {
        (_, Some((_, c))) => scoped(tenant, org, &c, None),
        (OwnedCredential::Session(sealed), None) => {
            match session_claims(engine, host, ex, tenant, org, sealed)? {
                SessionClaims::Valid {
                    claims,
                    set_cookies,
                    refresh_at,
                    auth,
                    issued,
                } => {
                    response_headers.extend(
                        set_cookies
                            .into_iter()
                            .map(|c| ("set-cookie".to_string(), c)),
                    );
                    ex.log.subject = claims.identity.subject.clone();
                    let (p, until, key) = scoped(tenant, org, &claims, Some((auth, issued)));
                    (p, until.min(refresh_at), key)
                }
                // An org-IdP session: scoped at login.
                SessionClaims::Member { principal, until } => (Ok(principal), until, None),
                SessionClaims::Restart { clear_cookies } => {
                    ex.log.deny(vec!["session_expired".into()]);
                    let mut r = login::redirect_to_login(ex, path);
                    r.headers.extend(
                        clear_cookies
                            .into_iter()
                            .map(|c| ("set-cookie".to_string(), c)),
                    );
                    return Ok(Outcome::Respond(r));
                }
                SessionClaims::Fault(detail) => return Err(Refusal::Internal { detail }.into()),
            }
        }
        (_, None) => {
            let c = verify_logged(engine, host, ex, tenant, &text, binding.as_deref())?;
            scoped(tenant, org, &c, None)
        }
    };
    let (decided, bound) = judge(tenant, principal, &requirement, &eff, ex.now);
    let decided = Rc::new(decided);
    // Remember the decision for this exact credential, unless this response refreshes the
    // session (its new cookie is the credential from now on).
    if response_headers.is_empty() {
        engine.decision_put(
            &text,
            CachedDecision {
                scope,
                valid_until: valid_until.min(bound),
                key,
                decided: decided.clone(),
            },
            ex.now,
        );
    }
    if is_session {
        if let Some(r) = step_up_login(tenant, ex, path, &decided) {
            return Ok(Outcome::Respond(r));
        }
    }
    apply_decision(
        engine,
        host,
        ex,
        tenant,
        org,
        path,
        &eff,
        &decided,
        response_headers,
        is_session,
    )
}

type Scoped = (
    Result<Rc<Principal>, Refusal>,
    UnixSeconds,
    Option<(String, [u8; 32])>,
);

/// Verified claims scoped to the org: the principal (or why not), until when the claims hold,
/// and the key that verified them. `session`: what a session kept from its sign-in: the ID
/// token's authentication facts (for an access token that carries none), when it began and its
/// IdP session (the revocation check reads those, not the refreshed access token's `iat`).
fn scoped(
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    claims: &Rc<VerifiedClaims>,
    session: Option<(AuthFacts, crate::revoke::Issued)>,
) -> Scoped {
    let principal = scope_to_org(claims, org, tenant)
        .map(|mut p| {
            if let Some((a, issued)) = session {
                if p.auth == AuthFacts::default() {
                    p.auth = a;
                }
                p.issued.at = issued.at;
                p.issued.sid = issued.sid;
            }
            Rc::new(p)
        })
        .map_err(|e| Refusal::Unauthenticated {
            reason: e.reason(),
            invalid_token: true,
        });
    let key = claims.key_thumbprint.map(|t| (claims.issuer.clone(), t));
    (principal, claims.valid_until, key)
}

/// The requirement, then step-up: everything a repeated credential does not need again. Also
/// returns until when the verdict holds (a step-up's `max_age` runs out).
fn judge(
    tenant: &TenantPolicy,
    principal: Result<Rc<Principal>, Refusal>,
    requirement: &Requirement,
    eff: &Effective,
    now: UnixSeconds,
) -> (Decided, UnixSeconds) {
    let principal = match principal {
        Ok(p) => p,
        Err(r) => return (Decided::Refused(r), UnixSeconds::NEVER_ENDS),
    };
    if let Err(missing) = requirement.check(&principal) {
        let r = Refusal::Forbidden {
            rule: eff.rule.to_string(),
            reason: "missing_requirement",
            missing,
        };
        return (Decided::Refused(r), UnixSeconds::NEVER_ENDS);
    }
    let mut until = UnixSeconds::NEVER_ENDS;
    for su in &eff.step_up {
        if let Err(i) = su.check(&principal, now) {
            let r = Refusal::StepUp {
                acr_values: i.acr_values,
                max_age: i.max_age,
                amr: su.amr.join(" "),
                why: i.why,
            };
            return (Decided::Refused(r), UnixSeconds::NEVER_ENDS);
        }
        until = until.min(su.until(&principal));
    }
    let d = Decided::Allowed {
        identity_headers: identity_headers(&tenant.header_prefix, &principal).into(),
        principal,
    };
    (d, until)
}

/// A browser whose session falls short of a route's step-up signs in again, asking the IdP for
/// what the route needs (RFC 9470 §4). The callback checks that the IdP delivered it, so a
/// provider that cannot never causes a redirect loop.
fn step_up_login(
    tenant: &TenantPolicy,
    ex: &mut Exchange,
    path: &NormalizedPath,
    decided: &Decided,
) -> Option<ResponseView> {
    let Decided::Refused(Refusal::StepUp {
        acr_values,
        max_age,
        amr,
        why,
    }) = decided
    else {
        return None;
    };
    if !(ex.req.wants_html() && tenant.login.is_some() && ex.req.method == "GET") {
        return None;
    }
    ex.log.deny(vec!["step_up".into(), (*why).to_string()]);
    Some(login::redirect_to_step_up(
        ex,
        path,
        acr_values.as_deref(),
        *max_age,
        amr,
    ))
}

/// A credential's text, owned (the request view stays borrowable by the stages after this).
enum OwnedCredential {
    Bearer(String),
    Dpop { token: String, proof: String },
    Session(String),
    Query(String),
    None,
    Invalid(&'static str),
}

fn owned(c: Credential<'_>) -> OwnedCredential {
    match c {
        Credential::Bearer(t) => OwnedCredential::Bearer(t.to_string()),
        Credential::Dpop { token, proof } => OwnedCredential::Dpop {
            token: token.to_string(),
            proof: proof.to_string(),
        },
        Credential::Session(s) => OwnedCredential::Session(s),
        Credential::Query(q) => OwnedCredential::Query(q),
        Credential::None => OwnedCredential::None,
        Credential::Invalid(w) => OwnedCredential::Invalid(w),
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_decision(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    path: &NormalizedPath,
    eff: &Effective,
    decided: &Decided,
    response_headers: Vec<(String, String)>,
    is_session: bool,
) -> Result<Outcome, Halt> {
    let (principal, identity) = match decided {
        Decided::Refused(r) => return Err(r.clone().into()),
        Decided::Allowed {
            principal,
            identity_headers,
        } => (principal, identity_headers),
    };
    // Revoked since it was issued? Checked on every request, cached decision or not.
    if let Some(why) =
        crate::revoke::principal_revoked(engine, &ex.io, tenant, org, principal, ex.now)?
    {
        ex.log.detail = Some(why.to_string());
        if is_session && ex.req.wants_html() && tenant.login.is_some() {
            ex.log.deny(vec!["revoked".into()]);
            let mut r = login::redirect_to_login(ex, path);
            r.headers.extend(
                crate::session::lifecycle::clear_session_cookies(tenant, org, &ex.req)
                    .into_iter()
                    .map(|c| ("set-cookie".to_string(), c)),
            );
            return Ok(Outcome::Respond(r));
        }
        return Err(Refusal::Unauthenticated {
            reason: "revoked",
            invalid_token: true,
        }
        .into());
    }
    ex.log.allow(vec![format!("satisfied:{}", eff.rule)]);
    ex.log.caller = Some(principal.caller.as_str());
    if ex.log.subject.is_none() {
        ex.log.subject = principal
            .subject
            .clone()
            .or_else(|| principal.client_id.clone());
    }
    let mut fwd = build_forward(tenant, org, ex, path, eff, Some(identity), response_headers)?;
    if let Some(a) = &tenant.assertion {
        let key = host
            .secret(&a.secret)
            .ok_or_else(|| format!("secret {} is not set", a.secret))
            .and_then(|s| engine.assertion_key(&a.kid, s.expose()))
            .map_err(internal)?;
        let aud = a.audience.clone().unwrap_or_else(|| match &fwd.upstream {
            Upstream::Origin(o) => o.clone(),
            Upstream::Assets => ex.origin(),
        });
        let token = key.sign(principal, "orggate", &aud, ex.now, a.ttl, &ex.request_id);
        fwd.set_headers
            .push((format!("{}assertion", tenant.header_prefix), token));
    }
    Ok(Outcome::Forward(fwd))
}

/// The key that authenticates JWKS entries shared through the Cache API: derived from the
/// session keyring or the assertion key secret, whichever is configured.
fn shared_cache_mac(host: &dyn Host, tenant: &TenantPolicy) -> Option<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let name = tenant
        .login
        .as_ref()
        .map(|l| l.session_keys.clone())
        .or_else(|| tenant.assertion.as_ref().map(|a| a.secret.clone()))?;
    let secret = host.secret(&name)?;
    let mut h = Sha256::new();
    h.update(b"orggate/jwks-shared-cache/v1\0");
    h.update(secret.expose().as_bytes());
    Some(h.finalize().into())
}

fn build_forward(
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    ex: &Exchange,
    path: &NormalizedPath,
    eff: &Effective,
    identity: Option<&Rc<[(String, String)]>>,
    mut response_headers: Vec<(String, String)>,
) -> Result<Forward, Halt> {
    let url = ex
        .req
        .url_parts()
        .ok_or(Refusal::BadRequest { reason: "bad_url" })?;
    let upstream = match &eff.upstream {
        RuleUpstream::Assets => Upstream::Assets,
        RuleUpstream::Origin(o) => Upstream::Origin(o.clone()),
        RuleUpstream::Default => Upstream::Origin(
            org.origin
                .clone()
                .or_else(|| tenant.origin.clone())
                .unwrap_or_else(|| url.origin()),
        ),
    };
    let mut set_headers = Vec::with_capacity(16);
    let mut strip_names: Option<Vec<String>> = None;
    match cookie_edit(ex.req.header_all("cookie")) {
        None => {}
        Some(Some(kept)) => set_headers.push(("cookie".to_string(), kept)),
        Some(None) => {
            let mut names = tenant.strip_names.to_vec();
            names.push("cookie".into());
            strip_names = Some(names);
        }
    }
    if identity.is_some() {
        set_headers.push((
            format!("{}request-id", tenant.header_prefix),
            ex.request_id.clone(),
        ));
        // Gated content is per-user: never let a shared cache keep it.
        response_headers.push(("cache-control".into(), "private, no-store".into()));
        response_headers.push(("vary".into(), "Cookie, Authorization".into()));
    }
    // A query token never travels on to the origin's logs.
    let query = match url.query {
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
    let target = match &upstream {
        Upstream::Origin(o) => format!("{o}{}{query}", path.as_str()),
        // Static sites live under /sites/{org_name}/ in the assets binding.
        Upstream::Assets => format!(
            "{}/sites/{}{}{query}",
            url.origin(),
            org.name,
            path.as_str()
        ),
    };
    Ok(Forward {
        upstream,
        url: target,
        strip_prefixes: tenant.strip_prefixes.clone(),
        strip_names: match strip_names {
            Some(n) => n.into(),
            None => tenant.strip_names.clone(),
        },
        identity: identity.cloned().unwrap_or_else(|| Rc::from(Vec::new())),
        set_headers,
        response_headers,
        no_client_headers: false,
    })
}

fn assertion_jwks(
    engine: &Engine,
    host: &dyn Host,
    tenant: &TenantPolicy,
) -> Result<Outcome, Halt> {
    let Some(a) = &tenant.assertion else {
        return Ok(Outcome::Respond(ResponseView::json(
            404,
            &serde_json::json!({"error": "not_found", "reason": "assertions_disabled"}),
        )));
    };
    let secret = host
        .secret(&a.secret)
        .ok_or_else(|| internal(format!("secret {} is not set", a.secret)))?;
    let key = engine
        .assertion_key(&a.kid, secret.expose())
        .map_err(internal)?;
    let mut r = ResponseView::json(200, &key.jwks());
    r.headers.retain(|(n, _)| n != "cache-control");
    Ok(Outcome::Respond(
        r.header("cache-control", "public, max-age=300"),
    ))
}
