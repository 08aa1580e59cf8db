//! DNS-over-HTTPS, the JSON flavour Cloudflare's and Google's resolvers serve
//! (`?name=...&type=TXT`, `accept: application/dns-json`): does a TXT record hold a value?

use crate::error::{Halt, Refusal};
use crate::exchange::Exchange;
use crate::http::url_encode;
use crate::http::HttpRequest;
use serde_json::Value;

/// A TXT record's `data` as text: its quoted character-strings joined (`"a" "b"` → `ab`).
fn txt_text(data: &str) -> String {
    let d = data.trim();
    if !d.starts_with('"') {
        return d.to_string();
    }
    d.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s)
        .collect()
}

/// Does `name` have a TXT record equal to `value`? An answer that is not NOERROR, or no
/// answer, is `false`; a resolver that cannot be reached is a fault (503).
pub fn txt_contains(
    ex: &mut Exchange,
    resolver: &str,
    name: &str,
    value: &str,
) -> Result<bool, Halt> {
    let sep = if resolver.contains('?') { '&' } else { '?' };
    let req = HttpRequest {
        method: "GET".into(),
        url: format!("{resolver}{sep}name={}&type=TXT", url_encode(name)),
        headers: vec![("accept".into(), "application/dns-json".into())],
        body: None,
    };
    let resp = match ex.io.fetch(req, None) {
        Err(need) => return Err(Halt::Need(need.0)),
        Ok(Err(e)) => {
            return Err(Refusal::Internal {
                detail: format!("DNS resolver: {e}"),
            }
            .into())
        }
        Ok(Ok(r)) => r,
    };
    if resp.status != 200 {
        return Err(Refusal::Internal {
            detail: format!("DNS resolver answered {}", resp.status),
        }
        .into());
    }
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if v["Status"] != 0 {
        return Ok(false);
    }
    Ok(v["Answer"].as_array().is_some_and(|a| {
        a.iter()
            .any(|r| r["type"] == 16 && r["data"].as_str().is_some_and(|d| txt_text(d) == value))
    }))
}

#[cfg(test)]
mod tests {
    use super::txt_text;

    #[test]
    fn txt_strings_join() {
        assert_eq!(
            txt_text("\"orggate-verification=abc\""),
            "orggate-verification=abc"
        );
        assert_eq!(
            txt_text("\"orggate-\" \"verification=abc\""),
            "orggate-verification=abc"
        );
        assert_eq!(txt_text("plain"), "plain");
    }
}
