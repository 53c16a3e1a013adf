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

/// The same for text that may not parse as a URL (an invalid input line, a Location header,
/// an error message). After each `://`, everything up to the last `@` before whitespace is
/// masked: a password may hold an unencoded `/`, `?` or `#`, and masking a little too much of
/// a bad line is better than showing a secret. Whitespace may also split the userinfo
/// (`alice:s3cret @h`, `alice :s3cret@h`, ` alice:s3cret@h`, `bob@corp:pw @h`,
/// `alice:p@ss word@h`): when what follows `://` looks like that, the mask reaches past the
/// whitespace to the last `@` before the next `://`.
pub fn redact_url(text: &str) -> Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let word_end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        // Up to the next scheme, so one URL's path does not hide the next one's credentials.
        let next_scheme = tail.find("://").unwrap_or(tail.len());
        let mut end = word_end.min(next_scheme);
        if split_userinfo(&tail[..end], &tail[end..next_scheme]) {
            end = next_scheme;
        }
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                rest = &tail[at..];
            }
            None => rest = tail,
        }
        if rest.len() == tail.len() {
            // No credentials in this URL: copy up to its end and look for the next one.
            out.push_str(&tail[..end]);
            rest = &tail[end..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether the userinfo may go on past the first word after `://` (`word`), into `after`
/// (the rest, up to the next `://`). Only when an `@` comes later, and the word is empty; or
/// what follows its last `@` has a `:` before any `/` (`alice:s3cret`, `bob@corp:pw`, and
/// also `host:port`, masked more than needed); or the next word starts with `:` or `@`; or
/// no `/` comes before the next `@` (`alice:p@ss word@h`; also `h mail me@corp`, masked
/// more than needed).
fn split_userinfo(word: &str, after: &str) -> bool {
    if !after.contains('@') {
        return false;
    }
    let host_part = word.rsplit_once('@').map_or(word, |(_, rest)| rest);
    let authority = host_part.split('/').next().unwrap_or(host_part);
    let next = after.trim_start();
    let to_next_at = after.split('@').next().unwrap_or(after);
    word.is_empty()
        || authority.contains(':')
        || next.starts_with([':', '@'])
        || !(word.contains('/') || to_next_at.contains('/'))
}

/// Escapes control characters (C0, DEL, C1, and the bidi overrides) as `\u{..}` so that text
/// from a hostile server or file cannot move the cursor, recolour or retitle a terminal.
pub fn escape_for_terminal(text: &str) -> String {
    // Printable ASCII, the common case, needs no look at each character.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) || !text.chars().any(needs_escape) {
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

/// Controls, bidirectional overrides, and the noncharacters XML 1.0 cannot carry (a JUnit
/// report holding them would not parse).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fdd0}'..='\u{fdef}')
        || (c as u32) & 0xfffe == 0xfffe
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
        // Text that did not parse is masked up to its last '@': more than needed, never less.
        assert_eq!(redact_url("http://u:p@h/x@y"), "http://***@y");
        assert_eq!(redact_url("http://h/x"), "http://h/x");
        assert_eq!(redact_url("no scheme"), "no scheme");
        for secret in [
            "http://admin:pa#ss@h/ok",
            "http://admin:p/ss@h/ok",
            "http://a:p?w@h/",
        ] {
            let shown = redact_url(secret);
            assert!(shown.starts_with("http://***@h/"), "{secret} -> {shown}");
        }
        assert_eq!(
            redact_url("from http://u:p@a/x to https://v:q@b/y done"),
            "from http://***@a/x to https://***@b/y done"
        );
        assert_eq!(
            redact_url("see http://a/b and x@y"),
            "see http://a/b and x@y"
        );
        // Whitespace before the `@` does not hide the password from the mask.
        assert_eq!(redact_url("http://alice:s3cr3t @h/x"), "http://***@h/x");
        assert_eq!(redact_url("http:// alice:s3cr3t@h/x"), "http://***@h/x");
        assert_eq!(redact_url("http://alice:s3 cr3t@h/x"), "http://***@h/x");
        assert_eq!(
            redact_url("http://alice:s3cr3t host"),
            "http://alice:s3cr3t host"
        );
        // A user name holding an `@`, whitespace before the `:`, a password with `@` and a space.
        for secret in [
            "http://bob@corp.com:pw5x @h/x",
            "http://alice :pw5x@h/x",
            "http://alice : pw5x@h/x",
            "http://alice:p@ss word@h/x",
            "http://alice:p@ss\tword@h/x",
        ] {
            let shown = redact_url(secret);
            assert_eq!(shown, "http://***@h/x", "{secret:?}");
        }
        // A plain URL followed by unrelated text with an `@` keeps both.
        assert_eq!(
            redact_url("http://h/x mail me@corp"),
            "http://h/x mail me@corp"
        );
    }

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(escape_for_terminal("ok"), "ok");
        assert_eq!(escape_for_terminal("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_for_terminal("x\u{202e}y\n"), "x\\u{202e}y\\u{a}");
        assert_eq!(escape_for_terminal("a\u{ffff}b"), "a\\u{ffff}b");
    }
}
