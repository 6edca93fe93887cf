//! Bindings from introspection files (hand-written `query-qmp-schema`
//! replies; the live captures of real QEMU are in
//! `tests/bindings/tests/live_introspected.rs`): rebuilt alone, with derived
//! names, and resolved against a schema source with conditions.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use qapi_gen::introspect::{self, Introspection};
use qapi_gen::model::EntityKind;
use qapi_gen::{rust_source, Error, Schema};
use qapi_tests::{golden, workspace, TempDir};

fn fixture(name: &str) -> PathBuf {
    workspace().join("tests/schemas/introspection").join(name)
}

fn rebuilt(text: &str) -> Result<Schema, Error> {
    let intro = Introspection::from_json(text).map_err(|message| Error::Introspection {
        path: PathBuf::from("test"),
        message,
    })?;
    introspect::rebuild(&intro, Path::new("test")).map(|l| l.schema)
}

fn server() -> String {
    std::fs::read_to_string(fixture("server.json")).expect("fixture")
}

#[test]
fn rebuilt_schema_and_bindings_match_goldens() {
    let path = fixture("server.json");
    let intro = Introspection::read(&path).expect("valid introspection");
    let text = introspect::to_qapi(&intro).expect("rebuilds");
    let dir = workspace().join("tests/golden/introspection");
    golden(&dir.join("server.qapi"), &text).unwrap();
    let loaded = introspect::load(&path, None).expect("loads");
    assert!(loaded.notes.is_empty());
    assert!(loaded.loaded.warnings.is_empty());
    let source = rust_source(
        &loaded.loaded.schema,
        "tests/schemas/introspection/server.json",
    )
    .expect("the bindings parse");
    golden(&dir.join("server.rs"), &source).unwrap();
}

/// Each masked type is named after its first use, and the shapes that
/// decide how commands are written come through.
#[test]
fn masked_types_get_names_from_their_uses() {
    let schema = rebuilt(&server()).expect("rebuilds");
    let meta = |name: &str| schema.lookup(name).map(|id| schema.entity(id).meta());
    let expected = [
        ("QueryDisksItem", "struct"),
        ("DiskStateChangedState", "enum"),
        ("DiskAddArguments", "union"),
        ("DiskAddArgumentsDriver", "enum"),
        ("DiskAddArgumentsFile", "struct"),
        ("DiskAddArgumentsNbd", "struct"),
        ("DiskAddArgumentsFileLocking", "alternate"),
        ("DiskAddArgumentsNbdServer", "alternate"),
        ("DiskAddArgumentsNbdServerObject", "struct"),
        ("DiskLegacyResizeArguments", "struct"),
        // Unmasked names are kept.
        ("DiskStats", "struct"),
        // Names may not end in `List`.
        ("DiskStatsListType", "struct"),
    ];
    for (name, kind) in expected {
        assert_eq!(meta(name), Some(kind), "{name}");
    }
    let command = |name: &str| match &schema.entity(schema.lookup(name).expect(name)).kind {
        EntityKind::Command(c) => c.clone(),
        _ => panic!("{name} is not a command"),
    };
    // One command's own arguments are inline; shared ones, or a union,
    // are a named type passed boxed.
    let query_disks = command("query-disks");
    let args = schema.entity(query_disks.arg_type.expect("has arguments"));
    assert!(args.is_implicit(), "{}", args.name);
    assert!(command("disk-add").boxed && command("disk-check").boxed);
    assert!(command("disk-check").allow_oob && command("ping").allow_oob);
    assert!(!command("disk-add").allow_oob);
    // Inline members can't have uppercase names: named arguments instead.
    assert!(!command("disk_legacy_resize").boxed);
    assert!(command("ping").arg_type.is_none() && command("ping").ret_type.is_none());
    let returns = schema.entity(command("disk-check").ret_type.expect("returns"));
    assert_eq!(returns.name, "int");
    // The empty branch is implicit; the others are declared.
    let union = schema.entity(schema.lookup("DiskAddArguments").unwrap());
    let branches = &union
        .as_object()
        .unwrap()
        .branches
        .as_ref()
        .unwrap()
        .variants;
    let declared: Vec<(&str, bool)> = branches
        .iter()
        .map(|v| (v.name.as_str(), v.implicit))
        .collect();
    assert_eq!(declared, [("file", false), ("nbd", false), ("null", true)]);
}

