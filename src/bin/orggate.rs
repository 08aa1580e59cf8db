//! The orggate CLI: `validate` config files, `explain` a decision, `mint` a dev token, `keys` for
//! fresh or rotated secrets. `orggate COMMAND --help` describes each.
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::run(std::env::args().skip(1).collect()));
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use orggate::authz::path::normalize;
    use orggate::driver;
    use orggate::engine::Engine;
    use orggate::http::{Outcome, RequestView, UrlParts};
    use orggate::native::SystemClock;
    use orggate::org::policy::{parse_raw, AudiencePattern, TenantPolicy};
    use orggate::ports::{Clock, OrgStore};
    use orggate::testing::FakePorts;
    use serde_json::{Map, Value};

    const USAGE: &str = "usage:
  orggate validate PATH...
  orggate explain --config DIR --method GET --url URL [--claims FILE|- | --claims-json JSON] [--header NAME:VALUE]...
  orggate mint --key JWK_FILE [--claims JSON] [--ttl SECONDS] [--iss URL] [--aud AUD]
  orggate keys [--rotate CURRENT_SESSION_KEYS] [--keep N]
  orggate kv push|pull|diff DIR [--binding ORGS] (--local [--persist-to PATH] | --remote) [--dry-run]
  orggate COMMAND --help";

    const HELP: &[(&str, &str)] = &[
        ("validate", "orggate validate PATH...
  Checks config documents (settings, org documents, aliases) with the validation the Worker runs;
  prints each file's verdict and the JSON path of each error. Exit 1 if any is invalid."),
        ("explain", "orggate explain --config DIR --method GET --url URL [--claims FILE|- | --claims-json JSON] [--header NAME:VALUE]...
  Runs the real pipeline on DIR's documents (dev/kv layout) for one request and prints the
  decision: the org and how it was found, the rule, the outcome and what the origin would receive.
  --claims FILE (or - for stdin) or --claims-json: the token's claims; it is signed with an
  ephemeral key the explanation's issuer is made to trust."),
        ("mint", "orggate mint --key JWK_FILE [--claims JSON] [--ttl SECONDS] [--iss URL] [--aud AUD]
  Prints a signed development token (default: alice in acme, RS256, 5 minutes)."),
        ("keys", "orggate keys [--rotate CURRENT_SESSION_KEYS] [--keep N]
  Prints fresh secrets: SESSION_KEYS (a keyring, kid:base64url(32 bytes)) and ASSERTION_KEY
  (an Ed25519 seed, base64url(32 bytes)). With --rotate, prints the keyring with a new key in
  front (new cookies use it) followed by the current keys (so existing sessions still open),
  keeping at most N keys in all (default 3). Put the values with `wrangler secret put NAME`."),
        ("kv", "orggate kv push|pull|diff DIR [--binding ORGS] (--local [--persist-to PATH] | --remote) [--dry-run]
  DIR is laid out as dev/kv/: settings.json, org_*.json (one org document each), aliases.json
  (host: and domain: aliases). Goes through `wrangler kv` (ORGGATE_WRANGLER overrides the command).
  push   validates every document first and pushes nothing if any is invalid; writes settings,
         org:{id}, name:{name} (derived from the documents, so they cannot disagree) and the
         aliases. --dry-run prints the keys instead.
  pull   writes KV's settings, org documents and host:/domain: aliases into DIR.
  diff   what a push would add (+) or change (~), and keys only KV has (=). Exit 1 if a push
         would change something."),
    ];

    pub fn run(args: Vec<String>) -> i32 {
        let cmd = args.first().map(String::as_str);
        if args.iter().any(|a| a == "--help" || a == "-h") {
            match HELP.iter().find(|(c, _)| Some(*c) == cmd) {
                Some((_, h)) => println!("{h}"),
                None => println!("{USAGE}"),
            }
            return 0;
        }
        match cmd {
            Some("validate") => validate(&args[1..]),
            Some("explain") => explain(&args[1..]),
            Some("mint") => mint(&args[1..]),
            Some("keys") => keys(&args[1..]),
            Some("kv") => kv::run(&args[1..]),
            _ => {
                eprintln!("{USAGE}");
                2
            }
        }
    }

    mod kv {
        use super::flag;
        use orggate::kvdir::{diff, entries, Change};
        use std::collections::BTreeMap;
        use std::path::Path;
        use std::process::Command;

        /// `wrangler` as configured: ORGGATE_WRANGLER, else the project's, else npx.
        fn wrangler() -> Command {
            let spec = std::env::var("ORGGATE_WRANGLER").unwrap_or_else(|_| {
                if Path::new("node_modules/.bin/wrangler").exists() {
                    "node_modules/.bin/wrangler".into()
                } else {
                    "npx wrangler".into()
                }
            });
            let mut parts = spec.split_whitespace();
            let mut c = Command::new(parts.next().unwrap_or("npx"));
            c.args(parts);
            c.env("WRANGLER_SEND_METRICS", "false");
            c
        }

        /// `--binding B` and where: `--local [--persist-to P]` or `--remote`.
        fn target(args: &[String]) -> Result<Vec<String>, String> {
            let mut t = vec![
                "--binding".to_string(),
                flag(args, "--binding").unwrap_or("ORGS").to_string(),
            ];
            match (
                args.iter().any(|a| a == "--local"),
                args.iter().any(|a| a == "--remote"),
            ) {
                (true, false) => {
                    t.push("--local".into());
                    if let Some(p) = flag(args, "--persist-to") {
                        t.push("--persist-to".into());
                        t.push(p.into());
                    }
                }
                (false, true) => t.push("--remote".into()),
                _ => return Err("say where: --local or --remote".into()),
            }
            Ok(t)
        }

        fn wrangler_out(args: &[&str], target: &[String]) -> Result<String, String> {
            let out = wrangler()
                .args(args)
                .args(target)
                .output()
                .map_err(|e| format!("wrangler: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "wrangler {}: {}{}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        }

        /// The first JSON value in wrangler's output (it prints "Success!" after some of them).
        fn first_json(text: &str) -> Result<serde_json::Value, String> {
            let start = text.find(['[', '{']).ok_or("wrangler printed no JSON")?;
            serde_json::Deserializer::from_str(&text[start..])
                .into_iter::<serde_json::Value>()
                .next()
                .ok_or("wrangler printed no JSON")?
                .map_err(|e| format!("wrangler's JSON: {e}"))
        }

        fn temp_file(name: &str, content: &str) -> Result<std::path::PathBuf, String> {
            let p = std::env::temp_dir().join(format!("orggate-{}-{name}", std::process::id()));
            std::fs::write(&p, content).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok(p)
        }

        /// Every key and value in the namespace.
        fn remote(target: &[String]) -> Result<BTreeMap<String, String>, String> {
            let listed = first_json(&wrangler_out(&["kv", "key", "list"], target)?)?;
            let keys: Vec<String> = listed
                .as_array()
                .ok_or("wrangler kv key list: not a list")?
                .iter()
                .filter_map(|k| k["name"].as_str().map(str::to_string))
                .collect();
            if keys.is_empty() {
                return Ok(BTreeMap::new());
            }
            let file = temp_file(
                "keys.json",
                &serde_json::to_string(&keys).unwrap_or_default(),
            )?;
            let got = wrangler_out(&["kv", "bulk", "get", &file.to_string_lossy()], target);
            let _ = std::fs::remove_file(&file);
            let got = first_json(&got?)?;
            let mut out = BTreeMap::new();
            for k in keys {
                if let Some(v) = got[&k]["value"].as_str() {
                    out.insert(k, v.to_string());
                }
            }
            Ok(out)
        }

        pub fn run(args: &[String]) -> i32 {
            match run_inner(args) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("orggate kv: {e}");
                    2
                }
            }
        }

        fn run_inner(args: &[String]) -> Result<i32, String> {
            let (Some(cmd), Some(dir)) = (args.first(), args.get(1)) else {
                return Err("usage: orggate kv push|pull|diff DIR ... (see --help)".into());
            };
            let dir = Path::new(dir);
            let target = target(args)?;
            match cmd.as_str() {
                "push" => {
                    let local = match entries(dir) {
                        Ok(e) => e,
                        Err(errors) => {
                            for e in errors {
                                eprintln!("{e}");
                            }
                            eprintln!("orggate kv: nothing pushed");
                            return Ok(1);
                        }
                    };
                    if args.iter().any(|a| a == "--dry-run") {
                        for k in local.keys() {
                            println!("would put {k}");
                        }
                        return Ok(0);
                    }
                    let bulk: Vec<serde_json::Value> = local
                        .iter()
                        .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
                        .collect();
                    let file = temp_file(
                        "bulk.json",
                        &serde_json::to_string(&bulk).unwrap_or_default(),
                    )?;
                    let r = wrangler_out(&["kv", "bulk", "put", &file.to_string_lossy()], &target);
                    let _ = std::fs::remove_file(&file);
                    r?;
                    println!("pushed {} entries", local.len());
                    Ok(0)
                }
                "pull" => {
                    let kv = remote(&target)?;
                    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                    let mut aliases = BTreeMap::new();
                    let mut written = 0;
                    for (k, v) in &kv {
                        let file = if k == "settings" {
                            Some("settings.json".to_string())
                        } else if let Some(id) = k.strip_prefix("org:") {
                            Some(if id.starts_with("org_") {
                                format!("{id}.json")
                            } else {
                                format!("org_{id}.json")
                            })
                        } else {
                            if k.starts_with("host:") || k.starts_with("domain:") {
                                aliases.insert(k.clone(), v.clone());
                            }
                            None
                        };
                        if let Some(f) = file {
                            std::fs::write(dir.join(&f), v).map_err(|e| format!("{f}: {e}"))?;
                            written += 1;
                        }
                    }
                    if !aliases.is_empty() {
                        let text = serde_json::to_string_pretty(&aliases).unwrap_or_default();
                        std::fs::write(dir.join("aliases.json"), text + "\n")
                            .map_err(|e| format!("aliases.json: {e}"))?;
                    }
                    println!(
                        "pulled {written} documents and {} aliases into {}",
                        aliases.len(),
                        dir.display()
                    );
                    Ok(0)
                }
                "diff" => {
                    let local = entries(dir).map_err(|e| e.join("\n"))?;
                    let changes = diff(&local, &remote(&target)?);
                    let mut pending = false;
                    for c in &changes {
                        match c {
                            Change::Add(k) => {
                                pending = true;
                                println!("+ {k}");
                            }
                            Change::Update(k) => {
                                pending = true;
                                println!("~ {k}");
                            }
                            Change::OnlyInKv(k) => println!("= {k} (only in KV)"),
                        }
                    }
                    if !pending {
                        println!("KV has everything in {}", dir.display());
                    }
                    Ok(i32::from(pending))
                }
                other => Err(format!("unknown kv command {other:?}")),
            }
        }
    }

    fn random32() -> Result<String, String> {
        let mut b = [0u8; 32];
        getrandom::getrandom(&mut b).map_err(|e| format!("no randomness from the OS: {e}"))?;
        Ok(orggate::b64::encode(&b))
    }

    fn keys(args: &[String]) -> i32 {
        match keys_inner(args) {
            Ok(out) => {
                println!("{out}");
                0
            }
            Err(e) => {
                eprintln!("orggate keys: {e}");
                2
            }
        }
    }

    fn keys_inner(args: &[String]) -> Result<String, String> {
        let keep: usize = flag(args, "--keep")
            .unwrap_or("3")
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or("--keep is a number of keys, at least 1")?;
        let kid = format!("k{}", SystemClock.now_ms() / 1000);
        let fresh = format!("{kid}:{}", random32()?);
        let ring = match flag(args, "--rotate") {
            None => fresh,
            Some(current) => {
                orggate::session::Keyring::parse(current)
                    .map_err(|e| format!("--rotate: not a keyring ({e:?})"))?;
                if current
                    .split(',')
                    .any(|k| k.split(':').next() == Some(kid.as_str()))
                {
                    return Err("a key with this second's id exists; try again in a second".into());
                }
                std::iter::once(fresh.as_str())
                    .chain(current.split(','))
                    .take(keep)
                    .collect::<Vec<_>>()
                    .join(",")
            }
        };
        let mut out = format!("SESSION_KEYS={ring}");
        if flag(args, "--rotate").is_none() {
            out.push_str(&format!("\nASSERTION_KEY={}", random32()?));
        }
        Ok(out)
    }

    fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    }

    fn validate(paths: &[String]) -> i32 {
        if paths.is_empty() {
            eprintln!("{USAGE}");
            return 2;
        }
        let mut bad = 0;
        for p in paths {
            match std::fs::read_to_string(p) {
                Err(e) => {
                    println!("{p}: cannot read: {e}");
                    bad += 1;
                }
                Ok(text) => match orggate::org::policy::check_document(&text) {
                    Ok(kind) => println!("{p}: ok ({kind})"),
                    Err(e) => {
                        println!("{p}: {}: {}", e.path, e.reason);
                        bad += 1;
                    }
                },
            }
        }
        i32::from(bad > 0)
    }

    fn explain(args: &[String]) -> i32 {
        match explain_inner(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("explain: {e}");
                2
            }
        }
    }

    /// `explain` runs the Worker's own pipeline ([`orggate::driver`]) over in-memory ports: the
    /// config directory as KV, and, when claims are given, a token signed with a key that only
    /// this process knows and publishes to the in-memory IdP. What it prints is what the Worker
    /// decides for that request.
    fn explain_inner(args: &[String]) -> Result<i32, String> {
        let dir = flag(args, "--config").ok_or("--config DIR is required")?;
        let method = flag(args, "--method").unwrap_or("GET").to_ascii_uppercase();
        let url = flag(args, "--url").ok_or("--url is required")?;
        let claims_text = match (flag(args, "--claims"), flag(args, "--claims-json")) {
            (Some("-"), _) => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| format!("stdin: {e}"))?;
                Some(s)
            }
            (Some(f), _) => Some(std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?),
            (None, Some(j)) => Some(j.to_string()),
            _ => None,
        };
        let ports = FakePorts::default();
        ports.clock.0.set(SystemClock.now_ms());
        load_config_dir(&ports, dir)?;
        let settings = ports
            .store
            .get("settings")
            .ok()
            .flatten()
            .ok_or("settings.json is missing")?;
        let tenant = TenantPolicy::parse(&settings).map_err(|e| format!("settings.json: {e}"))?;
        for name in secret_names(&tenant) {
            ports.secrets.set(&name, &random_secret(&name));
        }
        let mut headers: Vec<(String, String)> = args
            .windows(2)
            .filter(|w| w[0] == "--header")
            .filter_map(|w| w[1].split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        if let Some(text) = claims_text {
            let token = sign_for_explain(&ports, &tenant, &text)?;
            headers.push(("authorization".into(), format!("Bearer {token}")));
        }
        if let Some(parts) = UrlParts::parse(url) {
            if let Ok(p) = normalize(parts.path) {
                println!("path: {} (normalized)", p.as_str());
            }
        }
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let req = RequestView::new(&method, url, &h);
        let engine = Engine::new();
        let handled = driver::run(&ports, &engine, req.clone());
        let log = &handled.log;
        match (&log.org, log.resolved_via) {
            (Some(o), Some(via)) => {
                let name = org_name(&ports, o).unwrap_or_default();
                println!("org: {o} ({name}) via {via}");
            }
            _ => println!("org: none resolved"),
        }
        if let Some(rule) = &log.rule {
            println!("rule: {rule}");
        }
        println!("log: {}", log.to_json_line());
        Ok(match &handled.outcome {
            Outcome::Forward(f) => {
                println!("decision: allow ({})", log.reasons.join(", "));
                println!("upstream: {}", f.url);
                for (k, v) in f.apply(&req.headers) {
                    if k.starts_with("x-orggate-") && k != "x-orggate-assertion" {
                        println!("  {k}: {v}");
                    }
                }
                0
            }
            Outcome::Respond(r) => {
                let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                let reason = body
                    .get("reason")
                    .and_then(Value::as_str)
                    .or(log.reasons.first().map(String::as_str))
                    .unwrap_or("");
                match r.status {
                    403 if reason == "missing_requirement" => {
                        let missing: Vec<&str> = body["missing"]
                            .as_array()
                            .map(|a| a.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        println!("decision: deny 403 (missing {})", missing.join(", "));
                    }
                    403 => println!("decision: deny 403 ({reason})"),
                    302 | 303 => println!(
                        "decision: login ({} -> {})",
                        r.status,
                        r.get_header("location").unwrap_or("")
                    ),
                    s => println!("decision: refuse {s} ({reason})"),
                }
                i32::from(r.status >= 300)
            }
        })
    }

    fn org_name(ports: &FakePorts, org_id: &str) -> Option<String> {
        let text = ports.store.get(&format!("org:{org_id}")).ok().flatten()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        v.get("name")?.as_str().map(str::to_string)
    }

    /// The config directory as KV: `settings.json`, `org_*.json` under `org:{id}`, and the alias
    /// keys of `aliases.json`.
    fn load_config_dir(ports: &FakePorts, dir: &str) -> Result<(), String> {
        let read = |f: &str| {
            std::fs::read_to_string(format!("{dir}/{f}")).map_err(|e| format!("{dir}/{f}: {e}"))
        };
        ports.store.put("settings", &read("settings.json")?);
        for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("org_") && name.ends_with(".json") {
                let text = read(&name)?;
                let v: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
                let id = v
                    .get("org_id")
                    .and_then(Value::as_str)
                    .ok_or(format!("{name}: no org_id"))?;
                ports.store.put(&format!("org:{id}"), &text);
            }
        }
        if let Ok(text) = read("aliases.json") {
            let aliases: Map<String, Value> = parse_raw(&text).map_err(|e| e.to_string())?;
            for (k, v) in aliases {
                if let Some(id) = v.as_str() {
                    ports.store.put(&k, id);
                }
            }
        }
        Ok(())
    }

    /// Every secret the settings name (all get throwaway values: explain signs nothing real).
    fn secret_names(t: &TenantPolicy) -> Vec<String> {
        let mut n = Vec::new();
        if let Some(l) = &t.login {
            n.push(l.session_keys.clone());
            n.push(l.client_secret.clone());
        }
        if let Some(a) = &t.assertion {
            n.push(a.secret.clone());
        }
        n.extend(t.issuers().filter_map(|i| i.hs256_secret.clone()));
        n
    }

    /// 32 bytes from the clock through SHA-256: never leaves this process.
    fn random_bytes(label: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Sha256::digest(format!("{label}\0{nanos}\0{}", std::process::id()).as_bytes()).into()
    }

    fn random_secret(name: &str) -> String {
        let b = orggate::b64::encode(&random_bytes(name));
        if name.contains("SESSION") {
            format!("explain:{b}")
        } else {
            b
        }
    }

    /// Signs `claims` as their issuer would, with a key only this process has, and publishes
    /// that key where the pipeline will look for the issuer's keys.
    fn sign_for_explain(
        ports: &FakePorts,
        tenant: &TenantPolicy,
        text: &str,
    ) -> Result<String, String> {
        use orggate::token::jws::Alg;
        let mut claims: Map<String, Value> =
            serde_json::from_str(text).map_err(|e| format!("claims: {e}"))?;
        let issuers: Vec<_> = tenant.issuers().collect();
        let issuer = match claims.get("iss").and_then(Value::as_str) {
            Some(iss) => tenant
                .issuer(iss)
                .ok_or_else(|| format!("claims iss {iss:?} is not a configured issuer"))?,
            None if issuers.len() == 1 => issuers[0],
            None => return Err("claims need an iss (several issuers are configured)".into()),
        };
        let now = SystemClock.now_ms() / 1000;
        claims.entry("iss").or_insert(issuer.issuer.clone().into());
        claims.entry("iat").or_insert(now.into());
        claims.entry("exp").or_insert((now + 300).into());
        if !claims.contains_key("aud") {
            let aud = issuer.audiences.iter().find_map(|a| match a {
                AudiencePattern::Exact(a) => Some(a.clone()),
                AudiencePattern::OrgTemplate { .. } => None,
            });
            if let Some(a) = aud {
                claims.insert("aud".into(), a.into());
            }
        }
        let alg = [
            Alg::EdDSA,
            Alg::ES256,
            Alg::RS256,
            Alg::PS256,
            Alg::RS384,
            Alg::RS512,
            Alg::HS256,
        ]
        .into_iter()
        .find(|a| issuer.algorithms.contains(a))
        .ok_or("the issuer allows no algorithm explain can sign with")?;
        let header =
            serde_json::json!({"alg": alg.name(), "typ": "at+jwt", "kid": "orggate-explain"});
        let input = format!(
            "{}.{}",
            orggate::b64::encode(header.to_string().as_bytes()),
            orggate::b64::encode(Value::Object(claims).to_string().as_bytes())
        );
        let (sig, public) = sign_input(alg, input.as_bytes(), ports, issuer)?;
        if let Some(jwk) = public {
            let jwks = serde_json::json!({ "keys": [jwk] }).to_string();
            let jwks_uri = match &issuer.jwks_uri {
                Some(u) => u.clone(),
                None => {
                    let u = format!(
                        "{}/.orggate-explain/jwks",
                        issuer.issuer.trim_end_matches('/')
                    );
                    let disco = serde_json::json!({
                        "issuer": issuer.issuer,
                        "authorization_endpoint": format!("{}/authorize", issuer.issuer),
                        "token_endpoint": format!("{}/token", issuer.issuer),
                        "jwks_uri": u,
                    });
                    ports.http.answer(
                        &orggate::keys::discovery::discovery_url(&issuer.issuer),
                        200,
                        &disco.to_string(),
                        &[],
                    );
                    u
                }
            };
            ports.http.answer(&jwks_uri, 200, &jwks, &[]);
        }
        Ok(format!("{input}.{}", orggate::b64::encode(&sig)))
    }

    type Signed = (Vec<u8>, Option<Value>);

    fn sign_input(
        alg: orggate::token::jws::Alg,
        input: &[u8],
        ports: &FakePorts,
        issuer: &orggate::org::policy::IssuerPolicy,
    ) -> Result<Signed, String> {
        use jwt_compact::alg::{Es256, Hs256, Hs256Key, Rsa, RsaPrivateKey};
        use jwt_compact::jwk::JsonWebKey;
        use jwt_compact::{Algorithm, AlgorithmSignature};
        use orggate::token::jws::Alg;
        let public_of = |text: &str| -> Result<Value, String> {
            let mut v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            if let Some(m) = v.as_object_mut() {
                for k in ["d", "p", "q", "dp", "dq", "qi", "oth", "alg"] {
                    m.remove(k);
                }
                m.insert("kid".into(), "orggate-explain".into());
            }
            Ok(v)
        };
        match alg {
            Alg::EdDSA => {
                let seed = ed25519_compact::Seed::new(random_bytes("explain-eddsa"));
                let kp = ed25519_compact::KeyPair::from_seed(seed);
                let sig = kp.sk.sign(input, None).as_ref().to_vec();
                let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": "orggate-explain",
                    "x": orggate::b64::encode(kp.pk.as_ref())});
                Ok((sig, Some(jwk)))
            }
            Alg::ES256 => {
                let jwk: JsonWebKey<'_> =
                    serde_json::from_str(DEV_ES256).map_err(|e| e.to_string())?;
                let sk =
                    <Es256 as Algorithm>::SigningKey::try_from(&jwk).map_err(|e| e.to_string())?;
                Ok((
                    Es256.sign(&sk, input).as_bytes().to_vec(),
                    Some(public_of(DEV_ES256)?),
                ))
            }
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 => {
                let jwk: JsonWebKey<'_> =
                    serde_json::from_str(DEV_RS256).map_err(|e| e.to_string())?;
                let sk = RsaPrivateKey::try_from(&jwk).map_err(|e| e.to_string())?;
                let sig = Rsa::with_name(alg.name())
                    .sign(&sk, input)
                    .as_bytes()
                    .to_vec();
                Ok((sig, Some(public_of(DEV_RS256)?)))
            }
            Alg::HS256 => {
                let name = issuer.hs256_secret.as_deref().ok_or("no hs256_secret")?;
                let secret = ports.secrets.get(name).ok_or("no secret")?;
                let sig = Hs256
                    .sign(&Hs256Key::new(secret.as_bytes()), input)
                    .as_bytes()
                    .to_vec();
                Ok((sig, None))
            }
            other => Err(format!("explain cannot sign {}", other.name())),
        }
    }

    /// Keys for explain's in-memory IdP (the committed development keys; nothing real).
    const DEV_ES256: &str = include_str!("../../dev/keys/demo-es256-1.jwk.json");
    const DEV_RS256: &str = include_str!("../../dev/keys/demo-rs256-1.jwk.json");

    fn mint(args: &[String]) -> i32 {
        match mint_inner(args) {
            Ok(t) => {
                println!("{t}");
                0
            }
            Err(e) => {
                eprintln!("mint: {e}");
                2
            }
        }
    }

    type Signer = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, String>>;

    fn mint_inner(args: &[String]) -> Result<String, String> {
        use jwt_compact::alg::{Ed25519, Es256, Rsa, RsaPrivateKey};
        use jwt_compact::jwk::JsonWebKey;
        use jwt_compact::{Algorithm, AlgorithmSignature};
        let key_file = flag(args, "--key").unwrap_or("dev/keys/demo-rs256-1.jwk.json");
        let jwk_text = std::fs::read_to_string(key_file).map_err(|e| format!("{key_file}: {e}"))?;
        let meta: Value = serde_json::from_str(&jwk_text).map_err(|e| e.to_string())?;
        let jwk: JsonWebKey<'_> = serde_json::from_str(&jwk_text).map_err(|e| e.to_string())?;
        let kid = meta.get("kid").and_then(Value::as_str).unwrap_or("dev");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let ttl: u64 = flag(args, "--ttl")
            .unwrap_or("300")
            .parse()
            .map_err(|_| "--ttl is seconds")?;
        let mut claims: Map<String, Value> = serde_json::from_str(flag(args, "--claims").unwrap_or(
            r#"{"sub":"alice@acme.test","org_id":"org_acme","org_name":"acme","permissions":["read:reports","read:docs"]}"#,
        ))
        .map_err(|e| format!("--claims: {e}"))?;
        claims.entry("iss").or_insert(
            flag(args, "--iss")
                .unwrap_or("http://127.0.0.1:9000")
                .into(),
        );
        claims.entry("aud").or_insert(
            flag(args, "--aud")
                .unwrap_or("https://api.orggate.test")
                .into(),
        );
        claims.entry("iat").or_insert(now.into());
        claims.entry("exp").or_insert((now + ttl).into());
        let (alg, sign): (&str, Signer) = match meta.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let sk = RsaPrivateKey::try_from(&jwk).map_err(|e| e.to_string())?;
                (
                    "RS256",
                    Box::new(move |m| Ok(Rsa::rs256().sign(&sk, m).as_bytes().to_vec())),
                )
            }
            Some("EC") => {
                let sk =
                    <Es256 as Algorithm>::SigningKey::try_from(&jwk).map_err(|e| e.to_string())?;
                (
                    "ES256",
                    Box::new(move |m| Ok(Es256.sign(&sk, m).as_bytes().to_vec())),
                )
            }
            Some("OKP") => {
                let sk = <Ed25519 as Algorithm>::SigningKey::try_from(&jwk)
                    .map_err(|e| e.to_string())?;
                (
                    "EdDSA",
                    Box::new(move |m| Ok(Ed25519.sign(&sk, m).as_bytes().to_vec())),
                )
            }
            other => return Err(format!("unsupported key type {other:?}")),
        };
        let header = serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": kid});
        let input = format!(
            "{}.{}",
            orggate::b64::encode(header.to_string().as_bytes()),
            orggate::b64::encode(Value::Object(claims).to_string().as_bytes())
        );
        let sig = sign(input.as_bytes())?;
        Ok(format!("{input}.{}", orggate::b64::encode(&sig)))
    }
}
