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
    from_introspection(&schema);
}

/// What the mock reports in `query-qmp-schema` (its configuration leaves
/// every build condition holding), and bindings generated from that alone,
/// as `cargo qapi introspect` and `generate --introspect` against the mock
/// give them: the test checks that the running mock reports exactly this,
/// and runs the mock's commands through these bindings.
fn from_introspection(schema: &std::path::Path) {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let loaded = qapi_gen::load_for_generation(schema).unwrap_or_else(|e| panic!("{e}"));
    let selection =
        qapi_gen::Selection::only(&loaded.schema, &KEPT).unwrap_or_else(|e| panic!("{e}"));
    let masked = qapi_gen::introspect::masked(&loaded.schema, &selection);
    let reported = qapi_types::server::query_qmp_schema(&masked, &Default::default())
        .expect("the introspection is JSON");
    let file = out.join("served.introspection.json");
    std::fs::write(&file, reported.to_string()).expect("written");
    qapi_gen::Builder::introspection(&file)
        .file_name("from_introspection.rs")
        .run();
}
