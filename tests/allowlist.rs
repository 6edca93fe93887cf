//! Allowlisted generation (`Builder::only`, `cargo qapi generate --only`):
//! goldens for the project's example schema (compiled with the others by
//! `golden_compile.rs`), kept items identical to the full bindings, and
//! the error for a name that matches nothing.

use qapi_gen::{load_for_generation, rust_source, rust_source_only, Options, Selection};
use qapi_tests::{golden, workspace, TempDir};

const SCHEMA: &str = "schema/example.json";

/// Each golden: its name and the allowlist it keeps.
const CASES: &[(&str, &[&str])] = &[
    // A union (`ExportOptions`) with its discriminator enum and branches.
    ("union", &["export-add"]),
    // An alternate (`SnapshotRetention`).
    ("alternate", &["snapshot-create"]),
    // A recursive type (`SnapshotNode` holds `[SnapshotNode]`).
    ("recursive", &["query-snapshot-tree"]),
    // An event alone.
    ("event", &["JOB_STATUS_CHANGE"]),
    // A glob, and a list mixing commands and events.
    ("glob", &["query-volume*", "VOLUME_HEALTH_CHANGED"]),
];

fn schema() -> qapi_gen::Schema {
    load_for_generation(&workspace().join(SCHEMA))
        .expect("the example schema loads")
        .schema
}

fn allowlisted(schema: &qapi_gen::Schema, patterns: &[&str]) -> String {
    let selection = Selection::only(schema, patterns).expect("every pattern matches");
    rust_source_only(schema, SCHEMA, Options::default(), &selection).expect("the bindings parse")
}

