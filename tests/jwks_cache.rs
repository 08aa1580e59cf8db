//! JWKS cache bounds, observed from outside: a scripted IdP counts fetches (`http.count`), the
//! fixed clock moves, and tokens go through `orggate::token::verify`.
//!
//! Issuer timing (defaults unless a test configures `jwks`): fresh for `Cache-Control: max-age`
//! clamped to [60 s, 86,400 s] (600 s without a header); one refetch per 30 s per issuer on an
//! unknown kid; stale keys serve for `max_stale` after freshness ends when the IdP fails.
//!
//! Tokens are EdDSA (`demo-eddsa-1`) with the base claims of `common::claims()`, each with a
//! distinct `jti` where a test must bypass the verified-token cache.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use orggate::engine::Engine;
use orggate::testing::FakePorts;
use orggate::time::UnixSeconds;
use orggate::token::TokenError;
use serde_json::json;
use std::rc::Rc;

/// A fresh token (distinct `jti`, so never a verified-cache hit) valid for a day from `now`.
fn token_at(now: u64, jti: &str) -> String {
    ed_token(json!({"jti": jti, "iat": now, "exp": now + 86_400}))
}

/// A structurally valid EdDSA token naming `kid`; the signature is junk (an unknown kid is
/// refused before any signature check).
fn token_with_kid(kid: &str) -> String {
    let input = signing_input(&header("EdDSA", kid).to_string(), &claims().to_string());
    format!("{input}.{}", b64(&[1u8; 64]))
}

/// Deterministic pseudo-random kids (SplitMix64).
fn random_kids(n: usize) -> Vec<String> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            format!("{:016x}", z ^ (z >> 31))
        })
        .collect()
}

// --- unknown-kid flood -----------------------------------------------------------------------

/// UnknownKidFlood: 2,000 tokens with random kids inside one 30 s refetch window cause at most
/// one JWKS fetch; when the window has passed, exactly one more.
#[test]
fn random_kid_flood_is_throttled_to_one_fetch_per_window() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    expect_ok(run(&ports, &engine, &t, &token_at(NOW, "warm")));
    assert_eq!(ports.http.count(JWKS_URI), 1);

    ports.clock.set_s(NOW + 31); // the window since the first fetch has passed
    let kids = random_kids(2000);
    for (i, kid) in kids.iter().enumerate() {
        if i % 100 == 0 {
            ports.clock.set_s(NOW + 31 + (i as u64 / 100)); // the flood lasts 20 s
        }
        let e = expect_err(run(&ports, &engine, &t, &token_with_kid(kid)));
        assert_eq!(e, TokenError::UnknownKid { kid: kid.clone() });
    }
    assert_eq!(ports.http.count(JWKS_URI), 2, "flood: one refetch at most");

    // 30 s after that refetch, one more unknown kid may ask again; its followers may not.
    ports.clock.set_s(NOW + 31 + 30);
    for kid in &kids[..50] {
        let e = expect_err(run(&ports, &engine, &t, &token_with_kid(kid)));
        assert!(matches!(e, TokenError::UnknownKid { .. }), "{e:?}");
    }
    assert_eq!(ports.http.count(JWKS_URI), 3);
    // The known key kept working throughout, without extra fetches.
    expect_ok(run(&ports, &engine, &t, &token_at(NOW + 61, "after")));
    assert_eq!(ports.http.count(JWKS_URI), 3);
    assert_eq!(engine.with_jwks(|c| c.fetch_count(ISS)), 3);
}

/// ColdStartFlood: the very first requests of an isolate are 2,000 random kids: one fetch.
#[test]
fn cold_start_flood_fetches_once() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    for kid in random_kids(2000) {
        let e = expect_err(run(&ports, &engine, &t, &token_with_kid(&kid)));
        assert_eq!(e, TokenError::UnknownKid { kid });
    }
    assert_eq!(ports.http.count(JWKS_URI), 1);
    assert_eq!(sent_urls(&ports), vec![JWKS_URI.to_string()]);
}

