//! In-memory fakes of every port (as daphne's `testing/mod.rs`): a map for KV, a scripted HTTP
//! client that counts what was sent, a settable clock, a deterministic RNG, a map of secrets.
//! The native tests drive the real pipeline over them with [`crate::driver`]; `orggate explain`
//! runs the same pipeline over them too.

use crate::native::NativeVerifier;
use crate::ports::*;
use crate::time::UnixSeconds;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct MemStore {
    pub data: RefCell<HashMap<String, String>>,
    pub reads: Cell<u64>,
    pub fail: Cell<bool>,
}

impl MemStore {
    pub fn put(&self, k: &str, v: &str) {
        self.data.borrow_mut().insert(k.to_string(), v.to_string());
    }

    pub fn delete(&self, k: &str) {
        self.data.borrow_mut().remove(k);
    }

    /// The value under `k` (no read is counted).
    pub fn peek(&self, k: &str) -> Option<String> {
        self.data.borrow().get(k).cloned()
    }
}

impl OrgStore for MemStore {
    fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        self.reads.set(self.reads.get() + 1);
        if self.fail.get() {
            return Err(PortError::new("kv", "scripted failure"));
        }
        Ok(self.data.borrow().get(key).cloned())
    }
}

/// Answers by exact URL; unknown URLs get a connection error. Records every request.
#[derive(Debug, Default)]
pub struct ScriptedHttp {
    pub routes: RefCell<HashMap<String, HttpResponse>>,
    pub sent: RefCell<Vec<HttpRequest>>,
}

impl ScriptedHttp {
    pub fn answer(&self, url: &str, status: u16, body: &str, headers: &[(&str, &str)]) {
        self.routes.borrow_mut().insert(
            url.to_string(),
            HttpResponse {
                status,
                headers: headers
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
                body: body.as_bytes().to_vec(),
            },
        );
    }

    pub fn count(&self, url: &str) -> usize {
        self.sent.borrow().iter().filter(|r| r.url == url).count()
    }

    pub fn forget(&self, url: &str) {
        self.routes.borrow_mut().remove(url);
    }
}

impl HttpClient for ScriptedHttp {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, PortError> {
        let url = request.url.clone();
        self.sent.borrow_mut().push(request.clone());
        self.routes
            .borrow()
            .get(&url)
            .cloned()
            .ok_or_else(|| PortError::new("http", format!("connection refused: {url}")))
    }
}

#[derive(Debug, Default)]
pub struct FixedClock(pub Cell<u64>);

/// A clock the test sets, in Unix seconds.
impl FixedClock {
    pub fn at(s: u64) -> Self {
        Self(Cell::new(s))
    }
    pub fn set_s(&self, s: u64) {
        self.0.set(s);
    }
    pub fn advance_s(&self, s: u64) {
        self.0.set(self.0.get().saturating_add(s));
    }
}

impl Clock for FixedClock {
    fn now(&self) -> UnixSeconds {
        UnixSeconds::new(self.0.get())
    }
}

/// Deterministic bytes (a counter through SHA-256): never use outside tests.
#[derive(Debug, Default)]
pub struct CounterRng(pub Cell<u64>);

impl CounterRng {
    pub fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
        use sha2::{Digest, Sha256};
        for chunk in buf.chunks_mut(32) {
            let n = self.0.get();
            self.0.set(n + 1);
            let d = Sha256::digest(n.to_le_bytes());
            chunk.copy_from_slice(&d[..chunk.len()]);
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct MemCache {
    pub data: RefCell<HashMap<String, String>>,
}

impl SharedCache for MemCache {
    fn get(&self, key: &str) -> Option<String> {
        self.data.borrow().get(key).cloned()
    }
    fn put(&self, key: &str, value: &str, _ttl_s: u64) {
        self.data
            .borrow_mut()
            .insert(key.to_string(), value.to_string());
    }
}

#[derive(Debug, Default)]
pub struct MapSecrets(pub RefCell<HashMap<String, String>>);

impl MapSecrets {
    pub fn set(&self, k: &str, v: &str) {
        self.0.borrow_mut().insert(k.to_string(), v.to_string());
    }
}

impl MapSecrets {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.borrow().get(name).cloned()
    }
}

/// All fakes in one bundle.
#[derive(Debug, Default)]
pub struct FakePorts {
    pub store: MemStore,
    pub http: ScriptedHttp,
    pub clock: FixedClock,
    pub rng: CounterRng,
    pub verifier: NativeVerifier,
    pub cache: MemCache,
    pub secrets: MapSecrets,
    pub writer: MemWriter,
}

/// The revocation writer: each scope's published document, kept here and published to the
/// store; `fail_publish` makes that many publishes fail (the write is kept, as the Durable
/// Object keeps it, and [`FakePorts::retry_publish`] plays its alarm).
#[derive(Debug, Default)]
pub struct MemWriter {
    pub scopes: RefCell<HashMap<String, crate::revoke::Published>>,
    pub unpublished: RefCell<Vec<String>>,
    pub fail_publish: std::cell::Cell<u32>,
    /// That many revocation writes fail outright (the Durable Object unreachable).
    pub fail_writes: std::cell::Cell<u32>,
    pub writes: std::cell::Cell<u32>,
    /// Each org's administrative state and audit log (the Durable Object's storage).
    pub orgs: RefCell<HashMap<String, crate::admin::state::OrgState>>,
    pub audits: RefCell<HashMap<String, Vec<crate::admin::state::AuditEntry>>>,
    /// KV writes owed by admin commands whose publish failed, in order.
    pub unpublished_kv: RefCell<Vec<(String, Option<String>)>>,
}

impl FakePorts {
    fn publish(&self, scope: &str) -> bool {
        let f = self.writer.fail_publish.get();
        if f > 0 {
            self.writer.fail_publish.set(f - 1);
            let mut u = self.writer.unpublished.borrow_mut();
            if !u.iter().any(|s| s == scope) {
                u.push(scope.to_string());
            }
            return false;
        }
        if let Some(doc) = self.writer.scopes.borrow().get(scope) {
            self.store.put(
                &crate::revoke::kv_key(scope),
                &serde_json::to_string(doc).unwrap_or_default(),
            );
        }
        self.writer.unpublished.borrow_mut().retain(|s| s != scope);
        true
    }

