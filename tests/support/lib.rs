//! Helpers shared by the workspace's integration tests.

use std::path::{Path, PathBuf};

pub mod qemu_build;
mod temp_dir;

pub use temp_dir::TempDir;

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// QEMU 10.0.2's schemas and docs, beside the checkout (`../shared`).
///
/// A test that calls it is marked
/// `#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]`: the
/// build script sets `no_shared` where the directory is absent (or fails
/// the build, with `QAPI_REQUIRE_SHARED=1`), so that the test is reported
/// as ignored rather than passed. Panics where it is absent all the same
/// (it was removed after the build).
pub fn qemu_dir() -> PathBuf {
    let dir = workspace().join("../shared/qemu-10.0.2");
    assert!(
        dir.join("qapi/qapi-schema.json").is_file(),
        "{} is absent (it was there when the tests were built)",
        dir.display()
    );
    dir
}

/// Whether golden files are to be rewritten (`QAPI_BLESS=1`).
pub fn bless() -> bool {
    std::env::var_os("QAPI_BLESS").is_some_and(|v| v != "0")
}

/// Compares `actual` with the golden file at `path`, or rewrites the file
/// when blessing. Returns a description of the mismatch.
pub fn golden(path: &Path, actual: &str) -> Result<(), String> {
    if bless() {
        std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {e} (run with QAPI_BLESS=1 to create it)",
            path.display()
        )
    })?;
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{} differs (QAPI_BLESS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ))
    }
}
