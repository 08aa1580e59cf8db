//! Sealed values, cookies and cookie chunking for the session and the login transaction.
//!
//! # Sealed format
//!
//! ```text
//! v1.{kid}.{base64url_nopad(nonce[12] || AES-256-GCM ciphertext || tag[16])}
//! ```
//!
//! Every character is in `[A-Za-z0-9._-]`, so a sealed value is a valid RFC 6265 §4.1.1
//! `cookie-value` without quoting.
//!
//! * **Keys.** The Worker secret holds one or more `kid:BASE64URL(32 bytes)` entries
//!   ([`Keyring::parse`]). The first seals; all of them open, found by kid, so keys rotate by
//!   prepending a new entry and dropping the old one once its cookies have expired.
//! * **Key derivation.** The secret bytes are never used as an AES key directly. Each kid gets its
//!   AEAD key once, at parse time, by RFC 5869 HKDF-Expand with the secret as PRK:
//!   `K = HMAC-SHA256(secret, "orggate/seal/v1/aes-256-gcm\0" || kid || 0x01)` (one output block,
//!   L = 32). HKDF-Extract is skipped because the input is already a uniformly random 32-byte key
//!   (RFC 5869 §3.3). The purpose label leaves room to derive other keys from the same secret.
//! * **Associated data.** The AEAD AAD is `"v1." || kid || "." || aad`, so the header is
//!   authenticated and the caller's `aad` binds purpose and organization (for example
//!   `b"session\0org_acme"`): acme's cookie does not open on globex, and a login transaction
//!   cookie does not open as a session.
//! * **Nonces.** 96-bit nonces come from the caller's random source (the core has no RNG). With
//!   random nonces one key should seal fewer than 2^32 values (NIST SP 800-38D §8.3); rotate
//!   long before that.
//!
//! # Cookies
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

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/// Version tag at the start of every sealed value.
const SEAL_VERSION: &str = "v1";
/// HKDF `info` prefix for the per-kid AEAD key (see the module docs).
const AEAD_KEY_LABEL: &[u8] = b"orggate/seal/v1/aes-256-gcm\0";
/// Length of a key in the Worker secret, and of the derived AES-256 key.
pub const KEY_LEN: usize = 32;
/// Longest kid accepted.
pub const MAX_KID_LEN: usize = 16;
/// AES-GCM nonce length (NIST SP 800-38D §5.2.1.1, 96-bit IV).
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;
/// Largest plaintext [`seal`] accepts. Far above what fits in the cookie budget (8 × 3500 chars).
pub const MAX_PLAINTEXT_LEN: usize = 64 * 1024;
/// Largest sealed string [`open`] looks at: header + base64 of nonce, the largest plaintext and tag.
const MAX_SEALED_LEN: usize = SEAL_VERSION.len()
    + 1
    + MAX_KID_LEN
    + 1
    + (NONCE_LEN + MAX_PLAINTEXT_LEN + TAG_LEN).div_ceil(3) * 4;

/// One sealing key: a kid and the AEAD key derived from its secret. `Debug` shows only the kid.
pub struct SessionKey {
    kid: String,
    cipher: Aes256Gcm,
}

impl SessionKey {
    /// Builds a key from a kid and its 32 secret bytes, deriving the AEAD key (see module docs).
    /// Errors name entry 0, since there is no secret string to point into.
    pub fn new(kid: &str, secret: &[u8; KEY_LEN]) -> Result<SessionKey, KeyringError> {
        if !is_valid_kid(kid) {
            return Err(KeyringError::InvalidKid {
                entry: 0,
                len: kid.len(),
            });
        }
        Ok(SessionKey::derive(kid, secret))
    }

    /// Derives the AEAD key for an already-validated kid.
    fn derive(kid: &str, secret: &[u8; KEY_LEN]) -> SessionKey {
        SessionKey {
            kid: kid.to_string(),
            cipher: Aes256Gcm::new(&derive_aead_key(secret, kid).into()),
        }
    }

