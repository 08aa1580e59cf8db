//! `OrgState`: the single writer of one org (binding `ORG_STATE`, `idFromName(org_id)`; `*` for
//! the tenant's revocations), a SQLite-backed Durable Object. Requests never call it; only
//! writes and admin reads do:
//! - `POST /revoke` `{"scope", "entries", "now"}`: revocations ([`crate::revoke::apply`]);
//! - `POST /state` with an admin [`Command`]: the org's administrative state
//!   ([`crate::admin::state::execute`], the same function the native tests run), audit entries
//!   kept one per key.
//!
//! **Outbox.** What must reach KV (the revocation document, the org document, aliases) is kept
//! in storage with the change that produced it, then written to KV; on failure an alarm retries
//! (2 s, doubling, at most 5 min) until everything owed is published, in order. A crash or a KV
//! fault between commit and publish loses nothing.
//!
//! **No lost update.** Storage calls hold the object's input gate; the only awaits that open it
//! are KV calls. So the state is read again after reading the seed from KV, and nothing else is
//! awaited between that read and the write of the new state.

use crate::admin::state::{execute, AuditEntry, Command, OrgState as AdminState, AUDIT_PAGE};
use crate::revoke::{apply, kv_key, Entry, Published};
use serde::Deserialize;
use std::time::Duration;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[derive(Deserialize)]
struct RevokeBody {
    scope: String,
    entries: Vec<Entry>,
    now: crate::time::UnixSeconds,
}

#[derive(Deserialize)]
struct StateBody {
    org_id: String,
    command: Command,
}

#[durable_object(alarm)]
pub struct OrgState {
    state: State,
    env: Env,
    /// KV writes failed on purpose so far (see [`OrgState::injected_kv_fault`]).
    injected_faults: std::cell::Cell<u64>,
}

const FIRST_RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(300);

