//! HTML pages: the branded login page, the org prompt, refusal pages. Everything interpolated is
//! escaped ([`esc`]); colours were validated at config load.

use crate::app::Ctx;
use crate::error::Refusal;
use crate::http::ResponseView;
use crate::org::policy::{OrgPolicy, TenantPolicy};

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query component (RFC 3986 §2.1; unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Security headers for every page orggate renders.
pub fn secure_page(status: u16, html: String, nonce: Option<&str>) -> ResponseView {
    let style = match nonce {
        Some(n) => format!("style-src 'nonce-{n}'"),
        None => "style-src 'none'".into(),
    };
    ResponseView::html(status, html)
        .header(
            "content-security-policy",
            format!("default-src 'none'; {style}; img-src https: http://127.0.0.1:*; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'"),
        )
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
}

/// Branded (when the org is known) or neutral refusal page for browsers.
pub fn refusal_page(r: &Refusal, org: Option<&OrgPolicy>, request_id: &str) -> ResponseView {
    let (title, text) = match r {
        Refusal::BadRequest { .. } => ("Bad request", "This address cannot be served."),
        Refusal::UnknownOrg => ("Not found", "There is nothing here."),
        Refusal::Unauthenticated { .. } => ("Sign-in required", "Please sign in to continue."),
        Refusal::Forbidden { .. } => (
            "Access denied",
            "Your account does not have access to this page.",
        ),
        Refusal::Internal { .. } => ("Temporarily unavailable", "Please try again in a moment."),
    };
    let name = org.map(|o| esc(&o.display_name)).unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><main><p>{name}</p><h1>{title}</h1><p>{text}</p><p><small>Reason: {reason} · Request {rid}</small></p></main></body></html>",
        reason = esc(r.reason()),
        rid = esc(request_id),
    );
    secure_page(r.status(), html, None)
}

/// The tenant host's "which organization?" prompt.
pub fn org_prompt(_tenant: &TenantPolicy, _ctx: &Ctx<'_>, message: Option<&str>) -> ResponseView {
    let msg = message
        .map(|m| format!("<p role=\"status\">{}</p>", esc(m)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in</title></head><body><main>\
         <h1>Sign in to your organization</h1>{msg}\
         <form method=\"post\" action=\"/_orggate/find\"><label for=\"org\">Organization name or work email</label>\
         <input id=\"org\" name=\"q\" autocomplete=\"organization\" required><button type=\"submit\">Continue</button></form>\
         </main></body></html>"
    );
    secure_page(200, html, None)
}
