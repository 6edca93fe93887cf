//! A schema whose doc comments hold code (an untagged fence of
//! `fn main() { panic!(..) }`, a fence tagged `rust`, an indented block,
//! a fence in a note) generates bindings whose crate passes
//! `cargo test --doc`: rustdoc runs none of the schema's text.

use std::path::{Path, PathBuf};
use std::process::Command;

use qapi_tests::{workspace, TempDir};

/// Where the crate is built: kept between runs, so that its dependencies
/// are built once.
fn target_dir() -> PathBuf {
    workspace().join("target/doc-code")
}

fn write(path: impl AsRef<Path>, text: &str) {
    let path = path.as_ref();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("directory");
    }
    std::fs::write(path, text).expect("writable");
}

#[test]
fn bindings_of_doc_comments_holding_code_pass_doctests() {
    let schema = workspace().join("tests/schemas/golden/doc-code.json");
    let loaded = qapi_gen::load_for_generation(&schema).expect("a valid schema");
    let source = qapi_gen::rust_source(&loaded.schema, "doc-code.json").expect("generated");
    assert!(
        source.contains("panic!(\"a schema's doc ran as a doctest\")"),
        "the schema's code is in the docs, as text"
    );

    let dir = TempDir::new("doc-code");
    let ws = workspace().display().to_string();
    write(
        dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"doc-code\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nqapi-types = {{ path = \"{ws}/qapi-types\", default-features = false }}\n\n\
             [workspace]\n"
        ),
    );
    // The workspace's lock file: the same dependency versions, offline.
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock file");
    // One doctest of the crate's own, which passes: the run must count
    // it, and no other.
    write(
        dir.join("src/lib.rs"),
        "//! Bindings of `doc-code.json`.\n//!\n//! ```\n//! assert_eq!(1 + 1, 2);\n//! ```\n\n\
         #[allow(dead_code)]\npub mod bindings;\n",
    );
    write(dir.join("src/bindings.rs"), &source);

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["test", "--doc", "--offline"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "doctests of the bindings fail:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed; 0 failed"),
        "only the crate's own doctest runs:\n{stdout}"
    );
}
