//! The house rules of `docs/ARCHITECTURE.md`, checked against the code: every module of `src/`
//! is in the code map, every `crate::` import points to a lower layer of that map, `lib.rs`
//! stays a short set-up, and no function grows past 80 lines. The map is read from the page
//! itself, so the page and the code cannot drift apart unnoticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;

const MAX_FN_LINES: usize = 80;
const MAX_LIB_LINES: usize = 100;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `module -> layer` from the code map table of docs/ARCHITECTURE.md.
fn layers() -> BTreeMap<String, u32> {
    let page = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let row = Regex::new(r"(?m)^\| (\d+) \| `(\w+)` \|").unwrap();
    let map: BTreeMap<String, u32> = row
        .captures_iter(&page)
        .map(|c| (c[2].to_string(), c[1].parse().unwrap()))
        .collect();
    assert!(map.len() > 10, "the code map has rows: {map:?}");
    map
}

/// Every `.rs` file under `src/`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn source_files() -> Vec<(String, PathBuf)> {
    let src = root().join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel.components().next().unwrap().as_os_str();
            let module = Path::new(first)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (module, path)
        })
        .collect()
}

#[test]
fn every_module_is_in_the_code_map_and_every_row_is_a_module() {
    let layers = layers();
    let modules: std::collections::BTreeSet<String> =
        source_files().into_iter().map(|(m, _)| m).collect();
    for m in &modules {
        assert!(
            layers.contains_key(m),
            "src module `{m}` is missing from the code map in docs/ARCHITECTURE.md"
        );
    }
    for m in layers.keys() {
        assert!(
            modules.contains(m),
            "docs/ARCHITECTURE.md maps `{m}`, which is not a module of src/"
        );
    }
}

#[test]
fn every_import_points_down_the_code_map() {
    let layers = layers();
    let import = Regex::new(r"\bcrate::(\w+)").unwrap();
    let mut wrong = Vec::new();
    for (module, path) in source_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let own = layers[&module];
        for c in import.captures_iter(&text) {
            let target = &c[1];
            if target == module {
                continue;
            }
            match layers.get(target) {
                Some(&layer) if layer < own => {}
                Some(&layer) => wrong.push(format!(
                    "{} (`{module}`, layer {own}) uses `{target}` (layer {layer})",
                    path.display()
                )),
                None => wrong.push(format!(
                    "{} uses `crate::{target}`, which the code map does not know",
                    path.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn lib_is_short_and_no_function_is_long() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let n = lib.lines().count();
    assert!(n <= MAX_LIB_LINES, "src/lib.rs has {n} lines");
    let start =
        Regex::new(r"^(\s*)(pub(\([a-z]+\))? )?(async )?(const )?(unsafe )?fn (\w+)").unwrap();
    let mut long = Vec::new();
    for (_, path) in source_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(c) = start.captures(line) else {
                continue;
            };
            if line.trim_end().ends_with(';') {
                continue;
            }
            let close = format!("{}}}", &c[1]);
            let end = lines[i..]
                .iter()
                .position(|l| l.trim_end() == close)
                .unwrap_or_else(|| panic!("no end of fn {} in {}", &c[7], path.display()));
            if end + 1 > MAX_FN_LINES {
                long.push(format!(
                    "{}: fn {} has {} lines",
                    path.display(),
                    &c[7],
                    end + 1
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions longer than {MAX_FN_LINES} lines:\n{}",
        long.join("\n")
    );
}
