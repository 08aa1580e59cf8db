//! Native benchmarks of the pure core (issue 6): route matching, token parsing, config compile.
//! `make bench-criterion` (part of `make bench`) runs them; BENCHMARKS.md records a run.
//!
//! These time the Rust alone, natively: in the Worker the same code runs as Wasm (typically
//! 1.5-3x slower) and is a small part of a request next to the host calls (see BENCHMARKS.md).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use orggate::authz::path::normalize;
use orggate::authz::routes::{MethodSet, Pattern, RouteTable, RouteTableBuilder};
use orggate::org::policy::OrgPolicy;
use orggate::token::jws;
use serde_json::{json, Value};

/// The benchmark rule plus `n - 1` others of mixed shapes, like bench/run.mjs's `manyRules`.
fn rules_json(n: usize) -> Vec<Value> {
    let mut rules = vec![json!({
        "id": "reports-read", "methods": ["GET", "HEAD"], "path": "/api/reports/*",
        "require": { "permissions": ["read:reports"] }
    })];
    let mut i = 0;
    while rules.len() < n {
        let (path, methods) = match i % 4 {
            0 => (format!("/api/svc{i}/*"), json!(["GET"])),
            1 => (format!("/api/reports/r{i}/:id"), json!(["GET"])),
            2 => (format!("/app/{i}/items/:item/*"), json!(["GET", "POST"])),
            _ => (format!("/api/v{i}/reports"), json!(["PUT"])),
        };
        rules.push(json!({
            "id": format!("rule-{i}"), "methods": methods, "path": path,
            "require": { "permissions": [format!("perm:{i}")] }
        }));
        i += 1;
    }
    rules
}

/// (methods, pattern) of each rule, as the config loader hands them to the route table.
fn rule_specs(n: usize) -> Vec<(Vec<String>, String)> {
    rules_json(n)
        .iter()
        .map(|r| {
            let methods = r["methods"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            (methods, r["path"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// Parses each rule's methods and pattern and builds the trie (what a config compile does).
fn table(specs: &[(Vec<String>, String)]) -> RouteTable<usize> {
    let mut b = RouteTableBuilder::new();
    for (i, (methods, path)) in specs.iter().enumerate() {
        let methods = MethodSet::from_names(methods).expect("bench rule methods");
        let pattern: Pattern = path.parse().expect("bench rule pattern");
        b.insert(methods, pattern, i)
            .expect("bench rules do not conflict");
    }
    b.build()
}

fn route_matching(c: &mut Criterion) {
    let mut g = c.benchmark_group("route_lookup");
    for n in [10, 1000] {
        let t = table(&rule_specs(n));
        assert_eq!(t.len(), n);
        let hit = normalize("/api/reports/q1").expect("path");
        let deep = normalize("/app/7/items/42/x/y").expect("path");
        let miss = normalize("/nothing/here").expect("path");
        g.bench_with_input(BenchmarkId::new("GET /api/reports/q1", n), &n, |b, _| {
            b.iter(|| black_box(t.lookup(black_box("GET"), &hit).map(|m| *m.value)))
        });
        g.bench_with_input(
            BenchmarkId::new("GET /app/7/items/42/x/y", n),
            &n,
            |b, _| b.iter(|| black_box(t.lookup(black_box("GET"), &deep).map(|m| *m.value))),
        );
        g.bench_with_input(BenchmarkId::new("GET miss", n), &n, |b, _| {
            b.iter(|| black_box(t.lookup(black_box("GET"), &miss).is_some()))
        });
        g.bench_with_input(BenchmarkId::new("normalize + lookup", n), &n, |b, _| {
            b.iter(|| {
                let p = normalize(black_box("/api/reports/2024/q1")).expect("path");
                black_box(t.lookup("GET", &p).map(|m| *m.value))
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("route_table_build");
    for n in [10, 1000] {
        let specs = rule_specs(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &specs, |b, specs| {
            b.iter(|| black_box(table(specs).len()))
        });
    }
    g.finish();
}

/// An Auth0 Organizations access token (RS256, 2048-bit signature), as bench/lib/tokens.mjs mints.
fn auth0_token() -> String {
    let header = json!({ "alg": "RS256", "typ": "at+jwt", "kid": "demo-rs256-1" });
    let payload = json!({
        "iss": "https://orggate.eu.auth0.com/",
        "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
        "aud": ["https://api.orggate.test", "https://orggate.eu.auth0.com/userinfo"],
        "iat": 1_764_320_000, "exp": 1_764_406_400,
        "scope": "openid profile email offline_access",
        "azp": "Zx8p2vYh3fQe7KbT1mN4aL6cR9sD0wGj",
        "jti": "b3Jn2m1FqX0kLz9s",
        "org_id": "org_acme", "org_name": "acme",
        "permissions": ["read:reports", "write:reports", "read:docs", "read:invoices",
            "write:invoices", "read:users", "read:projects", "write:projects", "read:audit",
            "export:reports"]
    });
    let enc = |v: &Value| orggate::b64::encode(v.to_string().as_bytes());
    format!(
        "{}.{}.{}",
        enc(&header),
        enc(&payload),
        orggate::b64::encode(&[0x5a; 256])
    )
}

fn claims_parsing(c: &mut Criterion) {
    let token = auth0_token();
    let mut g = c.benchmark_group("token");
    g.bench_function(
        format!("jws::parse auth0 access token ({} B)", token.len()),
        |b| b.iter(|| black_box(jws::parse(black_box(&token), 16 * 1024).map(|t| t.claims.len()))),
    );
    g.finish();
}

fn config_compile(c: &mut Criterion) {
    let acme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/dev/kv/org_acme.json"))
            .expect("dev/kv/org_acme.json");
    let mut doc: Value = serde_json::from_str(&acme).expect("acme json");
    doc["routes"] = Value::Array(rules_json(1000));
    let big = doc.to_string();
    assert!(OrgPolicy::parse(&acme).is_ok());
    assert!(
        OrgPolicy::parse(&big).is_ok(),
        "1,000-rule doc must compile"
    );
    let mut g = c.benchmark_group("org_policy_parse");
    g.bench_function("dev/kv/org_acme.json (4 rules)", |b| {
        b.iter(|| black_box(OrgPolicy::parse(black_box(&acme)).is_ok()))
    });
    g.sample_size(20);
    g.bench_function("acme with 1,000 rules", |b| {
        b.iter(|| black_box(OrgPolicy::parse(black_box(&big)).is_ok()))
    });
    g.finish();
}

criterion_group!(benches, route_matching, claims_parsing, config_compile);
criterion_main!(benches);
