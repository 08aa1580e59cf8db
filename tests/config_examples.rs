//! Every example config (and the demo's) passes the same validation the Worker runs; every
//! invalid example fails with the JSON path of its defect. `tests/e2e/schema.test.mjs` checks the
//! same files against `schema/orggate-config.schema.json`, so schema and Rust types agree.

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

/// Each invalid example, named by its defect, with the JSON path the error must name.
const INVALID: &[(&str, &str)] = &[
    ("alg-none.json", "$.issuers[0].algorithms[0]"),
    ("bad-caller.json", "$.routes[0].require.caller"),
    ("base-rule-loosen.json", "$.routes[0].loosen"),
    ("color-not-hex.json", "$.branding.colors.primary"),
    (
        "cors-any-origin-with-credentials.json",
        "$.routes[0].cors.credentials",
    ),
    ("css-url.json", "$.branding.css_vars.bg"),
    (
        "empty-permission-list.json",
        "$.routes[0].require.permissions",
    ),
    ("hs256-without-secret.json", "$.issuers[0].hs256_secret"),
    ("issuer-plain-http.json", "$.issuers[0].issuer"),
    ("issuer-without-audience.json", "$.issuers[0].audiences"),
    (
        "namespaced-claim-dotted.json",
        "$.issuers[0].preset.auth0.roles",
    ),
    ("nested-public.json", "$.routes[0].require.all"),
    (
        "org-idp-names-session-keys.json",
        "$.login.idp.client_secret",
    ),
    ("org-name-uppercase.json", "$.name"),
    ("step-up-empty.json", "$.routes[0].step_up"),
    ("unknown-field.json", "$.colour"),
    ("wrong-version.json", "$.version"),
];

#[test]
fn invalid_examples_fail_with_their_path() {
    let files = json_files("examples/invalid");
    assert_eq!(
        files.len(),
        INVALID.len(),
        "every invalid example has an expected path"
    );
    for (name, path) in INVALID {
        let text = fs::read_to_string(format!("examples/invalid/{name}")).unwrap();
        match check_document(&text) {
            Ok(kind) => panic!("{name} validated as {kind}"),
            Err(e) => assert_eq!(e.path, *path, "{name}: {e}"),
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
