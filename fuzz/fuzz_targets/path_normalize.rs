//! `orggate::authz::path::normalize`: never panics; its output is a fixed point
//! (`normalize(normalize(x)) == normalize(x)`) and keeps the documented invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orggate::authz::path::normalize;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = normalize(raw) else {
        return;
    };
    let s = p.as_str();
    assert!(s.starts_with('/'), "{raw:?} -> {s:?}");
    assert!(!s.contains("//"), "{raw:?} -> {s:?}");
    assert!(!s.contains(';') && !s.contains('\\'), "{raw:?} -> {s:?}");
    assert!(
        s.split('/').all(|seg| seg != "." && seg != ".."),
        "{raw:?} -> {s:?}"
    );
    let lower = s.to_ascii_lowercase();
    assert!(!lower.contains("%2f") && !lower.contains("%5c"), "{raw:?} -> {s:?}");
    assert!(s.bytes().all(|b| b > 0x20 && b < 0x7f), "{raw:?} -> {s:?}");
    let again = normalize(s).unwrap_or_else(|e| panic!("{raw:?} -> {s:?} -> {e}"));
    assert_eq!(again, p, "not idempotent for {raw:?}");
    // Stripping leading segments keeps a normalized path normalized.
    let stripped = p.strip_prefix_segments(1);
    assert_eq!(normalize(stripped.as_str()).as_ref(), Ok(&stripped), "{raw:?}");
});
