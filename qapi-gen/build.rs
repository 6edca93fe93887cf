//! For qapi-gen's own tests, in the repository only (the package leaves
//! this script out): sets the cfgs `no_qemu` and `no_shared` where QEMU or
//! its schemas beside the checkout are absent, so that the unit tests
//! needing them are reported as ignored (see `tests/support/machine.rs`).
//! Everything depends on qapi-gen, so the script runs again only when it
//! changes or PATH or the `QAPI_REQUIRE_*` variables do, not on every
//! build: after installing QEMU, `touch qapi-gen/build.rs`.

use std::path::PathBuf;

#[path = "../tests/support/machine.rs"]
mod machine;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo::rerun-if-changed=build.rs");
    machine::detect(&manifest.join(".."), machine::Package::Library);
}
