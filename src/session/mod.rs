//! Sessions: sealed values ([`sealed`]), cookies and chunking ([`cookie`]), and the session's
//! life ([`lifecycle`]): what a session cookie says about a request, its refresh, its cookies.
//!
//! A session is an AES-256-GCM sealed cookie bound to one org; nothing is stored on the server.

pub mod cookie;
pub mod lifecycle;
pub mod sealed;

pub use cookie::*;
pub use sealed::*;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const AAD_ACME: &[u8] = b"session\0org_acme";
    const NONCE: [u8; 12] = [7u8; 12];

    fn keyring() -> Keyring {
        let k2 = crate::b64::encode(&[1u8; 32]);
        let k1 = crate::b64::encode(&[2u8; 32]);
        Keyring::parse(&format!("k2:{k2},k1:{k1}")).unwrap()
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
