//! Bindings for the qemu-storage-daemon installed on this machine: it is
//! started, asked for its introspection, and stopped; no QEMU source tree
//! is needed. Without one installed, the program is built to say so (the
//! rest of the workspace still builds).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(qsd_absent)");
    let installed = std::process::Command::new("qemu-storage-daemon")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        println!("cargo:warning=qemu-storage-daemon is not installed (scripts/install-qemu installs it): the example only says so");
        println!("cargo::rustc-cfg=qsd_absent");
        println!("cargo:rerun-if-env-changed=PATH");
        // Run again once it is: a path that does not exist counts as
        // changed.
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                println!(
                    "cargo:rerun-if-changed={}",
                    dir.join("qemu-storage-daemon").display()
                );
            }
        }
        return;
    }
    qapi_gen::Builder::qemu("qemu-storage-daemon", &[])
        .file_name("qsd.rs")
        .run();
}
