//! The `cargo qapi check` command line: exit statuses and the shape of
//! its diagnostics.

use qapi_gen::cli::{run, EXIT_INVALID, EXIT_OK, EXIT_USAGE};

fn cargo_qapi(args: &[&str]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("cargo-qapi")
        .chain(args.iter().copied())
        .map(Into::into);
    let code = run(argv, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("utf-8"),
        String::from_utf8(err).expect("utf-8"),
    )
}

#[test]
fn valid_schema_exits_zero_with_a_summary() {
    let (code, out, err) = cargo_qapi(&["qapi", "check", "schema/example.json"]);
    assert_eq!(code, EXIT_OK, "{err}");
    assert!(out.starts_with("schema/example.json: "), "{out}");
    assert!(out.contains(" commands, "), "{out}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn cargo_passes_the_subcommand_name_or_not() {
    let (with, _, _) = cargo_qapi(&["qapi", "check", "schema/qmp-core.json"]);
    let (without, _, _) = cargo_qapi(&["check", "schema/qmp-core.json"]);
    assert_eq!((with, without), (EXIT_OK, EXIT_OK));
}

#[test]
fn invalid_schema_reports_include_chain_and_context() {
    let (code, out, err) = cargo_qapi(&["qapi", "check", "tests/schemas/cli/main.json"]);
    assert_eq!(code, EXIT_INVALID);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "In file included from tests/schemas/cli/main.json:3:\n\
         tests/schemas/cli/sub.json: In struct 'Paint':\n\
         tests/schemas/cli/sub.json:3:22: member 'shade' uses unknown type 'Shade'\n"
    );
}

#[test]
fn missing_file_is_an_io_error() {
    let (code, _, err) = cargo_qapi(&["qapi", "check", "tests/schemas/no-such-file.json"]);
    assert_eq!(code, EXIT_USAGE);
    assert!(
        err.contains(
            "can't read schema file 'tests/schemas/no-such-file.json': No such file or directory"
        ),
        "{err}"
    );
}

#[test]
fn bad_usage_exits_two() {
    assert_eq!(cargo_qapi(&["qapi"]).0, EXIT_USAGE);
    assert_eq!(cargo_qapi(&["qapi", "frobnicate"]).0, EXIT_USAGE);
    assert_eq!(cargo_qapi(&["qapi", "check"]).0, EXIT_USAGE);
}

#[test]
fn help_shows_an_example() {
    let (code, out, _) = cargo_qapi(&["qapi", "check", "--help"]);
    assert_eq!(code, EXIT_OK);
    assert!(out.contains("cargo qapi check"), "{out}");
}

#[test]
fn old_doc_comments_are_errors_by_default_and_warnings_when_lenient() {
    let path = "tests/schemas/legacy/old-docs.json";
    let (code, _, err) = cargo_qapi(&["qapi", "check", path]);
    assert_eq!(code, EXIT_INVALID);
    assert!(
        err.contains("The 'Note' section is no longer supported"),
        "{err}"
    );

    let (code, _, err) = cargo_qapi(&["qapi", "check", "--lenient-docs", path]);
    assert_eq!(code, EXIT_OK, "{err}");
    assert!(
        err.contains("warning: The 'Note' section is no longer supported"),
        "{err}"
    );
    assert!(
        err.contains("warning: The 'Example' section is no longer supported"),
        "{err}"
    );
    assert!(
        err.contains("warning: description of '@size:' follows a section"),
        "{err}"
    );
}