/// KeyRotation: a token signed by a key the IdP starts publishing after our fetch is accepted
/// after one refetch (once the window allows it) — the point of refetch-on-unknown-kid.
#[test]
fn new_key_is_picked_up_by_refetch_on_unknown_kid() {
    let ed = eddsa_key();
    let ports = ports_serving(&jwks_of(&[rs256_key().public()]));
    let engine = Engine::new();
    let t = tenant(json!({}));
    let raw = token_at(NOW, "rotated");
    assert_eq!(
        expect_err(run(&ports, &engine, &t, &raw)),
        TokenError::UnknownKid {
            kid: "demo-eddsa-1".into()
        }
    );
    ports.http.answer(
        JWKS_URI,
        200,
        &jwks_of(&[rs256_key().public(), ed.public()]),
        &[("cache-control", "max-age=600")],
    );
    // Within the window: still unknown, no fetch.
    ports.clock.set_s(NOW + 10);
    assert!(matches!(
        expect_err(run(&ports, &engine, &t, &raw)),
        TokenError::UnknownKid { .. }
    ));
    assert_eq!(ports.http.count(JWKS_URI), 1);
    ports.clock.set_s(NOW + 30);
    expect_ok(run(&ports, &engine, &t, &raw));
    assert_eq!(ports.http.count(JWKS_URI), 2);
}

// --- IdP down: stale-if-error, then fail closed ----------------------------------------------

/// IdpDown: keys fetched at NOW (fresh 600 s), `max_stale_s: 3600`. The IdP then disappears
/// (connection refused). Known keys keep verifying until NOW + 600 + 3600; after that the
/// issuer fails closed with `KeysUnavailable` (an internal fault: 503, not 401).
#[test]
fn idp_down_serves_stale_keys_until_max_stale_then_fails_closed() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({"jwks": {"max_stale_s": 3600}}));
    expect_ok(run(&ports, &engine, &t, &token_at(NOW, "t0")));
    ports.http.forget(JWKS_URI);

    for (i, at) in [NOW + 601, NOW + 1200, NOW + 4199].into_iter().enumerate() {
        ports.clock.set_s(at);
        let c = run(&ports, &engine, &t, &token_at(at, &format!("stale-{i}")));
        expect_ok(c);
    }
    // Each stale verification was allowed one refresh attempt per window: 3 attempts, all failed.
    assert_eq!(ports.http.count(JWKS_URI), 4);

    ports.clock.set_s(NOW + 4200);
    let e = expect_err(run(&ports, &engine, &t, &token_at(NOW + 4200, "late")));
    assert!(matches!(e, TokenError::KeysUnavailable { .. }), "{e:?}");
    assert!(e.is_internal());
    assert_eq!(e.reason(), "keys_unavailable");
    // Still closed a while later, and recovers when the IdP is back.
    ports.clock.set_s(NOW + 5000);
    let e = expect_err(run(&ports, &engine, &t, &token_at(NOW + 5000, "later")));
    assert!(matches!(e, TokenError::KeysUnavailable { .. }), "{e:?}");
    ports.http.answer(JWKS_URI, 200, &published_jwks(), &[]);
    ports.clock.set_s(NOW + 5100);
    expect_ok(run(&ports, &engine, &t, &token_at(NOW + 5100, "back")));
}

/// IdpAnswers503: same as above, with `503 Service Unavailable` instead of a refused connection.
#[test]
fn idp_503_keeps_last_good_keys() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({"jwks": {"max_stale_s": 1000}}));
    expect_ok(run(&ports, &engine, &t, &token_at(NOW, "t0")));
    ports.http.answer(
        JWKS_URI,
        503,
        "upstream overloaded",
        &[("retry-after", "5")],
    );
    ports.clock.set_s(NOW + 700);
    expect_ok(run(&ports, &engine, &t, &token_at(NOW + 700, "stale")));
    assert_eq!(ports.http.count(JWKS_URI), 2);
    ports.clock.set_s(NOW + 1600);
    let e = expect_err(run(&ports, &engine, &t, &token_at(NOW + 1600, "late")));
    assert!(matches!(e, TokenError::KeysUnavailable { .. }), "{e:?}");
}