    /// The key id, as written in sealed values.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKey")
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// RFC 5869 §2.3 HKDF-Expand with PRK = `secret`, info = label || kid, L = 32 (a single block,
/// `T(1) = HMAC-Hash(PRK, info || 0x01)`).
fn derive_aead_key(secret: &[u8; KEY_LEN], kid: &str) -> [u8; KEY_LEN] {
    // RFC 2104 §2: a key shorter than the 64-byte block is zero-padded to the block size, so
    // keying HMAC with `secret || 0^32` is exactly HMAC keyed with `secret`, and this fixed-size
    // key type cannot fail (unlike `new_from_slice`).
    let mut block_key = [0u8; 64];
    block_key[..KEY_LEN].copy_from_slice(secret);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block_key.into());
    mac.update(AEAD_KEY_LABEL);
    mac.update(kid.as_bytes());
    mac.update(&[0x01]);
    mac.finalize().into_bytes().into()
}

/// kid syntax: `[A-Za-z0-9_-]{1,16}`, so it never contains the `.` separator or the `:`/`,` of the
/// secret format.
fn is_valid_kid(kid: &str) -> bool {
    (1..=MAX_KID_LEN).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The sealing keys: `current` seals, all of them open.
#[derive(Debug)]
pub struct Keyring {
    current: SessionKey,
    others: Vec<SessionKey>,
}

/// Why the key secret could not be loaded. Never carries key material; a kid is echoed only once
/// it has passed the kid syntax check (a pasted key in the kid position is reported by length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringError {
    /// The secret has no entries.
    Empty,
    /// Entry `entry` (0-based) is empty, for example `a:KEY,,b:KEY` or a trailing comma.
    EmptyEntry { entry: usize },
    /// Entry `entry` has no `:` between kid and key.
    MissingSeparator { entry: usize },
    /// Entry `entry`'s kid is not `[A-Za-z0-9_-]{1,16}`.
    InvalidKid { entry: usize, len: usize },
    /// The key of `kid` is not base64url (`A-Z a-z 0-9 - _`, padding optional).
    InvalidKeyEncoding { kid: String },
    /// The key of `kid` decodes to `len` bytes, not 32.
    WrongKeyLength { kid: String, len: usize },
    /// Two entries use `kid`.
    DuplicateKid { kid: String },
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyringError::Empty => f.write_str("session key secret is empty"),
            KeyringError::EmptyEntry { entry } => {
                write!(f, "session key secret: entry {entry} is empty")
            }
            KeyringError::MissingSeparator { entry } => write!(
                f,
                "session key secret: entry {entry} is not of the form kid:BASE64URL_KEY"
            ),
            KeyringError::InvalidKid { entry, len } => write!(
                f,
                "session key secret: entry {entry} has a kid of {len} bytes that is not [A-Za-z0-9_-]{{1,{MAX_KID_LEN}}}"
            ),
            KeyringError::InvalidKeyEncoding { kid } => {
                write!(f, "session key secret: key {kid:?} is not base64url")
            }
            KeyringError::WrongKeyLength { kid, len } => write!(
                f,
                "session key secret: key {kid:?} is {len} bytes, expected {KEY_LEN}"
            ),
            KeyringError::DuplicateKid { kid } => {
                write!(f, "session key secret: kid {kid:?} appears twice")
            }
        }
    }
}

impl std::error::Error for KeyringError {}

