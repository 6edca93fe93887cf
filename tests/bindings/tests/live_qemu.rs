//! The async client against real QEMU 10.0.2 processes started here on
//! unix sockets in temporary directories (and killed at the end):
//! qemu-storage-daemon and qemu-system-x86_64 -M none. Skipped, with a
//! notice, where the binaries are not installed, and reported as ignored
//! where QEMU's schemas were absent at build time.

//!
//! They use the bindings of QEMU 10.0.2's schemas, generated only where
//! `../shared` is beside the checkout.

#[cfg(qemu_schemas)]
#[path = "live_qemu/with_schemas.rs"]
mod with_schemas;

#[cfg(not(qemu_schemas))]
#[test]
#[ignore = "../shared/qemu-10.0.2 was absent at build time: the live tests on its bindings are left out"]
fn skipped_without_qemu_schemas() {}
