//! Revocation at the edge: credentials refused before they expire.
//!
//! A revocation entry names what it refuses:
//! - `sid`: one login session (the ID token's `sid`, kept in the session cookie);
//! - `sub`: a subject, as a *not before*: every credential of that subject issued at or before
//!   the entry's time is refused (tokens by `iat`, sessions by when the person signed in);
//! - `jti`: one token;
//! - `client`: an M2M client id, as a not before (its tokens by `iat`).
//!
//! Entries live in a scope: one org (`revoked:{org_id}` in KV), or the whole tenant
//! (`revoked:*`, for a tenant IdP's back-channel logout, which names no org). They are written by
//! the scope's Durable Object (one writer, an outbox to KV) and read here from KV like any
//! config: compiled once, kept per isolate for `revocation.refresh_s` (default 30 s), so a
//! request makes no KV read of its own. Each entry expires once nothing it covers can still be
//! valid, which bounds the set.
//!
//! The published document: `{"version": n, "entries": [{"kind": "sid", "value": "...", "at":
//! T, "expires": X}, ...]}`.

use crate::time::UnixSeconds;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::collections::HashSet;

/// What an entry refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Sid,
    Sub,
    Jti,
    Client,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sid => "sid",
            Kind::Sub => "sub",
            Kind::Jti => "jti",
            Kind::Client => "client",
        }
    }
}

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub kind: Kind,
    pub value: String,
    /// When it was revoked (for `sub` and `client`: credentials issued at or before this).
    pub at: UnixSeconds,
    /// After this nothing it covers can still be valid: the entry is dropped.
    pub expires: UnixSeconds,
}

impl Entry {
    /// Values are identifiers: bounded, printable, no separators.
    pub fn valid(&self) -> bool {
        !self.value.is_empty()
            && self.value.len() <= 512
            && self.value.bytes().all(|b| b.is_ascii_graphic())
            && self.expires >= self.at
    }
}

/// The document the writer publishes and the edge reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    pub version: u64,
    pub entries: Vec<Entry>,
}

/// A scope's entries, indexed for the per-request check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    pub version: u64,
    sids: HashSet<String>,
    jtis: HashSet<String>,
    /// Subject → not before.
    subjects: HashMap<String, UnixSeconds>,
    /// Client id → not before.
    clients: HashMap<String, UnixSeconds>,
    /// How many entries are in force.
    pub len: usize,
}

/// When and as what a credential was issued, kept in the principal (and so in a cached
/// decision) for the revocation check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issued {
    /// The token's `jti`.
    pub jti: Option<String>,
    /// Token `iat`, or when the person signed in for a session; `None` counts as "long ago".
    pub at: Option<UnixSeconds>,
    /// The IdP session a browser session belongs to (the ID token's `sid`).
    pub sid: Option<String>,
}

/// What the check looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    pub subject: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub issued: Option<&'a Issued>,
}

impl RevocationSet {
    /// Parses a published document; entries that expired before `now` are left out.
    pub fn parse(text: &str, now: UnixSeconds) -> Result<RevocationSet, String> {
        let doc: Published = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut set = RevocationSet {
            version: doc.version,
            ..RevocationSet::default()
        };
        for (i, e) in doc.entries.into_iter().enumerate() {
            if !e.valid() {
                return Err(format!("entries[{i}]: invalid entry"));
            }
            if e.expires < now {
                continue;
            }
            set.len += 1;
            match e.kind {
                Kind::Sid => {
                    set.sids.insert(e.value);
                }
                Kind::Jti => {
                    set.jtis.insert(e.value);
                }
                Kind::Sub => {
                    let t = set.subjects.entry(e.value).or_insert(UnixSeconds::EPOCH);
                    *t = (*t).max(e.at);
                }
                Kind::Client => {
                    let t = set.clients.entry(e.value).or_insert(UnixSeconds::EPOCH);
                    *t = (*t).max(e.at);
                }
            }
        }
        Ok(set)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Why `facts` is revoked (a reason code for the log), or `None`.
    pub fn check(&self, facts: &Facts<'_>) -> Option<&'static str> {
        if self.is_empty() {
            return None;
        }
        let none = Issued::default();
        let issued = facts.issued.unwrap_or(&none);
        if issued.sid.as_ref().is_some_and(|s| self.sids.contains(s)) {
            return Some("session_revoked");
        }
        if issued.jti.as_ref().is_some_and(|j| self.jtis.contains(j)) {
            return Some("token_revoked");
        }
        let before = |nb: UnixSeconds| issued.at.is_none_or(|t| t <= nb);
        if let Some(nb) = facts.subject.and_then(|s| self.subjects.get(s)) {
            if before(*nb) {
                return Some("subject_revoked");
            }
        }
        if let Some(nb) = facts.client_id.and_then(|c| self.clients.get(c)) {
            if before(*nb) {
                return Some("client_revoked");
            }
        }
        None
    }
}

/// Why `principal`'s credential is revoked (a reason code), if it is: the tenant's set, then the
/// org's, each kept per isolate for `revocation.refresh_s` (no KV read of its own on most
/// requests). A client id revocation applies to machine callers only (a user's token names the
/// app it was issued to, which is not the user).
pub fn principal_revoked(
    engine: &crate::engine::Engine,
    io: &crate::io::Answers,
    tenant: &crate::org::policy::TenantPolicy,
    org: &crate::org::policy::OrgPolicy,
    principal: &crate::authz::decision::Principal,
    now: UnixSeconds,
) -> Result<Option<&'static str>, crate::io::Pending<crate::org::LoadError>> {
    let facts = Facts {
        subject: principal.subject.as_deref(),
        client_id: principal
            .client_id
            .as_deref()
            .filter(|_| principal.caller == crate::token::CallerKind::Client),
        issued: Some(&principal.issued),
    };
    facts_revoked(engine, io, tenant, org, &facts, now)
}

/// [`principal_revoked`] for facts gathered another way (a tenant operator, who is nobody's
/// principal in the org).
pub fn facts_revoked(
    engine: &crate::engine::Engine,
    io: &crate::io::Answers,
    tenant: &crate::org::policy::TenantPolicy,
    org: &crate::org::policy::OrgPolicy,
    facts: &Facts<'_>,
    now: UnixSeconds,
) -> Result<Option<&'static str>, crate::io::Pending<crate::org::LoadError>> {
    for scope in [TENANT_SCOPE, org.org_id.as_str()] {
        let set = crate::org::load_revocations(engine, io, tenant, scope, now)?;
        if let Some(why) = set.check(facts) {
            return Ok(Some(why));
        }
    }
    Ok(None)
}

