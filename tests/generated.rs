//! Completions and the man page (issue 13), generated from the clap definition: the definition
//! itself passes clap's own checks, the bash script parses in bash, every shell gets a script
//! that knows the flags, and the man page renders in `man` with no warning from groff.

mod common;

use std::process::Command;

use clap::CommandFactory;
use common::{run, urlcheck};

#[test]
fn the_clap_definition_passes_clap_s_own_checks() {
    urlcheck::Cli::command().debug_assert();
}

/// Runs `tool` on `file`, failing loudly when the tool is not installed.
fn tool(tool: &str, args: &[&str], file: &std::path::Path) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .arg(file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap_or_else(|e| {
            panic!("{tool} is needed to check the generated file ({e}); .ci/run installs it")
        })
}

#[test]
fn every_shell_gets_a_script_and_bash_s_parses() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(urlcheck().args(["completions", shell]));
        out.assert_code(0);
        let script = out.stdout();
        // The flags and the subcommands are in it, whatever the shell's syntax.
        for word in ["cert-expiry", "history", "completions"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
        if shell == "bash" {
            let file = dir.path().join("urlcheck.bash");
            std::fs::write(&file, &script).unwrap();
            let parsed = tool("bash", &["-n"], &file);
            assert!(parsed.status.success(), "bash -n: {parsed:?}");
        }
    }
    let wrong = run(urlcheck().args(["completions", "tcsh"]));
    wrong.assert_code(2);
}

#[test]
fn the_man_page_renders_without_a_warning() {
    let out = run(urlcheck().arg("man"));
    out.assert_code(0);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("urlcheck.1");
    std::fs::write(&page, out.stdout()).unwrap();
    let lint = tool("groff", &["-man", "-ww", "-z"], &page);
    assert!(lint.status.success(), "{lint:?}");
    assert_eq!(String::from_utf8_lossy(&lint.stderr), "", "groff warns");
    let shown = tool("man", &["-l"], &page);
    assert!(shown.status.success(), "{shown:?}");
    let text = String::from_utf8_lossy(&shown.stdout);
    for part in ["NAME", "urlcheck", "--cert-expiry", "Exit codes"] {
        assert!(
            text.contains(part),
            "no {part} in the rendered page:\n{text}"
        );
    }
}
