//! Rust names for QAPI names: one rule per kind of name, keywords and
//! non-identifiers made legal, the wire name kept beside the Rust name.
//!
//! - Types keep their name when it is already a Rust type name; otherwise
//!   (downstream `__com.vendor_` names, `x-` names) the words between `_`,
//!   `-` and `.` are joined in CamelCase: `__org.qemu_x-Enum` →
//!   `OrgQemuXEnum`.
//! - Commands and events: words in CamelCase: `query-status` →
//!   `QueryStatus`, `BLOCK_JOB_COMPLETED` → `BlockJobCompleted`.
//! - Enum values: words in CamelCase, with `_` kept between two digits and
//!   a leading `_` before a digit: `4k` → `_4k`, `2_5` → `_2_5`, `144` →
//!   `_144`.
//! - Members: snake_case; keywords become raw identifiers (`r#type`), and
//!   `self`, `Self`, `crate` and `super`, which cannot be raw, get a
//!   trailing `_`. A type, command, event or value whose CamelCase name
//!   is `Self` (`self`, `SELF`) is `Self_`.
//! - Clashes within one namespace (types, commands, events, the fields of
//!   a struct, the variants of an enum): the first name in schema order
//!   keeps the plain Rust name, later ones get a number: `2`, `3`, … for
//!   CamelCase names (`_2` after a digit), `_2`, `_3`, … for snake_case.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Keywords of every Rust edition, strict and reserved.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "crate", "super", "_"];

/// The words of a QAPI name: split at `-`, `_` and `.`, empty ones dropped.
fn words(name: &str) -> impl Iterator<Item = &str> {
    name.split(['-', '_', '.']).filter(|w| !w.is_empty())
}

/// Joins CamelCase words, keeping `_` between two digits and putting `_`
/// before a leading digit.
fn join_camel<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for word in parts {
        let camel = word.to_upper_camel_case();
        let camel = if camel.is_empty() {
            word.to_string()
        } else {
            camel
        };
        let joins_digits = out.ends_with(|c: char| c.is_ascii_digit())
            && camel.starts_with(|c: char| c.is_ascii_digit());
        if joins_digits {
            out.push('_');
        }
        out.push_str(&camel);
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// `Self` is the one CamelCase keyword, and cannot be raw.
fn not_self(name: String) -> String {
    if name == "Self" {
        "Self_".to_string()
    } else {
        name
    }
}

/// The Rust name of a type.
pub fn type_name(name: &str) -> String {
    let mut chars = name.chars();
    let is_camel = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric());
    if is_camel {
        return not_self(name.to_string());
    }
    let mut out = String::new();
    for word in words(name) {
        let mut cs = word.chars();
        if let Some(first) = cs.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(cs.as_str());
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, 'T');
    }
    not_self(out)
}

/// The Rust name of a command's or event's type.
pub fn item_name(name: &str) -> String {
    not_self(join_camel(words(name)))
}

/// The Rust name of an enum value or branch.
pub fn variant_name(name: &str) -> String {
    not_self(join_camel(words(name)))
}

/// A wire name's words in CamelCase (`query-status` → `QueryStatus`,
/// `self` → `Self`), to build other names from: not yet an identifier.
pub(crate) fn camel_words(name: &str) -> String {
    join_camel(words(name))
}

/// The Rust name of a member, before keywords are handled.
pub fn field_name(name: &str) -> String {
    let snake = name.to_snake_case();
    let snake = if snake.is_empty() {
        "_".to_string()
    } else {
        snake
    };
    if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{snake}")
    } else {
        snake
    }
}

/// An identifier for `name`: raw for keywords, `name_` for those that
/// cannot be raw.
pub fn ident(name: &str) -> Ident {
    if NOT_RAW.contains(&name) {
        return Ident::new(&format!("{name}_"), Span::call_site());
    }
    if KEYWORDS.contains(&name) {
        return Ident::new_raw(name, Span::call_site());
    }
    Ident::new(name, Span::call_site())
}

