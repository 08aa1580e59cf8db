//! The raw configuration format, exactly as stored in KV (`"version": 1`). These types mirror the
//! JSON and nothing more; [`super::policy`] turns them into validated, compiled policy.
//!
//! KV keys (binding `ORGS`):
//! - `settings`: [`RawSettings`], the tenant: issuers, base routes, resolution, login, forwarding.
//! - `org:{org_id}`: [`RawOrg`], one organization.
//! - `host:{hostname}`: an org id (custom domains; subdomains of a base domain need no key).
//! - `name:{org_name}`: an org id (lowercase names, for `/o/{name}/` paths and the org prompt).
//! - `domain:{email_domain}`: an org id (home-realm discovery on the org prompt).
//!
//! `schema/orggate-config.schema.json`, generated from these types ([`super::schema`]), describes
//! the same format for editors.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
#[cfg(not(target_arch = "wasm32"))]
use {super::schema::*, schemars::JsonSchema};

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "settings")
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    #[cfg_attr(not(target_arch = "wasm32"), schemars(extend("const" = 1)))]
    pub version: u32,
    #[serde(default)]
    pub resolution: RawResolution,
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(min = 1)))]
    pub issuers: Vec<RawIssuer>,
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<BaseRule>"))]
    pub routes: Vec<RawRule>,
    /// What an unmatched route requires: `deny` (default) or `authenticated`.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(extend("enum" = ["deny", "authenticated"])))]
    pub unmatched: Option<String>,
    /// Tenant origin (`https://app.internal`); absent = forward to the request's own URL.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Url>"))]
    pub origin: Option<String>,
    #[serde(default)]
    pub forwarding: RawForwarding,
    #[serde(default)]
    pub login: Option<RawLogin>,
    #[serde(default)]
    pub cache: RawCache,
    /// An extra request header carrying a bearer token (besides `Authorization`).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<HeaderName>"))]
    pub token_header: Option<String>,
    #[serde(default)]
    pub max_token_bytes: Option<usize>,
    /// CORS for every route without its own (`routes[].cors`).
    #[serde(default)]
    pub cors: Option<RawCors>,
    #[serde(default)]
    pub revocation: RawRevocation,
    /// The tenant's name and branding, for the pages that have no org (the org prompt, an
    /// unknown org's refusal).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(min = 1, max = 100)))]
    pub display_name: Option<String>,
    #[serde(default)]
    pub branding: RawBranding,
    /// Who may administer orgs at `/_orggate/admin/api/` (revocations today).
    #[serde(default)]
    pub admin: RawAdmin,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "resolution")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResolution {
    /// `acme.{base_domain}` names org `acme` (by name).
    #[serde(default)]
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(inner(pattern(r"^[^./:*][^/:*]*$")))
    )]
    pub base_domains: Vec<String>,
    /// `/o/{org_name}/...` when set to `"/o/"`.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(pattern(r"^/[^/]+/$")))]
    pub path_prefix: Option<String>,
    /// Strip the `/o/{org}` prefix before matching and forwarding (default true).
    #[serde(default)]
    pub strip_path_prefix: Option<bool>,
    /// A request header naming the org (by id), for single-host APIs behind a trusted proxy.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<HeaderName>"))]
    pub header: Option<String>,
    /// Single-host APIs only: take the org from the verified token's own org claim.
    #[serde(default)]
    pub token_org: bool,
}

