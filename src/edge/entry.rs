//! `#[event(fetch)]`: convert, call the core, convert back. Nothing else happens here.

use super::platform::*;
use super::subtle::SubtleVerifier;
use crate::app::handle;
use crate::engine::Engine;
use crate::http::{Forward, Outcome, RequestView, ResponseView, Upstream};
use std::rc::Rc;
use worker::{
    event, Context, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response,
    Result,
};

thread_local! {
    /// Isolate-wide state: survives between requests while the isolate lives.
    static ENGINE: Rc<Engine> = Rc::new(Engine::new());
}

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let engine = ENGINE.with(|e| e.clone());
    let headers: Vec<(String, String)> = req.headers().entries().collect();
    // The runtime's serialized URL as is (no re-parse through the `url` crate, whose IDNA tables
    // would cost ~100 KB of Wasm).
    let url = req.inner().url();
    let method = req.method().to_string();
    // The body is never read: orggate decides on method, URL and headers, and streams the body
    // to the origin untouched.
    let view = RequestView {
        method: method.to_ascii_uppercase(),
        url,
        headers,
        body: None,
    };
    let ports = EdgePorts {
        kv: Kv(env.kv("ORGS").ok()),
        http: Http,
        clock: JsClock,
        rng: CryptoRng,
        verifier: SubtleVerifier,
        cache: EdgeCache,
        secrets: EnvSecrets(env.clone()),
    };
    let handled = handle(&ports, &engine, &view).await;
    worker::console_log!("{}", handled.log.to_json_line());
    match handled.outcome {
        Outcome::Respond(r) => respond(r),
        Outcome::Forward(f) => forward(req, &env, f).await,
    }
}

fn respond(r: ResponseView) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in &r.headers {
        headers.append(k, v)?;
    }
    Ok(Response::from_bytes(r.body)?
        .with_status(r.status)
        .with_headers(headers))
}

async fn forward(req: Request, env: &Env, f: Forward) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in &f.headers {
        headers.append(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(f.method.clone()))
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if f.method != "GET" && f.method != "HEAD" {
        init.with_body(req.inner().body().map(Into::into));
    }
    let resp = match &f.upstream {
        Upstream::Origin(_) => {
            Fetch::Request(Request::new_with_init(&f.url, &init)?)
                .send()
                .await?
        }
        Upstream::Assets => {
            env.assets("ASSETS")?
                .fetch(f.url.clone(), Some(init))
                .await?
        }
    };
    if f.response_headers.is_empty() {
        return Ok(resp);
    }
    // Response headers from fetch are immutable: copy into a new response.
    let out_headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        out_headers.append(&k, &v)?;
    }
    for (k, v) in &f.response_headers {
        if k == "set-cookie" {
            out_headers.append(k, v)?;
        } else {
            out_headers.set(k, v)?;
        }
    }
    let status = resp.status_code();
    let (_, body) = resp.into_parts();
    Ok(Response::from_body(body)?
        .with_status(status)
        .with_headers(out_headers))
}