/// Renumbering the masked names, reordering the reply and adding a command
/// with types of its own leave every existing derived name as it was.
#[test]
fn derived_names_are_stable() {
    let names = |schema: &Schema| -> Vec<String> {
        let mut names: Vec<String> = schema
            .definitions()
            .map(|id| schema.entity(id).name.clone())
            .collect();
        names.sort();
        names
    };
    let before = names(&rebuilt(&server()).unwrap());
    let mut infos: Vec<serde_json::Value> = serde_json::from_str(&server()).unwrap();
    let renumber = |s: &str| -> String {
        let inner = s.trim_start_matches('[').trim_end_matches(']');
        match inner.parse::<u32>() {
            Ok(n) => s.replace(inner, &(n + 100).to_string()),
            Err(_) => s.to_string(),
        }
    };
    fn walk(value: &mut serde_json::Value, f: &dyn Fn(&str) -> String) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match v {
                        serde_json::Value::String(s)
                            if ["name", "type", "arg-type", "ret-type", "element-type"]
                                .contains(&key.as_str()) =>
                        {
                            *s = f(s)
                        }
                        other => walk(other, f),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, f)),
            _ => {}
        }
    }
    for info in &mut infos {
        walk(info, &renumber);
    }
    infos.reverse();
    infos.push(serde_json::json!({"name": "aaa-first", "meta-type": "command", "arg-type": "900", "ret-type": "100"}));
    infos.push(serde_json::json!({"name": "900", "meta-type": "object", "members": [{"name": "mode", "type": "901"}]}));
    infos.push(
        serde_json::json!({"name": "901", "meta-type": "enum", "members": [{"name": "fast"}]}),
    );
    let after = names(&rebuilt(&serde_json::to_string(&infos).unwrap()).unwrap());
    let added: Vec<&String> = after.iter().filter(|n| !before.contains(n)).collect();
    assert_eq!(added, ["AaaFirstMode", "aaa-first"]);
    assert_eq!(after.len(), before.len() + 2);
}

#[test]
fn source_resolved_against_a_build_matches_golden() {
    let path = fixture("conditionals-build.json");
    let source = workspace().join("tests/schemas/valid/conditionals.json");
    let loaded = introspect::load(&path, Some(&source)).expect("loads");
    assert_eq!(loaded.notes, Vec::<String>::new());
    let schema = &loaded.loaded.schema;
    // Conditions are resolved: nothing conditional is left.
    for id in schema.ids() {
        let entity = schema.entity(id);
        assert!(entity.cond.is_none(), "{}", entity.name);
        for member in schema.members(id) {
            assert!(member.cond.is_none(), "{}.{}", entity.name, member.name);
        }
    }
    let transport = schema.lookup("Transport").expect("present");
    let values: Vec<&str> = schema
        .entity(transport)
        .as_enum()
        .unwrap()
        .values
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(values, ["tcp", "unix", "rdma"]);
    let listener = schema.lookup("Listener").expect("present");
    let members: Vec<&str> = schema
        .members(listener)
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(members, ["addr", "tls"]);
    let features: Vec<&str> = schema
        .entity(listener)
        .features
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(features, ["secure"]);
    let source =
        rust_source(schema, "tests/schemas/valid/conditionals.json").expect("the bindings parse");
    golden(
        &workspace().join("tests/golden/introspection/conditionals.rs"),
        &source,
    )
    .unwrap();
}

