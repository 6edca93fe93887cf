//! Bindings for the qemu-storage-daemon installed on this machine: it is
//! started, asked for its introspection, and stopped; no QEMU source tree
//! is needed.

fn main() {
    qapi_gen::Builder::qemu("qemu-storage-daemon", &[])
        .file_name("qsd.rs")
        .run();
}
