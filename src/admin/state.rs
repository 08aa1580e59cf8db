//! An org's administrative state and the one place it changes: [`execute`]. The org's Durable
//! Object (`OrgState`, the single writer) runs it on its stored state; the native fake runs the
//! same function, so the tests exercise the real rules.
//!
//! - **Edits** are JSON merge patches (RFC 7396) of the org document, with optimistic
//!   concurrency: the caller names the revision it read (`If-Match: "v{n}"`); a stale one gets
//!   412 with the current revision, so two admins never silently overwrite each other.
//! - **What an org admin may change**: [`ORG_ADMIN_EDITABLE`]. Any other changed field is
//!   refused with its JSON path. Route rules may only tighten the tenant's: no `loosen`, no
//!   `cross_site_origins`, no `cors`, no `upstream` but the org's own static site (here); where
//!   they may lie, and which rules are the tenant's, is checked by the Worker against the tenant's
//!   base rules before the command is sent (`admin::routes_only_tighten`). A tenant operator may
//!   change anything but the org id.
//! - The result is validated by the same validator the Worker runs ([`OrgPolicy::parse`]).
//! - Every change is audited (actor, time, operation, each changed path before and after) and
//!   published to KV: the writer keeps what it must still publish and retries until KV has it.
//! - **Domains** for home-realm discovery: added with a TXT challenge, verified (the DNS check is
//!   the caller's), and only then published as `domain:{domain}`.

use crate::org::policy::OrgPolicy;
use crate::time::UnixSeconds;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub subject: String,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A member of this org with the admin permission.
    OrgAdmin,
    /// A tenant operator.
    Operator,
}

/// The paths (and everything under them) an org admin may change.
pub const ORG_ADMIN_EDITABLE: &[&str] = &[
    "$.display_name",
    "$.branding",
    "$.login.connections",
    "$.login.signup",
    "$.login.passwordless_connection",
    "$.login.idp.claim_rules",
    "$.m2m_clients",
    "$.routes",
];

/// A domain the org claims for home-realm discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// The TXT record value that proves control: `orggate-verification={token}`.
    pub token: String,
    pub added_by: String,
    #[serde(default)]
    pub verified_at: Option<UnixSeconds>,
}

/// Everything the writer keeps for one org (besides the audit log, kept entry by entry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgState {
    pub revision: u64,
    /// The org document as last published; `None` until seeded from KV.
    #[serde(default)]
    pub doc: Option<Map<String, Value>>,
    #[serde(default)]
    pub domains: BTreeMap<String, Domain>,
    /// How many audit entries exist (the next one's sequence number).
    #[serde(default)]
    pub audit_count: u64,
    /// Digests of the documents this writer published (the last [`PUBLISHED_KEPT`]): KV is
    /// eventually consistent, so reading one of these back is KV lagging behind, not someone
    /// else's change.
    #[serde(default)]
    pub published: Vec<String>,
}

/// How many published documents' digests the writer remembers.
pub const PUBLISHED_KEPT: usize = 64;

/// A document's digest, independent of how its JSON text was formatted.
fn digest(doc: &Map<String, Value>) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::to_string(doc).unwrap_or_default();
    crate::b64::encode(&Sha256::digest(canonical.as_bytes()))
}

impl OrgState {
    fn remember_published(&mut self, doc: &Map<String, Value>) {
        let d = digest(doc);
        self.published.retain(|x| *x != d);
        self.published.push(d);
        if self.published.len() > PUBLISHED_KEPT {
            self.published.remove(0);
        }
    }
}

/// What the writer is asked to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    Get {
        now: UnixSeconds,
    },
    Patch {
        if_match: Option<u64>,
        patch: Value,
        actor: Actor,
        now: UnixSeconds,
    },
    AddDomain {
        domain: String,
        token: String,
        actor: Actor,
        now: UnixSeconds,
    },
    /// The caller checked the TXT record; the writer publishes `domain:{domain}`.
    VerifyDomain {
        domain: String,
        actor: Actor,
        now: UnixSeconds,
    },
    /// A page of the audit log, newest first.
    Audit {
        page: u64,
    },
}

