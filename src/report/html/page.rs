//! The shell every HTML page of urlcheck shares: one self-contained document with its style
//! and its one script inline, under a Content-Security-Policy that allows exactly those two
//! (by their SHA-256) and nothing else: no request to any host, not even the page's own
//! folder, and no script or style an escaped value could smuggle in.

use std::sync::OnceLock;

use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// `'sha256-…'`, as a CSP source for an inline element of exactly `text`.
fn hash_source(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
    format!("'sha256-{b64}'")
}

/// The policy: nothing by default; the inline style and script by hash; no base, no form
/// target, no plugin. Inline SVG needs no source (it is part of the document).
pub(super) fn policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        format!(
            "default-src 'none'; style-src {}; script-src {}; img-src 'none'; \
             base-uri 'none'; form-action 'none'; object-src 'none'",
            hash_source(STYLE),
            hash_source(SCRIPT)
        )
    })
}

/// A whole page titled `title` around `body`.
pub(super) fn page(title: &str, body: Markup) -> String {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(policy());
                meta name="referrer" content="no-referrer";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(concat!("urlcheck ", env!("CARGO_PKG_VERSION")));
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (body)
                footer {
                    "Written by urlcheck " (env!("CARGO_PKG_VERSION"))
                    ". One file: no request leaves it, and it reads the same with JavaScript off."
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    markup.into_string()
}

/// A chart as drawn, or why it is missing.
pub(super) fn drawn(svg: Result<String, String>) -> Markup {
    match svg {
        Ok(svg) => PreEscaped(svg),
        Err(why) => html! { span.muted { (why) } },
    }
}

/// A chart in a figure `id` with its caption.
pub(super) fn figure(id: &str, svg: Result<String, String>, caption: &str) -> Markup {
    html! { figure id=(id) { (drawn(svg)) figcaption { (caption) } } }
}

/// A link to `url` when it is one a browser would fetch (http or https); anything else, a
/// `javascript:` URL above all, stays text.
pub(super) fn url_cell(url: &str) -> Markup {
    let web = url.starts_with("https://") || url.starts_with("http://");
    html! {
        @if web {
            a href=(url) rel="noreferrer noopener" { (url) }
        } @else {
            (url)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_exact_inline_style_and_script() {
        let p = policy();
        assert!(p.starts_with("default-src 'none';"), "{p}");
        assert!(
            p.contains(&hash_source(STYLE)) && p.contains(&hash_source(SCRIPT)),
            "{p}"
        );
        assert!(!p.contains("unsafe"), "{p}");
        // A known vector: SHA-256 of the empty string.
        assert_eq!(
            hash_source(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }

    #[test]
    fn only_web_urls_become_links() {
        let link = url_cell("https://x/a?b=\"c\"").into_string();
        assert_eq!(
            link,
            "<a href=\"https://x/a?b=&quot;c&quot;\" rel=\"noreferrer noopener\">https://x/a?b=&quot;c&quot;</a>"
        );
        assert_eq!(
            url_cell("javascript:alert(1)").into_string(),
            "javascript:alert(1)"
        );
    }
}
