//! Report files that are never half-written: each is written to a temporary file in the same
//! folder and renamed over the target when complete, so a reader sees the previous complete
//! report or the new complete one, never part of one.
//!
//! The temporary file is created before the run starts (and the report's folder with it, when
//! missing), which proves the folder is writable before any request is sent; a run that fails
//! early deletes it and leaves an existing report untouched.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tempfile::NamedTempFile;

use super::Format;

/// A report being written: its format, where it goes, and the temporary file it is written
/// to until [`ReportFile::commit`].
pub(crate) struct ReportFile {
    pub(crate) format: Format,
    path: PathBuf,
    temp: NamedTempFile,
}

impl ReportFile {
    pub(crate) fn prepare(format: Format, path: &Path) -> Result<ReportFile> {
        if path.is_dir() {
            bail!("cannot write report {}: it is a directory", path.display());
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // A CI step's `--report junit=reports/links.xml` on a fresh checkout: make the folder,
        // as `mkdir -p` would; what cannot be made is still exit 2 before any request.
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot write report {}: cannot create folder {}",
                path.display(),
                dir.display()
            )
        })?;
        let name = path
            .file_name()
            .map_or("report".into(), |n| n.to_string_lossy());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| {
                format!(
                    "cannot write report {}: folder {} is not writable",
                    path.display(),
                    dir.display()
                )
            })?;
        Ok(ReportFile {
            format,
            path: path.to_path_buf(),
            temp,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file, for the one exit that skips destructors (a second Ctrl-C): the
    /// caller deletes it then. Once committed it no longer exists, and deleting it is a no-op.
    pub(crate) fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// Where the reporter writes: the temporary file.
    pub(crate) fn writer(&self) -> io::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            64 * 1024,
            self.temp.as_file().try_clone()?,
        ))
    }

    /// Makes the report durable, then puts it in place with one rename.
    pub(crate) fn commit(self) -> io::Result<()> {
        let file = self.temp.as_file();
        file.set_permissions(permissions_for(&self.path))?;
        file.sync_all()?;
        self.temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Creates every report's temporary file now, so an unwritable folder is exit 2 before any
/// request is sent.
pub(crate) fn prepare_all(reports: &[(Format, PathBuf)]) -> Result<Vec<ReportFile>> {
    let mut files: Vec<ReportFile> = Vec::with_capacity(reports.len());
    for (format, path) in reports {
        if files.iter().any(|f| f.path() == path.as_path()) {
            bail!("--report names {} twice", path.display());
        }
        files.push(ReportFile::prepare(*format, path)?);
    }
    Ok(files)
}

/// What a second signal runs before it exits: the temporary files of `temps` deleted.
pub(crate) fn remover(
    temps: std::sync::Arc<std::sync::Mutex<Vec<PathBuf>>>,
) -> impl FnOnce() + Send {
    move || {
        for temp in temps.lock().map(|t| t.clone()).unwrap_or_default() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Puts every report file in place; the first failure is the error.
pub(crate) fn commit_all(files: Vec<ReportFile>) -> Result<()> {
    for file in files {
        let path = file.path().display().to_string();
        file.commit()
            .with_context(|| format!("cannot write report {path}"))?;
    }
    Ok(())
}

/// Those of the report being replaced, else rw-r--r-- (temporary files start private).
fn permissions_for(path: &Path) -> std::fs::Permissions {
    if let Ok(meta) = std::fs::metadata(path) {
        return meta.permissions();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(0o644)
    }
    #[cfg(not(unix))]
    {
        let mut p = std::fs::metadata(".").expect("cwd").permissions();
        p.set_readonly(false);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn replaces_in_one_piece_and_makes_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        let report = ReportFile::prepare(Format::Json, &path).unwrap();
        let mut w = report.writer().unwrap();
        w.write_all(b"new").unwrap();
        w.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        report.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );

        let dropped = ReportFile::prepare(Format::Json, &path).unwrap();
        drop(dropped);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let made =
            ReportFile::prepare(Format::Json, &dir.path().join("new/deeper/r.json")).unwrap();
        made.commit().unwrap();
        assert!(dir.path().join("new/deeper/r.json").is_file());

        let err = ReportFile::prepare(Format::Json, &path.join("r.json"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("cannot create folder"), "{err}");
    }
}
