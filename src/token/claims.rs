//! Claim presets: each org-aware IdP puts the organization and the caller's rights somewhere else.
//! A preset maps one issuer's token shape to one [`Identity`]; `generic` takes explicit paths.
//!
//! | preset | org id | org name | permissions | roles |
//! |---|---|---|---|---|
//! | `auth0` | `org_id` | `org_name` | `permissions` (array) | (configurable claim, array) |
//! | `clerk` (session token v2) | `o.id` | `o.slg` | `org:{feature}:{perm}` from `fea`, `o.per`, `o.fpm` | `org:{o.rol}` |
//! | `keycloak` (26) | `organization` map `{alias: {id}}` | its alias | none | `realm_access.roles` |
//! | `workos` | `org_id` | none | `permissions` (array) | `role`, `roles` |
//! | `logto` | `organization_id`, or `aud` = `urn:logto:organization:{id}` | none | `scope` | none |
//! | `stytch` | `https://stytch.com/organization`.`organization_id` | `.slug` | none | `https://stytch.com/session`.`roles` |
//!
//! Scopes always come from `scope` (RFC 8693 §4.2: one space-separated string) or `scp` (an array,
//! Okta; or a space-separated string, Entra ID). Subject is `sub`; client id is `client_id`
//! (RFC 9068 §2.2) or `azp`.
//!
//! **Claims are never coerced.** A claim of the wrong JSON type is refused ([`ClaimError`], 401
//! `invalid_claim`), never reinterpreted: `"permissions": "read admin"` is not two permissions, an
//! `org_id` of `123` is not "no org" (which could fall through to personal-account or M2M rules),
//! and an array holding a non-string is refused whole. A string is split only where the issuer's
//! own format defines a string list: OAuth's `scope`, and Clerk's comma-separated `fea`, `o.per`
//! and `o.fpm`.

use crate::time::UnixSeconds;
use serde_json::{Map, Value};

/// Who is calling: a person, or a machine using client credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallerKind {
    User,
    Client,
}

impl CallerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallerKind::User => "user",
            CallerKind::Client => "client",
        }
    }
}

/// The IdP-independent facts orggate takes from verified claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub caller: Option<CallerKind>,
    /// The token's active organization.
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    /// Every organization the token says the caller belongs to (multi-org claim), by id or alias.
    pub member_of: Vec<String>,
    pub permissions: Vec<String>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub email: Option<String>,
    /// How and when the person authenticated (step-up, RFC 9470).
    pub auth: AuthFacts,
}

/// OIDC Core 2 / RFC 9470: the authentication context class, methods and time.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<UnixSeconds>,
}

impl AuthFacts {
    /// `acr` (a string), `amr` (an array of strings) and `auth_time` (a NumericDate), strictly.
    pub fn from_claims(claims: &Map<String, Value>) -> Result<AuthFacts, ClaimError> {
        let auth_time = crate::token::verify::numeric(claims, "auth_time")
            .map_err(|_| ClaimError::new("auth_time", "a NumericDate"))?;
        Ok(AuthFacts {
            acr: str_claim(claims, &["acr"])?,
            amr: array_claim(claims, &["amr"])?,
            auth_time,
        })
    }
}

/// A claim present with a JSON type its issuer's format does not give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimError {
    /// Dotted path of the claim, e.g. `permissions` or `o.fpm`.
    pub claim: String,
    /// What the format requires there.
    pub expected: &'static str,
}

impl ClaimError {
    fn new(claim: impl Into<String>, expected: &'static str) -> Self {
        Self {
            claim: claim.into(),
            expected,
        }
    }
}

impl std::fmt::Display for ClaimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "claim {} must be {}", self.claim, self.expected)
    }
}

/// A path into the claims: `["https://stytch.com/organization", "organization_id"]`. Config may
/// write it as a JSON array (keys may contain `/`, `:` or `.`) or as a dotted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath(pub Vec<String>);

impl ClaimPath {
    pub fn dotted(s: &str) -> Self {
        ClaimPath(s.split('.').map(str::to_string).collect())
    }

    pub fn name(&self) -> String {
        self.0.join(".")
    }

    /// The value at this path; `Err` when a step on the way is present but not an object.
    pub fn lookup<'a>(
        &self,
        claims: &'a Map<String, Value>,
    ) -> Result<Option<&'a Value>, ClaimError> {
        lookup(claims, &self.0)
    }
}

