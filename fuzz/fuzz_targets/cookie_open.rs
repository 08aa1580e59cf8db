//! The session cookie path: `parse_cookie_header` then `session::open` with a fixed keyring, on
//! arbitrary header text. Never panics; nothing opens without the key (a forged value that
//! opens would be a MAC failure); a value sealed from the fuzz input round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orggate::session::{find_cookie, open, parse_cookie_header, seal, Keyring};

const AAD: &[u8] = b"session\0org_acme";

fuzz_target!(|data: &[u8]| {
    // Fixed keyring: current k2, previous k1 (base64url of 32 bytes of 2 and of 1).
    let ring = Keyring::parse(
        "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI,k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
    )
    .expect("fixed keyring");
    let header = String::from_utf8_lossy(data);
    let jar = parse_cookie_header(&header);
    for (name, value) in &jar {
        assert!(!name.is_empty());
        assert!(header.contains(name) && header.contains(value));
        // An attacker-made value never authenticates under our keys.
        if let Ok(plain) = open(&ring, AAD, value) {
            panic!("forged cookie {name}={value} opened to {plain:?}");
        }
    }
    let _ = find_cookie(&jar, "__Host-orggate_s_acme");
    // Round trip: anything we seal opens again, and only with the same AAD.
    let nonce: [u8; 12] = std::array::from_fn(|i| data.get(i).copied().unwrap_or(0));
    if let Ok(sealed) = seal(&ring, AAD, data, nonce) {
        assert_eq!(open(&ring, AAD, &sealed).as_deref(), Ok(data));
        assert!(open(&ring, b"session\0org_globex", &sealed).is_err());
    }
});
