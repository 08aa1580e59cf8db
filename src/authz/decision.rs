//! Requirements, the principal they are checked against, and decisions that carry their reasons
//! (Pomerium's `RuleResult { value, reasons }`): every deny names the rule and what was missing.

use crate::org::config::{RawCaller, RawNames, RawRequire};
use crate::org::policy::{ConfigError, MultiOrgPermissions, OrgPolicy, TenantPolicy};
use crate::time::UnixSeconds;
use crate::token::{CallerKind, VerifiedClaims};
use std::rc::Rc;

/// What a route asks of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// No token needed; identity headers are stripped and none are added.
    Public,
    /// Any verified member of the org.
    Authenticated,
    Permission(String),
    Role(String),
    Scope(String),
    Caller(CallerKind),
    All(Vec<Requirement>),
    Any(Vec<Requirement>),
}

impl Requirement {
    /// Compiles a rule's `require`: `"public"`, `"authenticated"`, `{"permissions": ["a","b"]}`
    /// (all of them), `{"permissions": {"any": [...]}}`, same for `roles` and `scopes`,
    /// `{"caller": "client"}`, and nesting with `{"all": [...]}` / `{"any": [...]}`. What serde
    /// cannot refuse is refused here: empty lists (they would match everyone), empty names and
    /// a nested `"public"`.
    pub fn parse(path: &str, raw: &RawRequire) -> Result<Requirement, ConfigError> {
        let nested = |key: &str, items: &[RawRequire]| {
            let p = format!("{path}.{key}");
            if items.is_empty() {
                return Err(ConfigError::new(&p, "a non-empty array of requirements"));
            }
            let reqs = items
                .iter()
                .enumerate()
                .map(|(i, r)| Requirement::parse(&format!("{p}[{i}]"), r))
                .collect::<Result<Vec<_>, _>>()?;
            if reqs.contains(&Requirement::Public) {
                return Err(ConfigError::new(&p, "\"public\" cannot be nested"));
            }
            Ok(reqs)
        };
        let names = |key: &str, names: &RawNames, make: fn(String) -> Requirement| {
            let p = format!("{path}.{key}");
            let (all, list) = match names {
                RawNames::All(l) => (true, l),
                RawNames::Any(l) => (false, l),
            };
            if list.is_empty() {
                return Err(ConfigError::new(&p, "an empty list would match everyone"));
            }
            if let Some(i) = list.iter().position(String::is_empty) {
                return Err(ConfigError::new(format!("{p}[{i}]"), "a non-empty string"));
            }
            let mut items: Vec<Requirement> = list.iter().cloned().map(make).collect();
            Ok(match (items.len(), all) {
                (1, _) => items.remove(0),
                (_, true) => Requirement::All(items),
                (_, false) => Requirement::Any(items),
            })
        };
        Ok(match raw {
            RawRequire::Public => Requirement::Public,
            RawRequire::Authenticated => Requirement::Authenticated,
            RawRequire::All(items) => Requirement::All(nested("all", items)?),
            RawRequire::Any(items) => Requirement::Any(nested("any", items)?),
            RawRequire::Permissions(n) => names("permissions", n, Requirement::Permission)?,
            RawRequire::Roles(n) => names("roles", n, Requirement::Role)?,
            RawRequire::Scopes(n) => names("scopes", n, Requirement::Scope)?,
            RawRequire::Caller(RawCaller::User) => Requirement::Caller(CallerKind::User),
            RawRequire::Caller(RawCaller::Client) => Requirement::Caller(CallerKind::Client),
        })
    }

    /// Checks the requirement; `Err` lists what is missing, e.g. `permission:write:reports`.
    pub fn check(&self, p: &Principal) -> Result<(), Vec<String>> {
        match self {
            Requirement::Public | Requirement::Authenticated => Ok(()),
            Requirement::Permission(x) => has(&p.permissions, x, "permission"),
            Requirement::Role(x) => has(&p.roles, x, "role"),
            Requirement::Scope(x) => has(&p.scopes, x, "scope"),
            Requirement::Caller(k) => {
                if p.caller == *k {
                    Ok(())
                } else {
                    Err(vec![format!("caller:{}", k.as_str())])
                }
            }
            Requirement::All(rs) => {
                let mut missing: Vec<String> = Vec::new();
                for m in rs.iter().filter_map(|r| r.check(p).err()).flatten() {
                    if !missing.contains(&m) {
                        missing.push(m);
                    }
                }
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(missing)
                }
            }
            Requirement::Any(rs) => {
                let mut missing = Vec::new();
                for r in rs {
                    match r.check(p) {
                        Ok(()) => return Ok(()),
                        Err(m) => missing.extend(m),
                    }
                }
                Err(vec![format!("any_of({})", missing.join("|"))])
            }
        }
    }
}

fn has(list: &[String], x: &str, kind: &str) -> Result<(), Vec<String>> {
    if list.iter().any(|p| p == x) {
        Ok(())
    } else {
        Err(vec![format!("{kind}:{x}")])
    }
}

