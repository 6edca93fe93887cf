//! Feeds arbitrary bytes to the schema frontend (parser, doc comments,
//! expression and schema checks) under both doc-comment rule sets.
//!
//! Run with `cargo fuzz run frontend` from the `fuzz/` directory; seed the
//! corpus with the project's schemas: `cp ../schema/*.json ../tests/schemas/*/*.json corpus/frontend/`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use qapi_gen::{load_with, DocRules, Error};

fuzz_target!(|data: &[u8]| {
    let root = Path::new("fuzz.json");
    // The root file is the input; an include of `fuzz.json` itself is a
    // loop, any other include is missing.
    let read = |path: &Path| {
        if path == root {
            Ok(data.to_vec())
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
                let _ = report.render();
            }
            // Loading reads no introspection file and generates no code:
            // an error other than an invalid schema is a bug.
            Err(error) => panic!("not an invalid schema: {error}"),
        }
    }
});
