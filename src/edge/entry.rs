//! The calls the JS entry (`js/shim.js`) makes into Wasm.
//!
//! [`decide`] is synchronous: one call per request, and with warm caches the only one. When the
//! core needs I/O, the request is parked under a handle:
//! - a signature check goes back to JS (`V`), which checks it with WebCrypto and hands the answer
//!   to [`resume`], synchronous again;
//! - anything else (`N`): JS awaits [`drive`], which performs the I/O the core names, one piece
//!   at a time, until the core decides or needs a signature check.

use super::host::EdgeHost;
use super::perform::{perform, run_effects};
use crate::app::{self, Handled, Step};
use crate::engine::Engine;
use crate::exchange::Exchange;
use crate::io::Io;
use crate::wire;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    /// Isolate-wide state: survives between requests while the isolate lives.
    static ENGINE: Engine = Engine::new();
    /// Requests waiting for their driver: handle → (exchange, the I/O it needs).
    static PARKED: RefCell<Parked> = RefCell::new(Parked::default());
}

/// Parked requests, bounded: a handle JS never drives (its request died) is dropped eventually.
#[derive(Default)]
struct Parked {
    next: u32,
    map: HashMap<u32, (Exchange, Io)>,
}

const MAX_PARKED: usize = 4096;

fn park(ex: Exchange, io: Io) -> String {
    PARKED.with(|p| {
        let mut p = p.borrow_mut();
        if p.map.len() >= MAX_PARKED {
            p.map.clear();
        }
        p.next = p.next.wrapping_add(1);
        let h = p.next;
        let out = match &io {
            Io::Verify(c) => wire::verify_request(h, c),
            _ => wire::need(h),
        };
        p.map.insert(h, (ex, io));
        out
    })
}

/// What a step means for the host: a decision, a parked need, or headers to add.
fn after(ex: Exchange, step: Step) -> String {
    match step {
        Step::Done(h) => finish(&ex, &h),
        Step::Need(io) => park(ex, io),
        Step::NeedHeaders(names) => wire::resend(&names),
    }
}

fn finish(ex: &Exchange, h: &Handled) -> String {
    let extras = ex
        .tenant
        .as_ref()
        .map(|t| t.extra_headers())
        .unwrap_or_default();
    wire::encode(h, &extras)
}

fn bad_input() -> String {
    "R\x00400\0\0{}\0content-type\x01application/json\0{\"error\":\"bad_request\"}".to_string()
}

/// One request: `input` in [`wire`]'s request format, `env` the Worker's bindings.
#[wasm_bindgen]
pub fn decide(input: &str, env: &JsValue) -> String {
    let Some((req, extras)) = wire::unpack(input) else {
        return bad_input();
    };
    let host = EdgeHost { env };
    let now = crate::time::UnixSeconds::from_millis(js_sys::Date::now() as u64);
    ENGINE.with(|engine| {
        let mut ex = app::begin(engine, &host, req, now);
        ex.provided_extras = Some(extras);
        let step = app::step(engine, &host, &mut ex);
        after(ex, step)
    })
}

/// The host's answer to a signature check (`V`): `answer` in [`wire::verify_answer`]'s format.
#[wasm_bindgen]
pub fn resume(handle: u32, answer: &str, env: &JsValue) -> String {
    let Some((mut ex, io)) = PARKED.with(|p| p.borrow_mut().map.remove(&handle)) else {
        return bad_input();
    };
    let recorded = match (&io, answer) {
        // A runtime without WebCrypto Ed25519: check it in Rust.
        (Io::Verify(c), "U") if c.alg == crate::token::jws::Alg::EdDSA => {
            crate::io::Answer::Verify(Ok(crate::sig::verify_eddsa(
                &c.key,
                c.input.as_bytes(),
                &c.signature,
            )))
        }
        _ => wire::verify_answer(answer),
    };
    ex.io.record(io, recorded);
    let host = EdgeHost { env };
    let step = ENGINE.with(|engine| app::step(engine, &host, &mut ex));
    after(ex, step)
}

/// Drives a parked request to its decision: the only async code in orggate.
#[wasm_bindgen]
pub async fn drive(handle: u32, env: JsValue, ctx: JsValue) -> String {
    let Some((mut ex, mut io)) = PARKED.with(|p| p.borrow_mut().map.remove(&handle)) else {
        return bad_input();
    };
    let worker_env: worker::Env = env.clone().unchecked_into();
    let host = EdgeHost { env: &env };
    loop {
        if matches!(io, Io::Verify(_)) {
            // Signature checks are the host's (JS) to make.
            return park(ex, io);
        }
        let answer = perform(&worker_env, &io).await;
        ex.io.record(io, answer);
        match ENGINE.with(|engine| app::step(engine, &host, &mut ex)) {
            Step::Done(mut h) => {
                let effects = std::mem::take(&mut h.effects);
                if !effects.is_empty() {
                    run_effects(&worker::Context::new(ctx.unchecked_into()), effects);
                }
                return finish(&ex, &h);
            }
            Step::Need(next) => io = next,
            Step::NeedHeaders(names) => return wire::resend(&names),
        }
    }
}
