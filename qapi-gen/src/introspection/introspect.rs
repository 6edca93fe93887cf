//! QEMU's introspection: the `query-qmp-schema` reply, a list of
//! `SchemaInfo` objects, read from a file or captured from a running QEMU.
//!
//! Command and event names are real; type names are masked (`"123"`),
//! and types are reached only by following references from commands and
//! events. [`crate::introspection::reconstruct`] turns an introspection into a QAPI schema
//! with names derived for the masked types; [`crate::introspection::resolve`] pairs it
//! with the schema source QEMU was built from.

use std::collections::HashMap;
use std::path::Path;

use qapi_types::qmp::{JSONType, SchemaInfo, SchemaInfoBranch};

use crate::frontend::error::Error;

/// A server's introspection, indexed by name.
#[derive(Clone, Debug, Default)]
pub struct Introspection {
    infos: Vec<SchemaInfo>,
    index: HashMap<String, usize>,
}

impl Introspection {
    /// Reads introspection JSON: the `query-qmp-schema` reply's `return`
    /// array, or the whole reply (`{"return": [...]}`).
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let list = match value {
            serde_json::Value::Object(mut reply) => match reply.remove("return") {
                Some(list) => list,
                None => {
                    return Err("expected an array of SchemaInfo or a reply with 'return'".into())
                }
            },
            list => list,
        };
        let serde_json::Value::Array(list) = list else {
            return Err("not a query-qmp-schema reply: expected an array of SchemaInfo".into());
        };
        let mut infos = Vec::with_capacity(list.len());
        for (i, mut entity) in list.into_iter().enumerate() {
            let name = entity
                .get("name")
                .and_then(serde_json::Value::as_str)
                .map(|name| format!(" ('{name}')"))
                .unwrap_or_default();
            upgrade_enum(&mut entity);
            let info = serde_json::from_value(entity)
                .map_err(|e| format!("entity {i}{name} is not a SchemaInfo: {e}"))?;
            infos.push(info);
        }
        Self::new(infos)
    }

    /// Indexes `infos`; names must be unique.
    pub fn new(infos: Vec<SchemaInfo>) -> Result<Self, String> {
        let mut index = HashMap::with_capacity(infos.len());
        for (i, info) in infos.iter().enumerate() {
            if index.insert(info.name.clone(), i).is_some() {
                return Err(format!("'{}' is described twice", info.name));
            }
        }
        Ok(Self { infos, index })
    }

    /// Reads an introspection file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::Introspection {
            path: path.to_path_buf(),
            message: format!("can't read the introspection file: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| Error::Introspection {
            path: path.to_path_buf(),
            message: "not UTF-8".into(),
        })?;
        Self::from_json(&text).map_err(|message| Error::Introspection {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Every entity, in the server's order.
    pub fn infos(&self) -> &[SchemaInfo] {
        &self.infos
    }

    /// The entity called `name`.
    pub fn get(&self, name: &str) -> Option<&SchemaInfo> {
        self.index.get(name).map(|&i| &self.infos[i])
    }

    /// The JSON type of builtin `name`, if it is a builtin.
    pub(crate) fn builtin(&self, name: &str) -> Option<&JSONType> {
        match &self.get(name)?.meta_type {
            SchemaInfoBranch::Builtin(b) => Some(&b.json_type),
            _ => None,
        }
    }

    /// Whether `name` is an object type without members or branches (what
    /// QEMU names as the arguments of commands that take none, and as the
    /// return type of commands that return nothing).
    pub(crate) fn is_empty_object(&self, name: &str) -> bool {
        matches!(self.get(name).map(|i| &i.meta_type),
            Some(SchemaInfoBranch::Object(o)) if o.is_empty())
    }
}

/// Gives an enum of QEMU before 6.2, which lists its `values` only, the
/// `members` later releases list them in as well.
fn upgrade_enum(entity: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(map) = entity else {
        return;
    };
    if map.get("meta-type").and_then(Value::as_str) != Some("enum") || map.contains_key("members") {
        return;
    }
    let Some(Value::Array(values)) = map.get("values") else {
        return;
    };
    let members = values
        .iter()
        .map(|value| serde_json::json!({ "name": value }))
        .collect();
    map.insert("members".into(), Value::Array(members));
}

/// Whether a file's contents look like introspection JSON rather than a
/// QAPI schema: a JSON array, or an object whose first key is written in
/// double quotes (a saved reply, `{"return": [...]}` or `{"id": 1,
/// "return": [...]}`); QAPI schemas quote their keys with single quotes.
pub fn looks_like_introspection(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    trimmed.starts_with('[')
        || (trimmed.starts_with('{') && trimmed[1..].trim_start().starts_with('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn introspection_and_schemas_are_told_apart() {
        for introspection in [
            "[{\"name\": \"query-status\"}]",
            "  \n{\"return\": []}",
            "{\"id\": 1, \"return\": []}",
            "{ \"QMP\": {} }",
        ] {
            assert!(
                looks_like_introspection(introspection.as_bytes()),
                "{introspection}"
            );
        }
        for schema in [
            "{ 'command': 'query-status' }",
            "# a comment\n{ 'include': 'a.json' }",
            "{'struct': 'S', 'data': {}}",
            "",
        ] {
            assert!(!looks_like_introspection(schema.as_bytes()), "{schema}");
        }
        let reply = Introspection::from_json("{\"id\": 1, \"return\": []}").expect("read");
        assert!(reply.infos().is_empty());
    }

    #[test]
    fn enums_of_qemu_before_6_2_list_values_only() {
        let old = Introspection::from_json(
            r#"[{"name": "1", "meta-type": "enum", "values": ["a", "b"]}]"#,
        )
        .expect("read");
        let SchemaInfoBranch::Enum(e) = &old.infos()[0].meta_type else {
            panic!("an enum");
        };
        let names: Vec<&str> = e
            .members
            .iter()
            .flatten()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn errors_name_the_entity() {
        let error = Introspection::from_json(
            r#"[{"name": "str", "meta-type": "builtin", "json-type": "string"},
                {"name": "7", "meta-type": "object", "members": 3}]"#,
        )
        .expect_err("members is not a list");
        assert!(
            error.starts_with("entity 1 ('7') is not a SchemaInfo: "),
            "{error}"
        );
        let error = Introspection::from_json("{}").expect_err("not a reply");
        assert!(error.contains("'return'"), "{error}");
    }
}
