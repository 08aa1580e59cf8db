//! Ports on Workers: KV, fetch, clock, randomness, the Cache API, secrets.

use super::subtle::SubtleVerifier;
use crate::ports::*;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use worker::{Cache, Env, Fetch, Headers, Method, Request, RequestInit, Response};

/// The `ORGS` binding, looked up only when a config is not already in isolate memory (building
/// a `KvStore` costs several calls across the boundary).
pub struct Kv {
    env: Env,
    store: std::cell::OnceCell<Option<worker::KvStore>>,
}

impl Kv {
    pub fn new(env: Env) -> Self {
        Self {
            env,
            store: std::cell::OnceCell::new(),
        }
    }
}

impl OrgStore for Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        let kv = self
            .store
            .get_or_init(|| self.env.kv("ORGS").ok())
            .as_ref()
            .ok_or_else(|| PortError::new("kv", "binding ORGS is missing"))?;
        // cacheTtl: Workers KV's minimum (60 s) matches orggate's own config TTL.
        kv.get(key)
            .cache_ttl(60)
            .text()
            .await
            .map_err(|e| PortError::new("kv", e.to_string()))
    }
}

pub struct Http;

impl HttpClient for Http {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, PortError> {
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
}

pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
}

pub struct CryptoRng;

impl Rng for CryptoRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
            .map_err(|_| PortError::new("rng", "no crypto"))?
            .unchecked_into::<web_sys::Crypto>();
        crypto
            .get_random_values_with_u8_array(buf)
            .map(|_| ())
            .map_err(|_| PortError::new("rng", "getRandomValues failed"))
    }
}

/// The Workers Cache API. Writes run after the response (`ctx.waitUntil`): sharing keys with the
/// other isolates must not delay the request that fetched them.
pub struct EdgeCache(pub worker::Context);

async fn cache_put(key: String, value: String, ttl_s: u64) -> Result<(), worker::Error> {
    let headers = Headers::new();
    headers.set("cache-control", &format!("public, max-age={ttl_s}"))?;
    headers.set("content-type", "application/json")?;
    let resp = Response::ok(value)?.with_headers(headers);
    Cache::default().put(key.as_str(), resp).await
}

impl SharedCache for EdgeCache {
    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        let err = |e: worker::Error| PortError::new("cache", e.to_string());
        match Cache::default().get(key, false).await.map_err(err)? {
            Some(mut r) => Ok(Some(r.text().await.map_err(err)?)),
            None => Ok(None),
        }
    }

    async fn put(&self, key: &str, value: &str, ttl_s: u64) -> Result<(), PortError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.0.wait_until(async move {
            if let Err(e) = cache_put(key, value, ttl_s).await {
                worker::console_warn!("orggate: shared key cache put failed: {e}");
            }
        });
        Ok(())
    }
}

pub struct EnvSecrets(pub Env);

impl Secrets for EnvSecrets {
    fn secret(&self, name: &str) -> Option<String> {
        self.0
            .secret(name)
            .map(|s| s.to_string())
            .or_else(|_| self.0.var(name).map(|v| v.to_string()))
            .ok()
            .filter(|s| !s.is_empty())
    }
}

pub struct EdgePorts {
    pub kv: Kv,
    pub http: Http,
    pub clock: JsClock,
    pub rng: CryptoRng,
    pub verifier: SubtleVerifier,
    pub cache: EdgeCache,
    pub secrets: EnvSecrets,
}

impl Ports for EdgePorts {
    type Store = Kv;
    type Http = Http;
    type Clock = JsClock;
    type Rng = CryptoRng;
    type Verifier = SubtleVerifier;
    type Cache = EdgeCache;
    type Secrets = EnvSecrets;
    fn store(&self) -> &Kv {
        &self.kv
    }
    fn http(&self) -> &Http {
        &self.http
    }
    fn clock(&self) -> &JsClock {
        &self.clock
    }
    fn rng(&self) -> &CryptoRng {
        &self.rng
    }
    fn verifier(&self) -> &SubtleVerifier {
        &self.verifier
    }
    fn cache(&self) -> &EdgeCache {
        &self.cache
    }
    fn secrets(&self) -> &EnvSecrets {
        &self.secrets
    }
}