/// IdpDownFromTheStart: no keys ever fetched: fail closed at once, and retry only once per
/// refetch window (a dead IdP is not hammered by every request).
#[test]
fn idp_down_without_keys_fails_closed_and_throttles_retries() {
    let ports = FakePorts::default();
    ports.clock.set_s(NOW);
    let engine = Engine::new();
    let t = tenant(json!({}));
    for i in 0..20 {
        let e = expect_err(run(&ports, &engine, &t, &token_at(NOW, &format!("d{i}"))));
        assert!(matches!(e, TokenError::KeysUnavailable { .. }), "{e:?}");
    }
    assert_eq!(ports.http.count(JWKS_URI), 1);
    ports.clock.set_s(NOW + 30);
    expect_err(run(&ports, &engine, &t, &token_at(NOW, "retry")));
    assert_eq!(ports.http.count(JWKS_URI), 2);
}

/// CachedTokenPastMaxStale: a token verified at NOW (exp NOW + 1 day) keeps being presented
/// while the IdP is down. After `max_stale` every *uncached* token fails closed; the cached one
/// must too — the verified-token cache must not outlive the keys that verified it.
#[test]
fn cached_token_fails_closed_after_max_stale_too() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({"jwks": {"max_stale_s": 600}}));
    let cached = token_at(NOW, "cached");
    expect_ok(run(&ports, &engine, &t, &cached));
    ports.http.forget(JWKS_URI);
    ports.clock.set_s(NOW + 600 + 600 + 1);
    let uncached = expect_err(run(&ports, &engine, &t, &token_at(NOW, "uncached")));
    assert!(
        matches!(uncached, TokenError::KeysUnavailable { .. }),
        "{uncached:?}"
    );
    let e = expect_err(run(&ports, &engine, &t, &cached));
    assert!(matches!(e, TokenError::KeysUnavailable { .. }), "{e:?}");
}

// --- key removal -----------------------------------------------------------------------------

/// CachedTokenRefreshesStaleKeys: only the cached token is in use. Once the key set is stale,
/// its next use takes the full path, refreshes the JWKS itself, and is refused because the IdP
/// no longer publishes its key: a verified-token cache can never outlive a key removal by more
/// than the set's freshness.
#[test]
fn cached_token_alone_triggers_the_refresh_that_drops_its_key() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    let cached = token_at(NOW, "only-traffic");
    expect_ok(run(&ports, &engine, &t, &cached));
    ports.http.answer(
        JWKS_URI,
        200,
        &jwks_of(&[rs256_key().public(), es256_key().public()]),
        &[("cache-control", "max-age=600")],
    );
    ports.clock.set_s(NOW + 601);
    let e = expect_err(run(&ports, &engine, &t, &cached));
    assert_eq!(
        e,
        TokenError::UnknownKid {
            kid: "demo-eddsa-1".into()
        }
    );
    assert_eq!(
        ports.http.count(JWKS_URI),
        2,
        "the cached token's own use refreshed the keys"
    );
}