/// One change to one JSON path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub path: String,
    pub before: Value,
    pub after: Value,
}

/// One audited write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: UnixSeconds,
    pub actor: Actor,
    pub op: String,
    pub revision: u64,
    pub changes: Vec<Change>,
}

/// What [`execute`] decided: the answer, and what the writer must store and publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: u16,
    pub body: Value,
    /// Audit entries to append, in order.
    pub audit: Vec<AuditEntry>,
    /// KV writes (`None`: delete) the writer owes, in order.
    pub publish: Vec<(String, Option<String>)>,
}

/// Audit entries per page.
pub const AUDIT_PAGE: u64 = 20;

fn answer(status: u16, body: Value) -> Outcome {
    Outcome {
        status,
        body,
        audit: Vec::new(),
        publish: Vec::new(),
    }
}

fn refuse(status: u16, error: &str, extra: Value) -> Outcome {
    let mut body = json!({ "error": error });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    answer(status, body)
}

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The changed paths between two documents: objects are compared member by member, anything
/// else (arrays included) as a whole.
pub fn diff(path: &str, before: &Value, after: &Value, out: &mut Vec<Change>) {
    let empty = Value::Object(Map::new());
    // A member added or removed as a whole object is compared member by member too, so the
    // paths name the leaves that changed.
    let (before, after) = match (before, after) {
        (Value::Null, b @ Value::Object(_)) => (&empty, b),
        (a @ Value::Object(_), Value::Null) => (a, &empty),
        other => other,
    };
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                diff(
                    &format!("{path}.{k}"),
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (a, b) if a != b => out.push(Change {
            path: path.to_string(),
            before: a.clone(),
            after: b.clone(),
        }),
        _ => {}
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
}

/// Can `role` change `path`?
pub fn editable(role: Role, path: &str) -> bool {
    match role {
        Role::Operator => !under(path, "$.org_id") && !under(path, "$.version"),
        Role::OrgAdmin => ORG_ADMIN_EDITABLE.iter().any(|p| under(path, p)),
    }
}

/// An org admin's routes may only tighten: the JSON path of the first one that would loosen.
fn loosening_route(doc: &Map<String, Value>) -> Option<String> {
    let routes = doc.get("routes")?.as_array()?;
    for (i, r) in routes.iter().enumerate() {
        let Some(r) = r.as_object() else { continue };
        if r.get("loosen").and_then(Value::as_bool) == Some(true) {
            return Some(format!("$.routes[{i}].loosen"));
        }
        if r.get("cross_site_origins")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return Some(format!("$.routes[{i}].cross_site_origins"));
        }
        if r.contains_key("cors") {
            return Some(format!("$.routes[{i}].cors"));
        }
        match r.get("upstream") {
            None => {}
            Some(Value::String(u)) if u == "assets" => {}
            Some(_) => return Some(format!("$.routes[{i}].upstream")),
        }
    }
    None
}

/// `example.com`: lowercase labels of letters, digits and hyphens, at least two.
pub fn valid_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// The TXT record name and value that prove control of `domain`.
pub fn challenge(domain: &str, token: &str) -> (String, String) {
    (
        format!("_orggate-challenge.{domain}"),
        format!("orggate-verification={token}"),
    )
}

impl OrgState {
    fn view(&self) -> Value {
        json!({
            "revision": self.revision,
            "document": self.doc,
            "domains": self.domains.iter().map(|(d, s)| json!({
                "domain": d, "verified": s.verified_at.is_some(),
                "txt_name": challenge(d, &s.token).0, "txt_value": challenge(d, &s.token).1,
            })).collect::<Vec<_>>(),
        })
    }

    fn audit(
        &mut self,
        actor: &Actor,
        now: UnixSeconds,
        op: &str,
        changes: Vec<Change>,
    ) -> AuditEntry {
        let e = AuditEntry {
            seq: self.audit_count,
            at: now,
            actor: actor.clone(),
            op: op.into(),
            revision: self.revision,
            changes,
        };
        self.audit_count += 1;
        e
    }
}

