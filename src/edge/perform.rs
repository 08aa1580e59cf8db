//! The I/O the core names, performed on Workers: KV (`ORGS`), `fetch`, the Cache API. (Signature
//! checks are made by the JS entry with WebCrypto: see `js/verify.mjs`.)
//!
//! Fetches the core marks coalescable (key sets, discovery documents) are shared: while one is in
//! flight in this isolate, a request that needs the same one waits for its answer instead of
//! sending another (a cold isolate's first burst makes one JWKS fetch).

use crate::http::{HttpRequest, HttpResponse};
use crate::io::{Answer, Effect, Io, PortError};
use futures_channel::oneshot;
use js_sys::Uint8Array;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{Cache, Env, Fetch, Headers, Method, Request, RequestInit, Response};

thread_local! {
    /// Coalescing key → the requests waiting for the fetch under way.
    static INFLIGHT: RefCell<HashMap<String, Vec<oneshot::Sender<Answer>>>> =
        RefCell::new(HashMap::new());
}

/// Performs one piece of I/O.
pub async fn perform(env: &Env, io: &Io) -> Answer {
    match io {
        Io::Kv { key } => Answer::Kv(kv_get(env, key).await),
        Io::Fetch { request, coalesce } => match coalesce {
            Some(k) => coalesced(k, request).await,
            None => Answer::Fetch(send(request).await),
        },
        Io::Verify(_) => Answer::Verify(Err(PortError::new(
            "subtle",
            "signature checks are made by the JS entry",
        ))),
        Io::SharedGet { key } => Answer::SharedGet(cache_get(key).await),
        Io::Revoke {
            scope,
            entries,
            now,
        } => Answer::Revoke(revoke(env, scope, entries, *now).await),
        Io::OrgState { org_id, command } => Answer::OrgState(org_state(env, org_id, command).await),
    }
}

/// Sends `body` to `path` of the named scope's Durable Object (`ORG_STATE`, see `state.rs`).
async fn to_object(env: &Env, name: &str, path: &str, body: String) -> Result<String, PortError> {
    let err = |e: worker::Error| PortError::new("org_state", e.to_string());
    let stub = env
        .durable_object("ORG_STATE")
        .map_err(|_| PortError::new("org_state", "binding ORG_STATE is missing"))?
        .id_from_name(name)
        .map_err(err)?
        .get_stub()
        .map_err(err)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init(&format!("https://org-state{path}"), &init).map_err(err)?;
    let mut resp = stub.fetch_with_request(req).await.map_err(err)?;
    let text = resp.text().await.map_err(err)?;
    if resp.status_code() != 200 {
        return Err(PortError::new(
            "org_state",
            format!("{}: {text}", resp.status_code()),
        ));
    }
    Ok(text)
}

/// An admin command for the org's Durable Object: its status and JSON body.
async fn org_state(
    env: &Env,
    org_id: &str,
    command: &crate::admin::state::Command,
) -> Result<(u16, serde_json::Value), PortError> {
    let body = serde_json::json!({"org_id": org_id, "command": command}).to_string();
    let text = to_object(env, org_id, "/state", body).await?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| PortError::new("org_state", e.to_string()))?;
    let status = v["status"].as_u64().unwrap_or(500) as u16;
    Ok((status, v["body"].clone()))
}

/// Writes revocations through the scope's Durable Object (`ORG_STATE`, see `state.rs`).
async fn revoke(
    env: &Env,
    scope: &str,
    entries: &[crate::revoke::Entry],
    now: crate::time::UnixSeconds,
) -> Result<String, PortError> {
    let body = serde_json::json!({"scope": scope, "entries": entries, "now": now}).to_string();
    to_object(env, scope, "/revoke", body).await
}

async fn coalesced(key: &str, request: &HttpRequest) -> Answer {
    let wait = INFLIGHT.with(|m| {
        let mut m = m.borrow_mut();
        match m.get_mut(key) {
            Some(waiters) => {
                let (tx, rx) = oneshot::channel();
                waiters.push(tx);
                Some(rx)
            }
            None => {
                m.insert(key.to_string(), Vec::new());
                None
            }
        }
    });
    if let Some(rx) = wait {
        if let Ok(a) = rx.await {
            return a;
        }
        // The fetching request went away: fetch ourselves.
        return Answer::Fetch(send(request).await);
    }
    let answer = Answer::Fetch(send(request).await);
    let waiters = INFLIGHT.with(|m| m.borrow_mut().remove(key).unwrap_or_default());
    for w in waiters {
        let _ = w.send(answer.clone());
    }
    answer
}

async fn kv_get(env: &Env, key: &str) -> Result<Option<String>, PortError> {
    let kv = env
        .kv("ORGS")
        .map_err(|_| PortError::new("kv", "binding ORGS is missing"))?;
    // cacheTtl: Workers KV's minimum (60 s) matches orggate's own config TTL.
    kv.get(key)
        .cache_ttl(60)
        .text()
        .await
        .map_err(|e| PortError::new("kv", e.to_string()))
}

async fn send(request: &HttpRequest) -> Result<HttpResponse, PortError> {
    let err = |e: worker::Error| PortError::new("http", e.to_string());
    let headers = Headers::new();
    for (k, v) in &request.headers {
        headers.set(k, v).map_err(err)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(request.method.clone()))
        .with_headers(headers);
    if let Some(b) = &request.body {
        init.with_body(Some(Uint8Array::from(b.as_slice()).into()));
    }
    let req = Request::new_with_init(&request.url, &init).map_err(err)?;
    let mut resp = Fetch::Request(req).send().await.map_err(err)?;
    let status = resp.status_code();
    let headers = resp.headers().entries().collect();
    let body = resp.bytes().await.map_err(err)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// A miss and a failure are the same to the core (the shared tier is only an optimization).
async fn cache_get(key: &str) -> Option<String> {
    let mut r = Cache::default().get(key, false).await.ok()??;
    r.text().await.ok()
}

async fn cache_put(key: String, value: String, ttl_s: u64) -> Result<(), worker::Error> {
    let headers = Headers::new();
    headers.set("cache-control", &format!("public, max-age={ttl_s}"))?;
    headers.set("content-type", "application/json")?;
    let resp = Response::ok(value)?.with_headers(headers);
    Cache::default().put(key.as_str(), resp).await
}

/// Runs effects after the response (`ctx.waitUntil`): sharing keys with the other isolates must
/// not delay the request that fetched them.
pub fn run_effects(ctx: &worker::Context, effects: Vec<Effect>) {
    for e in effects {
        match e {
            Effect::SharedPut { key, value, ttl_s } => ctx.wait_until(async move {
                if let Err(e) = cache_put(key, value, ttl_s).await {
                    worker::console_warn!("orggate: shared key cache put failed: {e}");
                }
            }),
        }
    }
}