/// KeyRemovedFromJwks: the IdP drops `demo-eddsa-1`. After the next refresh (triggered by another
/// token once the set is stale), new EdDSA tokens get `UnknownKid`, and so does an EdDSA token
/// that was sitting in the verified-token cache.
#[test]
fn removed_key_stops_verifying_after_refresh_even_from_the_verified_cache() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    let cached = token_at(NOW, "cached-ed");
    expect_ok(run(&ports, &engine, &t, &cached));
    assert_eq!(engine.verified_len(), 1);

    let es = es256_key();
    ports.http.answer(
        JWKS_URI,
        200,
        &jwks_of(&[rs256_key().public(), es.public()]),
        &[("cache-control", "max-age=600")],
    );
    // Before the refresh the set is fresh: the cached token still verifies (documented window).
    ports.clock.set_s(NOW + 300);
    expect_ok(run(&ports, &engine, &t, &cached));
    assert_eq!(ports.http.count(JWKS_URI), 1);

    // The set goes stale; an ES256 token triggers the refresh.
    ports.clock.set_s(NOW + 601);
    let es_token = mint(
        "ES256",
        &es,
        &header("ES256", &es.kid),
        &claims_with(json!({"iat": NOW + 601, "exp": NOW + 3600})),
    );
    expect_ok(run(&ports, &engine, &t, &es_token));
    assert_eq!(ports.http.count(JWKS_URI), 2);

    let e = expect_err(run(&ports, &engine, &t, &cached));
    assert_eq!(
        e,
        TokenError::UnknownKid {
            kid: "demo-eddsa-1".into()
        }
    );
    let e = expect_err(run(&ports, &engine, &t, &token_at(NOW + 601, "new-ed")));
    assert_eq!(
        e,
        TokenError::UnknownKid {
            kid: "demo-eddsa-1".into()
        }
    );
    // The refused cached entry was evicted; only the ES256 token remains cached.
    assert_eq!(engine.verified_len(), 1);
}

/// KeyReplacedUnderSameKid: the IdP republishes `demo-eddsa-1` with *another* Ed25519 key. A
/// cached token signed by the old key must not survive the refresh (the cache is keyed by key
/// thumbprint, not kid).
#[test]
fn key_replaced_under_same_kid_invalidates_cached_tokens() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    let cached = token_at(NOW, "cached");
    expect_ok(run(&ports, &engine, &t, &cached));
    let mut impostor = eddsa_key().public();
    impostor["x"] = json!(b64(&[9u8; 32]));
    ports.http.answer(JWKS_URI, 200, &jwks_of(&[impostor]), &[]);
    ports.clock.set_s(NOW + 601);
    // A cache hit does not refresh keys: another token (signed by the old key) triggers it and
    // is refused against the impostor key.
    let e = expect_err(run(&ports, &engine, &t, &token_at(NOW + 601, "trigger")));
    assert_eq!(e, TokenError::BadSignature);
    assert_eq!(ports.http.count(JWKS_URI), 2);
    // Now the cached token is not a cache hit: its key's thumbprint is gone, so it is
    // re-verified against the new key under the same kid, and fails.
    let e = expect_err(run(&ports, &engine, &t, &cached));
    assert_eq!(e, TokenError::BadSignature);
    assert_eq!(engine.verified_len(), 0);
}

// --- freshness from Cache-Control ------------------------------------------------------------

