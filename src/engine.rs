//! The in-isolate state one Worker isolate keeps between requests: key sets, verified tokens,
//! discovery documents, compiled configs. Plain data behind `RefCell`s: an isolate is single
//! threaded, and no borrow is ever held across an `.await` (each accessor takes a closure).

use crate::keys::cache::JwksCache;
use crate::keys::discovery::Discovery;
use crate::org::cache::ConfigCache;
use crate::token::VerifiedClaims;
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
    verified: RefCell<HashMap<[u8; 32], Rc<VerifiedClaims>>>,
    inflight: RefCell<HashMap<String, Inflight>>,
    discovery: RefCell<HashMap<String, (Rc<Discovery>, u64)>>,
    configs: RefCell<ConfigCache>,
    now_ms: std::cell::Cell<u64>,
}

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    /// The request's clock reading, recorded for bookkeeping that has no clock of its own.
    pub fn set_now_ms(&self, now_ms: u64) {
        self.now_ms.set(now_ms);
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

    /// A token verified earlier, still unexpired and still signed by a published key.
    pub fn verified_get(
        &self,
        digest: &[u8; 32],
        now: u64,
        leeway: u64,
    ) -> Option<Rc<VerifiedClaims>> {
        let hit = self.verified.borrow().get(digest).cloned()?;
        let alive = now < hit.exp.saturating_add(leeway);
        let key_ok = match &hit.key_thumbprint {
            Some(t) => self.jwks.borrow().still_published(&hit.issuer, t),
            None => true,
        };
        if alive && key_ok {
            Some(hit)
        } else {
            self.verified.borrow_mut().remove(digest);
            None
        }
    }

    pub fn verified_put(&self, digest: [u8; 32], claims: Rc<VerifiedClaims>, now: u64) {
        let mut cache = self.verified.borrow_mut();
        if cache.len() >= VERIFIED_CACHE_CAP {
            cache.retain(|_, c| now < c.exp);
            if cache.len() >= VERIFIED_CACHE_CAP {
                cache.clear();
            }
        }
        cache.insert(digest, claims);
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

    pub fn finish_inflight(&self, key: &str) {
        let done = self.inflight.borrow_mut().remove(key);
        if let Some(f) = done {
            for w in f.waiters {
                let _ = w.send(());
            }
        }
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
