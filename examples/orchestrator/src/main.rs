//! What a VM manager does with the runtime, against qemu-system-x86_64
//! (`-M none`): it listens on a unix socket and starts QEMU connecting to
//! it (`server=off`: no race with QEMU's start-up, no polling for a
//! socket file), passes a disk image's descriptor with `add-fd`, adds
//! the descriptor set as a block node, formats the disk as qcow2 with a
//! `blockdev-create` job and waits for the job's event within a time
//! limit, opens the qcow2 image, lists the nodes, and shuts down. The
//! bindings are generated at build time from the installed QEMU's
//! introspection (see `build.rs`).
//!
//! `cargo run -p orchestrator-example` (run by `cargo test -p
//! orchestrator-example` too).

#[cfg(qemu_absent)]
fn main() {
    eprintln!("qemu-system-x86_64 was not installed when this example was built: install it (scripts/install-qemu) and run it again");
    std::process::exit(1);
}

#[cfg(not(qemu_absent))]
include!("orchestrate.rs");
