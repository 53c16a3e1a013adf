//! Reading URL lists into [`Item`]s that remember their file and line.
//!
//! Every input is opened before the run starts, so a missing file is exit 2 before any request
//! is sent; the lines themselves are read lazily on a thread of their own and handed over
//! through a bounded channel, so a million-line file is never held in memory.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use regex::RegexSet;
use tokio::sync::mpsc;
use url::Url;

use crate::model::Source;
use crate::sanitize::{escape_for_terminal, redact, redact_url};

/// Lines longer than this are reported invalid without being held in memory.
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Items are handed over in batches of up to this many: one wake-up of the scheduler per
/// batch instead of one per line. A batch is also sent whenever reading on might block
/// (a slow pipe), so a trickle of input is never held back.
pub(crate) const BATCH: usize = 256;

/// What the input thread sends.
pub(crate) type Batch = Vec<Item>;

/// One non-blank, non-comment input line.
#[derive(Debug, Clone)]
pub enum Item {
    /// A checkable http(s) URL.
    Target(Target),
    /// A URL excluded with `--exclude`: reported, never requested.
    Skipped {
        /// The URL as shown: redacted.
        url: String,
        source: Source,
        /// The pattern that excluded it.
        pattern: String,
    },
    /// A line that is not a checkable URL, and why.
    Invalid {
        /// The line as shown to people: escaped and redacted.
        text: String,
        source: Source,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as requested (credentials included, fragment removed).
    pub url: Url,
    pub source: Source,
}

/// One input as named on the command line.
enum Origin {
    File(Arc<str>, File),
    Stdin,
    Url(String, u64),
}

/// The inputs of a run, opened and ready to be read.
pub(crate) struct Inputs {
    origins: Vec<Origin>,
    exclude: Option<RegexSet>,
}

impl Inputs {
    /// Opens every input up front. `-` is stdin; an argument starting with `http://` or
    /// `https://` is a URL; anything else is a file. No inputs and stdin not a terminal means
    /// stdin.
    pub fn open(args: &[String], exclude: Option<RegexSet>) -> Result<Inputs> {
        let mut origins = Vec::with_capacity(args.len());
        if args.is_empty() {
            if io::stdin().is_terminal() {
                bail!(
                    "no input: give a file of URLs, URLs as arguments, or pipe a list into \
                     `urlcheck -` (see `urlcheck --help`)"
                );
            }
            origins.push(Origin::Stdin);
        }
        let mut stdin_seen = false;
        for (i, arg) in args.iter().enumerate() {
            if arg == "-" {
                if stdin_seen {
                    bail!("'-' (stdin) is given more than once");
                }
                stdin_seen = true;
                origins.push(Origin::Stdin);
            } else if looks_like_url(arg) {
                origins.push(Origin::Url(arg.clone(), i as u64 + 1));
            } else {
                origins.push(Origin::File(Arc::from(arg.as_str()), open_file(arg)?));
            }
        }
        Ok(Inputs { origins, exclude })
    }

    /// Counts the non-blank, non-comment lines of every input that can be read twice
    /// (files and arguments), for the progress bar. `None` when stdin is among the inputs.
    pub fn count_hint(&self) -> Option<u64> {
        let mut total = 0;
        for origin in &self.origins {
            match origin {
                Origin::Stdin => return None,
                Origin::Url(..) => total += 1,
                Origin::File(_, file) => total += count_lines(file.try_clone().ok()?).ok()?,
            }
        }
        Some(total)
    }

    /// Reads every input in order on a thread of its own and sends the items. The thread ends
    /// when the inputs are exhausted or the receiver is dropped.
    pub fn spawn(self, tx: mpsc::Sender<Batch>) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("urlcheck-input".into())
            .spawn(move || {
                let mut out = Batcher::new(tx, self.exclude);
                for origin in self.origins {
                    let sent = match origin {
                        Origin::Url(text, pos) => {
                            let source = Source::line(Arc::from("<args>"), pos);
                            out.push(parse_line(text.as_bytes(), source))
                        }
                        Origin::Stdin => read_lines(Arc::from("<stdin>"), io::stdin(), &mut out),
                        Origin::File(name, file) => read_lines(name, file, &mut out),
                    };
                    if !sent {
                        return;
                    }
                }
                out.send();
            })
            .expect("spawn the input thread")
    }
}

/// Collects items into batches for the scheduler, marking excluded URLs on the way.
struct Batcher {
    tx: mpsc::Sender<Batch>,
    batch: Batch,
    exclude: Option<RegexSet>,
}

