//! The `query-qmp-schema` reply a server gives: the introspection that
//! generated server bindings carry, under the build conditions that hold.
//!
//! The bindings' `server::INTROSPECTION` is what QEMU built from the
//! schema reports, with the build conditions kept: an entry, member,
//! union branch, alternative or enum member whose condition may fail has
//! it as an `"if"` key, and an enum value or feature that may be left out
//! is `{"value": NAME, "if": CONDITION}`. A condition is written as in the
//! schema: `"CONFIG_LINUX"`, `{"all": [...]}`, `{"any": [...]}`,
//! `{"not": ...}`. [`query_qmp_schema`] leaves out what fails, as QEMU's
//! build does, and strips the conditions.

use std::collections::BTreeSet;

use serde_json::Value;

/// Which build conditions (the schema's `if`: `CONFIG_LINUX`, ...) hold
/// for a server: what `query-qmp-schema` reports follows them, as QEMU's
/// follows its build configuration.
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

    /// Whether `condition` (written as in the schema) holds. A condition
    /// that is not one the schema language writes does not hold.
    pub fn holds(&self, condition: &Value) -> bool {
        let Some(defined) = &self.defined else {
            return true;
        };
        evaluate(condition, defined)
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

/// The reply to `query-qmp-schema` of a server whose build `conditions`
/// hold, from `introspection` (generated server bindings'
/// `server::INTROSPECTION`): what fails is left out, the conditions are
/// stripped. An error when `introspection` is not JSON.
pub fn query_qmp_schema(
    introspection: &str,
    conditions: &Conditions,
) -> Result<Value, serde_json::Error> {
    let value: Value = serde_json::from_str(introspection)?;
    Ok(filtered(value, conditions))
}

/// What a server serves of its dispatch's introspection under its build
/// conditions, worked out from one reading: the `query-qmp-schema` reply
/// (or why the introspection is not JSON) and the commands left out.
#[derive(Debug)]
pub(crate) struct ServedSchema {
    /// The `query-qmp-schema` reply.
    pub(crate) reply: Result<Value, String>,
    /// The commands the conditions leave out: a server built so does not
    /// have them.
    pub(crate) left_out: BTreeSet<String>,
}

impl ServedSchema {
    /// What `introspection` comes to under `conditions`.
    pub(crate) fn new(introspection: &str, conditions: &Conditions) -> Self {
        match serde_json::from_str::<Value>(introspection) {
            Ok(value) => Self {
                left_out: commands_left_out(&value, conditions),
                reply: Ok(filtered(value, conditions)),
            },
            Err(error) => Self {
                reply: Err(error.to_string()),
                left_out: BTreeSet::new(),
            },
        }
    }
}

/// The commands of `introspection` whose condition fails.
fn commands_left_out(introspection: &Value, conditions: &Conditions) -> BTreeSet<String> {
    if conditions.defined.is_none() {
        return BTreeSet::new();
    }
    let Value::Array(entries) = introspection else {
        return BTreeSet::new();
    };
    entries
        .iter()
        .filter(|entry| entry.get("meta-type").and_then(Value::as_str) == Some("command"))
        .filter(|entry| {
            entry
                .get("if")
                .is_some_and(|condition| !conditions.holds(condition))
        })
        .filter_map(|entry| entry.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// `value` without the array elements whose condition fails, and with
/// the conditions of the rest stripped.
fn filtered(value: Value, conditions: &Conditions) -> Value {
    match value {
        Value::Array(elements) => Value::Array(
            elements
                .into_iter()
                .filter_map(|element| kept(element, conditions))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key, filtered(value, conditions)))
                .collect(),
        ),
        other => other,
    }
}

/// An array element: `None` when its condition fails; else the element
/// without its condition (a conditional string becomes the string).
fn kept(element: Value, conditions: &Conditions) -> Option<Value> {
    let Value::Object(mut map) = element else {
        return Some(element);
    };
    let Some(condition) = map.remove("if") else {
        return Some(filtered(Value::Object(map), conditions));
    };
    if !conditions.holds(&condition) {
        return None;
    }
    if map.len() == 1 {
        if let Some(Value::String(text)) = map.get("value") {
            return Some(Value::String(text.clone()));
        }
    }
    Some(filtered(Value::Object(map), conditions))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TEXT: &str = r#"[
{"name":"a","meta-type":"command","arg-type":"0","ret-type":"0"},
{"name":"b","meta-type":"command","arg-type":"0","ret-type":"0","if":"CONFIG_B","features":[{"value":"x","if":"CONFIG_X"}]},
{"name":"0","meta-type":"enum","members":[{"name":"l","if":{"not":"CONFIG_W"}},{"name":"m"}],"values":[{"value":"l","if":{"not":"CONFIG_W"}},"m"]},
{"name":"1","meta-type":"object","members":[{"name":"p","type":"str","if":{"all":["CONFIG_B",{"any":["CONFIG_X","CONFIG_W"]}]}}]}
]"#;

    #[test]
    fn every_condition_holding_keeps_everything() {
        let reply = query_qmp_schema(TEXT, &Conditions::all()).expect("JSON");
        assert_eq!(reply[1]["name"], "b");
        assert_eq!(reply[1]["features"], json!(["x"]));
        assert_eq!(reply[2]["values"], json!(["l", "m"]));
        assert_eq!(reply[3]["members"], json!([{"name": "p", "type": "str"}]));
        assert!(!reply.to_string().contains("\"if\""));
    }

    #[test]
    fn the_commands_a_configuration_leaves_out() {
        let left_out = |text, conditions| ServedSchema::new(text, &conditions).left_out;
        assert!(left_out(TEXT, Conditions::all()).is_empty());
        let only_w = left_out(TEXT, Conditions::only(["CONFIG_W"]));
        assert_eq!(only_w.into_iter().collect::<Vec<_>>(), ["b"]);
        assert!(left_out(TEXT, Conditions::only(["CONFIG_B"])).is_empty());
        let broken = ServedSchema::new("not JSON", &Conditions::only(["CONFIG_B"]));
        assert!(broken.left_out.is_empty() && broken.reply.is_err());
        let reply = ServedSchema::new(TEXT, &Conditions::only(["CONFIG_W"])).reply;
        assert_eq!(
            reply.expect("JSON"),
            query_qmp_schema(TEXT, &Conditions::only(["CONFIG_W"])).expect("JSON")
        );
    }

    #[test]
    fn a_configuration_leaves_out_what_fails() {
        let reply = query_qmp_schema(TEXT, &Conditions::only(["CONFIG_W"])).expect("JSON");
        let names: Vec<&str> = reply
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert_eq!(names, ["a", "0", "1"]);
        assert_eq!(reply[1]["members"], json!([{"name": "m"}]));
        assert_eq!(reply[1]["values"], json!(["m"]));
        assert_eq!(reply[2]["members"], json!([]));
        let with_b =
            query_qmp_schema(TEXT, &Conditions::only(["CONFIG_B", "CONFIG_W"])).expect("JSON");
        assert_eq!(with_b[1]["features"], json!([]));
        assert_eq!(with_b[3]["members"][0]["name"], "p");
        assert_eq!(with_b[2]["values"], json!(["m"]));
    }

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
    fn text_that_is_not_json_is_an_error() {
        assert!(query_qmp_schema("[", &Conditions::all()).is_err());
    }
}