#[cfg_attr(not(target_arch = "wasm32"), derive(JsonSchema), schemars(rename = "issuer", transform = issuer_rules))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIssuer {
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(length(min = 1, max = 2048), pattern(r"^\S+$"))
    )]
    pub issuer: String,
    /// Required, except for presets whose session tokens carry no `aud` (Clerk, WorkOS).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Origins a token's `azp` must name (Clerk's authorized parties).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<Origin>"))]
    pub authorized_parties: Vec<String>,
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(with = "Vec<Algorithm>", length(min = 1))
    )]
    pub algorithms: Vec<String>,
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Url>"))]
    pub jwks_uri: Option<String>,
    #[serde(default = "default_preset")]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Preset", extend("default" = "auth0")))]
    pub preset: RawPreset,
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(range(max = 600)))]
    pub leeway_s: Option<u64>,
    #[serde(default)]
    pub max_age_s: Option<u64>,
    /// Name of the Worker secret holding the HS256 shared secret.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(min = 1)))]
    pub hs256_secret: Option<String>,
    #[serde(default)]
    pub multi_org: Option<RawMultiOrg>,
    #[serde(default)]
    pub jwks: RawJwksTiming,
    /// Org ids this issuer may speak for (default: every org). Set it for an IdP that belongs
    /// to one customer, or that customer's admins can mint tokens for every other org.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Vec<OrgId>>"))]
    pub orgs: Option<Vec<String>>,
}

fn default_preset() -> RawPreset {
    RawPreset::Named(RawPresetName::Auth0)
}

/// How orggate reads an IdP's tokens: a preset name, `{"auth0": {"roles": CLAIM}}`, or
/// `{"generic": {...}}` naming the claims (at least `org_id` or `org_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawPreset {
    Named(RawPresetName),
    Custom(RawPresetCustom),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawPresetName {
    Auth0,
    Clerk,
    Keycloak,
    Workos,
    Logto,
    Stytch,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawPresetCustom {
    /// Auth0 with roles in a claim of the tenant's choosing (an Action adds it).
    Auth0(RawAuth0Preset),
    Generic(RawGenericPreset),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth0Preset {
    pub roles: RawClaimPath,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGenericPreset {
    #[serde(default, deserialize_with = "present")]
    pub org_id: Option<RawClaimPath>,
    #[serde(default, deserialize_with = "present")]
    pub org_name: Option<RawClaimPath>,
    #[serde(default, deserialize_with = "present")]
    pub permissions: Option<RawClaimPath>,
    #[serde(default, deserialize_with = "present")]
    pub roles: Option<RawClaimPath>,
    #[serde(default, deserialize_with = "present")]
    pub subject: Option<RawClaimPath>,
    #[serde(default, deserialize_with = "present")]
    pub client_id: Option<RawClaimPath>,
}

/// A field that may be left out but not written as `null` (the schema says the same).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Where a claim is: a dotted path (`realm_access.roles`), or the keys as an array (a
/// namespaced claim, `["https://example.com/roles"]`, is one key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawClaimPath {
    Dotted(String),
    Keys(Vec<String>),
}

/// What a route requires: `"public"`, `"authenticated"`, or an object with one key: `all` or
/// `any` (nested requirements), `permissions`, `roles` or `scopes` (names), `caller`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawRequire {
    Public,
    Authenticated,
    All(Vec<RawRequire>),
    Any(Vec<RawRequire>),
    Permissions(RawNames),
    Roles(RawNames),
    Scopes(RawNames),
    Caller(RawCaller),
}

/// Names a caller must hold: a list (all of them), `{"all": [...]}` or `{"any": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawNames {
    All(Vec<String>),
    Any(Vec<String>),
}

/// `"user"` or `"client"` (a string only: serde would also read `{"user": null}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawCaller {
    User,
    Client,
}

/// `{"all": [...]}` or `{"any": [...]}`, the object form of [`RawNames`].
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum NamesOf {
    All(Vec<String>),
    Any(Vec<String>),
}