/// A caller proven to act for one organization: built only from [`VerifiedClaims`] by
/// [`scope_to_org`]. Authorization sees nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: String,
    pub org_name: String,
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub caller: CallerKind,
    pub email: Option<String>,
    pub permissions: Vec<String>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    /// How the caller belongs to the org (sent to the origin: a personal account is not a member).
    pub membership: Membership,
    pub token_exp: UnixSeconds,
    /// How and when the person authenticated (route step-up checks).
    pub auth: crate::token::AuthFacts,
    /// When and as what the credential was issued (revocation checks).
    pub issued: crate::revoke::Issued,
}

/// How a principal belongs to the addressed organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// The token's active org is this org (by id, or by name where allowed).
    Member,
    /// A multi-org token that lists this org but is active in another.
    Listed,
    /// A client id this org lists in `m2m_clients`.
    AllowedClient,
    /// No org claim; the org allows personal accounts. Not a member.
    Personal,
}

impl Membership {
    pub fn as_str(self) -> &'static str {
        match self {
            Membership::Member => "member",
            Membership::Listed => "listed",
            Membership::AllowedClient => "allowed_client",
            Membership::Personal => "personal",
        }
    }
}

impl Principal {
    /// The token had no org claim and the org allows personal accounts: not a member.
    pub fn is_personal(&self) -> bool {
        self.membership == Membership::Personal
    }
}

/// Why a verified token may not act for the addressed organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    /// The token is for another organization.
    OrgMismatch,
    /// The token names no organization and this org does not allow personal accounts.
    MissingOrg,
    /// The token's issuer may not speak for this org (`issuers[].orgs` / org `issuers`).
    IssuerNotAllowed,
}

impl ScopeError {
    pub fn reason(&self) -> &'static str {
        match self {
            ScopeError::OrgMismatch => "org_mismatch",
            ScopeError::MissingOrg => "missing_org_claim",
            ScopeError::IssuerNotAllowed => "issuer_not_allowed",
        }
    }
}

/// Does this identity name `org` as its active organization? `org_id` compares exactly;
/// `org_name` only when the org allows it and no id is given (Auth0: ids are preferred, names
/// compare after lowercasing the expected value).
pub fn names_org(id: &crate::token::Identity, org: &OrgPolicy) -> bool {
    let name_ok = |n: &str| n.to_ascii_lowercase() == org.name;
    match (&id.org_id, &id.org_name) {
        (Some(i), name) => *i == org.org_id && name.as_deref().is_none_or(name_ok),
        (None, Some(n)) => org.allow_org_name_match && name_ok(n),
        (None, None) => false,
    }
}