/// The value at a path of keys (borrowed: reading a claim allocates nothing).
fn lookup<'a, S: AsRef<str>>(
    claims: &'a Map<String, Value>,
    path: &[S],
) -> Result<Option<&'a Value>, ClaimError> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(None);
    };
    let mut v = match claims.get(first.as_ref()) {
        Some(v) => v,
        None => return Ok(None),
    };
    for (i, k) in rest.iter().enumerate() {
        let Value::Object(o) = v else {
            return Err(ClaimError::new(join(&path[..=i]), "an object"));
        };
        v = match o.get(k.as_ref()) {
            Some(v) => v,
            None => return Ok(None),
        };
    }
    Ok(Some(v))
}

fn join<S: AsRef<str>>(path: &[S]) -> String {
    path.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(".")
}

/// Explicit claim locations for IdPs without a preset. Every location holds what the Auth0
/// shape holds there: a string for ids and names, an array of strings for lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenericMap {
    pub org_id: Option<ClaimPath>,
    pub org_name: Option<ClaimPath>,
    pub permissions: Option<ClaimPath>,
    pub roles: Option<ClaimPath>,
    pub subject: Option<ClaimPath>,
    pub client_id: Option<ClaimPath>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preset {
    Auth0 { roles: Option<ClaimPath> },
    Clerk,
    Keycloak,
    WorkOs,
    Logto,
    Stytch,
    Generic(GenericMap),
}

const LOGTO_ORG_AUD_PREFIX: &str = "urn:logto:organization:";

/// A string claim: absent is `None`, any other type is refused.
fn string_at<S: AsRef<str>>(
    claims: &Map<String, Value>,
    p: &[S],
) -> Result<Option<String>, ClaimError> {
    match lookup(claims, p)? {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ClaimError::new(join(p), "a string")),
    }
}

fn str_claim(claims: &Map<String, Value>, p: &[&str]) -> Result<Option<String>, ClaimError> {
    string_at(claims, p)
}

/// An array of strings: absent is empty, anything else (a string, a number, an array holding a
/// non-string) is refused.
fn string_array_at<S: AsRef<str>>(
    claims: &Map<String, Value>,
    p: &[S],
) -> Result<Vec<String>, ClaimError> {
    match lookup(claims, p)? {
        None => Ok(Vec::new()),
        Some(v) => string_array(v).ok_or_else(|| ClaimError::new(join(p), "an array of strings")),
    }
}

fn string_array(v: &Value) -> Option<Vec<String>> {
    let Value::Array(items) = v else { return None };
    items
        .iter()
        .map(|i| i.as_str().map(str::to_string))
        .collect()
}

fn array_claim(claims: &Map<String, Value>, p: &[&str]) -> Result<Vec<String>, ClaimError> {
    string_array_at(claims, p)
}

/// A list the issuer's format writes as one string with a separator (OAuth `scope`, Clerk).
fn split_string_claim(
    claims: &Map<String, Value>,
    p: &[&str],
    sep: char,
    expected: &'static str,
) -> Result<Vec<String>, ClaimError> {
    Ok(
        match str_claim(claims, p).map_err(|e| ClaimError { expected, ..e })? {
            None => Vec::new(),
            Some(s) => s
                .split(sep)
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
        },
    )
}

/// RFC 8693 §4.2 `scope` (a space-separated string), else `scp` (an array, or a space-separated
/// string as Entra ID writes it).
fn scopes(claims: &Map<String, Value>) -> Result<Vec<String>, ClaimError> {
    if claims.contains_key("scope") {
        return split_string_claim(claims, &["scope"], ' ', "a space-separated string");
    }
    match claims.get("scp") {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s
            .split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()),
        Some(v) => string_array(v).ok_or_else(|| {
            ClaimError::new("scp", "an array of strings or a space-separated string")
        }),
    }
}

