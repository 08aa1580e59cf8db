//! The pages orggate shows, all from the templates in `www/templates/` (askama: compiled into
//! the Worker, HTML-escaped by default) with one stylesheet (`style.css`): the branded login page,
//! the org prompt, refusals and messages. An org's pages carry its branding (logo, colours,
//! name); pages with no org carry the tenant's (`settings.display_name`, `settings.branding`).
//! No JavaScript; the CSP admits exactly the page's own stylesheet by its hash.

use crate::error::Refusal;
use crate::http::ResponseView;
use crate::org::policy::{Branding, OrgPolicy, TenantPolicy};
use askama::Template;
use sha2::{Digest, Sha256};

const STYLE: &str = include_str!("../../www/templates/style.css");

/// HTML-escapes text for element content and quoted attributes (for HTML built outside a
/// template).
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

/// The CSP source for an inline stylesheet: `sha256-` and its base64 digest.
fn csp_hash(style: &str) -> String {
    format!(
        "sha256-{}",
        crate::b64::encode_standard(&Sha256::digest(style.as_bytes()))
    )
}

/// A page rendered from a template outside this module (the admin pages), with the same headers.
pub fn styled_page(status: u16, html: String, style: &str) -> ResponseView {
    secure_page(status, html, style)
}

/// Security headers for every page orggate renders; `style`: the page's one inline stylesheet.
fn secure_page(status: u16, html: String, style: &str) -> ResponseView {
    ResponseView::html(status, html)
        .header(
            "content-security-policy",
            format!("default-src 'none'; style-src '{}'; img-src 'self' https:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'", csp_hash(style)),
        )
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
}

/// Who a page speaks for: the org, or the tenant.
pub struct Brand<'a> {
    pub name: &'a str,
    pub logo: Option<&'a str>,
    /// Show the name above the heading (message pages; the login page names the org in its
    /// heading instead).
    pub show_name: bool,
    /// The page's stylesheet: the brand's colours as CSS custom properties, then `style.css`.
    pub style: String,
}

fn style_for(b: &Branding) -> String {
    let css_vars: String = b
        .css_vars
        .iter()
        .map(|(k, v)| format!(" --{k}: {v};"))
        .collect();
    format!(
        ":root {{ --primary: {}; --page-bg: {}; --on-primary: {};{css_vars} }}\n{STYLE}",
        b.primary,
        b.page_background,
        on_color(&b.primary)
    )
}

impl<'a> Brand<'a> {
    pub fn org(org: &'a OrgPolicy) -> Self {
        Brand {
            name: &org.display_name,
            logo: org.branding.logo_url.as_deref(),
            show_name: true,
            style: style_for(&org.branding),
        }
    }

    pub fn tenant(tenant: &'a TenantPolicy) -> Self {
        Brand {
            name: tenant.display_name.as_deref().unwrap_or(""),
            logo: tenant.branding.logo_url.as_deref(),
            show_name: tenant.display_name.is_some(),
            style: style_for(&tenant.branding),
        }
    }

    /// Before any settings could be read (a fault loading them).
    pub fn neutral() -> Self {
        Brand {
            name: "",
            logo: None,
            show_name: false,
            style: style_for(&Branding::default()),
        }
    }

    /// The org's brand if there is an org, else the tenant's, else neutral.
    pub fn of(org: Option<&'a OrgPolicy>, tenant: Option<&'a TenantPolicy>) -> Self {
        match (org, tenant) {
            (Some(o), _) => Brand::org(o),
            (None, Some(t)) => Brand::tenant(t),
            (None, None) => Brand::neutral(),
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageHtml<'a> {
    brand: &'a Brand<'a>,
    title: &'a str,
    text: &'a str,
    link: Option<(&'a str, &'a str)>,
    details: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "prompt.html")]
struct PromptHtml<'a> {
    brand: &'a Brand<'a>,
    message: Option<&'a str>,
}

fn render(t: &impl Template) -> String {
    // Rendering into a String only fails if a value's Display fails; ours are strings.
    t.render().unwrap_or_default()
}

/// The page for a refusal, in the org's (or the tenant's) branding, with the reason and the
/// request id to quote to support.
pub fn refusal_page(r: &Refusal, brand: &Brand<'_>, request_id: &str) -> ResponseView {
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
    let html = render(&MessageHtml {
        brand,
        title,
        text,
        link: None,
        details: Some((r.reason(), request_id)),
    });
    secure_page(r.status(), html, &brand.style)
}

