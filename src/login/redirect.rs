//! Return paths after login: same-origin, path-absolute references only (open-redirect defence).
//!
//! The login flow remembers where the user was going (`return_to`) and sends them back there
//! after the callback. Anything that a browser could resolve to another origin must be refused,
//! so the accepted language is deliberately much smaller than RFC 3986 allows:
//!
//! * RFC 3986 §4.2 `path-absolute` (begins with exactly one `/`), optionally `?query`;
//!   never a scheme, an authority (`//host`), or a fragment.
//! * Printable ASCII only, no whitespace, no `\` (WHATWG URL treats `\` as `/` in special schemes,
//!   which is how `/\evil.com` became oauth2-proxy CVE-2020-5233).
//! * Percent-encoding must be well formed, and every decoding of the value (up to
//!   [`MAX_DECODE_ROUNDS`] rounds, to catch double encoding) must still be safe: no control bytes,
//!   no `\`, and the path — after RFC 3986 §5.2.4 dot-segment removal — still starts with exactly
//!   one `/`.
//!
//! An accepted value is returned unchanged: it is safe to place in a `Location` header as is.

/// Longest return path accepted (2 KiB). Longer values are refused, not truncated.
pub const MAX_RETURN_PATH_LEN: usize = 2048;

/// How many rounds of percent-decoding are checked. A value that still changes after this many
/// rounds is refused.
pub const MAX_DECODE_ROUNDS: usize = 3;

/// Returns `input` unchanged if it is a safe same-origin return path, otherwise `None`.
///
/// See the module documentation for the exact rules.
pub fn safe_return_path(input: &str) -> Option<String> {
    if input.is_empty() || input.len() > MAX_RETURN_PATH_LEN {
        return None;
    }
    let raw = input.as_bytes();

    // Printable ASCII only: refuses raw whitespace (space, tab, CR, LF, VT, FF), C0 controls,
    // DEL and all non-ASCII. RFC 3986 §2 has no place for any of them unencoded.
    if !raw.iter().all(|&b| (0x21..=0x7e).contains(&b)) {
        return None;
    }
    // RFC 3986 §3.5: no fragment. `\` is not a URI character; browsers read it as `/`.
    if raw.iter().any(|&b| b == b'#' || b == b'\\') {
        return None;
    }
    // RFC 3986 §2.1: every `%` starts a `pct-encoded` triplet.
    if !percent_encoding_is_well_formed(raw) {
        return None;
    }

    // RFC 3986 §3: the path ends at the first `?`. The query only needs the byte checks.
    let path_end = raw.iter().position(|&b| b == b'?').unwrap_or(raw.len());
    let mut path = raw[..path_end].to_vec();
    let mut whole = raw.to_vec();
    // RFC 3986 §4.2: a path-absolute reference begins with "/" but not "//".
    if !is_single_slash_path(&path) {
        return None;
    }

    for _ in 0..MAX_DECODE_ROUNDS {
        if !whole.contains(&b'%') {
            return Some(input.to_string());
        }
        path = percent_decode(&path);
        whole = percent_decode(&whole);
        // Encoded controls (`%00`-`%1F`, `%7F`, so `%0d%0a` and `%09` too) and encoded `\`
        // (`%5C`) are refused anywhere, at any decoding depth.
        if whole.iter().any(|&b| b < 0x20 || b == 0x7f || b == b'\\') {
            return None;
        }
        // The decoded path (`/%2F%2Fevil.com` -> `///evil.com`) must still be path-absolute.
        if !is_single_slash_path(&path) {
            return None;
        }
    }
    if whole.contains(&b'%') {
        // Still encoded after MAX_DECODE_ROUNDS rounds: no legitimate path needs that.
        return None;
    }
    Some(input.to_string())
}

/// True if `path` starts with exactly one `/`, both as written and after RFC 3986 §5.2.4
/// dot-segment removal (`/..//evil.com` and `/.//evil.com` become `//evil.com`).
fn is_single_slash_path(path: &[u8]) -> bool {
    let starts_single = |p: &[u8]| p.first() == Some(&b'/') && p.get(1) != Some(&b'/');
    starts_single(path) && starts_single(&remove_dot_segments(path))
}

