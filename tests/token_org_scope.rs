//! Organization scoping (`orggate::authz::decision::scope_to_org`): a verified token may act
//! only for the organization the request addresses. Tokens are minted, signed and verified
//! through `orggate::token::verify` (EdDSA, `demo-eddsa-1`), so only verified claims reach
//! scoping, as in production.
//!
//! Base claims (unless stated): `{"iss":"https://idp.orggate.test/","aud":"https://api.orggate.test",
//! "sub":"auth0|alice","azp":"spa-client","iat":NOW-10,"exp":NOW+600,"org_id":"org_acme",
//! "org_name":"acme","permissions":["read:reports"]}`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use orggate::authz::decision::{scope_to_org, Principal, ScopeError};
use orggate::engine::Engine;
use orggate::org::policy::{OrgPolicy, TenantPolicy};
use orggate::token::CallerKind;
use serde_json::{json, Value};

/// Org document for acme with `patch` merged in.
fn acme(patch: Value) -> OrgPolicy {
    let mut v = json!({
        "version": 1,
        "org_id": "org_acme",
        "name": "acme",
        "routes": [],
    });
    merge(&mut v, patch);
    OrgPolicy::parse(&v.to_string()).expect("org config")
}

fn scope(tenant: &TenantPolicy, org: &OrgPolicy, patch: Value) -> Result<Principal, ScopeError> {
    let claims = expect_ok(run(&idp(), &Engine::new(), tenant, &ed_token(patch)));
    scope_to_org(&claims, org, tenant)
}

fn plain_tenant() -> TenantPolicy {
    tenant(json!({}))
}

/// MemberToken: org_id = org_acme on acme: the principal carries acme and the permissions.
#[test]
fn member_of_addressed_org() {
    let p = scope(&plain_tenant(), &acme(json!({})), json!({})).unwrap();
    assert_eq!(p.org_id, "org_acme");
    assert_eq!(p.org_name, "acme");
    assert_eq!(p.subject.as_deref(), Some("auth0|alice"));
    assert_eq!(p.client_id.as_deref(), Some("spa-client"));
    assert_eq!(p.caller, CallerKind::User);
    assert_eq!(p.permissions, vec!["read:reports"]);
    assert!(!p.is_personal());
    assert_eq!(p.token_exp.get(), NOW + 600);
}

