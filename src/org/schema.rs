//! The config's JSON Schema, generated from the types in [`super::config`] (`orggate schema`;
//! native only, the Worker never carries it). Properties, required fields, defaults and
//! descriptions come from the types and their doc comments; the shared string shapes (URLs, org
//! ids, colours), the requirement grammar, presets and the few rules that span fields are the
//! named schemas below. `schema/orggate-config.schema.json` is this output, checked by a test.
//!
//! `require` and `preset` are typed in [`super::config`] but read by hand-written visitors (so
//! an error names the path of the defect); their schemas are written here, with the rules a
//! derive cannot state (one key per requirement object, no `"public"` inside `all`/`any`).

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};
use std::borrow::Cow;

/// The whole schema: one of a settings document, an org document or an alias map.
pub fn generate() -> Value {
    let mut g = SchemaSettings::draft2020_12().into_generator();
    let one_of = [
        g.subschema_for::<super::config::RawSettings>(),
        g.subschema_for::<super::config::RawOrg>(),
        g.subschema_for::<Aliases>(),
    ];
    let mut defs = g.take_definitions(true);
    defs.values_mut().for_each(drop_integer_formats);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://orggate.dev/schema/orggate-config.schema.json",
        "title": "orggate configuration (KV documents, version 1)",
        "description": "One of: the tenant `settings` document, an organization document \
            (`org:{org_id}`), or an alias map (`name:`/`host:`/`domain:` keys to org ids, as a bulk \
            file). Generated from orggate's config types by `orggate schema`; orggate validates \
            more at load (`orggate validate`) and reports the JSON path of the first bad field.",
        "oneOf": one_of,
        "$defs": defs,
    })
}

/// [`generate`] as the checked-in file holds it: pretty-printed, two-space indent.
pub fn text() -> String {
    serde_json::to_string_pretty(&generate()).unwrap_or_default()
}

/// schemars marks integers `uint64`/`uint32`, formats JSON Schema validators do not know; the
/// `minimum` it also writes says the same.
fn drop_integer_formats(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| f.starts_with("uint") || f.starts_with("int"))
            {
                m.remove("format");
            }
            m.values_mut().for_each(drop_integer_formats);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_integer_formats),
        _ => {}
    }
}

/// A schema-only type: a name in `$defs` and its schema.
macro_rules! named {
    ($(#[$doc:meta])* $ty:ident = $name:literal, $schema:tt) => {
        $(#[$doc])*
        pub struct $ty;
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

named!(
    /// An absolute `https` URL, or `http` on loopback (local development).
    Url = "url",
    {
        "type": "string",
        "pattern": "^(https://[^\\s]+|http://(127\\.0\\.0\\.1|localhost|\\[::1\\])([:/][^\\s]*)?)$",
        "maxLength": 2048
    }
);
named!(HeaderName = "headerName", {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$"});
named!(OrgId = "orgId", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"});
named!(OrgName = "orgName", {"type": "string", "pattern": "^[a-z0-9_-]{1,50}$"});
named!(Color = "color", {"type": "string", "pattern": "^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$"});
named!(
    /// An exact origin: scheme, host and port, no path.
    Origin = "origin",
    {"type": "string", "pattern": "^https?://[A-Za-z0-9.\\[\\]:-]+$"}
);
named!(
    /// An HTTP token (method or header name).
    HttpToken = "httpToken",
    {"type": "string", "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$"}
);
named!(
    /// A permission or role name: no spaces or commas.
    Grant = "grant",
    {"type": "string", "pattern": "^[^ ,]{1,128}$"}
);
named!(
    /// An `acr` or `amr` value.
    AuthContext = "authContext",
    {"type": "string", "pattern": "^[!#-+\\--\\[\\]-~]{1,256}$"}
);
named!(ClaimPath = "claimPath", {
    "oneOf": [
        {
            "type": "string",
            "minLength": 1,
            "pattern": "^(?!.*://)",
            "description": "Dotted path; a namespaced claim (https://...) must be written as a one-key array."
        },
        {"type": "array", "items": {"type": "string"}, "minItems": 1}
    ]
});
named!(Algorithm = "algorithm", {
    "enum": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256"]
});
named!(
    /// What an ID token from an org's own IdP may be signed with (no shared secrets).
    IdpAlgorithm = "idpAlgorithm",
    {"enum": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]}
);
named!(
    /// The org's logo: an https URL, or a file under `/_orggate/assets/`.
    LogoUrl = "logoUrl",
    {
        "oneOf": [
            {"allOf": [{"$ref": "#/$defs/url"}, {"pattern": "^[^\"'<>()]*$"}]},
            {"type": "string", "pattern": "^/_orggate/assets/[^\"'<>()\\s]+$"}
        ]
    }
);
named!(
    /// `assets` (the org's static site) or an origin URL.
    Upstream = "upstream",
    {"oneOf": [{"const": "assets"}, {"$ref": "#/$defs/url"}]}
);
named!(
    /// CSS custom properties: names `[a-z0-9-]`, plain values (no `url(`).
    CssVars = "cssVars",
    {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z0-9-]{1,32}$"},
        "additionalProperties": {
            "type": "string",
            "pattern": "^[A-Za-z0-9 #.,%()-]{0,64}$",
            "not": {"pattern": "[uU][rR][lL]\\("}
        }
    }
);
named!(
    /// How orggate reads an IdP's tokens: a preset name, Auth0 with a roles claim, or a
    /// generic mapping of claim paths.
    Preset = "preset",
    {
        "oneOf": [
            {"enum": ["auth0", "clerk", "keycloak", "workos", "logto", "stytch"]},
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["auth0"],
                "properties": {
                    "auth0": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["roles"],
                        "properties": {"roles": {"$ref": "#/$defs/claimPath"}}
                    }
                }
            },
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["generic"],
                "properties": {
                    "generic": {
                        "type": "object",
                        "additionalProperties": false,
                        "minProperties": 1,
                        "anyOf": [{"required": ["org_id"]}, {"required": ["org_name"]}],
                        "properties": {
                            "org_id": {"$ref": "#/$defs/claimPath"},
                            "org_name": {"$ref": "#/$defs/claimPath"},
                            "permissions": {"$ref": "#/$defs/claimPath"},
                            "roles": {"$ref": "#/$defs/claimPath"},
                            "subject": {"$ref": "#/$defs/claimPath"},
                            "client_id": {"$ref": "#/$defs/claimPath"}
                        }
                    }
                }
            }
        ]
    }
);

/// What a route requires: `public`, `authenticated`, or one of `all`, `any` (nested
/// requirements, never `public`), `permissions`, `roles`, `scopes` (a list, or `{"all": [...]}`
/// / `{"any": [...]}`) and `caller` (`user` or `client`).
pub struct Requirement;

impl JsonSchema for Requirement {
    fn schema_name() -> Cow<'static, str> {
        "requirement".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        for (name, schema) in [
            (
                "nonEmptyStrings",
                json!({"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}),
            ),
            (
                "listRequirement",
                json!({"oneOf": [
                    {"$ref": "#/$defs/nonEmptyStrings"},
                    {"type": "object", "additionalProperties": false, "required": ["all"],
                     "properties": {"all": {"$ref": "#/$defs/nonEmptyStrings"}}},
                    {"type": "object", "additionalProperties": false, "required": ["any"],
                     "properties": {"any": {"$ref": "#/$defs/nonEmptyStrings"}}}
                ]}),
            ),
            (
                "nestedRequirement",
                json!({
                    "description": "A requirement inside all/any: anything but \"public\".",
                    "oneOf": [{"const": "authenticated"}, {"$ref": "#/$defs/requirementObject"}]
                }),
            ),
            (
                "requirementObject",
                json!({
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "additionalProperties": false,
                    "properties": {
                        "all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/nestedRequirement"}},
                        "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/nestedRequirement"}},
                        "permissions": {"$ref": "#/$defs/listRequirement"},
                        "roles": {"$ref": "#/$defs/listRequirement"},
                        "scopes": {"$ref": "#/$defs/listRequirement"},
                        "caller": {"enum": ["user", "client"]}
                    }
                }),
            ),
        ] {
            g.definitions_mut().insert(name.into(), schema);
        }
        json_schema!({
            "oneOf": [{"enum": ["public", "authenticated"]}, {"$ref": "#/$defs/requirementObject"}]
        })
    }
}

