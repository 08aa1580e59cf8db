//! The core's synchronous needs on Workers: `crypto.getRandomValues` and the Worker's secrets.
//! Secrets are bound when an isolate starts and never change within it, so each is read across
//! the boundary once per isolate.

use crate::io::PortError;
use crate::ports::{Host, Secret};
use js_sys::Reflect;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    static SECRETS: RefCell<HashMap<String, Option<String>>> = RefCell::new(HashMap::new());
}

pub struct EdgeHost<'a> {
    pub env: &'a JsValue,
}

impl Host for EdgeHost<'_> {
    fn random(&self, buf: &mut [u8]) -> Result<(), PortError> {
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
            .map_err(|_| PortError::new("rng", "no crypto"))?
            .unchecked_into::<web_sys::Crypto>();
        crypto
            .get_random_values_with_u8_array(buf)
            .map(|_| ())
            .map_err(|_| PortError::new("rng", "getRandomValues failed"))
    }

    fn secret(&self, name: &str) -> Option<Secret> {
        if let Some(v) = SECRETS.with(|s| s.borrow().get(name).cloned()) {
            return v.map(Secret::new);
        }
        let v = Reflect::get(self.env, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty());
        SECRETS.with(|s| s.borrow_mut().insert(name.to_string(), v.clone()));
        v.map(Secret::new)
    }
}