/// Runs `cmd` on `state`. `kv`: the org document KV holds now, passed when the writer owes KV
/// nothing: it seeds a writer that has no copy yet, and when it is a document this writer never
/// published (not merely an older one of its own, which an eventually consistent KV may still
/// serve), someone changed KV outside the admin API (an operator's `orggate kv push`). The writer then takes KV's document as the truth, bumps the
/// revision (so an edit based on the old one gets 412 and is made again on what is there now)
/// and audits the change, instead of republishing its stale copy over it. `Audit` is the
/// writer's to answer (entries are kept one by one); here it is refused.
pub fn execute(state: &mut OrgState, org_id: &str, kv: Option<&str>, cmd: Command) -> Outcome {
    let in_kv = kv.and_then(|t| serde_json::from_str::<Map<String, Value>>(t).ok());
    let mut external = Vec::new();
    match (state.doc.clone(), in_kv) {
        (None, Some(d)) => {
            state.remember_published(&d);
            state.doc = Some(d);
        }
        (None, None) => return refuse(404, "unknown_org", json!({})),
        // KV holds something this writer never published: someone changed it outside.
        (Some(mine), Some(theirs))
            if mine != theirs && !state.published.contains(&digest(&theirs)) =>
        {
            state.remember_published(&theirs);
            let mut changes = Vec::new();
            diff(
                "$",
                &Value::Object(mine),
                &Value::Object(theirs.clone()),
                &mut changes,
            );
            state.doc = Some(theirs);
            state.revision += 1;
            let actor = Actor {
                subject: "KV (outside the admin API)".into(),
                role: Role::Operator,
            };
            let now = match &cmd {
                Command::Get { now }
                | Command::Patch { now, .. }
                | Command::AddDomain { now, .. }
                | Command::VerifyDomain { now, .. } => *now,
                Command::Audit { .. } => UnixSeconds::EPOCH,
            };
            external.push(state.audit(&actor, now, "external_change", changes));
        }
        _ => {}
    }
    let mut out = run_command(state, org_id, cmd);
    external.append(&mut out.audit);
    out.audit = external;
    out
}

