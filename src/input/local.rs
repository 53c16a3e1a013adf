//! Local links as a set join, not requests: every document read defines its anchors (kept as
//! 8-byte hashes), and a link to a local file is good when the file (or folder) exists and,
//! with a `#fragment`, when the fragment is among the target's anchors. A link into a
//! document not read yet waits until the inputs are exhausted; a target that is never an
//! input is read then, once, for its anchors alone.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::read::read_document;
use super::{Batcher, Item, Kind, Problem};
use crate::extract;
use crate::model::{Anchors, Source};
use crate::sanitize::escape_for_terminal;

/// Index pages that stand for a folder, in the order they are looked for.
const INDEX: [&str; 4] = ["index.html", "index.htm", "README.md", "index.md"];

/// Maps by path, hashed as the bytes of the (normalized, absolute) path: `Path`'s own hash
/// walks its components, and SipHash is more than a local map needs.
type Paths<V> = HashMap<OsString, V, rustc_hash::FxBuildHasher>;

#[derive(Clone)]
enum Stat {
    File,
    /// A folder, and its index page if it has one.
    Folder(Option<PathBuf>),
    Missing,
}

pub(super) struct Local {
    /// `--dump`: report links, look nothing up.
    dump: bool,
    /// Paths are kept absolute (a document named `./a.md` and a link from `/abs/b.md` to it
    /// are one file), and shown relative to this folder when they are inside it.
    cwd: PathBuf,
    stats: Paths<Stat>,
    /// Anchors of each document read.
    anchors: Paths<(Anchors, Kind)>,
    /// Links whose target's anchors are not known yet: target -> (fragment, where written).
    waiting: Paths<Vec<(String, Source)>>,
}

impl Local {
    pub(super) fn new(dump: bool) -> Local {
        Local {
            dump,
            cwd: std::env::current_dir().unwrap_or_default(),
            stats: Paths::default(),
            anchors: Paths::default(),
            waiting: Paths::default(),
        }
    }

    /// The anchors a document defines, as it is read.
    pub(super) fn define(&mut self, path: &Path, anchors: &[String], kind: Kind) {
        if self.dump || !matches!(kind, Kind::Html | Kind::Markdown) {
            return;
        }
        let set = Anchors::new(anchors.iter().map(String::as_str));
        let key = self.key(path);
        self.anchors.insert(key.into_os_string(), (set, kind));
    }

    /// What a path is known by: absolute and normalized.
    pub(super) fn key(&self, path: &Path) -> PathBuf {
        normalize(&self.cwd.join(path))
    }

    /// A link to `target` (and `fragment`): its item, or `None` while it waits for the
    /// target's anchors.
    pub(super) fn link(
        &mut self,
        target: PathBuf,
        fragment: Option<&str>,
        source: Source,
    ) -> Option<Item> {
        let target = self.key(&target);
        let fragment = fragment.filter(|f| !f.is_empty());
        if self.dump {
            return Some(self.item(&target, fragment, source, None));
        }
        // A document read already exists, whatever the file system says (`<stdin>`).
        let stat = match self.anchors.contains_key(target.as_os_str()) {
            true => Stat::File,
            false => self.stat(&target),
        };
        let page = match stat {
            Stat::Missing => {
                let problem =
                    Problem::File(format!("no such file or folder: {}", self.shown(&target)));
                return Some(self.item(&target, fragment, source, Some(problem)));
            }
            _ if fragment.is_none() => return Some(self.item(&target, None, source, None)),
            Stat::Folder(None) => {
                let problem = Problem::Fragment(format!(
                    "folder {} has no index page to hold the fragment",
                    self.shown(&target)
                ));
                return Some(self.item(&target, fragment, source, Some(problem)));
            }
            Stat::Folder(Some(index)) => index,
            Stat::File => target.clone(),
        };
        let fragment = fragment.expect("checked above");
        let read = self.anchors.contains_key(page.as_os_str());
        if !read && !matches!(Kind::of_path(&page), Kind::Html | Kind::Markdown) {
            // A fragment of a PDF or a text file is not an anchor urlcheck can see.
            return Some(self.item(&target, Some(fragment), source, None));
        }
        if !read {
            self.waiting
                .entry(target.into_os_string())
                .or_default()
                .push((fragment.to_owned(), source));
            return None;
        }
        let problem = self.missing_anchor(&page, fragment);
        Some(self.item(&target, Some(fragment), source, problem))
    }

