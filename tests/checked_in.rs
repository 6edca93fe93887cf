//! Bindings checked into the repository are what generation writes today.

use qapi_gen::cli::{run, EXIT_OK};

#[test]
fn core_protocol_bindings_are_current() {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = [
        "cargo-qapi",
        "qapi",
        "generate",
        "schema/qmp-core.json",
        "--out",
        "qapi-types/src/qmp.rs",
        "--check",
    ];
    let code = run(args.map(Into::into), &mut out, &mut err);
    assert_eq!(
        code,
        EXIT_OK,
        "qapi-types/src/qmp.rs is stale; run `cargo run -p qapi-gen --bin cargo-qapi -- qapi generate \
         schema/qmp-core.json --out qapi-types/src/qmp.rs`\n{}",
        String::from_utf8_lossy(&err)
    );
}
