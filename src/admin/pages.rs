//! The admin pages: `GET /_orggate/admin` (name, branding and sign-in domains, in the org's
//! branding, no JavaScript), `POST /_orggate/admin` (its forms), `GET /_orggate/admin/audit`.
//! The same operations as the JSON API, through the same writer.
//!
//! Forms that change state carry a token bound to the org and the signed-in admin (an HMAC
//! under the session secret) and, like every cookie-borne request, pass the same-origin check
//! ([`crate::authz::isolation`]) before this code runs.

use super::state::{self, Actor};
use super::{adopt, run, verify_domain};
use crate::engine::Engine;
use crate::error::{Halt, Refusal};
use crate::exchange::Exchange;
use crate::http::{query_param, Outcome, ResponseView};
use crate::login::page::Brand;
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::ports::Host;
use askama::Template;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

struct DomainRow {
    domain: String,
    verified: bool,
    txt_name: String,
    txt_value: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminHtml<'a> {
    brand: &'a Brand<'a>,
    message: Option<String>,
    action: String,
    audit_url: String,
    csrf: String,
    revision: u64,
    display_name: String,
    logo_url: String,
    primary: String,
    page_background: String,
    domains: Vec<DomainRow>,
    actor: &'a str,
}

struct AuditRow {
    when: String,
    who: String,
    op: String,
    changes: Vec<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditHtml<'a> {
    brand: &'a Brand<'a>,
    rows: Vec<AuditRow>,
    newer: Option<String>,
    older: Option<String>,
    back_url: String,
}

/// The form token: HMAC-SHA-256 under the session secret of the org and the admin.
fn csrf(
    host: &dyn Host,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    actor: &Actor,
) -> Result<String, Halt> {
    let name = tenant
        .login
        .as_ref()
        .map(|l| l.session_keys.as_str())
        .ok_or_else(|| crate::login::fault("the admin pages need login (a session)"))?;
    let secret = host
        .secret(name)
        .ok_or_else(|| crate::login::fault(format!("secret {name} is not set")))?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .map_err(|e| crate::login::fault(e.to_string()))?;
    mac.update(format!("admin-csrf\0{}\0{}", org.org_id, actor.subject).as_bytes());
    Ok(crate::b64::encode(&mac.finalize().into_bytes()))
}

fn page(status: u16, html: String, brand: &Brand<'_>) -> Outcome {
    Outcome::Respond(
        crate::login::page::styled_page(status, html, &brand.style)
            .header("cache-control", "no-store"),
    )
}

