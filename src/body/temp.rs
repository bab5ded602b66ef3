//! Private temporary files that cannot outlive the run.
//!
//! A spool file holds a report or findings (confidential), so it is created
//! with `create_new` (never an existing file or a planted symlink) and mode
//! 0600, and on Unix it is unlinked as soon as it is open: the open handle
//! keeps the data, and nothing is left behind even if the process is
//! killed (OOM, `panic = "abort"`, SIGKILL at the hook's deadline).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A name that no other run, and no earlier call in this run, produces:
/// the process id and 64 random bits ([`crate::util::random`]); `create_new`
/// catches the rest.
pub(crate) fn unique_name(prefix: &str) -> String {
    let pid = std::process::id();
    format!("{prefix}{pid}-{:016x}.tmp", crate::util::random::bits())
}

/// Creates a new file in `dir` with a unique name, readable only by us
/// (on Unix); a name collision is retried with the next name.
pub(crate) fn create_unique(
    dir: &Path,
    prefix: &str,
    private: bool,
) -> io::Result<(File, PathBuf)> {
    let mut last = None;
    for _ in 0..16 {
        let path = dir.join(unique_name(prefix));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        match options.open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no unique temp file name")))
}

/// An anonymous spool file, removed at the latest when dropped.
#[derive(Debug)]
pub(crate) struct TempFile {
    pub file: File,
    /// Set while the file still has a name (not Unix, or unlinking failed).
    path: Option<PathBuf>,
}

impl TempFile {
    pub fn create(dir: &Path) -> io::Result<TempFile> {
        let (file, path) = create_unique(dir, ".dojo-hook-spool-", true)?;
        // On Unix the data lives on through the handle; elsewhere (or if
        // this fails) Drop removes the name.
        let path = if cfg!(unix) && fs::remove_file(&path).is_ok() {
            None
        } else {
            Some(path)
        };
        Ok(TempFile { file, path })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            if let Err(e) = fs::remove_file(path) {
                log::warn!("could not remove temp file {}: {e}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};

    #[test]
    fn names_differ() {
        assert_ne!(unique_name("x"), unique_name("x"));
    }

    #[test]
    fn temp_file_is_private_usable_and_leaves_nothing() {
        let dir = crate::body::tests::test_dir("temp");
        let mut t = TempFile::create(&dir).unwrap();
        t.file.write_all(b"secret").unwrap();
        t.file.rewind().unwrap();
        let mut s = String::new();
        t.file.read_to_string(&mut s).unwrap();
        assert_eq!(s, "secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                t.file.metadata().unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        drop(t);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir(&dir).unwrap();
    }
}