/// The writer's side: adds `new` entries to `current`, drops expired ones and duplicates (the
/// later `at` wins for a not-before), bumps the version.
pub fn apply(current: &Published, new: &[Entry], now: UnixSeconds) -> Published {
    let mut entries: Vec<Entry> = Vec::with_capacity(current.entries.len() + new.len());
    for e in current.entries.iter().chain(new.iter()) {
        if e.expires < now {
            continue;
        }
        match entries
            .iter_mut()
            .find(|x| x.kind == e.kind && x.value == e.value)
        {
            Some(x) => {
                x.at = x.at.max(e.at);
                x.expires = x.expires.max(e.expires);
            }
            None => entries.push(e.clone()),
        }
    }
    Published {
        version: current.version.saturating_add(1),
        entries,
    }
}

/// The KV key of a scope: an org id, or `*` for the whole tenant.
pub fn kv_key(scope: &str) -> String {
    format!("revoked:{scope}")
}

/// The tenant-wide scope.
pub const TENANT_SCOPE: &str = "*";

#[cfg(test)]
mod tests {
    use super::*;

    fn e(kind: Kind, value: &str, at: u64, expires: u64) -> Entry {
        Entry {
            kind,
            value: value.into(),
            at: UnixSeconds::new(at),
            expires: UnixSeconds::new(expires),
        }
    }

    fn set(entries: Vec<Entry>, now: u64) -> RevocationSet {
        let text = serde_json::to_string(&Published {
            version: 1,
            entries,
        })
        .unwrap();
        RevocationSet::parse(&text, UnixSeconds::new(now)).unwrap()
    }

    #[test]
    fn each_kind_refuses_what_it_names() {
        let s = set(
            vec![
                e(Kind::Sid, "s-1", 100, 1000),
                e(Kind::Jti, "j-1", 100, 1000),
                e(Kind::Sub, "alice", 100, 1000),
                e(Kind::Client, "batch", 100, 1000),
            ],
            150,
        );
        let at = |t: u64| Issued {
            at: Some(UnixSeconds::new(t)),
            ..Issued::default()
        };
        let check = |sub: Option<&str>, client: Option<&str>, issued: &Issued| {
            s.check(&Facts {
                subject: sub,
                client_id: client,
                issued: Some(issued),
            })
        };
        let sid = Issued {
            sid: Some("s-1".into()),
            ..at(500)
        };
        assert_eq!(check(Some("bob"), None, &sid), Some("session_revoked"));
        let jti = Issued {
            jti: Some("j-1".into()),
            ..at(500)
        };
        assert_eq!(check(Some("bob"), None, &jti), Some("token_revoked"));
        // Not before: issued at or before 100 is refused, after it passes.
        assert_eq!(check(Some("alice"), None, &at(99)), Some("subject_revoked"));
        assert_eq!(
            check(Some("alice"), None, &at(100)),
            Some("subject_revoked")
        );
        assert_eq!(check(Some("alice"), None, &at(101)), None);
        // No iat: counts as issued long ago.
        assert_eq!(
            check(Some("alice"), None, &Issued::default()),
            Some("subject_revoked")
        );
        assert_eq!(check(None, Some("batch"), &at(50)), Some("client_revoked"));
        assert_eq!(check(Some("bob"), None, &at(10)), None);
    }

    #[test]
    fn expired_entries_are_dropped_and_duplicates_merge() {
        let s = set(vec![e(Kind::Sub, "alice", 100, 200)], 201);
        assert!(s.is_empty());
        let p = apply(
            &Published {
                version: 4,
                entries: vec![e(Kind::Sub, "alice", 100, 500), e(Kind::Jti, "old", 1, 2)],
            },
            &[e(Kind::Sub, "alice", 300, 900)],
            UnixSeconds::new(250),
        );
        assert_eq!(p.version, 5);
        assert_eq!(p.entries, vec![e(Kind::Sub, "alice", 300, 900)]);
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(RevocationSet::parse("{", UnixSeconds::EPOCH).is_err());
        assert!(RevocationSet::parse(
            r#"{"version":1,"entries":[{"kind":"sid","value":"","at":1,"expires":2}]}"#,
            UnixSeconds::EPOCH
        )
        .is_err());
        assert!(RevocationSet::parse(
            r#"{"version":1,"entries":[{"kind":"nope","value":"x","at":1,"expires":2}]}"#,
            UnixSeconds::EPOCH
        )
        .is_err());
    }
}
