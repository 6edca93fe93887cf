//! Compiles every golden file of `tests/golden/` with warnings denied, and
//! checks that each decodes an event it does not know as `Unrecognized`.
#![deny(warnings)]

// A module for each file of tests/golden (written by build.rs), and
// `for_each_golden!`, which names them all.
include!(concat!(env!("OUT_DIR"), "/goldens.rs"));

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
    for_each_golden!(unknown_events_are_kept);
}

/// Every integer width accepts exactly its range, through the `builtins`
/// golden: the limits decode and re-encode, one past them is an error.
#[test]
fn integer_widths_accept_exactly_their_range() {
    use qapi_types::serde_json::{self, json, Value};
    let cases: [(&str, Value, Value, Value, Value); 9] = [
        (
            "i",
            json!(i64::MIN),
            json!(i64::MAX),
            json!(-9223372036854775809.0_f64 * 2.0),
            json!(1.5),
        ),
        (
            "i8",
            json!(i8::MIN),
            json!(i8::MAX),
            json!(-129),
            json!(128),
        ),
        (
            "i16",
            json!(i16::MIN),
            json!(i16::MAX),
            json!(-32769),
            json!(32768),
        ),
        (
            "i32",
            json!(i32::MIN),
            json!(i32::MAX),
            json!(-2147483649_i64),
            json!(2147483648_i64),
        ),
        (
            "i64",
            json!(i64::MIN),
            json!(i64::MAX),
            json!(9223372036854775808_u64),
            json!("1"),
        ),
        ("u8", json!(0), json!(u8::MAX), json!(-1), json!(256)),
        ("u16", json!(0), json!(u16::MAX), json!(-1), json!(65536)),
        (
            "u32",
            json!(0),
            json!(u32::MAX),
            json!(-1),
            json!(4294967296_u64),
        ),
        (
            "u64",
            json!(0),
            json!(u64::MAX),
            json!(-1),
            json!(18446744073709551616.0_f64),
        ),
    ];
    for (member, min, max, below, above) in cases {
        for ok in [min, max] {
            let object = json!({ member: ok });
            let decoded: builtins::OptionalBuiltins =
                serde_json::from_value(object.clone()).unwrap_or_else(|e| panic!("{object}: {e}"));
            assert_eq!(serde_json::to_value(&decoded).expect("encodes"), object);
        }
        for bad in [below, above] {
            let object = json!({ member: bad });
            assert!(
                serde_json::from_value::<builtins::OptionalBuiltins>(object.clone()).is_err(),
                "{object} must be rejected"
            );
        }
    }
    // `size` is a 64-bit unsigned byte count.
    let size: builtins::OptionalBuiltins =
        serde_json::from_value(json!({ "sz": u64::MAX })).expect("decodes");
    assert_eq!(size.sz, Some(u64::MAX));
}
