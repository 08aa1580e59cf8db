//! The I/O the core names, and the answers a driver feeds back (sans-IO, as rustls and
//! quinn-proto: the core never performs I/O and never `.await`s).
//!
//! The pipeline ([`crate::app::step`]) is synchronous. Given the request and what the isolate
//! already holds ([`crate::engine::Engine`]: compiled configs, key sets, verified credentials), it
//! either returns a decision or stops with [`Step::Need`] naming the **one** piece of I/O it needs
//! next: a KV key, an HTTP request (JWKS, discovery, token endpoint), a signature check, a read of
//! the location's shared cache. A driver performs it, records the [`Answer`] in the request's
//! [`Answers`] and steps again; the pipeline replays from the start and finds the answer where it
//! stopped. Everything before that point is either cached in the engine or cheap, so a replay
//! costs microseconds, and a warm request never stops at all: **one synchronous call**.
//!
//! Drivers: [`crate::driver`] (native tests, the CLI: plain function calls, no async runtime) and
//! `edge::entry` (the Worker: the only `async` code). Another host needs only a new driver.
//!
//! Work that must not delay the response (sharing a fetched key set with other isolates) comes
//! out as [`Effect`]s, run by the driver after the response.

use crate::http::HttpResponse;
use crate::keys::jwk::PublicJwk;
use crate::time::UnixSeconds;
use crate::token::jws::Alg;
use std::rc::Rc;

pub use crate::http::HttpRequest;

/// A failure of the platform underneath a piece of I/O: never the caller's fault (a 5xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortError {
    pub port: &'static str,
    pub detail: String,
}

impl PortError {
    pub fn new(port: &'static str, detail: impl Into<String>) -> Self {
        Self {
            port,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} port: {}", self.port, self.detail)
    }
}

/// One JWS signature to check with the host's crypto (WebCrypto on Workers).
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    pub alg: Alg,
    pub key: Rc<PublicJwk>,
    /// The JWS Signing Input (RFC 7515 §5.1), shared with the parsed token (no copy).
    pub input: Rc<str>,
    pub signature: Rc<[u8]>,
}

impl PartialEq for SignatureCheck {
    fn eq(&self, o: &Self) -> bool {
        self.alg == o.alg
            && self.key.thumbprint == o.key.thumbprint
            && (Rc::ptr_eq(&self.signature, &o.signature) || self.signature == o.signature)
            && (Rc::ptr_eq(&self.input, &o.input) || self.input == o.input)
    }
}

/// What the core needs before it can go on.
#[derive(Debug, Clone, PartialEq)]
pub enum Io {
    /// A Workers KV read (binding `ORGS`).
    Kv { key: String },
    /// An outgoing HTTP request. `coalesce`: requests with the same key that are in flight at the
    /// same time in one isolate may share one answer (idempotent GETs of key sets and metadata:
    /// a cold isolate's first burst makes one JWKS fetch, not one per request).
    Fetch {
        request: HttpRequest,
        coalesce: Option<String>,
    },
    /// A signature check (RS*/PS*/ES*/EdDSA; HS256 is checked inline in Rust).
    Verify(SignatureCheck),
    /// A read of the location's shared cache (the Workers Cache API).
    SharedGet { key: String },
    /// Revocation entries for a scope (an org id, or `*`), written through the scope's single
    /// writer (a Durable Object on Workers), which publishes the scope's set to KV.
    Revoke {
        scope: String,
        entries: Vec<crate::revoke::Entry>,
        now: UnixSeconds,
    },
    /// An admin command for an org's single writer (the same Durable Object).
    OrgState {
        org_id: String,
        command: Box<crate::admin::state::Command>,
    },
}

impl Io {
    /// A short name for logs and the round-trip bound.
    pub fn kind(&self) -> &'static str {
        match self {
            Io::Kv { .. } => "kv",
            Io::Fetch { .. } => "fetch",
            Io::Verify(_) => "verify",
            Io::SharedGet { .. } => "shared_get",
            Io::Revoke { .. } => "revoke",
            Io::OrgState { .. } => "org_state",
        }
    }
}

/// The result of one [`Io`], as the driver observed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Kv(Result<Option<String>, PortError>),
    Fetch(Result<HttpResponse, PortError>),
    /// `Ok(false)`: a bad signature; `Err`: the host could not check it (a fault).
    Verify(Result<bool, PortError>),
    /// A cache miss and a cache failure look the same: the shared tier is only an optimization.
    SharedGet(Option<String>),
    /// The scope's published document after the write.
    Revoke(Result<String, PortError>),
    /// The writer's answer: status and JSON body.
    OrgState(Result<(u16, serde_json::Value), PortError>),
}

/// Work to run after the response, never delaying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    SharedPut {
        key: String,
        value: String,
        ttl_s: u64,
    },
}

/// The pipeline stopped: it needs this I/O first.
#[derive(Debug, Clone, PartialEq)]
pub struct Need(pub Io);