/// Auth0's guidance for APIs: the token's organization must be the one the request addresses.
/// `org_id` compares exactly; `org_name` only when the org allows it, case-insensitively against
/// the org's (lowercase) name.
pub fn scope_to_org(
    claims: &Rc<VerifiedClaims>,
    org: &OrgPolicy,
    tenant: &TenantPolicy,
) -> Result<Principal, ScopeError> {
    let id = &claims.identity;
    // First: may this issuer speak for this org at all? An org's own IdP is trusted for that org
    // only when the config says so; otherwise it could mint tokens naming any other org.
    let issuer_ok = tenant
        .issuer(&claims.issuer)
        .is_some_and(|i| i.orgs.as_ref().is_none_or(|o| o.contains(&org.org_id)))
        && org
            .issuers
            .as_ref()
            .is_none_or(|l| l.contains(&claims.issuer));
    if !issuer_ok {
        return Err(ScopeError::IssuerNotAllowed);
    }
    let by_id = id.org_id.as_deref() == Some(org.org_id.as_str());
    let by_name = org.allow_org_name_match
        && id.org_id.is_none()
        && id
            .org_name
            .as_deref()
            .is_some_and(|n| n.to_ascii_lowercase() == org.name);
    // A present org_name must agree too (Auth0: validate org_name when present), whether or not
    // name matching is on: a token naming two different orgs is trusted for neither.
    let name_conflict = by_id
        && id
            .org_name
            .as_deref()
            .is_some_and(|n| n.to_ascii_lowercase() != org.name);
    let multi = tenant
        .issuer(&claims.issuer)
        .and_then(|i| i.multi_org.as_ref());
    let listed = multi.is_some()
        && id.member_of.iter().any(|m| {
            *m == org.org_id || (org.allow_org_name_match && m.to_ascii_lowercase() == org.name)
        });
    let client_allowed = id.caller == Some(CallerKind::Client)
        && id.org_id.is_none()
        && id
            .client_id
            .as_deref()
            .is_some_and(|c| org.m2m_clients.iter().any(|a| a == c));
    let no_org_claim = id.org_id.is_none() && id.org_name.is_none() && id.member_of.is_empty();
    // An issuer bound to exactly one org (`issuers[].orgs: ["org_x"]`, an org's own IdP) implies
    // that org: its tokens need no org claim (and the issuer check above already refused every
    // other org).
    let implied = no_org_claim
        && tenant
            .issuer(&claims.issuer)
            .and_then(|i| i.orgs.as_deref())
            .is_some_and(|o| o.len() == 1 && o[0] == org.org_id);

    let membership = if name_conflict {
        return Err(ScopeError::OrgMismatch);
    } else if by_id || by_name || implied {
        Membership::Member
    } else if client_allowed {
        Membership::AllowedClient
    } else if listed {
        Membership::Listed
    } else if no_org_claim && org.allow_personal_accounts {
        Membership::Personal
    } else if no_org_claim {
        return Err(ScopeError::MissingOrg);
    } else {
        return Err(ScopeError::OrgMismatch);
    };
    // Multi-org: rights (permissions, roles and scopes) travel with the active org only, unless
    // configured otherwise; a personal account brings none.
    let rights_apply = match membership {
        Membership::Member | Membership::AllowedClient => true,
        Membership::Listed => {
            multi.is_some_and(|m| m.permissions == MultiOrgPermissions::AllListedOrgs)
        }
        Membership::Personal => false,
    };
    Ok(Principal {
        org_id: org.org_id.clone(),
        org_name: org.name.clone(),
        subject: id.subject.clone(),
        client_id: id.client_id.clone(),
        caller: id.caller.unwrap_or(CallerKind::User),
        email: id.email.clone(),
        permissions: if rights_apply {
            id.permissions.clone()
        } else {
            Vec::new()
        },
        roles: if rights_apply {
            id.roles.clone()
        } else {
            Vec::new()
        },
        scopes: if rights_apply {
            id.scopes.clone()
        } else {
            Vec::new()
        },
        membership,
        token_exp: claims.exp,
        auth: id.auth.clone(),
        issued: crate::revoke::Issued {
            jti: match claims.claims.get("jti") {
                Some(serde_json::Value::String(j)) => Some(j.clone()),
                _ => None,
            },
            at: crate::token::verify::numeric(&claims.claims, "iat")
                .ok()
                .flatten(),
            // Session-bound access tokens (Keycloak, Clerk, WorkOS) name their IdP session: a
            // back-channel logout of that session refuses them too.
            sid: match claims.claims.get("sid") {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                _ => None,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::Requirement::{self, *};
    use crate::token::CallerKind;

    fn compile(json: &str) -> Result<Requirement, String> {
        let raw = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Requirement::parse("$", &raw).map_err(|e| e.to_string())
    }

    fn p(s: &str) -> Requirement {
        Permission(s.into())
    }

    /// Each spelling compiles to what it says: lists mean all of them unless they say `any`.
    #[test]
    fn every_shape_compiles_to_its_meaning() {
        let cases = [
            (r#""public""#, Public),
            (r#""authenticated""#, Authenticated),
            (r#"{"permissions":["a"]}"#, p("a")),
            (r#"{"permissions":["a","b"]}"#, All(vec![p("a"), p("b")])),
            (
                r#"{"permissions":{"all":["a","b"]}}"#,
                All(vec![p("a"), p("b")]),
            ),
            (
                r#"{"permissions":{"any":["a","b"]}}"#,
                Any(vec![p("a"), p("b")]),
            ),
            (
                r#"{"roles":{"any":["r","s"]}}"#,
                Any(vec![Role("r".into()), Role("s".into())]),
            ),
            (r#"{"scopes":["x"]}"#, Scope("x".into())),
            (r#"{"caller":"client"}"#, Caller(CallerKind::Client)),
            (r#"{"caller":"user"}"#, Caller(CallerKind::User)),
            (
                r#"{"any":[{"permissions":["a"]},"authenticated"]}"#,
                Any(vec![p("a"), Authenticated]),
            ),
            (
                r#"{"all":[{"permissions":["a"]},{"caller":"user"}]}"#,
                All(vec![p("a"), Caller(CallerKind::User)]),
            ),
        ];
        for (json, want) in cases {
            assert_eq!(compile(json), Ok(want), "{json}");
        }
    }

    /// Words are strings and objects have exactly one key: nothing else reads as a requirement
    /// (`{"public": null}` would be a public rule that does not look like one).
    #[test]
    fn other_spellings_are_refused() {
        for json in [
            r#"{"public":null}"#,
            r#"{"authenticated":null}"#,
            r#"{"caller":{"user":null}}"#,
            r#"{}"#,
            r#"{"permissions":{"all":["a"],"any":["b"]}}"#,
            r#"{"permissions":["a"],"roles":["b"]}"#,
            r#"{"permissions":{}}"#,
            r#"{"all":["public"]}"#,
            r#"{"any":[]}"#,
            r#"{"permissions":[]}"#,
            r#"{"permissions":[""]}"#,
            r#""Public""#,
            "null",
            "true",
        ] {
            assert!(
                compile(json).is_err(),
                "{json} compiled: {:?}",
                compile(json)
            );
        }
    }
}