fn run_command(state: &mut OrgState, org_id: &str, cmd: Command) -> Outcome {
    let Some(doc) = state.doc.clone() else {
        return refuse(404, "unknown_org", json!({}));
    };
    match cmd {
        Command::Get { .. } => answer(200, state.view()),
        Command::Audit { .. } => refuse(400, "not_here", json!({})),
        Command::Patch {
            if_match,
            patch,
            actor,
            now,
        } => {
            let Some(m) = if_match else {
                return refuse(
                    428,
                    "if_match_required",
                    json!({"revision": state.revision}),
                );
            };
            if m != state.revision {
                return refuse(412, "stale_revision", json!({"revision": state.revision}));
            }
            if !patch.is_object() {
                return refuse(400, "patch_not_an_object", json!({}));
            }
            let before = Value::Object(doc);
            let mut after = before.clone();
            merge_patch(&mut after, &patch);
            let mut changes = Vec::new();
            diff("$", &before, &after, &mut changes);
            if changes.is_empty() {
                return answer(200, state.view());
            }
            if let Some(c) = changes.iter().find(|c| !editable(actor.role, &c.path)) {
                return refuse(400, "field_not_editable", json!({"path": c.path}));
            }
            let Value::Object(new_doc) = after else {
                return refuse(400, "patch_not_an_object", json!({}));
            };
            if actor.role == Role::OrgAdmin {
                if let Some(path) = loosening_route(&new_doc) {
                    return refuse(400, "route_loosens", json!({"path": path}));
                }
            }
            let text = Value::Object(new_doc.clone()).to_string();
            match OrgPolicy::parse(&text) {
                Ok(p) if p.org_id == org_id => {}
                Ok(_) => return refuse(400, "field_not_editable", json!({"path": "$.org_id"})),
                Err(e) => {
                    return refuse(
                        400,
                        "invalid_document",
                        json!({"path": e.path, "message": e.reason}),
                    )
                }
            }
            let mut publish = vec![(format!("org:{org_id}"), Some(text))];
            // An operator renaming the org moves its name alias.
            let name =
                |d: &Map<String, Value>| d.get("name").and_then(Value::as_str).map(str::to_string);
            if let (Some(old), Some(new)) = (
                name(before.as_object().unwrap_or(&Map::new())),
                name(&new_doc),
            ) {
                if old != new {
                    publish.push((format!("name:{new}"), Some(org_id.to_string())));
                    publish.push((format!("name:{old}"), None));
                }
            }
            state.remember_published(&new_doc);
            state.doc = Some(new_doc);
            state.revision += 1;
            let audit = state.audit(&actor, now, "patch", changes);
            Outcome {
                status: 200,
                body: state.view(),
                audit: vec![audit],
                publish,
            }
        }
        Command::AddDomain {
            domain,
            token,
            actor,
            now,
        } => {
            if !valid_domain(&domain) {
                return refuse(400, "invalid_domain", json!({"domain": domain}));
            }
            if state
                .domains
                .get(&domain)
                .is_some_and(|d| d.verified_at.is_some())
            {
                return refuse(409, "already_verified", json!({"domain": domain}));
            }
            if state.domains.len() >= 20 && !state.domains.contains_key(&domain) {
                return refuse(400, "too_many_domains", json!({}));
            }
            state.domains.insert(
                domain.clone(),
                Domain {
                    token: token.clone(),
                    added_by: actor.subject.clone(),
                    verified_at: None,
                },
            );
            state.revision += 1;
            let change = Change {
                path: format!("$.domains.{domain}"),
                before: Value::Null,
                after: json!("pending"),
            };
            let audit = state.audit(&actor, now, "domain_add", vec![change]);
            let (txt_name, txt_value) = challenge(&domain, &token);
            Outcome {
                status: 200,
                body: json!({"domain": domain, "verified": false, "txt_name": txt_name,
                    "txt_value": txt_value, "revision": state.revision}),
                audit: vec![audit],
                publish: Vec::new(),
            }
        }
        Command::VerifyDomain { domain, actor, now } => {
            let Some(d) = state.domains.get_mut(&domain) else {
                return refuse(404, "unknown_domain", json!({"domain": domain}));
            };
            if d.verified_at.is_some() {
                return answer(200, json!({"domain": domain, "verified": true}));
            }
            d.verified_at = Some(now);
            state.revision += 1;
            let change = Change {
                path: format!("$.domains.{domain}"),
                before: json!("pending"),
                after: json!("verified"),
            };
            let audit = state.audit(&actor, now, "domain_verify", vec![change]);
            Outcome {
                status: 200,
                body: json!({"domain": domain, "verified": true, "revision": state.revision}),
                audit: vec![audit],
                publish: vec![(format!("domain:{domain}"), Some(org_id.to_string()))],
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Actor {
        Actor {
            subject: "alice".into(),
            role: Role::OrgAdmin,
        }
    }

    fn acme() -> OrgState {
        let mut s = OrgState::default();
        let seed = r#"{"version":1,"org_id":"org_a","name":"a","display_name":"A","routes":[]}"#;
        assert_eq!(
            execute(
                &mut s,
                "org_a",
                Some(seed),
                Command::Get {
                    now: UnixSeconds::new(0)
                }
            )
            .status,
            200
        );
        s
    }

    fn patch(s: &mut OrgState, rev: Option<u64>, p: Value) -> Outcome {
        execute(
            s,
            "org_a",
            None,
            Command::Patch {
                if_match: rev,
                patch: p,
                actor: admin(),
                now: UnixSeconds::new(10),
            },
        )
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn stale_and_missing_revisions_are_refused() {
        let mut s = acme();
        assert_eq!(
            patch(&mut s, None, json!({"display_name": "B"})).status,
            428
        );
        let ok = patch(&mut s, Some(0), json!({"display_name": "B"}));
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(ok.body["revision"], 1);
        let stale = patch(&mut s, Some(0), json!({"display_name": "C"}));
        assert_eq!((stale.status, &stale.body["revision"]), (412, &json!(1)));
        let a = ok.audit[0].clone();
        assert_eq!(a.changes[0].path, "$.display_name");
        assert_eq!(
            (a.changes[0].before.clone(), a.changes[0].after.clone()),
            (json!("A"), json!("B"))
        );
    }

    #[test]
    fn org_admins_change_only_their_fields_and_only_tighten() {
        let mut s = acme();
        for (p, path) in [
            (json!({"org_id": "org_b"}), "$.org_id"),
            (
                json!({"allow_personal_accounts": true}),
                "$.allow_personal_accounts",
            ),
            (json!({"issuers": ["https://evil.example"]}), "$.issuers"),
            (
                json!({"login": {"idp": {"issuer": "https://evil.example"}}}),
                "$.login.idp.issuer",
            ),
            (json!({"origin": "https://evil.example"}), "$.origin"),
        ] {
            let o = patch(&mut s, Some(0), p.clone());
            assert_eq!(
                (o.status, o.body["path"].as_str()),
                (400, Some(path)),
                "{p}"
            );
        }
        for (route, path) in [
            (
                json!({"id": "x", "path": "/x", "require": "public", "loosen": true}),
                "$.routes[0].loosen",
            ),
            (
                json!({"id": "x", "path": "/x", "require": "authenticated", "upstream": "https://evil.example"}),
                "$.routes[0].upstream",
            ),
            (
                json!({"id": "x", "path": "/x", "require": "authenticated", "cors": {"origins": ["*"]}}),
                "$.routes[0].cors",
            ),
            (
                json!({"id": "x", "path": "/x", "require": "authenticated", "cross_site_origins": ["https://e.example"]}),
                "$.routes[0].cross_site_origins",
            ),
        ] {
            let o = patch(&mut s, Some(0), json!({"routes": [route]}));
            assert_eq!((o.status, o.body["path"].as_str()), (400, Some(path)));
        }
        // A rule the validator refuses: its path.
        let o = patch(
            &mut s,
            Some(0),
            json!({"branding": {"colors": {"primary": "red"}}}),
        );
        assert_eq!(
            (o.status, o.body["path"].as_str()),
            (400, Some("$.branding.colors.primary"))
        );
        assert_eq!(s.revision, 0, "nothing refused was applied");
        let ok = patch(
            &mut s,
            Some(0),
            json!({"routes": [{"id": "x", "path": "/x", "require": {"permissions": ["p"]}}]}),
        );
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(ok.publish[0].0, "org:org_a");
    }

    #[test]
    fn domains_are_published_only_once_verified() {
        let mut s = acme();
        let add = |s: &mut OrgState, d: &str| {
            execute(
                s,
                "org_a",
                None,
                Command::AddDomain {
                    domain: d.into(),
                    token: "t0k".into(),
                    actor: admin(),
                    now: UnixSeconds::new(1),
                },
            )
        };
        assert_eq!(add(&mut s, "Example.com").status, 400);
        assert_eq!(add(&mut s, "com").status, 400);
        let o = add(&mut s, "example.com");
        assert_eq!(o.status, 200);
        assert_eq!(o.body["txt_value"], "orggate-verification=t0k");
        assert!(o.publish.is_empty());
        let v = execute(
            &mut s,
            "org_a",
            None,
            Command::VerifyDomain {
                domain: "example.com".into(),
                actor: admin(),
                now: UnixSeconds::new(2),
            },
        );
        assert_eq!(
            v.publish,
            vec![("domain:example.com".to_string(), Some("org_a".to_string()))]
        );
        assert_eq!(add(&mut s, "example.com").status, 409);
    }
}
