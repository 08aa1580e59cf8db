//! Cookies and cookie chunking (RFC 6265, 6265bis).
//!
//! [`parse_cookie_header`] reads a request `Cookie` header (RFC 6265 §5.4 / 6265bis §5.7);
//! [`set_cookie`] and [`clear_cookie`] write `Set-Cookie` values (RFC 6265 §4.1). Names built by
//! [`cookie_name`] use the `__Host-` prefix when `Secure` is possible (6265bis §4.1.3.2).
//!
//! # Chunking
//!
//! Browsers keep about 4096 bytes per cookie (RFC 6265 §6.1 asks for at least that). A value
//! longer than `chunk_size` is stored as `{name}.0`, `{name}.1`, … (see [`split_into_chunks`]);
//! a value that fits is stored under `{name}` alone. The `__Host-` prefix stays at the front
//! (`__Host-orggate.0`), so every chunk keeps the prefix's guarantees.

use std::fmt;

// ---------------------------------------------------------------------------------------------
// Cookies
// ---------------------------------------------------------------------------------------------

/// Splits a request `Cookie` header into `(name, value)` pairs, in order, duplicates kept.
///
/// Tolerant, after RFC 6265bis §5.7 (and §5.4 of RFC 6265): pairs are split on `;`, and the name
/// and value are trimmed of spaces and tabs. A pair without `=` or with an empty name is ignored
/// (6265bis would read it as a nameless cookie, which orggate never sets). Values are returned as
/// sent, quotes included.
pub fn parse_cookie_header(h: &str) -> Vec<(&str, &str)> {
    let ows: &[char] = &[' ', '\t'];
    h.split(';')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim_matches(ows);
            if name.is_empty() {
                return None;
            }
            Some((name, value.trim_matches(ows)))
        })
        .collect()
}

/// The first value sent for `name`. Browsers send the cookie with the longest path first
/// (RFC 6265 §5.4 step 2); with `__Host-` names there is only one candidate.
pub fn find_cookie<'a>(cookies: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    cookies.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// RFC 6265bis §4.1.2.7 `SameSite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    /// Browsers refuse `SameSite=None` without `Secure`.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// Attributes of a `Set-Cookie` line. orggate never sets `Domain` (host-only cookies, and
/// required by `__Host-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieAttrs {
    pub secure: bool,
    pub http_only: bool,
    pub same_site: SameSite,
    pub path: String,
    /// Seconds; `None` makes a browser-session cookie. Negative values are written as 0.
    pub max_age: Option<i64>,
}

impl CookieAttrs {
    /// The attributes orggate uses for its own cookies: `Path=/`, `HttpOnly`, `SameSite=Lax`,
    /// and `Secure` when the site is served over https.
    ///
    /// `Lax` rather than `Strict`: the OIDC callback is a top-level cross-site navigation from the
    /// provider, which carries `Lax` cookies (6265bis §5.6.7.1) but not `Strict` ones.
    pub fn host_only(secure: bool, max_age: Option<i64>) -> CookieAttrs {
        CookieAttrs {
            secure,
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".to_string(),
            max_age,
        }
    }
}

/// `__Host-{base}` when `secure`, else `{base}`.
///
/// RFC 6265bis §4.1.3.2: a `__Host-` cookie is only accepted with `Secure`, `Path=/` and no
/// `Domain`, so it cannot be set or shadowed by a sibling subdomain. Plain-http development on
/// localhost cannot send `Secure`, so it gets the bare name.
pub fn cookie_name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// RFC 6265 §4.1.1 `cookie-name` (an RFC 2616 `token`).
pub fn is_valid_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// RFC 6265 §4.1.1 `cookie-value` without quotes: `*cookie-octet` (no controls, whitespace, `"`,
/// `,`, `;` or `\`). Sealed values always qualify.
pub fn is_valid_cookie_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e))
}

/// A `Set-Cookie` header value: `name=value; Path=…; Max-Age=…; Secure; HttpOnly; SameSite=…`.
///
/// Nothing is escaped or checked here: the caller guarantees `name` and `value` are valid
/// ([`is_valid_cookie_name`], [`is_valid_cookie_value`]) and `attrs.path` has no `;` or controls;
/// orggate only passes its own names, its configured path and sealed values. With a
/// `__Host-` name, `attrs` must have `secure` and `path == "/"` or the browser drops the cookie.
pub fn set_cookie(name: &str, value: &str, attrs: &CookieAttrs) -> String {
    let mut out = format!("{name}={value}; Path={}", attrs.path);
    if let Some(max_age) = attrs.max_age {
        // RFC 6265 §5.2.2: Max-Age <= 0 expires the cookie at once; write 0 for all of those.
        out.push_str(&format!("; Max-Age={}", max_age.max(0)));
    }
    if attrs.secure {
        out.push_str("; Secure");
    }
    if attrs.http_only {
        out.push_str("; HttpOnly");
    }
    out.push_str("; SameSite=");
    out.push_str(attrs.same_site.as_str());
    out
}

