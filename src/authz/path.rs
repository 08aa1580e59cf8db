//! Request-path normalization: normalize once, then match and forward the same string.
//!
//! [`normalize`] takes the raw, still percent-encoded path of the request URL (no query,
//! no fragment) and either returns a [`NormalizedPath`] or refuses the request with a
//! [`PathError`]. The route matcher sees only a `NormalizedPath`, and the gateway must
//! forward exactly [`NormalizedPath::as_str`] (or a [`NormalizedPath::strip_prefix_segments`]
//! of it) to the origin, never the raw path: what was authorized is what is forwarded.
//!
//! The input normally comes from the Workers runtime, which has parsed the URL with the
//! WHATWG URL parser, but nothing here relies on that: every byte is checked again.
//!
//! # Decisions (RFC 3986 unless noted)
//!
//! 1. **Shape.** The path must start with `/` (§3.3, `path-absolute`); an empty path is
//!    `/` (RFC 9110 §4.2.3). Inputs longer than [`MAX_PATH_LEN`] bytes are refused.
//! 2. **Percent-encoding must be well formed** (§2.1): every `%` is followed by two hex
//!    digits, else [`PathError::InvalidPercentEncoding`].
//! 3. **Unreserved characters are decoded** (§2.3, §6.2.2.2): `%41` becomes `A`, `%2e`
//!    becomes `.`, `/adm%69n` becomes `/admin`. Decoding happens *before* dot-segment
//!    removal, so `%2e%2E` is a `..` segment.
//! 4. **Every other percent-encoding stays encoded, with uppercase hex** (§6.2.2.1):
//!    `%c3%a9` becomes `%C3%A9`, `%20` stays `%20`.
//! 5. **Encoded separators are refused** (§7.3, back-end transcoding): `%2F` and `%5C` in
//!    either case. An origin that decodes them would see a different hierarchy than we
//!    matched. A raw `\` is refused as well (some origins treat it as `/`).
//! 6. **Control characters are refused** (§7.3), raw or encoded: U+0000-U+001F, U+007F and,
//!    inside percent-encoded UTF-8, the C1 controls U+0080-U+009F.
//! 7. **Characters outside the path grammar are refused** (§3.3: `pchar = unreserved /
//!    pct-encoded / sub-delims / ":" / "@"`): raw space, raw non-ASCII, `"`, `<`, `>`, `` ` ``,
//!    `{`, `}`, `|`, `^`, `[`, `]`, and a raw `?` or `#` (they would end the path).
//! 8. **Percent-encoded non-ASCII must be valid UTF-8** (RFC 3629 §3, §10): overlong forms
//!    such as `%C0%AE` (an overlong `.`) and truncated sequences are refused.
//! 9. **Unicode look-alikes of delimiters are refused.** Origins that apply Unicode
//!    compatibility normalization (UAX #15, NFKC) would turn `%EF%BC%8F` (FULLWIDTH
//!    SOLIDUS) into `/` or `%EF%BC%8E` (FULLWIDTH FULL STOP) into `.`. We refuse every code
//!    point whose NFKC form contains `/ \ . ; % ? #` (52 code points, Unicode 14.0; see
//!    [`NFKC_DELIMITER_LOOKALIKES`]).
//! 10. **`;` is refused**, raw or as `%3B` (§3.3 path parameters): `/public/..;/admin` is the
//!     classic Tomcat/Spring bypass where the origin strips `;...` after we matched.
//! 11. **Double encoding is refused**: `%25` (an encoded `%`) followed by two hex digits
//!     (raw or encoded), as in `%252e`, is [`PathError::DoubleEncoding`]. Other uses of `%25`
//!     stay encoded. Origins that decode twice are otherwise out of scope: what we forward
//!     is decoded-once data.
//! 12. **Empty segments collapse** (`//admin///x` is `/admin/x`). RFC 3986 treats `//` as
//!     significant, but origins and their filesystems commonly collapse it, so matching
//!     the collapsed form and forwarding it keeps the two views equal.
//! 13. **Dot segments are removed** with §5.2.4 `remove_dot_segments` (§6.2.2.3). A `..`
//!     that would climb above the root is refused ([`PathError::DotSegmentAboveRoot`])
//!     instead of being clamped silently. As in §5.2.4, a path ending in a dot segment
//!     ends with `/` (`/a/b/..` is `/a/`).
//! 14. **Case is preserved** (§6.2.2.1 applies to hex digits only; paths are
//!     case-sensitive). **A trailing slash is preserved** (`/docs/` stays `/docs/`).
//!
//! Out of scope, to be handled by route configuration or the origin: origins that match
//! case-insensitively (`/ADMIN`), strip trailing dots or spaces (Windows), or decode
//! `%XX` twice after the first decoding of `%25`.
//!
//! The output is a fixed point: `normalize(normalize(x).as_str()) == normalize(x)`.

use std::fmt;

/// Largest raw path accepted, in bytes (8 KiB).
pub const MAX_PATH_LEN: usize = 8 * 1024;

