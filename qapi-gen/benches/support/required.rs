//! What a benchmark does when what it measures is missing: a notice, and
//! nothing measured; or a failure, where `.ci/run` requires it
//! (`QAPI_REQUIRE_SHARED=1` for `../shared`, `QAPI_REQUIRE_QEMU=1` for the
//! QEMU binaries), so that CI never passes without having measured.
#![allow(dead_code)]

/// `what` is missing: panics if `variable` is set (to anything but `0`),
/// else prints a notice saying `then` (what the benchmark does instead).
fn missing(variable: &str, what: &str, then: &str) {
    let required = std::env::var_os(variable).is_some_and(|v| v != "0");
    assert!(!required, "{what} is missing, and {variable} requires it");
    println!("notice: {what} is missing; {then}");
}

/// QEMU's schemas in `../shared` are missing (see [`missing`]).
pub fn shared_missing(what: &str, then: &str) {
    missing("QAPI_REQUIRE_SHARED", what, then);
}

/// A QEMU binary is missing or does not start (see [`missing`]).
pub fn qemu_missing(what: &str, then: &str) {
    missing("QAPI_REQUIRE_QEMU", what, then);
}
