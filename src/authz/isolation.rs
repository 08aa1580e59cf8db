//! Resource isolation for requests authenticated by the session cookie.
//!
//! Orgs live on sibling hosts of one site (`acme.app.example`, `globex.app.example`). To a browser
//! those are the **same site**, so acme's `SameSite=Lax` session cookie rides along on requests
//! that a page on globex's host makes to acme's host: images, `fetch` with credentials, form
//! posts, and WebSocket handshakes (which have no CORS at all). A cookie is ambient authority; a
//! bearer token is not, so this check applies to session requests only.
//!
//! The policy (W3C Fetch Metadata Request Headers, the "resource isolation policy"):
//! 1. `Sec-Fetch-Site: same-origin` or `none` (the user typed the URL or used a bookmark): allowed.
//! 2. A top-level navigation: `Sec-Fetch-Mode: navigate`, method `GET`, `Sec-Fetch-Dest` not
//!    `object` or `embed`: allowed (a link from a sibling host still works; the page that linked
//!    cannot read the answer).
//! 3. Everything else carrying Fetch Metadata is refused: `cross_site_request`.
//! 4. Without Fetch Metadata (older browsers, non-browser clients): WebSocket handshakes and
//!    unsafe methods must carry an `Origin` equal to the request's own origin (RFC 6454 §7;
//!    browsers send `Origin` on both); safe non-WebSocket requests pass.
//! 5. On top of that, a WebSocket handshake whose `Origin` is present and not ours is refused
//!    even when Fetch Metadata says otherwise (Chromium sends no Fetch Metadata on handshakes;
//!    the `Origin` is what RFC 6455 §10.2 tells servers to check).
//!
//! A route may name origins in `cross_site_origins` for intended cross-origin use with CORS: a
//! request whose `Origin` is exactly one of them passes. Requests that carry no `Origin` (an
//! `<img>`, a `no-cors` fetch) never match that list, so the opt-out cannot reopen them.

use crate::http::RequestView;

/// Why a session request was refused; the detail goes to the decision log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossSite {
    pub detail: String,
}

fn is_safe_method(m: &str) -> bool {
    matches!(m, "GET" | "HEAD" | "OPTIONS")
}

/// Is this an RFC 6455 opening handshake (`Upgrade: websocket`)?
pub fn is_websocket_handshake(req: &RequestView) -> bool {
    req.header("upgrade")
        .is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket"))
}

/// Checks a request that a session cookie authenticates. `own_origin` is the request's own
/// `scheme://authority`; `allowed` the route's `cross_site_origins`.
pub fn check_session_request(
    req: &RequestView,
    own_origin: &str,
    allowed: &[String],
) -> Result<(), CrossSite> {
    let origin = req.header("origin");
    let websocket = is_websocket_handshake(req);
    let refuse = |why: &str| {
        Err(CrossSite {
            detail: format!(
                "{why} (site {:?}, mode {:?}, dest {:?}, origin {:?}, websocket {websocket})",
                req.header("sec-fetch-site"),
                req.header("sec-fetch-mode"),
                req.header("sec-fetch-dest"),
                origin,
            ),
        })
    };
    // The route's opt-out: an exact origin the route names (never matches an absent Origin).
    if let Some(o) = origin {
        if o != own_origin && allowed.iter().any(|a| a == o) {
            return Ok(());
        }
        // Rule 5: a handshake from another origin, whatever else it says.
        if websocket && o != own_origin {
            return refuse("websocket_from_other_origin");
        }
    }
    match req.header("sec-fetch-site") {
        Some(site) => {
            if site == "same-origin" {
                return Ok(());
            }
            if site == "none" && !websocket && is_safe_method(&req.method) {
                return Ok(());
            }
            let navigation = req.header("sec-fetch-mode") == Some("navigate")
                && req.method == "GET"
                && !matches!(req.header("sec-fetch-dest"), Some("object" | "embed"))
                && !websocket;
            if navigation {
                return Ok(());
            }
            refuse("fetch_metadata")
        }
        None => {
            if (websocket || !is_safe_method(&req.method)) && origin != Some(own_origin) {
                return refuse("origin_required");
            }
            Ok(())
        }
    }
}