/// A tenant (base) rule: a rule that cannot carry `loosen`, which only org rules may.
pub struct BaseRule;

impl JsonSchema for BaseRule {
    fn schema_name() -> Cow<'static, str> {
        "baseRule".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let rule = g.subschema_for::<super::config::RawRule>();
        json_schema!({
            "allOf": [rule, {"not": {"required": ["loosen"], "properties": {"loosen": {"const": true}}}}]
        })
    }
}

/// An alias map (a bulk file of `name:`/`host:`/`domain:` keys to org ids).
pub struct Aliases;

impl JsonSchema for Aliases {
    fn schema_name() -> Cow<'static, str> {
        "aliases".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let org_id = g.subschema_for::<OrgId>();
        json_schema!({
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^(name|host|domain):.+$"},
            "additionalProperties": org_id
        })
    }
}

/// The rules of an issuer that span fields: HS256 needs its secret; an issuer whose keys are
/// found by discovery must be a URL; only the presets whose tokens carry no `aud` may omit
/// `audiences`.
pub fn issuer_rules(s: &mut Schema) {
    s.insert(
        "allOf".into(),
        json!([
            {"if": {"properties": {"algorithms": {"contains": {"const": "HS256"}}}},
             "then": {"required": ["hs256_secret"]}},
            {"if": {"not": {"required": ["jwks_uri"]}},
             "then": {"properties": {"issuer": {"$ref": "#/$defs/url"}}}},
            {"if": {"not": {"properties": {"preset": {"enum": ["clerk", "workos"]}}, "required": ["preset"]}},
             "then": {"required": ["audiences"], "properties": {"audiences": {"minItems": 1}}}}
        ]),
    );
}

/// `"*"` never with credentials.
pub fn cors_rules(s: &mut Schema) {
    s.insert(
        "if".into(),
        json!({"properties": {"credentials": {"const": true}}, "required": ["credentials"]}),
    );
    s.insert(
        "then".into(),
        json!({"properties": {"origins": {"items": {"not": {"const": "*"}}}}}),
    );
}

/// A claim rule matches by `contains` or by `equals`, exactly one.
pub fn claim_rule_rules(s: &mut Schema) {
    s.insert(
        "oneOf".into(),
        json!([{"required": ["contains"]}, {"required": ["equals"]}]),
    );
}
