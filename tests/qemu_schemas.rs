//! QEMU 10.0.2's own schemas load, and hold what they are known to hold.

use qapi_gen::model::{Counts, EntityKind};
use qapi_gen::{load, DocRules};
use qapi_tests::qemu_dir;

fn counts(schema: &str) -> Counts {
    let dir = qemu_dir();
    let loaded = load(dir.join(schema), DocRules::Strict)
        .unwrap_or_else(|e| panic!("{schema} is rejected:\n{e}"));
    assert!(
        loaded.warnings.is_empty(),
        "{schema}: unexpected warnings: {:?}",
        loaded.warnings
    );
    loaded.schema.counts()
}

#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
fn system_emulator_schema() {
    assert_eq!(
        counts("qapi/qapi-schema.json"),
        Counts {
            commands: 240,
            events: 56,
            enums: 181,
            structs: 468,
            unions: 43,
            alternates: 6,
        }
    );
}

#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
fn storage_daemon_schema() {
    assert_eq!(
        counts("storage-daemon/qapi/qapi-schema.json"),
        Counts {
            commands: 76,
            events: 13,
            enums: 79,
            structs: 254,
            unions: 25,
            alternates: 5,
        }
    );
}

#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
fn guest_agent_schema() {
    assert_eq!(
        counts("qga/qapi-schema.json"),
        Counts {
            commands: 44,
            events: 0,
            enums: 8,
            structs: 34,
            unions: 3,
            alternates: 2,
        }
    );
}

/// Spot checks of the model on the system schema: flattened bases, union
/// branches (declared and implicit empty ones), flags, docs, positions.
#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
fn system_schema_model() {
    let dir = qemu_dir();
    let schema = load(dir.join("qapi/qapi-schema.json"), DocRules::Strict)
        .expect("valid")
        .schema;
    let get = |name: &str| schema.entity(schema.lookup(name).unwrap_or_else(|| panic!("{name}")));

    let options = get("BlockdevOptions");
    let object = options.as_object().expect("an object");
    let branches = object.branches.as_ref().expect("a union");
    assert_eq!(branches.tag, "driver");
    let driver = get("BlockdevDriver").as_enum().expect("an enum");
    assert_eq!(branches.variants.len(), driver.values.len());
    assert!(branches
        .variants
        .iter()
        .any(|v| v.name == "qcow2" && !v.implicit));
    assert_eq!(
        schema.entity(object.base.expect("a base")).name,
        "q_obj_BlockdevOptions-base"
    );
    let options_id = schema.lookup("BlockdevOptions").expect("defined");
    assert!(schema
        .members(options_id)
        .iter()
        .any(|m| m.name == "node-name" && m.optional));

    let EntityKind::Command(yank) = &get("yank").kind else {
        panic!("yank is a command")
    };
    assert!(yank.allow_oob);
    let EntityKind::Command(query_status) = &get("query-status").kind else {
        panic!()
    };
    assert_eq!(
        schema.entity(query_status.ret_type.expect("returns")).name,
        "StatusInfo"
    );
    assert!(query_status.arg_type.is_none());

    let status = get("StatusInfo");
    let doc = status.doc.as_ref().expect("documented");
    assert_eq!(doc.symbol.as_deref(), Some("StatusInfo"));
    assert!(doc.member("running").is_some());
    assert!(doc.since().is_some());
    let span = status.span.expect("a position");
    assert!(schema.sources().path(span.file).ends_with("run-state.json"));

    // ImageInfo refers to itself through its backing image.
    let image_info = schema.lookup("ImageInfo").expect("defined");
    assert!(schema
        .members(image_info)
        .iter()
        .any(|m| schema.entity(m.ty).name == "ImageInfo"));
}

/// The storage daemon's schema includes files from `../../qapi/`: the
/// include chain is kept for every file.
#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
fn include_chains() {
    let dir = qemu_dir();
    let schema = load(
        dir.join("storage-daemon/qapi/qapi-schema.json"),
        DocRules::Strict,
    )
    .expect("valid")
    .schema;
    let files = schema.sources().files();
    assert!(files.len() > 10);
    assert!(files[0].included_from.is_none());
    assert!(files[1..].iter().all(|f| f.included_from.is_some()));
}
