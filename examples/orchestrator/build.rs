//! Bindings for the qemu-system-x86_64 installed on this machine: it is
//! started with `-M none`, asked for its introspection, and stopped; no
//! QEMU source tree is needed. Without one installed, the program is
//! built to say so (the rest of the workspace still builds).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(qemu_absent)");
    let installed = std::process::Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        println!("cargo:warning=qemu-system-x86_64 is not installed (scripts/install-qemu installs it): the example only says so");
        println!("cargo::rustc-cfg=qemu_absent");
        println!("cargo:rerun-if-env-changed=PATH");
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                println!(
                    "cargo:rerun-if-changed={}",
                    dir.join("qemu-system-x86_64").display()
                );
            }
        }
        return;
    }
    qapi_gen::Builder::qemu("qemu-system-x86_64", &["-M", "none", "-display", "none"])
        .file_name("system.rs")
        .run();
}