/// Code points whose NFKC form (UAX #15) contains `/`, `\`, `.`, `;`, `%`, `?` or `#`.
///
/// Generated from Unicode 14.0 with:
/// `[c for c in range(0x80, 0x110000) if any(x in unicodedata.normalize('NFKC', chr(c)) for x in '/\\.;%?#')]`
/// (surrogates skipped). Sorted, for binary search.
pub const NFKC_DELIMITER_LOOKALIKES: [u32; 52] = [
    0x037E, // GREEK QUESTION MARK -> ';'
    0x2024, // ONE DOT LEADER -> '.'
    0x2025, // TWO DOT LEADER -> '..'
    0x2026, // HORIZONTAL ELLIPSIS -> '...'
    0x2047, 0x2048, 0x2049, // '??', '?!', '!?'
    0x2100, 0x2101, 0x2105, 0x2106, // 'a/c', 'a/s', 'c/o', 'c/u'
    0x2488, 0x2489, 0x248A, 0x248B, 0x248C, 0x248D, 0x248E, 0x248F, 0x2490, 0x2491, 0x2492, 0x2493,
    0x2494, 0x2495, 0x2496, 0x2497, 0x2498, 0x2499, 0x249A,
    0x249B, // DIGIT ONE FULL STOP .. NUMBER TWENTY FULL STOP -> '1.' .. '20.'
    0x33C2, 0x33C7, 0x33D8,  // 'a.m.', 'Co.', 'p.m.'
    0xFE14,  // PRESENTATION FORM FOR VERTICAL SEMICOLON -> ';'
    0xFE16,  // PRESENTATION FORM FOR VERTICAL QUESTION MARK -> '?'
    0xFE19,  // PRESENTATION FORM FOR VERTICAL HORIZONTAL ELLIPSIS -> '...'
    0xFE30,  // PRESENTATION FORM FOR VERTICAL TWO DOT LEADER -> '..'
    0xFE52,  // SMALL FULL STOP -> '.'
    0xFE54,  // SMALL SEMICOLON -> ';'
    0xFE56,  // SMALL QUESTION MARK -> '?'
    0xFE5F,  // SMALL NUMBER SIGN -> '#'
    0xFE68,  // SMALL REVERSE SOLIDUS -> '\'
    0xFE6A,  // SMALL PERCENT SIGN -> '%'
    0xFF03,  // FULLWIDTH NUMBER SIGN -> '#'
    0xFF05,  // FULLWIDTH PERCENT SIGN -> '%'
    0xFF0E,  // FULLWIDTH FULL STOP -> '.'
    0xFF0F,  // FULLWIDTH SOLIDUS -> '/'
    0xFF1B,  // FULLWIDTH SEMICOLON -> ';'
    0xFF1F,  // FULLWIDTH QUESTION MARK -> '?'
    0xFF3C,  // FULLWIDTH REVERSE SOLIDUS -> '\'
    0x1F100, // DIGIT ZERO FULL STOP -> '0.'
];

/// A request path that passed [`normalize`].
///
/// Invariants: starts with `/`; contains no dot segment, no `//`, no `;`, no `\`, no
/// control character, no `%2F`/`%5C`, no percent-encoded unreserved character, and only
/// uppercase percent-encodings. The only way to build one is [`normalize`] (or deriving
/// one from another with [`NormalizedPath::strip_prefix_segments`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalizedPath(String);

impl NormalizedPath {
    /// The normalized path; this is the string to match *and* to forward.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The non-empty segments, left to right. `/` has none; `/docs/` yields only `docs`
    /// (see [`NormalizedPath::has_trailing_slash`]).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        // Invariant: no `//`, so the only empty pieces are the leading one and, with a
        // trailing slash, the last one.
        self.0.split('/').filter(|segment| !segment.is_empty())
    }

    /// Whether the path ends with `/` and is not `/` itself.
    pub fn has_trailing_slash(&self) -> bool {
        self.0.len() > 1 && self.0.ends_with('/')
    }

    /// Drops the first `n` segments: `/o/acme/rest/x` with `n = 2` is `/rest/x`.
    ///
    /// A trailing slash is kept (`/o/acme/rest/` gives `/rest/`). Dropping every segment,
    /// or more segments than there are, gives `/`.
    pub fn strip_prefix_segments(&self, n: usize) -> NormalizedPath {
        let mut rest = self.0.as_str();
        for _ in 0..n {
            // `rest` starts with '/': skip it and find the start of the next segment.
            let after = rest.get(1..).unwrap_or("");
            match after.find('/') {
                Some(index) => rest = after.get(index..).unwrap_or("/"),
                None => {
                    rest = "/";
                    break;
                }
            }
        }
        // Removing whole leading segments from a normalized path keeps every invariant.
        NormalizedPath(rest.to_owned())
    }
}

