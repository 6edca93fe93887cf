//! Mutated schemas never make the frontend panic, and every diagnostic
//! points inside the file it names.

use std::path::Path;

use proptest::prelude::*;
use qapi_gen::{load_with, DocRules, Error};
use qapi_tests::workspace;

/// Valid schemas to mutate: the project's example and a few of the corpus.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        std::fs::read(workspace().join("schema/example.json")).expect("example schema"),
        std::fs::read(workspace().join("schema/qmp-core.json")).expect("core schema"),
        std::fs::read(workspace().join("tests/schemas/legacy/old-docs.json")).expect("legacy"),
    ];
    let valid = workspace().join("tests/schemas/valid");
    let mut paths: Vec<_> = std::fs::read_dir(valid)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    seeds.extend(
        paths
            .iter()
            .filter(|p| p.is_file())
            .filter_map(|p| std::fs::read(p).ok()),
    );
    seeds
}

/// One edit of a byte string.
#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Duplicate { at: usize, len: usize },
    Replace { at: usize, byte: u8 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to the grammar, and some that never should appear.
    let interesting = prop::sample::select(vec![
        b'{', b'}', b'[', b']', b':', b',', b'\'', b'#', b'\n', b' ', b'\t', b'@', b'*', b'\\',
        b'=', b'-', b'_', b'x', b'0', 0x00, 0x7f, 0xc3, 0xff,
    ]);
    prop_oneof![
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (
            any::<usize>(),
            prop::collection::vec(interesting.clone(), 1..8)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1..200usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), interesting).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
    ]
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    let clamp = |at: usize, len: usize| (at % (len + 1)).min(len);
    match m {
        Mutation::Delete { at, len } => {
            let start = clamp(*at, text.len());
            let end = (start + len).min(text.len());
            text.drain(start..end);
        }
        Mutation::Insert { at, bytes } => {
            let at = clamp(*at, text.len());
            text.splice(at..at, bytes.iter().copied());
        }
        Mutation::Duplicate { at, len } => {
            let start = clamp(*at, text.len());
            let end = (start + len).min(text.len());
            let copy = text[start..end].to_vec();
            text.splice(end..end, copy);
        }
        Mutation::Replace { at, byte } => {
            if !text.is_empty() {
                let at = at % text.len();
                text[at] = *byte;
            }
        }
    }
}

fn check_no_panic(text: &[u8]) {
    let root = Path::new("mutated.json");
    let read = |path: &Path| {
        if path == root {
            Ok(text.to_vec())
        } else {
            Err(std::io::Error::from(std::io::ErrorKind::NotFound))
        }
    };
    for rules in [DocRules::Strict, DocRules::Lenient] {
        match load_with(root, rules, &read) {
            Ok(loaded) => {
                for warning in &loaded.warnings {
                    let _ = warning.render(loaded.schema.sources());
                }
            }
            Err(Error::Invalid(report)) => {
                assert!(!report.diagnostics.is_empty());
                let lines = text.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
                for diag in &report.diagnostics {
                    let span = diag.span.expect("schema diagnostics have a position");
                    assert!(
                        span.line >= 1 && span.line <= lines,
                        "line {} of {lines}",
                        span.line
                    );
                    assert!(span.col >= 1);
                }
                let _ = report.render();
            }
            Err(Error::Io { .. }) => panic!("the root file is always readable"),
            Err(Error::Introspection { .. }) => panic!("a schema is not read as introspection"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_schemas_do_not_panic(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = seeds();
        let mut text = seed.get(&seeds).clone();
        for m in &mutations {
            apply(&mut text, m);
        }
        check_no_panic(&text);
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_no_panic(&bytes);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut text = b"{ 'struct': 'Deep', 'data': ".to_vec();
    text.extend(std::iter::repeat_n(b'[', 100_000));
    check_no_panic(&text);
}

/// Long chains of bases and of union branches, each definition naming one
/// defined further down, are errors, not stack overflows (the test thread
/// has a 2 MiB stack).
#[test]
fn deep_definition_chains_are_errors() {
    let mut bases = String::new();
    for i in (1..5000).rev() {
        bases += &format!(
            "{{ 'struct': 'Struct{i}', 'base': 'Struct{}', 'data': {{ 'm{i}': 'int' }} }}\n",
            i - 1
        );
    }
    bases += "{ 'struct': 'Struct0', 'data': { 'm0': 'int' } }\n";
    let mut unions = String::from("{ 'enum': 'Kind', 'data': [ 'a' ] }\n");
    for i in (1..5000).rev() {
        unions += &format!(
            "{{ 'union': 'Union{i}', 'base': {{ 'k': 'Kind' }}, 'discriminator': 'k', \
             'data': {{ 'a': 'Union{}' }} }}\n",
            i - 1
        );
    }
    unions += "{ 'struct': 'Union0', 'data': { 'k': 'Kind' } }\n";
    for text in [bases, unions] {
        let read = |_: &Path| Ok(text.clone().into_bytes());
        let result = load_with(Path::new("deep.json"), DocRules::Strict, &read);
        let Err(Error::Invalid(report)) = result else {
            panic!("a 5000-deep chain is rejected");
        };
        let rendered = report.render();
        assert!(
            rendered.contains("nests deeper than 200 levels"),
            "{rendered}"
        );
    }
}
