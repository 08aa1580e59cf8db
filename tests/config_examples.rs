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
    ("css-url.json", "$.branding.css_vars.bg"),
    (
        "empty-permission-list.json",
        "$.routes[0].require.permissions",
    ),
    ("hs256-without-secret.json", "$.issuers[0].hs256_secret"),
    ("issuer-plain-http.json", "$.issuers[0].issuer"),
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