fn iso(t: u64) -> String {
    // Days from the civil-from-days algorithm (proleptic Gregorian, UTC).
    let (days, secs) = ((t / 86_400) as i64, t % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn handle(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    actor: Actor,
    method: &str,
    endpoint: &str,
) -> Result<Outcome, Halt> {
    let brand = Brand::org(org);
    let base = format!("{}/_orggate/admin", ex.base);
    match (method, endpoint) {
        ("GET", "/admin/audit") => {
            let page_no: u64 = query_param(ex.req.url_parts().and_then(|u| u.query), "page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let (status, body) = run(ex, org, &state::Command::Audit { page: page_no })?;
            if status != 200 {
                return Err(Refusal::Internal {
                    detail: body.to_string(),
                }
                .into());
            }
            let rows = body["entries"]
                .as_array()
                .map(|es| {
                    es.iter()
                        .map(|e| AuditRow {
                            when: iso(e["at"].as_u64().unwrap_or(0)),
                            who: format!(
                                "{} ({})",
                                e["actor"]["subject"].as_str().unwrap_or("?"),
                                e["actor"]["role"].as_str().unwrap_or("?")
                            ),
                            op: e["op"].as_str().unwrap_or("?").to_string(),
                            changes: e["changes"]
                                .as_array()
                                .map(|cs| {
                                    cs.iter()
                                        .map(|c| {
                                            format!(
                                                "{}: {} → {}",
                                                c["path"].as_str().unwrap_or("?"),
                                                c["before"],
                                                c["after"]
                                            )
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let total = body["total"].as_u64().unwrap_or(0);
            let html = AuditHtml {
                brand: &brand,
                rows,
                newer: (page_no > 0).then(|| format!("{base}/audit?page={}", page_no - 1)),
                older: ((page_no + 1) * state::AUDIT_PAGE < total)
                    .then(|| format!("{base}/audit?page={}", page_no + 1)),
                back_url: base.clone(),
            }
            .render()
            .unwrap_or_default();
            ex.log.allow(vec!["admin_audit_page".into()]);
            Ok(page(200, html, &brand))
        }
        ("POST", "/admin") => {
            let form = ex.req.body.clone().unwrap_or_default();
            let f = |name: &str| query_param(Some(&form), name).unwrap_or_default();
            let token = csrf(host, tenant, org, &actor)?;
            if !crate::login::pkce::constant_time_eq(f("csrf").as_bytes(), token.as_bytes()) {
                ex.log.deny(vec!["admin_csrf".into()]);
                return Err(Refusal::Forbidden {
                    rule: "orggate:admin".into(),
                    reason: "bad_form_token",
                    missing: vec![],
                }
                .into());
            }
            let revision = f("revision").parse().ok();
            let (status, body) = match f("action").as_str() {
                "branding" => {
                    let mut branding = json!({"colors": {
                        "primary": f("primary"), "page_background": f("page_background")}});
                    let logo = f("logo_url");
                    branding["logo_url"] = if logo.trim().is_empty() {
                        Value::Null
                    } else {
                        json!(logo.trim())
                    };
                    let patch =
                        json!({"display_name": f("display_name").trim(), "branding": branding});
                    if let Err((path, message)) = super::tenant_allows(tenant, actor.role, &patch) {
                        (
                            400,
                            json!({"error": "not_allowed_by_tenant", "path": path, "message": message}),
                        )
                    } else {
                        let command = state::Command::Patch {
                            if_match: revision,
                            patch,
                            actor: actor.clone(),
                            now: ex.now,
                        };
                        let (s, b) = run(ex, org, &command)?;
                        if s == 200 {
                            adopt(engine, tenant, &org.org_id, &b, ex.now);
                        }
                        (s, b)
                    }
                }
                "add_domain" => {
                    let domain = f("domain").trim().to_ascii_lowercase();
                    let command = state::Command::AddDomain {
                        token: super::domain_token(ex, org, &domain),
                        domain,
                        actor: actor.clone(),
                        now: ex.now,
                    };
                    run(ex, org, &command)?
                }
                "verify_domain" => {
                    verify_domain(engine, ex, tenant, org, &f("domain"), actor.clone())?
                }
                _ => (400, json!({"error": "unknown_action"})),
            };
            if status == 200 {
                ex.log.allow(vec![format!("admin_form_{}", f("action"))]);
                return Ok(Outcome::Respond(
                    ResponseView::new(303)
                        .header("location", format!("{base}?saved={}", f("action"))),
                ));
            }
            ex.log.deny(vec![format!("admin_form_{status}")]);
            let message = match (status, body["error"].as_str()) {
                (412, _) => "Someone else changed these settings meanwhile. Here they are now; make your change again.".to_string(),
                (_, Some("txt_record_not_found")) => "The DNS record was not found yet. Publish it, wait a little, and try again.".to_string(),
                (_, Some("domain_taken")) => "Another organization has already verified that domain.".to_string(),
                (_, Some("invalid_domain")) => "That is not a domain name like example.com.".to_string(),
                (_, Some("not_allowed_by_tenant")) => format!(
                    "Not saved: {}.",
                    body["message"].as_str().unwrap_or("not allowed")
                ),
                (_, Some(e)) => format!(
                    "Not saved: {e}{}",
                    body["path"].as_str().map(|p| format!(" at {p}")).unwrap_or_default()
                ),
                _ => "Not saved.".to_string(),
            };
            render_admin(ex, host, tenant, org, &actor, status, Some(message))
        }
        ("GET", "/admin") => {
            let message = query_param(ex.req.url_parts().and_then(|u| u.query), "saved").map(|a| {
                match a.as_str() {
                    "branding" => "Saved. Pages show the change within a minute.",
                    "add_domain" => "Domain added. Publish its DNS record, then verify it.",
                    "verify_domain" => "Domain verified.",
                    _ => "Saved.",
                }
                .to_string()
            });
            ex.log.allow(vec!["admin_page".into()]);
            render_admin(ex, host, tenant, org, &actor, 200, message)
        }
        _ => Err(Refusal::BadRequest {
            reason: "method_not_allowed",
        }
        .into()),
    }
}

fn render_admin(
    ex: &mut Exchange,
    host: &dyn Host,
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    actor: &Actor,
    status: u16,
    message: Option<String>,
) -> Result<Outcome, Halt> {
    let (s, body) = run(ex, org, &state::Command::Get { now: ex.now })?;
    if s != 200 {
        return Err(Refusal::Internal {
            detail: body.to_string(),
        }
        .into());
    }
    // The writer's copy, which may be newer than this isolate's compiled one.
    let doc = &body["document"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let brand = Brand::org(org);
    let html = AdminHtml {
        brand: &brand,
        message,
        action: format!("{}/_orggate/admin", ex.base),
        audit_url: format!("{}/_orggate/admin/audit", ex.base),
        csrf: csrf(host, tenant, org, actor)?,
        revision: body["revision"].as_u64().unwrap_or(0),
        display_name: text(&doc["display_name"]),
        logo_url: text(&doc["branding"]["logo_url"]),
        primary: doc["branding"]["colors"]["primary"]
            .as_str()
            .unwrap_or(&org.branding.primary)
            .to_string(),
        page_background: doc["branding"]["colors"]["page_background"]
            .as_str()
            .unwrap_or(&org.branding.page_background)
            .to_string(),
        domains: body["domains"]
            .as_array()
            .map(|ds| {
                ds.iter()
                    .map(|d| DomainRow {
                        domain: text(&d["domain"]),
                        verified: d["verified"] == true,
                        txt_name: text(&d["txt_name"]),
                        txt_value: text(&d["txt_value"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        actor: &actor.subject,
    }
    .render()
    .unwrap_or_default();
    Ok(page(status, html, &brand))
}