impl fmt::Display for NormalizedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for NormalizedPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why a raw path was refused. Every `offset` is a byte offset into the raw input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The raw path is longer than [`MAX_PATH_LEN`].
    TooLong { len: usize, max: usize },
    /// The path is not empty and does not start with `/` (RFC 3986 §3.3).
    MissingLeadingSlash,
    /// `%` not followed by two hex digits (RFC 3986 §2.1).
    InvalidPercentEncoding { offset: usize },
    /// `%2F` or `%5C` (any case); `byte` is the decoded byte, `b'/'` or `b'\\'`.
    EncodedSeparator { offset: usize, byte: u8 },
    /// A raw `\`.
    Backslash { offset: usize },
    /// A C0 control, DEL, or (percent-encoded as UTF-8) a C1 control.
    ControlCharacter {
        offset: usize,
        code_point: u32,
        encoded: bool,
    },
    /// A raw character that RFC 3986 §3.3 does not allow in a path (space, non-ASCII,
    /// `"`, `<`, `>`, `` ` ``, `{`, `}`, `|`, `^`, `[`, `]`, `?`, `#`).
    DisallowedCharacter { offset: usize, ch: char },
    /// `;`, raw or `%3B` (path parameters, RFC 3986 §3.3).
    PathParameter { offset: usize, encoded: bool },
    /// Percent-encoded bytes that are not valid UTF-8 (RFC 3629 §3), e.g. `%C0%AE`.
    InvalidUtf8 { offset: usize },
    /// A percent-encoded code point whose NFKC form contains a delimiter.
    UnicodeLookalike { offset: usize, code_point: u32 },
    /// `%25` followed by two hex digits, e.g. `%252e`.
    DoubleEncoding { offset: usize },
    /// A `..` segment with nothing left to remove (RFC 3986 §5.2.4 would clamp it).
    DotSegmentAboveRoot { offset: usize },
}

impl PathError {
    /// A stable snake_case code for logs and JSON bodies.
    pub fn reason(&self) -> &'static str {
        match self {
            PathError::TooLong { .. } => "path_too_long",
            PathError::MissingLeadingSlash => "missing_leading_slash",
            PathError::InvalidPercentEncoding { .. } => "invalid_percent_encoding",
            PathError::EncodedSeparator { byte: b'/', .. } => "encoded_slash",
            PathError::EncodedSeparator { .. } => "encoded_backslash",
            PathError::Backslash { .. } => "backslash",
            PathError::ControlCharacter { .. } => "control_character",
            PathError::DisallowedCharacter { .. } => "disallowed_character",
            PathError::PathParameter { .. } => "path_parameter",
            PathError::InvalidUtf8 { .. } => "invalid_utf8",
            PathError::UnicodeLookalike { .. } => "unicode_lookalike",
            PathError::DoubleEncoding { .. } => "double_encoding",
            PathError::DotSegmentAboveRoot { .. } => "dot_segment_above_root",
        }
    }

    /// The byte offset into the raw input, when the error has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            PathError::TooLong { .. } | PathError::MissingLeadingSlash => None,
            PathError::InvalidPercentEncoding { offset }
            | PathError::EncodedSeparator { offset, .. }
            | PathError::Backslash { offset }
            | PathError::ControlCharacter { offset, .. }
            | PathError::DisallowedCharacter { offset, .. }
            | PathError::PathParameter { offset, .. }
            | PathError::InvalidUtf8 { offset }
            | PathError::UnicodeLookalike { offset, .. }
            | PathError::DoubleEncoding { offset }
            | PathError::DotSegmentAboveRoot { offset } => Some(*offset),
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::TooLong { len, max } => {
                write!(f, "path is {len} bytes, longer than {max}")
            }
            PathError::MissingLeadingSlash => f.write_str("path does not start with '/'"),
            PathError::InvalidPercentEncoding { offset } => {
                write!(f, "invalid percent-encoding at byte {offset}")
            }
            PathError::EncodedSeparator { offset, byte } => write!(
                f,
                "encoded separator {:?} at byte {offset}",
                char::from(*byte)
            ),
            PathError::Backslash { offset } => write!(f, "backslash at byte {offset}"),
            PathError::ControlCharacter {
                offset,
                code_point,
                encoded,
            } => write!(
                f,
                "{}control character U+{code_point:04X} at byte {offset}",
                if *encoded { "encoded " } else { "" }
            ),
            PathError::DisallowedCharacter { offset, ch } => {
                write!(f, "character {ch:?} not allowed in a path at byte {offset}")
            }
            PathError::PathParameter { offset, .. } => {
                write!(f, "path parameter delimiter ';' at byte {offset}")
            }
            PathError::InvalidUtf8 { offset } => {
                write!(
                    f,
                    "percent-encoded bytes at byte {offset} are not valid UTF-8"
                )
            }
            PathError::UnicodeLookalike { offset, code_point } => write!(
                f,
                "U+{code_point:04X} at byte {offset} normalizes to a delimiter"
            ),
            PathError::DoubleEncoding { offset } => {
                write!(f, "double percent-encoding at byte {offset}")
            }
            PathError::DotSegmentAboveRoot { offset } => {
                write!(f, "'..' at byte {offset} climbs above the root")
            }
        }
    }
}

