//! The build conditions a server is under: which configuration symbols
//! (`CONFIG_LINUX`, ...) its build defines, and whether a condition holds,
//! written as the schema writes it (in an introspection's `"if"`) or as a
//! bindings' table does ([`Condition`]).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::schema::table::Condition;

/// Which build conditions (the schema's `if`: `CONFIG_LINUX`, ...) hold
/// for a server: what `query-qmp-schema` reports, the commands served and
/// the arguments taken follow them, as QEMU's follow its build
/// configuration.
///
/// By default every condition holds: everything the schema defines is
/// reported. [`Conditions::only`] is one build configuration: exactly
/// the named configuration symbols are defined.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `None`: every condition holds; else the symbols defined.
    defined: Option<BTreeSet<String>>,
}

impl Conditions {
    /// Every condition holds: nothing is left out (the default).
    pub fn all() -> Self {
        Self::default()
    }

    /// Exactly the configuration symbols `symbols` are defined
    /// (`CONFIG_LINUX`, `CONFIG_POSIX`, ...): a condition holds as it
    /// would in a QEMU build configured so.
    pub fn only<I>(symbols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self {
            defined: Some(symbols.into_iter().map(Into::into).collect()),
        }
    }

    /// Whether `condition` (written as in the schema) holds: always, when
    /// every condition does ([`Conditions::all`]); else as the schema
    /// language reads it, and not at all for a condition it can't write.
    pub fn holds(&self, condition: &Value) -> bool {
        let Some(defined) = &self.defined else {
            return true;
        };
        evaluate(condition, defined)
    }

    /// Whether a build under these conditions has what a bindings'
    /// table defines under `condition` (`None`: unconditionally).
    pub fn keeps(&self, condition: Option<Condition>) -> bool {
        match (&self.defined, condition) {
            (Some(defined), Some(condition)) => condition.holds(&|symbol| defined.contains(symbol)),
            _ => true,
        }
    }
}

/// Whether `condition` holds when exactly `defined` are defined.
fn evaluate(condition: &Value, defined: &BTreeSet<String>) -> bool {
    match condition {
        Value::String(symbol) => defined.contains(symbol),
        Value::Object(map) if map.len() == 1 => match map.iter().next() {
            Some((key, Value::Array(all))) if key == "all" => {
                all.iter().all(|c| evaluate(c, defined))
            }
            Some((key, Value::Array(any))) if key == "any" => {
                any.iter().any(|c| evaluate(c, defined))
            }
            Some((key, not)) if key == "not" => !evaluate(not, defined),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn conditions_evaluate_as_the_schema_language_says() {
        let only = Conditions::only(["A"]);
        assert!(only.holds(&json!("A")));
        assert!(!only.holds(&json!("B")));
        assert!(only.holds(&json!({"not": "B"})));
        assert!(only.holds(&json!({"any": ["B", "A"]})));
        assert!(!only.holds(&json!({"all": ["B", "A"]})));
        assert!(!only.holds(&json!({"nor": ["B"]})));
        assert!(!only.holds(&json!(1)));
        assert!(Conditions::all().holds(&json!("B")));
    }

    #[test]
    fn table_conditions_are_kept_as_introspection_conditions_are() {
        let not_w = Condition::Not(&Condition::Defined("CONFIG_W"));
        let b_and_x_or_w = Condition::All(&[
            Condition::Defined("CONFIG_B"),
            Condition::Any(&[
                Condition::Defined("CONFIG_X"),
                Condition::Defined("CONFIG_W"),
            ]),
        ]);
        let pairs = [
            (not_w, json!({"not": "CONFIG_W"})),
            (
                b_and_x_or_w,
                json!({"all": ["CONFIG_B", {"any": ["CONFIG_X", "CONFIG_W"]}]}),
            ),
        ];
        for conditions in [
            Conditions::all(),
            Conditions::only(["CONFIG_W"]),
            Conditions::only(["CONFIG_B", "CONFIG_X"]),
            Conditions::only(["CONFIG_B"]),
        ] {
            assert!(conditions.keeps(None));
            for (condition, written) in &pairs {
                assert_eq!(
                    conditions.keeps(Some(*condition)),
                    conditions.holds(written),
                    "{conditions:?} {written}"
                );
            }
        }
        assert!(!Conditions::only(["CONFIG_W"]).keeps(Some(not_w)));
        assert!(Conditions::only(["CONFIG_B", "CONFIG_W"]).keeps(Some(b_and_x_or_w)));
    }
}