/// A source of another version: what differs is left out and noted.
#[test]
fn disagreements_between_source_and_server_are_noted() {
    let mut infos: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("conditionals-build.json")).unwrap())
            .unwrap();
    // The server lacks TcpAddress's port and has a command the source lacks.
    for info in &mut infos {
        if info["name"] == "6" {
            info["members"] = serde_json::json!([{"name": "host", "type": "str"}, {"name": "ipv6", "type": "bool", "default": null}]);
        }
    }
    infos.retain(|i| i["name"] != "LISTENER_READY");
    infos.push(serde_json::json!({"name": "new-command", "meta-type": "command", "arg-type": "0", "ret-type": "0"}));
    let dir = TempDir::new("introspection");
    let path = dir.join("other.json");
    std::fs::write(&path, serde_json::to_string(&infos).unwrap()).unwrap();
    let source = workspace().join("tests/schemas/valid/conditionals.json");
    let loaded = introspect::load(&path, Some(&source)).expect("loads");
    assert_eq!(
        loaded.notes,
        [
            "the server's command 'new-command' is not in the schema: the bindings lack it",
            "member 'port' of struct 'TcpAddress' is not on the server: left out",
            "the server has member 'ipv6' in struct 'TcpAddress', which the schema lacks",
        ]
    );
    let schema = &loaded.loaded.schema;
    assert!(schema.lookup("LISTENER_READY").is_none());
    let tcp = schema.lookup("TcpAddress").unwrap();
    assert_eq!(schema.members(tcp).len(), 1);
}