// The values with two shapes (a string or a list, or an object) read each shape with its own
// deserializer instead of `#[serde(untagged)]`, which would report any defect inside as "did
// not match any variant" at the outer path instead of naming it.
mod two_shapes {
    use super::{NamesOf, RawCaller, RawClaimPath, RawNames, RawPreset, RawRequire};
    use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer, StrDeserializer};
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
    use std::fmt;
    use std::marker::PhantomData;

    /// A visitor for `T`'s shapes, saying what it expected when given neither.
    struct Shapes<T>(&'static str, PhantomData<T>);

    impl<'de> Visitor<'de> for Shapes<RawPreset> {
        type Value = RawPreset;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<RawPreset, E> {
            Deserialize::deserialize(StrDeserializer::<E>::new(v)).map(RawPreset::Named)
        }
        fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawPreset, A::Error> {
            Deserialize::deserialize(MapAccessDeserializer::new(m)).map(RawPreset::Custom)
        }
    }

    impl<'de> Visitor<'de> for Shapes<RawNames> {
        type Value = RawNames;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<RawNames, A::Error> {
            Deserialize::deserialize(SeqAccessDeserializer::new(s)).map(RawNames::All)
        }
        fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawNames, A::Error> {
            Ok(match NamesOf::deserialize(MapAccessDeserializer::new(m))? {
                NamesOf::All(v) => RawNames::All(v),
                NamesOf::Any(v) => RawNames::Any(v),
            })
        }
    }

    impl<'de> Visitor<'de> for Shapes<RawClaimPath> {
        type Value = RawClaimPath;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<RawClaimPath, E> {
            Ok(RawClaimPath::Dotted(v.to_string()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<RawClaimPath, A::Error> {
            Deserialize::deserialize(SeqAccessDeserializer::new(s)).map(RawClaimPath::Keys)
        }
    }

    impl<'de> Visitor<'de> for Shapes<RawRequire> {
        type Value = RawRequire;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        // By hand, not serde's enum reading: that would also take a word from a one-key map
        // (`{"public": null}`, a public rule that does not look like one).
        fn visit_str<E: Error>(self, v: &str) -> Result<RawRequire, E> {
            match v {
                "public" => Ok(RawRequire::Public),
                "authenticated" => Ok(RawRequire::Authenticated),
                other => Err(E::unknown_variant(other, REQUIREMENTS)),
            }
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<RawRequire, A::Error> {
            let Some(key) = m.next_key::<String>()? else {
                return Err(A::Error::custom(
                    "an empty requirement (all, any, permissions, roles, scopes or caller)",
                ));
            };
            let r = match key.as_str() {
                "all" => RawRequire::All(m.next_value()?),
                "any" => RawRequire::Any(m.next_value()?),
                "permissions" => RawRequire::Permissions(m.next_value()?),
                "roles" => RawRequire::Roles(m.next_value()?),
                "scopes" => RawRequire::Scopes(m.next_value()?),
                "caller" => RawRequire::Caller(m.next_value()?),
                other => return Err(A::Error::unknown_variant(other, &REQUIREMENTS[2..])),
            };
            match m.next_key::<String>()? {
                None => Ok(r),
                Some(k) => Err(A::Error::custom(format!(
                    "a requirement has one key; combine with {{\"all\": [...]}} instead of adding {k:?}"
                ))),
            }
        }
    }

    const REQUIREMENTS: &[&str] = &[
        "public",
        "authenticated",
        "all",
        "any",
        "permissions",
        "roles",
        "scopes",
        "caller",
    ];

    impl<'de> Visitor<'de> for Shapes<RawCaller> {
        type Value = RawCaller;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<RawCaller, E> {
            match v {
                "user" => Ok(RawCaller::User),
                "client" => Ok(RawCaller::Client),
                other => Err(E::unknown_variant(other, &["user", "client"])),
            }
        }
    }

    impl<'de> Deserialize<'de> for RawCaller {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_str(Shapes::<RawCaller>("\"user\" or \"client\"", PhantomData))
        }
    }

    /// A word from a string, an object form from a map with exactly one key (serde's enum
    /// reading alone reports a second key as "expected value").
    impl<'de> Deserialize<'de> for RawRequire {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Shapes::<RawRequire>(
                "\"public\", \"authenticated\" or an object with one key (all, any, permissions, \
                 roles, scopes, caller)",
                PhantomData,
            ))
        }
    }

    impl<'de> Deserialize<'de> for RawPreset {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Shapes::<RawPreset>(
                "a preset name (auth0, clerk, keycloak, workos, logto, stytch), \
                 {\"auth0\": {\"roles\": ...}} or {\"generic\": {...}}",
                PhantomData,
            ))
        }
    }

    impl<'de> Deserialize<'de> for RawNames {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Shapes::<RawNames>(
                "an array of names, or {\"all\": [...]} / {\"any\": [...]}",
                PhantomData,
            ))
        }
    }

    impl<'de> Deserialize<'de> for RawClaimPath {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(Shapes::<RawClaimPath>(
                "a claim path: a dotted string or an array of keys",
                PhantomData,
            ))
        }
    }
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "multiOrg")
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMultiOrg {
    /// Claim path listing every org id the caller belongs to.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "ClaimPath"))]
    pub claim: RawClaimPath,
    /// `active_org` (default): permissions count only in the token's active org;
    /// `all_listed_orgs`: the token's permissions apply in every listed org.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(extend("enum" = ["active_org", "all_listed_orgs"])))]
    pub permissions: Option<String>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "jwksTiming")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJwksTiming {
    pub default_ttl_s: Option<u64>,
    pub min_ttl_s: Option<u64>,
    pub max_ttl_s: Option<u64>,
    #[cfg_attr(not(target_arch = "wasm32"), schemars(range(min = 1)))]
    pub refetch_window_s: Option<u64>,
    pub max_stale_s: Option<u64>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "rule")
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(pattern(r"^[A-Za-z0-9._:-]{1,64}$"))
    )]
    pub id: String,
    #[serde(default)]
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(length(min = 1), inner(pattern(r"^([A-Za-z]+|\*)$")))
    )]
    pub methods: Option<Vec<String>>,
    #[cfg_attr(not(target_arch = "wasm32"), schemars(pattern(r"^/")))]
    pub path: String,
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Requirement"))]
    pub require: RawRequire,
    /// An org rule with this marker may loosen the base rule it overlaps.
    #[serde(default)]
    pub loosen: bool,
    /// `assets` (the org's static site) or an origin URL; default: the org's/tenant's origin.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Upstream>"))]
    pub upstream: Option<String>,
    /// Origins (`https://app.example.com`) whose cross-site requests may ride on the session
    /// cookie for this route (with CORS at the origin): the resource-isolation opt-out.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<Origin>"))]
    pub cross_site_origins: Vec<String>,
    /// Step-up: how (and how recently) the person must have authenticated (RFC 9470).
    #[serde(default)]
    pub step_up: Option<RawStepUp>,
    /// CORS for this route (replaces the tenant's; an org rule's replaces a base rule's).
    #[serde(default)]
    pub cors: Option<RawCors>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "revocation")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRevocation {
    /// How long an isolate keeps a revocation set before reading KV again (default 30).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(range(min = 1, max = 300)))]
    pub refresh_s: Option<u64>,
    /// The longest any accepted token lives (default 86400): revocation entries are kept this
    /// long (or the session TTL, if longer), after which nothing they cover can be valid.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(range(min = 60)))]
    pub max_token_lifetime_s: Option<u64>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "admin")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    /// The permission that makes a member an admin of *their* org (default `org:admin`).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(min = 1)))]
    pub permission: Option<String>,
    /// A permission that makes a token from a tenant issuer (one not bound to an org) an
    /// operator of every org; unset: no operators.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(min = 1)))]
    pub operator_permission: Option<String>,
    /// DNS-over-HTTPS resolver (JSON API) for domain verification (default Cloudflare's).
    #[serde(default)]
    pub dns_resolver: Option<String>,
    /// Hosts an org admin may take a logo from (besides `/_orggate/assets/`); unset: any https.
    #[serde(default)]
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(inner(pattern(r"^[A-Za-z0-9.-]+$")))
    )]
    pub logo_hosts: Option<Vec<String>>,
    /// What an org admin's IdP claim rules may grant; unset: anything.
    #[serde(default)]
    pub grantable_permissions: Option<Vec<String>>,
    #[serde(default)]
    pub grantable_roles: Option<Vec<String>>,
}

