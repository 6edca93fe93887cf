//! Positive schemas: the project's own and the test corpus load without a
//! diagnostic, and loading is deterministic.

use std::path::PathBuf;

use qapi_gen::{load, DocRules};
use qapi_tests::workspace;

fn schemas(dir: &str) -> Vec<PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(workspace().join(dir))
        .expect("the directory exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn valid_corpus_loads() {
    let paths = schemas("tests/schemas/valid");
    assert!(paths.len() >= 12, "only {} valid schemas", paths.len());
    for path in paths {
        let loaded = load(&path, DocRules::Strict)
            .unwrap_or_else(|e| panic!("{} is rejected:\n{e}", path.display()));
        assert!(
            loaded.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            loaded.warnings
        );
    }
}

#[test]
fn project_schemas_load() {
    for name in ["schema/example.json", "schema/qmp-core.json"] {
        let loaded = load(workspace().join(name), DocRules::Strict)
            .unwrap_or_else(|e| panic!("{name} is rejected:\n{e}"));
        assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
    }
}

/// The example schema uses every construct of the language.
#[test]
fn example_uses_every_construct() {
    let schema = load(workspace().join("schema/example.json"), DocRules::Strict)
        .expect("valid")
        .schema;
    let counts = schema.counts();
    assert!(counts.commands > 0 && counts.events > 0 && counts.enums > 0);
    assert!(counts.structs > 0 && counts.unions > 0 && counts.alternates > 0);
    let pragma = schema.pragma();
    assert!(pragma.doc_required);
    assert!(!pragma.command_name_exceptions.is_empty());
    assert!(!pragma.command_returns_exceptions.is_empty());
    assert!(!pragma.documentation_exceptions.is_empty());
    assert!(!pragma.member_name_exceptions.is_empty());
    assert!(schema.sources().files().len() > 1, "an include");
    use qapi_gen::model::EntityKind;
    let commands: Vec<_> = schema
        .definitions()
        .filter_map(|id| match &schema.entity(id).kind {
            EntityKind::Command(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    assert!(commands.iter().any(|c| c.allow_oob));
    assert!(commands.iter().any(|c| c.boxed));
    assert!(commands.iter().any(|c| !c.success_response));
    assert!(commands.iter().any(|c| !c.gen));
    assert!(commands.iter().any(|c| c.coroutine));
    assert!(commands.iter().any(|c| c.allow_preconfig));
    let any_cond = schema.definitions().any(|id| {
        schema
            .entity(id)
            .as_object()
            .is_some_and(|o| o.local_members.iter().any(|m| m.cond.is_some()))
    });
    assert!(any_cond, "a conditional member");
}

#[test]
fn loading_is_deterministic() {
    let path = workspace().join("schema/example.json");
    let first = format!(
        "{:?}",
        load(&path, DocRules::Strict)
            .expect("valid")
            .schema
            .entities()
    );
    let second = format!(
        "{:?}",
        load(&path, DocRules::Strict)
            .expect("valid")
            .schema
            .entities()
    );
    assert_eq!(first, second);
}
