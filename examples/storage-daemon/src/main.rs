//! Starts qemu-storage-daemon with a QMP monitor on a unix socket in a
//! temporary directory and drives it with typed commands: bindings for
//! the whole daemon, generated at build time from its introspection (see
//! `build.rs`), and the core protocol bindings of `qapi_types::qmp`. It
//! checks both against the daemon's schema, creates an image with a job,
//! follows the job's events, opens the image as a block node, and stops
//! the daemon.
//!
//! `cargo run -p storage-daemon-example`

#[cfg(qsd_absent)]
fn main() {
    eprintln!("qemu-storage-daemon was not installed when this example was built: install it (scripts/install-qemu) and run it again");
    std::process::exit(1);
}

#[cfg(not(qsd_absent))]
include!("drive.rs");