#[cfg_attr(not(target_arch = "wasm32"), derive(JsonSchema), schemars(rename = "cors", transform = cors_rules))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCors {
    /// Exact origins, or `"*"` (never with `credentials`).
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(
            length(min = 1),
            inner(regex(pattern = r#"^(\*|https?://[A-Za-z0-9.\[\]:-]+)$"#))
        )
    )]
    pub origins: Vec<String>,
    /// Default: GET, HEAD, POST, PUT, PATCH, DELETE.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Vec<HttpToken>>"))]
    pub methods: Option<Vec<String>>,
    /// Request headers a page may send; default: authorization, content-type, dpop.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Vec<HttpToken>>"))]
    pub headers: Option<Vec<String>>,
    /// Response headers a page may read (beyond the CORS-safelisted ones).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<HttpToken>"))]
    pub expose_headers: Vec<String>,
    /// Allow cookies (`Access-Control-Allow-Credentials: true`).
    #[serde(default)]
    pub credentials: bool,
    /// Preflight cache lifetime (default 600, at most 86400).
    #[serde(default)]
    pub max_age_s: Option<u64>,
}

#[cfg_attr(not(target_arch = "wasm32"), derive(JsonSchema), schemars(rename = "stepUp", extend("minProperties" = 1)))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStepUp {
    /// One of these `acr` values (authentication context classes).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<AuthContext>"))]
    pub acr_values: Vec<String>,
    /// At least one of these `amr` values (authentication methods, e.g. `mfa`, `otp`, `hwk`).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<AuthContext>"))]
    pub amr: Vec<String>,
    /// At most this long since the person authenticated (`auth_time`), in seconds.
    #[serde(default)]
    pub max_age_s: Option<u64>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "forwarding")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForwarding {
    /// Identity header prefix (default `x-orggate-`).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<HeaderName>"))]
    pub header_prefix: Option<String>,
    /// More client headers to strip (e.g. `x-user-id` an old origin trusted).
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<HeaderName>"))]
    pub strip_headers: Vec<String>,
    #[serde(default)]
    pub assertion: Option<RawAssertion>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "assertion")
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAssertion {
    /// Worker secret holding the Ed25519 private key (32 bytes, base64url).
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(min = 1)))]
    pub secret: String,
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(min = 1, max = 64)))]
    pub kid: String,
    #[serde(default)]
    pub ttl_s: Option<u64>,
    /// `aud` of the assertion (default: the origin URL).
    #[serde(default)]
    pub audience: Option<String>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "login")
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogin {
    /// The tenant's default OIDC issuer for browser login.
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Url"))]
    pub issuer: String,
    pub client_id: String,
    /// Name of the Worker secret holding the client secret.
    pub client_secret: String,
    #[serde(default)]
    pub scopes: Option<String>,
    /// `audience` parameter (Auth0) so the access token is a JWT for our API.
    #[serde(default)]
    pub audience: Option<String>,
    /// Worker secret with the session keyring (`kid:base64url32[,kid:...]`).
    #[serde(default)]
    pub session_keys: Option<String>,
    #[serde(default)]
    pub session_ttl_s: Option<u64>,
    /// Allow plain-http cookies for `localhost` hosts (local development only).
    #[serde(default)]
    pub insecure_dev_cookies: bool,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "cache")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    pub config_ttl_s: Option<u64>,
    pub negative_ttl_s: Option<u64>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "org")
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrg {
    #[cfg_attr(not(target_arch = "wasm32"), schemars(extend("const" = 1)))]
    pub version: u32,
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "OrgId"))]
    pub org_id: String,
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "OrgName"))]
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub branding: RawBranding,
    #[serde(default)]
    pub login: RawOrgLogin,
    #[serde(default)]
    pub routes: Vec<RawRule>,
    /// Issuers (by `iss`) whose tokens may act for this org (default: every issuer that allows it).
    #[serde(default)]
    pub issuers: Option<Vec<String>>,
    /// Client ids (`azp`/`client_id`) allowed to act for this org without an org claim.
    #[serde(default)]
    pub m2m_clients: Vec<String>,
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Url>"))]
    pub origin: Option<String>,
    /// Accept tokens whose `org_name` (not `org_id`) names this org.
    #[serde(default)]
    pub allow_org_name_match: bool,
    /// Accept tokens without an org claim (Auth0 "organization usage: allow").
    #[serde(default)]
    pub allow_personal_accounts: bool,
    /// Let `?access_token=` carry a token (RFC 6750 §2.3; off by default: URLs leak into logs).
    #[serde(default)]
    pub allow_query_token: bool,
    #[serde(default)]
    pub disabled: bool,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "branding")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBranding {
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<LogoUrl>"))]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub colors: RawColors,
    /// Extra CSS custom properties (`--radius: 8px`), names `[a-z0-9-]`, values validated.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "CssVars"))]
    pub css_vars: BTreeMap<String, String>,
    #[serde(default)]
    pub tagline: Option<String>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "colors")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColors {
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Color>"))]
    pub primary: Option<String>,
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Option<Color>"))]
    pub page_background: Option<String>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "orgLogin")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrgLogin {
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(max = 10)))]
    pub connections: Vec<RawConnection>,
    /// Offer "create an account" (`screen_hint=signup`).
    #[serde(default)]
    pub signup: bool,
    /// Passwordless email connection name (offers "email me a code").
    #[serde(default)]
    pub passwordless_connection: Option<String>,
    /// The org's own OIDC issuer instead of the tenant's.
    #[serde(default)]
    pub idp: Option<RawOrgIdp>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "connection")
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnection {
    #[cfg_attr(not(target_arch = "wasm32"), schemars(length(min = 1, max = 128)))]
    pub connection: String,
    pub label: String,
    /// `enterprise`, `social` or `database`.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(extend("enum" = ["enterprise", "social", "database"])))]
    pub kind: Option<String>,
}

