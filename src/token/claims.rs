//! Claim presets: each org-aware IdP puts the organization and the caller's rights somewhere else.
//! A preset maps one issuer's token shape to one [`Identity`]; `generic` takes explicit paths.
//!
//! | preset | org id | org name | permissions | roles |
//! |---|---|---|---|---|
//! | `auth0` | `org_id` | `org_name` | `permissions` | (configurable claim) |
//! | `clerk` (session token v2) | `o.id` | `o.slg` | `o.per` (comma-separated) | `o.rol` |
//! | `keycloak` (26) | `organization` map `{alias: {id}}` | its alias | none | `realm_access.roles` |
//! | `workos` | `org_id` | none | `permissions` | `role`, `roles` |
//! | `logto` | `aud` = `urn:logto:organization:{id}` | none | `scope` | none |
//! | `stytch` | `https://stytch.com/organization`.`organization_id` | `.slug` | none | `https://stytch.com/session`.`roles` |
//!
//! Scopes always come from `scope` (RFC 8693 §4.2, space-separated) or `scp`. Subject is `sub`;
//! client id is `client_id` (RFC 9068 §2.2) or `azp`.

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
}

/// A path into the claims: `["https://stytch.com/organization", "organization_id"]`. Config may
/// write it as a JSON array (keys may contain `/`, `:` or `.`) or as a dotted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath(pub Vec<String>);

impl ClaimPath {
    pub fn dotted(s: &str) -> Self {
        ClaimPath(s.split('.').map(str::to_string).collect())
    }

    pub fn lookup<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        let (first, rest) = self.0.split_first()?;
        let mut v = claims.get(first)?;
        for k in rest {
            v = v.as_object()?.get(k)?;
        }
        Some(v)
    }
}

/// Explicit claim locations for IdPs without a preset.
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

fn str_at(claims: &Map<String, Value>, path: &[&str]) -> Option<String> {
    let (first, rest) = path.split_first()?;
    let mut v = claims.get(*first)?;
    for k in rest {
        v = v.as_object()?.get(*k)?;
    }
    v.as_str().map(str::to_string)
}

/// Permissions or roles as an array of strings, or one string split on spaces and commas.
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Maps verified claims to an [`Identity`] with `preset`. `multi_org` names a claim listing all the
/// caller's organizations (see the README's trade-off note before enabling it).
pub fn identity(
    claims: &Map<String, Value>,
    preset: &Preset,
    multi_org: Option<&ClaimPath>,
) -> Identity {
    let mut id = Identity {
        subject: str_at(claims, &["sub"]),
        client_id: str_at(claims, &["client_id"]).or_else(|| str_at(claims, &["azp"])),
        scopes: string_list(claims.get("scope").or_else(|| claims.get("scp"))),
        email: str_at(claims, &["email"]),
        ..Identity::default()
    };
    match preset {
        Preset::Auth0 { roles } => {
            id.org_id = str_at(claims, &["org_id"]);
            id.org_name = str_at(claims, &["org_name"]);
            id.permissions = string_list(claims.get("permissions"));
            if let Some(p) = roles {
                id.roles = string_list(p.lookup(claims));
            }
        }
        Preset::Clerk => {
            id.org_id = str_at(claims, &["o", "id"]);
            id.org_name = str_at(claims, &["o", "slg"]);
            id.permissions = string_list(claims.get("o").and_then(|o| o.get("per")));
            id.roles = str_at(claims, &["o", "rol"]).into_iter().collect();
        }
        Preset::Keycloak => {
            match claims.get("organization") {
                // 26: a map of alias -> attributes (when ids/attributes are mapped)
                Some(Value::Object(orgs)) => {
                    id.member_of = orgs.keys().cloned().collect();
                    if orgs.len() == 1 {
                        if let Some((alias, attrs)) = orgs.iter().next() {
                            id.org_name = Some(alias.clone());
                            id.org_id = attrs.get("id").and_then(Value::as_str).map(str::to_string);
                        }
                    }
                }
                // a plain list of aliases
                Some(Value::Array(aliases)) => {
                    id.member_of = aliases
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect();
                    if let [only] = id.member_of.as_slice() {
                        id.org_name = Some(only.clone());
                    }
                }
                _ => {}
            }
            id.roles = string_list(claims.get("realm_access").and_then(|r| r.get("roles")));
        }
        Preset::WorkOs => {
            id.org_id = str_at(claims, &["org_id"]);
            id.permissions = string_list(claims.get("permissions"));
            id.roles = string_list(claims.get("roles"));
            if let Some(r) = str_at(claims, &["role"]) {
                if !id.roles.contains(&r) {
                    id.roles.push(r);
                }
            }
        }
        Preset::Logto => {
            let auds = audiences(claims);
            id.org_id = auds
                .iter()
                .find_map(|a| a.strip_prefix(LOGTO_ORG_AUD_PREFIX))
                .map(str::to_string);
            id.permissions = id.scopes.clone();
        }
        Preset::Stytch => {
            id.org_id = str_at(
                claims,
                &["https://stytch.com/organization", "organization_id"],
            );
            id.org_name = str_at(claims, &["https://stytch.com/organization", "slug"]);
            id.roles = string_list(
                claims
                    .get("https://stytch.com/session")
                    .and_then(|s| s.get("roles")),
            );
        }
        Preset::Generic(map) => {
            let get = |p: &Option<ClaimPath>| p.as_ref().and_then(|p| p.lookup(claims));
            id.org_id = get(&map.org_id).and_then(Value::as_str).map(str::to_string);
            id.org_name = get(&map.org_name)
                .and_then(Value::as_str)
                .map(str::to_string);
            id.permissions = string_list(get(&map.permissions));
            id.roles = string_list(get(&map.roles));
            if let Some(s) = get(&map.subject).and_then(Value::as_str) {
                id.subject = Some(s.to_string());
            }
            if let Some(c) = get(&map.client_id).and_then(Value::as_str) {
                id.client_id = Some(c.to_string());
            }
        }
    }
    if let Some(path) = multi_org {
        id.member_of = string_list(path.lookup(claims));
    }
    // Auth0 marks client-credentials tokens with gty; other IdPs: a token whose subject is its
    // own client (or that has no subject) was issued to a machine.
    let gty_client = claims.get("gty").and_then(Value::as_str) == Some("client-credentials");
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
    id
}

