//! HTML pages: the branded login page, the org prompt, refusal pages. Everything interpolated is
//! escaped ([`esc`]); colours were validated at config load.

use crate::error::Refusal;
use crate::http::ResponseView;
use crate::org::policy::OrgPolicy;

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
            format!("default-src 'none'; {style}; img-src 'self' https:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'"),
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
        Refusal::StepUp { .. } => (
            "Stronger sign-in required",
            "This page needs a stronger or more recent sign-in than yours.",
        ),
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
pub fn org_prompt(message: Option<&str>) -> ResponseView {
    let msg = message
        .map(|m| format!("<p role=\"status\">{}</p>", esc(m)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in</title></head><body><main>\
         <h1>Sign in to your organization</h1>{msg}\
         <form method=\"get\" action=\"/_orggate/find\"><label for=\"org\">Organization name or work email</label>\
         <input id=\"org\" name=\"q\" autocomplete=\"organization\" required><button type=\"submit\">Continue</button></form>\
         </main></body></html>"
    );
    secure_page(200, html, None)
}

const LOGIN_TEMPLATE: &str = include_str!("../../www/templates/login.html");

/// Fills `{{name}}` (HTML-escaped) and `{{{name}}}` (pre-rendered HTML built with [`esc`]).
/// Unknown placeholders render empty, so a template typo cannot leak a raw value.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (raw, open, close) = if after.starts_with("{{{") {
            (true, 3, "}}}")
        } else {
            (false, 2, "}}")
        };
        let Some(end) = after[open..].find(close) else {
            out.push_str(after);
            return out;
        };
        let name = after[open..open + end].trim();
        if let Some((_, v)) = vars.iter().find(|(k, _)| *k == name) {
            if raw {
                out.push_str(v);
            } else {
                out.push_str(&esc(v));
            }
        }
        rest = &after[open + end + close.len()..];
    }
    out.push_str(rest);
    out
}

/// WCAG 2.x relative luminance of `#rgb`/`#rrggbb` (validated at config load).
fn luminance(hex: &str) -> f64 {
    let h = hex.trim_start_matches('#');
    let full: String = if h.len() == 3 {
        h.chars().flat_map(|c| [c, c]).collect()
    } else {
        h.to_string()
    };
    let ch = |i: usize| {
        let v =
            u8::from_str_radix(full.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as f64 / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * ch(0) + 0.7152 * ch(2) + 0.0722 * ch(4)
}

/// White or near-black text on the brand colour, whichever contrasts more (WCAG 1.4.3).
pub fn on_color(bg: &str) -> &'static str {
    let l = luminance(bg);
    let white = 1.05 / (l + 0.05);
    let black = (l + 0.05) / (0.0156 + 0.05);
    if white >= black {
        "#ffffff"
    } else {
        "#111111"
    }
}

/// What the branded login page offers.
pub struct LoginView<'a> {
    pub org: &'a OrgPolicy,
    /// `/o/acme` when the org came from a path prefix, else empty.
    pub base: &'a str,
    pub return_to: &'a str,
    pub invitation: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub nonce: &'a str,
    /// Where "Not your organization?" leads (the tenant host's org prompt).
    pub switch_url: &'a str,
}

fn start_href(base: &str, return_to: &str, extra: &[(&str, &str)]) -> String {
    let mut q = vec![format!("return_to={}", url_encode(return_to))];
    for (k, v) in extra {
        q.push(format!("{k}={}", url_encode(v)));
    }
    format!("{base}/_orggate/start?{}", q.join("&"))
}

