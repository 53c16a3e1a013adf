//! The inputs as named on the command line: `-`, URLs, files, folders (walked as ripgrep
//! walks them, honouring `.gitignore`, `.ignore` and hidden files) and quoted globs, each with
//! the kind of input it is. A missing file is an error before the run starts.

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::doc::Reader;
use super::list::{count_lines, parse_line, read_lines};
use super::{Batcher, Kind, Rules};
use crate::model::Source;
use crate::sanitize::{escape_for_terminal, redact_url};
use anyhow::{bail, Context, Result};
use url::Url;

/// One input as named on the command line.
pub(super) enum Origin {
    /// A file: its name as shown, where it is, the open file and its kind.
    File(Arc<str>, PathBuf, File, Kind),
    Folder(PathBuf),
    Stdin(Kind),
    /// A URL argument and its place among the arguments.
    Address(String, u64, Kind),
}

/// Opens every input up front; folders are walked later, on the input thread.
pub(super) fn open(given: &[String], rules: &Rules) -> Result<Vec<Origin>> {
    let stdin_kind = rules.format.unwrap_or(Kind::List);
    let mut origins = Vec::with_capacity(given.len().max(1));
    if given.is_empty() {
        origins.push(Origin::Stdin(stdin_kind));
    }
    let mut stdin_seen = false;
    for (i, arg) in given.iter().enumerate() {
        if arg == "-" {
            if stdin_seen {
                bail!("'-' (stdin) is given more than once");
            }
            stdin_seen = true;
            origins.push(Origin::Stdin(stdin_kind));
        } else if looks_like_url(arg) {
            origins.push(Origin::Address(arg.clone(), i as u64 + 1, stdin_kind));
        } else if is_glob(arg) && !Path::new(arg).exists() {
            expand_glob(arg, rules, &mut origins)?;
        } else {
            let path = Path::new(arg);
            if path.is_dir() {
                origins.push(Origin::Folder(path.to_owned()));
            } else if !excluded(rules, path) {
                let kind = rules.format.unwrap_or_else(|| Kind::of_path(path));
                origins.push(Origin::File(
                    Arc::from(arg.as_str()),
                    path.to_owned(),
                    open_file(arg)?,
                    kind,
                ));
            }
        }
    }
    Ok(origins)
}

impl Origin {
    /// Lines of a list that can be read twice; `None` for stdin and documents.
    pub(super) fn count_hint(&self) -> Option<u64> {
        match self {
            Origin::Address(_, _, Kind::List) => Some(1),
            Origin::File(_, _, file, Kind::List) => count_lines(file.try_clone().ok()?).ok(),
            _ => None,
        }
    }

    /// Reads this input into `out`; false when the receiver is gone.
    pub(super) fn read(self, reader: &mut Reader, out: &mut Batcher) -> bool {
        match self {
            Origin::Address(text, pos, Kind::Sitemap) => reader.remote_sitemap(&text, pos, out),
            Origin::Address(text, pos, _) => out.push(parse_line(
                text.as_bytes(),
                Source::line(Arc::from("<args>"), pos),
            )),
            Origin::Stdin(Kind::List) => read_lines(Arc::from("<stdin>"), io::stdin(), out),
            Origin::Stdin(kind) => reader.document("<stdin>".into(), None, io::stdin(), kind, out),
            Origin::File(name, _, file, Kind::List) => read_lines(name, file, out),
            Origin::File(name, path, file, kind) => {
                reader.document(name, Some(path), file, kind, out)
            }
            Origin::Folder(dir) => walk(&dir, reader, out),
        }
    }
}

/// Every Markdown and HTML file under `dir`, in name order, as ripgrep would see them.
fn walk(dir: &Path, reader: &mut Reader, out: &mut Batcher) -> bool {
    let rules = reader.rules().clone();
    let mut walker = ignore::WalkBuilder::new(dir);
    walker
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |e| !excluded(&rules, e.path()));
    let mut documents = 0;
    let mut a_list = None;
    for entry in walker.build() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.note(&format!("urlcheck: {e}"));
                continue;
            }
        };
        let path = entry.path();
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if !Kind::of_path(path).walked() {
            a_list = a_list.or_else(|| Some(path.to_owned()));
            continue;
        }
        documents += 1;
        // A walked name comes from the tree, not the command line: escaped for terminals,
        // and without the `./` of a walk of `.` (so `README.md .` names one file one way).
        let path = path.strip_prefix("./").unwrap_or(path);
        let name: Arc<str> = Arc::from(escape_for_terminal(&path.to_string_lossy()));
        let sent = match File::open(path) {
            Ok(file) => {
                let kind = Kind::of_path(path);
                reader.document(name, Some(path.to_owned()), file, kind, out)
            }
            Err(e) => out.note(&format!("urlcheck: cannot read {name}: {e}")),
        };
        if !sent {
            return false;
        }
    }
    match a_list.filter(|_| documents == 0) {
        Some(list) => out.note(&format!(
            "urlcheck: {} holds no Markdown or HTML file; a URL list in it is read when named, \
             e.g. urlcheck {}",
            dir.display(),
            list.display()
        )),
        None => true,
    }
}

fn excluded(rules: &Rules, path: &Path) -> bool {
    rules.exclude_paths.as_ref().is_some_and(|set| {
        let path = path.strip_prefix("./").unwrap_or(path);
        set.is_match(path)
    })
}

fn is_glob(arg: &str) -> bool {
    arg.contains(['*', '?', '['])
}

/// The files a quoted glob names, in name order, hidden ones only when the pattern spells
/// their dot; none is an error, as a missing file is.
fn expand_glob(pattern: &str, rules: &Rules, origins: &mut Vec<Origin>) -> Result<()> {
    // As a shell expands it: a wildcard does not match a leading dot, so hidden files and
    // folders are left out, as a folder's walk leaves them out.
    let options = glob::MatchOptions {
        require_literal_leading_dot: true,
        ..glob::MatchOptions::new()
    };
    let paths =
        glob::glob_with(pattern, options).with_context(|| format!("invalid glob {pattern:?}"))?;
    let mut any = false;
    for path in paths {
        let path = path.with_context(|| format!("cannot read what {pattern:?} names"))?;
        if !path.is_file() || excluded(rules, &path) {
            continue;
        }
        any = true;
        // Names a glob finds come from the tree: escaped for terminals.
        let name = escape_for_terminal(&path.to_string_lossy());
        let kind = rules.format.unwrap_or_else(|| Kind::of_path(&path));
        let file = File::open(&path).with_context(|| format!("cannot read input file {name}"))?;
        origins.push(Origin::File(Arc::from(name.as_str()), path, file, kind));
    }
    if !any {
        bail!("cannot read input {pattern}: no file matches it");
    }
    Ok(())
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
    std::fs::metadata(path).with_context(|| match name.split_once("://") {
        Some((scheme, _)) => format!(
            "cannot read input {name}: it is not a file, and only http:// and https:// URLs \
             can be checked (not {scheme}://)"
        ),
        None => format!("cannot read input file {name}"),
    })?;
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