/// base64url, padding optional (a 32-byte key is 43 characters, or 44 with one `=`).
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Keyring {
    /// Builds a keyring from already-made keys, refusing duplicate kids.
    pub fn new(current: SessionKey, others: Vec<SessionKey>) -> Result<Keyring, KeyringError> {
        let mut seen: Vec<&str> = vec![current.kid()];
        for key in &others {
            if seen.contains(&key.kid()) {
                return Err(KeyringError::DuplicateKid {
                    kid: key.kid().to_string(),
                });
            }
            seen.push(key.kid());
        }
        Ok(Keyring { current, others })
    }

    /// Parses the Worker secret `kid1:BASE64URL_32_BYTES[,kid0:BASE64URL_32_BYTES...]`.
    /// The first entry is the current (sealing) key. Whitespace around entries, kids and keys is
    /// ignored (a trailing newline from `wrangler secret put` is common).
    pub fn parse(secret: &str) -> Result<Keyring, KeyringError> {
        if secret.trim().is_empty() {
            return Err(KeyringError::Empty);
        }
        let mut keys: Vec<SessionKey> = Vec::new();
        for (entry, raw) in secret.split(',').enumerate() {
            let raw = raw.trim();
            if raw.is_empty() {
                return Err(KeyringError::EmptyEntry { entry });
            }
            let Some((kid, key_b64)) = raw.split_once(':') else {
                return Err(KeyringError::MissingSeparator { entry });
            };
            let kid = kid.trim();
            if !is_valid_kid(kid) {
                return Err(KeyringError::InvalidKid {
                    entry,
                    len: kid.len(),
                });
            }
            let bytes = KEY_BASE64.decode(key_b64.trim()).map_err(|_| {
                KeyringError::InvalidKeyEncoding {
                    kid: kid.to_string(),
                }
            })?;
            let secret_bytes: [u8; KEY_LEN] =
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyringError::WrongKeyLength {
                        kid: kid.to_string(),
                        len: bytes.len(),
                    })?;
            if keys.iter().any(|k| k.kid() == kid) {
                return Err(KeyringError::DuplicateKid {
                    kid: kid.to_string(),
                });
            }
            keys.push(SessionKey::derive(kid, &secret_bytes));
        }
        let mut keys = keys.into_iter();
        match keys.next() {
            Some(current) => Ok(Keyring {
                current,
                others: keys.collect(),
            }),
            None => Err(KeyringError::Empty),
        }
    }

    /// The kid that [`seal`] uses.
    pub fn current_kid(&self) -> &str {
        self.current.kid()
    }

    /// All kids, current first.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&self.current)
            .chain(self.others.iter())
            .map(SessionKey::kid)
    }

    fn find(&self, kid: &str) -> Option<&SessionKey> {
        std::iter::once(&self.current)
            .chain(self.others.iter())
            .find(|k| k.kid == kid)
    }
}

// ---------------------------------------------------------------------------------------------
// Seal / open
// ---------------------------------------------------------------------------------------------

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// [`seal`]: the plaintext is longer than [`MAX_PLAINTEXT_LEN`].
    PlaintextTooLarge { len: usize, max: usize },
    /// [`open`]: not `v1.{kid}.{payload}` (wrong number of parts, bad kid syntax, too long, or a
    /// payload shorter than nonce + tag).
    Malformed { reason: &'static str },
    /// [`open`]: the version tag is not `v1`.
    UnsupportedVersion,
    /// [`open`]: well-formed kid that is not in the keyring (rotated out, or forged).
    UnknownKid { kid: String },
    /// [`open`]: the payload is not canonical unpadded base64url.
    InvalidBase64,
    /// [`open`]: AES-GCM tag check failed: tampered value, wrong AAD (other org or purpose), or a
    /// different key under the same kid.
    AuthenticationFailed,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::PlaintextTooLarge { len, max } => {
                write!(f, "sealed plaintext is {len} bytes, limit {max}")
            }
            SealError::Malformed { reason } => write!(f, "sealed value is malformed: {reason}"),
            SealError::UnsupportedVersion => f.write_str("sealed value has an unsupported version"),
            SealError::UnknownKid { kid } => write!(f, "sealed value uses unknown kid {kid:?}"),
            SealError::InvalidBase64 => f.write_str("sealed value payload is not base64url"),
            SealError::AuthenticationFailed => {
                f.write_str("sealed value failed authentication (tampered or wrong context)")
            }
        }
    }
}

impl std::error::Error for SealError {}

/// The AAD given to AES-GCM: `"v1." || kid || "." || aad`. The kid has no `.`, so the split is
/// unambiguous.
fn full_aad(kid: &str, aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SEAL_VERSION.len() + kid.len() + 2 + aad.len());
    out.extend_from_slice(SEAL_VERSION.as_bytes());
    out.push(b'.');
    out.extend_from_slice(kid.as_bytes());
    out.push(b'.');
    out.extend_from_slice(aad);
    out
}