/// `scheme://host[:port]` exactly, lowercased; `None` for anything else (a path, a wildcard,
/// `null`, userinfo).
pub fn parse_origin(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    if !(scheme == "https" || scheme == "http") || rest.is_empty() {
        return None;
    }
    let ok = rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !ok || rest.starts_with([':', '.']) || rest.ends_with([':', '.']) {
        return None;
    }
    Some(s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACME: &str = "https://acme.app.example";

    fn req(method: &str, headers: &[(&str, &str)]) -> RequestView {
        RequestView::new(method, "https://acme.app.example/api/x", headers)
    }

    fn ok(method: &str, headers: &[(&str, &str)]) -> bool {
        check_session_request(&req(method, headers), ACME, &[]).is_ok()
    }

    #[test]
    fn same_origin_and_user_initiated_requests_pass() {
        assert!(ok("GET", &[("sec-fetch-site", "same-origin")]));
        assert!(ok("POST", &[("sec-fetch-site", "same-origin")]));
        assert!(ok("GET", &[("sec-fetch-site", "none")]));
    }

    /// SiblingNoCorsFetch / SiblingImage: the requests of issue 14's table that reached acme.
    #[test]
    fn sibling_subresources_are_refused() {
        for (mode, dest) in [
            ("no-cors", "empty"),
            ("no-cors", "image"),
            ("cors", "empty"),
        ] {
            assert!(
                !ok(
                    "GET",
                    &[
                        ("sec-fetch-site", "same-site"),
                        ("sec-fetch-mode", mode),
                        ("sec-fetch-dest", dest),
                    ]
                ),
                "{mode} {dest}"
            );
        }
        assert!(!ok("GET", &[("sec-fetch-site", "cross-site")]));
    }

    #[test]
    fn top_level_navigation_from_a_sibling_passes_but_not_into_object_or_embed() {
        let nav = |dest: &'static str| {
            vec![
                ("sec-fetch-site", "same-site"),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", dest),
            ]
        };
        assert!(ok("GET", &nav("document")));
        assert!(!ok("GET", &nav("object")));
        assert!(!ok("GET", &nav("embed")));
        // A cross-site form POST is a navigation too, but not a GET.
        assert!(!ok("POST", &nav("document")));
    }

    /// CrossSiteWebSocketHijacking: no Fetch Metadata, another org's Origin.
    #[test]
    fn websocket_handshakes_need_our_origin() {
        let ws = |origin: &'static str| vec![("upgrade", "websocket"), ("origin", origin)];
        assert!(ok("GET", &ws(ACME)));
        assert!(!ok("GET", &ws("https://globex.app.example")));
        assert!(!ok("GET", &[("upgrade", "websocket")]), "no Origin at all");
        // Fetch Metadata claiming same-origin does not outvote a foreign Origin.
        let mut h = ws("https://globex.app.example");
        h.push(("sec-fetch-site", "same-origin"));
        assert!(!ok("GET", &h));
        // A handshake is never a navigation.
        assert!(!ok(
            "GET",
            &[
                ("upgrade", "websocket"),
                ("sec-fetch-site", "same-site"),
                ("sec-fetch-mode", "navigate"),
            ]
        ));
    }

    #[test]
    fn without_fetch_metadata_unsafe_methods_need_our_origin_and_reads_pass() {
        assert!(ok("GET", &[]));
        assert!(!ok("POST", &[]));
        assert!(!ok("POST", &[("origin", "https://globex.app.example")]));
        assert!(ok("POST", &[("origin", ACME)]));
    }

    #[test]
    fn route_opt_out_matches_exact_origins_only() {
        let allowed = vec!["https://app.example".to_string()];
        let r = req(
            "GET",
            &[
                ("sec-fetch-site", "same-site"),
                ("sec-fetch-mode", "cors"),
                ("origin", "https://app.example"),
            ],
        );
        assert!(check_session_request(&r, ACME, &allowed).is_ok());
        let ws = req(
            "GET",
            &[("upgrade", "websocket"), ("origin", "https://app.example")],
        );
        assert!(check_session_request(&ws, ACME, &allowed).is_ok());
        // An <img> sends no Origin: the opt-out cannot match it.
        let img = req(
            "GET",
            &[
                ("sec-fetch-site", "same-site"),
                ("sec-fetch-mode", "no-cors"),
            ],
        );
        assert!(check_session_request(&img, ACME, &allowed).is_err());
        let other = req(
            "GET",
            &[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://app.example.evil"),
            ],
        );
        assert!(check_session_request(&other, ACME, &allowed).is_err());
    }

    #[test]
    fn origins_in_config_are_exact() {
        assert_eq!(
            parse_origin("https://App.example:8443").as_deref(),
            Some("https://app.example:8443")
        );
        for bad in [
            "*",
            "https://*.example",
            "https://a/b",
            "null",
            "ftp://a",
            "https://u@a",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }
}
