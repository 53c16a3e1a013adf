//! The platforms' own validators, run offline: check-jsonschema (its vendored GitHub workflow
//! and GitLab CI schemas) and kubernetes-validate (Kubernetes's schemas, shipped in the
//! package). A missing one fails the test with the command that installs it (`.ci/run` does).

use std::path::Path;
use std::process::Command;

/// A validator of one platform's files, and the command that installs it (pinned as in .ci/run).
pub struct Validator {
    program: &'static str,
    args: &'static [&'static str],
    install: &'static str,
}

pub const GITHUB_SCHEMA: Validator = Validator {
    program: "check-jsonschema",
    args: &["--builtin-schema", "vendor.github-workflows"],
    install: "python3 -m pip install check-jsonschema==0.39.0",
};
pub const GITLAB_SCHEMA: Validator = Validator {
    program: "check-jsonschema",
    args: &["--builtin-schema", "vendor.gitlab-ci"],
    install: "python3 -m pip install check-jsonschema==0.39.0",
};
/// `--strict`: a misspelt field is an error, not a field Kubernetes silently drops.
pub const K8S_SCHEMA: Validator = Validator {
    program: "kubernetes-validate",
    args: &["--strict"],
    install: "python3 -m pip install kubernetes-validate==1.37.0",
};

impl Validator {
    /// Ok when `file` is valid; Err with what the validator said when it is not. A validator
    /// that cannot be run fails the test, naming the command that installs it.
    pub fn check(&self, file: &Path) -> Result<(), String> {
        let out = Command::new(self.program)
            .args(self.args)
            .arg(file)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): install it with `{}` (as .ci/run does)",
                    self.program, self.install
                )
            });
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(())
        } else {
            Err(said)
        }
    }

    /// `file` passes, and its copy with `from` replaced by `to` does not.
    pub fn accepts_it_and_rejects(&self, file: &Path, from: &str, to: &str) {
        if let Err(said) = self.check(file) {
            panic!("{} rejects {}:\n{said}", self.program, file.display());
        }
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains(from), "{}: {from:?}", file.display());
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join(file.file_name().unwrap());
        std::fs::write(&broken, text.replacen(from, to, 1)).unwrap();
        assert!(
            self.check(&broken).is_err(),
            "{} accepts {} with {from:?} made {to:?}",
            self.program,
            file.display()
        );
    }
}