fn rust_err(e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

impl OrgState {
    async fn get_json<T: serde::de::DeserializeOwned + Default>(&self, key: &str) -> Result<T> {
        let text: Option<String> = self.state.storage().get(key).await?;
        match text {
            Some(t) => serde_json::from_str(&t).map_err(rust_err),
            None => Ok(T::default()),
        }
    }

    async fn put_json(&self, key: &str, v: &impl serde::Serialize) -> Result<()> {
        let text = serde_json::to_string(v).map_err(rust_err)?;
        self.state.storage().put(key, text).await
    }

    /// The end-to-end tests' fault injection: with the binding `ORGGATE_TEST_KV_FAULTS` set to N,
    /// this object's first N KV writes fail (so the outbox and its alarm are exercised in
    /// workerd; an object evicted meanwhile starts counting again). No deployment sets it.
    fn injected_kv_fault(&self) -> Option<String> {
        let n: u64 = self
            .env
            .var("ORGGATE_TEST_KV_FAULTS")
            .ok()?
            .to_string()
            .parse()
            .ok()?;
        let done = self.injected_faults.get();
        (done < n).then(|| {
            self.injected_faults.set(done + 1);
            format!("injected KV fault {} of {n}", done + 1)
        })
    }

    /// Writes what is owed to KV, in order; `Ok(true)` when nothing is left. On a failure the
    /// rest stays owed and an alarm is set.
    async fn publish(&self) -> Result<bool> {
        let storage = self.state.storage();
        let kv = self.env.kv("ORGS")?;
        let mut failed = None;
        // The revocation document, if its last version is not in KV yet.
        if let Some(scope) = storage.get::<String>("scope").await? {
            let doc: Published = self.get_json("doc").await?;
            let published: u64 = storage.get("published").await?.unwrap_or(0);
            if published < doc.version {
                let text = serde_json::to_string(&doc).map_err(rust_err)?;
                if let Some(e) = self.injected_kv_fault() {
                    failed = Some(e);
                } else {
                    match kv.put(&kv_key(&scope), text)?.execute().await {
                        Ok(()) => storage.put("published", doc.version).await?,
                        Err(e) => failed = Some(e.to_string()),
                    }
                }
            }
        }
        // Org documents and aliases, in the order they were owed.
        if failed.is_none() {
            let mut owed: Vec<(String, Option<String>)> = self.get_json("owed").await?;
            while let Some((key, value)) = owed.first().cloned() {
                if let Some(e) = self.injected_kv_fault() {
                    failed = Some(e);
                    break;
                }
                let r = match value {
                    Some(v) => match kv.put(&key, v) {
                        Ok(p) => p.execute().await.map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    },
                    None => kv.delete(&key).await.map_err(|e| e.to_string()),
                };
                if let Err(e) = r {
                    failed = Some(e);
                    break;
                }
                owed.remove(0);
                self.put_json("owed", &owed).await?;
            }
        }
        match failed {
            None => {
                storage.put("retry_s", 0u64).await?;
                Ok(true)
            }
            Some(e) => {
                worker::console_error!("orggate: publishing to KV failed, will retry: {e}");
                let last: u64 = storage.get("retry_s").await?.unwrap_or(0);
                let next = if last == 0 {
                    FIRST_RETRY
                } else {
                    Duration::from_secs(last.saturating_mul(2)).min(MAX_RETRY)
                };
                storage.put("retry_s", next.as_secs()).await?;
                storage.set_alarm(next).await?;
                Ok(false)
            }
        }
    }

    async fn revoke(&self, mut req: Request) -> Result<Response> {
        let body: RevokeBody = match req.json().await {
            Ok(b) => b,
            Err(e) => return Response::error(format!("bad request: {e}"), 400),
        };
        if body.entries.iter().any(|e| !e.valid()) {
            return Response::error("bad request: invalid entry", 400);
        }
        let current: Published = self.get_json("doc").await?;
        let next = apply(&current, &body.entries, body.now);
        let text = serde_json::to_string(&next).map_err(rust_err)?;
        self.state.storage().put("doc", text.clone()).await?;
        self.state.storage().put("scope", body.scope).await?;
        // Kept: the write succeeded whether or not KV took it yet (the alarm retries).
        self.publish().await?;
        Response::ok(text)
    }

    async fn audit_page(&self, page: u64) -> Result<Response> {
        let st: AdminState = self.get_json("admin").await?;
        let total = st.audit_count;
        let newest = total.saturating_sub(page.saturating_mul(AUDIT_PAGE));
        let oldest = newest.saturating_sub(AUDIT_PAGE);
        let mut entries = Vec::new();
        for seq in (oldest..newest).rev() {
            let text: Option<String> = self
                .state
                .storage()
                .get(&format!("audit:{seq:012}"))
                .await?;
            if let Some(t) = text {
                entries.push(serde_json::from_str::<serde_json::Value>(&t).map_err(rust_err)?);
            }
        }
        let body = serde_json::json!({"status": 200, "body": {"entries": entries, "page": page, "total": total}});
        Response::ok(body.to_string())
    }

    async fn admin(&self, mut req: Request) -> Result<Response> {
        let body: StateBody = match req.json().await {
            Ok(b) => b,
            Err(e) => return Response::error(format!("bad request: {e}"), 400),
        };
        if let Command::Audit { page } = body.command {
            return self.audit_page(page).await;
        }
        // What KV holds now: it seeds a first use, and shows a change made outside the admin API
        // (an operator's `kv push`), which must not be overwritten by this object's stale copy.
        // Reading KV opens the input gate, so the state is read after it; KV only counts when
        // this object owes it nothing (else KV is merely behind).
        let kv = self
            .env
            .kv("ORGS")?
            .get(&format!("org:{}", body.org_id))
            .text()
            .await
            .map_err(rust_err)?;
        let mut st: AdminState = self.get_json("admin").await?;
        let owed: Vec<(String, Option<String>)> = self.get_json("owed").await?;
        let kv = if owed.is_empty() { kv } else { None };
        let out = execute(&mut st, &body.org_id, kv.as_deref(), body.command);
        self.commit(st, out).await
    }

    async fn commit(&self, st: AdminState, out: crate::admin::state::Outcome) -> Result<Response> {
        if !out.audit.is_empty() || !out.publish.is_empty() {
            for a in &out.audit {
                let a: &AuditEntry = a;
                self.put_json(&format!("audit:{:012}", a.seq), a).await?;
            }
            let mut owed: Vec<(String, Option<String>)> = self.get_json("owed").await?;
            owed.extend(out.publish.iter().cloned());
            self.put_json("owed", &owed).await?;
            self.put_json("admin", &st).await?;
            self.publish().await?;
        } else if st.revision == 0 && st.doc.is_some() {
            // Seeded on a read: keep the seed so the next write starts from it.
            self.put_json("admin", &st).await?;
        }
        let body = serde_json::json!({"status": out.status, "body": out.body});
        Response::ok(body.to_string())
    }
}

impl DurableObject for OrgState {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            injected_faults: std::cell::Cell::new(0),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        if req.method() != worker::Method::Post {
            return Response::error("not found", 404);
        }
        match req.path().as_str() {
            "/revoke" => self.revoke(req).await,
            "/state" => self.admin(req).await,
            _ => Response::error("not found", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.publish().await?;
        Response::ok("")
    }
}