    /// The writer's retry (the Durable Object's alarm): publishes what is still unpublished.
    pub fn retry_publish(&self) {
        let pending = self.writer.unpublished.borrow().clone();
        for scope in pending {
            self.publish(&scope);
        }
        let owed: Vec<_> = self.writer.unpublished_kv.borrow_mut().drain(..).collect();
        for (k, v) in owed {
            self.publish_kv(k, v);
        }
    }

    fn publish_kv(&self, key: String, value: Option<String>) {
        let f = self.writer.fail_publish.get();
        if f > 0 || !self.writer.unpublished_kv.borrow().is_empty() {
            // Failed, or behind an earlier failure: kept, in order, for the retry.
            self.writer.fail_publish.set(f.saturating_sub(1));
            self.writer.unpublished_kv.borrow_mut().push((key, value));
            return;
        }
        match value {
            Some(v) => self.store.put(&key, &v),
            None => self.store.delete(&key),
        }
    }
}

impl crate::ports::StateWriter for FakePorts {
    fn revoke(
        &self,
        scope: &str,
        entries: &[crate::revoke::Entry],
        now: UnixSeconds,
    ) -> Result<String, PortError> {
        let f = self.writer.fail_writes.get();
        if f > 0 {
            self.writer.fail_writes.set(f - 1);
            return Err(PortError::new("org_state", "scripted failure"));
        }
        let doc = {
            let mut scopes = self.writer.scopes.borrow_mut();
            let current = scopes.entry(scope.to_string()).or_default();
            *current = crate::revoke::apply(current, entries, now);
            serde_json::to_string(current).map_err(|e| PortError::new("writer", e.to_string()))?
        };
        self.writer.writes.set(self.writer.writes.get() + 1);
        self.publish(scope);
        Ok(doc)
    }

    fn org_state(
        &self,
        org_id: &str,
        command: &crate::admin::state::Command,
    ) -> Result<(u16, serde_json::Value), PortError> {
        use crate::admin::state::{execute, Command, AUDIT_PAGE};
        if let Command::Audit { page } = command {
            let audits = self.writer.audits.borrow();
            let all = audits.get(org_id).map(Vec::as_slice).unwrap_or(&[]);
            let entries: Vec<_> = all
                .iter()
                .rev()
                .skip((*page * AUDIT_PAGE) as usize)
                .take(AUDIT_PAGE as usize)
                .collect();
            return Ok((
                200,
                serde_json::json!({"entries": entries, "page": page, "total": all.len()}),
            ));
        }
        // What KV holds, when the writer owes it nothing (else KV is only behind).
        let kv = if self.writer.unpublished_kv.borrow().is_empty() {
            self.store.peek(&format!("org:{org_id}"))
        } else {
            None
        };
        let out = {
            let mut orgs = self.writer.orgs.borrow_mut();
            let state = orgs.entry(org_id.to_string()).or_default();
            execute(state, org_id, kv.as_deref(), command.clone())
        };
        for a in out.audit {
            if a.op != "external_change" {
                self.writer.writes.set(self.writer.writes.get() + 1);
            }
            self.writer
                .audits
                .borrow_mut()
                .entry(org_id.to_string())
                .or_default()
                .push(a);
        }
        for (k, v) in out.publish {
            self.publish_kv(k, v);
        }
        Ok((out.status, out.body))
    }
}

impl Host for FakePorts {
    fn random(&self, buf: &mut [u8]) -> Result<(), PortError> {
        self.rng.fill(buf)
    }
    fn secret(&self, name: &str) -> Option<Secret> {
        self.secrets.get(name).map(Secret::new)
    }
}

impl Ports for FakePorts {
    type Store = MemStore;
    type Http = ScriptedHttp;
    type Clock = FixedClock;
    type Verifier = NativeVerifier;
    type Cache = MemCache;
    type Writer = FakePorts;
    fn store(&self) -> &MemStore {
        &self.store
    }
    fn writer(&self) -> &FakePorts {
        self
    }
    fn http(&self) -> &ScriptedHttp {
        &self.http
    }
    fn clock(&self) -> &FixedClock {
        &self.clock
    }
    fn verifier(&self) -> &NativeVerifier {
        &self.verifier
    }
    fn cache(&self) -> &MemCache {
        &self.cache
    }
}

/// A small deterministic generator (xorshift64*) for the mutation and fuzz-style unit tests:
/// the same inputs on every run, no dependency.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