impl std::error::Error for PathError {}

/// Normalizes a raw request path; see the module docs for every decision.
pub fn normalize(raw_path: &str) -> Result<NormalizedPath, PathError> {
    let len = raw_path.len();
    if len > MAX_PATH_LEN {
        return Err(PathError::TooLong {
            len,
            max: MAX_PATH_LEN,
        });
    }
    // RFC 9110 §4.2.3: an empty path is equivalent to "/".
    if raw_path.is_empty() {
        return Ok(NormalizedPath("/".to_owned()));
    }
    // RFC 3986 §3.3: an absolute path begins with "/".
    let rest = raw_path
        .strip_prefix('/')
        .ok_or(PathError::MissingLeadingSlash)?;

    // RFC 3986 §5.2.4 remove_dot_segments, applied to whole decoded segments: the output
    // buffer is kept as a stack of segments.
    let mut stack: Vec<String> = Vec::new();
    let mut trailing_slash = false;
    let mut start = 1;
    for piece in rest.split('/') {
        let end = start + piece.len();
        let is_last = end == len;
        let segment = decode_segment(raw_path, start, end)?;
        match segment.as_str() {
            // Empty segment from "//" (collapsed) or from a trailing "/".
            "" => trailing_slash = is_last,
            // §5.2.4 step 2B/2D: "." is removed; a final "." leaves a trailing "/".
            "." => trailing_slash = is_last,
            // §5.2.4 step 2C/2D: ".." removes the previous segment. Refuse instead of
            // clamping at the root.
            ".." => {
                if stack.pop().is_none() {
                    return Err(PathError::DotSegmentAboveRoot { offset: start });
                }
                trailing_slash = is_last;
            }
            // §5.2.4 step 2E: move the segment to the output.
            _ => {
                stack.push(segment);
                trailing_slash = false;
            }
        }
        start = end + 1;
    }

    let mut out = String::with_capacity(len + 1);
    for segment in &stack {
        out.push('/');
        out.push_str(segment);
    }
    if stack.is_empty() || trailing_slash {
        out.push('/');
    }
    Ok(NormalizedPath(out))
}

/// RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 §2.2 sub-delims, minus ";" (refused separately), plus ":" and "@" (§3.3 pchar).
fn is_allowed_raw_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@'
    )
}

/// Decodes `%XX` at `at`, which must lie entirely before `end`.
fn percent_decoded(bytes: &[u8], at: usize, end: usize) -> Option<u8> {
    if at + 2 >= end || bytes.get(at) != Some(&b'%') {
        return None;
    }
    let high = crate::http::hex_digit(*bytes.get(at + 1)?)?;
    let low = crate::http::hex_digit(*bytes.get(at + 2)?)?;
    Some(high << 4 | low)
}

/// The character at `at` after one round of percent-decoding, and where the next one
/// starts. `None` at the end or on malformed encoding (reported by the main loop).
fn peek_decoded(bytes: &[u8], at: usize, end: usize) -> Option<(u8, usize)> {
    match bytes.get(at) {
        _ if at >= end => None,
        Some(b'%') => percent_decoded(bytes, at, end).map(|byte| (byte, at + 3)),
        Some(&byte) => Some((byte, at + 1)),
        None => None,
    }
}

/// RFC 3986 §6.2.2.1: percent-encodings use uppercase hex digits.
fn push_encoded(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0F)]));
}

/// Decodes the raw segment `raw[start..end]` (no `/` inside) into its normalized form.
fn decode_segment(raw: &str, start: usize, end: usize) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(end.saturating_sub(start));
    // Consecutive percent-encoded bytes >= 0x80, validated together as UTF-8.
    let mut pending = Utf8Run::default();
    let mut at = start;
    while at < end {
        let byte = bytes.get(at).copied().unwrap_or(0);
        if byte == b'%' {
            // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG.
            let decoded = percent_decoded(bytes, at, end)
                .ok_or(PathError::InvalidPercentEncoding { offset: at })?;
            if decoded >= 0x80 {
                pending.push(at, decoded);
                at += 3;
                continue;
            }
            pending.flush(&mut out)?;
            push_decoded_ascii(&mut out, bytes, at, end, decoded)?;
            at += 3;
        } else {
            pending.flush(&mut out)?;
            push_raw(&mut out, raw, at, byte)?;
            at += 1;
        }
    }
    pending.flush(&mut out)?;
    Ok(out)
}

