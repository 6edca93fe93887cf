//! The introspection qapi-gen makes of a schema as QEMU reports it
//! (`qapi_gen::introspect::masked`), against the installed
//! qemu-system-x86_64: under the binary's build configuration it is
//! exactly the `query-qmp-schema` reply captured from it, numbering and
//! order included (the storage daemon's is compared through its server
//! bindings, in `tests/bindings/tests/served_introspection.rs`).

use qapi_gen::introspect::masked;
use qapi_gen::{load_for_generation, load_with, DocRules, Selection};
use qapi_tests::{qemu_build, qemu_dir};
use qapi_types::server::{query_qmp_schema, Conditions};
use serde_json::Value;

#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
fn system_introspection_is_the_installed_emulators() {
    let schema = load_for_generation(&qemu_dir().join("qapi/qapi-schema.json"))
        .expect("QEMU's schema loads")
        .schema;
    let text = masked(&schema, &Selection::all());
    let ours = query_qmp_schema(
        &text,
        &Conditions::only(qemu_build::SYMBOLS.iter().copied()),
    )
    .expect("the introspection is JSON");
    let args = ["-M", "none", "-nodefaults", "-display", "none"].map(Into::into);
    let captured =
        qapi_gen::capture::from_qemu("qemu-system-x86_64".as_ref(), &args).expect("captured");
    let theirs: Value = serde_json::from_str(&captured).expect("JSON");
    let (ours, theirs) = (
        ours.as_array().expect("an array"),
        theirs.as_array().expect("an array"),
    );
    let first = ours.iter().zip(theirs).position(|(a, b)| a != b);
    assert!(
        first.is_none() && ours.len() == theirs.len(),
        "{} entries generated, {} captured; first difference: {}",
        ours.len(),
        theirs.len(),
        first.map_or(String::new(), |i| format!(
            "entry {i}: generated {}\ncaptured {}",
            ours[i], theirs[i]
        )),
    );
}

/// An array of integers is reported as `[int]`, and `int` right after it
/// where nothing used `int` before.
#[test]
fn integer_arrays_use_int_after_them() {
    let source = "{ 'struct': 'Sizes', 'data': { 'sizes': ['size'], 'name': 'str' } }\n\
                  { 'command': 'sizes', 'returns': 'Sizes' }\n";
    let read = |_: &std::path::Path| Ok(source.as_bytes().to_vec());
    let schema = load_with("schema.json".as_ref(), DocRules::Lenient, &read)
        .expect("valid")
        .schema;
    let text = masked(&schema, &Selection::all());
    let reply = query_qmp_schema(&text, &Conditions::all()).expect("JSON");
    let names: Vec<&str> = reply
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|entry| entry["name"].as_str())
        .collect();
    assert_eq!(names, ["sizes", "0", "1", "[int]", "int", "str"]);
}

/// Numbers are given over every entry, conditional or not: a build that
/// leaves an entry out leaves a gap, as QEMU's does.
#[test]
fn numbers_are_given_over_every_condition() {
    let source = "{ 'struct': 'Alpha', 'data': { 'a': 'int' }, 'if': 'CONFIG_A' }\n\
                  { 'struct': 'Beta', 'data': { 'b': ['uint8'] } }\n\
                  { 'command': 'a', 'data': 'Alpha', 'if': 'CONFIG_A' }\n\
                  { 'command': 'b', 'data': 'Beta', 'allow-oob': true }\n";
    let read = |_: &std::path::Path| Ok(source.as_bytes().to_vec());
    let schema = load_with("schema.json".as_ref(), DocRules::Lenient, &read)
        .expect("valid")
        .schema;
    let text = masked(&schema, &Selection::all());
    let without_a = query_qmp_schema(&text, &Conditions::only(["CONFIG_B"])).expect("JSON");
    let names: Vec<&str> = without_a
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|entry| entry["name"].as_str())
        .collect();
    assert_eq!(names, ["b", "1", "2", "int", "[int]"]);
    assert_eq!(without_a[0]["allow-oob"], Value::Bool(true));
    assert_eq!(without_a[2]["members"][0]["type"], "[int]");
    let with_a = query_qmp_schema(&text, &Conditions::all()).expect("JSON");
    assert_eq!(with_a[2]["name"], "0");
    assert!(with_a[0].get("allow-oob").is_none());
}