/// CrossOrgToken: `"org_id":"org_globex","org_name":"globex"` presented to acme.
#[test]
fn cross_org_token() {
    let e = scope(
        &plain_tenant(),
        &acme(json!({})),
        json!({"org_id": "org_globex", "org_name": "globex"}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::OrgMismatch);
    assert_eq!(e.reason(), "org_mismatch");
}

/// OrgIdCaseVariant: `"org_id":"ORG_ACME"`: ids compare exactly.
#[test]
fn org_id_compares_exactly() {
    let e = scope(
        &plain_tenant(),
        &acme(json!({"allow_org_name_match": true})),
        json!({"org_id": "ORG_ACME", "org_name": null}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::OrgMismatch);
}

/// MissingOrgClaim: no org_id / org_name on an org that does not allow personal accounts.
#[test]
fn missing_org_claim() {
    let e = scope(
        &plain_tenant(),
        &acme(json!({})),
        json!({"org_id": null, "org_name": null}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::MissingOrg);
    assert_eq!(e.reason(), "missing_org_claim");
}

/// PersonalAccountToken: no org claim, org has `allow_personal_accounts`: accepted as a personal
/// principal that carries no permissions or roles (they were granted outside any org).
#[test]
fn personal_account_allowed_but_powerless() {
    let p = scope(
        &plain_tenant(),
        &acme(json!({"allow_personal_accounts": true})),
        json!({"org_id": null, "org_name": null, "permissions": ["admin", "write:reports"]}),
    )
    .unwrap();
    assert!(p.is_personal());
    assert_eq!(p.org_id, "org_acme");
    assert!(p.permissions.is_empty(), "{:?}", p.permissions);
    assert!(p.roles.is_empty());
    assert_eq!(p.caller, CallerKind::User);
}

/// Personal accounts do not open the door to tokens of *another* org.
#[test]
fn personal_accounts_do_not_admit_other_orgs() {
    let e = scope(
        &plain_tenant(),
        &acme(json!({"allow_personal_accounts": true})),
        json!({"org_id": "org_globex", "org_name": null}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::OrgMismatch);
}

/// OrgNameOnlyToken: `"org_name":"ACME"`, no org_id. Accepted only with `allow_org_name_match`
/// (case-insensitively, Auth0 names are lowercase).
#[test]
fn org_name_match_requires_opt_in() {
    for name in ["acme", "ACME", "AcMe"] {
        let patch = json!({"org_id": null, "org_name": name});
        let e = scope(&plain_tenant(), &acme(json!({})), patch.clone()).unwrap_err();
        assert_eq!(e, ScopeError::OrgMismatch, "{name} without opt-in");
        let p = scope(
            &plain_tenant(),
            &acme(json!({"allow_org_name_match": true})),
            patch,
        )
        .unwrap();
        assert_eq!(p.org_id, "org_acme", "{name}");
        assert_eq!(p.permissions, vec!["read:reports"]);
    }
}

/// OrgNameWithForeignOrgId: `"org_id":"org_globex","org_name":"ACME"`: the name only counts when
/// org_id is absent, so this is a mismatch even with `allow_org_name_match`.
#[test]
fn org_name_does_not_override_a_present_org_id() {
    let e = scope(
        &plain_tenant(),
        &acme(json!({"allow_org_name_match": true})),
        json!({"org_id": "org_globex", "org_name": "ACME"}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::OrgMismatch);
}

/// ConflictingOrgName: `"org_id":"org_acme","org_name":"globex"` with name matching on: Auth0
/// says validate org_name when present, so the disagreement is a mismatch.
#[test]
fn conflicting_org_name_with_matching_id() {
    let e = scope(
        &plain_tenant(),
        &acme(json!({"allow_org_name_match": true})),
        json!({"org_id": "org_acme", "org_name": "globex"}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::OrgMismatch);
    // Upper-case spelling of the right name is not a conflict.
    scope(
        &plain_tenant(),
        &acme(json!({"allow_org_name_match": true})),
        json!({"org_id": "org_acme", "org_name": "ACME"}),
    )
    .unwrap();
}

/// M2mOrgToken: Auth0 client-credentials token for acme:
/// `{"sub":"m2m-client@clients","azp":"m2m-client","gty":"client-credentials","org_id":"org_acme",
///   "permissions":["read:reports"]}`.
#[test]
fn client_credentials_token_is_a_client_caller() {
    let p = scope(
        &plain_tenant(),
        &acme(json!({})),
        json!({"sub": "m2m-client@clients", "azp": "m2m-client",
               "gty": "client-credentials", "org_name": null}),
    )
    .unwrap();
    assert_eq!(p.caller, CallerKind::Client);
    assert_eq!(p.client_id.as_deref(), Some("m2m-client"));
    assert_eq!(p.permissions, vec!["read:reports"]);
}

/// M2mWithoutOrgClaim: `{"sub":"batch@clients","azp":"batch","gty":"client-credentials"}` and no
/// org claim. Accepted only when `batch` is in the org's `m2m_clients`.
#[test]
fn m2m_client_listed_by_the_org() {
    let patch = json!({"sub": "batch@clients", "azp": "batch", "gty": "client-credentials",
                       "org_id": null, "org_name": null});
    let p = scope(
        &plain_tenant(),
        &acme(json!({"m2m_clients": ["batch"]})),
        patch.clone(),
    )
    .unwrap();
    assert_eq!(p.caller, CallerKind::Client);
    assert_eq!(p.client_id.as_deref(), Some("batch"));
    assert!(!p.is_personal());
    assert_eq!(p.permissions, vec!["read:reports"]);
    // Not listed: no org claim, no way in.
    let e = scope(
        &plain_tenant(),
        &acme(json!({"m2m_clients": ["other"]})),
        patch,
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::MissingOrg);
}

/// UserTokenWithListedClientId: a *user* token (`sub` is a person) whose `azp` happens to be a
/// listed m2m client must not ride on the client's org membership.
#[test]
fn m2m_listing_does_not_admit_user_tokens() {
    let e = scope(
        &plain_tenant(),
        &acme(json!({"m2m_clients": ["spa-client"]})),
        json!({"org_id": null, "org_name": null}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::MissingOrg);
}

/// M2mListedButTokenForOtherOrg: listed client whose token names globex: still a mismatch.
#[test]
fn m2m_listing_does_not_override_a_foreign_org_id() {
    let e = scope(
        &plain_tenant(),
        &acme(json!({"m2m_clients": ["batch"]})),
        json!({"sub": "batch@clients", "azp": "batch", "gty": "client-credentials",
               "org_id": "org_globex", "org_name": null}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::OrgMismatch);
}

fn multi_tenant(permissions: &str) -> TenantPolicy {
    tenant(json!({"multi_org": {"claim": "orgs", "permissions": permissions}}))
}

/// MultiOrgToken: `{"org_id":"org_globex","orgs":["org_globex","org_acme"],
/// "permissions":["read:reports"]}`. On globex (the active org) the permissions apply; on acme
/// (listed only) the caller is a member with no permissions, unless the issuer says
/// `all_listed_orgs`.
#[test]
fn multi_org_membership_and_permissions() {
    let patch = json!({"org_id": "org_globex", "org_name": null,
                       "orgs": ["org_globex", "org_acme"]});
    let globex = OrgPolicy::parse(
        &json!({"version": 1, "org_id": "org_globex", "name": "globex"}).to_string(),
    )
    .unwrap();

    let active = multi_tenant("active_org");
    let p = scope(&active, &globex, patch.clone()).unwrap();
    assert_eq!(p.permissions, vec!["read:reports"]);
    let p = scope(&active, &acme(json!({})), patch.clone()).unwrap();
    assert_eq!(p.org_id, "org_acme");
    assert!(p.permissions.is_empty(), "{:?}", p.permissions);
    assert!(!p.is_personal());

    let all = multi_tenant("all_listed_orgs");
    let p = scope(&all, &acme(json!({})), patch.clone()).unwrap();
    assert_eq!(p.permissions, vec!["read:reports"]);

    // Without multi_org configured, the list claim means nothing: acme is a mismatch.
    let e = scope(&plain_tenant(), &acme(json!({})), patch).unwrap_err();
    assert_eq!(e, ScopeError::OrgMismatch);
}

/// MultiOrgNotListed: `{"org_id":"org_globex","orgs":["org_globex","org_initech"]}` on acme.
#[test]
fn multi_org_token_for_unlisted_org() {
    let e = scope(
        &multi_tenant("all_listed_orgs"),
        &acme(json!({})),
        json!({"org_id": "org_globex", "org_name": null, "orgs": ["org_globex", "org_initech"]}),
    )
    .unwrap_err();
    assert_eq!(e, ScopeError::OrgMismatch);
}
