//! Logins through an org's **own** identity provider (`login.idp`: the customer's Okta, Entra ID,
//! Google Workspace, Keycloak...). Such an IdP knows nothing of organizations, so:
//!
//! - the org is **implied by the IdP**: the IdP is bound to that one org; no claim names it;
//! - the identity comes from the ID token, and from userinfo when configured (OIDC Core 5.3):
//!   `sub`, `email` (used only when `email_verified` is true), `name`, and whatever the org's
//!   claim rules read (`groups`, ...);
//! - an org may admit only users whose verified email is in its domains;
//! - roles and permissions come from the org's claim rules (`groups` contains `eng-admins` gives
//!   `admin`), applied on every request, so a rule change takes effect without a new login;
//! - the session keeps this identity, sealed ([`IdpIdentity`]), never the customer's access
//!   token, which is not meant for your API.
//!
//! The origin receives the same principal shape as for tenant-IdP logins: the same identity
//! headers, the same signed assertion.

use super::oidc::IdClaims;
use crate::authz::decision::{Membership, Principal};
use crate::org::policy::{OrgIdp, OrgPolicy};
use crate::time::UnixSeconds;
use crate::token::CallerKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Protocol claims that say nothing about the person: not kept in the session.
const PROTOCOL_CLAIMS: [&str; 11] = [
    "iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "azp", "jti", "sid",
];
/// Bound on what a session keeps from the IdP (the cookie is chunked, but not without end).
const MAX_KEPT_CLAIM_BYTES: usize = 4096;

/// The identity an org's own IdP asserted, as the session keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdpIdentity {
    pub iss: String,
    pub sub: String,
    /// Only a verified email (`email_verified: true`).
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// The IdP session id (`sid`), for back-channel logout.
    #[serde(default)]
    pub sid: Option<String>,
    /// The other claims, for the org's claim rules.
    #[serde(default)]
    pub claims: Map<String, Value>,
}

/// Why an org's IdP user may not sign in to the org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAdmitted {
    /// The org admits only some email domains and this email is not verified (or absent).
    EmailNotVerified,
    /// The verified email's domain is not one the org admits.
    EmailDomain,
}

impl NotAdmitted {
    pub fn reason(self) -> &'static str {
        match self {
            NotAdmitted::EmailNotVerified => "email_not_verified",
            NotAdmitted::EmailDomain => "email_domain_not_allowed",
        }
    }
}

/// The identity from a valid ID token and, when read, the userinfo answer (whose `sub` the
/// caller has already matched). Userinfo values win: they are the IdP's current view.
pub fn identity(iss: &str, id: &IdClaims, userinfo: Option<Map<String, Value>>) -> IdpIdentity {
    let mut claims: Map<String, Value> = (*id.claims).clone();
    if let Some(u) = userinfo {
        for (k, v) in u {
            claims.insert(k, v);
        }
    }
    let sid = claims
        .get("sid")
        .and_then(Value::as_str)
        .map(str::to_string);
    // OIDC Core 5.1: email_verified is a boolean; nothing else counts as verified.
    let verified = claims.get("email_verified") == Some(&Value::Bool(true));
    let email = claims
        .get("email")
        .and_then(Value::as_str)
        .filter(|_| verified)
        .map(str::to_string);
    let name = claims
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string);
    for k in PROTOCOL_CLAIMS {
        claims.remove(k);
    }
    claims.remove("sub");
    // Keep the session bounded: drop the largest claims first if the IdP sends a lot.
    while serde_json::to_string(&claims).map_or(0, |s| s.len()) > MAX_KEPT_CLAIM_BYTES {
        let biggest = claims
            .iter()
            .max_by_key(|(_, v)| v.to_string().len())
            .map(|(k, _)| k.clone());
        match biggest {
            Some(k) => {
                claims.remove(&k);
            }
            None => break,
        }
    }
    IdpIdentity {
        iss: iss.to_string(),
        sub: id.subject.clone(),
        email,
        name,
        sid,
        claims,
    }
}

/// The org's admission rule: when it lists email domains, only a verified email in one of them.
pub fn admit(idp: &OrgIdp, who: &IdpIdentity) -> Result<(), NotAdmitted> {
    if idp.allowed_email_domains.is_empty() {
        return Ok(());
    }
    let email = who.email.as_deref().ok_or(NotAdmitted::EmailNotVerified)?;
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .ok_or(NotAdmitted::EmailDomain)?;
    if idp.allowed_email_domains.contains(&domain) {
        Ok(())
    } else {
        Err(NotAdmitted::EmailDomain)
    }
}