/// Serves the demo keys with `cache_control` and returns how long they stay fresh: the
/// smallest `s` at which a known-kid token presented at NOW + s (to an engine that fetched at
/// NOW) causes a second fetch. Freshness is monotone in `s`, so a binary search over fresh
/// engines finds it exactly.
fn fresh_for(cache_control: Option<&str>) -> u64 {
    let headers: Vec<(&str, &str)> = cache_control
        .map(|v| vec![("cache-control", v)])
        .unwrap_or_default();
    let t = tenant(json!({}));
    let refetched_by = |s: u64| {
        let p = FakePorts::default();
        p.clock.set_s(NOW);
        p.http.answer(JWKS_URI, 200, &published_jwks(), &headers);
        let e = Engine::new();
        expect_ok(run(&p, &e, &t, &token_at(NOW, "first")));
        p.clock.set_s(NOW + s);
        expect_ok(run(&p, &e, &t, &token_at(NOW + s, "probe")));
        p.http.count(JWKS_URI) == 2
    };
    let (mut lo, mut hi) = (1u64, 200_000u64);
    assert!(refetched_by(hi) && !refetched_by(lo));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if refetched_by(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// MaxAgeHonoured: `max-age=120` → fresh for exactly 120 s; 5 → clamped up to 60;
/// 99,999,999 → clamped down to 86,400; `no-store` → 60; no header → 600;
/// `public, max-age=3600, must-revalidate` → 3600.
#[test]
fn cache_control_max_age_is_honoured_within_bounds() {
    assert_eq!(fresh_for(Some("max-age=120")), 120);
    assert_eq!(fresh_for(Some("public, max-age=5")), 60);
    assert_eq!(fresh_for(Some("max-age=99999999")), 86_400);
    assert_eq!(fresh_for(Some("no-store")), 60);
    assert_eq!(fresh_for(None), 600);
    assert_eq!(
        fresh_for(Some("public, max-age=3600, must-revalidate")),
        3600
    );
}

/// ConfiguredBounds: issuer `jwks: {min_ttl_s: 300, max_ttl_s: 900}` clamps the IdP's max-age.
#[test]
fn configured_ttl_bounds_apply() {
    let t = tenant(json!({"jwks": {"min_ttl_s": 300, "max_ttl_s": 900}}));
    for (cc, fresh_for) in [
        ("max-age=10", 300),
        ("max-age=100000", 900),
        ("max-age=500", 500),
    ] {
        let ports = FakePorts::default();
        ports.clock.set_s(NOW);
        ports
            .http
            .answer(JWKS_URI, 200, &published_jwks(), &[("cache-control", cc)]);
        let engine = Engine::new();
        expect_ok(run(&ports, &engine, &t, &token_at(NOW, "a")));
        ports.clock.set_s(NOW + fresh_for - 1);
        expect_ok(run(&ports, &engine, &t, &token_at(NOW, "b")));
        assert_eq!(
            ports.http.count(JWKS_URI),
            1,
            "{cc}: fetched before {fresh_for} s"
        );
        ports.clock.set_s(NOW + fresh_for);
        expect_ok(run(&ports, &engine, &t, &token_at(NOW, "c")));
        assert_eq!(
            ports.http.count(JWKS_URI),
            2,
            "{cc}: not refreshed at {fresh_for} s"
        );
    }
}

// --- bad JWKS answers ------------------------------------------------------------------------

/// GarbageJwks: once keys are cached, a refresh answering 200 with HTML, `{"keys":"x"}`,
/// `{"keys":[]}`, or only unusable keys (an `enc` RSA key, a P-521 key) keeps the old keys.
#[test]
fn garbage_jwks_keeps_old_keys() {
    let bodies = [
        "<html><body>Bad gateway</body></html>".to_string(),
        r#"{"keys":"x"}"#.to_string(),
        r#"{"keys":[]}"#.to_string(),
        jwks_of(&[
            json!({"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB","kid":"enc"}),
            json!({"kty":"EC","crv":"P-521","x":"AA","y":"AA","kid":"p521"}),
        ]),
        String::new(),
    ];
    for body in bodies {
        let ports = idp();
        let engine = Engine::new();
        let t = tenant(json!({"jwks": {"max_stale_s": 3600}}));
        expect_ok(run(&ports, &engine, &t, &token_at(NOW, "t0")));
        ports.http.answer(JWKS_URI, 200, &body, &[]);
        ports.clock.set_s(NOW + 601);
        expect_ok(run(
            &ports,
            &engine,
            &t,
            &token_at(NOW + 601, "after-garbage"),
        ));
        assert_eq!(ports.http.count(JWKS_URI), 2, "{body}");
        // The old set is still the one cached.
        let kids: Vec<String> = engine.with_jwks(|c| {
            c.key_set(ISS)
                .map(|s| s.keys.iter().filter_map(|k| k.kid.clone()).collect())
                .unwrap_or_default()
        });
        assert_eq!(
            kids,
            vec!["demo-rs256-1", "demo-es256-1", "demo-eddsa-1"],
            "{body}"
        );
    }
}

/// GarbageJwksAtColdStart: with no keys yet, a garbage JWKS is `KeysUnavailable`, not
/// `UnknownKid` (the caller's token may be fine: it is our fault).
#[test]
fn garbage_jwks_without_previous_keys_is_unavailable() {
    let ports = ports_serving("<html>");
    let e = expect_err(run(
        &ports,
        &Engine::new(),
        &tenant(json!({})),
        &token_at(NOW, "x"),
    ));
    assert!(matches!(e, TokenError::KeysUnavailable { .. }), "{e:?}");
}

// --- shared cache between isolates -----------------------------------------------------------

/// An engine whose shared-cache tier is on (the MAC key normally comes from a Worker secret via
/// `app::handle`; here a fixed test key).
fn engine_with_shared_tier() -> Engine {
    let e = Engine::new();
    e.init_shared_mac(|| Some([5u8; 32]));
    e
}

/// SecondIsolate: another engine (isolate) at the same location finds the fresh JWKS in the
/// shared cache and does not ask the IdP again; a junk or re-MAC-less entry is ignored.
#[test]
fn second_isolate_reuses_the_shared_cache() {
    let ports = idp();
    let t = tenant(json!({}));
    expect_ok(run(
        &ports,
        &engine_with_shared_tier(),
        &t,
        &token_at(NOW, "a"),
    ));
    ports.clock.set_s(NOW + 100);
    expect_ok(run(
        &ports,
        &engine_with_shared_tier(),
        &t,
        &token_at(NOW, "b"),
    ));
    assert_eq!(ports.http.count(JWKS_URI), 1);
    // Junk in the shared cache: the next isolate goes to the IdP.
    for v in ports.cache.data.borrow_mut().values_mut() {
        *v = "{not json".into();
    }
    expect_ok(run(
        &ports,
        &engine_with_shared_tier(),
        &t,
        &token_at(NOW, "c"),
    ));
    assert_eq!(ports.http.count(JWKS_URI), 2);
}

/// PlantedSharedEntry: something else with access to the zone's cache stores a JWKS holding the
/// rogue key under our issuer's entry, with a bad MAC. It must not be used: a token signed by
/// the rogue key is refused, and the IdP is asked instead.
#[test]
fn planted_shared_cache_entry_is_not_trusted() {
    let ports = idp();
    let t = tenant(json!({}));
    // Let a first isolate write the entry, so the key name is the real one.
    expect_ok(run(
        &ports,
        &engine_with_shared_tier(),
        &t,
        &token_at(NOW, "a"),
    ));
    let rogue = rogue_key();
    let mut planted_jwk = rogue.public();
    planted_jwk["kid"] = json!("demo-rs256-1");
    let planted = json!({"iss": ISS, "fresh_until": NOW + 86_400, "fetched_at": NOW,
                         "jwks": {"keys": [planted_jwk]}})
    .to_string();
    for v in ports.cache.data.borrow_mut().values_mut() {
        *v = format!("{}.{planted}", b64(&[0u8; 32]));
    }
    let forged = mint("RS256", &rogue, &header("RS256", "demo-rs256-1"), &claims());
    let e = expect_err(run(&ports, &engine_with_shared_tier(), &t, &forged));
    assert_eq!(e, TokenError::BadSignature);
    assert_eq!(ports.http.count(JWKS_URI), 2);
}

/// NoSharedTier: without a MAC key (no secret configured) every isolate asks the IdP itself.
#[test]
fn without_a_mac_key_the_shared_tier_is_off() {
    let ports = idp();
    let t = tenant(json!({}));
    expect_ok(run(&ports, &Engine::new(), &t, &token_at(NOW, "a")));
    expect_ok(run(&ports, &Engine::new(), &t, &token_at(NOW, "b")));
    assert_eq!(ports.http.count(JWKS_URI), 2);
}

// --- verified-token cache --------------------------------------------------------------------

/// VerifiedTwice: the same token verified twice returns the very same `Rc` (no second
/// signature check), and the cache grows by one entry per distinct token, not per call.
#[test]
fn same_token_is_verified_once() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    let raw = token_at(NOW, "once");
    let first = expect_ok(run(&ports, &engine, &t, &raw));
    let second = expect_ok(run(&ports, &engine, &t, &raw));
    assert!(
        Rc::ptr_eq(&first.claims, &second.claims),
        "second verify was not a cache hit"
    );
    assert_eq!(engine.verified_len(), 1);
    expect_ok(run(&ports, &engine, &t, &token_at(NOW, "other")));
    assert_eq!(engine.verified_len(), 2);
}

/// CacheHitSkipsKeyLookup: after the first verification the IdP renames the key (same material,
/// kid `renamed`). Without the verified-token cache the old token would be `UnknownKid`; with it,
/// the token still verifies because its key (by thumbprint) is still published.
#[test]
fn cached_token_survives_kid_rename_but_not_a_fresh_engine() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    let raw = token_at(NOW, "renamed");
    let first = expect_ok(run(&ports, &engine, &t, &raw));
    let ed = eddsa_key();
    ports
        .http
        .answer(JWKS_URI, 200, &jwks_of(&[ed.public_as("renamed")]), &[]);
    ports.clock.set_s(NOW + 601);
    // Refresh through a token that uses the new kid.
    let renamed = mint(
        "EdDSA",
        &ed,
        &header("EdDSA", "renamed"),
        &claims_with(json!({"iat": NOW + 601, "exp": NOW + 3600})),
    );
    expect_ok(run(&ports, &engine, &t, &renamed));
    assert_eq!(ports.http.count(JWKS_URI), 2);
    let again = expect_ok(run(&ports, &engine, &t, &raw));
    assert!(Rc::ptr_eq(&first.claims, &again.claims));
    // A fresh engine, asking the same IdP, has no such memory.
    let e = expect_err(run(&ports, &Engine::new(), &t, &raw));
    assert_eq!(
        e,
        TokenError::UnknownKid {
            kid: "demo-eddsa-1".into()
        }
    );
}

