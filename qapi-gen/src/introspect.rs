//! QEMU's introspection: the `query-qmp-schema` reply, a list of
//! `SchemaInfo` objects, read from a file or captured from a running QEMU.
//!
//! Command and event names are real; type names are masked (`"123"`),
//! and types are reached only by following references from commands and
//! events. [`crate::reconstruct`] turns an introspection into a QAPI schema
//! with names derived for the masked types; [`crate::resolve`] pairs it
//! with the schema source QEMU was built from.

use std::collections::HashMap;
use std::path::Path;

use qapi_types::qmp::{JSONType, SchemaInfo, SchemaInfoBranch};

/// A server's introspection, indexed by name.
#[derive(Clone, Debug)]
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
    pub fn read(path: &Path) -> Result<Self, crate::Error> {
        let bytes = std::fs::read(path).map_err(|e| crate::Error::Introspection {
            path: path.to_path_buf(),
            message: format!("can't read the introspection file: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| crate::Error::Introspection {
            path: path.to_path_buf(),
            message: "not UTF-8".into(),
        })?;
        Self::from_json(&text).map_err(|message| crate::Error::Introspection {
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
            Some(SchemaInfoBranch::Object(o))
                if o.members.is_empty() && o.variants.as_ref().is_none_or(|v| v.is_empty()))
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

/// A schema read from an introspection.
#[derive(Debug)]
pub struct Introspected {
    /// The schema, checked as any other.
    pub loaded: crate::Loaded,
    /// Where the schema source and the introspection disagree beyond
    /// build conditions (they come from different QEMU versions).
    pub notes: Vec<String>,
}

/// Reads the introspection file at `path` as a schema.
///
/// With the schema `source` QEMU was built from, the result is that
/// source holding exactly what the introspected build exposes (see
/// [`crate::resolve`]), with its docs and exact types. Without one, it
/// is rebuilt from the introspection alone, with names derived for the
/// masked types (see [`crate::reconstruct`]).
pub fn load(path: &Path, source: Option<&Path>) -> Result<Introspected, crate::Error> {
    let intro = Introspection::read(path)?;
    match source {
        Some(source) => {
            let loaded = crate::load_for_generation(source)?;
            let (schema, notes) = crate::resolve::resolve(&loaded.schema, &intro);
            Ok(Introspected {
                loaded: crate::Loaded {
                    schema,
                    warnings: loaded.warnings,
                },
                notes,
            })
        }
        None => Ok(Introspected {
            loaded: rebuild(&intro, path)?,
            notes: Vec::new(),
        }),
    }
}

/// The schema rebuilt from `intro` alone; `path` names it in messages.
pub fn rebuild(intro: &Introspection, path: &Path) -> Result<crate::Loaded, crate::Error> {
    rebuild_with(intro, path, &HashMap::new())
}

fn rebuild_with(
    intro: &Introspection,
    path: &Path,
    names: &HashMap<String, String>,
) -> Result<crate::Loaded, crate::Error> {
    let text = crate::reconstruct::reconstruct_named(intro, names).map_err(|message| {
        crate::Error::Introspection {
            path: path.to_path_buf(),
            message,
        }
    })?;
    let virtual_path = std::path::PathBuf::from(format!("{} (rebuilt as QAPI)", path.display()));
    let mut loaded = crate::load_with(&virtual_path, crate::DocRules::Lenient, &|p| {
        if p == virtual_path {
            Ok(text.clone().into_bytes())
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        }
    })?;
    // The docs are the rebuild's own; problems with them are not the user's.
    loaded.warnings.clear();
    Ok(loaded)
}

/// The schema rebuilt from an introspection, as QAPI schema text.
pub fn to_qapi(intro: &Introspection) -> Result<String, String> {
    crate::reconstruct::reconstruct(intro)
}

/// Like [`rebuild`], with the type names of `previous` (a schema rebuilt
/// from an earlier introspection, or a schema source) wherever its types
/// pair up with the introspection's: the names stay what they were when
/// the server gains or moves definitions.
pub fn rebuild_like(
    intro: &Introspection,
    path: &Path,
    previous: &crate::Schema,
) -> Result<crate::Loaded, crate::Error> {
    let names = crate::resolve::type_names(previous, intro);
    rebuild_with(intro, path, &names)
}

/// What a file holds: a schema (with its includes) or an introspection.
#[derive(Debug)]
pub enum Input {
    /// A schema, loaded with lenient doc rules and its warnings dropped.
    Schema(crate::Schema),
    /// An introspection.
    Introspection(Introspection),
}

/// Reads a schema file or an introspection file, telling them apart by
/// their first bytes (see [`looks_like_introspection`]).
pub fn read_input(path: &Path) -> Result<Input, crate::Error> {
    let io = |source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::new();
    let file = std::fs::File::open(path).map_err(io)?;
    std::io::Read::read_to_end(&mut std::io::Read::take(file, 64), &mut head).map_err(io)?;
    if looks_like_introspection(&head) {
        Introspection::read(path).map(Input::Introspection)
    } else {
        crate::load_for_generation(path).map(|loaded| Input::Schema(loaded.schema))
    }
}

/// Two versions of an interface, schema or introspection files, as
/// schemas to compare. Two schemas are compared as they are. Otherwise
/// both sides are taken as introspection (a schema as [`of_schema`]
/// reports it), so that only what the wire shows is compared, and rebuilt
/// with the type names of one side (the schema's, else the old one's)
/// wherever the types pair up (see [`rebuild_like`]): a type is not
/// reported as renamed because its derived name moved.
pub fn load_pair(old: &Path, new: &Path) -> Result<(crate::Schema, crate::Schema), crate::Error> {
    let as_introspection = |input: Input| match input {
        Input::Schema(schema) => of_schema(&schema),
        Input::Introspection(intro) => intro,
    };
    match (read_input(old)?, read_input(new)?) {
        (Input::Schema(a), Input::Schema(b)) => Ok((a, b)),
        // The schema's names, where one side has them.
        (a @ Input::Introspection(_), b @ Input::Schema(_)) => {
            let b = rebuild(&as_introspection(b), new)?.schema;
            let a = rebuild_like(&as_introspection(a), old, &b)?.schema;
            Ok((a, b))
        }
        (a, b) => {
            let a = rebuild(&as_introspection(a), old)?.schema;
            let b = rebuild_like(&as_introspection(b), new, &a)?.schema;
            Ok((a, b))
        }
    }
}

/// The introspection at `path` rebuilt with the type names of
/// `names_from` (a schema, or the introspection bindings were generated
/// from before) wherever their types pair up (see [`rebuild_like`]).
pub fn load_named(path: &Path, names_from: &Path) -> Result<crate::Loaded, crate::Error> {
    let previous = match read_input(names_from)? {
        Input::Schema(schema) => schema,
        Input::Introspection(intro) => rebuild(&intro, names_from)?.schema,
    };
    let intro = Introspection::read(path)?;
    rebuild_like(&intro, path, &previous)
}

/// What QEMU built from `schema` would report in `query-qmp-schema`, with
/// every condition taken to hold and the type names left unmasked: the
/// commands, the events and the types they reach. Integer types all
/// report as `int`, as QEMU reports them; a struct's base is flattened.
pub fn of_schema(schema: &crate::Schema) -> Introspection {
    use crate::model::{EntityId, EntityKind};
    use serde_json::{json, Value};
    const EMPTY: &str = "q_empty";
    let mut infos: Vec<Value> = vec![json!({"name": EMPTY, "meta-type": "object", "members": []})];
    let mut seen = std::collections::HashSet::new();
    let mut queue: Vec<EntityId> = Vec::new();
    // The introspection name of a reference, queueing what it names.
    let mut name_of = |id: Option<EntityId>, queue: &mut Vec<EntityId>| -> String {
        let Some(id) = id else {
            return EMPTY.to_string();
        };
        let mut id = id;
        let mut brackets = 0;
        while let EntityKind::Array(a) = &schema.entity(id).kind {
            if seen.insert(id) {
                queue.push(id);
            }
            id = a.element;
            brackets += 1;
        }
        if seen.insert(id) {
            queue.push(id);
        }
        let base = match &schema.entity(id).kind {
            EntityKind::Builtin(b) => builtin_name(b.json_type()).to_string(),
            _ => schema.entity(id).name.clone(),
        };
        format!("{}{base}{}", "[".repeat(brackets), "]".repeat(brackets))
    };
    let features = |features: &[crate::model::Feature]| -> Value {
        features
            .iter()
            .map(|f| Value::String(f.name.clone()))
            .collect()
    };
    for id in schema.ids() {
        let entity = schema.entity(id);
        let mut info = match &entity.kind {
            EntityKind::Command(c) => json!({
                "name": entity.name, "meta-type": "command",
                "arg-type": name_of(c.arg_type, &mut queue),
                "ret-type": name_of(c.ret_type, &mut queue),
                "allow-oob": c.allow_oob,
            }),
            EntityKind::Event(e) => json!({
                "name": entity.name, "meta-type": "event",
                "arg-type": name_of(e.arg_type, &mut queue),
            }),
            _ => continue,
        };
        info["features"] = features(&entity.features);
        infos.push(info);
    }
    while let Some(id) = queue.pop() {
        let entity = schema.entity(id);
        let mut info = match &entity.kind {
            EntityKind::Builtin(b) => json!({
                "name": builtin_name(b.json_type()), "meta-type": "builtin",
                "json-type": json_type_name(b.json_type()),
            }),
            EntityKind::Array(a) => json!({
                "name": name_of(Some(id), &mut queue), "meta-type": "array",
                "element-type": name_of(Some(a.element), &mut queue),
            }),
            EntityKind::Enum(e) => json!({
                "name": entity.name, "meta-type": "enum",
                "members": e.values.iter().map(|v| json!({"name": v.name, "features": features(&v.features)})).collect::<Vec<_>>(),
                "values": e.values.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
            }),
            EntityKind::Object(o) => {
                let members: Vec<Value> = schema
                    .members(id)
                    .iter()
                    .map(|m| {
                        let mut member = json!({"name": m.name, "type": name_of(Some(m.ty), &mut queue), "features": features(&m.features)});
                        if m.optional {
                            member["default"] = Value::Null;
                        }
                        member
                    })
                    .collect();
                let mut info =
                    json!({"name": entity.name, "meta-type": "object", "members": members});
                if let Some(branches) = &o.branches {
                    info["tag"] = Value::String(branches.tag.clone());
                    info["variants"] = branches
                        .variants
                        .iter()
                        .map(|v| json!({"case": v.name, "type": name_of(Some(v.ty), &mut queue)}))
                        .collect();
                }
                info
            }
            EntityKind::Alternate(a) => json!({
                "name": entity.name, "meta-type": "alternate",
                "members": a.variants.iter().map(|v| json!({"type": name_of(Some(v.ty), &mut queue)})).collect::<Vec<_>>(),
            }),
            EntityKind::Command(_) | EntityKind::Event(_) => continue,
        };
        if !matches!(entity.kind, EntityKind::Builtin(_) | EntityKind::Array(_)) {
            info["features"] = features(&entity.features);
        }
        infos.push(info);
    }
    // Builtins of one JSON type are one entity; `q_empty` may be listed
    // twice (by name and as the absent type).
    let mut names = std::collections::HashSet::new();
    infos.retain(|i| names.insert(i["name"].as_str().unwrap_or_default().to_string()));
    let infos: Vec<SchemaInfo> = infos
        .into_iter()
        .filter_map(|i| serde_json::from_value(i).ok())
        .collect();
    // Names are unique now: `new` cannot fail.
    Introspection::new(infos).unwrap_or_else(|_| Introspection {
        infos: Vec::new(),
        index: HashMap::new(),
    })
}

/// The builtin QEMU reports for a JSON type.
fn builtin_name(json: crate::model::JsonType) -> &'static str {
    use crate::model::JsonType;
    match json {
        JsonType::String => "str",
        JsonType::Number => "number",
        JsonType::Int => "int",
        JsonType::Boolean => "bool",
        JsonType::Null => "null",
        _ => "any",
    }
}

/// The `json-type` of a builtin.
fn json_type_name(json: crate::model::JsonType) -> &'static str {
    use crate::model::JsonType;
    match json {
        JsonType::String => "string",
        JsonType::Number => "number",
        JsonType::Int => "int",
        JsonType::Boolean => "boolean",
        JsonType::Null => "null",
        JsonType::Object => "object",
        JsonType::Array => "array",
        JsonType::Value => "value",
    }
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