#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(JsonSchema),
    schemars(rename = "orgIdp")
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrgIdp {
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Url"))]
    pub issuer: String,
    pub client_id: String,
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(pattern(r"^ORG_[A-Z0-9_]{1,60}$"))
    )]
    pub client_secret: String,
    /// Scopes to request (default `openid profile email`).
    #[serde(default)]
    pub scopes: Option<String>,
    /// Also read the identity from the IdP's userinfo endpoint (OIDC Core 5.3).
    #[serde(default)]
    pub userinfo: bool,
    /// Signature algorithms the IdP's ID tokens may use (default RS256, PS256, ES256, EdDSA).
    #[serde(default)]
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(with = "Option<Vec<IdpAlgorithm>>", length(min = 1))
    )]
    pub algorithms: Option<Vec<String>>,
    /// Only users whose verified email is in one of these domains may sign in.
    #[serde(default)]
    #[cfg_attr(
        not(target_arch = "wasm32"),
        schemars(inner(pattern(r"^[^@/ *.][^@/ *]*$")))
    )]
    pub allowed_email_domains: Vec<String>,
    /// IdP claims to orggate roles and permissions, applied on every request.
    #[serde(default)]
    pub claim_rules: Vec<RawClaimRule>,
}

/// `{"claim": "groups", "contains": "eng-admins", "roles": ["admin"]}`: when the claim (a string
/// or an array of strings) contains the value (or, with `equals`, is exactly the JSON value),
/// the member gets these roles and permissions.
#[cfg_attr(not(target_arch = "wasm32"), derive(JsonSchema), schemars(rename = "claimRule", transform = claim_rule_rules))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClaimRule {
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "ClaimPath"))]
    pub claim: RawClaimPath,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub equals: Option<Value>,
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<Grant>"))]
    pub roles: Vec<String>,
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), schemars(with = "Vec<Grant>"))]
    pub permissions: Vec<String>,
}