/// The tenant host's "which organization?" prompt, in the tenant's branding.
pub fn org_prompt(brand: &Brand<'_>, message: Option<&str>) -> ResponseView {
    let html = render(&PromptHtml { brand, message });
    secure_page(200, html, &brand.style)
}

/// A page with a heading, a message and an optional button link (sign-in errors, signed out,
/// the sign-out question).
pub fn message_page(
    brand: &Brand<'_>,
    status: u16,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> ResponseView {
    let html = render(&MessageHtml {
        brand,
        title,
        text,
        link,
        details: None,
    });
    secure_page(status, html, &brand.style)
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
    /// Where "Not your organization?" leads (the tenant host's org prompt).
    pub switch_url: &'a str,
}

fn start_href(base: &str, return_to: &str, extra: &[(&str, &str)]) -> String {
    let q = std::iter::once(("return_to", return_to)).chain(extra.iter().copied());
    format!("{base}/_orggate/start?{}", crate::http::form_encode(q))
}

/// The passwordless form's fields.
struct Passwordless<'a> {
    action: String,
    connection: &'a str,
    return_to: &'a str,
    invitation: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginHtml<'a> {
    brand: &'a Brand<'a>,
    tagline: Option<&'a str>,
    notice: Option<String>,
    start_url: String,
    connections: Vec<(String, &'a str)>,
    passwordless: Option<Passwordless<'a>>,
    signup: Option<String>,
    switch_url: &'a str,
}

/// The org's branded login page: display name, logo, colours, its sign-in options. No JavaScript.
pub fn login_page(v: &LoginView<'_>) -> ResponseView {
    let o = v.org;
    let brand = Brand {
        show_name: false,
        ..Brand::org(o)
    };
    let mut base_extra: Vec<(&str, &str)> = Vec::new();
    if let Some(inv) = v.invitation {
        base_extra.push(("invitation", inv));
    }
    let connections = o
        .login
        .connections
        .iter()
        .map(|c| {
            let mut extra = base_extra.clone();
            extra.push(("connection", &c.connection));
            (start_href(v.base, v.return_to, &extra), c.label.as_str())
        })
        .collect();
    let passwordless = o
        .login
        .passwordless_connection
        .as_deref()
        .map(|connection| Passwordless {
            action: format!("{}/_orggate/start", v.base),
            connection,
            return_to: v.return_to,
            invitation: v.invitation,
        });
    let signup = (o.login.signup && v.invitation.is_none()).then(|| {
        let mut extra = base_extra.clone();
        extra.push(("screen_hint", "signup"));
        start_href(v.base, v.return_to, &extra)
    });
    let notice = match (v.invitation, v.notice) {
        (Some(_), _) => Some(format!(
            "You have been invited to join {}. Sign in or create your account to accept.",
            o.display_name
        )),
        (None, Some(n)) => Some(n.to_string()),
        (None, None) => None,
    };
    let html = render(&LoginHtml {
        brand: &brand,
        tagline: o.branding.tagline.as_deref(),
        notice,
        start_url: start_href(v.base, v.return_to, &base_extra),
        connections,
        passwordless,
        signup,
        switch_url: v.switch_url,
    });
    secure_page(200, html, &brand.style)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every page's CSP admits exactly its own stylesheet (by hash), and the templates escape
    /// what they interpolate.
    #[test]
    fn pages_are_escaped_and_their_style_hash_matches() {
        let r = message_page(
            &Brand::neutral(),
            200,
            "<b>T</b>",
            "x & \"y\"",
            Some(("/a?b=<c>", "go")),
        );
        let html = String::from_utf8(r.body.clone()).unwrap();
        assert!(
            html.contains("<h1>&#60;b&#62;T&#60;/b&#62;</h1>")
                || html.contains("<h1>&lt;b&gt;T&lt;/b&gt;</h1>"),
            "{html}"
        );
        assert!(!html.contains("<b>T</b>"));
        let style = html
            .split("<style>")
            .nth(1)
            .and_then(|s| s.split("</style>").next())
            .unwrap();
        let csp = r.get_header("content-security-policy").unwrap();
        assert!(
            csp.contains(&format!("style-src '{}'", csp_hash(style))),
            "{csp}"
        );
    }

    #[test]
    fn text_colour_contrasts_with_brand() {
        assert_eq!(on_color("#c2410c"), "#ffffff");
        assert_eq!(on_color("#fde047"), "#111111");
        assert_eq!(on_color("#fff"), "#111111");
    }
}