/// A `Set-Cookie` value that deletes `name`: empty value, `Max-Age=0` (RFC 6265 §5.2.2).
/// Path, `Secure` and `SameSite` come from `attrs` and must match the cookie being cleared (a
/// `__Host-` cookie is only replaced by another valid `__Host-` cookie).
pub fn clear_cookie(name: &str, attrs: &CookieAttrs) -> String {
    let attrs = CookieAttrs {
        max_age: Some(0),
        ..attrs.clone()
    };
    set_cookie(name, "", &attrs)
}

// ---------------------------------------------------------------------------------------------
// Chunking
// ---------------------------------------------------------------------------------------------

/// Default bytes of value per cookie: leaves room under the 4096-byte browser limit for a name
/// and attributes.
pub const DEFAULT_CHUNK_SIZE: usize = 3500;
/// Default most cookies one value may use (8 × 3500 = 28000 bytes).
pub const DEFAULT_MAX_CHUNKS: usize = 8;

/// A value too long for `max_chunks` cookies of `chunk_size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieTooLarge {
    pub len: usize,
    pub max: usize,
}

impl fmt::Display for CookieTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cookie value is {} bytes, more than the {} bytes the chunk budget allows",
            self.len, self.max
        )
    }
}

impl std::error::Error for CookieTooLarge {}

/// The name of chunk `index` of cookie `name`: `{name}.{index}` (`__Host-orggate.0`, …). `.` is
/// a `token` character (RFC 6265 §4.1.1), and the `__Host-` prefix stays at the front.
pub fn chunk_name(name: &str, index: usize) -> String {
    format!("{name}.{index}")
}

/// Splits `value` into cookies.
///
/// * `value.len() <= chunk_size`: one cookie, `(name, value)` — the bare name, not `name.0`.
/// * otherwise: `(name.0, part0)`, `(name.1, part1)`, … each at most `chunk_size` bytes, at most
///   `max_chunks` of them.
///
/// Always pair with [`stale_chunk_names`] so the cookies of a previous, longer (or chunked vs.
/// unchunked) value are cleared in the same response.
pub fn split_into_chunks(
    name: &str,
    value: &str,
    chunk_size: usize,
    max_chunks: usize,
) -> Result<Vec<(String, String)>, CookieTooLarge> {
    let max = chunk_size.saturating_mul(max_chunks);
    if value.len() > max || max_chunks == 0 {
        return Err(CookieTooLarge {
            len: value.len(),
            max,
        });
    }
    if value.len() <= chunk_size {
        return Ok(vec![(name.to_string(), value.to_string())]);
    }
    let mut chunks = Vec::with_capacity(value.len().div_ceil(chunk_size));
    let mut rest = value;
    while !rest.is_empty() {
        // Cut at a char boundary at or below chunk_size (cookie values are ASCII, so this is
        // chunk_size in practice).
        let mut cut = chunk_size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 {
            // A single character wider than chunk_size cannot be placed.
            return Err(CookieTooLarge {
                len: value.len(),
                max,
            });
        }
        let (head, tail) = rest.split_at(cut);
        chunks.push((chunk_name(name, chunks.len()), head.to_string()));
        rest = tail;
    }
    if chunks.len() > max_chunks {
        return Err(CookieTooLarge {
            len: value.len(),
            max,
        });
    }
    Ok(chunks)
}

/// The chunk index in `cookie` if it is `{name}.{index}` with a canonical decimal index (no sign,
/// no leading zero, at most 4 digits).
fn chunk_index(cookie: &str, name: &str) -> Option<usize> {
    let digits = cookie.strip_prefix(name)?.strip_prefix('.')?;
    let canonical = !digits.is_empty()
        && digits.len() <= 4
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if canonical {
        digits.parse().ok()
    } else {
        None
    }
}