#[test]
fn allowlisted_bindings_match_goldens() {
    let schema = schema();
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|(name, patterns)| {
            let path = workspace().join(format!("tests/golden/allowlist/{name}.rs"));
            golden(&path, &allowlisted(&schema, patterns)).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every item of allowlisted bindings is, byte for byte, an item of the
/// full bindings, but for the two that list what is kept (the `SCHEMA`
/// table and the `Event` enum) and for doc links, which lead only to what
/// is kept.
#[test]
fn kept_items_are_generated_as_in_the_full_bindings() {
    let schema = schema();
    let full = unlinked(&rust_source(&schema, SCHEMA).expect("the bindings parse"));
    for (name, patterns) in CASES {
        let source = allowlisted(&schema, patterns);
        let mut compared = 0;
        for item in kept_items(&source) {
            assert!(
                full.contains(&unlinked(item)),
                "{name}: an item differs from the full bindings':\n{item}"
            );
            compared += 1;
        }
        assert!(compared > 3, "{name}: only {compared} items compared");
    }
}

/// `text` with its intra-doc links as plain code (`` [`x`](path) `` as
/// `` `x` ``): an allowlist's bindings don't link to what they leave out.
fn unlinked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("[`") {
        let Some(close) = rest[open + 2..].find("`]").map(|at| open + 2 + at) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close + 1]);
        rest = &rest[close + 2..];
        if rest.starts_with('(') {
            if let Some(end) = rest.find(')') {
                rest = &rest[end + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The items of `source` but for those that list what is kept (the
/// `SCHEMA` table, the `Event` enum), each without the lines that open
/// the `commands` and `events` modules.
fn kept_items(source: &str) -> Vec<&str> {
    let body = source.split_once("\n\n").expect("a header").1;
    body.split("\n\n")
        .map(|chunk| match chunk.find("\npub mod ") {
            Some(at) => chunk[at + 1..]
                .split_once('\n')
                .map_or("", |(_, rest)| rest),
            None if chunk.starts_with("pub mod ") => {
                chunk.split_once('\n').map_or("", |(_, rest)| rest)
            }
            None => chunk,
        })
        .filter(|item| {
            !(item.contains("pub static SCHEMA")
                || item.contains("pub enum Event ")
                || item.contains("EventSet for Event ")
                || item.trim().trim_matches('}').trim().is_empty())
        })
        .map(|item| item.trim_end_matches(['}', '\n']))
        .collect()
}

/// From an introspection alone, the names derived for unnamed types are
/// decided on the whole schema: growing the allowlist changes none of
/// the items already kept.
#[test]
fn introspected_names_stay_when_the_allowlist_grows() {
    let path = workspace().join("tests/schemas/introspection/server.json");
    let loaded = qapi_gen::introspect::load(&path, None)
        .expect("the introspection loads")
        .loaded;
    let generate = |patterns: &[&str]| {
        let selection = Selection::only(&loaded.schema, patterns).expect("matches");
        rust_source_only(&loaded.schema, "server", Options::default(), &selection)
            .expect("the bindings parse")
    };
    let small = generate(&["disk-add"]);
    let grown = generate(&["disk-add", "query-disk*", "DISK_*"]);
    let full = rust_source(&loaded.schema, "server").expect("the bindings parse");
    let items = kept_items(&small);
    assert!(items.len() > 2, "{small}");
    for item in items {
        assert!(
            unlinked(&grown).contains(&unlinked(item)),
            "changed when the allowlist grew:\n{item}"
        );
        assert!(
            unlinked(&full).contains(&unlinked(item)),
            "differs from the full bindings':\n{item}"
        );
    }
    assert!(grown.len() > small.len() && full.len() > grown.len());
}

/// Every intra-doc link of allowlisted bindings leads to an item they
/// hold: a doc naming a command the allowlist leaves out keeps the name
/// as text (rustdoc would reject the link).
#[test]
fn doc_links_lead_only_to_kept_items() {
    let schema = schema();
    for (name, patterns) in CASES {
        let source = allowlisted(&schema, patterns);
        let mut links = 0;
        for (_, rest) in source
            .match_indices("`](")
            .map(|(at, _)| ((), &source[at + 3..]))
        {
            let target = rest.split(')').next().expect("a closing parenthesis");
            let item = target.rsplit("::").next().expect("a name");
            let defined = [" struct ", " enum "].iter().any(|kind| {
                source.contains(&format!("{kind}{item} "))
                    || source.contains(&format!("{kind}{item}("))
            });
            assert!(
                defined,
                "{name}: a link to {target}, which the bindings lack"
            );
            links += 1;
        }
        assert!(links > 0 || *name == "recursive", "{name}: no link checked");
    }
}

#[test]
fn what_is_kept_is_exactly_what_is_reached() {
    let schema = schema();
    let counts = |patterns: &[&str]| {
        Selection::only(&schema, patterns)
            .expect("matches")
            .counts(&schema)
    };
    let one = counts(&["query-snapshot-tree"]);
    assert_eq!((one.commands.kept, one.events.kept), (1, 0));
    // `[SnapshotNode]` reaches SnapshotNode, the SnapshotInfo it holds,
    // and the enum that holds.
    assert_eq!(one.types.kept, 3, "{one}");
    let tree = Selection::only(&schema, &["query-snapshot-tree"]).expect("matches");
    let kept = |name: &str| tree.contains(schema.lookup(name).expect("defined"));
    assert!(kept("SnapshotNode") && kept("SnapshotInfo"));
    assert!(!kept("ExportOptions") && !kept("snapshot-create"));
    let glob = counts(&["query-volume*"]);
    assert_eq!(glob.commands.kept, 2, "{glob}");
    let all = Selection::all().counts(&schema);
    assert_eq!(all.commands.kept, all.commands.total);
    assert!(all.commands.total > glob.commands.total - 1);
    assert_eq!(
        one.to_string(),
        format!(
            "kept 1 of {c} commands, 0 of {e} events, 3 of {t} types \
             (left out: {c1} commands, {e} events, {t1} types)",
            c = all.commands.total,
            e = all.events.total,
            t = all.types.total,
            c1 = all.commands.total - 1,
            t1 = all.types.total - 3,
        )
    );
}

#[test]
fn an_allowlist_is_deterministic_whatever_its_order() {
    let schema = schema();
    let forward = allowlisted(&schema, &["export-add", "query-jobs", "JOB_STATUS_CHANGE"]);
    let backward = allowlisted(&schema, &["JOB_STATUS_CHANGE", "query-jobs", "export-add"]);
    assert_eq!(forward, backward);
}

#[test]
fn a_name_matching_nothing_is_an_error_naming_it_with_the_nearest_names() {
    let schema = schema();
    let error = Selection::only(&schema, &["volume-craete", "query-volume*", "nothing-*"])
        .expect_err("two patterns match nothing");
    let path = workspace().join("tests/golden/allowlist/unmatched.err");
    golden(&path, &format!("{error}\n")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(error.patterns.len(), 2);
    assert_eq!(error.patterns[0].pattern, "volume-craete");
    assert_eq!(error.patterns[0].nearest[0], "volume-create");
    assert!(error.patterns[1].nearest.is_empty());
}

#[test]
fn builder_only_fails_naming_what_matches_nothing() {
    let dir = TempDir::new("allowlist");
    let out = dir.path();
    let error = qapi_gen::Builder::new(workspace().join(SCHEMA))
        .only(["volume-craete"])
        .out_dir(out)
        .generate()
        .expect_err("the name matches nothing");
    assert!(
        error.to_string().contains("`volume-craete`")
            && error.to_string().contains("volume-create"),
        "{error}"
    );
    assert!(!out.join("example.rs").exists(), "nothing is written");
    let generated = qapi_gen::Builder::new(workspace().join(SCHEMA))
        .only(["export-*"])
        .only(["JOB_STATUS_CHANGE"])
        .out_dir(out)
        .generate()
        .expect("generates");
    let source = std::fs::read_to_string(&generated.path).expect("written");
    assert!(
        source.contains("pub struct ExportAdd") && source.contains("pub struct JobStatusChange")
    );
    assert!(!source.contains("pub struct QueryJobs"));
}

fn cargo_qapi(args: &[&str]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let argv = std::iter::once("cargo-qapi")
        .chain(args.iter().copied())
        .map(Into::into);
    let code = qapi_gen::cli::run(argv, &mut out, &mut err);
    let text = |bytes| String::from_utf8(bytes).expect("utf-8");
    (code, text(out), text(err))
}

#[test]
fn cargo_qapi_generate_only_counts_what_it_kept_on_standard_error() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("allowlist-cli");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("writable");
    let out = dir.join("glob.rs");
    let out = out.to_str().expect("utf-8");
    let args = [
        "qapi",
        "generate",
        SCHEMA,
        "--out",
        out,
        "--only",
        "query-volume*",
        "--only=VOLUME_HEALTH_CHANGED",
    ];
    let (code, stdout, err) = cargo_qapi(&args);
    assert_eq!(code, qapi_gen::cli::EXIT_OK, "{err}");
    assert!(stdout.ends_with(": written\n"), "{stdout}");
    assert!(
        err.starts_with("kept 2 of ")
            && err.contains(" commands, 1 of ")
            && err.contains("left out: "),
        "{err}"
    );
    // The same bytes as the builder's (the golden).
    let golden = std::fs::read_to_string(workspace().join("tests/golden/allowlist/glob.rs"))
        .expect("the golden exists");
    assert_eq!(std::fs::read_to_string(out).expect("written"), golden);
    // A comma-separated list is the same allowlist.
    let mut comma = args.to_vec();
    comma.truncate(5);
    comma.extend(["--check", "--only", "VOLUME_HEALTH_CHANGED,query-volume*"]);
    let (code, _, err) = cargo_qapi(&comma);
    assert_eq!(code, qapi_gen::cli::EXIT_OK, "{err}");

    let (code, _, err) = cargo_qapi(&[
        "qapi",
        "generate",
        SCHEMA,
        "--out",
        out,
        "--only",
        "volume-craete",
    ]);
    assert_eq!(code, qapi_gen::cli::EXIT_USAGE);
    assert!(
        err.contains("`volume-craete`") && err.contains("nearest: volume-create"),
        "{err}"
    );
}