impl Batcher {
    fn new(tx: mpsc::Sender<Batch>, exclude: Option<RegexSet>) -> Self {
        Batcher {
            tx,
            batch: Vec::with_capacity(BATCH),
            exclude,
        }
    }

    /// False when the receiver is gone.
    fn push(&mut self, item: Item) -> bool {
        let item = match (item, &self.exclude) {
            (Item::Target(t), Some(set)) => match set.matches(t.url.as_str()).iter().next() {
                Some(i) => Item::Skipped {
                    url: redact(&t.url),
                    source: t.source,
                    pattern: set.patterns()[i].clone(),
                },
                None => Item::Target(t),
            },
            (item, _) => item,
        };
        self.batch.push(item);
        self.batch.len() < BATCH || self.send()
    }

    /// Sends what is collected; false when the receiver is gone.
    fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.tx.blocking_send(batch).is_ok()
    }
}

fn looks_like_url(arg: &str) -> bool {
    let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn open_file(name: &str) -> Result<File> {
    let path = Path::new(name);
    let name = &*shown_name(name);
    if let Some(scheme) = scheme_it_lacks(name).filter(|_| !path.exists()) {
        bail!(
            "cannot read input {name}: there is no such file, and a URL needs its scheme: \
             urlcheck {scheme}://{name}"
        );
    }
    let meta = std::fs::metadata(path).with_context(|| match name.split_once("://") {
        Some((scheme, _)) => format!(
            "cannot read input {name}: it is not a file, and only http:// and https:// URLs \
             can be checked (not {scheme}://)"
        ),
        None => format!("cannot read input file {name}"),
    })?;
    if meta.is_dir() {
        bail!("cannot read input {name}: it is a directory (give the file of URLs inside it)");
    }
    File::open(path).with_context(|| format!("cannot read input file {name}"))
}

/// An argument that is not a file may be a mistyped URL with credentials in it, with its
/// scheme or without (`alice:s3cret@intranet`): what comes before its `@` is not shown.
fn shown_name(name: &str) -> Cow<'_, str> {
    if name.contains("://") {
        return redact_url(name);
    }
    let as_url = format!("http://{name}");
    match redact_url(&as_url) {
        Cow::Owned(masked) => Cow::Owned(masked["http://".len()..].to_owned()),
        Cow::Borrowed(_) => Cow::Borrowed(name),
    }
}

/// The scheme to suggest when `name` would be a URL with a scheme in front: `example.com`,
/// `www.example.org/docs` (https), and `localhost:8080`, `127.0.0.1:3000/x`, `[::1]:80`
/// (http, as local servers mostly are). Not a name that ends like a file of URLs
/// (`urls.txt`, `links.md`).
fn scheme_it_lacks(name: &str) -> Option<&'static str> {
    const LIST_ENDINGS: [&str; 12] = [
        "txt", "list", "lst", "urls", "md", "markdown", "csv", "tsv", "html", "htm", "xml", "json",
    ];
    let url = Url::parse(&format!("http://{name}")).ok()?;
    let host = name.split('/').next().unwrap_or(name);
    match url.host()? {
        url::Host::Domain("localhost") => Some("http"),
        url::Host::Ipv4(_) | url::Host::Ipv6(_) => Some("http"),
        url::Host::Domain(_) if url.port().is_some() => Some("https"),
        url::Host::Domain(domain) => {
            let ending = domain.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
            (host.contains('.') && !host.starts_with('.') && !LIST_ENDINGS.contains(&&*ending))
                .then_some("https")
        }
    }
}

/// Reads lines of at most [`MAX_LINE`] bytes; longer lines are reported without being
/// buffered whole. Returns false when the receiver is gone.
fn read_lines(name: Arc<str>, source: impl Read, out: &mut Batcher) -> bool {
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

fn count_lines(file: File) -> io::Result<u64> {
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
    let mut url = match Url::parse(text) {
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
    if url.host_str().is_none_or(str::is_empty) {
        return invalid(text, "no host".into());
    }
    if url.port() == Some(0) {
        return invalid(text, "port 0 cannot be connected to".into());
    }
    // The fragment never reaches the server: two lines differing only there are one check.
    url.set_fragment(None);
    Item::Target(Target { url, source })
}

/// Reads a whole input the way a run does, for tests and tools (not from async code).
pub fn parse_all(reader: impl Read + Send, name: &str) -> Vec<Item> {
    let (tx, mut rx) = mpsc::channel(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut out = Batcher::new(tx, None);
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
