//! What the machine building the tests has, for the build scripts of the
//! root package, `tests/bindings` and qapi-gen (included by `#[path]`): QEMU
//! 10.0.2's schemas beside the checkout (`../shared/qemu-10.0.2`) and the
//! QEMU binaries the live tests start, and (for the packages of tests)
//! QEMU's Python client `qemu.qmp` in the virtual environment
//! `scripts/install-qemu` makes.
//!
//! Where one is absent, the build script sets the cfg `no_shared`,
//! `no_qemu` or `no_qemu_qmp`, and the tests that need it are reported as
//! ignored with the reason (`#[cfg_attr(no_qemu, ignore = "...")]`), never
//! as passed. With `QAPI_REQUIRE_SHARED=1` or `QAPI_REQUIRE_QEMU=1` in the
//! environment (CI sets both; the second covers `qemu.qmp` too), an
//! absence fails the build instead.

use std::path::{Path, PathBuf};

/// The QEMU binaries the tests start (`scripts/install-qemu` installs
/// them).
const QEMU_BINARIES: [&str; 3] = ["qemu-system-x86_64", "qemu-storage-daemon", "qemu-ga"];

/// The package whose build script asks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// A package of tests, which nothing depends on: while QEMU or its
    /// schemas are absent, its build script runs again on every build
    /// (so that installing them is seen at once, at the cost of rebuilding
    /// the package), and says what is absent.
    Tests,
    /// qapi-gen, which everything depends on: its build script runs again
    /// only when it changes or PATH or the `QAPI_REQUIRE_*` variables do,
    /// and is silent, as every build of the project builds it.
    Library,
}

/// Declares the cfgs `no_shared` and `no_qemu`, sets those that hold, and
/// asks cargo to run the build script again when the answer may change
/// (see [`Package`]). Exits with an error where an absence is required
/// not to be. Returns the directory of QEMU's schemas, where it is
/// present.
pub fn detect(workspace: &Path, package: Package) -> Option<PathBuf> {
    println!("cargo::rustc-check-cfg=cfg(no_shared)");
    println!("cargo::rustc-check-cfg=cfg(no_qemu)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=QAPI_REQUIRE_SHARED");
    println!("cargo::rerun-if-env-changed=QAPI_REQUIRE_QEMU");
    let shared = shared(workspace, package);
    if shared.is_none() {
        absent(
            package,
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
        .filter(|binary| !installed(binary, package))
        .collect();
    if !missing.is_empty() {
        absent(
            package,
            "QAPI_REQUIRE_QEMU",
            "no_qemu",
            &format!(
                "{} not installed (scripts/install-qemu installs QEMU 10.0.2)",
                missing.join(", ")
            ),
            "the live tests are ignored",
        );
    }
    if package == Package::Tests {
        qemu_qmp();
    }
    shared
}

/// Where `scripts/install-qemu` puts the virtual environment holding
/// `qemu.qmp`: `$QAPI_QEMU_QMP_VENV`, else
/// `${XDG_CACHE_HOME:-$HOME/.cache}/qapi-rs/qemu-qmp`.
fn qemu_qmp_venv() -> Option<PathBuf> {
    if let Some(venv) = std::env::var_os("QAPI_QEMU_QMP_VENV") {
        return Some(PathBuf::from(venv));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(cache.join("qapi-rs/qemu-qmp"))
}

/// Sets the environment variable `QAPI_QEMU_QMP_VENV` of the package's
/// code to the virtual environment holding `qemu.qmp` and its
/// `qmp-shell`, or the cfg `no_qemu_qmp` where there is none.
fn qemu_qmp() {
    println!("cargo::rustc-check-cfg=cfg(no_qemu_qmp)");
    println!("cargo::rerun-if-env-changed=QAPI_QEMU_QMP_VENV");
    println!("cargo::rerun-if-env-changed=XDG_CACHE_HOME");
    let venv = qemu_qmp_venv();
    let shell = venv.as_ref().map(|venv| venv.join("bin/qmp-shell"));
    if let Some(shell) = &shell {
        // Until it is there, a path that does not exist counts as changed.
        println!("cargo::rerun-if-changed={}", shell.display());
    }
    match (venv, shell) {
        (Some(venv), Some(shell)) if shell.is_file() => {
            println!("cargo::rustc-env=QAPI_QEMU_QMP_VENV={}", venv.display());
        }
        _ => absent(
            Package::Tests,
            "QAPI_REQUIRE_QEMU",
            "no_qemu_qmp",
            "QEMU's Python client (qemu.qmp) is not installed (scripts/install-qemu installs it)",
            "the tests driving the server with it are ignored",
        ),
    }
}

/// QEMU 10.0.2's schemas and docs beside the checkout, if there.
fn shared(workspace: &Path, package: Package) -> Option<PathBuf> {
    let dir = workspace.join("../shared/qemu-10.0.2");
    let schema = dir.join("qapi/qapi-schema.json");
    // A path that does not exist counts as changed: the script runs again
    // on every build until it is there.
    if schema.is_file() || package == Package::Tests {
        println!("cargo::rerun-if-changed={}", schema.display());
    }
    schema.is_file().then_some(dir)
}

/// Whether `binary` runs here; asks cargo to run the build script again
/// when it may have been installed or removed.
fn installed(binary: &str, package: Package) -> bool {
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
        None if package == Package::Library => false,
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

/// Sets `cfg` (with a warning saying `what` is absent and the
/// `consequence`, for a package of tests), or fails the build where the
/// variable `require` is set (to anything but `0`).
fn absent(package: Package, require: &str, cfg: &str, what: &str, consequence: &str) {
    if std::env::var_os(require).is_some_and(|value| value != "0") {
        eprintln!("error: {what}; {require} is set, so the tests may not be left out");
        std::process::exit(1);
    }
    if package == Package::Tests {
        println!("cargo::warning=notice: {what}: {consequence}");
    }
    println!("cargo::rustc-cfg={cfg}");
}
