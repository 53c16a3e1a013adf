//! Report files that are never half-written: each is written to a temporary file in the same
//! folder and renamed over the target when complete, so a reader sees the previous complete
//! report or the new complete one, never part of one.
//!
//! The temporary file is created before the run starts, which proves the folder exists and is
//! writable before any request is sent; a run that fails early deletes it and leaves an
//! existing report untouched.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use tempfile::NamedTempFile;

use crate::config::Format;

/// Temporary files not yet put in place, for the one exit that skips destructors (a second
/// Ctrl-C). One dropped uncommitted has deleted itself; removing it again is harmless.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Deletes every report temporary file not yet put in place.
pub fn remove_unfinished() {
    if let Ok(list) = UNFINISHED.lock() {
        for path in list.iter() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn forget(path: &Path) {
    if let Ok(mut list) = UNFINISHED.lock() {
        list.retain(|p| p != path);
    }
}

pub struct ReportFile {
    pub format: Format,
    path: PathBuf,
    temp: NamedTempFile,
}

impl ReportFile {
    pub fn prepare(format: Format, path: &Path) -> Result<ReportFile> {
        if path.is_dir() {
            bail!("cannot write report {}: it is a directory", path.display());
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            bail!(
                "cannot write report {}: folder {} does not exist (create it first)",
                path.display(),
                dir.display()
            );
        }
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
        if let Ok(mut list) = UNFINISHED.lock() {
            list.push(temp.path().to_path_buf());
        }
        Ok(ReportFile {
            format,
            path: path.to_path_buf(),
            temp,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the reporter writes: the temporary file.
    pub fn writer(&self) -> io::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            64 * 1024,
            self.temp.as_file().try_clone()?,
        ))
    }

    /// Makes the report durable, then puts it in place with one rename.
    pub fn commit(self) -> io::Result<()> {
        forget(self.temp.path());
        let file = self.temp.as_file();
        file.set_permissions(permissions_for(&self.path))?;
        file.sync_all()?;
        self.temp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
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
    fn replaces_in_one_piece_and_refuses_missing_folders() {
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

        let err = ReportFile::prepare(Format::Json, &dir.path().join("nope/r.json"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