/// Reassembles the value stored by [`split_into_chunks`].
///
/// * A cookie named exactly `name` wins (an unchunked value); if sent twice, the first.
/// * Otherwise chunks `name.0`, `name.1`, … are concatenated. They must be contiguous from 0:
///   a gap (`name.0`, `name.2` without `name.1`) or a missing `name.0` gives `None`.
/// * Nothing present gives `None`.
///
/// A lost *last* chunk cannot be seen from the names; the truncated value then fails
/// authentication in [`open`].
pub fn join_chunks(cookies: &[(&str, &str)], name: &str) -> Option<String> {
    if let Some(value) = find_cookie(cookies, name) {
        return Some(value.to_string());
    }
    let mut parts: Vec<(usize, &str)> = Vec::new();
    for (cookie, value) in cookies {
        if let Some(index) = chunk_index(cookie, name) {
            // First occurrence of each index wins, as in `find_cookie`.
            if !parts.iter().any(|(i, _)| *i == index) {
                parts.push((index, value));
            }
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.sort_by_key(|(i, _)| *i);
    if parts
        .iter()
        .enumerate()
        .any(|(expected, (i, _))| *i != expected)
    {
        return None;
    }
    Some(parts.iter().map(|(_, v)| *v).collect())
}

/// Cookies of `name` present in the request that a new value of `new_count` cookies (the length
/// of [`split_into_chunks`]'s result) does not overwrite, so the caller can clear them:
///
/// * `new_count == 0` (logout): `name` and every `name.N`.
/// * `new_count == 1` (bare `name`): every `name.N`.
/// * `new_count >= 2` (`name.0..name.{new_count-1}`): `name` and every `name.N` with N >= new_count.
///
/// Each name appears once, in request order.
pub fn stale_chunk_names(cookies: &[(&str, &str)], name: &str, new_count: usize) -> Vec<String> {
    let mut stale: Vec<String> = Vec::new();
    for (cookie, _) in cookies {
        let is_stale = if *cookie == name {
            new_count != 1
        } else {
            match chunk_index(cookie, name) {
                Some(index) => new_count <= 1 || index >= new_count,
                None => false,
            }
        };
        if is_stale && !stale.iter().any(|s| s == cookie) {
            stale.push((*cookie).to_string());
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- cookies --------------------------------------------------------------------------

    #[test]
    fn parse_cookie_header_tolerant() {
        assert_eq!(
            parse_cookie_header("a=1; b=2;c=3 ;  d = 4 ;"),
            vec![("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]
        );
        assert_eq!(
            parse_cookie_header("novalue; =x; e=; f=a=b;\tg=\"q\""),
            vec![("e", ""), ("f", "a=b"), ("g", "\"q\"")]
        );
        assert_eq!(parse_cookie_header(""), vec![]);
        assert_eq!(parse_cookie_header(";;;"), vec![]);
        assert_eq!(
            parse_cookie_header("dup=1; dup=2"),
            vec![("dup", "1"), ("dup", "2")]
        );
        assert_eq!(
            find_cookie(&parse_cookie_header("dup=1; dup=2"), "dup"),
            Some("1")
        );
    }

    #[test]
    fn set_cookie_formats_attributes() {
        let attrs = CookieAttrs::host_only(true, Some(3600));
        assert_eq!(
            set_cookie("__Host-og", "v1.k.abc", &attrs),
            "__Host-og=v1.k.abc; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax"
        );
        let dev = CookieAttrs {
            secure: false,
            http_only: false,
            same_site: SameSite::Strict,
            path: "/app".into(),
            max_age: None,
        };
        assert_eq!(
            set_cookie("og", "x", &dev),
            "og=x; Path=/app; SameSite=Strict"
        );
        let negative = CookieAttrs {
            max_age: Some(-5),
            same_site: SameSite::None,
            ..attrs
        };
        assert_eq!(
            set_cookie("n", "x", &negative),
            "n=x; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None"
        );
    }

    #[test]
    fn clear_cookie_keeps_host_prefix_requirements() {
        let attrs = CookieAttrs::host_only(true, Some(3600));
        assert_eq!(
            clear_cookie("__Host-og", &attrs),
            "__Host-og=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn cookie_name_prefix() {
        assert_eq!(cookie_name("orggate", true), "__Host-orggate");
        assert_eq!(cookie_name("orggate", false), "orggate");
        assert!(is_valid_cookie_name(&chunk_name(
            &cookie_name("orggate", true),
            7
        )));
        assert!(!is_valid_cookie_name("a b"));
        assert!(!is_valid_cookie_name("a=b"));
        assert!(!is_valid_cookie_name(""));
        assert!(!is_valid_cookie_value("a;b"));
        assert!(!is_valid_cookie_value("a b"));
        assert!(!is_valid_cookie_value("a\"b"));
        assert!(is_valid_cookie_value(""));
    }

    // ---- chunking -------------------------------------------------------------------------

    fn value_of(len: usize) -> String {
        // Cycle through base64url characters so misordered chunks would be caught.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..len)
            .map(|i| ALPHABET[(i * 7 + i / 64) % 64] as char)
            .collect()
    }

    #[test]
    fn chunk_round_trip_at_boundaries() {
        let name = "__Host-og";
        for (len, expected_count) in [
            (0, 1),
            (3499, 1),
            (3500, 1),
            (3501, 2),
            (7000, 2),
            (7001, 3),
            (28000, 8),
        ] {
            let value = value_of(len);
            let chunks =
                split_into_chunks(name, &value, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNKS).unwrap();
            assert_eq!(chunks.len(), expected_count, "len {len}");
            if expected_count == 1 {
                assert_eq!(chunks[0].0, name);
            } else {
                for (i, (n, v)) in chunks.iter().enumerate() {
                    assert_eq!(n, &format!("{name}.{i}"));
                    assert!(v.len() <= DEFAULT_CHUNK_SIZE);
                }
            }
            // The request carries them in any order, among other cookies.
            let mut request: Vec<(&str, &str)> = vec![("other", "1")];
            request.extend(chunks.iter().rev().map(|(n, v)| (n.as_str(), v.as_str())));
            assert_eq!(join_chunks(&request, name).as_deref(), Some(value.as_str()));
        }
    }

    #[test]
    fn chunk_over_cap_is_error() {
        let value = value_of(28001);
        assert_eq!(
            split_into_chunks("og", &value, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNKS).unwrap_err(),
            CookieTooLarge {
                len: 28001,
                max: 28000
            }
        );
        assert!(split_into_chunks("og", "x", 0, 8).is_err());
        assert!(split_into_chunks("og", "x", 10, 0).is_err());
        // Non-ASCII is cut on char boundaries, never inside a character.
        let chunks = split_into_chunks("og", "ééé", 3, 4).unwrap();
        assert_eq!(
            chunks.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
            ["é", "é", "é"]
        );
        assert!(split_into_chunks("og", "éé", 1, 8).is_err());
    }

    #[test]
    fn join_missing_middle_or_first_chunk_is_none() {
        let value = value_of(10_000);
        let chunks =
            split_into_chunks("og", &value, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNKS).unwrap();
        assert_eq!(chunks.len(), 3);
        let all: Vec<(&str, &str)> = chunks
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let without_middle = vec![all[0], all[2]];
        assert_eq!(join_chunks(&without_middle, "og"), None);
        let without_first = vec![all[1], all[2]];
        assert_eq!(join_chunks(&without_first, "og"), None);
        assert_eq!(join_chunks(&[], "og"), None);
        assert_eq!(join_chunks(&[("og2", "x"), ("og.x", "y")], "og"), None);
        // A missing last chunk is not visible here; the sealed value then fails to open.
        let without_last = vec![all[0], all[1]];
        assert_eq!(
            join_chunks(&without_last, "og").map(|v| v.len()),
            Some(7000)
        );
    }

    #[test]
    fn join_ignores_non_canonical_indices_and_prefers_bare_name() {
        let cookies = [("og.0", "a"), ("og.01", "X"), ("og.+1", "X"), ("og.1", "b")];
        assert_eq!(join_chunks(&cookies, "og").as_deref(), Some("ab"));
        let with_bare = [("og.0", "a"), ("og", "bare"), ("og.1", "b")];
        assert_eq!(join_chunks(&with_bare, "og").as_deref(), Some("bare"));
        // Duplicate chunk: first occurrence wins.
        let dup = [("og.0", "a"), ("og.0", "Z"), ("og.1", "b")];
        assert_eq!(join_chunks(&dup, "og").as_deref(), Some("ab"));
        // "og.0" of a cookie named "og.0x" family is not ours.
        assert_eq!(chunk_index("og.0", "og"), Some(0));
        assert_eq!(chunk_index("og.10", "og"), Some(10));
        assert_eq!(chunk_index("og.", "og"), None);
        assert_eq!(chunk_index("og.00", "og"), None);
        assert_eq!(chunk_index("og.12345", "og"), None);
        assert_eq!(chunk_index("og2.1", "og"), None);
    }

    #[test]
    fn stale_chunk_names_cases() {
        let request = [
            ("og", "bare"),
            ("og.0", "a"),
            ("og.1", "b"),
            ("og.2", "c"),
            ("og.2", "dup"),
            ("other", "x"),
            ("og.x", "y"),
        ];
        // Logout: everything of ours.
        assert_eq!(
            stale_chunk_names(&request, "og", 0),
            ["og", "og.0", "og.1", "og.2"]
        );
        // New value fits in the bare name: all chunks are stale.
        assert_eq!(
            stale_chunk_names(&request, "og", 1),
            ["og.0", "og.1", "og.2"]
        );
        // New value uses og.0 and og.1: bare name and og.2 are stale.
        assert_eq!(stale_chunk_names(&request, "og", 2), ["og", "og.2"]);
        assert_eq!(stale_chunk_names(&request, "og", 5), ["og"]);
        assert!(stale_chunk_names(&[("other", "x")], "og", 0).is_empty());
    }
}