/// Clerk session token v2: org permissions are `org:{feature}:{permission}`. `fea` lists the
/// features in order (`o:reports,u:beta,ou:sso`; a scope containing `o` marks an org feature);
/// `o.per` the bare permission names; `o.fpm` one decimal bitmask per org feature, in which bit
/// `j` (least significant first) grants the `j`-th name of `o.per` on that feature. This is how
/// Clerk's own SDK reads it (`parsePermissions`/`buildOrgPermissions` in `@clerk/shared`).
fn clerk_permissions(claims: &Map<String, Value>) -> Result<Vec<String>, ClaimError> {
    let features: Vec<String> =
        split_string_claim(claims, &["fea"], ',', "a comma-separated string")?
            .into_iter()
            .filter_map(|f| {
                let (scope, name) = f.split_once(':')?;
                (scope.contains('o') && !name.is_empty()).then(|| name.to_string())
            })
            .collect();
    let perms = split_string_claim(claims, &["o", "per"], ',', "a comma-separated string")?;
    let masks = split_string_claim(claims, &["o", "fpm"], ',', "a comma-separated string")?;
    if perms.len() > 128 {
        return Err(ClaimError::new("o.per", "at most 128 permissions"));
    }
    let mut out = Vec::new();
    for (i, feature) in features.iter().enumerate() {
        let Some(mask) = masks.get(i) else { break };
        let mask: u128 = mask
            .parse()
            .map_err(|_| ClaimError::new("o.fpm", "comma-separated decimal bitmasks"))?;
        if perms.len() < 128 && mask >> perms.len() != 0 {
            // More bits than permissions: the mask does not describe this `per` list.
            return Err(ClaimError::new("o.fpm", "bitmasks no wider than o.per"));
        }
        for (j, perm) in perms.iter().enumerate() {
            if mask >> j & 1 == 1 {
                out.push(format!("org:{feature}:{perm}"));
            }
        }
    }
    Ok(out)
}

