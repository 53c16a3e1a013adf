//! The documentation a new user follows: every relative link in README.md and docs/ leads to
//! a file that exists and every fragment to a heading (urlcheck checks its own docs), and every `cargo install` line they are told to type builds with the
//! locked dependency versions (without `--locked`, cargo ignores Cargo.lock).

use std::path::PathBuf;

use regex::Regex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, every page under docs/, and the recipes under examples/ (the Kubernetes
/// manifests of examples/k8s/ too).
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    for dir in ["docs", "examples", "examples/k8s"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "md" | "yml" | "yaml")
                || path.file_name().is_some_and(|n| n == "crontab")
            {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// urlcheck checks its own documentation, offline: every link of README.md and docs/ to a
/// file of the repository leads to one, and every `#fragment` to a heading that exists. The
/// web addresses are skipped (no request leaves the machine).
#[test]
fn every_relative_link_and_fragment_leads_somewhere() {
    let out = assert_cmd::Command::cargo_bin("urlcheck")
        .unwrap()
        .current_dir(root())
        .args([
            "--exclude",
            "^https?://",
            "--format",
            "json",
            "--no-progress",
        ])
        .args(["README.md", "docs/"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = report["results"].as_array().unwrap();
    let local = results
        .iter()
        .filter(|r| r["outcome"] == "up" && r["attempts"] == 0)
        .count();
    assert!(local > 40, "local links were found ({local})");
    let broken: Vec<String> = results
        .iter()
        .filter(|r| r["outcome"] != "up" && r["outcome"] != "skipped")
        .map(|r| format!("{} {}: {}", r["sources"], r["url"], r["error"]["message"]))
        .collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// Every urlcheck.toml of README.md and docs/config.md is a file urlcheck takes as it is (with
/// the CA file and the variable it names), and `--print-config` shows none of its secrets.
#[test]
fn the_config_examples_are_files_urlcheck_takes() {
    let block = Regex::new(r"(?s)```toml\n(.*?)```").unwrap();
    let ca = rcgen::generate_simple_self_signed(vec!["internal-ca".to_owned()]).unwrap();
    let mut seen = 0;
    for page in ["README.md", "docs/config.md"] {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        for example in block.captures_iter(&text) {
            seen += 1;
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("urlcheck.toml"), &example[1]).unwrap();
            std::fs::create_dir(dir.path().join("certs")).unwrap();
            std::fs::write(dir.path().join("certs/internal-ca.pem"), ca.cert.pem()).unwrap();
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_urlcheck"))
                .arg("--print-config")
                .current_dir(dir.path())
                .env("API_TOKEN", "t0ken-of-the-example")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{page}:\n{}\n{stderr}", &example[1]);
            assert!(stdout.contains("# urlcheck.toml:"), "{page}: {stdout}");
            assert!(!stdout.contains("t0ken"), "{page}: {stdout}");
        }
    }
    assert!(seen >= 2, "the examples were not found");
}
