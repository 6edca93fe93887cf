//! Mutated schemas never make the frontend panic, and every diagnostic
//! points inside the file it names; whatever the frontend accepts, the
//! generator turns into bindings that parse as Rust, whatever its names.

use std::path::Path;

use proptest::prelude::*;
use qapi_gen::{load_with, rust_source_with, DocRules, Error, Options};
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
                // Formatting parses the bindings as Rust first; the server
                // side too.
                let options = Options {
                    docs: true,
                    format: true,
                    server: true,
                };
                rust_source_with(&loaded.schema, "mutated.json", options)
                    .expect("whatever the frontend accepts generates bindings that parse");
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
            Err(error) => panic!("loading a schema fails only as invalid: {error}"),
        }
    }
}

/// Names that are keywords, std types, names the generator itself uses,
/// or not Rust identifiers at all, each valid QAPI where it is used;
/// `names` separated by spaces.
fn tricky(names: &'static str) -> impl Strategy<Value = &'static str> {
    prop::sample::select(names.split_whitespace().collect::<Vec<_>>())
}

const TYPES: &str = "Self Option String Vec Box Result Event Unrecognized Branch Foo \
    FooBranch Qcow2 Null Empty Any Commands __com.vendor_Bar x-Foo Schema Ok";
const LOWER: &str = "self super crate type in match async gen try abstract default x-foo \
    __com.vendor_x-bar foo-bar qcow2 new with-x commands events unrecognized case members \
    map value ok";
const VALUES: &str =
    "self Self super type in 0 1st 4k default x-foo foo-bar unrecognized qcow2 none";
const EVENTS: &str = "SELF UNRECOGNIZED EVENT FOO_BAR TYPE MATCH IN X_FOO SCHEMA";

/// A schema with the given type, value, member, command and event names.
fn schema_with(types: &[&str], values: &[&str], lower: &[&str], events: &[&str]) -> String {
    format!(
        "{{ 'enum': '{t0}', 'data': [ '{v0}', '{v1}' ] }}
         {{ 'struct': '{t1}', 'data': {{ '{m0}': 'int', '*{m1}': '{t0}' }} }}
         {{ 'union': '{t2}', 'base': {{ '{m2}': '{t0}' }}, 'discriminator': '{m2}',
           'data': {{ '{v0}': '{t1}' }} }}
         {{ 'alternate': '{t3}', 'data': {{ '{m1}': 'int', '{m0}': '{t1}' }} }}
         {{ 'command': '{c0}', 'data': {{ '{m0}': '{t2}', '*{m3}': '{t3}' }}, 'returns': '{t1}' }}
         {{ 'command': '{c1}', 'data': '{t1}' }}
         {{ 'event': '{e0}', 'data': {{ '{m1}': '{t3}' }} }}
         {{ 'event': '{e1}', 'data': '{t2}', 'boxed': true }}",
        t0 = types[0],
        t1 = types[1],
        t2 = types[2],
        t3 = types[3],
        v0 = values[0],
        v1 = values[1],
        m0 = lower[0],
        m1 = lower[1],
        m2 = lower[2],
        m3 = lower[3],
        c0 = lower[4],
        c1 = lower[5],
        e0 = events[0],
        e1 = events[1],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn tricky_names_generate_bindings_that_parse(
        types in prop::collection::vec(tricky(TYPES), 4),
        values in prop::collection::vec(tricky(VALUES), 2),
        lower in prop::collection::vec(tricky(LOWER), 6),
        events in prop::collection::vec(tricky(EVENTS), 2),
    ) {
        check_no_panic(schema_with(&types, &values, &lower, &events).as_bytes());
    }

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
