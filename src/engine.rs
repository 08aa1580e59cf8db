//! The in-isolate state one Worker isolate keeps between requests: key sets, verified tokens,
//! discovery documents, compiled configs. Plain data behind `RefCell`s: an isolate is single
//! threaded, and no borrow is ever held across an `.await` (each accessor takes a closure).

use crate::forward::AssertionKey;
use crate::keys::cache::JwksCache;
use crate::keys::discovery::Discovery;
use crate::org::cache::ConfigCache;
use crate::token::verify::CachedToken;
use futures_channel::oneshot;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// How many verified tokens an isolate remembers (bounded memory; Workers isolates have 128 MB).
pub const VERIFIED_CACHE_CAP: usize = 10_000;
/// A fetch older than this no longer has followers waiting on it (its request may have died).
const INFLIGHT_MAX_S: u64 = 10;

struct Inflight {
    started_ms: u64,
    waiters: Vec<oneshot::Sender<()>>,
}

#[derive(Default)]
pub struct Engine {
    jwks: RefCell<JwksCache>,
    verified: RefCell<HashMap<[u8; 32], Rc<CachedToken>>>,
    inflight: RefCell<HashMap<String, Inflight>>,
    discovery: RefCell<HashMap<String, (Rc<Discovery>, u64)>>,
    configs: RefCell<ConfigCache>,
    now_ms: std::cell::Cell<u64>,
    /// (random isolate prefix, counter) for request ids.
    request_seq: std::cell::Cell<(u32, u64)>,
    /// MAC key for entries in the shared (Cache API) tier; `None`: no shared tier.
    shared_mac: RefCell<Option<Option<[u8; 32]>>>,
    /// The assertion signing key, derived once per (kid, secret).
    assertion_key: RefCell<Option<([u8; 32], Rc<AssertionKey>)>>,
}

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    /// The request's clock reading, recorded for bookkeeping that has no clock of its own.
    pub fn set_now_ms(&self, now_ms: u64) {
        self.now_ms.set(now_ms);
    }

    /// `{isolate prefix}-{counter}`; `fill` supplies randomness for the prefix, once.
    pub fn next_request_id(&self, fill: impl FnOnce(&mut [u8]) -> bool) -> String {
        let (mut prefix, count) = self.request_seq.get();
        if prefix == 0 {
            let mut b = [0u8; 4];
            prefix = if fill(&mut b) {
                u32::from_le_bytes(b) | 1
            } else {
                1
            };
        }
        self.request_seq.set((prefix, count + 1));
        format!("{prefix:08x}-{count:x}")
    }

    pub fn with_jwks<R>(&self, f: impl FnOnce(&JwksCache) -> R) -> R {
        f(&self.jwks.borrow())
    }

    pub fn with_jwks_mut<R>(&self, f: impl FnOnce(&mut JwksCache) -> R) -> R {
        f(&mut self.jwks.borrow_mut())
    }

    pub fn with_configs<R>(&self, f: impl FnOnce(&mut ConfigCache) -> R) -> R {
        f(&mut self.configs.borrow_mut())
    }

    /// A token whose signature was verified earlier (the caller re-checks key, claims, policy).
    pub fn verified_get(&self, digest: &[u8; 32]) -> Option<Rc<CachedToken>> {
        self.verified.borrow().get(digest).cloned()
    }

    pub fn verified_remove(&self, digest: &[u8; 32]) {
        self.verified.borrow_mut().remove(digest);
    }

    pub fn verified_put(&self, digest: [u8; 32], token: Rc<CachedToken>, now: u64) {
        let mut cache = self.verified.borrow_mut();
        if cache.len() >= VERIFIED_CACHE_CAP {
            // Drop what expired (beyond any sane leeway); if that is not enough, start over.
            cache.retain(|_, c| now < c.exp.saturating_add(600));
            if cache.len() >= VERIFIED_CACHE_CAP {
                cache.clear();
            }
        }
        cache.insert(digest, token);
    }

    pub fn verified_len(&self) -> usize {
        self.verified.borrow().len()
    }

    /// Joins a fetch already under way for `key`, or returns `None` and makes the caller the one
    /// that fetches (it must call [`Engine::finish_inflight`]).
    pub fn join_inflight(&self, key: &str) -> Option<oneshot::Receiver<()>> {
        let now = self.now_ms.get();
        let mut map = self.inflight.borrow_mut();
        match map.get_mut(key) {
            Some(f) if now.saturating_sub(f.started_ms) < INFLIGHT_MAX_S * 1000 => {
                let (tx, rx) = oneshot::channel();
                f.waiters.push(tx);
                Some(rx)
            }
            _ => {
                map.insert(
                    key.to_string(),
                    Inflight {
                        started_ms: now,
                        waiters: Vec::new(),
                    },
                );
                None
            }
        }
    }

    /// Waits on a fetch already under way for `key`, if there is one (never becomes the fetcher).
    pub fn wait_inflight(&self, key: &str) -> Option<oneshot::Receiver<()>> {
        let now = self.now_ms.get();
        let mut map = self.inflight.borrow_mut();
        let f = map
            .get_mut(key)
            .filter(|f| now.saturating_sub(f.started_ms) < INFLIGHT_MAX_S * 1000)?;
        let (tx, rx) = oneshot::channel();
        f.waiters.push(tx);
        Some(rx)
    }

    pub fn finish_inflight(&self, key: &str) {
        let done = self.inflight.borrow_mut().remove(key);
        if let Some(f) = done {
            for w in f.waiters {
                let _ = w.send(());
            }
        }
    }

    /// Sets the shared-tier MAC key once per isolate (secrets do not change within one).
    pub fn init_shared_mac(&self, derive: impl FnOnce() -> Option<[u8; 32]>) {
        if self.shared_mac.borrow().is_none() {
            *self.shared_mac.borrow_mut() = Some(derive());
        }
    }

    pub fn shared_mac_key(&self) -> Option<[u8; 32]> {
        self.shared_mac.borrow().flatten()
    }

    /// The assertion key for `kid` and `secret`, derived on first use (an Ed25519 key derivation
    /// per request would cost more than the rest of the request).
    pub fn assertion_key(&self, kid: &str, secret: &str) -> Result<Rc<AssertionKey>, String> {
        use sha2::{Digest, Sha256};
        let id: [u8; 32] = Sha256::digest(format!("{kid}\0{secret}").as_bytes()).into();
        if let Some((cached_id, key)) = self.assertion_key.borrow().as_ref() {
            if *cached_id == id {
                return Ok(key.clone());
            }
        }
        let key = Rc::new(AssertionKey::from_secret(kid, secret)?);
        *self.assertion_key.borrow_mut() = Some((id, key.clone()));
        Ok(key)
    }

    pub fn discovery_get(&self, issuer: &str, now: u64) -> Option<Rc<Discovery>> {
        let map = self.discovery.borrow();
        let (doc, fresh_until) = map.get(issuer)?;
        (now < *fresh_until).then(|| doc.clone())
    }

    pub fn discovery_put(&self, issuer: &str, doc: Rc<Discovery>, fresh_until: u64) {
        self.discovery
            .borrow_mut()
            .insert(issuer.to_string(), (doc, fresh_until));
    }
}
