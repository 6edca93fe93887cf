//! Compiles every golden file of `tests/golden/` with warnings denied, and
//! checks that each decodes an event it does not know as `Unrecognized`.
#![deny(warnings)]

#[path = "golden/alternate-array-branch.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod alternate_array_branch;
#[path = "golden/alternates.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod alternates;
#[path = "golden/arrays.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod arrays;
#[path = "golden/boxed.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod boxed;
#[path = "golden/builtins.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod builtins;
#[path = "golden/conditionals.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod conditionals;
#[path = "golden/doc-required.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod doc_required;
#[path = "golden/downstream-names.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod downstream_names;
#[path = "golden/empty-things.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod empty_things;
#[path = "golden/enum-values.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod enum_values;
#[path = "golden/experimental-names.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod experimental_names;
#[path = "golden/feature-limit-boundary.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod feature_limit_boundary;
#[path = "golden/features-and-flags.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod features_and_flags;
#[path = "golden/freeform-docs.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod freeform_docs;
#[path = "golden/include-main.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod include_main;
#[path = "golden/naming-edge-cases.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod naming_edge_cases;
#[path = "golden/pragmas.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod pragmas;
#[path = "golden/recursive-types.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod recursive_types;
#[path = "golden/rust-names.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod rust_names;
#[path = "golden/union-branch-union.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod union_branch_union;
#[path = "golden/unions.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod unions;

macro_rules! unknown_events_are_kept {
    ($($module:ident),*) => {$(
        {
            use qapi_types::EventSet;
            let raw: qapi_types::RawEvent = qapi_types::serde_json::from_value(qapi_types::serde_json::json!({
                "event": "NO_SUCH_EVENT", "timestamp": { "seconds": 1, "microseconds": 0 }
            }))
            .expect("a raw event");
            let decoded = $module::events::Event::decode(&raw).expect("decodes");
            assert_eq!(decoded, $module::events::Event::Unrecognized(raw), stringify!($module));
        }
    )*};
}

#[test]
fn goldens_compile_and_keep_unknown_events() {
    unknown_events_are_kept!(
        alternate_array_branch,
        alternates,
        arrays,
        boxed,
        builtins,
        conditionals,
        doc_required,
        downstream_names,
        empty_things,
        enum_values,
        experimental_names,
        feature_limit_boundary,
        features_and_flags,
        freeform_docs,
        include_main,
        naming_edge_cases,
        pragmas,
        recursive_types,
        rust_names,
        union_branch_union,
        unions
    );
}