/// The org's branded login page: display name, logo, colours, its sign-in options. No JavaScript.
pub fn login_page(v: &LoginView<'_>) -> ResponseView {
    let o = v.org;
    let b = &o.branding;
    let mut base_extra: Vec<(&str, &str)> = Vec::new();
    if let Some(inv) = v.invitation {
        base_extra.push(("invitation", inv));
    }
    let logo = b
        .logo_url
        .as_deref()
        .map(|u| {
            format!(
                "<img class=\"logo\" src=\"{}\" alt=\"{} logo\">",
                esc(u),
                esc(&o.display_name)
            )
        })
        .unwrap_or_default();
    let mut connections = String::new();
    for c in &o.login.connections {
        let mut extra = base_extra.clone();
        extra.push(("connection", &c.connection));
        connections.push_str(&format!(
            "<a class=\"btn btn-secondary\" href=\"{}\">{}</a>\n",
            esc(&start_href(v.base, v.return_to, &extra)),
            esc(&c.label)
        ));
    }
    let passwordless = o
        .login
        .passwordless_connection
        .as_deref()
        .map(|conn| {
            format!(
                "<p class=\"sep\">or</p><form method=\"get\" action=\"{base}/_orggate/start\">\
                 <input type=\"hidden\" name=\"connection\" value=\"{conn}\">\
                 <input type=\"hidden\" name=\"return_to\" value=\"{ret}\">{inv}\
                 <label for=\"login_hint\">Work email</label>\
                 <input id=\"login_hint\" name=\"login_hint\" type=\"email\" autocomplete=\"email\" required>\
                 <button class=\"btn btn-secondary\" type=\"submit\">Email me a sign-in code</button></form>",
                base = esc(v.base),
                conn = esc(conn),
                ret = esc(v.return_to),
                inv = v
                    .invitation
                    .map(|i| format!("<input type=\"hidden\" name=\"invitation\" value=\"{}\">", esc(i)))
                    .unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let signup = if o.login.signup && v.invitation.is_none() {
        let mut extra = base_extra.clone();
        extra.push(("screen_hint", "signup"));
        format!(
            "<p class=\"sep\">New to {}?</p><a class=\"btn btn-secondary\" href=\"{}\">Create an account</a>",
            esc(&o.display_name),
            esc(&start_href(v.base, v.return_to, &extra))
        )
    } else {
        String::new()
    };
    let notice = match (v.invitation, v.notice) {
        (Some(_), _) => format!(
            "<p class=\"notice\" role=\"status\">You have been invited to join {}. Sign in or create your account to accept.</p>",
            esc(&o.display_name)
        ),
        (None, Some(n)) => format!("<p class=\"notice\" role=\"status\">{}</p>", esc(n)),
        (None, None) => String::new(),
    };
    let css_vars: String = b
        .css_vars
        .iter()
        .map(|(k, val)| format!(" --{k}: {val};"))
        .collect();
    let start_url = start_href(v.base, v.return_to, &base_extra);
    let html = render(
        LOGIN_TEMPLATE,
        &[
            ("display_name", &o.display_name),
            ("tagline", b.tagline.as_deref().unwrap_or("")),
            ("primary", &b.primary),
            ("page_background", &b.page_background),
            ("on_primary", on_color(&b.primary)),
            ("css_vars", &css_vars),
            ("nonce", v.nonce),
            ("switch_url", v.switch_url),
            ("logo", &logo),
            ("notice", &notice),
            ("start_url", &start_url),
            ("connections", &connections),
            ("passwordless", &passwordless),
            ("signup", &signup),
        ],
    );
    secure_page(200, html, Some(v.nonce))
}

/// A plain page with a heading, a message and a link (sign-in errors, signed out).
pub fn message_page(
    status: u16,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> ResponseView {
    let link = link
        .map(|(href, label)| format!("<p><a href=\"{}\">{}</a></p>", esc(href), esc(label)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><main><h1>{t}</h1><p>{x}</p>{link}</main></body></html>",
        t = esc(title),
        x = esc(text)
    );
    secure_page(status, html, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_escapes_and_ignores_unknown() {
        let out = render(
            "<p>{{a}}</p>{{{b}}}{{nope}}",
            &[("a", "<x&\"y>"), ("b", "<i>ok</i>")],
        );
        assert_eq!(out, "<p>&lt;x&amp;&quot;y&gt;</p><i>ok</i>");
    }

    #[test]
    fn text_colour_contrasts_with_brand() {
        assert_eq!(on_color("#c2410c"), "#ffffff");
        assert_eq!(on_color("#fde047"), "#111111");
        assert_eq!(on_color("#fff"), "#111111");
    }

    #[test]
    fn url_encode_query_parts() {
        assert_eq!(url_encode("/a b?c=d&e"), "%2Fa%20b%3Fc%3Dd%26e");
    }
}
