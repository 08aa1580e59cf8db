//! The orggate CLI: `validate` config files, `explain` a decision, `mint` a dev token.
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::run(std::env::args().skip(1).collect()));
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use orggate::authz::decision::{scope_to_org, Requirement};
    use orggate::authz::effective::{effective, Access};
    use orggate::authz::path::normalize;
    use orggate::engine::Engine;
    use orggate::http::UrlParts;
    use orggate::org::policy::{parse_raw, OrgPolicy, TenantPolicy};
    use orggate::org::resolve::{addressed, OrgRef};
    use orggate::token::claims::identity;
    use orggate::token::VerifiedClaims;
    use serde_json::{Map, Value};
    use std::collections::HashMap;
    use std::rc::Rc;

    const USAGE: &str = "usage:
  orggate validate PATH...
  orggate explain --config DIR --method GET --url URL (--claims FILE | --claims-json JSON)
  orggate mint --key JWK_FILE [--claims JSON] [--ttl SECONDS] [--iss URL] [--aud AUD]";

    pub fn run(args: Vec<String>) -> i32 {
        match args.first().map(String::as_str) {
            Some("validate") => validate(&args[1..]),
            Some("explain") => explain(&args[1..]),
            Some("mint") => mint(&args[1..]),
            _ => {
                eprintln!("{USAGE}");
                2
            }
        }
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

    fn explain_inner(args: &[String]) -> Result<i32, String> {
        let dir = flag(args, "--config").ok_or("--config DIR is required")?;
        let method = flag(args, "--method").unwrap_or("GET").to_ascii_uppercase();
        let url = flag(args, "--url").ok_or("--url is required")?;
        let claims_text = match (flag(args, "--claims"), flag(args, "--claims-json")) {
            (Some(f), _) => Some(std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?),
            (None, Some(j)) => Some(j.to_string()),
            _ => None,
        };
        let read = |f: &str| {
            std::fs::read_to_string(format!("{dir}/{f}")).map_err(|e| format!("{dir}/{f}: {e}"))
        };
        let tenant = TenantPolicy::parse(&read("settings.json")?).map_err(|e| e.to_string())?;
        let mut orgs: HashMap<String, OrgPolicy> = HashMap::new();
        for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("org_") && name.ends_with(".json") {
                let o = OrgPolicy::parse(&read(&name)?).map_err(|e| format!("{name}: {e}"))?;
                orgs.insert(o.org_id.clone(), o);
            }
        }
        let aliases: Map<String, Value> = read("aliases.json")
            .ok()
            .and_then(|t| parse_raw(&t).ok())
            .unwrap_or_default();
        let parts = UrlParts::parse(url).ok_or("not an absolute http(s) URL")?;
        let path = match normalize(parts.path) {
            Ok(p) => p,
            Err(e) => {
                println!("decision: refuse 400 ({})", e.reason());
                return Ok(1);
            }
        };
        println!("path: {} (normalized)", path.as_str());
        let addr = addressed(&tenant, parts.host, &path, None);
        let org_id = match addr.as_ref().map(|a| &a.org) {
            Some(OrgRef::Name(n)) => aliases
                .get(&format!("name:{n}"))
                .and_then(Value::as_str)
                .map(str::to_string),
            Some(OrgRef::Host(h)) => aliases
                .get(&format!("host:{h}"))
                .and_then(Value::as_str)
                .map(str::to_string),
            Some(OrgRef::Id(i)) => Some(i.clone()),
            None => None,
        };
        let Some(org) = org_id.as_ref().and_then(|id| orgs.get(id)) else {
            println!("org: none resolved\ndecision: refuse 404 (unknown_org)");
            return Ok(1);
        };
        let via = addr.as_ref().map_or("?", |a| a.via);
        println!("org: {} ({}) via {via}", org.org_id, org.name);
        let path = match addr.as_ref().map_or(0, |a| a.strip_segments) {
            0 => path,
            n => path.strip_prefix_segments(n),
        };
        let eff = effective(&tenant, org, &method, &path);
        println!("rule: {}", eff.rule);
        let req = match eff.access {
            Access::Deny(reason) => {
                println!("decision: deny 403 ({reason})");
                return Ok(1);
            }
            Access::Require(r) => r,
        };
        println!("requires: {req:?}");
        if req == Requirement::Public {
            println!("decision: allow (public)");
            return Ok(0);
        }
        let Some(text) = claims_text else {
            println!("decision: refuse 401 (no_credentials) — pass --claims to evaluate a caller");
            return Ok(1);
        };
        let claims: Map<String, Value> =
            serde_json::from_str(&text).map_err(|e| format!("claims: {e}"))?;
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let issuer = tenant
            .issuer(iss)
            .ok_or_else(|| format!("claims iss {iss:?} is not a configured issuer"))?;
        // explain evaluates claims as given: signature and time checks are out of scope here.
        let identity = match identity(&claims, &issuer.preset, issuer.multi_org_claim()) {
            Ok(i) => i,
            Err(e) => {
                println!("decision: refuse 401 (invalid_claim: {e})");
                return Ok(1);
            }
        };
        let vc = Rc::new(VerifiedClaims {
            issuer: issuer.issuer.clone(),
            alg: issuer.algorithms[0],
            exp: u64::MAX,
            identity,
            claims: Rc::new(claims.clone()),
            key_thumbprint: None,
        });
        let _ = Engine::new();
        let principal = match scope_to_org(&vc, org, &tenant) {
            Ok(p) => p,
            Err(e) => {
                println!("decision: refuse 401 ({})", e.reason());
                return Ok(1);
            }
        };
        match req.check(&principal) {
            Ok(()) => {
                println!(
                    "decision: allow (caller {}, permissions {:?})",
                    principal.caller.as_str(),
                    principal.permissions
                );
                Ok(0)
            }
            Err(missing) => {
                println!("decision: deny 403 (missing {})", missing.join(", "));
                Ok(1)
            }
        }
    }

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