/// CachedTokenExpires: a cached token past `exp + leeway` is refused as `Expired`, and evicted.
#[test]
fn cached_token_still_expires() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    let raw = ed_token(json!({"jti": "short", "exp": NOW + 100}));
    expect_ok(run(&ports, &engine, &t, &raw));
    ports.clock.set_s(NOW + 159);
    expect_ok(run(&ports, &engine, &t, &raw));
    ports.clock.set_s(NOW + 160);
    let e = expect_err(run(&ports, &engine, &t, &raw));
    assert_eq!(
        e,
        TokenError::Expired {
            exp: UnixSeconds::new(NOW + 100),
            now: UnixSeconds::new(NOW + 160)
        }
    );
    assert_eq!(engine.verified_len(), 0);
}

/// Refusals are never cached: a token refused for its audience is refused again (and not
/// counted in the cache).
#[test]
fn refusals_are_not_cached() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    let raw = ed_token(json!({"aud": "https://other.example"}));
    for _ in 0..3 {
        assert_eq!(
            expect_err(run(&ports, &engine, &t, &raw)),
            TokenError::WrongAudience
        );
    }
    assert_eq!(engine.verified_len(), 0);
}

// --- a fetch that fails right after the window reopens -------------------------------------

/// ZeroRefetchWindowRefused: `refetch_window_s: 0` would send every unknown kid to the IdP; the
/// config refuses it with the field's path.
#[test]
fn zero_refetch_window_is_a_config_error() {
    let doc = json!({"version": 1, "issuers": [{"issuer": ISS, "audiences": [AUD], "algorithms": ["EdDSA"],
        "jwks_uri": JWKS_URI, "jwks": {"refetch_window_s": 0}}]});
    let e = orggate::org::policy::TenantPolicy::parse(&doc.to_string()).unwrap_err();
    assert_eq!(e.path, "$.issuers[0].jwks.refetch_window_s");
}