/// Seals `plaintext` with the keyring's current key: `v1.{kid}.{base64url(nonce || ct || tag)}`.
///
/// `aad` binds the value to its purpose and organization and must be given again to [`open`].
/// `nonce` must be 12 fresh random bytes from the random-source port; never reuse one with the
/// same key.
pub fn seal(
    keyring: &Keyring,
    aad: &[u8],
    plaintext: &[u8],
    nonce: [u8; NONCE_LEN],
) -> Result<String, SealError> {
    let too_large = SealError::PlaintextTooLarge {
        len: plaintext.len(),
        max: MAX_PLAINTEXT_LEN,
    };
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(too_large);
    }
    let key = &keyring.current;
    let aad = full_aad(&key.kid, aad);
    // NIST SP 800-38D §7.1: the only encryption failure is a plaintext over 2^36 - 32 bytes,
    // excluded above.
    let ciphertext = key
        .cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| too_large)?;
    let mut payload = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    payload.extend_from_slice(&nonce);
    payload.extend_from_slice(&ciphertext);
    Ok(format!(
        "{SEAL_VERSION}.{}.{}",
        key.kid,
        URL_SAFE_NO_PAD.encode(payload)
    ))
}

/// Opens a value made by [`seal`] with any key of the keyring, checking it against `aad`.
/// Never panics, whatever `sealed` holds.
pub fn open(keyring: &Keyring, aad: &[u8], sealed: &str) -> Result<Vec<u8>, SealError> {
    if sealed.len() > MAX_SEALED_LEN {
        return Err(SealError::Malformed { reason: "too long" });
    }
    let mut parts = sealed.split('.');
    let (Some(version), Some(kid), Some(payload), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SealError::Malformed {
            reason: "expected three dot-separated parts",
        });
    };
    if version != SEAL_VERSION {
        return Err(SealError::UnsupportedVersion);
    }
    if !is_valid_kid(kid) {
        return Err(SealError::Malformed {
            reason: "kid syntax",
        });
    }
    let key = keyring.find(kid).ok_or_else(|| SealError::UnknownKid {
        kid: kid.to_string(),
    })?;
    // URL_SAFE_NO_PAD refuses padding and non-canonical trailing bits, so each sealed value has
    // exactly one spelling.
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| SealError::InvalidBase64)?;
    let short = SealError::Malformed {
        reason: "payload shorter than nonce and tag",
    };
    let (nonce, ciphertext) = bytes
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(short.clone())?;
    if ciphertext.len() < TAG_LEN {
        return Err(short);
    }
    let aad = full_aad(kid, aad);
    key.cipher
        .decrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| SealError::AuthenticationFailed)
}

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
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Two keys, current "k2", older "k1". Key bytes: 0x01 × 32 and 0x02 × 32.
    fn keyring() -> Keyring {
        let k2 = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let k1 = URL_SAFE_NO_PAD.encode([2u8; 32]);
        Keyring::parse(&format!("k2:{k2},k1:{k1}")).unwrap()
    }

    const AAD_ACME: &[u8] = b"session\0org_acme";
    const AAD_GLOBEX: &[u8] = b"session\0org_globex";
    const NONCE: [u8; 12] = [7u8; 12];

    // ---- keyring --------------------------------------------------------------------------

    #[test]
    fn keyring_parses_current_first() {
        let kr = keyring();
        assert_eq!(kr.current_kid(), "k2");
        assert_eq!(kr.kids().collect::<Vec<_>>(), ["k2", "k1"]);
    }

    #[test]
    fn keyring_tolerates_whitespace_and_padding() {
        let padded = base64::engine::general_purpose::URL_SAFE.encode([9u8; 32]);
        assert!(padded.ends_with('='));
        let kr = Keyring::parse(&format!(" a : {padded} \n")).unwrap();
        assert_eq!(kr.current_kid(), "a");
    }

    #[test]
    fn keyring_debug_shows_only_kids() {
        let key = [0xabu8; 32];
        let b64 = URL_SAFE_NO_PAD.encode(key);
        let kr = Keyring::parse(&format!("main:{b64}")).unwrap();
        let dbg = format!("{kr:?}");
        assert!(dbg.contains("main"));
        assert!(!dbg.contains(&b64));
        assert!(!dbg.to_lowercase().contains("abab"));
        assert!(!dbg.contains("171")); // 0xab in decimal
    }

    #[test]
    fn keyring_errors() {
        let good = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let short = URL_SAFE_NO_PAD.encode([1u8; 16]);
        let long = URL_SAFE_NO_PAD.encode([1u8; 33]);
        let cases: Vec<(String, KeyringError)> = vec![
            (String::new(), KeyringError::Empty),
            ("  \n".into(), KeyringError::Empty),
            (format!("a:{good},"), KeyringError::EmptyEntry { entry: 1 }),
            (
                format!("a:{good},,b:{good}"),
                KeyringError::EmptyEntry { entry: 1 },
            ),
            (good.clone(), KeyringError::MissingSeparator { entry: 0 }),
            (
                format!("a.b:{good}"),
                KeyringError::InvalidKid { entry: 0, len: 3 },
            ),
            (
                format!(":{good}"),
                KeyringError::InvalidKid { entry: 0, len: 0 },
            ),
            (
                format!("a:{good},{}:{good}", "x".repeat(17)),
                KeyringError::InvalidKid { entry: 1, len: 17 },
            ),
            // A key pasted where the kid goes: reported by length only.
            (
                format!("{good}:a"),
                KeyringError::InvalidKid { entry: 0, len: 43 },
            ),
            (
                "a:not base64!".into(),
                KeyringError::InvalidKeyEncoding { kid: "a".into() },
            ),
            (
                // Standard alphabet (+ and /) is refused: the format is base64url.
                format!(
                    "a:{}",
                    base64::engine::general_purpose::STANDARD.encode([0xfbu8; 32])
                ),
                KeyringError::InvalidKeyEncoding { kid: "a".into() },
            ),
            (
                format!("a:{short}"),
                KeyringError::WrongKeyLength {
                    kid: "a".into(),
                    len: 16,
                },
            ),
            (
                format!("a:{long}"),
                KeyringError::WrongKeyLength {
                    kid: "a".into(),
                    len: 33,
                },
            ),
            (
                format!("a:{good},b:{good},a:{good}"),
                KeyringError::DuplicateKid { kid: "a".into() },
            ),
        ];
        for (secret, expected) in cases {
            assert_eq!(Keyring::parse(&secret).unwrap_err(), expected, "{secret:?}");
        }
    }

    #[test]
    fn keyring_new_refuses_duplicates() {
        let a = SessionKey::new("a", &[1; 32]).unwrap();
        let a2 = SessionKey::new("a", &[2; 32]).unwrap();
        assert_eq!(
            Keyring::new(a, vec![a2]).unwrap_err(),
            KeyringError::DuplicateKid { kid: "a".into() }
        );
        assert!(SessionKey::new("bad kid", &[1; 32]).is_err());
    }

    #[test]
    fn derived_key_differs_from_secret_and_per_kid() {
        let secret = [5u8; 32];
        let a = derive_aead_key(&secret, "a");
        let b = derive_aead_key(&secret, "b");
        assert_ne!(a, secret);
        assert_ne!(a, b);
        // Same as HMAC keyed by the 32-byte secret via new_from_slice (RFC 2104 zero padding).
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret).unwrap();
        mac.update(b"orggate/seal/v1/aes-256-gcm\0a\x01");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(a, expected);
    }

    // ---- seal / open ----------------------------------------------------------------------

    #[test]
    fn seal_open_round_trip() {
        let kr = keyring();
        for pt in [&b""[..], b"x", &[0u8; 1000][..]] {
            let sealed = seal(&kr, AAD_ACME, pt, NONCE).unwrap();
            assert!(sealed.starts_with("v1.k2."));
            assert!(is_valid_cookie_value(&sealed));
            assert_eq!(open(&kr, AAD_ACME, &sealed).unwrap(), pt);
        }
    }

    #[test]
    fn sealed_length_is_predictable() {
        let kr = keyring();
        let sealed = seal(&kr, AAD_ACME, &[0u8; 100], NONCE).unwrap();
        // "v1.k2." + base64(12 + 100 + 16 = 128 bytes) = 6 + 171
        assert_eq!(sealed.len(), 6 + 171);
    }

    #[test]
    fn open_with_other_org_aad_fails() {
        let kr = keyring();
        let sealed = seal(&kr, AAD_ACME, b"user=alice", NONCE).unwrap();
        assert_eq!(
            open(&kr, AAD_GLOBEX, &sealed).unwrap_err(),
            SealError::AuthenticationFailed
        );
        assert_eq!(
            open(&kr, b"login\0org_acme", &sealed).unwrap_err(),
            SealError::AuthenticationFailed
        );
    }

    #[test]
    fn rotation_old_key_still_opens() {
        let old = URL_SAFE_NO_PAD.encode([2u8; 32]);
        let old_only = Keyring::parse(&format!("k1:{old}")).unwrap();
        let sealed_by_old = seal(&old_only, AAD_ACME, b"hello", NONCE).unwrap();
        assert!(sealed_by_old.starts_with("v1.k1."));
        // After rotation ("k2" prepended) the old cookie still opens ...
        let rotated = keyring();
        assert_eq!(open(&rotated, AAD_ACME, &sealed_by_old).unwrap(), b"hello");
        // ... and once "k1" is dropped it is refused by kid.
        let new = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let dropped = Keyring::parse(&format!("k2:{new}")).unwrap();
        assert_eq!(
            open(&dropped, AAD_ACME, &sealed_by_old).unwrap_err(),
            SealError::UnknownKid { kid: "k1".into() }
        );
    }

    #[test]
    fn same_kid_different_secret_fails_authentication() {
        let a = Keyring::parse(&format!("k:{}", URL_SAFE_NO_PAD.encode([1u8; 32]))).unwrap();
        let b = Keyring::parse(&format!("k:{}", URL_SAFE_NO_PAD.encode([3u8; 32]))).unwrap();
        let sealed = seal(&a, AAD_ACME, b"x", NONCE).unwrap();
        assert_eq!(
            open(&b, AAD_ACME, &sealed).unwrap_err(),
            SealError::AuthenticationFailed
        );
    }

    #[test]
    fn relabelled_kid_fails_authentication() {
        // Both keys exist, but the header is part of the AAD and the key is per kid.
        let kr = keyring();
        let sealed = seal(&kr, AAD_ACME, b"x", NONCE).unwrap();
        let relabelled = sealed.replacen("v1.k2.", "v1.k1.", 1);
        assert_eq!(
            open(&kr, AAD_ACME, &relabelled).unwrap_err(),
            SealError::AuthenticationFailed
        );
    }

    #[test]
    fn open_error_variants() {
        let kr = keyring();
        let sealed = seal(&kr, AAD_ACME, b"x", NONCE).unwrap();
        let payload = sealed.trim_start_matches("v1.k2.");
        let cases: Vec<(String, SealError)> = vec![
            (
                String::new(),
                SealError::Malformed {
                    reason: "expected three dot-separated parts",
                },
            ),
            (
                "v1.k2".into(),
                SealError::Malformed {
                    reason: "expected three dot-separated parts",
                },
            ),
            (
                format!("{sealed}.extra"),
                SealError::Malformed {
                    reason: "expected three dot-separated parts",
                },
            ),
            (format!("v2.k2.{payload}"), SealError::UnsupportedVersion),
            (
                format!("v1.k!.{payload}"),
                SealError::Malformed {
                    reason: "kid syntax",
                },
            ),
            (
                format!("v1..{payload}"),
                SealError::Malformed {
                    reason: "kid syntax",
                },
            ),
            (
                format!("v1.nope.{payload}"),
                SealError::UnknownKid { kid: "nope".into() },
            ),
            (format!("v1.k2.{payload}="), SealError::InvalidBase64),
            (format!("v1.k2.{payload}+"), SealError::InvalidBase64),
            (format!("v1.k2.{payload}AB"), SealError::InvalidBase64), // 4n+1 characters
            (
                format!("v1.k2.{}", URL_SAFE_NO_PAD.encode([0u8; 27])),
                SealError::Malformed {
                    reason: "payload shorter than nonce and tag",
                },
            ),
            (
                format!("v1.k2.{}", URL_SAFE_NO_PAD.encode([0u8; 28])),
                SealError::AuthenticationFailed,
            ),
            (
                "v1.k2.".to_string() + &"A".repeat(MAX_SEALED_LEN),
                SealError::Malformed { reason: "too long" },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                open(&kr, AAD_ACME, &input).unwrap_err(),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn seal_refuses_huge_plaintext() {
        let kr = keyring();
        let big = vec![0u8; MAX_PLAINTEXT_LEN + 1];
        assert_eq!(
            seal(&kr, AAD_ACME, &big, NONCE).unwrap_err(),
            SealError::PlaintextTooLarge {
                len: MAX_PLAINTEXT_LEN + 1,
                max: MAX_PLAINTEXT_LEN
            }
        );
        let max = vec![0u8; MAX_PLAINTEXT_LEN];
        let sealed = seal(&kr, AAD_ACME, &max, NONCE).unwrap();
        assert!(sealed.len() <= MAX_SEALED_LEN);
        assert_eq!(open(&kr, AAD_ACME, &sealed).unwrap(), max);
    }

    /// A small deterministic PRNG (xorshift64*) for the mutation test; no external crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn open_survives_thousands_of_mutations() {
        let kr = keyring();
        let sealed = seal(&kr, AAD_ACME, b"sub=alice;org=acme;exp=1700000000", NONCE).unwrap();
        let alphabet: &[u8] = b"v1.k2AZaz09-_=+/%\\ \t\0.";
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut opened_unchanged = 0;
        let mut variants_seen: Vec<String> = Vec::new();
        for _ in 0..20_000 {
            let mut bytes = sealed.as_bytes().to_vec();
            for _ in 0..=rng.below(4) {
                match rng.below(5) {
                    0 if !bytes.is_empty() => {
                        let i = rng.below(bytes.len());
                        bytes[i] = alphabet[rng.below(alphabet.len())];
                    }
                    1 if !bytes.is_empty() => {
                        let i = rng.below(bytes.len());
                        bytes.remove(i);
                    }
                    2 => {
                        let i = rng.below(bytes.len() + 1);
                        bytes.insert(i, alphabet[rng.below(alphabet.len())]);
                    }
                    3 => {
                        let i = rng.below(bytes.len() + 1);
                        bytes.truncate(i);
                    }
                    _ => {
                        let i = rng.below(bytes.len() + 1);
                        bytes.insert(i, (rng.next() & 0xff) as u8);
                    }
                }
            }
            let input = String::from_utf8_lossy(&bytes);
            match open(&kr, AAD_ACME, &input) {
                Ok(pt) => {
                    // Only a mutation that left the value as it was may open.
                    assert_eq!(input, sealed, "mutated value opened: {input:?}");
                    assert_eq!(pt, b"sub=alice;org=acme;exp=1700000000");
                    opened_unchanged += 1;
                }
                Err(e) => {
                    let variant = format!("{e:?}");
                    let variant = variant.split([' ', '{']).next().unwrap_or("").to_string();
                    if !variants_seen.contains(&variant) {
                        variants_seen.push(variant);
                    }
                }
            }
        }
        // The mutations changed the value nearly every time and reached every failure path.
        assert!(opened_unchanged < 1000, "{opened_unchanged}");
        variants_seen.sort();
        assert_eq!(
            variants_seen,
            [
                "AuthenticationFailed",
                "InvalidBase64",
                "Malformed",
                "UnknownKid",
                "UnsupportedVersion"
            ]
        );
    }

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

    #[test]
    fn sealed_value_through_chunked_cookies() {
        // End to end: seal a large value, chunk it, build Set-Cookie lines, read it back.
        let kr = keyring();
        let claims = vec![b'c'; 6000];
        let sealed = seal(&kr, AAD_ACME, &claims, NONCE).unwrap();
        let name = cookie_name("orggate", true);
        let chunks =
            split_into_chunks(&name, &sealed, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_CHUNKS).unwrap();
        assert_eq!(chunks.len(), 3);
        let attrs = CookieAttrs::host_only(true, Some(3600));
        let header: String = chunks
            .iter()
            .map(|(n, v)| {
                let line = set_cookie(n, v, &attrs);
                assert!(line.len() < 4096);
                line.split(';').next().unwrap().to_string()
            })
            .collect::<Vec<_>>()
            .join("; ");
        let cookies = parse_cookie_header(&header);
        let joined = join_chunks(&cookies, &name).unwrap();
        assert_eq!(open(&kr, AAD_ACME, &joined).unwrap(), claims);
    }
}