/// Maps verified claims to an [`Identity`] with `preset`. `multi_org` names a claim listing all
/// the caller's organizations (see the README's trade-off note before enabling it).
pub fn identity(
    claims: &Map<String, Value>,
    preset: &Preset,
    multi_org: Option<&ClaimPath>,
) -> Result<Identity, ClaimError> {
    let mut id = Identity {
        subject: str_claim(claims, &["sub"])?,
        client_id: match str_claim(claims, &["client_id"])? {
            Some(c) => Some(c),
            None => str_claim(claims, &["azp"])?,
        },
        scopes: scopes(claims)?,
        email: str_claim(claims, &["email"])?,
        auth: AuthFacts::from_claims(claims)?,
        ..Identity::default()
    };
    match preset {
        Preset::Auth0 { roles } => {
            id.org_id = str_claim(claims, &["org_id"])?;
            id.org_name = str_claim(claims, &["org_name"])?;
            id.permissions = array_claim(claims, &["permissions"])?;
            if let Some(p) = roles {
                id.roles = string_array_at(claims, &p.0)?;
            }
        }
        Preset::Clerk => {
            // Session token v2 only (v1 was deprecated in April 2025).
            if let Some(o) = claims.get("o") {
                if !o.is_object() {
                    return Err(ClaimError::new("o", "an object"));
                }
            }
            id.org_id = str_claim(claims, &["o", "id"])?;
            id.org_name = str_claim(claims, &["o", "slg"])?;
            id.permissions = clerk_permissions(claims)?;
            // v2 writes the role key without Clerk's `org:` prefix; rules use Clerk's keys.
            id.roles = str_claim(claims, &["o", "rol"])?
                .map(|r| {
                    if r.starts_with("org:") {
                        r
                    } else {
                        format!("org:{r}")
                    }
                })
                .into_iter()
                .collect();
        }
        Preset::Keycloak => {
            match claims.get("organization") {
                None => {}
                // 26: a map of alias -> attributes (when ids/attributes are mapped)
                Some(Value::Object(orgs)) => {
                    // Each org by its id when ids are mapped, else by its alias (a name).
                    id.member_of = orgs
                        .iter()
                        .map(|(alias, attrs)| match attrs.get("id") {
                            Some(Value::String(i)) => i.clone(),
                            _ => alias.clone(),
                        })
                        .collect();
                    if orgs.len() == 1 {
                        if let Some((alias, attrs)) = orgs.iter().next() {
                            id.org_name = Some(alias.clone());
                            id.org_id = match attrs.get("id") {
                                None => None,
                                Some(Value::String(s)) => Some(s.clone()),
                                Some(_) => {
                                    return Err(ClaimError::new(
                                        format!("organization.{alias}.id"),
                                        "a string",
                                    ))
                                }
                            };
                        }
                    }
                }
                // a plain list of aliases
                Some(v @ Value::Array(_)) => {
                    id.member_of = string_array(v).ok_or_else(|| {
                        ClaimError::new("organization", "an array of strings or an object")
                    })?;
                    if let [only] = id.member_of.as_slice() {
                        id.org_name = Some(only.clone());
                    }
                }
                Some(_) => {
                    return Err(ClaimError::new(
                        "organization",
                        "an array of strings or an object",
                    ))
                }
            }
            id.roles = array_claim(claims, &["realm_access", "roles"])?;
        }
        Preset::WorkOs => {
            id.org_id = str_claim(claims, &["org_id"])?;
            id.permissions = array_claim(claims, &["permissions"])?;
            id.roles = array_claim(claims, &["roles"])?;
            if let Some(r) = str_claim(claims, &["role"])? {
                if !id.roles.contains(&r) {
                    id.roles.push(r);
                }
            }
        }
        Preset::Logto => {
            // An organization-level API-resource token names its org in `organization_id`
            // (`aud` is the API); an organization token carries it in `aud` itself.
            id.org_id = match str_claim(claims, &["organization_id"])? {
                Some(o) => Some(o),
                None => audiences(claims)?
                    .iter()
                    .find_map(|a| a.strip_prefix(LOGTO_ORG_AUD_PREFIX))
                    .map(str::to_string),
            };
            id.permissions = id.scopes.clone();
        }
        Preset::Stytch => {
            id.org_id = str_claim(
                claims,
                &["https://stytch.com/organization", "organization_id"],
            )?;
            id.org_name = str_claim(claims, &["https://stytch.com/organization", "slug"])?;
            id.roles = array_claim(claims, &["https://stytch.com/session", "roles"])?;
        }
        Preset::Generic(map) => {
            let s = |p: &Option<ClaimPath>| match p {
                Some(p) => string_at(claims, &p.0),
                None => Ok(None),
            };
            let a = |p: &Option<ClaimPath>| match p {
                Some(p) => string_array_at(claims, &p.0),
                None => Ok(Vec::new()),
            };
            id.org_id = s(&map.org_id)?;
            id.org_name = s(&map.org_name)?;
            id.permissions = a(&map.permissions)?;
            id.roles = a(&map.roles)?;
            if let Some(sub) = s(&map.subject)? {
                id.subject = Some(sub);
            }
            if let Some(c) = s(&map.client_id)? {
                id.client_id = Some(c);
            }
        }
    }
    // Keycloak's `organization` claim already lists every org (the preset read it above).
    if let (Some(path), false) = (multi_org, matches!(preset, Preset::Keycloak)) {
        id.member_of = string_array_at(claims, &path.0)?;
    }
    // Auth0 marks client-credentials tokens with gty; other IdPs: a token whose subject is its
    // own client (or that has no subject) was issued to a machine.
    let gty_client = str_claim(claims, &["gty"])?.as_deref() == Some("client-credentials");
    let sub_is_client = match (&id.subject, &id.client_id) {
        (Some(s), Some(c)) => s == c || *s == format!("{c}@clients"),
        (None, Some(_)) => true,
        _ => false,
    };
    id.caller = Some(if gty_client || sub_is_client {
        CallerKind::Client
    } else {
        CallerKind::User
    });
    Ok(id)
}

