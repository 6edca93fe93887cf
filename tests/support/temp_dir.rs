//! Temporary directories that tests own (`qapi-tests` and
//! `qapi-bindings-tests` build this file; qapi-types' tests, of a crate
//! published on its own, have a copy in `qapi-types/tests/support`).

use std::path::{Path, PathBuf};

/// A directory of its own under the system's temporary directory,
/// `qapi-{tag}-{pid}`: emptied when made, and removed with everything in
/// it when dropped, a failing test's panic included.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Makes the directory for `tag`, unique to the test process.
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("qapi-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path in the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
