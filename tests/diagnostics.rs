//! The negative corpus: one small schema per rule, each with its expected
//! diagnostics as a golden file (`QAPI_BLESS=1` rewrites them). Every case
//! names, in a first `# expect: ...` line, the message it must produce.

use std::path::Path;

use qapi_gen::cli::{run, EXIT_INVALID};
use qapi_tests::{golden, workspace};

#[test]
fn invalid_schemas() {
    let dir = workspace().join("tests/schemas/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("the corpus exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = check_case(case) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

fn check_case(case: &Path) -> Result<(), String> {
    let name = case.file_name().expect("a file").to_string_lossy();
    let relative = Path::new("tests/schemas/invalid").join(&*name);
    let text = std::fs::read_to_string(case).map_err(|e| format!("{name}: {e}"))?;
    let expect = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# expect: "))
        .ok_or_else(|| format!("{name}: the first line must be '# expect: <message>'"))?;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = ["cargo-qapi", "check", relative.to_str().expect("utf-8")];
    let code = run(args.map(Into::into), &mut out, &mut err);
    let stderr = String::from_utf8(err).expect("utf-8 diagnostics");
    if code != EXIT_INVALID {
        return Err(format!(
            "{name}: exit status {code}, expected {EXIT_INVALID}\n{stderr}"
        ));
    }
    if !stderr.contains(expect) {
        return Err(format!(
            "{name}: expected a diagnostic containing {expect:?}, got:\n{stderr}"
        ));
    }
    if !stderr.starts_with("tests/schemas/invalid/") && !stderr.starts_with("In file included from")
    {
        return Err(format!(
            "{name}: diagnostics must start with FILE:LINE:COL:\n{stderr}"
        ));
    }
    golden(&case.with_extension("err"), &stderr).map_err(|e| format!("{name}: {e}"))
}
