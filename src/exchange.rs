//! The per-request value every stage reads and writes: the request, the clock reading, the
//! request id, the decision log, the org once resolved, and the answers to the I/O the pipeline
//! has needed so far ([`crate::io`]). One value instead of the same five arguments at every call.

use crate::http::RequestView;
use crate::io::{Answers, Need, MAX_ROUND_TRIPS};
use crate::log::DecisionLog;
use crate::org::policy::{OrgPolicy, TenantPolicy};
use crate::time::UnixSeconds;
use crate::token::jws::UntrustedToken;
use std::rc::Rc;

/// One request on its way through the pipeline. It outlives the pipeline's replays: the answers
/// and the parsed tokens stay; the log, the org and the path prefix are rebuilt by each replay.
#[derive(Debug)]
pub struct Exchange {
    pub req: RequestView,
    /// The clock reading for the whole request.
    pub now: UnixSeconds,
    pub request_id: String,
    pub log: DecisionLog,
    /// `/o/acme` when the org came from a path prefix (links and cookies live under it), else "".
    pub base: String,
    /// The tenant settings, once loaded.
    pub tenant: Option<Rc<TenantPolicy>>,
    /// The addressed org, once resolved: refusals carry its branding.
    pub org: Option<Rc<OrgPolicy>>,
    pub io: Answers,
    /// Tokens parsed in this request, so a replay does not parse them again.
    parsed: Vec<(String, Rc<UntrustedToken>)>,
    /// How many times the pipeline stopped for I/O (bounded by [`MAX_ROUND_TRIPS`]).
    pub round_trips: usize,
    /// The configured header names the host passed besides its fixed set (`None`: the host
    /// passed every header, as the native drivers do).
    pub provided_extras: Option<Vec<String>>,
    /// The DPoP proof this request accepted (a replay of the pipeline must not take its own
    /// `jti` for a replay attack).
    pub dpop_accepted: Option<String>,
    /// The CORS policy for this answer: the tenant's, then the route's once it is known
    /// (`None`: no CORS headers). Applied to every answer, refusals included.
    pub cors: Option<Rc<crate::authz::cors::CorsPolicy>>,
    /// The answer is a preflight that carries its own CORS headers.
    pub cors_answered: bool,
}

impl Exchange {
    pub fn new(req: RequestView, now: UnixSeconds, request_id: String) -> Self {
        let log = DecisionLog::new(&request_id, &req.method);
        Self {
            req,
            now,
            request_id,
            log,
            base: String::new(),
            tenant: None,
            org: None,
            io: Answers::default(),
            parsed: Vec::new(),
            round_trips: 0,
            provided_extras: None,
            dpop_accepted: None,
            cors: None,
            cors_answered: false,
        }
    }

    /// Before a replay: what the pipeline rebuilds goes; answers and parsed tokens stay.
    pub fn reset_for_replay(&mut self) {
        self.log = DecisionLog::new(&self.request_id, &self.req.method);
        self.base.clear();
        self.tenant = None;
        self.org = None;
        self.cors = None;
        self.cors_answered = false;
    }

    /// Has this request made as many round trips as any request may?
    pub fn out_of_round_trips(&self) -> bool {
        self.round_trips >= MAX_ROUND_TRIPS
    }

    /// A token parsed earlier in this request.
    pub fn parsed(&self, raw: &str) -> Option<Rc<UntrustedToken>> {
        self.parsed
            .iter()
            .find(|(r, _)| r == raw)
            .map(|(_, t)| t.clone())
    }

    pub fn remember_parsed(&mut self, raw: &str, t: Rc<UntrustedToken>) {
        if self.parsed.len() < 4 {
            self.parsed.push((raw.to_string(), t));
        }
    }

    /// The request's own origin (`scheme://authority`).
    pub fn origin(&self) -> String {
        self.req.url_parts().map(|u| u.origin()).unwrap_or_default()
    }
}

/// Convenience for stages: `ex.io.kv(key)?` reads as "the value, or stop and ask for it".
pub type NeedResult<T> = Result<T, Need>;
