//! URL lists: one URL per line, read lazily with every line bounded, so a million-line file
//! is never held in memory and a line that is not a URL is an invalid item naming its line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use tokio::sync::mpsc;
use url::Url;

use super::{Batcher, Item, Rules, Target};
use crate::model::Source;
use crate::sanitize::{escape_for_terminal, redact_url};

/// Lines longer than this are reported invalid without being held in memory.
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Reads lines of at most [`MAX_LINE`] bytes; longer lines are reported without being
/// buffered whole. Returns false when the receiver is gone.
pub(super) fn read_lines(name: Arc<str>, source: impl Read, out: &mut Batcher) -> bool {
    let mut reader = BufReader::with_capacity(64 * 1024, source);
    let mut buf = Vec::with_capacity(256);
    let mut line_no = 0u64;
    loop {
        // The next read may block (a slow pipe): hand over what is ready first.
        if reader.buffer().is_empty() && !out.send() {
            return false;
        }
        buf.clear();
        line_no += 1;
        let source = Source::line(name.clone(), line_no);
        let item = match read_bounded_line(&mut reader, &mut buf) {
            Ok(LineRead::Eof) => return true,
            Ok(LineRead::Line) => {
                let mut bytes = &buf[..];
                if line_no == 1 {
                    bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                }
                if is_skippable(bytes) {
                    continue;
                }
                parse_line(bytes, source)
            }
            Ok(LineRead::TooLong(len)) => Item::Invalid {
                text: shown_prefix(&buf[..80]),
                source,
                reason: format!("line is {len} bytes long (at most {MAX_LINE})"),
            },
            Err(e) => {
                let item = Item::Invalid {
                    text: String::new(),
                    source,
                    reason: format!("cannot read the rest of the file: {e}"),
                };
                // The rest of this input is lost; say so once and go on with the next one.
                return out.push(item);
            }
        };
        if !out.push(item) {
            return false;
        }
    }
}

/// The start of an over-long line as shown: redacted, and masked entirely after `://` when
/// the cut may have fallen inside the credentials.
fn shown_prefix(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = match text.split_once("://") {
        Some((scheme, rest)) if !rest.contains(['/', '?', '#', '@']) => format!("{scheme}://***"),
        _ => redact_url(&text).into_owned(),
    };
    escape_for_terminal(&text) + "..."
}

enum LineRead {
    Eof,
    Line,
    /// The line was longer than [`MAX_LINE`]; its total length. `buf` holds its start.
    TooLong(usize),
}

fn read_bounded_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<LineRead> {
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (piece, done) = match memchr(chunk) {
            Some(i) => (&chunk[..i], i + 1),
            None => (chunk, chunk.len()),
        };
        let room = (MAX_LINE + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&piece[..piece.len().min(room)]);
        total += piece.len();
        let found_newline = done > piece.len();
        reader.consume(done);
        if found_newline {
            break;
        }
    }
    if !any {
        return Ok(LineRead::Eof);
    }
    if total > MAX_LINE {
        return Ok(LineRead::TooLong(total));
    }
    Ok(LineRead::Line)
}

fn memchr(hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == b'\n')
}

fn is_skippable(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.is_empty() || t.starts_with(b"#")
}

pub(super) fn count_lines(file: File) -> io::Result<u64> {
    use std::io::Seek;
    let mut file = file;
    let start = file.stream_position()?;
    let mut reader = BufReader::with_capacity(256 * 1024, &mut file);
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        match read_bounded_line(&mut reader, &mut buf)? {
            LineRead::Eof => break,
            LineRead::TooLong(_) => n += 1,
            LineRead::Line => {
                let bytes = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf);
                if !is_skippable(bytes) {
                    n += 1;
                }
            }
        }
    }
    drop(reader);
    file.seek(io::SeekFrom::Start(start))?;
    Ok(n)
}

/// Turns one line (not blank, not a comment) into a target or an invalid item.
pub fn parse_line(raw: &[u8], source: Source) -> Item {
    let invalid = |text: &str, reason: String| Item::Invalid {
        text: escape_for_terminal(&redact_url(text)),
        source: source.clone(),
        reason,
    };
    let text = match std::str::from_utf8(raw) {
        Ok(t) => t.trim(),
        Err(e) => {
            let lossy = String::from_utf8_lossy(raw);
            return invalid(
                lossy.trim(),
                format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1),
            );
        }
    };
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return invalid(text, format!("contains a control character {c:?}"));
    }
    if let Some(c) = text.chars().find(|c| c.is_whitespace()) {
        return invalid(
            text,
            format!("contains whitespace {c:?} (one URL per line)"),
        );
    }
    let url = match Url::parse(text) {
        Ok(u) => u,
        Err(e) => return invalid(text, format!("not a URL: {e}")),
    };
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return invalid(
                text,
                format!("scheme {other}: is not checked (only http and https)"),
            )
        }
    }
    match Target::new(url, source.clone()) {
        Ok(target) => Item::Target(target),
        Err((_, reason)) => invalid(text, reason.into()),
    }
}