/// RFC 3986 §2.1: `pct-encoded = "%" HEXDIG HEXDIG`.
fn percent_encoding_is_well_formed(raw: &[u8]) -> bool {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hi = raw.get(i + 1).copied().and_then(crate::http::hex_digit);
            let lo = raw.get(i + 2).copied().and_then(crate::http::hex_digit);
            if hi.is_none() || lo.is_none() {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// One round of percent-decoding. A `%` not followed by two hex digits is kept literally (as
/// browsers do), which only matters for the deeper rounds: the raw input was checked already.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    percent_encoding::percent_decode(input).collect()
}

/// RFC 3986 §5.2.4 `remove_dot_segments`, on bytes.
fn remove_dot_segments(path: &[u8]) -> Vec<u8> {
    let mut input: &[u8] = path;
    let mut output: Vec<u8> = Vec::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix(b"../") {
            // 2A: remove a leading "../".
            input = rest;
        } else if let Some(rest) = input.strip_prefix(b"./") {
            // 2A: remove a leading "./".
            input = rest;
        } else if input.starts_with(b"/./") {
            // 2B: replace a leading "/./" with "/".
            input = &input[2..];
        } else if input == b"/." {
            // 2B: replace a final "/." with "/".
            input = b"/";
        } else if input.starts_with(b"/../") {
            // 2C: replace a leading "/../" with "/" and drop the last output segment.
            input = &input[3..];
            pop_last_segment(&mut output);
        } else if input == b"/.." {
            // 2C: replace a final "/.." with "/" and drop the last output segment.
            input = b"/";
            pop_last_segment(&mut output);
        } else if input == b"." || input == b".." {
            // 2D: drop a lone "." or "..".
            input = &[];
        } else {
            // 2E: move the first segment (with its leading "/", if any) to the output.
            let start = usize::from(input.first() == Some(&b'/'));
            let end = input[start..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(input.len(), |p| p + start);
            output.extend_from_slice(&input[..end]);
            input = &input[end..];
        }
    }
    output
}

/// RFC 3986 §5.2.4 2C: "removing the last segment and its preceding "/" (if any) from the output".
fn pop_last_segment(output: &mut Vec<u8>) {
    let cut = output.iter().rposition(|&b| b == b'/').unwrap_or(0);
    output.truncate(cut);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Same-origin paths that must come back unchanged.
    const ACCEPTED: &[&str] = &[
        "/",
        "/docs/intro",
        "/api?x=1&y=/z",
        "/a%20b",
        "/docs/intro/",
        "/search?q=a%2Fb",
        "/a%2Fb",     // encoded slash in the middle decodes to /a/b: still single-slash
        "/caf%C3%A9", // UTF-8, percent-encoded
        "/a/../b",    // dot segments that stay inside the origin
        "/./docs",    // -> /docs
        "/..",        // -> /
        "/@evil.com", // a path segment, not userinfo
        "/javascript:alert(1)", // a path segment, not a scheme
        "/next?url=//evil.com", // // inside the query cannot change the origin
        "/a//b",      // empty segment after the first one is harmless
        "/%2e%2e/docs", // -> /docs
        "/a;b=c,d",
        "/~user/file.txt",
    ];

    /// Open-redirect attempts, each with where a browser would end up.
    const REFUSED: &[(&str, &str)] = &[
        ("", "empty"),
        ("docs", "relative path, not path-absolute"),
        ("//evil.com", "network-path reference: https://evil.com"),
        (
            "///evil.com",
            "browsers collapse extra slashes to //evil.com",
        ),
        ("/\\evil.com", "oauth2-proxy CVE-2020-5233: \\ is read as /"),
        ("/\\/evil.com", "\\ then / is //evil.com"),
        ("\\evil.com", "leading backslash"),
        ("\\\\evil.com", "two backslashes"),
        ("/docs\\x", "backslash anywhere"),
        ("/%2F%2Fevil.com", "decodes to ///evil.com"),
        ("/%2Fevil.com", "decodes to //evil.com"),
        ("%2F%2Fevil.com", "does not start with a raw /"),
        ("/%5Cevil.com", "decodes to /\\evil.com"),
        ("/%5cevil.com", "lower-case escape"),
        ("/docs?x=%5C", "encoded backslash anywhere"),
        ("https://evil.com", "absolute URL"),
        ("http://evil.com/", "absolute URL"),
        ("HTTPS:evil.com", "scheme without slashes, mixed case"),
        ("hTtPs://evil.com", "mixed-case scheme"),
        ("javascript:alert(1)", "javascript: URL"),
        ("JavaScript:alert(1)", "mixed-case javascript: URL"),
        ("data:text/html,<script>", "data: URL"),
        (" //evil.com", "leading space"),
        (" /docs", "leading space before a safe path"),
        ("\t//evil.com", "leading tab"),
        ("/\t/evil.com", "browsers strip tab: //evil.com"),
        ("/\n/evil.com", "browsers strip LF: //evil.com"),
        ("/\r\nLocation: evil", "header injection"),
        ("/ /evil.com", "raw space"),
        ("//%09/evil.com", "starts with //"),
        ("/%09/evil.com", "encoded tab"),
        ("/%0d%0aLocation:evil", "encoded CRLF"),
        ("/%0D%0ASet-Cookie:x=y", "encoded CRLF, upper case"),
        ("/docs%00", "encoded NUL"),
        ("/docs?x=%7f", "encoded DEL in the query"),
        ("/docs?x=%1F", "encoded unit separator in the query"),
        ("/.//evil.com", "dot removal gives //evil.com"),
        ("/..//evil.com", "dot removal gives //evil.com"),
        ("/%2e%2e//evil.com", "encoded dots, then //evil.com"),
        ("/%2E//evil.com", "encoded dot, then //evil.com"),
        ("/a/../..//evil.com", "climbs to //evil.com"),
        ("/.%2F/evil.com", "/./ then /evil.com gives //evil.com"),
        ("/%252F%252Fevil.com", "double-encoded //"),
        ("/%255Cevil.com", "double-encoded backslash"),
        ("/%250d%250a", "double-encoded CRLF"),
        ("/docs#frag", "fragment"),
        ("/#//evil.com", "fragment"),
        ("/caf\u{e9}", "raw non-ASCII"),
        ("/\u{ff0f}evil.com", "fullwidth solidus, raw non-ASCII"),
        ("/docs\u{7f}", "raw DEL"),
        ("/docs\u{0}", "raw NUL"),
        ("/100%", "truncated escape"),
        ("/%zz", "bad hex in escape"),
        ("/%2", "truncated escape"),
        ("/%25252F%25252Fevil.com", "triple-encoded //"),
        ("/a%2525252Fb", "still encoded after 3 rounds"),
    ];

    #[test]
    fn accepts_safe_paths_unchanged() {
        for &path in ACCEPTED {
            assert_eq!(
                safe_return_path(path).as_deref(),
                Some(path),
                "should accept {path:?}"
            );
        }
    }

    #[test]
    fn refuses_open_redirect_attempts() {
        for &(path, why) in REFUSED {
            assert_eq!(
                safe_return_path(path),
                None,
                "should refuse {path:?}: {why}"
            );
        }
    }

    #[test]
    fn length_limit() {
        let at_limit = format!("/{}", "a".repeat(MAX_RETURN_PATH_LEN - 1));
        assert_eq!(at_limit.len(), MAX_RETURN_PATH_LEN);
        assert!(safe_return_path(&at_limit).is_some());
        let over = format!("/{}", "a".repeat(MAX_RETURN_PATH_LEN));
        assert!(safe_return_path(&over).is_none());
    }

    #[test]
    fn remove_dot_segments_rfc3986_examples() {
        // RFC 3986 §5.2.4 examples.
        assert_eq!(remove_dot_segments(b"/a/b/c/./../../g"), b"/a/g");
        assert_eq!(remove_dot_segments(b"mid/content=5/../6"), b"mid/6");
        // RFC 3986 §5.4.2 abnormal examples, path part only.
        assert_eq!(remove_dot_segments(b"/../g"), b"/g");
        assert_eq!(remove_dot_segments(b"/./g"), b"/g");
        assert_eq!(remove_dot_segments(b"/b/c/g."), b"/b/c/g.");
        assert_eq!(remove_dot_segments(b"/b/c/./../g"), b"/b/g");
        assert_eq!(remove_dot_segments(b"/b/c/g/.."), b"/b/c/");
        assert_eq!(remove_dot_segments(b"/.."), b"/");
        assert_eq!(remove_dot_segments(b"/..//evil.com"), b"//evil.com");
    }

    #[test]
    fn never_panics_on_arbitrary_short_inputs() {
        // Every string of length <= 4 over an alphabet of the interesting bytes.
        let alphabet = [
            "/", "\\", ".", "%", "2", "F", "e", "?", "#", " ", "\t", "a", ":", "é",
        ];
        let mut inputs = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            frontier = frontier
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            inputs.extend(frontier.iter().cloned());
        }
        for s in &inputs {
            if let Some(ok) = safe_return_path(s) {
                // Anything accepted is unchanged and starts with one slash.
                assert_eq!(&ok, s);
                assert!(ok.starts_with('/') && !ok.starts_with("//"), "{ok:?}");
                assert!(!ok.contains('\\') && !ok.contains('#'), "{ok:?}");
            }
        }
    }
}
