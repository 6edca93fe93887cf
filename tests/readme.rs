//! The README's three ways to use the project, run as written: each block
//! marked `<!-- tested: NAME -->` is put into a fresh crate outside the
//! workspace, its `cargo qapi` lines are run, and the crate is built.
//!
//! One test in this file changes the process's directory, as a user's
//! shell would be in their crate; the others read files by absolute path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use qapi_tests::workspace;

/// The marked blocks of the README, by name, without their fences.
fn tested_blocks() -> HashMap<String, String> {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let mut blocks = HashMap::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("<!-- tested: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().expect("a block follows its marker");
        assert!(fence.starts_with("```"), "{name}: {fence}");
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        blocks.insert(name.to_string(), body.join("\n") + "\n");
    }
    blocks
}

/// Runs the `cargo qapi` lines of a shell block in the current directory.
fn run_commands(block: &str) {
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let args: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(args[..2], ["cargo", "qapi"], "{line}");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let argv = std::iter::once("cargo-qapi")
            .chain(args[1..].iter().copied())
            .map(Into::into);
        let code = qapi_gen::cli::run(argv, &mut out, &mut err);
        assert_eq!(code, 0, "{line}:\n{}", String::from_utf8_lossy(&err));
    }
}

/// Where the fresh crate is built; removed when the test passes.
fn target_dir() -> PathBuf {
    workspace().join("target/readme")
}

/// Builds the crate in the current directory, warnings denied. Without
/// debug info or incremental data: nothing here is debugged, and both
/// would take a gigabyte of disk.
fn build(what: &str) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("CARGO_INCREMENTAL", "0")
        .env("RUSTFLAGS", "-D warnings")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "{what} does not build");
}

fn write(path: impl AsRef<Path>, text: &str) {
    let path = path.as_ref();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("directory");
    }
    std::fs::write(path, text).expect("writable");
}

/// The README's two commands are those `.ci/run` runs, word for word.
#[test]
fn the_two_commands_are_those_ci_runs() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README");
    let ci = std::fs::read_to_string(workspace().join(".ci/run")).expect(".ci/run");
    for command in [
        "cargo run -p storage-daemon-example",
        "sh scripts/install-qemu && cargo test --workspace",
    ] {
        assert!(
            readme.lines().any(|line| line == format!("    {command}")),
            "the README lacks `{command}` on a line of its own"
        );
        assert!(
            ci.lines().any(|line| line.starts_with(command)),
            ".ci/run does not run `{command}`"
        );
    }
}

/// Reported as ignored where QEMU is absent: the introspection way is then
/// left out of the test below (which runs the other two).
#[cfg(no_qemu)]
#[test]
#[ignore = "QEMU is not installed (scripts/install-qemu): the README's introspection way is not run"]
fn the_introspection_way_needs_qemu() {}

#[test]
fn the_three_ways_work_as_written() {
    let blocks = tested_blocks();
    let block = |name: &str| {
        blocks
            .get(name)
            .unwrap_or_else(|| panic!("README lacks the block '{name}'"))
            .clone()
    };
    let dir: PathBuf = std::env::temp_dir().join(format!("qapi-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ws = workspace().display().to_string();
    write(
        dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"readme-example\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nqapi-types = {{ path = \"{ws}/qapi-types\" }}\n\n\
             [build-dependencies]\nqapi-gen = {{ path = \"{ws}/qapi-gen\" }}\n\n\
             [workspace]\n"
        ),
    );
    // The workspace's lock file: the same dependency versions, offline.
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock file");
    std::fs::create_dir_all(dir.join("schema")).expect("schema dir");
    std::fs::copy(
        workspace().join("schema/qmp-core.json"),
        dir.join("schema/qmp.json"),
    )
    .expect("schema");
    std::env::set_current_dir(&dir).expect("cd");

    // 1: a build script, and the module including its output.
    write("build.rs", &block("build.rs"));
    let mut lib = block("lib.rs");

    // 2: checked-in bindings, current by --check.
    run_commands(&block("checked-in"));
    assert!(Path::new("src/qmp_checked_in.rs").is_file());
    lib.push_str("pub mod qmp_checked_in;\n");

    // 3: bindings from a QEMU's introspection, on the command line.
    let qemu = cfg!(not(no_qemu));
    if qemu {
        run_commands(&block("introspection"));
        assert!(Path::new("qsd.json").is_file());
        lib.push_str("pub mod qsd;\n");
        // The same names when regenerated with --names-from.
        let before = std::fs::read_to_string("src/qsd.rs").expect("generated");
        run_commands(&block("names-from"));
        let after = std::fs::read_to_string("src/qsd.rs").expect("generated");
        assert_eq!(before, after);
    }
    // The run-time check, on the build script's bindings.
    lib.push_str(&format!(
        "\n/// The README's check.\n\
         pub async fn check(qmp: &qapi_types::Qmp) -> Result<(), qapi_types::Error> {{\n\
         use crate::qmp as qmp_bindings;\n{}Ok(())\n}}\n",
        block("check_schema")
    ));
    write("src/lib.rs", &lib);
    build("the build-script and checked-in ways");

    // A stale checked-in file fails --check.
    let checked_in = std::fs::read_to_string("src/qmp_checked_in.rs").expect("written");
    write(
        "src/qmp_checked_in.rs",
        &checked_in.replacen("pub", "pub(crate)", 1),
    );
    let check_line = block("checked-in")
        .lines()
        .find(|l| l.ends_with("--check"))
        .expect("a --check line")
        .to_string();
    let args: Vec<&str> = check_line.split_whitespace().skip(1).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("cargo-qapi").chain(args).map(Into::into);
    assert_eq!(qapi_gen::cli::run(argv, &mut out, &mut err), 1);

    // 3, from a build script.
    if qemu {
        write("build.rs", &block("build-introspection.rs"));
        write(
            "src/lib.rs",
            "pub mod qsd {\n    include!(concat!(env!(\"OUT_DIR\"), \"/qsd.rs\"));\n}\n",
        );
        build("the build-script introspection way");
    }
    std::env::set_current_dir(workspace()).expect("cd back");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(target_dir());
}

/// The README's mock block is the code `tests/bindings/tests/readme_mock.rs`
/// runs, word for word (less the module's indent).
#[test]
fn the_readme_mock_is_the_tested_code() {
    let root = workspace();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let block = readme
        .split("<!-- mock: tests/bindings/tests/readme_mock.rs -->\n```rust,ignore\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```\n").next())
        .expect("the README has the mock block");
    let test = std::fs::read_to_string(root.join("tests/bindings/tests/readme_mock.rs"))
        .expect("the test");
    let tested: Vec<&str> = test
        .split("// README: begin\n")
        .nth(1)
        .and_then(|rest| rest.split("    // README: end\n").next())
        .expect("the test has the README markers")
        .lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect();
    assert_eq!(block, tested.join("\n"));
}
