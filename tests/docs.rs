//! The documentation a new user follows: every relative link in README.md and docs/ leads to
//! a file that exists, and every `cargo install` line they are told to type builds with the
//! locked dependency versions (without `--locked`, cargo ignores Cargo.lock).

use std::path::{Path, PathBuf};

use regex::Regex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, every page under docs/, and the recipes under examples/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    for dir in ["docs", "examples"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "md" | "yml") || path.file_name().is_some_and(|n| n == "crontab") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

#[test]
fn every_relative_link_leads_to_a_file() {
    let link = Regex::new(r"\]\(([^)#\s]+)(#[^)]*)?\)").unwrap();
    let mut broken = Vec::new();
    let mut seen = 0;
    for page in pages()
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        let text = std::fs::read_to_string(page).unwrap();
        let dir = page.parent().unwrap_or(Path::new("."));
        for c in link.captures_iter(&text) {
            let target = &c[1];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            seen += 1;
            if !dir.join(target).exists() {
                broken.push(format!("{} -> {target}", page.display()));
            }
        }
    }
    assert!(seen > 20, "links were found ({seen})");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_links_every_page_under_docs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            readme.contains(&format!("](docs/{name})")),
            "README.md does not link docs/{name}"
        );
    }
}

#[test]
fn every_cargo_install_line_is_locked() {
    let install = Regex::new(r"cargo install( [^`\n|#]*)").unwrap();
    let mut unlocked = Vec::new();
    let mut seen = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (n, line) in text.lines().enumerate() {
            for c in install.captures_iter(line) {
                seen += 1;
                if !c[1].contains("--locked") {
                    unlocked.push(format!("{}:{}: {line}", page.display(), n + 1));
                }
            }
        }
    }
    assert!(seen >= 4, "install lines were found ({seen})");
    assert!(
        unlocked.is_empty(),
        "cargo install without --locked ignores Cargo.lock:\n{}",
        unlocked.join("\n")
    );
}
