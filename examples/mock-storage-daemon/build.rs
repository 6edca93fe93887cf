//! The storage daemon's bindings with their server side, for the commands
//! and the event the mock implements, from QEMU 10.0.2's schema beside the
//! checkout (`../shared/qemu-10.0.2`). Without it, the program is built to
//! say so (the rest of the workspace still builds).

use std::path::PathBuf;

/// What the mock serves: the commands it implements, the event its jobs
/// emit, and the protocol's own commands (the server answers those).
const KEPT: [&str; 11] = [
    "qmp_capabilities",
    "query-version",
    "query-commands",
    "query-qmp-schema",
    "blockdev-add",
    "blockdev-del",
    "query-named-block-nodes",
    "blockdev-create",
    "query-jobs",
    "job-dismiss",
    "JOB_STATUS_CHANGE",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(schema_absent)");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let schema = manifest.join("../../../shared/qemu-10.0.2/storage-daemon/qapi/qapi-schema.json");
    // A path that does not exist counts as changed: until the schema is
    // there, the script runs on every build.
    println!("cargo::rerun-if-changed={}", schema.display());
    if !schema.is_file() {
        println!(
            "cargo::warning=notice: {} is absent: the mock only says so",
            schema.display()
        );
        println!("cargo::rustc-cfg=schema_absent");
        return;
    }
    qapi_gen::Builder::new(&schema)
        .server(true)
        .only(KEPT)
        .file_name("storage_daemon.rs")
        .run();
}
