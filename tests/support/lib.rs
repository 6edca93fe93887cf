//! Helpers shared by the workspace's integration tests.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// QEMU 10.0.2's schemas and docs, beside the checkout (`../shared`).
/// `None`, with a notice printed, when they are absent.
pub fn qemu_dir() -> Option<PathBuf> {
    let dir = workspace().join("../shared/qemu-10.0.2");
    if dir.join("qapi/qapi-schema.json").is_file() {
        Some(dir)
    } else {
        println!(
            "notice: {} is absent; skipping the tests on QEMU's own schemas",
            dir.display()
        );
        None
    }
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