/// `aud` as a list (RFC 7519 §4.1.3: a string or an array of strings).
pub fn audiences(claims: &Map<String, Value>) -> Vec<&str> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
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
        );
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
            json!({"sub":"m2m@clients","azp":"m2m","gty":"client-credentials","org_id":"org_x","permissions":"read:a write:b"}),
        );
        let id = identity(&c, &Preset::Auth0 { roles: None }, None);
        assert_eq!(id.caller, Some(CallerKind::Client));
        assert_eq!(id.permissions, vec!["read:a", "write:b"]);
    }

    /// Clerk session token v2: `o` object, `per` comma-separated.
    #[test]
    fn clerk_v2_token() {
        let c = map(
            json!({"sub":"user_2abc","azp":"https://app.example.com","v":2,"fea":"o:reports",
            "o":{"id":"org_2xyz","rol":"admin","slg":"acme","per":"read,manage","fpm":"3"}}),
        );
        let id = identity(&c, &Preset::Clerk, None);
        assert_eq!(id.org_id.as_deref(), Some("org_2xyz"));
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        assert_eq!(id.roles, vec!["admin"]);
        assert_eq!(id.permissions, vec!["read", "manage"]);
        assert_eq!(id.caller, Some(CallerKind::User));
    }

    /// Keycloak 26: `organization` as a list of aliases, and as a map with ids.
    #[test]
    fn keycloak_organization_shapes() {
        let c =
            map(json!({"sub":"f:1","organization":["acme"],"realm_access":{"roles":["reader"]}}));
        let id = identity(&c, &Preset::Keycloak, None);
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        assert_eq!(id.org_id, None);
        assert_eq!(id.roles, vec!["reader"]);
        let c = map(json!({"sub":"f:1","organization":{"acme":{"id":"42a1-uuid"}}}));
        let id = identity(&c, &Preset::Keycloak, None);
        assert_eq!(id.org_id.as_deref(), Some("42a1-uuid"));
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        // several orgs: no active org, membership only
        let c = map(json!({"sub":"f:1","organization":{"acme":{"id":"1"},"globex":{"id":"2"}}}));
        let id = identity(&c, &Preset::Keycloak, None);
        assert_eq!(id.org_id, None);
        assert_eq!(id.member_of, vec!["acme", "globex"]);
    }

    #[test]
    fn workos_token() {
        let c = map(
            json!({"sub":"user_01","org_id":"org_01H","role":"admin","roles":["admin","member"],"permissions":["widgets:create"]}),
        );
        let id = identity(&c, &Preset::WorkOs, None);
        assert_eq!(id.org_id.as_deref(), Some("org_01H"));
        assert_eq!(id.roles, vec!["admin", "member"]);
        assert_eq!(id.permissions, vec!["widgets:create"]);
    }

    #[test]
    fn logto_organization_token() {
        let c = map(
            json!({"sub":"u1","aud":"urn:logto:organization:abc123","scope":"read:reports invite:member","client_id":"app"}),
        );
        let id = identity(&c, &Preset::Logto, None);
        assert_eq!(id.org_id.as_deref(), Some("abc123"));
        assert_eq!(id.permissions, vec!["read:reports", "invite:member"]);
    }

    #[test]
    fn stytch_b2b_token() {
        let c = map(
            json!({"sub":"member-live-1","https://stytch.com/organization":{"organization_id":"organization-live-9","slug":"acme"},
            "https://stytch.com/session":{"id":"s","roles":["stytch_member","admin"]}}),
        );
        let id = identity(&c, &Preset::Stytch, None);
        assert_eq!(id.org_id.as_deref(), Some("organization-live-9"));
        assert_eq!(id.org_name.as_deref(), Some("acme"));
        assert_eq!(id.roles, vec!["stytch_member", "admin"]);
    }

    /// Generic paths with keys containing `/` and `:` (ZITADEL-style).
    #[test]
    fn generic_paths_with_odd_keys() {
        let c = map(
            json!({"sub":"z1","urn:zitadel:iam:user:resourceowner:id":"1234",
            "https://example.com/claims":{"perms":"a,b"}}),
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
        let id = identity(&c, &Preset::Generic(g), None);
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
        );
        assert_eq!(id.member_of, vec!["org_a", "org_b"]);
    }
}
