//! `qapi_gen::schema_diff` on the project's example schema and its next
//! version, `tests/schemas/diff/example-next.json` (its header lists the
//! changes made): exactly those changes are reported, with the expected
//! breaking flags, in the text and JSON forms of the goldens in
//! `tests/golden/diff/` (`QAPI_BLESS=1` rewrites them).

use qapi_gen::schema_diff::{compare, Change, ChangeKind, Changes};
use qapi_gen::{load_for_generation, Schema};
use qapi_tests::{golden, qemu_dir, workspace};

const OLD: &str = "schema/example.json";
const NEW: &str = "tests/schemas/diff/example-next.json";

fn load(path: &str) -> Schema {
    load_for_generation(&workspace().join(path))
        .unwrap_or_else(|e| panic!("{path} is rejected:\n{e}"))
        .schema
}

fn example_changes() -> Changes {
    compare(&load(OLD), &load(NEW))
}

/// A change as (change, definition, name, part and feature, detail,
/// breaking).
type Summary = (String, String, String, String, String, bool);

fn summary(change: &Change) -> Summary {
    let mut at = Vec::new();
    if let Some(part) = &change.part {
        at.push(part.kind(change.definition).to_string());
        at.extend(part.name().map(str::to_string));
    }
    if let Some(feature) = &change.feature {
        at.push(format!("feature {feature}"));
    }
    (
        change.kind.as_str().to_string(),
        change.definition.as_str().to_string(),
        change.name.clone(),
        at.join(" "),
        change.detail.clone(),
        change.breaking,
    )
}

/// What example-next.json changes, in the documented order.
const EXPECTED: &[(&str, &str, &str, &str, &str, bool)] = &[
    (
        "changed",
        "command",
        "job-cancel",
        "flag allow-oob",
        "true → false",
        true,
    ),
    (
        "added",
        "command",
        "query-pool-stats",
        "feature deprecated",
        "added",
        false,
    ),
    ("removed", "command", "snapshot-delete", "", "removed", true),
    ("added", "command", "snapshot-rename", "", "added", false),
    (
        "changed",
        "command",
        "volume-delete",
        "argument force",
        "became required",
        true,
    ),
    (
        "added",
        "command",
        "volume-flush",
        "argument timeout",
        "added",
        false,
    ),
    ("removed", "event", "SNAPSHOT_CREATED", "", "removed", true),
    ("added", "event", "VOLUME_DELETED", "", "added", false),
    (
        "removed",
        "enum",
        "ExportAccess",
        "value none",
        "removed",
        true,
    ),
    (
        "added",
        "enum",
        "JobStatus",
        "value aborting",
        "added",
        false,
    ),
    (
        "removed",
        "enum",
        "LinkSpeed",
        "value 100g",
        "removed",
        false,
    ),
    (
        "changed",
        "struct",
        "JobProgress",
        "member total",
        "became optional",
        true,
    ),
    (
        "changed",
        "struct",
        "NetworkPortInfo",
        "member mtu",
        "type 'uint16' → 'uint32'",
        true,
    ),
    (
        "added",
        "struct",
        "SnapshotInfo",
        "member parent-id",
        "added",
        false,
    ),
    (
        "removed",
        "struct",
        "VolumeInfo",
        "member legacy-path",
        "removed",
        false,
    ),
];

#[test]
fn the_next_example_reports_exactly_its_changes() {
    let actual: Vec<Summary> = example_changes().changes().iter().map(summary).collect();
    let expected: Vec<Summary> = EXPECTED
        .iter()
        .map(|&(change, definition, name, at, detail, breaking)| {
            (
                change.into(),
                definition.into(),
                name.into(),
                at.into(),
                detail.into(),
                breaking,
            )
        })
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn breaking_changes_are_counted_and_explained() {
    let changes = example_changes();
    let expected = EXPECTED.iter().filter(|e| e.5).count();
    assert_eq!(changes.breaking(), expected);
    for change in changes.changes() {
        assert_eq!(change.breaking, change.reason.is_some(), "{change}");
    }
    assert!(changes
        .render_text()
        .ends_with(&format!("\n15 changes, {expected} breaking\n")));
}

#[test]
fn text_and_json_match_the_goldens() {
    let changes = example_changes();
    let dir = workspace().join("tests/golden/diff");
    let mut failures = Vec::new();
    failures.extend(golden(&dir.join("example.txt"), &changes.render_text()).err());
    let json = format!("{:#}\n", changes.to_json());
    failures.extend(golden(&dir.join("example.json"), &json).err());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn identical_schemas_report_nothing() {
    for path in [OLD, NEW, "schema/qmp-core.json"] {
        let changes = compare(&load(path), &load(path));
        assert!(changes.is_empty(), "{path}:\n{}", changes.render_text());
        assert_eq!(changes.render_text(), "no changes\n");
    }
}

#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
fn qemus_schema_against_itself_reports_nothing() {
    let path = qemu_dir().join("qapi/qapi-schema.json");
    let schema = load_for_generation(&path)
        .expect("QEMU's schema loads")
        .schema;
    let again = load_for_generation(&path).expect("twice").schema;
    assert!(compare(&schema, &again).is_empty());
}

#[test]
fn the_reverse_comparison_swaps_additions_and_removals() {
    let forward = example_changes();
    let backward = compare(&load(NEW), &load(OLD));
    assert_eq!(forward.changes().len(), backward.changes().len());
    for (f, b) in forward.changes().iter().zip(backward.changes()) {
        let subject = |c: &Change| {
            (
                c.definition,
                c.name.clone(),
                c.part.clone(),
                c.feature.clone(),
            )
        };
        assert_eq!(subject(f), subject(b), "{f}\n{b}");
        let swapped = match f.kind {
            ChangeKind::Added => ChangeKind::Removed,
            ChangeKind::Removed => ChangeKind::Added,
            ChangeKind::Changed => ChangeKind::Changed,
        };
        assert_eq!(b.kind, swapped, "{f}\n{b}");
        assert_eq!((&f.old, &f.new), (&b.new, &b.old), "{f}\n{b}");
    }
    // Going back re-adds what was removed, which breaks nothing, and
    // removes what was added: only the new argument is something a
    // client of the next version may pass.
    let breaking: Vec<String> = backward
        .changes()
        .iter()
        .filter(|c| c.breaking)
        .map(|c| c.to_string())
        .collect();
    assert!(
        breaking.contains(
            &"- command 'volume-flush': argument 'timeout': removed \
              [breaking: clients that pass it are rejected]"
                .to_string()
        ),
        "{breaking:#?}"
    );
    assert!(
        !breaking.iter().any(|c| c.starts_with("+ ")),
        "{breaking:#?}"
    );
}
