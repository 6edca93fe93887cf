//! What the machine building the tests has, for the build scripts of the
//! root package and of `tests/bindings` (included by `#[path]`): QEMU
//! 10.0.2's schemas beside the checkout (`../shared/qemu-10.0.2`) and the
//! QEMU binaries the live tests start.
//!
//! Where either is absent, the build script sets the cfg `no_shared` or
//! `no_qemu`, and the tests that need it are reported as ignored with the
//! reason (`#[cfg_attr(no_qemu, ignore = "...")]`), never as passed. With
//! `QAPI_REQUIRE_SHARED=1` or `QAPI_REQUIRE_QEMU=1` in the environment (CI
//! sets both), an absence fails the build instead.

use std::path::{Path, PathBuf};

/// The QEMU binaries the tests start (`scripts/install-qemu` installs
/// them).
const QEMU_BINARIES: [&str; 3] = ["qemu-system-x86_64", "qemu-storage-daemon", "qemu-ga"];

/// Declares the cfgs `no_shared` and `no_qemu`, sets those that hold, and
/// asks cargo to run the build script again when the answer may change.
/// Exits with an error where an absence is required not to be. Returns
/// the directory of QEMU's schemas, where it is present.
pub fn detect(workspace: &Path) -> Option<PathBuf> {
    println!("cargo::rustc-check-cfg=cfg(no_shared)");
    println!("cargo::rustc-check-cfg=cfg(no_qemu)");
    println!("cargo::rerun-if-env-changed=PATH");
    let shared = shared(workspace);
    if shared.is_none() {
        absent(
            "QAPI_REQUIRE_SHARED",
            "no_shared",
            &format!(
                "{} is absent",
                workspace.join("../shared/qemu-10.0.2").display()
            ),
            "the tests on QEMU's own schemas are ignored",
        );
    }
    let missing: Vec<&str> = QEMU_BINARIES
        .into_iter()
        .filter(|binary| !installed(binary))
        .collect();
    if !missing.is_empty() {
        absent(
            "QAPI_REQUIRE_QEMU",
            "no_qemu",
            &format!(
                "{} not installed (scripts/install-qemu installs QEMU 10.0.2)",
                missing.join(", ")
            ),
            "the live tests are ignored",
        );
    }
    shared
}

/// QEMU 10.0.2's schemas and docs beside the checkout, if there.
fn shared(workspace: &Path) -> Option<PathBuf> {
    let dir = workspace.join("../shared/qemu-10.0.2");
    // A path that does not exist counts as changed: the script runs again
    // on every build until it is there.
    let schema = dir.join("qapi/qapi-schema.json");
    println!("cargo::rerun-if-changed={}", schema.display());
    schema.is_file().then_some(dir)
}

/// Whether `binary` runs here; asks cargo to run the build script again
/// when it may have been installed or removed.
fn installed(binary: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(binary))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_default();
    match found {
        Some(path) => {
            println!("cargo::rerun-if-changed={}", path.display());
            std::process::Command::new(&path)
                .arg("--version")
                .output()
                .is_ok_and(|output| output.status.success())
        }
        None => {
            if let Some(path) = std::env::var_os("PATH") {
                for dir in std::env::split_paths(&path) {
                    println!("cargo::rerun-if-changed={}", dir.join(binary).display());
                }
            }
            false
        }
    }
}

/// Sets `cfg` with a warning saying `what` is absent and the
/// `consequence`, or fails the build where the variable `require` is set
/// (to anything but `0`).
fn absent(require: &str, cfg: &str, what: &str, consequence: &str) {
    println!("cargo::rerun-if-env-changed={require}");
    if std::env::var_os(require).is_some_and(|value| value != "0") {
        eprintln!("error: {what}; {require} is set, so the tests may not be left out");
        std::process::exit(1);
    }
    println!("cargo::warning=notice: {what}: {consequence}");
    println!("cargo::rustc-cfg={cfg}");
}