/// Handles one percent-encoded ASCII byte `decoded` found at `at`.
fn push_decoded_ascii(
    out: &mut String,
    bytes: &[u8],
    at: usize,
    end: usize,
    decoded: u8,
) -> Result<(), PathError> {
    match decoded {
        // RFC 3986 §2.3, §6.2.2.2: decode percent-encoded unreserved characters.
        _ if is_unreserved(decoded) => out.push(char::from(decoded)),
        // RFC 3986 §7.3: an origin that decodes %2F/%5C sees another hierarchy.
        b'/' | b'\\' => {
            return Err(PathError::EncodedSeparator {
                offset: at,
                byte: decoded,
            });
        }
        // RFC 3986 §7.3: NUL and other controls are refused, encoded or not.
        0x00..=0x1F | 0x7F => {
            return Err(PathError::ControlCharacter {
                offset: at,
                code_point: u32::from(decoded),
                encoded: true,
            });
        }
        // RFC 3986 §3.3: ';' introduces path parameters on many origins.
        b';' => {
            return Err(PathError::PathParameter {
                offset: at,
                encoded: true,
            });
        }
        b'%' => {
            // "%25" then two hex digits (after one decoding): a double-decoding origin
            // would decode them into another character.
            let first = peek_decoded(bytes, at + 3, end);
            let second = first.and_then(|(_, next)| peek_decoded(bytes, next, end));
            let double = matches!(
                (first, second),
                (Some((a, _)), Some((b, _))) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit()
            );
            if double {
                return Err(PathError::DoubleEncoding { offset: at });
            }
            push_encoded(out, decoded);
        }
        // RFC 3986 §6.2.2.2: reserved and other characters stay encoded (uppercase).
        _ => push_encoded(out, decoded),
    }
    Ok(())
}

/// Handles one raw (not percent-encoded) byte at `at`.
fn push_raw(out: &mut String, raw: &str, at: usize, byte: u8) -> Result<(), PathError> {
    match byte {
        // RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
        _ if is_unreserved(byte) || is_allowed_raw_delimiter(byte) => out.push(char::from(byte)),
        b';' => {
            return Err(PathError::PathParameter {
                offset: at,
                encoded: false,
            });
        }
        b'\\' => return Err(PathError::Backslash { offset: at }),
        0x00..=0x1F | 0x7F => {
            return Err(PathError::ControlCharacter {
                offset: at,
                code_point: u32::from(byte),
                encoded: false,
            });
        }
        _ => {
            // Raw non-ASCII (report the whole character) or an ASCII character outside
            // the path grammar: space " # < > ? [ ] ^ ` { | }.
            let ch = raw
                .get(at..)
                .and_then(|tail| tail.chars().next())
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(PathError::DisallowedCharacter { offset: at, ch });
        }
    }
    Ok(())
}

/// A run of consecutive percent-encoded non-ASCII bytes.
#[derive(Default)]
struct Utf8Run {
    start: usize,
    bytes: Vec<u8>,
}

impl Utf8Run {
    fn push(&mut self, at: usize, byte: u8) {
        if self.bytes.is_empty() {
            self.start = at;
        }
        self.bytes.push(byte);
    }