/// A stage's result when it may also need I/O: its own error, or a [`Need`].
#[derive(Debug, Clone, PartialEq)]
pub enum Pending<E> {
    Need(Io),
    Fail(E),
}

impl<E> From<Need> for Pending<E> {
    fn from(n: Need) -> Self {
        Pending::Need(n.0)
    }
}

impl<E> Pending<E> {
    /// Maps the error, keeping a [`Need`] as it is.
    pub fn map_fail<F>(self, f: impl FnOnce(E) -> F) -> Pending<F> {
        match self {
            Pending::Need(io) => Pending::Need(io),
            Pending::Fail(e) => Pending::Fail(f(e)),
        }
    }
}

/// How many pieces of I/O one request may need. A cold login callback needs about eight (KV,
/// discovery, code exchange, JWKS, two signatures); anything near this bound is a loop.
pub const MAX_ROUND_TRIPS: usize = 24;

/// The answers gathered so far for one request, in the order they arrived.
#[derive(Debug, Default)]
pub struct Answers {
    entries: Vec<(Io, Answer)>,
    effects: Vec<Effect>,
}

impl Answers {
    /// The answer to `io`, if it was asked and answered in this request.
    pub fn get(&self, io: &Io) -> Option<&Answer> {
        self.entries.iter().find(|(i, _)| i == io).map(|(_, a)| a)
    }

    pub fn record(&mut self, io: Io, answer: Answer) {
        self.entries.push((io, answer));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A KV value: `Err(Need)` until the driver answered it.
    pub fn kv(&self, key: &str) -> Result<Result<Option<String>, PortError>, Need> {
        let io = Io::Kv {
            key: key.to_string(),
        };
        match self.get(&io) {
            Some(Answer::Kv(r)) => Ok(r.clone()),
            _ => Err(Need(io)),
        }
    }

    /// An HTTP answer: `Err(Need)` until the driver answered it.
    pub fn fetch(
        &self,
        request: HttpRequest,
        coalesce: Option<String>,
    ) -> Result<Result<HttpResponse, PortError>, Need> {
        let io = Io::Fetch { request, coalesce };
        match self.get(&io) {
            Some(Answer::Fetch(r)) => Ok(r.clone()),
            _ => Err(Need(io)),
        }
    }

    pub fn verify(&self, check: SignatureCheck) -> Result<Result<bool, PortError>, Need> {
        let found = self.entries.iter().find_map(|(i, a)| match (i, a) {
            (Io::Verify(c), Answer::Verify(r)) if *c == check => Some(r.clone()),
            _ => None,
        });
        found.ok_or(Need(Io::Verify(check)))
    }

    /// A revocation write: `Err(Need)` until the driver performed it.
    pub fn revoke(
        &self,
        scope: &str,
        entries: &[crate::revoke::Entry],
        now: UnixSeconds,
    ) -> Result<Result<String, PortError>, Need> {
        let io = Io::Revoke {
            scope: scope.to_string(),
            entries: entries.to_vec(),
            now,
        };
        match self.get(&io) {
            Some(Answer::Revoke(r)) => Ok(r.clone()),
            _ => Err(Need(io)),
        }
    }

    /// An admin command's answer: `Err(Need)` until the driver performed it.
    pub fn org_state(
        &self,
        org_id: &str,
        command: &crate::admin::state::Command,
    ) -> Result<Result<(u16, serde_json::Value), PortError>, Need> {
        let io = Io::OrgState {
            org_id: org_id.to_string(),
            command: Box::new(command.clone()),
        };
        match self.get(&io) {
            Some(Answer::OrgState(r)) => Ok(r.clone()),
            _ => Err(Need(io)),
        }
    }

    pub fn shared_get(&self, key: &str) -> Result<Option<String>, Need> {
        let io = Io::SharedGet {
            key: key.to_string(),
        };
        match self.get(&io) {
            Some(Answer::SharedGet(r)) => Ok(r.clone()),
            _ => Err(Need(io)),
        }
    }

    /// Queues an effect once (replays must not queue it again).
    pub fn effect(&mut self, e: Effect) {
        if !self.effects.contains(&e) {
            self.effects.push(e);
        }
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_found_by_the_io_it_answers() {
        let mut a = Answers::default();
        assert_eq!(
            a.kv("settings"),
            Err(Need(Io::Kv {
                key: "settings".into()
            }))
        );
        a.record(
            Io::Kv {
                key: "settings".into(),
            },
            Answer::Kv(Ok(Some("{}".into()))),
        );
        assert_eq!(a.kv("settings"), Ok(Ok(Some("{}".into()))));
        assert!(a.kv("org:x").is_err());
        a.effect(Effect::SharedPut {
            key: "k".into(),
            value: "v".into(),
            ttl_s: 1,
        });
        a.effect(Effect::SharedPut {
            key: "k".into(),
            value: "v".into(),
            ttl_s: 1,
        });
        assert_eq!(a.take_effects().len(), 1, "a replay does not queue twice");
    }
}