    /// Every link that waited: targets never read as inputs are read now, for their anchors.
    pub(super) fn finish(&mut self, out: &mut Batcher) -> bool {
        let mut waiting: Vec<_> = std::mem::take(&mut self.waiting).into_iter().collect();
        waiting.sort_by(|a, b| a.0.cmp(&b.0));
        for (target, links) in waiting {
            let target = PathBuf::from(target);
            let page = match self.stat(&target) {
                Stat::Folder(Some(index)) => index,
                _ => target.clone(),
            };
            if !self.anchors.contains_key(page.as_os_str()) {
                let anchors = read_anchors(&page);
                self.define(&page, &anchors, Kind::of_path(&page));
            }
            for (fragment, source) in links {
                let problem = self.missing_anchor(&page, &fragment);
                if !out.push(self.item(&target, Some(&fragment), source, problem)) {
                    return false;
                }
            }
        }
        true
    }

    fn missing_anchor(&self, page: &Path, fragment: &str) -> Option<Problem> {
        let (anchors, kind) = self.anchors.get(page.as_os_str())?;
        if anchors.holds(fragment, *kind == Kind::Html) {
            return None;
        }
        Some(Problem::Fragment(format!(
            "no anchor #{} in {}",
            escape_for_terminal(fragment),
            self.shown(page)
        )))
    }

    fn stat(&mut self, path: &Path) -> Stat {
        if let Some(stat) = self.stats.get(path.as_os_str()) {
            return stat.clone();
        }
        let stat = match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Stat::Folder(
                INDEX
                    .iter()
                    .map(|name| path.join(name))
                    .find(|index| index.is_file()),
            ),
            Ok(_) => Stat::File,
            Err(_) => Stat::Missing,
        };
        self.stats.insert(path.as_os_str().to_owned(), stat.clone());
        stat
    }

    fn item(
        &self,
        target: &Path,
        fragment: Option<&str>,
        source: Source,
        problem: Option<Problem>,
    ) -> Item {
        let mut url = self.shown(target);
        if let Some(fragment) = fragment {
            url.push('#');
            url.push_str(&escape_for_terminal(fragment));
        }
        Item::Local {
            url,
            source,
            problem,
        }
    }

    /// A path as shown: relative to the working folder when inside it, escaped for terminals.
    fn shown(&self, path: &Path) -> String {
        let text = match path.strip_prefix(&self.cwd) {
            Ok(inside) if inside.as_os_str().is_empty() => ".".into(),
            Ok(inside) => inside.to_string_lossy(),
            Err(_) => path.to_string_lossy(),
        };
        escape_for_terminal(&text)
    }
}

/// The anchors of a document that is a link's target but not an input, read as an input is
/// (no more than a document may be, without its byte-order mark) so that they are the same
/// either way. One that cannot be read has none: every fragment into it is then reported
/// missing, naming the file.
fn read_anchors(page: &Path) -> Vec<String> {
    // Only a regular file: a FIFO or a link to /dev/zero named page.html is not read.
    if !std::fs::metadata(page).is_ok_and(|m| m.is_file()) {
        return Vec::new();
    }
    let read = std::fs::File::open(page).map(read_document);
    let Ok(Ok(bytes)) = read else {
        return Vec::new();
    };
    match Kind::of_path(page) {
        Kind::Html => extract::html(&bytes).anchors,
        Kind::Markdown => extract::markdown(&String::from_utf8_lossy(&bytes)).anchors,
        _ => Vec::new(),
    }
}

/// `a/./b/../c` is `a/c`, without asking the file system (a link names a path, not an
/// inode); a `..` above the start is kept.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_lexically() {
        let n = |p: &str| normalize(Path::new(p)).to_string_lossy().into_owned();
        assert_eq!(n("docs/./a/../b.md"), "docs/b.md");
        assert_eq!(n("../x/y/.."), "../x");
        assert_eq!(n("/a/../../b"), "/b");
        assert_eq!(n("./a.md"), "a.md");
        assert_eq!(n("a/.."), ".");
    }
}