/// Reads a whole input the way a run does, for tests and tools (not from async code).
pub fn parse_all(reader: impl Read + Send, name: &str) -> Vec<Item> {
    let (tx, mut rx) = mpsc::channel(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut out = Batcher::new(tx, Arc::new(Rules::default()));
            if read_lines(Arc::from(name), reader, &mut out) {
                out.send();
            }
        });
        let mut items = Vec::new();
        while let Some(batch) = rx.blocking_recv() {
            items.extend(batch);
        }
        items
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(input: &[u8]) -> Vec<Result<String, String>> {
        parse_all(input, "t.txt")
            .into_iter()
            .map(|i| match i {
                Item::Target(t) => Ok(format!("{}@{}", t.url, t.source)),
                Item::Invalid { source, reason, .. } => Err(format!("{source} {reason}")),
                Item::Skipped { source, .. } => Err(format!("{source} skipped")),
                other => panic!("a list holds no {other:?}"),
            })
            .collect()
    }

    #[test]
    fn skips_blanks_comments_bom_crlf() {
        let got =
            reasons(b"\xEF\xBB\xBFhttp://a.test/\r\n\r\n  # note\n\t\nhttps://b.test/x#frag  \r\n");
        assert_eq!(
            got,
            vec![
                Ok("http://a.test/@t.txt:1".to_string()),
                Ok("https://b.test/x@t.txt:5".to_string())
            ]
        );
    }

    #[test]
    fn invalid_lines_name_their_line() {
        let got = reasons(
            b"ftp://x.test/\nnot a url\nhttp://a.test/\xff\nhttp://a\x00b/\nhttp://x:0/\nhttp://x:70000/\nhttp://\n",
        );
        let errs: Vec<String> = got.into_iter().map(|r| r.unwrap_err()).collect();
        assert!(errs[0].starts_with("t.txt:1 scheme ftp"), "{errs:?}");
        assert!(
            errs[1].starts_with("t.txt:2 contains whitespace"),
            "{errs:?}"
        );
        assert!(errs[2].starts_with("t.txt:3 not valid UTF-8"), "{errs:?}");
        assert!(
            errs[3].starts_with("t.txt:4 contains a control"),
            "{errs:?}"
        );
        assert!(errs[4].starts_with("t.txt:5 port 0"), "{errs:?}");
        assert!(errs[5].starts_with("t.txt:6 not a URL"), "{errs:?}");
        assert!(errs[6].starts_with("t.txt:7"), "{errs:?}");
    }

    #[test]
    fn long_lines_are_bounded() {
        let mut data = b"http://a.test/".to_vec();
        data.extend(std::iter::repeat_n(b'a', MAX_LINE * 4));
        data.extend_from_slice(b"\nhttp://b.test/\n");
        let got = reasons(&data);
        assert!(got[0].as_ref().unwrap_err().contains("bytes long"));
        assert_eq!(got[1], Ok("http://b.test/@t.txt:2".to_string()));
    }

    #[test]
    fn long_lines_show_no_credentials() {
        let mut data = b"http://alice:hunter2@a.test/".to_vec();
        data.extend(std::iter::repeat_n(b'a', MAX_LINE));
        let mut cut = b"http://".to_vec();
        cut.extend(std::iter::repeat_n(b'u', 100));
        cut.extend_from_slice(b":hunter2@a.test/");
        data.push(b'\n');
        data.extend(cut.iter().chain(std::iter::repeat_n(&b'a', MAX_LINE)));
        data.push(b'\n');
        for item in parse_all(&data[..], "t") {
            match item {
                Item::Invalid { text, .. } => assert!(!text.contains("hunter2"), "{text}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn idn_and_ipv6() {
        let got = reasons("http://bücher.example/\nhttp://[::1]:8080/\n".as_bytes());
        assert_eq!(
            got[0],
            Ok("http://xn--bcher-kva.example/@t.txt:1".to_string())
        );
        assert_eq!(got[1], Ok("http://[::1]:8080/@t.txt:2".to_string()));
    }

    #[test]
    fn credentials_are_redacted_in_invalid_text() {
        match &parse_all(&b"http://user:secret@a b/\n"[..], "t")[0] {
            Item::Invalid { text, .. } => assert!(!text.contains("secret"), "{text}"),
            other => panic!("{other:?}"),
        }
    }
}
