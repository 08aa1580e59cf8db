//! Sealed values: AES-256-GCM with a rotating keyring, for the session and the login transaction.
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

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
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
            let bytes = crate::b64::decode_key(key_b64.trim()).map_err(|_| {
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
        crate::b64::encode(&payload)
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
    let bytes = crate::b64::decode(payload).map_err(|_| SealError::InvalidBase64)?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// Two keys, current "k2", older "k1". Key bytes: 0x01 × 32 and 0x02 × 32.
    fn keyring() -> Keyring {
        let k2 = crate::b64::encode(&[1u8; 32]);
        let k1 = crate::b64::encode(&[2u8; 32]);
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
        let b64 = crate::b64::encode(&key);
        let kr = Keyring::parse(&format!("main:{b64}")).unwrap();
        let dbg = format!("{kr:?}");
        assert!(dbg.contains("main"));
        assert!(!dbg.contains(&b64));
        assert!(!dbg.to_lowercase().contains("abab"));
        assert!(!dbg.contains("171")); // 0xab in decimal
    }

    #[test]
    fn keyring_errors() {
        let good = crate::b64::encode(&[1u8; 32]);
        let short = crate::b64::encode(&[1u8; 16]);
        let long = crate::b64::encode(&[1u8; 33]);
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
            assert!(crate::session::is_valid_cookie_value(&sealed));
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
        let old = crate::b64::encode(&[2u8; 32]);
        let old_only = Keyring::parse(&format!("k1:{old}")).unwrap();
        let sealed_by_old = seal(&old_only, AAD_ACME, b"hello", NONCE).unwrap();
        assert!(sealed_by_old.starts_with("v1.k1."));
        // After rotation ("k2" prepended) the old cookie still opens ...
        let rotated = keyring();
        assert_eq!(open(&rotated, AAD_ACME, &sealed_by_old).unwrap(), b"hello");
        // ... and once "k1" is dropped it is refused by kid.
        let new = crate::b64::encode(&[1u8; 32]);
        let dropped = Keyring::parse(&format!("k2:{new}")).unwrap();
        assert_eq!(
            open(&dropped, AAD_ACME, &sealed_by_old).unwrap_err(),
            SealError::UnknownKid { kid: "k1".into() }
        );
    }

    #[test]
    fn same_kid_different_secret_fails_authentication() {
        let a = Keyring::parse(&format!("k:{}", crate::b64::encode(&[1u8; 32]))).unwrap();
        let b = Keyring::parse(&format!("k:{}", crate::b64::encode(&[3u8; 32]))).unwrap();
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
                format!("v1.k2.{}", crate::b64::encode(&[0u8; 27])),
                SealError::Malformed {
                    reason: "payload shorter than nonce and tag",
                },
            ),
            (
                format!("v1.k2.{}", crate::b64::encode(&[0u8; 28])),
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

    #[test]
    fn open_survives_thousands_of_mutations() {
        let kr = keyring();
        let sealed = seal(&kr, AAD_ACME, b"sub=alice;org=acme;exp=1700000000", NONCE).unwrap();
        let alphabet: &[u8] = b"v1.k2AZaz09-_=+/%\\ \t\0.";
        let mut rng = crate::testing::XorShift(0x9E37_79B9_7F4A_7C15);
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
                        bytes.insert(i, (rng.next_u64() & 0xff) as u8);
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
}