#[test]
fn bad_introspection_is_an_error() {
    let cases = [
        ("", "not JSON"),
        ("{}", "expected an array"),
        ("[1]", "entity 0 is not a SchemaInfo"),
        (r#"[{"name":"x"}]"#, "entity 0 ('x') is not a SchemaInfo"),
        (
            r#"[{"name":"c","meta-type":"command","arg-type":"9","ret-type":"9"}]"#,
            "type '9' is referenced but not described",
        ),
        (
            r#"[{"name":"a","meta-type":"event","arg-type":"a"},{"name":"a","meta-type":"event","arg-type":"a"}]"#,
            "'a' is described twice",
        ),
        (
            r#"[{"name":"it's","meta-type":"event","arg-type":"0"}]"#,
            "'it's' is not a QAPI name",
        ),
        (
            r#"[{"name":"c","meta-type":"command","arg-type":"c","ret-type":"c"}]"#,
            "'c' is used as a type but is not one",
        ),
        (
            r#"[{"name":"1","meta-type":"object","members":[{"name":"a","type":"str"},{"name":"a","type":"str"}]}]"#,
            "the server's '1': member 'a' is described twice",
        ),
        (
            r#"[{"name":"1","meta-type":"object","members":[{"name":"_","type":"str"}]}]"#,
            "the server's '1': member '_' is not a valid QAPI name",
        ),
        (
            r#"[{"name":"1","meta-type":"object","members":[],"variants":[{"case":"a","type":"1"}]}]"#,
            "the server's '1': branches without a discriminator ('tag')",
        ),
        (
            r#"[{"name":"1","meta-type":"object","members":[],"tag":"kind","variants":[]}]"#,
            "the server's '1': discriminator 'kind' is not one of its members",
        ),
    ];
    for (text, expected) in cases {
        match rebuilt(text) {
            Err(Error::Introspection { message, .. }) => {
                assert!(message.contains(expected), "{text}: {message}")
            }
            Err(e) => panic!("{text}: {e}"),
            Ok(_) => panic!("{text}: accepted"),
        }
    }
    // A reply object is accepted as well as its `return` array.
    let reply = format!("{{\"return\": {}}}", server());
    assert!(rebuilt(&reply).is_ok());
}

/// `server.json` as a newer server might send it: masked names
/// renumbered, entities reordered, a new command, sorting first, that
/// uses an existing enum (which takes that enum's derived name when
/// rebuilt alone), and one that shares query-disks' arguments.
fn upgraded_server() -> String {
    let mut infos: Vec<serde_json::Value> = serde_json::from_str(&server()).unwrap();
    let text = serde_json::to_string(&infos).unwrap();
    // Renumber: every masked name n becomes n + 100.
    let renumbered = (0..20).rev().fold(text, |text, n| {
        text.replace(&format!("\"{n}\""), &format!("\"{}\"", n + 100))
            .replace(&format!("\"[{n}]\""), &format!("\"[{}]\"", n + 100))
    });
    infos = serde_json::from_str(&renumbered).unwrap();
    infos.reverse();
    infos.push(serde_json::json!({"name": "aaa-first", "meta-type": "command", "arg-type": "900", "ret-type": "100"}));
    infos.push(serde_json::json!({"name": "900", "meta-type": "object", "members": [{"name": "state", "type": "103"}]}));
    infos.push(serde_json::json!({"name": "query-disks-too", "meta-type": "command", "arg-type": "101", "ret-type": "100"}));
    serde_json::to_string(&infos).unwrap()
}

/// Rebuilt alone, the upgrade renames the shared enum; rebuilt like the
/// earlier capture, every name stays, and `diff` reports only the new
/// command.
#[test]
fn names_of_an_earlier_capture_are_kept() {
    let dir = TempDir::new("upgrade");
    let new_path = dir.join("new.json");
    std::fs::write(&new_path, upgraded_server()).unwrap();
    let old = rebuilt(&server()).unwrap();
    let new = Introspection::read(&new_path).unwrap();
    let alone = introspect::rebuild(&new, &new_path).unwrap().schema;
    assert!(alone.lookup("AaaFirstState").is_some());
    assert!(alone.lookup("DiskStateChangedState").is_none());
    let like = introspect::rebuild_like(&new, &new_path, &old)
        .unwrap()
        .schema;
    for id in old.definitions() {
        let name = &old.entity(id).name;
        assert!(like.lookup(name).is_some(), "{name} is gone");
    }
    assert!(like.lookup("AaaFirstState").is_none());
    // Arguments another command now shares stay the command's own
    // fields: code that builds the command keeps compiling.
    for schema in [&alone, &like] {
        let command = schema.lookup("query-disks").unwrap();
        let qapi_gen::model::EntityKind::Command(command) = &schema.entity(command).kind else {
            panic!("a command");
        };
        assert!(schema.entity(command.arg_type.unwrap()).is_implicit());
    }
    let (a, b) = introspect::load_pair(&fixture("server.json"), &new_path).unwrap();
    let changes = qapi_gen::schema_diff::compare(&a, &b);
    assert_eq!(
        changes.render_text(),
        "+ command 'aaa-first': added\n+ command 'query-disks-too': added\n2 changes, 0 breaking\n"
    );
}

/// Applies `(entity, edit, other)` edits: remove the entity, point its
/// `arg-type`, its members' types or its `element-type` at another
/// entity, or remove one of its members.
fn mutate(infos: &mut Vec<serde_json::Value>, edits: &[(usize, usize, usize)]) {
    let names: Vec<String> = infos
        .iter()
        .map(|i| i["name"].as_str().unwrap_or_default().to_string())
        .collect();
    for &(at, edit, other) in edits {
        if infos.is_empty() {
            break;
        }
        let at = at % infos.len();
        let other_name = serde_json::Value::String(names[other % names.len()].clone());
        let info = &mut infos[at];
        match edit {
            0 => {
                infos.remove(at);
            }
            1 => info["arg-type"] = other_name,
            2 => {
                for m in info["members"].as_array_mut().into_iter().flatten() {
                    m["type"] = other_name.clone();
                }
            }
            3 => info["element-type"] = other_name,
            _ => {
                if let Some(members) = info["members"].as_array_mut().filter(|m| !m.is_empty()) {
                    members.remove(other % members.len());
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Entities dropped, retyped or renamed at random never panic: the
    /// result is bindings or an error.
    #[test]
    fn mutated_introspection_does_not_panic(
        edits in prop::collection::vec((0usize..64, 0usize..5, 0usize..64), 1..6),
    ) {
        let mut infos: Vec<serde_json::Value> = serde_json::from_str(&server()).unwrap();
        mutate(&mut infos, &edits);
        if let Ok(schema) = rebuilt(&serde_json::to_string(&infos).unwrap()) {
            rust_source(&schema, "mutated").expect("the bindings parse");
        }
    }

    /// Tags, cases, features and names changed at random are errors or
    /// bindings, never a panic or broken schema text.
    #[test]
    fn mutated_strings_do_not_panic(
        at in 0usize..64,
        field in 0usize..5,
        text in "[a-z'\\n\\[\\]# ]{0,6}",
    ) {
        let mut infos: Vec<serde_json::Value> = serde_json::from_str(&server()).unwrap();
        let n = infos.len();
        let info = &mut infos[at % n];
        let value = serde_json::Value::String(text);
        match field {
            0 => info["tag"] = value,
            1 => info["features"] = serde_json::json!([value]),
            2 => info["ret-type"] = value,
            3 => {
                if let Some(variants) = info["variants"].as_array_mut() {
                    for v in variants {
                        v["case"] = value.clone();
                    }
                }
            }
            _ => {
                if let Some(members) = info["members"].as_array_mut() {
                    for m in members {
                        m["name"] = value.clone();
                    }
                }
            }
        }
        if let Ok(schema) = rebuilt(&serde_json::to_string(&infos).unwrap()) {
            rust_source(&schema, "mutated").expect("the bindings parse");
        }
    }

    /// A build's introspection mutated at random, resolved against the
    /// source: bindings or an error, never a panic; where nothing is
    /// noted, nothing conditional is left.
    #[test]
    fn mutated_builds_resolve_without_panic(
        edits in prop::collection::vec((0usize..32, 0usize..5, 0usize..32), 1..4),
    ) {
        let text = std::fs::read_to_string(fixture("conditionals-build.json")).unwrap();
        let mut infos: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        mutate(&mut infos, &edits);
        let dir = TempDir::new("resolve-prop");
        let path = dir.join("mutated.json");
        std::fs::write(&path, serde_json::to_string(&infos).unwrap()).unwrap();
        let source = workspace().join("tests/schemas/valid/conditionals.json");
        let result = introspect::load(&path, Some(&source));
        if let Ok(introspected) = result {
            let schema = &introspected.loaded.schema;
            rust_source(schema, "mutated").expect("the bindings parse");
            if introspected.notes.is_empty() {
                for id in schema.ids() {
                    prop_assert!(schema.entity(id).cond.is_none());
                }
            }
        }
    }
}

/// A schema against what QEMU built from it would report (every condition
/// holding): `diff` finds nothing, both ways, for the project's example
/// schema.
#[test]
fn a_schema_and_its_introspection_do_not_differ() {
    no_difference_from_introspection(&[workspace().join("schema/example.json")]);
}

/// The same for QEMU's storage daemon and system emulator schemas.
#[test]
#[cfg_attr(no_shared, ignore = "../shared/qemu-10.0.2 is absent")]
fn qemu_schemas_and_their_introspection_do_not_differ() {
    let qemu = qapi_tests::qemu_dir();
    no_difference_from_introspection(&[
        qemu.join("storage-daemon/qapi/qapi-schema.json"),
        qemu.join("qapi/qapi-schema.json"),
    ]);
}

/// `diff` finds nothing between each schema and its introspection, both
/// ways.
fn no_difference_from_introspection(schemas: &[PathBuf]) {
    let dir = std::env::temp_dir().join(format!("qapi-of-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, path) in schemas.iter().enumerate() {
        let schema = qapi_gen::load_for_generation(path).unwrap().schema;
        let intro = introspect::of_schema(&schema);
        assert!(intro.get("q_empty").is_some());
        let file = dir.join(format!("{i}.json"));
        std::fs::write(&file, serde_json::to_string(intro.infos()).unwrap()).unwrap();
        for (old, new) in [(path, &file), (&file, path)] {
            let (a, b) = introspect::load_pair(old, new).unwrap();
            let changes = qapi_gen::schema_diff::compare(&a, &b);
            assert!(
                changes.is_empty(),
                "{}:\n{}",
                path.display(),
                changes.render_text()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
