//! Throughput of the document extractors: walks a folder (default the Python 3.11 docs that
//! python3.11-doc installs), reads every `.html`/`.htm`/`.xhtml` and `.md`/`.markdown` file
//! into memory first, then times `extract::html` / `extract::markdown` over them and prints
//! links per second. Reading is outside the clock: this measures extraction alone.
//!
//! `cargo run --release --example extract_bench -- [DIR] [ROUNDS]`; pin it to one core with
//! `taskset -c 0` to compare with other tools.

use std::path::{Path, PathBuf};
use std::time::Instant;

use urlcheck::extract;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| "/usr/share/doc/python3.11/html".to_string());
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut paths = Vec::new();
    walk(Path::new(&dir), &mut paths);
    paths.sort();
    let files: Vec<(bool, Vec<u8>)> = paths
        .iter()
        .filter_map(|p| {
            let ext = p.extension()?.to_str()?.to_ascii_lowercase();
            let html = matches!(ext.as_str(), "html" | "htm" | "xhtml");
            let md = matches!(ext.as_str(), "md" | "markdown");
            (html || md).then(|| Some((html, std::fs::read(p).ok()?)))?
        })
        .collect();
    let bytes: usize = files.iter().map(|f| f.1.len()).sum();
    let mut best = f64::INFINITY;
    let (mut links, mut anchors) = (0, 0);
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        (links, anchors) = (0, 0);
        for (html, data) in &files {
            let found = if *html {
                extract::html(data)
            } else {
                extract::markdown(&String::from_utf8_lossy(data))
            };
            links += found.links.len();
            anchors += found.anchors.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{} files, {:.1} MB, {links} links, {anchors} anchors; best of {rounds}: {:.3} s, \
         {:.0} links/s, {:.0} MB/s",
        files.len(),
        bytes as f64 / 1e6,
        best,
        links as f64 / best,
        bytes as f64 / 1e6 / best
    );
}
