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
