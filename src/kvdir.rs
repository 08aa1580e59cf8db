//! A config directory as the KV entries it stands for (`orggate kv push|pull|diff`).
//!
//! The layout of `dev/kv/`: `settings.json`, one `org_*.json` per org document, and an optional
//! `aliases.json` for custom domains (`host:`) and home-realm discovery (`domain:`). Every
//! document is validated the way the Worker validates it, and a directory with any invalid one
//! produces no entries at all. `name:` aliases are derived from the org documents, so a name and
//! its document can never disagree; an `aliases.json` entry must point at an org of the
//! directory.

use crate::org::policy::{check_document, OrgPolicy};
use std::collections::BTreeMap;
use std::path::Path;

/// The KV entries `dir` stands for, or every problem found (all of them, not the first).
pub fn entries(dir: &Path) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    let read = |name: &str| std::fs::read_to_string(dir.join(name));
    match read("settings.json") {
        Ok(text) => match check_document(&text) {
            Ok(_) => {
                out.insert("settings".to_string(), text);
            }
            Err(e) => errors.push(format!("settings.json: {e}")),
        },
        Err(e) => errors.push(format!("settings.json: {e}")),
    }
    let mut files: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|f| f.starts_with("org_") && f.ends_with(".json"))
            .collect(),
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            Vec::new()
        }
    };
    files.sort();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    // Every org id a file claims, valid or not (so an alias to an invalid org is not called
    // unknown).
    let mut known = std::collections::BTreeSet::new();
    for f in &files {
        let text = match read(f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{f}: {e}"));
                continue;
            }
        };
        if let Some(id) = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["org_id"].as_str().map(str::to_string))
        {
            known.insert(id);
        }
        match OrgPolicy::parse(&text) {
            Ok(org) => {
                if let Some(other) = names.insert(org.name.clone(), org.org_id.clone()) {
                    errors.push(format!("{f}: the name {:?} is also {other}'s", org.name));
                }
                if out.insert(format!("org:{}", org.org_id), text).is_some() {
                    errors.push(format!("{f}: another file is also {}", org.org_id));
                }
            }
            Err(e) => errors.push(format!("{f}: {e}")),
        }
    }
    for (name, id) in &names {
        out.insert(format!("name:{name}"), id.clone());
    }
    if let Ok(text) = read("aliases.json") {
        if let Err(e) = check_document(&text) {
            errors.push(format!("aliases.json: {e}"));
        } else if let Ok(map) = serde_json::from_str::<BTreeMap<String, String>>(&text) {
            for (k, id) in map {
                match out.get(&k) {
                    Some(existing) if *existing != id => errors.push(format!(
                        "aliases.json: {k} says {id}, but the org documents say {existing}"
                    )),
                    _ if !known.contains(&id) => errors.push(format!(
                        "aliases.json: {k} names {id}, which is not an org here"
                    )),
                    _ => {
                        out.insert(k, id);
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// One difference between the directory (`local`) and KV (`remote`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Add(String),
    Update(String),
    /// In KV but not in the directory (a push leaves it; revocations and the like live there).
    OnlyInKv(String),
}

/// What a push would change, key by key (sorted).
pub fn diff(local: &BTreeMap<String, String>, remote: &BTreeMap<String, String>) -> Vec<Change> {
    let mut out = Vec::new();
    for (k, v) in local {
        match remote.get(k) {
            None => out.push(Change::Add(k.clone())),
            Some(r) if r != v => out.push(Change::Update(k.clone())),
            _ => {}
        }
    }
    for k in remote.keys() {
        if !local.contains_key(k) {
            out.push(Change::OnlyInKv(k.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_directory_stands_for_its_entries() {
        let e = entries(Path::new("dev/kv")).unwrap();
        assert_eq!(e["name:acme"], "org_acme");
        assert_eq!(e["domain:globex.test"], "org_globex");
        assert!(e["org:org_acme"].contains("\"org_id\": \"org_acme\""));
        assert!(e.contains_key("settings"));
    }

    #[test]
    fn diff_names_adds_updates_and_strays() {
        let l: BTreeMap<String, String> = [("a", "1"), ("b", "2")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let r: BTreeMap<String, String> = [("b", "3"), ("c", "4")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            diff(&l, &r),
            vec![
                Change::Add("a".into()),
                Change::Update("b".into()),
                Change::OnlyInKv("c".into())
            ]
        );
    }
}
