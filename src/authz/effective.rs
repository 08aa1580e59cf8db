//! Which rule applies to a request: the tenant's base rule and the org's rule combined.
//!
//! Both tables are searched (most specific pattern wins inside each, see [`super::routes`]):
//! - only one matches: it applies;
//! - both match: **both** requirements must hold (an org adds and tightens), unless the org rule
//!   says `"loosen": true`, in which case it replaces the base rule;
//! - neither matches: the tenant's `unmatched` setting (deny by default).

use super::decision::Requirement;
use super::path::NormalizedPath;
use super::routes::{RouteLookup, RouteTable};
use crate::org::policy::{OrgPolicy, Rule, RuleUpstream, TenantPolicy, Unmatched};
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Refused whatever the caller holds; the reason code says why.
    Deny(&'static str),
    /// Shared with the compiled rule (no copy per request).
    Require(Rc<Requirement>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// Rule ids for logs: `base:admin`, `org:admin-2fa`, `base:admin+org:admin-2fa`, `unmatched`.
    pub rule: Rc<str>,
    pub access: Access,
    pub upstream: RuleUpstream,
    /// Origins whose cross-site requests may ride on the session cookie ([`super::isolation`]).
    /// When both layers match, an origin must be allowed by both (unless the org rule loosens).
    pub cross_site_origins: Vec<String>,
    /// Step-up requirements: each must hold (base and org rules both count unless the org
    /// loosens).
    pub step_up: Vec<Rc<crate::authz::step_up::StepUp>>,
    /// The route's own CORS policy: the org rule's, else the base rule's (`None`: the tenant's).
    pub cors: Option<Rc<crate::authz::cors::CorsPolicy>>,
}

type Hit = Option<Rc<Rule>>;

/// One table's answer; `Err(rule)` when the most specific pattern does not cover the method.
fn lookup(
    table: &RouteTable<Rc<Rule>>,
    method: &str,
    path: &NormalizedPath,
) -> Result<Hit, Rc<Rule>> {
    match table.lookup_strict(method, path) {
        RouteLookup::Matched(m) => Ok(Some(m.value.clone())),
        RouteLookup::MethodNotCovered { value, .. } => Err(value.clone()),
        RouteLookup::NoMatch => Ok(None),
    }
}

pub fn effective(
    tenant: &TenantPolicy,
    org: &OrgPolicy,
    method: &str,
    path: &NormalizedPath,
) -> Effective {
    let denied = |_layer: &str, r: &Rule| Effective {
        rule: r.label.clone(),
        access: Access::Deny("method_not_allowed"),
        upstream: RuleUpstream::Default,
        cross_site_origins: Vec::new(),
        step_up: Vec::new(),
        cors: r.cors.clone(),
    };
    let (base, own) = match (
        lookup(&tenant.base_routes, method, path),
        lookup(&org.routes, method, path),
    ) {
        (Ok(b), Ok(o)) => (b, o),
        (Err(r), _) => return denied("base", &r),
        (_, Err(r)) => return denied("org", &r),
    };
    match (base, own) {
        (None, None) => Effective {
            rule: Rc::from("unmatched"),
            access: match tenant.unmatched {
                Unmatched::Deny => Access::Deny("no_matching_rule"),
                Unmatched::Authenticated => Access::Require(Rc::new(Requirement::Authenticated)),
            },
            upstream: RuleUpstream::Default,
            cross_site_origins: Vec::new(),
            step_up: Vec::new(),
            cors: None,
        },
        (Some(b), None) => Effective {
            rule: b.label.clone(),
            access: Access::Require(b.requirement.clone()),
            upstream: b.upstream.clone(),
            cross_site_origins: b.cross_site_origins.clone(),
            step_up: b.step_up.iter().cloned().collect(),
            cors: b.cors.clone(),
        },
        (None, Some(o)) => Effective {
            rule: o.label.clone(),
            access: Access::Require(o.requirement.clone()),
            upstream: o.upstream.clone(),
            cross_site_origins: o.cross_site_origins.clone(),
            step_up: o.step_up.iter().cloned().collect(),
            cors: o.cors.clone(),
        },
        (Some(b), Some(o)) => {
            let upstream = if o.upstream == RuleUpstream::Default {
                b.upstream.clone()
            } else {
                o.upstream.clone()
            };
            let cross_site_origins = if o.loosen {
                o.cross_site_origins.clone()
            } else {
                b.cross_site_origins
                    .iter()
                    .filter(|x| o.cross_site_origins.contains(x))
                    .cloned()
                    .collect()
            };
            let requirement = if o.loosen {
                o.requirement.clone()
            } else {
                match (&*b.requirement, &*o.requirement) {
                    (Requirement::Public, _) => o.requirement.clone(),
                    (_, Requirement::Public) => b.requirement.clone(),
                    (x, y) if x == y => b.requirement.clone(),
                    (x, y) => Rc::new(Requirement::All(vec![x.clone(), y.clone()])),
                }
            };
            Effective {
                rule: Rc::from(format!("{}+{}", b.label, o.label)),
                access: Access::Require(requirement),
                upstream,
                cross_site_origins,
                step_up: if o.loosen {
                    o.step_up.iter().cloned().collect()
                } else {
                    b.step_up.iter().chain(o.step_up.iter()).cloned().collect()
                },
                cors: o.cors.clone().or_else(|| b.cors.clone()),
            }
        }
    }
}
