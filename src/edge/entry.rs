//! `#[event(fetch)]`: convert, call the core, convert back. Nothing else happens here.
//!
//! Headers cross the Wasm/JS boundary once per direction, as one string (`js/glue.js`): converting
//! them one call at a time cost more than the authorization itself (BENCHMARKS.md).

use super::platform::*;
use super::subtle::SubtleVerifier;
use crate::app::handle;
use crate::engine::Engine;
use crate::http::{Forward, Outcome, RequestView, ResponseView, Upstream};
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::{event, Context, Env, Request, Response, Result};

#[wasm_bindgen(module = "/src/edge/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = headerBlob)]
    fn header_blob(headers: &web_sys::Headers) -> String;
    fn respond(status: u16, headers: &str, body: &[u8]) -> web_sys::Response;
    fn forward(
        target: &JsValue,
        url: &str,
        method: &str,
        headers: &str,
        incoming: &web_sys::Request,
        response_headers: &str,
    ) -> Promise;
}

thread_local! {
    /// Isolate-wide state: survives between requests while the isolate lives.
    static ENGINE: Rc<Engine> = Rc::new(Engine::new());
}

fn to_blob(pairs: &[(String, String)]) -> String {
    let mut s = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('\0');
        }
        s.push_str(k);
        s.push('\0');
        s.push_str(v);
    }
    s
}

fn from_blob(blob: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut parts = blob.split('\0');
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        out.push((k.to_string(), v.to_string()));
    }
    out
}

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let engine = ENGINE.with(|e| e.clone());
    let inner = req.inner();
    // The runtime's serialized URL as is (no re-parse through the `url` crate, whose IDNA tables
    // would cost ~100 KB of Wasm). The body is never read: orggate decides on method, URL and
    // headers, and streams the body to the origin untouched.
    let view = RequestView {
        method: inner.method().to_ascii_uppercase(),
        url: inner.url(),
        headers: from_blob(&header_blob(&inner.headers())),
        body: None,
    };
    let ports = EdgePorts {
        kv: Kv::new(env.clone()),
        http: Http,
        clock: JsClock,
        rng: CryptoRng,
        verifier: SubtleVerifier,
        cache: EdgeCache(ctx),
        secrets: EnvSecrets(env.clone()),
    };
    let handled = handle(&ports, &engine, &view).await;
    worker::console_log!("{}", handled.log.to_json_line());
    match handled.outcome {
        Outcome::Respond(r) => Ok(to_response(r)),
        Outcome::Forward(f) => send(inner, &env, f).await,
    }
}

fn to_response(r: ResponseView) -> Response {
    Response::from(respond(r.status, &to_blob(&r.headers), &r.body))
}

async fn send(incoming: &web_sys::Request, env: &Env, f: Forward) -> Result<Response> {
    let target = match &f.upstream {
        Upstream::Origin(_) => JsValue::UNDEFINED,
        Upstream::Assets => env.assets("ASSETS")?.into_rpc::<JsValue>(),
    };
    let promise = forward(
        &target,
        &f.url,
        &f.method,
        &to_blob(&f.headers),
        incoming,
        &to_blob(&f.response_headers),
    );
    let resp: web_sys::Response = JsFuture::from(promise).await?.dyn_into()?;
    Ok(Response::from(resp))
}