/// The principal an org IdP's user is in `org`: a member, with the roles and permissions the
/// org's current claim rules grant.
/// `signed_in`: when the session began (revocation checks compare it with a "not before").
pub fn principal(
    org: &OrgPolicy,
    idp: &OrgIdp,
    who: &IdpIdentity,
    exp: UnixSeconds,
    signed_in: UnixSeconds,
) -> Principal {
    let mut roles: Vec<String> = Vec::new();
    let mut permissions: Vec<String> = Vec::new();
    for rule in idp.claim_rules.iter().filter(|r| r.applies(&who.claims)) {
        for r in &rule.roles {
            if !roles.contains(r) {
                roles.push(r.clone());
            }
        }
        for p in &rule.permissions {
            if !permissions.contains(p) {
                permissions.push(p.clone());
            }
        }
    }
    Principal {
        org_id: org.org_id.clone(),
        org_name: org.name.clone(),
        subject: Some(who.sub.clone()),
        client_id: None,
        caller: CallerKind::User,
        email: who.email.clone(),
        permissions,
        roles,
        scopes: Vec::new(),
        membership: Membership::Member,
        token_exp: exp,
        auth: crate::token::AuthFacts::from_claims(&who.claims).unwrap_or_default(),
        issued: crate::revoke::Issued {
            jti: None,
            at: Some(signed_in),
            sid: who.sid.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::policy::OrgPolicy;
    use serde_json::json;
    use std::rc::Rc;

    fn org(idp: Value) -> OrgPolicy {
        OrgPolicy::parse(
            &json!({"version": 1, "org_id": "org_globex", "name": "globex",
                "login": {"idp": idp}})
            .to_string(),
        )
        .unwrap()
    }

    fn id(claims: Value) -> IdClaims {
        IdClaims {
            subject: claims["sub"].as_str().unwrap().to_string(),
            claims: Rc::new(claims.as_object().unwrap().clone()),
        }
    }

    fn idp(extra: Value) -> Value {
        let mut v = json!({"issuer": "https://login.globex.test", "client_id": "c",
            "client_secret": "ORG_GLOBEX_SECRET"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    }

    /// Groups map to roles and permissions; the org is implied; nothing is read from an org
    /// claim, even when the IdP sends one.
    #[test]
    fn claim_rules_grant_roles_and_permissions() {
        let o = org(idp(json!({"claim_rules": [
            {"claim": "groups", "contains": "eng-admins", "roles": ["admin"], "permissions": ["admin"]},
            {"claim": "groups", "contains": "staff", "permissions": ["read:docs"]},
            {"claim": "department", "equals": "finance", "permissions": ["read:reports"]}
        ]})));
        let i = o.login.idp.as_ref().unwrap();
        let who = identity(
            &i.issuer,
            &id(
                json!({"sub": "u1", "email": "bob@globex.test", "email_verified": true,
                "groups": ["staff", "eng-admins"], "org_id": "org_acme", "nonce": "n"}),
            ),
            None,
        );
        let p = principal(&o, i, &who, UnixSeconds::new(9), UnixSeconds::EPOCH);
        assert_eq!(p.org_id, "org_globex", "implied by the IdP, not the claim");
        assert_eq!(p.roles, vec!["admin"]);
        assert_eq!(p.permissions, vec!["admin", "read:docs"]);
        assert_eq!(p.email.as_deref(), Some("bob@globex.test"));
        assert!(!who.claims.contains_key("nonce"));
        // A string claim matches `contains` by equality; a number never does.
        let who = identity(
            &i.issuer,
            &id(json!({"sub": "u2", "groups": "staff", "department": 5})),
            None,
        );
        assert_eq!(
            principal(&o, i, &who, UnixSeconds::new(9), UnixSeconds::EPOCH).permissions,
            vec!["read:docs"]
        );
    }

    /// UnverifiedEmailTrusted: an email the IdP has not verified is never used, and does not
    /// satisfy the org's email domains.
    #[test]
    fn email_is_used_only_when_verified_and_domains_are_enforced() {
        let o = org(idp(json!({"allowed_email_domains": ["Globex.test"]})));
        let i = o.login.idp.as_ref().unwrap();
        let unverified = identity(
            &i.issuer,
            &id(json!({"sub": "u", "email": "bob@globex.test", "email_verified": "true"})),
            None,
        );
        assert_eq!(unverified.email, None);
        assert_eq!(admit(i, &unverified), Err(NotAdmitted::EmailNotVerified));
        let other = identity(
            &i.issuer,
            &id(
                json!({"sub": "u", "email": "eve@globex.test.evil.example", "email_verified": true}),
            ),
            None,
        );
        assert_eq!(admit(i, &other), Err(NotAdmitted::EmailDomain));
        let ok = identity(
            &i.issuer,
            &id(json!({"sub": "u", "email": "Bob@GLOBEX.test", "email_verified": true})),
            None,
        );
        assert_eq!(admit(i, &ok), Ok(()));
    }

    #[test]
    fn userinfo_claims_join_the_identity() {
        let o = org(idp(json!({"userinfo": true, "claim_rules": [
            {"claim": "groups", "contains": "staff", "permissions": ["read:docs"]}]})));
        let i = o.login.idp.as_ref().unwrap();
        let ui = json!({"sub": "u", "groups": ["staff"], "email": "a@globex.test", "email_verified": true});
        let who = identity(
            &i.issuer,
            &id(json!({"sub": "u"})),
            Some(ui.as_object().unwrap().clone()),
        );
        assert_eq!(
            principal(&o, i, &who, UnixSeconds::new(1), UnixSeconds::EPOCH).permissions,
            vec!["read:docs"]
        );
        assert_eq!(who.email.as_deref(), Some("a@globex.test"));
    }

    #[test]
    fn bad_rules_are_refused_at_load_with_their_path() {
        for (rule, path) in [
            (
                json!({"claim": "groups", "roles": ["a"]}),
                "$.login.idp.claim_rules[0]",
            ),
            (
                json!({"claim": "groups", "contains": "x"}),
                "$.login.idp.claim_rules[0]",
            ),
            (
                json!({"claim": "groups", "contains": "x", "roles": ["a b"]}),
                "$.login.idp.claim_rules[0].grants[0]",
            ),
        ] {
            let text = json!({"version": 1, "org_id": "o", "name": "o",
                "login": {"idp": idp(json!({"claim_rules": [rule]}))}})
            .to_string();
            assert_eq!(OrgPolicy::parse(&text).unwrap_err().path, path);
        }
    }
}
