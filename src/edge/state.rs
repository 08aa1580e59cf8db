//! `OrgState`: the single writer of a scope's revocations, a Durable Object (binding
//! `ORG_STATE`, one object per scope: `idFromName(org_id)`, or `*` for the tenant; SQLite-backed
//! storage). Requests never call it; only writes do (back-channel logout, sign-out everywhere,
//! an admin's revocation).
//!
//! A write is applied ([`crate::revoke::apply`]: expired entries dropped, duplicates merged, the
//! version bumped) and stored; then the scope's document is published to KV
//! (`revoked:{scope}`), where the edge reads it. **Outbox**: the stored document is the truth
//! and `published` records the last version KV holds; when a publish fails the object sets an
//! alarm and retries (with backoff) until KV has the current version, so a crash or a KV fault
//! between commit and publish loses nothing.

use crate::revoke::{apply, kv_key, Entry, Published};
use serde::Deserialize;
use std::time::Duration;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[derive(Deserialize)]
struct RevokeBody {
    scope: String,
    entries: Vec<Entry>,
    now: u64,
}

#[durable_object(alarm)]
pub struct OrgState {
    state: State,
    env: Env,
}

/// First retry after a failed publish; doubled per failure up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(300);

impl OrgState {
    async fn doc(&self) -> Result<Published> {
        let text: Option<String> = self.state.storage().get("doc").await?;
        Ok(match text {
            Some(t) => {
                serde_json::from_str(&t).map_err(|e| worker::Error::RustError(e.to_string()))?
            }
            None => Published::default(),
        })
    }

    /// Publishes the stored document if KV does not hold its version yet; `Ok(true)` when KV is
    /// current.
    async fn publish(&self) -> Result<bool> {
        let storage = self.state.storage();
        let Some(scope) = storage.get::<String>("scope").await? else {
            return Ok(true);
        };
        let doc = self.doc().await?;
        let published: u64 = storage.get("published").await?.unwrap_or(0);
        if published >= doc.version {
            return Ok(true);
        }
        let text =
            serde_json::to_string(&doc).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let put = self
            .env
            .kv("ORGS")?
            .put(&kv_key(&scope), text)?
            .execute()
            .await;
        match put {
            Ok(()) => {
                storage.put("published", doc.version).await?;
                storage.put("retry_s", 0u64).await?;
                Ok(true)
            }
            Err(e) => {
                worker::console_error!("orggate: publishing revocations for {scope} failed: {e}");
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
}

impl DurableObject for OrgState {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    /// `POST /revoke` with `{"scope", "entries", "now"}`: 200 with the scope's document.
    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.method() != worker::Method::Post || req.path() != "/revoke" {
            return Response::error("not found", 404);
        }
        let body: RevokeBody = match req.json().await {
            Ok(b) => b,
            Err(e) => return Response::error(format!("bad request: {e}"), 400),
        };
        if body.entries.iter().any(|e| !e.valid()) {
            return Response::error("bad request: invalid entry", 400);
        }
        let storage = self.state.storage();
        let next = apply(&self.doc().await?, &body.entries, body.now);
        let text =
            serde_json::to_string(&next).map_err(|e| worker::Error::RustError(e.to_string()))?;
        storage.put("doc", text.clone()).await?;
        storage.put("scope", body.scope).await?;
        // Kept: the write succeeded whether or not KV took it yet (the alarm retries).
        self.publish().await?;
        Response::ok(text)
    }

    async fn alarm(&self) -> Result<Response> {
        self.publish().await?;
        Response::ok("")
    }
}
