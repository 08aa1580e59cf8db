//! The string format a JavaScript host and the core exchange: one string in, one string out, so a
//! request crosses the Wasm boundary once in each direction (converting header by header cost
//! more than the authorization itself). Pure formatting; the Worker's entry (`edge`) uses it, the
//! native tests check it.
//!
//! **In:** `extras \0 method \0 url \0 name \0 value \0 name \0 value ...`, where the names are the
//! lowercase headers the host passed and `extras` lists (comma-separated) the configured header
//! names it included besides the fixed set ([`FIXED_HEADERS`]). A `POST`/`PATCH` to `/_orggate/*` also
//! carries its body as the pair `:body \0 text` (up to [`crate::http::MAX_BODY`] bytes, no NUL).
//!
//! **Out:** fields separated by `\0`, lists inside a field separated by `\x01`:
//! - `R \0 status \0 extras \0 log \0 headers \0 body`: respond (the body is the rest of the
//!   string and may contain anything);
//! - `F \0 O|A \0 extras \0 log \0 url \0 strip-prefixes \0 strip-names \0 set-headers \0
//!   response-headers \0 0|1`: forward to an origin (`O`) or the assets binding (`A`) with these
//!   header edits; the last field says whether no client header may be forwarded at all;
//! - `N \0 handle`: the core needs I/O; await the driver with this handle;
//! - `H \0 extras`: pass these configured headers too, and ask again.
//!
//! `extras` in an answer is the list the host should pass from now on.
//!
//! No field but the body may contain `\0` or `\x01`: a value that does (only a client could put
//! one there, e.g. in a cookie) makes the encoder refuse the request with 400 rather than let a
//! crafted value split into an extra header.

use crate::app::Handled;
use crate::http::{Outcome, RequestView, Upstream};

/// The headers a host always passes (when present): everything the pipeline reads.
pub const FIXED_HEADERS: [&str; 14] = [
    "authorization",
    "cookie",
    "accept",
    "origin",
    "sec-fetch-site",
    "sec-fetch-mode",
    "sec-fetch-dest",
    "upgrade",
    "cf-ray",
    "dpop",
    "content-type",
    "access-control-request-method",
    "access-control-request-headers",
    "if-match",
];

const SEP: char = '\0';
const LIST: char = '\x01';

/// A request as the host packed it, and the extra header names it included.
pub fn unpack(input: &str) -> Option<(RequestView, Vec<String>)> {
    let mut parts = input.split(SEP);
    let extras = parts.next()?;
    let method = parts.next()?.to_ascii_uppercase();
    let url = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut body = None;
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        // `:body` (no header name can start with `:`): the body of a POST to /_orggate/*.
        if k == ":body" {
            body = Some(v.to_string());
            continue;
        }
        headers.push((k.to_ascii_lowercase(), v.to_string()));
    }
    let extras = extras
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut req = RequestView::from_parts(method, url, headers);
    req.body = body;
    Some((req, extras))
}

/// The host must pass `needed` headers besides the fixed set; did it?
pub fn missing_extras(needed: &[String], provided: &[String]) -> bool {
    needed.iter().any(|n| !provided.contains(n))
}

/// A field is clean when it cannot break the framing.
fn clean(s: &str) -> bool {
    !s.contains([SEP, LIST])
}

struct Out {
    s: String,
    ok: bool,
}

impl Out {
    fn field(&mut self, v: &str) {
        self.ok &= clean(v);
        self.s.push_str(v);
        self.s.push(SEP);
    }
    fn list<'a>(&mut self, items: impl Iterator<Item = &'a str>) {
        for (i, v) in items.enumerate() {
            if i > 0 {
                self.s.push(LIST);
            }
            self.ok &= clean(v);
            self.s.push_str(v);
        }
        self.s.push(SEP);
    }
    fn pairs(&mut self, pairs: &[(String, String)]) {
        self.list(pairs.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]));
    }
}

/// Encodes a decision. `extras`: the configured header names the host should pass.
pub fn encode(h: &Handled, extras: &[String]) -> String {
    let log = h.log.to_json_line();
    let extras = extras.join(",");
    let mut out = Out {
        s: String::with_capacity(512),
        ok: true,
    };
    match &h.outcome {
        Outcome::Respond(r) => {
            out.field("R");
            out.field(&r.status.to_string());
            out.field(&extras);
            out.field(&log);
            out.pairs(&r.headers);
            let mut s = out.s;
            if out.ok {
                s.push_str(&String::from_utf8_lossy(&r.body));
                return s;
            }
        }
        Outcome::Forward(f) => {
            out.field("F");
            out.field(match f.upstream {
                Upstream::Origin(_) => "O",
                Upstream::Assets => "A",
            });
            out.field(&extras);
            out.field(&log);
            out.field(&f.url);
            out.list(f.strip_prefixes.iter().map(String::as_str));
            out.list(f.strip_names.iter().map(String::as_str));
            out.list(
                f.identity
                    .iter()
                    .chain(f.set_headers.iter())
                    .flat_map(|(k, v)| [k.as_str(), v.as_str()]),
            );
            out.pairs(&f.response_headers);
            out.s.push(if f.no_client_headers { '1' } else { '0' });
            if out.ok {
                return out.s;
            }
        }
    }
    unencodable(&log)
}