/// StaleKeysWhenRefetchFails: window 1 s, keys fetched at NOW, IdP goes down; at NOW + 601 the
/// set is stale and the window is open, so the request fetches, fails, and must still verify a
/// known kid from the stale set (not report it unknown).
#[test]
fn failed_fetch_with_open_window_still_serves_stale_keys() {
    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({"jwks": {"refetch_window_s": 1, "max_stale_s": 3600}}));
    expect_ok(run(&ports, &engine, &t, &token_at(NOW, "t0")));
    ports.http.forget(JWKS_URI);
    ports.clock.set_s(NOW + 601);
    expect_ok(run(&ports, &engine, &t, &token_at(NOW + 601, "stale")));
    ports.clock.set_s(NOW + 603);
    expect_ok(run(
        &ports,
        &engine,
        &t,
        &token_at(NOW + 603, "stale-again"),
    ));
}

/// ColdStartIdpDown: IdP down from the start: the fault is ours (`KeysUnavailable`, 503), not
/// the caller's token (`UnknownKid`, 401).
#[test]
fn cold_start_idp_down_is_unavailable() {
    let ports = FakePorts::default();
    ports.clock.set_s(NOW);
    let t = tenant(json!({"jwks": {"refetch_window_s": 1}}));
    let e = expect_err(run(&ports, &Engine::new(), &t, &token_at(NOW, "x")));
    assert!(matches!(e, TokenError::KeysUnavailable { .. }), "{e:?}");
}

