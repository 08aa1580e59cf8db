//! `TenantPolicy::parse` and `OrgPolicy::parse` on arbitrary text (KV is written by admins, but
//! a config that crashes the parser takes every org down). Never panics; an error always names
//! a JSON path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orggate::org::policy::{OrgPolicy, TenantPolicy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = TenantPolicy::parse(text) {
        assert!(e.path.starts_with('$'), "{e:?}");
    }
    if let Err(e) = OrgPolicy::parse(text) {
        assert!(e.path.starts_with('$'), "{e:?}");
    }
});