/// Makes names unique within one namespace: later duplicates get a number,
/// skipping names already taken (including `reserved` ones). CamelCase
/// names take the number directly (`_` only after a digit), snake_case
/// names after `_`.
pub fn unique(names: Vec<String>, reserved: &[&str], camel: bool) -> Vec<String> {
    let mut taken: std::collections::HashSet<String> =
        reserved.iter().map(|s| s.to_string()).collect();
    names
        .into_iter()
        .map(|name| {
            if taken.insert(name.clone()) {
                return name;
            }
            let mut n = 2;
            loop {
                let candidate = if camel && !name.ends_with(|c: char| c.is_ascii_digit()) {
                    format!("{name}{n}")
                } else {
                    format!("{name}_{n}")
                };
                if taken.insert(candidate.clone()) {
                    return candidate;
                }
                n += 1;
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        for (qapi, rust) in [
            ("BlockdevOptions", "BlockdevOptions"),
            ("X86CPURegister32", "X86CPURegister32"),
            ("QType", "QType"),
            ("__org.qemu_x-Enum", "OrgQemuXEnum"),
            ("__com.example_VendorInfo", "ComExampleVendorInfo"),
            ("x-Foo", "XFoo"),
            ("Self", "Self_"),
        ] {
            assert_eq!(type_name(qapi), rust, "{qapi}");
        }
    }

    #[test]
    fn item_names() {
        for (qapi, rust) in [
            ("query-status", "QueryStatus"),
            ("qmp_capabilities", "QmpCapabilities"),
            ("BLOCK_JOB_COMPLETED", "BlockJobCompleted"),
            ("__com.redhat_drive-mirror", "ComRedhatDriveMirror"),
            ("x-debug-query-block-graph", "XDebugQueryBlockGraph"),
            ("self", "Self_"),
            ("SELF", "Self_"),
        ] {
            assert_eq!(item_name(qapi), rust, "{qapi}");
        }
    }

    #[test]
    fn variant_names() {
        for (qapi, rust) in [
            ("qcow2", "Qcow2"),
            ("virtio-blk-pci", "VirtioBlkPci"),
            ("144", "_144"),
            ("4k", "_4k"),
            ("2_5", "_2_5"),
            ("25", "_25"),
            ("host_cdrom", "HostCdrom"),
            ("SD", "Sd"),
            ("__com.vendor_x-thing", "ComVendorXThing"),
            ("self", "Self_"),
            ("Self", "Self_"),
        ] {
            assert_eq!(variant_name(qapi), rust, "{qapi}");
        }
    }

    #[test]
    fn field_names() {
        for (qapi, rust) in [
            ("node-name", "node_name"),
            ("type", "type"),
            ("fooBar", "foo_bar"),
            ("x-perf", "x_perf"),
            ("__com.redhat_foo", "com_redhat_foo"),
        ] {
            assert_eq!(field_name(qapi), rust, "{qapi}");
        }
    }

    #[test]
    fn keywords() {
        for kw in KEYWORDS {
            let id = ident(kw).to_string();
            if NOT_RAW.contains(kw) {
                assert_eq!(id, format!("{kw}_"));
            } else {
                assert_eq!(id, format!("r#{kw}"));
            }
        }
        assert_eq!(ident("gen").to_string(), "r#gen");
        assert_eq!(ident("node_name").to_string(), "node_name");
    }

    #[test]
    fn clashes() {
        let names = vec![
            "FooBar".into(),
            "FooBar".into(),
            "Other".into(),
            "FooBar".into(),
        ];
        assert_eq!(
            unique(names, &["FooBar2"], true),
            ["FooBar", "FooBar3", "Other", "FooBar4"]
        );
        let names = vec!["Qcow2".into(), "Qcow2".into()];
        assert_eq!(unique(names, &[], true), ["Qcow2", "Qcow2_2"]);
        let names = vec!["a_b".into(), "a_b".into()];
        assert_eq!(unique(names, &[], false), ["a_b", "a_b_2"]);
    }
}