    /// Validates the run and appends it, re-encoded with uppercase hex.
    fn flush(&mut self, out: &mut String) -> Result<(), PathError> {
        if self.bytes.is_empty() {
            return Ok(());
        }
        // RFC 3629 §3: overlong forms, surrogates and truncated sequences are invalid.
        // A run of bytes >= 0x80 holds only whole multi-byte characters when valid.
        let text = std::str::from_utf8(&self.bytes).map_err(|error| PathError::InvalidUtf8 {
            offset: self.start + 3 * error.valid_up_to(),
        })?;
        for (index, ch) in text.char_indices() {
            // Each byte of the run took three raw bytes ("%XX").
            let offset = self.start + 3 * index;
            let code_point = u32::from(ch);
            if ch.is_control() {
                return Err(PathError::ControlCharacter {
                    offset,
                    code_point,
                    encoded: true,
                });
            }
            if NFKC_DELIMITER_LOOKALIKES.binary_search(&code_point).is_ok() {
                return Err(PathError::UnicodeLookalike { offset, code_point });
            }
        }
        for &byte in &self.bytes {
            push_encoded(out, byte);
        }
        self.bytes.clear();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// What a fixture must normalize to.
    enum Want {
        Ok(&'static str),
        Err(&'static str),
    }
    use Want::{Err as E, Ok as O};

    /// Fixtures, named by the attack or defect they carry.
    #[rustfmt::skip]
    const FIXTURES: &[(&str, &str, Want)] = &[
        // Plain paths.
        ("plain_admin", "/admin", O("/admin")),
        ("case_is_preserved", "/Admin", O("/Admin")),
        ("root", "/", O("/")),
        ("empty_path_is_root", "", O("/")),
        ("no_leading_slash", "admin", E("missing_leading_slash")),
        ("trailing_slash_preserved", "/docs/", O("/docs/")),
        ("double_trailing_slash_collapses", "/docs//", O("/docs/")),
        ("pchar_delimiters_allowed", "/a:b@c!$&'()*+,=", O("/a:b@c!$&'()*+,=")),
        // Dot-segment traversal.
        ("traversal_raw_dotdot", "/public/../admin", O("/admin")),
        ("traversal_encoded_dotdot_lower", "/public/%2e%2e/admin", O("/admin")),
        ("traversal_encoded_dotdot_mixed_case", "/public/%2E%2e/admin", O("/admin")),
        ("traversal_half_encoded_dotdot", "/public/.%2e/admin", O("/admin")),
        ("traversal_dot_then_dotdot", "/public/./../admin", O("/admin")),
        ("single_dot_prefix", "/./admin", O("/admin")),
        ("dotdot_at_root", "/..", E("dot_segment_above_root")),
        ("dotdot_above_root_before_admin", "/../admin", E("dot_segment_above_root")),
        ("dotdot_climbs_past_root_late", "/a/b/../../..", E("dot_segment_above_root")),
        ("encoded_dotdot_above_root", "/%2e%2e/admin", E("dot_segment_above_root")),
        ("dotdot_to_root_keeps_slash", "/a/..", O("/")),
        ("final_dotdot_leaves_trailing_slash", "/a/b/..", O("/a/")),
        ("final_dot_leaves_trailing_slash", "/a/.", O("/a/")),
        ("triple_dot_is_a_name", "/a/...", O("/a/...")),
        ("dot_inside_name_decoded", "/file%2Etxt", O("/file.txt")),
        // Empty segments.
        ("leading_double_slash", "//admin", O("/admin")),
        ("many_slashes_collapse", "//admin///x", O("/admin/x")),
        ("only_slashes", "///", O("/")),
        // Encoded separators.
        ("encoded_slash_in_dotdot", "/public/..%2fadmin", E("encoded_slash")),
        ("encoded_backslash_in_dotdot", "/public/..%5cadmin", E("encoded_backslash")),
        ("encoded_slash_upper_then_dotdot", "/admin%2F..", E("encoded_slash")),
        ("encoded_slash_after_public", "/public%2f../admin", E("encoded_slash")),
        ("encoded_backslash_upper", "/a%5Cb", E("encoded_backslash")),
        ("raw_backslash_traversal", "/public\\..\\admin", E("backslash")),
        // Path parameters.
        ("tomcat_dotdot_semicolon", "/public/..;/admin", E("path_parameter")),
        ("matrix_parameter", "/admin;x=1", E("path_parameter")),
        ("encoded_semicolon", "/admin%3bx", E("path_parameter")),
        ("encoded_semicolon_upper", "/admin%3Bx", E("path_parameter")),
        // Control characters.
        ("encoded_nul", "/admin%00", E("control_character")),
        ("encoded_newline", "/admin%0a", E("control_character")),
        ("encoded_del", "/admin%7F", E("control_character")),
        ("raw_tab", "/ad\tmin", E("control_character")),
        ("raw_nul", "/admin\0", E("control_character")),
        ("encoded_c1_next_line", "/admin%C2%85", E("control_character")),
        // Encoded unreserved characters.
        ("encoded_letter_inside", "/adm%69n", O("/admin")),
        ("encoded_first_letter", "/%61dmin", O("/admin")),
        ("encoded_tilde_and_dash", "/%7euser%2D1", O("/~user-1")),
        ("encoded_reserved_stays_upper", "/a%3fb%23c%40", O("/a%3Fb%23c%40")),
        ("encoded_space_stays", "/a%20b", O("/a%20b")),
        // Invalid percent-encoding.
        ("lone_percent", "/a%", E("invalid_percent_encoding")),
        ("truncated_percent", "/a%2", E("invalid_percent_encoding")),
        ("non_hex_percent", "/a%zz", E("invalid_percent_encoding")),
        ("percent_before_slash", "/a%2/b", E("invalid_percent_encoding")),
        // UTF-8.
        ("valid_utf8_stays_encoded", "/caf%C3%A9", O("/caf%C3%A9")),
        ("valid_utf8_lowercase_hex_uppercased", "/caf%c3%a9", O("/caf%C3%A9")),
        ("overlong_dot_dot", "/%c0%ae%c0%ae/admin", E("invalid_utf8")),
        ("truncated_utf8", "/caf%C3", E("invalid_utf8")),
        ("truncated_utf8_before_ascii", "/caf%C3a", E("invalid_utf8")),
        ("encoded_surrogate", "/%ED%A0%80", E("invalid_utf8")),
        ("fullwidth_solidus", "/public%EF%BC%8F..%EF%BC%8Fadmin", E("unicode_lookalike")),
        ("fullwidth_dotdot", "/public/%EF%BC%8E%EF%BC%8E/admin", E("unicode_lookalike")),
        ("two_dot_leader", "/public/%E2%80%A5/admin", E("unicode_lookalike")),
        // Double encoding.
        ("double_encoded_dotdot", "/%252e%252e/admin", E("double_encoding")),
        ("double_encoded_slash", "/a%252fb", E("double_encoding")),
        ("double_encoded_with_encoded_hex", "/a%25%32%66b", E("double_encoding")),
        ("encoded_percent_not_hex_stays", "/100%25", O("/100%25")),
        ("encoded_percent_then_text", "/100%25off", O("/100%25off")),
        // Characters outside the path grammar.
        ("raw_question_mark", "/a?b", E("disallowed_character")),
        ("raw_hash", "/a#b", E("disallowed_character")),
        ("raw_space", "/a b", E("disallowed_character")),
        ("raw_non_ascii", "/café", E("disallowed_character")),
        ("raw_quote", "/a\"b", E("disallowed_character")),
        ("raw_angle", "/<script>", E("disallowed_character")),
        ("raw_pipe", "/a|b", E("disallowed_character")),
        ("raw_caret", "/a^b", E("disallowed_character")),
        ("raw_backtick", "/a`b", E("disallowed_character")),
        ("raw_braces", "/a{b}", E("disallowed_character")),
        ("raw_brackets", "/a[0]", E("disallowed_character")),
    ];

    #[test]
    fn fixture_table() {
        let mut failures = Vec::new();
        for (name, raw, want) in FIXTURES {
            let got = normalize(raw);
            let ok = match (want, &got) {
                (Want::Ok(expected), Ok(path)) => path.as_str() == *expected,
                (Want::Err(reason), Err(error)) => error.reason() == *reason,
                _ => false,
            };
            if !ok {
                failures.push(format!("{name}: {raw:?} -> {got:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "failing fixtures:\n{}",
            failures.join("\n")
        );
        assert!(FIXTURES.len() >= 60);
    }

    #[test]
    fn fixture_names_are_unique() {
        let mut names: Vec<&str> = FIXTURES.iter().map(|(name, _, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FIXTURES.len());
    }

    #[test]
    fn errors_carry_offsets() {
        assert_eq!(
            normalize("/public/..%2fadmin"),
            Err(PathError::EncodedSeparator {
                offset: 10,
                byte: b'/'
            })
        );
        assert_eq!(
            normalize("/a/b/../../.."),
            Err(PathError::DotSegmentAboveRoot { offset: 11 })
        );
        assert_eq!(
            normalize("/public/..;/admin"),
            Err(PathError::PathParameter {
                offset: 10,
                encoded: false
            })
        );
        assert_eq!(
            normalize("/%c0%ae"),
            Err(PathError::InvalidUtf8 { offset: 1 })
        );
        assert_eq!(
            normalize("/ok%C3%A9%EF%BC%8F"),
            Err(PathError::UnicodeLookalike {
                offset: 9,
                code_point: 0xFF0F
            })
        );
        assert_eq!(
            normalize("/%252e"),
            Err(PathError::DoubleEncoding { offset: 1 })
        );
        assert_eq!(
            normalize("/a%0a"),
            Err(PathError::ControlCharacter {
                offset: 2,
                code_point: 0x0A,
                encoded: true
            })
        );
        assert_eq!(
            normalize("/a b"),
            Err(PathError::DisallowedCharacter { offset: 2, ch: ' ' })
        );
        assert_eq!(
            normalize("/café"),
            Err(PathError::DisallowedCharacter {
                offset: 4, ch: 'é'
            })
        );
    }

    #[test]
    fn length_limit_is_inclusive() {
        let at_limit = format!("/{}", "a".repeat(MAX_PATH_LEN - 1));
        assert_eq!(normalize(&at_limit).unwrap().as_str(), at_limit);
        let over = format!("/{}", "a".repeat(MAX_PATH_LEN));
        assert_eq!(
            normalize(&over),
            Err(PathError::TooLong {
                len: MAX_PATH_LEN + 1,
                max: MAX_PATH_LEN
            })
        );
    }

    #[test]
    fn lookalike_table_is_sorted_and_non_ascii() {
        assert!(NFKC_DELIMITER_LOOKALIKES.windows(2).all(|w| w[0] < w[1]));
        assert!(NFKC_DELIMITER_LOOKALIKES.iter().all(|&c| c >= 0x80));
    }

    #[test]
    fn segments_and_trailing_slash() {
        let root = normalize("/").unwrap();
        assert_eq!(root.segments().count(), 0);
        assert!(!root.has_trailing_slash());

        let docs = normalize("/docs/").unwrap();
        assert_eq!(docs.segments().collect::<Vec<_>>(), ["docs"]);
        assert!(docs.has_trailing_slash());

        let deep = normalize("/a/b%20c/d").unwrap();
        assert_eq!(deep.segments().collect::<Vec<_>>(), ["a", "b%20c", "d"]);
        assert!(!deep.has_trailing_slash());
    }

    #[test]
    fn strip_prefix_segments_for_org_prefix() {
        let path = normalize("/o/acme/rest/x").unwrap();
        assert_eq!(path.strip_prefix_segments(0).as_str(), "/o/acme/rest/x");
        assert_eq!(path.strip_prefix_segments(2).as_str(), "/rest/x");
        assert_eq!(path.strip_prefix_segments(4).as_str(), "/");
        assert_eq!(path.strip_prefix_segments(9).as_str(), "/");

        let trailing = normalize("/o/acme/rest/").unwrap();
        assert_eq!(trailing.strip_prefix_segments(2).as_str(), "/rest/");
        assert_eq!(trailing.strip_prefix_segments(3).as_str(), "/");

        let org_root = normalize("/o/acme").unwrap();
        assert_eq!(org_root.strip_prefix_segments(2).as_str(), "/");
        assert_eq!(
            normalize("/").unwrap().strip_prefix_segments(1).as_str(),
            "/"
        );
    }

    #[test]
    fn stripped_path_is_still_normalized() {
        let path = normalize("/o/acme/a/%C3%A9/").unwrap();
        let stripped = path.strip_prefix_segments(2);
        assert_eq!(normalize(stripped.as_str()), Ok(stripped));
    }

    /// Building blocks for generated paths: separators, dots, encodings good and bad.
    #[rustfmt::skip]
    const PIECES: &[&str] = &[
        "/", "/", "/", "//", ".", "..", "%2e", "%2E", ".%2e", "a", "B", "admin", "%41", "%61",
        "%7e", "~", "-", "_", "%2f", "%2F", "%5c", "\\", "%25", "%252e", "%25zz", "25", "%3b",
        ";", "%3a", ":", "@", "*", "%2a", "%20", " ", "?", "#", "%", "%z", "%c3%a9", "%C3",
        "%A9", "%c0%ae", "%ef%bc%8f", "%e2%80%a6", "%00", "%0A", "%7f", "é", "%E6%97%A5", "x.y",
        "...", "%2e%2e%2f", "%32", "%66",
    ];

    fn generate(rng: &mut crate::testing::XorShift) -> String {
        let mut raw = String::new();
        if rng.below(10) != 0 {
            raw.push('/');
        }
        for _ in 0..rng.below(14) {
            raw.push_str(PIECES[rng.below(PIECES.len())]);
        }
        raw
    }

    fn assert_invariants(raw: &str, path: &NormalizedPath) {
        let s = path.as_str();
        assert!(s.starts_with('/'), "{raw:?} -> {s:?}");
        for forbidden in ["//", "/./", "/../", ";", "\\", "%2F", "%5C", "%2E", "%3B"] {
            assert!(
                !s.contains(forbidden),
                "{raw:?} -> {s:?} contains {forbidden:?}"
            );
        }
        assert!(
            !s.ends_with("/.") && !s.ends_with("/.."),
            "{raw:?} -> {s:?}"
        );
        assert!(s.bytes().all(|b| b.is_ascii_graphic()), "{raw:?} -> {s:?}");
        for segment in path.segments() {
            assert!(segment != "." && segment != "..", "{raw:?} -> {s:?}");
        }
        // Every percent-encoding is uppercase and not of an unreserved character.
        let bytes = s.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'%' {
                let hex = &s[i + 1..i + 3];
                assert_eq!(hex, hex.to_ascii_uppercase(), "{raw:?} -> {s:?}");
                let value = u8::from_str_radix(hex, 16).unwrap();
                assert!(!is_unreserved(value), "{raw:?} -> {s:?}");
            }
        }
    }

    #[test]
    fn normalize_is_idempotent_and_output_is_clean() {
        let mut rng = crate::testing::XorShift(0x9E37_79B9_7F4A_7C15);
        let mut accepted = 0;
        let mut refused = 0;
        for _ in 0..50_000 {
            let raw = generate(&mut rng);
            match normalize(&raw) {
                Ok(path) => {
                    accepted += 1;
                    assert_invariants(&raw, &path);
                    assert_eq!(
                        normalize(path.as_str()).as_ref(),
                        Ok(&path),
                        "not idempotent for {raw:?}"
                    );
                }
                Err(error) => {
                    refused += 1;
                    assert!(!error.reason().is_empty());
                }
            }
        }
        // Both outcomes must be well represented, or the property proves little.
        assert!(accepted > 5_000, "only {accepted} accepted");
        assert!(refused > 5_000, "only {refused} refused");
    }

    #[test]
    fn reasons_are_snake_case() {
        let errors = [
            PathError::TooLong { len: 1, max: 0 },
            PathError::MissingLeadingSlash,
            PathError::InvalidPercentEncoding { offset: 0 },
            PathError::EncodedSeparator {
                offset: 0,
                byte: b'/',
            },
            PathError::EncodedSeparator {
                offset: 0,
                byte: b'\\',
            },
            PathError::Backslash { offset: 0 },
            PathError::ControlCharacter {
                offset: 0,
                code_point: 0,
                encoded: false,
            },
            PathError::DisallowedCharacter { offset: 0, ch: ' ' },
            PathError::PathParameter {
                offset: 0,
                encoded: false,
            },
            PathError::InvalidUtf8 { offset: 0 },
            PathError::UnicodeLookalike {
                offset: 0,
                code_point: 0xFF0F,
            },
            PathError::DoubleEncoding { offset: 0 },
            PathError::DotSegmentAboveRoot { offset: 0 },
        ];
        let mut reasons: Vec<&str> = errors.iter().map(PathError::reason).collect();
        for reason in &reasons {
            let snake = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
            assert!(reason.bytes().all(snake), "{reason}");
        }
        reasons.sort_unstable();
        reasons.dedup();
        assert_eq!(reasons.len(), errors.len());
        for error in &errors {
            assert!(!error.to_string().is_empty());
        }
    }
}
