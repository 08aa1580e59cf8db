//! `orggate::token::jws::parse` on arbitrary input: never panics, and what it accepts is
//! consistent (three parts, the signing input is a prefix of the raw token, a known alg).
#![no_main]

use libfuzzer_sys::fuzz_target;
use orggate::token::jws::{parse, Alg};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    match parse(raw, 16 * 1024) {
        Ok(t) => {
            assert!(raw.len() <= 16 * 1024);
            assert_eq!(raw.split('.').count(), 3);
            assert!(raw.starts_with(&*t.signing_input));
            assert_eq!(raw.as_bytes().get(t.signing_input.len()), Some(&b'.'));
            assert!(Alg::from_name(t.header.alg.name()) == Some(t.header.alg));
            assert!(!t.signature.is_empty());
        }
        Err(e) => {
            // Every refusal has a stable, non-empty reason code.
            assert!(!e.reason().is_empty());
        }
    }
});
