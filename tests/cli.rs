//! The `orggate` binary: validate, explain, mint, keys, kv.

use std::process::Command;

fn orggate(args: &[&str]) -> (i32, String) {
    orggate_with_stdin(args, "")
}

fn orggate_with_stdin(args: &[&str], stdin: &str) -> (i32, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_orggate"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn validate_passes_the_demo_config() {
    let (code, out) = orggate(&[
        "validate",
        "dev/kv/settings.json",
        "dev/kv/org_acme.json",
        "dev/kv/org_globex.json",
        "dev/kv/aliases.json",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("dev/kv/org_acme.json: ok (org)"), "{out}");
}

#[test]
fn validate_reports_path_and_reason_and_fails() {
    let (code, out) = orggate(&[
        "validate",
        "dev/kv/org_acme.json",
        "examples/invalid/color-not-hex.json",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "examples/invalid/color-not-hex.json: $.branding.colors.primary: a hex colour"
        ),
        "{out}"
    );
}

#[test]
fn explain_allows_and_denies_with_reasons() {
    let alice = r#"{"iss":"http://127.0.0.1:9000","sub":"alice","org_id":"org_acme","org_name":"acme","permissions":["read:reports"]}"#;
    let (code, out) = orggate(&[
        "explain",
        "--config",
        "dev/kv",
        "--method",
        "GET",
        "--url",
        "http://acme.localhost:8787/api/reports/1",
        "--claims-json",
        alice,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("org: org_acme (acme) via host"), "{out}");
    assert!(out.contains("rule: org:reports-read"), "{out}");
    assert!(out.contains("decision: allow"), "{out}");
    let (code, out) = orggate(&[
        "explain",
        "--config",
        "dev/kv",
        "--method",
        "POST",
        "--url",
        "http://acme.localhost:8787/api/reports/1",
        "--claims-json",
        alice,
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("decision: deny 403 (missing permission:write:reports)"),
        "{out}"
    );
    let (code, out) = orggate(&[
        "explain",
        "--config",
        "dev/kv",
        "--url",
        "http://globex.localhost:8787/api/reports/1",
        "--claims-json",
        alice,
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("decision: refuse 401 (org_mismatch)"), "{out}");
    let (code, out) = orggate(&[
        "explain",
        "--config",
        "dev/kv",
        "--url",
        "http://acme.localhost:8787/public/../admin/x",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("path: /admin/x (normalized)"), "{out}");
}

#[test]
fn mint_makes_a_token_the_core_accepts() {
    let (code, token) = orggate(&["mint", "--key", "dev/keys/demo-es256-1.jwk.json"]);
    assert_eq!(code, 0, "{token}");
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3);
    let parsed = orggate::token::jws::parse(token, 16 * 1024).unwrap();
    assert_eq!(parsed.header.alg, orggate::token::jws::Alg::ES256);
    assert_eq!(parsed.header.kid.as_deref(), Some("demo-es256-1"));
    assert_eq!(parsed.claims["org_id"], "org_acme");
}

/// `keys` prints a session keyring and an assertion seed the Worker accepts; `--rotate` puts a
/// new key in front of the current ones (old sessions still open) and keeps at most `--keep`.
#[test]
fn keys_are_fresh_and_rotate() {
    let value = |out: &str, name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_string()
    };
    let (code, a) = orggate(&["keys"]);
    assert_eq!(code, 0, "{a}");
    let (_, b) = orggate(&["keys"]);
    let ring = value(&a, "SESSION_KEYS");
    assert!(orggate::session::Keyring::parse(&ring).is_ok(), "{ring}");
    assert_ne!(ring, value(&b, "SESSION_KEYS"), "fresh every time");
    let seed = orggate::b64::decode(&value(&a, "ASSERTION_KEY")).unwrap();
    assert_eq!(seed.len(), 32);

    let current = "old2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,old1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA";
    let (code, r) = orggate(&["keys", "--rotate", current, "--keep", "2"]);
    assert_eq!(code, 0, "{r}");
    let rotated = value(&r, "SESSION_KEYS");
    let ids: Vec<&str> = rotated
        .split(',')
        .map(|k| k.split(':').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0].starts_with('k') && ids[1] == "old2", "{rotated}");
    assert!(orggate::session::Keyring::parse(&rotated).is_ok());
    let (code, _) = orggate(&["keys", "--rotate", "not a keyring"]);
    assert_eq!(code, 2);
}

#[test]
fn every_command_has_help() {
    for cmd in [
        &["validate"][..],
        &["explain"],
        &["mint"],
        &["keys"],
        &["kv"],
        &["kv", "push"],
        &["kv", "pull"],
        &["kv", "diff"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let (code, out) = orggate(&args);
        let name = cmd.join(" ");
        assert_eq!(code, 0, "{name}: {out}");
        assert!(
            out.contains(&format!("Usage: orggate {name}")),
            "{name}: {out}"
        );
    }
}

/// A mistyped flag is an error (exit 2, naming it), never silently ignored; so is a missing
/// choice of where KV lives.
#[test]
fn unknown_or_missing_arguments_are_refused() {
    let (code, out) = orggate(&["mint", "--claim", "{}"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unexpected argument '--claim'"), "{out}");
    let (code, out) = orggate(&["kv", "push", "dev/kv"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--local|--remote"), "{out}");
    let (code, out) = orggate(&["kv", "push", "dev/kv", "--local", "--remote"]);
    assert_eq!(code, 2, "{out}");
    let (code, out) = orggate(&["keys", "--keep", "0"]);
    assert_eq!(code, 2, "{out}");
}

/// `--claims` is a file, or `-` for stdin, on every command that takes claims.
#[test]
fn claims_come_from_a_file_or_stdin() {
    let claims = r#"{"sub":"bob@globex.test","org_id":"org_globex","permissions":[]}"#;
    let (code, token) = orggate_with_stdin(&["mint", "--claims", "-"], claims);
    assert_eq!(code, 0, "{token}");
    let parsed = orggate::token::jws::parse(token.trim(), 16 * 1024).unwrap();
    assert_eq!(parsed.claims["org_id"], "org_globex");
    assert_eq!(parsed.claims["iss"], "http://127.0.0.1:9000");

    let file = std::env::temp_dir().join(format!("orggate-cli-claims-{}.json", std::process::id()));
    std::fs::write(&file, claims).unwrap();
    let (code, token) = orggate(&["mint", "--claims", file.to_str().unwrap(), "--ttl", "60"]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(code, 0, "{token}");
    let parsed = orggate::token::jws::parse(token.trim(), 16 * 1024).unwrap();
    assert_eq!(parsed.claims["sub"], "bob@globex.test");
    let (iat, exp) = (parsed.claims["iat"].as_u64(), parsed.claims["exp"].as_u64());
    assert_eq!(exp.unwrap() - iat.unwrap(), 60);

    // explain reads the same convention: bob is not in acme, so acme refuses him.
    let (code, out) = orggate_with_stdin(
        &[
            "explain",
            "--config",
            "dev/kv",
            "--url",
            "http://acme.localhost:8787/api/reports/1",
            "--claims",
            "-",
        ],
        &claims.replace('}', r#","iss":"http://127.0.0.1:9000"}"#),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("decision: refuse 401 (org_mismatch)"), "{out}");

    let (code, out) = orggate(&["mint", "--claims", "/nonexistent/claims.json"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("/nonexistent/claims.json"), "{out}");
}