/// ColdIsolateBurst: on a fresh isolate, two requests arrive before either has keys. Both stop
/// on the same JWKS fetch, named identically and marked coalescable, so the Worker's driver makes
/// one fetch and hands both the answer; each then verifies (no 503 "no keys yet", no second
/// fetch).
#[test]
fn burst_on_a_cold_isolate_shares_one_fetch() {
    use orggate::exchange::Exchange;
    use orggate::http::RequestView;
    use orggate::io::{Io, Pending};

    let ports = idp();
    let engine = Engine::new();
    let t = tenant(json!({}));
    let new_ex = |id: &str| {
        Exchange::new(
            RequestView::new("GET", "https://acme.example/", &[]),
            UnixSeconds::new(NOW),
            id.into(),
        )
    };
    let (raw_a, raw_b) = (token_at(NOW, "burst-a"), token_at(NOW, "burst-b"));
    let (mut a, mut b) = (new_ex("a"), new_ex("b"));
    let need =
        |ex: &mut Exchange, raw: &str| match orggate::token::verify(&engine, &ports, ex, &t, raw) {
            Err(Pending::Need(io)) => io,
            other => panic!("expected a need, got {other:?}"),
        };
    let (io_a, io_b) = (need(&mut a, &raw_a), need(&mut b, &raw_b));
    assert_eq!(io_a, io_b, "the same fetch, so one answer serves both");
    let Io::Fetch { coalesce, request } = &io_a else {
        panic!("expected the JWKS fetch, got {io_a:?}")
    };
    assert_eq!(request.url, JWKS_URI);
    assert_eq!(
        coalesce.as_deref(),
        Some(format!("jwks:{JWKS_URI}").as_str())
    );
    // The driver performs it once and answers both.
    let answer = orggate::driver::perform(&ports, &io_a);
    a.io.record(io_a.clone(), answer.clone());
    b.io.record(io_b, answer);
    for (ex, raw) in [(&mut a, &raw_a), (&mut b, &raw_b)] {
        let mut result = orggate::token::verify(&engine, &ports, ex, &t, raw);
        // EdDSA goes to the host's crypto: one more round trip each.
        if let Err(Pending::Need(io)) = &result {
            assert!(matches!(io, Io::Verify(_)), "{io:?}");
            let ans = orggate::driver::perform(&ports, io);
            ex.io.record(io.clone(), ans);
            result = orggate::token::verify(&engine, &ports, ex, &t, raw);
        }
        expect_ok(result.map_err(|p| match p {
            Pending::Fail(e) => e,
            Pending::Need(io) => panic!("still needs {io:?}"),
        }));
    }
    assert_eq!(ports.http.count(JWKS_URI), 1, "one fetch for the burst");
    assert_eq!(engine.with_jwks(|c| c.fetch_count(ISS)), 1);
}