/// The answer when a value could not be framed safely.
fn unencodable(log: &str) -> String {
    let body = r#"{"error":"bad_request","reason":"unencodable_header"}"#;
    let log = if clean(log) { log } else { "{}" };
    format!(
        "R\x00400\0\0{log}\0content-type\x01application/json\x01cache-control\x01no-store\0{body}"
    )
}

/// `N \0 handle`.
pub fn need(handle: u32) -> String {
    format!("N\0{handle}")
}

/// `H \0 extras`.
pub fn resend(extras: &[String]) -> String {
    format!("H\0{}", extras.join(","))
}

/// `V \0 handle \0 alg \0 key-id \0 jwk \0 signature \0 input`: check this signature with the
/// host's crypto and answer with [`verify_answer`]'s format. The key id (the key's thumbprint in
/// hex) names the imported key the host may cache; the signature is base64url; the input (the
/// JWS Signing Input, base64url text) is the rest of the string.
pub fn verify_request(handle: u32, c: &crate::io::SignatureCheck) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let sig = crate::b64::encode(&c.signature);
    let mut out = String::with_capacity(96 + c.key.import_json.len() + sig.len() + c.input.len());
    out.push_str("V\0");
    out.push_str(&handle.to_string());
    out.push(SEP);
    out.push_str(c.alg.name());
    out.push(SEP);
    for b in c.key.thumbprint {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out.push(SEP);
    out.push_str(&c.key.import_json);
    out.push(SEP);
    out.push_str(&sig);
    out.push(SEP);
    out.push_str(&c.input);
    out
}

/// The host's answer to a `V` request: `1` valid, `0` invalid, `U` the host cannot check this
/// algorithm (Ed25519 on an older runtime), anything else an error message.
pub fn verify_answer(answer: &str) -> crate::io::Answer {
    use crate::io::{Answer, PortError};
    Answer::Verify(match answer {
        "1" => Ok(true),
        "0" => Ok(false),
        other => Err(PortError::new(
            "subtle",
            other.chars().take(200).collect::<String>(),
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Forward, ResponseView};
    use crate::log::DecisionLog;
    use std::rc::Rc;

    fn handled(outcome: Outcome) -> Handled {
        Handled {
            outcome,
            log: DecisionLog::new("r1", "GET"),
            effects: vec![],
        }
    }

    #[test]
    fn requests_unpack() {
        let (r, extras) =
            unpack("x-org\0get\0https://a.example/p?q\0cookie\0a=b\0x-org\0org_1").unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.header("cookie"), Some("a=b"));
        assert_eq!(r.header("x-org"), Some("org_1"));
        assert_eq!(extras, vec!["x-org"]);
        assert_eq!(r.url_parts().unwrap().path, "/p");
        assert!(missing_extras(&["x-tok".into()], &extras));
    }

    #[test]
    fn responses_frame_their_fields_and_keep_the_body_whole() {
        let r = ResponseView::new(403)
            .header("content-type", "text/html")
            .with_body(b"a\0b\x01c".to_vec());
        let s = encode(&handled(Outcome::Respond(r)), &[]);
        let f: Vec<&str> = s.splitn(6, '\0').collect();
        assert_eq!(&f[..3], &["R", "403", ""]);
        assert_eq!(f[4], "content-type\x01text/html");
        assert_eq!(f[5], "a\0b\x01c");
    }

    /// HeaderSplitInCookie: a client cookie value carrying `\x01` would split into an extra header
    /// pair (`x-orggate-org-id`) on the host side; the encoder refuses the request instead.
    #[test]
    fn a_value_that_would_break_the_framing_is_refused() {
        let f = Forward {
            upstream: Upstream::Origin("https://o".into()),
            url: "https://o/x".into(),
            strip_prefixes: Rc::from(vec!["x-orggate-".to_string()]),
            strip_names: Rc::from(vec![]),
            identity: Rc::from(vec![]),
            set_headers: vec![(
                "cookie".into(),
                "a=b\x01x-orggate-org-id\x01org_evil".into(),
            )],
            response_headers: vec![],
            no_client_headers: false,
        };
        let s = encode(&handled(Outcome::Forward(f)), &[]);
        assert!(s.starts_with("R\x00400\0"), "{s:?}");
        assert!(!s.contains("org_evil"));
    }

    #[test]
    fn forwards_carry_their_edits() {
        let f = Forward {
            upstream: Upstream::Assets,
            url: "https://a/sites/acme/x".into(),
            strip_prefixes: Rc::from(vec!["x-orggate-".to_string()]),
            strip_names: Rc::from(vec!["forwarded".to_string(), "cookie".to_string()]),
            identity: Rc::from(vec![("x-orggate-org-id".into(), "org_acme".into())]),
            set_headers: vec![],
            response_headers: vec![("vary".into(), "Cookie".into())],
            no_client_headers: false,
        };
        let s = encode(&handled(Outcome::Forward(f)), &["x-org".into()]);
        let f: Vec<&str> = s.split('\0').collect();
        assert_eq!(f[0..3], ["F", "A", "x-org"]);
        assert_eq!(f[4], "https://a/sites/acme/x");
        assert_eq!(f[6], "forwarded\x01cookie");
        assert_eq!(f[7], "x-orggate-org-id\x01org_acme");
        assert_eq!(f[9], "0");
    }
}
