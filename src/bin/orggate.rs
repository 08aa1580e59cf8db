//! The orggate CLI: `validate` config files, `explain` a decision, `mint` a dev token, `keys` for
//! fresh or rotated secrets, `kv` to push and pull config, `schema` for the config's JSON Schema. `orggate COMMAND --help` describes each.
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::run());
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use clap::{Args, Parser, Subcommand};
    use orggate::authz::path::normalize;
    use orggate::driver;
    use orggate::engine::Engine;
    use orggate::http::{Outcome, RequestView, UrlParts};
    use orggate::native::SystemClock;
    use orggate::org::policy::{parse_raw, AudiencePattern, TenantPolicy};
    use orggate::ports::{Clock, OrgStore};
    use orggate::testing::FakePorts;
    use serde_json::{Map, Value};
    use std::path::{Path, PathBuf};

    /// orggate's command line: check config, explain a decision, mint a development token, make
    /// secrets, and keep a config directory and Workers KV in step.
    #[derive(Parser)]
    #[command(name = "orggate", version, propagate_version = true)]
    struct Cli {
        #[command(subcommand)]
        command: Cmd,
    }

    #[derive(Subcommand)]
    enum Cmd {
        /// Checks config documents (settings, org documents, aliases) with the validation the
        /// Worker runs; prints each file's verdict and the JSON path of each error. Exit 1 if any
        /// is invalid.
        Validate {
            #[arg(required = true, value_name = "PATH")]
            paths: Vec<PathBuf>,
        },
        /// Runs the real pipeline on DIR's documents (dev/kv layout) for one request and prints
        /// the decision: the org and how it was found, the rule, the outcome and what the origin
        /// would receive. With claims, the token is signed with an ephemeral key the
        /// explanation's issuer is made to trust. Exit 0 if the request would be forwarded.
        Explain(ExplainArgs),
        /// Prints a signed development token (default: alice in acme, RS256, 5 minutes).
        Mint(MintArgs),
        /// Prints fresh secrets: SESSION_KEYS (a keyring, kid:base64url(32 bytes)) and
        /// ASSERTION_KEY (an Ed25519 seed, base64url(32 bytes)). Put them with `wrangler secret
        /// put NAME`.
        Keys(KeysArgs),
        /// Keeps a config directory (dev/kv layout: settings.json, org_*.json, aliases.json) and
        /// a KV namespace in step, through `wrangler kv` (ORGGATE_WRANGLER overrides the
        /// command).
        #[command(subcommand)]
        Kv(KvCmd),
        /// Prints the config's JSON Schema (generated from the config types; the copy in
        /// schema/orggate-config.schema.json is this output).
        Schema,
    }

    /// One convention for claims on every command: a file, `-` for stdin, or inline JSON.
    #[derive(Args)]
    struct ClaimsArg {
        /// The token's claims as a JSON file, or - to read them from stdin.
        #[arg(long, value_name = "FILE|-", conflicts_with = "claims_json")]
        claims: Option<PathBuf>,
        /// The token's claims as inline JSON.
        #[arg(long, value_name = "JSON")]
        claims_json: Option<String>,
    }

    impl ClaimsArg {
        fn text(&self) -> Result<Option<String>, String> {
            match (&self.claims, &self.claims_json) {
                (Some(p), _) if p.as_os_str() == "-" => {
                    let mut s = String::new();
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                        .map_err(|e| format!("stdin: {e}"))?;
                    Ok(Some(s))
                }
                (Some(p), _) => std::fs::read_to_string(p)
                    .map(Some)
                    .map_err(|e| format!("{}: {e}", p.display())),
                (None, j) => Ok(j.clone()),
            }
        }
    }

    #[derive(Args)]
    struct ExplainArgs {
        /// The config directory (dev/kv layout) read as KV.
        #[arg(long, value_name = "DIR")]
        config: PathBuf,
        /// The request's method.
        #[arg(long, default_value = "GET")]
        method: String,
        /// The request's absolute URL.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        claims: ClaimsArg,
        /// A request header; repeat for more.
        #[arg(long = "header", value_name = "NAME:VALUE", value_parser = header)]
        headers: Vec<(String, String)>,
    }

    fn header(s: &str) -> Result<(String, String), String> {
        let (k, v) = s.split_once(':').ok_or("a header is NAME:VALUE")?;
        Ok((k.trim().to_string(), v.trim().to_string()))
    }

    #[derive(Args)]
    struct MintArgs {
        /// The private JWK to sign with (RSA: RS256, EC P-256: ES256, OKP: EdDSA).
        #[arg(
            long,
            value_name = "JWK_FILE",
            default_value = "dev/keys/demo-rs256-1.jwk.json"
        )]
        key: PathBuf,
        #[command(flatten)]
        claims: ClaimsArg,
        /// Lifetime in seconds (unless the claims carry exp).
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        ttl: u64,
        /// The issuer (unless the claims carry iss).
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9000")]
        iss: String,
        /// The audience (unless the claims carry aud).
        #[arg(long, value_name = "AUD", default_value = "https://api.orggate.test")]
        aud: String,
    }

    #[derive(Args)]
    struct KeysArgs {
        /// Prints the keyring with a new key in front (new cookies use it) followed by the
        /// current keys (so existing sessions still open).
        #[arg(long, value_name = "CURRENT_SESSION_KEYS")]
        rotate: Option<String>,
        /// Keep at most N keys in all.
        #[arg(long, value_name = "N", default_value_t = 3,
              value_parser = clap::value_parser!(u16).range(1..))]
        keep: u16,
    }

    #[derive(Subcommand)]
    enum KvCmd {
        /// Validates every document first and pushes nothing if any is invalid; writes settings,
        /// org:{id}, name:{name} (derived from the documents, so they cannot disagree) and the
        /// aliases.
        Push {
            #[command(flatten)]
            at: KvAt,
            /// Print the keys instead of writing them.
            #[arg(long)]
            dry_run: bool,
        },
        /// Writes KV's settings, org documents and host:/domain: aliases into DIR.
        Pull {
            #[command(flatten)]
            at: KvAt,
        },
        /// What a push would add (+) or change (~), and keys only KV has (=). Exit 1 if a push
        /// would change something.
        Diff {
            #[command(flatten)]
            at: KvAt,
        },
    }

    /// Which directory, which namespace, and where it lives.
    #[derive(Args)]
    #[group(skip)]
    #[command(group(clap::ArgGroup::new("where").required(true).args(["local", "remote"])))]
    struct KvAt {
        /// The config directory (settings.json, org_*.json, aliases.json).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// The KV binding in wrangler.toml.
        #[arg(long, default_value = "ORGS")]
        binding: String,
        /// The local (miniflare) namespace.
        #[arg(long)]
        local: bool,
        /// Where local state is persisted (wrangler's --persist-to).
        #[arg(long, value_name = "PATH", requires = "local")]
        persist_to: Option<PathBuf>,
        /// The deployed namespace.
        #[arg(long)]
        remote: bool,
    }

    pub fn run() -> i32 {
        let cli = match Cli::try_parse() {
            Ok(c) => c,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() { 2 } else { 0 };
            }
        };
        let result = match cli.command {
            Cmd::Validate { paths } => Ok(validate(&paths)),
            Cmd::Explain(a) => explain(&a).map_err(|e| format!("explain: {e}")),
            Cmd::Mint(a) => mint(&a)
                .map(|t| {
                    println!("{t}");
                    0
                })
                .map_err(|e| format!("mint: {e}")),
            Cmd::Keys(a) => keys(&a)
                .map(|out| {
                    println!("{out}");
                    0
                })
                .map_err(|e| format!("orggate keys: {e}")),
            Cmd::Kv(c) => kv::run(&c).map_err(|e| format!("orggate kv: {e}")),
            Cmd::Schema => {
                println!("{}", orggate::org::schema::text());
                Ok(0)
            }
        };
        result.unwrap_or_else(|e| {
            eprintln!("{e}");
            2
        })
    }

    mod kv {
        use super::{KvAt, KvCmd};
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
        fn target(at: &KvAt) -> Vec<String> {
            let mut t = vec!["--binding".to_string(), at.binding.clone()];
            if at.remote {
                t.push("--remote".into());
            } else {
                t.push("--local".into());
                if let Some(p) = &at.persist_to {
                    t.push("--persist-to".into());
                    t.push(p.to_string_lossy().into_owned());
                }
            }
            t
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

        pub fn run(cmd: &KvCmd) -> Result<i32, String> {
            let (KvCmd::Push { at, .. } | KvCmd::Pull { at } | KvCmd::Diff { at }) = cmd;
            let dir = at.dir.as_path();
            let target = target(at);
            match cmd {
                KvCmd::Push { dry_run, .. } => {
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
                    if *dry_run {
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
                KvCmd::Pull { .. } => {
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
                KvCmd::Diff { .. } => {
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
            }
        }
    }

    fn random32() -> Result<String, String> {
        let mut b = [0u8; 32];
        getrandom::getrandom(&mut b).map_err(|e| format!("no randomness from the OS: {e}"))?;
        Ok(orggate::b64::encode(&b))
    }

    fn keys(args: &KeysArgs) -> Result<String, String> {
        let kid = format!("k{}", SystemClock.now());
        let fresh = format!("{kid}:{}", random32()?);
        let ring = match &args.rotate {
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
                    .take(usize::from(args.keep))
                    .collect::<Vec<_>>()
                    .join(",")
            }
        };
        let mut out = format!("SESSION_KEYS={ring}");
        if args.rotate.is_none() {
            out.push_str(&format!("\nASSERTION_KEY={}", random32()?));
        }
        Ok(out)
    }

    fn validate(paths: &[PathBuf]) -> i32 {
        let mut bad = 0;
        for path in paths {
            let p = path.display();
            match std::fs::read_to_string(path) {
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

    /// `explain` runs the Worker's own pipeline ([`orggate::driver`]) over in-memory ports: the
    /// config directory as KV, and, when claims are given, a token signed with a key that only
    /// this process knows and publishes to the in-memory IdP. What it prints is what the Worker
    /// decides for that request.
    fn explain(args: &ExplainArgs) -> Result<i32, String> {
        let method = args.method.to_ascii_uppercase();
        let url = args.url.as_str();
        let claims_text = args.claims.text()?;
        let ports = FakePorts::default();
        ports.clock.set_s(SystemClock.now().get());
        load_config_dir(&ports, &args.config)?;
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
        let mut headers = args.headers.clone();
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
    fn load_config_dir(ports: &FakePorts, dir: &Path) -> Result<(), String> {
        let read = |f: &str| {
            let p = dir.join(f);
            std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
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
        let now = SystemClock.now();
        claims.entry("iss").or_insert(issuer.issuer.clone().into());
        claims.entry("iat").or_insert(now.get().into());
        claims.entry("exp").or_insert(now.plus(300).get().into());
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

    /// What `mint` signs when given no claims: alice, a member of acme.
    const DEFAULT_CLAIMS: &str = r#"{"sub":"alice@acme.test","org_id":"org_acme","org_name":"acme","permissions":["read:reports","read:docs"]}"#;

    type Signer = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, String>>;

    fn mint(args: &MintArgs) -> Result<String, String> {
        use jwt_compact::alg::{Ed25519, Es256, Rsa, RsaPrivateKey};
        use jwt_compact::jwk::JsonWebKey;
        use jwt_compact::{Algorithm, AlgorithmSignature};
        let jwk_text = std::fs::read_to_string(&args.key)
            .map_err(|e| format!("{}: {e}", args.key.display()))?;
        let meta: Value = serde_json::from_str(&jwk_text).map_err(|e| e.to_string())?;
        let jwk: JsonWebKey<'_> = serde_json::from_str(&jwk_text).map_err(|e| e.to_string())?;
        let kid = meta.get("kid").and_then(Value::as_str).unwrap_or("dev");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let text = args
            .claims
            .text()?
            .unwrap_or_else(|| DEFAULT_CLAIMS.to_string());
        let mut claims: Map<String, Value> =
            serde_json::from_str(&text).map_err(|e| format!("claims: {e}"))?;
        claims.entry("iss").or_insert(args.iss.clone().into());
        claims.entry("aud").or_insert(args.aud.clone().into());
        claims.entry("iat").or_insert(now.into());
        claims
            .entry("exp")
            .or_insert(now.saturating_add(args.ttl).into());
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
