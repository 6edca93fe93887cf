//! Doc comments are split into the sections a generator renders.

use qapi_gen::doc::SectionKind;
use qapi_gen::{load, DocRules};
use qapi_tests::workspace;

#[test]
fn legacy_sections_are_kept_when_lenient() {
    let loaded = load(
        workspace().join("tests/schemas/legacy/old-docs.json"),
        DocRules::Lenient,
    )
    .expect("lenient loading succeeds");
    let schema = &loaded.schema;
    let command = schema.entity(schema.lookup("query-volumes").expect("defined"));
    let doc = command.doc.as_ref().expect("documented");
    let example = doc
        .sections
        .iter()
        .find(|s| matches!(&s.kind, SectionKind::LegacyExample(tag) if tag == "Example"))
        .expect("the Example section is kept");
    assert!(example
        .text
        .contains("-> { \"execute\": \"query-volumes\" }"));
    assert!(example.text.contains("<- { \"return\""));
    assert_eq!(doc.since(), Some("7.2"));

    let volume = schema.entity(schema.lookup("Volume").expect("defined"));
    let doc = volume.doc.as_ref().expect("documented");
    assert_eq!(
        doc.member("size").map(|s| s.text.as_str()),
        Some("the size in bytes")
    );
    assert_eq!(doc.body(), "A storage volume.");
}

#[test]
fn sections_of_a_definition_doc() {
    let schema = load(workspace().join("schema/qmp-core.json"), DocRules::Strict)
        .expect("valid")
        .schema;
    for id in schema.definitions() {
        let entity = schema.entity(id);
        let doc = entity
            .doc
            .as_ref()
            .unwrap_or_else(|| panic!("{} is documented", entity.name));
        assert_eq!(doc.symbol.as_deref(), Some(entity.name.as_str()));
        assert!(doc.since().is_some(), "{} has Since:", entity.name);
        for section in &doc.sections {
            assert_eq!(section.text.trim_matches('\n'), section.text, "trimmed");
        }
    }
}

#[test]
fn unindented_continuations_of_older_releases_stay_with_their_member() {
    let loaded = load(
        workspace().join("tests/schemas/legacy/old-docs.json"),
        DocRules::Lenient,
    )
    .expect("lenient loading succeeds");
    let schema = &loaded.schema;
    let doc = schema
        .entity(schema.lookup("HostInfo").expect("defined"))
        .doc
        .as_ref()
        .expect("documented");
    let release = &doc.member("kernel-release").expect("described").text;
    assert!(release.contains("* Windows: the build number"), "{release}");
    let version = &doc.member("kernel-version").expect("described").text;
    assert_eq!(version, "the version field of uname(2)");
    assert!(doc.since().expect("since").starts_with("7.2"));
}

/// Rendered labels (`**Errors:**`, `**Returns:**`) are followed by their
/// text or a list, never by a run of spaces that was the section's
/// indentation; `<https://...>` links render as autolinks.
#[test]
fn labelled_sections_render_cleanly() {
    renders_cleanly(&workspace().join("schema/example.json"));
}

/// The same for QEMU's system emulator schema.
#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
fn qemus_labelled_sections_render_cleanly() {
    renders_cleanly(&qapi_tests::qemu_dir().join("qapi/qapi-schema.json"));
}

/// Checks the labels and links of the bindings generated from `path`.
fn renders_cleanly(path: &std::path::Path) {
    let schema = qapi_gen::load_for_generation(path).expect("valid").schema;
    let source = qapi_gen::rust_source(&schema, "test").expect("the bindings parse");
    for line in source.lines() {
        let doc = line.trim_start();
        if let Some(rest) = doc.strip_prefix("/// **") {
            assert!(!rest.contains(":**  "), "{}: {line}", path.display());
        }
        assert!(!doc.contains("\\<<http"), "{}: {line}", path.display());
    }
}
