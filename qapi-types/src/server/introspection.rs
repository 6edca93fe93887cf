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

use serde_json::Value;

use super::conditions::Conditions;

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
    fn text_that_is_not_json_is_an_error() {
        assert!(query_qmp_schema("[", &Conditions::all()).is_err());
    }
}