/// `aud` as a list (RFC 7519 §4.1.3: a string or an array of strings; anything else is refused).
pub fn audiences(claims: &Map<String, Value>) -> Result<Vec<&str>, ClaimError> {
    match claims.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ClaimError::new("aud", "a string or an array of strings")),
        Some(_) => Err(ClaimError::new("aud", "a string or an array of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    /// Auth0 access token (RBAC + "add permissions in the access token", logged in via an org).
    #[test]
    fn auth0_user_token() {
        let c = map(
            json!({"iss":"https://tenant.auth0.com/","sub":"auth0|u1","aud":["https://api","https://tenant.auth0.com/userinfo"],
            "azp":"cli","scope":"openid profile read:reports","org_id":"org_9ybsU1dN2dKfDkBi","org_name":"acme",
            "permissions":["read:reports","write:reports"]}),
        );
        let id = identity(
            &c,
            &Preset::Auth0 {
                roles: Some(ClaimPath(vec!["https://acme/roles".into()])),
            },
            None,
        )
        .unwrap();
        assert_eq!(id.org_id.as_deref(), Some("org_9ybsU1dN2dKfDkBi"));
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        assert_eq!(id.permissions, vec!["read:reports", "write:reports"]);
        assert_eq!(id.scopes, vec!["openid", "profile", "read:reports"]);
        assert_eq!(id.client_id.as_deref(), Some("cli"));
        assert_eq!(id.caller, Some(CallerKind::User));
    }

    /// Auth0 M2M token for an organization: gty client-credentials, sub `{client}@clients`.
    #[test]
    fn auth0_client_credentials_token() {
        let c = map(
            json!({"sub":"m2m@clients","azp":"m2m","gty":"client-credentials","org_id":"org_x","permissions":["read:a","write:b"]}),
        );
        let id = identity(&c, &Preset::Auth0 { roles: None }, None).unwrap();
        assert_eq!(id.caller, Some(CallerKind::Client));
        assert_eq!(id.permissions, vec!["read:a", "write:b"]);
    }

    /// Clerk session token v2 as Clerk documents it: `o` object; `per` bare names; one `fpm`
    /// bitmask per org feature in `fea`; `rol` without the `org:` prefix.
    #[test]
    fn clerk_v2_token() {
        let c = map(
            json!({"sub":"user_2abc","azp":"https://app.example.com","v":2,"fea":"o:reports",
            "o":{"id":"org_2xyz","rol":"admin","slg":"acme","per":"read,manage","fpm":"3"}}),
        );
        let id = identity(&c, &Preset::Clerk, None).unwrap();
        assert_eq!(id.org_id.as_deref(), Some("org_2xyz"));
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        assert_eq!(id.roles, vec!["org:admin"]);
        assert_eq!(
            id.permissions,
            vec!["org:reports:read", "org:reports:manage"]
        );
        assert_eq!(id.caller, Some(CallerKind::User));
    }

    /// ClerkPermissionLeaksAcrossFeatures: `read` granted on `reports` only (fpm "1": bit 0, the
    /// first name in `per`) must not become `read` on `billing` (fpm "2": bit 1, `manage` only);
    /// user features (`u:`) carry no org permissions, features scoped `ou` do.
    /// ClerkBitOrderSwapped: bit 0 is the *first* permission (Clerk's SDK reads the binary digits
    /// reversed); reading them most significant first would swap `read` and `manage`.
    #[test]
    fn clerk_permissions_are_per_feature() {
        let c = map(
            json!({"sub":"user_1","v":2,"fea":"o:reports,u:beta,o:billing,ou:sso",
            "o":{"id":"org_1","rol":"member","slg":"acme","per":"read,manage","fpm":"1,2,3"}}),
        );
        let id = identity(&c, &Preset::Clerk, None).unwrap();
        assert_eq!(
            id.permissions,
            vec![
                "org:reports:read",
                "org:billing:manage",
                "org:sso:read",
                "org:sso:manage"
            ]
        );
        assert!(!id.permissions.contains(&"org:billing:read".to_string()));
        assert!(!id.permissions.contains(&"org:reports:manage".to_string()));
        assert!(!id.permissions.iter().any(|p| p.contains("beta")));
        // A bitmask wider than `per` does not describe it: refused, not guessed.
        let c = map(json!({"sub":"u","v":2,"fea":"o:reports",
            "o":{"id":"org_1","per":"read","fpm":"6"}}));
        assert_eq!(
            identity(&c, &Preset::Clerk, None).unwrap_err().claim,
            "o.fpm"
        );
    }

    /// StringPermissionsCoerced (issue 10 §5): `"permissions": "read:items admin"` used to be
    /// split on spaces and grant `admin`. Every wrong type is refused with the claim's name.
    #[test]
    fn wrong_claim_types_are_refused_never_coerced() {
        let auth0 = Preset::Auth0 {
            roles: Some(ClaimPath::dotted("roles")),
        };
        for (claims, claim) in [
            (
                json!({"sub":"u","org_id":"org_a","permissions":"read:items admin"}),
                "permissions",
            ),
            (
                json!({"sub":"u","org_id":"org_a","permissions":["read", 7]}),
                "permissions",
            ),
            (
                json!({"sub":"u","org_id":"org_a","permissions":{"admin":true}}),
                "permissions",
            ),
            (json!({"sub":"u","org_id":123}), "org_id"),
            (json!({"sub":"u","org_id":null}), "org_id"),
            (json!({"sub":"u","org_id":["org_a"]}), "org_id"),
            (
                json!({"sub":"u","org_id":"org_a","org_name":false}),
                "org_name",
            ),
            (json!({"sub":42,"org_id":"org_a"}), "sub"),
            (json!({"sub":"u","org_id":"org_a","roles":"admin"}), "roles"),
            (
                json!({"sub":"u","org_id":"org_a","scope":["read"]}),
                "scope",
            ),
            (json!({"sub":"u","org_id":"org_a","azp":{"x":1}}), "azp"),
            (json!({"sub":"u","org_id":"org_a","gty":1}), "gty"),
        ] {
            let err = identity(&map(claims.clone()), &auth0, None).unwrap_err();
            assert_eq!(err.claim, claim, "{claims}");
        }
        // The same rule under every preset.
        let cases = [
            (
                Preset::WorkOs,
                json!({"sub":"u","org_id":"o","permissions":"a b"}),
                "permissions",
            ),
            (
                Preset::WorkOs,
                json!({"sub":"u","org_id":"o","role":["admin"]}),
                "role",
            ),
            (
                Preset::Keycloak,
                json!({"sub":"u","organization":"acme"}),
                "organization",
            ),
            (
                Preset::Keycloak,
                json!({"sub":"u","realm_access":{"roles":"admin"}}),
                "realm_access.roles",
            ),
            (
                Preset::Keycloak,
                json!({"sub":"u","realm_access":"admin"}),
                "realm_access",
            ),
            (
                Preset::Stytch,
                json!({"sub":"u","https://stytch.com/session":{"roles":"admin"}}),
                "https://stytch.com/session.roles",
            ),
            (Preset::Clerk, json!({"sub":"u","o":"org_1"}), "o"),
            (
                Preset::Clerk,
                json!({"sub":"u","o":{"id":"org_1","per":["read"]}}),
                "o.per",
            ),
            (
                Preset::Logto,
                json!({"sub":"u","organization_id":5}),
                "organization_id",
            ),
        ];
        for (preset, claims, claim) in cases {
            let err = identity(&map(claims.clone()), &preset, None).unwrap_err();
            assert_eq!(err.claim, claim, "{preset:?} {claims}");
        }
        let generic = Preset::Generic(GenericMap {
            org_id: Some(ClaimPath::dotted("tenant")),
            permissions: Some(ClaimPath::dotted("perms")),
            ..GenericMap::default()
        });
        let err = identity(
            &map(json!({"sub":"u","tenant":"t","perms":"a,b"})),
            &generic,
            None,
        )
        .unwrap_err();
        assert_eq!(err.claim, "perms");
        let err = identity(
            &map(json!({"sub":"u","orgs":"org_a org_b"})),
            &auth0,
            Some(&ClaimPath::dotted("orgs")),
        )
        .unwrap_err();
        assert_eq!(err.claim, "orgs");
        assert!(audiences(&map(json!({"aud":["a",1]}))).is_err());
        assert!(audiences(&map(json!({"aud":5}))).is_err());
    }

    /// `scope` is the one string list OAuth defines; `scp` comes as an array (Okta) or a string
    /// (Entra ID).
    #[test]
    fn scope_strings_are_split_where_the_format_says_so() {
        let id = identity(
            &map(json!({"sub":"u","scope":"a  b"})),
            &Preset::Auth0 { roles: None },
            None,
        )
        .unwrap();
        assert_eq!(id.scopes, vec!["a", "b"]);
        let id = identity(
            &map(json!({"sub":"u","scp":["a","b"]})),
            &Preset::Auth0 { roles: None },
            None,
        )
        .unwrap();
        assert_eq!(id.scopes, vec!["a", "b"]);
        let id = identity(
            &map(json!({"sub":"u","scp":"a b"})),
            &Preset::Auth0 { roles: None },
            None,
        )
        .unwrap();
        assert_eq!(id.scopes, vec!["a", "b"]);
    }

    /// Keycloak 26: `organization` as a list of aliases, and as a map with ids.
    #[test]
    fn keycloak_organization_shapes() {
        let c =
            map(json!({"sub":"f:1","organization":["acme"],"realm_access":{"roles":["reader"]}}));
        let id = identity(&c, &Preset::Keycloak, None).unwrap();
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        assert_eq!(id.org_id, None);
        assert_eq!(id.roles, vec!["reader"]);
        let c = map(json!({"sub":"f:1","organization":{"acme":{"id":"42a1-uuid"}}}));
        let id = identity(&c, &Preset::Keycloak, None).unwrap();
        assert_eq!(id.org_id.as_deref(), Some("42a1-uuid"));
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        // several orgs: no active org, membership only (by id where ids are mapped)
        let c = map(json!({"sub":"f:1","organization":{"acme":{"id":"1"},"globex":{}}}));
        let id = identity(&c, &Preset::Keycloak, None).unwrap();
        assert_eq!(id.org_id, None);
        assert_eq!(id.member_of, vec!["1", "globex"]);
    }

    #[test]
    fn workos_token() {
        let c = map(
            json!({"sub":"user_01","org_id":"org_01H","role":"admin","roles":["admin","member"],"permissions":["widgets:create"]}),
        );
        let id = identity(&c, &Preset::WorkOs, None).unwrap();
        assert_eq!(id.org_id.as_deref(), Some("org_01H"));
        assert_eq!(id.roles, vec!["admin", "member"]);
        assert_eq!(id.permissions, vec!["widgets:create"]);
    }

    /// Logto organization-level API-resource token: `organization_id`, `aud` = the API.
    #[test]
    fn logto_api_resource_token_for_an_organization() {
        let c = map(
            json!({"sub":"u1","aud":"https://api.example.com","organization_id":"abc123","scope":"read:reports","client_id":"app"}),
        );
        let id = identity(&c, &Preset::Logto, None).unwrap();
        assert_eq!(id.org_id.as_deref(), Some("abc123"));
        assert_eq!(id.permissions, vec!["read:reports"]);
    }

    #[test]
    fn logto_organization_token() {
        let c = map(
            json!({"sub":"u1","aud":"urn:logto:organization:abc123","scope":"read:reports invite:member","client_id":"app"}),
        );
        let id = identity(&c, &Preset::Logto, None).unwrap();
        assert_eq!(id.org_id.as_deref(), Some("abc123"));
        assert_eq!(id.permissions, vec!["read:reports", "invite:member"]);
    }

    #[test]
    fn stytch_b2b_token() {
        let c = map(
            json!({"sub":"member-live-1","https://stytch.com/organization":{"organization_id":"organization-live-9","slug":"acme"},
            "https://stytch.com/session":{"id":"s","roles":["stytch_member","admin"]}}),
        );
        let id = identity(&c, &Preset::Stytch, None).unwrap();
        assert_eq!(id.org_id.as_deref(), Some("organization-live-9"));
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        assert_eq!(id.roles, vec!["stytch_member", "admin"]);
    }

    /// Generic paths with keys containing `/` and `:` (ZITADEL-style).
    #[test]
    fn generic_paths_with_odd_keys() {
        let c = map(
            json!({"sub":"z1","urn:zitadel:iam:user:resourceowner:id":"1234",
            "https://example.com/claims":{"perms":["a","b"]}}),
        );
        let g = GenericMap {
            org_id: Some(ClaimPath(vec![
                "urn:zitadel:iam:user:resourceowner:id".into()
            ])),
            permissions: Some(ClaimPath(vec![
                "https://example.com/claims".into(),
                "perms".into(),
            ])),
            ..GenericMap::default()
        };
        let id = identity(&c, &Preset::Generic(g), None).unwrap();
        assert_eq!(id.org_id.as_deref(), Some("1234"));
        assert_eq!(id.permissions, vec!["a", "b"]);
    }

    #[test]
    fn multi_org_claim() {
        let c = map(json!({"sub":"u","org_id":"org_a","orgs":["org_a","org_b"]}));
        let id = identity(
            &c,
            &Preset::Auth0 { roles: None },
            Some(&ClaimPath::dotted("orgs")),
        )
        .unwrap();
        assert_eq!(id.member_of, vec!["org_a", "org_b"]);
    }
}
