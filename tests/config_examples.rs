//! Every example config (and the demo's) passes the same validation the Worker runs; every
//! invalid example fails with the JSON path of its defect. `tests/e2e/schema.test.mjs` checks the
//! same files against `schema/orggate-config.schema.json`, so schema and Rust types agree; the
//! checked-in schema is what the types generate.

use orggate::org::policy::check_document;
use std::fs;

fn json_files(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path().to_string_lossy().to_string())
        .filter(|p| p.ends_with(".json"))
        .collect();
    v.sort();
    v
}

#[test]
fn valid_examples_validate() {
    let mut files = json_files("examples");
    files.extend(json_files("dev/kv"));
    assert!(files.len() >= 7, "examples present: {files:?}");
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        if let Err(e) = check_document(&text) {
            panic!("{f}: {e}");
        }
    }
}

/// Each invalid example, named by its defect, with the JSON path the error must name (one table
/// for this test and the schema's).
fn invalid() -> Vec<(String, String)> {
    fs::read_to_string("examples/invalid/paths.tsv")
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (f, p) = l.split_once('\t').expect("file<TAB>path");
            (f.to_string(), p.to_string())
        })
        .collect()
}

#[test]
fn invalid_examples_fail_with_their_path() {
    let files = json_files("examples/invalid");
    let expected = invalid();
    assert_eq!(
        files.len(),
        expected.len(),
        "every invalid example has an expected path"
    );
    for (name, path) in &expected {
        let text = fs::read_to_string(format!("examples/invalid/{name}")).unwrap();
        match check_document(&text) {
            Ok(kind) => panic!("{name} validated as {kind}"),
            Err(e) => assert_eq!(&e.path, path, "{name}: {e}"),
        }
    }
}

#[test]
fn unknown_field_error_names_the_field() {
    let text = fs::read_to_string("examples/invalid/unknown-field.json").unwrap();
    let e = check_document(&text).unwrap_err();
    assert!(e.reason.contains("colour"), "{e}");
}

/// Every ```json block of the README that is an issuer entry validates inside a settings
/// document, and equals an issuer of `examples/settings-multi-idp.json` (which
/// `tests/presets.rs` runs real tokens through): the README shows configs that work.
#[test]
fn readme_issuer_examples_validate_and_are_tested() {
    let readme = fs::read_to_string("README.md").unwrap();
    let example: serde_json::Value =
        serde_json::from_str(&fs::read_to_string("examples/settings-multi-idp.json").unwrap())
            .unwrap();
    let tested = example["issuers"].as_array().unwrap();
    let mut issuers = 0;
    for block in readme.split("```json\n").skip(1) {
        let text = block.split("```").next().unwrap();
        if !text.starts_with("{\"issuer\"") {
            continue; // other blocks are fragments of larger documents
        }
        let v: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => panic!("README issuer example does not parse ({e}):\n{text}"),
        };
        issuers += 1;
        let doc = serde_json::json!({"version": 1, "issuers": [v]});
        if let Err(e) = check_document(&doc.to_string()) {
            panic!("README issuer example: {e}\n{text}");
        }
        assert!(
            tested.contains(&v),
            "README issuer example not in examples/settings-multi-idp.json:\n{text}"
        );
    }
    assert!(issuers >= 6, "README issuer examples found: {issuers}");
}

/// The schema editors read is the one the config types generate (`make schema` rewrites it).
#[test]
fn checked_in_schema_is_generated_from_the_types() {
    let file = fs::read_to_string("schema/orggate-config.schema.json").unwrap();
    let generated = orggate::org::schema::text();
    assert!(
        file.trim_end() == generated,
        "schema/orggate-config.schema.json is out of date: run `make schema`"
    );
    // And it is a schema of the three documents, with the shapes the Worker checks.
    let v: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(v["oneOf"].as_array().map(Vec::len), Some(3));
    for def in [
        "settings",
        "org",
        "aliases",
        "rule",
        "issuer",
        "requirement",
        "url",
    ] {
        assert!(v["$defs"][def].is_object(), "$defs.{def}");
    }
    assert_eq!(v["$defs"]["settings"]["additionalProperties"], false);
    assert_eq!(
        v["$defs"]["org"]["required"],
        serde_json::json!(["version", "org_id", "name"])
    );
}

/// `require` and `preset` are typed (serde enums), and a defect inside them is still named by
/// its own path with what was expected there.
#[test]
fn require_and_preset_errors_name_the_defect() {
    let settings = |preset: &str, require: &str| {
        format!(
            r#"{{"version":1,"issuers":[{{"issuer":"https://idp.example/","audiences":["a"],
            "algorithms":["RS256"]{preset}}}],"routes":[{{"id":"r","path":"/x","require":{require}}}]}}"#
        )
    };
    let cases = [
        (
            r#","preset":"okta""#,
            r#""public""#,
            "$.issuers[0].preset",
            "`stytch`",
        ),
        (
            r#","preset":{"generic":{"org":"x"}}"#,
            r#""public""#,
            "$.issuers[0].preset.generic.org",
            "unknown field `org`",
        ),
        (
            r#","preset":{"generic":{"org_id":5}}"#,
            r#""public""#,
            "$.issuers[0].preset.generic.org_id",
            "a claim path",
        ),
        (
            r#","preset":{"generic":{"org_id":null,"org_name":"org"}}"#,
            r#""public""#,
            "$.issuers[0].preset.generic.org_id",
            "a claim path",
        ),
        (
            r#","preset":{"generic":{"roles":"groups"}}"#,
            r#""public""#,
            "$.issuers[0].preset.generic",
            "needs org_id or org_name",
        ),
        (
            "",
            r#"{"caller":"admin"}"#,
            "$.routes[0].require.caller",
            "`user` or `client`",
        ),
        (
            "",
            r#"{"permissions":"x"}"#,
            "$.routes[0].require.permissions",
            "an array of names",
        ),
        (
            "",
            r#"{"permissions":[1]}"#,
            "$.routes[0].require.permissions[0]",
            "a string",
        ),
        (
            "",
            r#"{"permissions":["a"],"roles":["b"]}"#,
            "$.routes[0].require",
            "one key",
        ),
        (
            "",
            r#""everyone""#,
            "$.routes[0].require",
            "`authenticated`",
        ),
        ("", "5", "$.routes[0].require", "an object with one key"),
        (
            "",
            r#"{"any":[{"permissions":{"some":["a"]}}]}"#,
            "$.routes[0].require.any[0].permissions.some",
            "`all` or `any`",
        ),
        ("", r#"{"all":[]}"#, "$.routes[0].require.all", "non-empty"),
        (
            "",
            r#"{"permissions":[""]}"#,
            "$.routes[0].require.permissions[0]",
            "non-empty",
        ),
    ];
    for (preset, require, path, says) in cases {
        let e = check_document(&settings(preset, require)).expect_err(require);
        assert_eq!(e.path, path, "{preset} {require}: {e}");
        assert!(e.reason.contains(says), "{preset} {require}: {e}");
    }
    // Both shapes of each still read.
    for (preset, require) in [
        (r#","preset":"keycloak""#, r#"{"roles":{"any":["a","b"]}}"#),
        (
            r#","preset":{"auth0":{"roles":["https://example.com/roles"]}}"#,
            r#"{"all":[{"caller":"user"},{"scopes":["read"]}]}"#,
        ),
        (
            r#","preset":{"generic":{"org_id":"tenant.id","permissions":["perms"]}}"#,
            r#""authenticated""#,
        ),
    ] {
        check_document(&settings(preset, require))
            .unwrap_or_else(|e| panic!("{preset} {require}: {e}"));
    }
}
