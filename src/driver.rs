//! The synchronous driver: runs the sans-IO core to a decision, performing the I/O it names
//! through [`Ports`] with plain function calls (no async runtime). The native tests drive the
//! real pipeline with it over the fakes of [`crate::testing`]; `orggate explain` over in-memory
//! ports. The Worker has its own, asynchronous driver in `edge`.

use crate::app::{self, Handled, Step};
use crate::engine::Engine;
use crate::exchange::Exchange;
use crate::http::RequestView;
use crate::io::{Answer, Effect, Io, Pending};
use crate::org::policy::TenantPolicy;
use crate::ports::{
    Clock, HttpClient, OrgStore, Ports, SharedCache, SignatureVerifier, StateWriter,
};
use crate::token::{verify, TokenError, VerifiedClaims};
use std::rc::Rc;

/// One request, start to decision, at the ports' clock.
pub fn run<P: Ports>(ports: &P, engine: &Engine, req: RequestView) -> Handled {
    let mut ex = app::begin(engine, ports, req, ports.clock().now());
    drive(ports, engine, &mut ex)
}

/// Steps `ex` until the core decides, performing each piece of I/O it names; then runs the
/// effects (the Worker runs them after the response).
pub fn drive<P: Ports>(ports: &P, engine: &Engine, ex: &mut Exchange) -> Handled {
    loop {
        match app::step(engine, ports, ex) {
            Step::Done(h) => {
                for e in &h.effects {
                    run_effect(ports, e);
                }
                return *h;
            }
            Step::Need(io) => {
                let answer = perform(ports, &io);
                ex.io.record(io, answer);
            }
            // This driver always passes every header.
            Step::NeedHeaders(_) => ex.provided_extras = None,
        }
    }
}

/// Performs one piece of I/O through the ports.
pub fn perform<P: Ports>(ports: &P, io: &Io) -> Answer {
    match io {
        Io::Kv { key } => Answer::Kv(ports.store().get(key)),
        Io::Fetch { request, .. } => Answer::Fetch(ports.http().send(request)),
        Io::Verify(c) => Answer::Verify(ports.verifier().verify(
            c.alg,
            &c.key,
            c.input.as_bytes(),
            &c.signature,
        )),
        Io::SharedGet { key } => Answer::SharedGet(ports.cache().get(key)),
        Io::Revoke {
            scope,
            entries,
            now,
        } => Answer::Revoke(ports.writer().revoke(scope, entries, *now)),
        Io::OrgState { org_id, command } => {
            Answer::OrgState(ports.writer().org_state(org_id, command))
        }
    }
}

pub fn run_effect<P: Ports>(ports: &P, e: &Effect) {
    match e {
        Effect::SharedPut { key, value, ttl_s } => ports.cache().put(key, value, *ttl_s),
    }
}

/// Token verification alone (the token stage, without a request around it): for the token
/// test suites and the CLI.
pub fn verify_token<P: Ports>(
    ports: &P,
    engine: &Engine,
    tenant: &TenantPolicy,
    raw: &str,
) -> Result<Rc<VerifiedClaims>, TokenError> {
    let req = RequestView::new("GET", "https://orggate.invalid/", &[]);
    let mut ex = Exchange::new(req, ports.clock().now(), "verify".into());
    loop {
        match verify(engine, ports, &mut ex, tenant, raw) {
            Ok(c) => {
                for e in ex.io.take_effects() {
                    run_effect(ports, &e);
                }
                return Ok(c);
            }
            Err(Pending::Fail(e)) => return Err(e),
            Err(Pending::Need(io)) => {
                if ex.out_of_round_trips() {
                    return Err(TokenError::KeysUnavailable {
                        detail: "too many round trips".into(),
                    });
                }
                ex.round_trips += 1;
                let a = perform(ports, &io);
                ex.io.record(io, a);
            }
        }
    }
}
