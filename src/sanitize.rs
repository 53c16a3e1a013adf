//! Keeping output truthful and harmless: credentials are redacted from every URL we print, and
//! text that came from outside (input lines, server reason phrases, redirect targets, error
//! strings) has its control characters escaped so it cannot drive a terminal.

use std::borrow::Cow;
use std::fmt::Write;

use url::Url;

/// `scheme://user:password@host/...` -> `scheme://***@host/...`, for a parsed URL.
pub fn redact(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.as_str().to_owned();
    }
    let mut shown = url.clone();
    // Both setters only fail for URLs that cannot have credentials, which had none.
    let _ = shown.set_password(None);
    let _ = shown.set_username("***");
    shown.into()
}

/// The same for text that may not parse as a URL (an invalid input line, a Location header).
pub fn redact_url(text: &str) -> Cow<'_, str> {
    let Some(scheme_end) = text.find("://") else {
        return Cow::Borrowed(text);
    };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}***{}", &text[..scheme_end + 3], &rest[at..])),
        None => Cow::Borrowed(text),
    }
}

/// Escapes control characters (C0, DEL, C1, and the bidi overrides) as `\u{..}` so that text
/// from a hostile server or file cannot move the cursor, recolour or retitle a terminal.
pub fn escape_for_terminal(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        let u = Url::parse("https://alice:s3cret@example.test:8443/p?q=1").unwrap();
        assert_eq!(redact(&u), "https://***@example.test:8443/p?q=1");
        let u = Url::parse("https://example.test/a@b").unwrap();
        assert_eq!(redact(&u), "https://example.test/a@b");
        assert_eq!(redact_url("http://u:p@h/x@y"), "http://***@h/x@y");
        assert_eq!(redact_url("http://h/x@y"), "http://h/x@y");
        assert_eq!(redact_url("no scheme"), "no scheme");
    }

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(escape_for_terminal("ok"), "ok");
        assert_eq!(escape_for_terminal("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_for_terminal("x\u{202e}y\n"), "x\\u{202e}y\\u{a}");
    }
}
