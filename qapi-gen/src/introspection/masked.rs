//! The introspection QEMU built from a schema reports, as its generator
//! (`scripts/qapi/introspect.py`) makes it: the commands and events a
//! file at a time (the files in the order they are first included, each
//! file's in schema order), then every type they use, in the order of first use;
//! the types' names masked as numbers given in that order; the integer
//! types reported as `int` (their arrays as `[int]`); features and the
//! `allow-oob` flag where they are.
//!
//! QEMU compiles its build conditions into the reply; here they are kept,
//! so that one text serves every build configuration:
//!
//! - an entry, member, union branch, alternative or enum member whose
//!   condition may fail (an object) carries it as an `"if"` key;
//! - a string that may be left out (an enum value, a feature) becomes
//!   `{"value": NAME, "if": CONDITION}`;
//! - a condition is written as in the schema: `"CONFIG_LINUX"`,
//!   `{"all": [...]}`, `{"any": [...]}`, `{"not": ...}`.
//!
//! Numbers are given over everything, conditional or not, as QEMU gives
//! them when it generates its code: a build that leaves an entry out
//! leaves a gap in the numbering. `qapi_types::server::query_qmp_schema`
//! turns the text into the reply of one build configuration.
//!
//! [`plain`] reports the same entries with the schema's own type names and
//! every condition taken to hold: what `of_schema` compares and rebuilds.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};

use crate::model::selection::Selection;
use crate::model::{Builtin, Cond, EntityId, EntityKind, Feature, JsonType, Schema};

/// A type the introspection reports: an entity, or `intList`, the array
/// every array of integers is reported as (a schema need not define it).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Used {
    Entity(EntityId),
    IntList,
}

/// The introspection of the commands and events `selection` keeps, and
/// of the types they use, with conditions kept (see the module doc): a
/// JSON array, an entry a line.
pub fn masked(schema: &Schema, selection: &Selection) -> String {
    let entries = Masking::new(schema, false).entries(selection);
    let mut text = String::from("[\n");
    for (index, entry) in entries.iter().enumerate() {
        if index > 0 {
            text.push_str(",\n");
        }
        text.push_str(&entry.to_string());
    }
    text.push_str("\n]");
    text
}

/// The entries of the introspection of every command and event of
/// `schema` and the types they use, plain: with the schema's type names
/// instead of numbers, and every condition taken to hold (none kept).
pub(crate) fn plain(schema: &Schema) -> Vec<Value> {
    Masking::new(schema, true).entries(&Selection::all())
}

/// The state of one run: the types used so far, in order, and the
/// numbers given to their names.
struct Masking<'s> {
    schema: &'s Schema,
    /// Whether the report is plain: the types' own names, no conditions.
    plain: bool,
    /// The types to report, in the order of first use.
    used: Vec<Used>,
    seen: HashSet<Used>,
    /// Masked names, by QAPI name.
    numbers: HashMap<String, String>,
}

impl<'s> Masking<'s> {
    fn new(schema: &'s Schema, plain: bool) -> Self {
        Self {
            schema,
            plain,
            used: Vec::new(),
            seen: HashSet::new(),
            numbers: HashMap::new(),
        }
    }

    fn entries(mut self, selection: &Selection) -> Vec<Value> {
        let mut entries = Vec::new();
        // QEMU visits its schema a file at a time, in the order the files
        // are first included (which is the order they were read in).
        let mut definitions: Vec<EntityId> = self
            .schema
            .ids()
            .filter(|&id| selection.contains(id))
            .collect();
        definitions.sort_by_key(|&id| self.schema.entity(id).span.map(|span| span.file));
        for id in definitions {
            let entity = self.schema.entity(id);
            let mut entry = match &entity.kind {
                EntityKind::Command(command) => {
                    let mut entry = json!({
                        "name": entity.name,
                        "meta-type": "command",
                        "arg-type": self.use_optional(command.arg_type),
                        "ret-type": self.use_optional(command.ret_type),
                    });
                    if command.allow_oob {
                        entry["allow-oob"] = Value::Bool(true);
                    }
                    entry
                }
                EntityKind::Event(event) => json!({
                    "name": entity.name,
                    "meta-type": "event",
                    "arg-type": self.use_optional(event.arg_type),
                }),
                _ => continue,
            };
            self.add_features(&mut entry, &entity.features);
            entries.push(self.conditional(entry, entity.cond.as_ref()));
        }
        // Reporting a type may use more: the list grows as it is walked.
        let mut next = 0;
        while let Some(&used) = self.used.get(next) {
            next += 1;
            entries.push(self.type_entry(used));
        }
        entries
    }

    /// The name of a command's or event's arguments, return or data type:
    /// the empty object's when there is none.
    fn use_optional(&mut self, ty: Option<EntityId>) -> String {
        match ty.or_else(|| self.schema.lookup("q_empty")) {
            Some(ty) => self.use_type(Used::Entity(ty)),
            None => self.name("q_empty"),
        }
    }

    /// Notes `ty` as used and returns the name it is reported by.
    fn use_type(&mut self, ty: Used) -> String {
        let ty = match ty {
            Used::Entity(id) => match &self.schema.entity(id).kind {
                EntityKind::Builtin(b) if b.json_type() == JsonType::Int => self.int(),
                EntityKind::Array(a) if self.is_int(a.element) => Used::IntList,
                _ => ty,
            },
            Used::IntList => ty,
        };
        if self.seen.insert(ty) {
            self.used.push(ty);
        }
        match ty {
            Used::IntList => {
                // Its element is used too, right after it.
                if let int @ Used::Entity(_) = self.int() {
                    self.use_type(int);
                }
                format!("[{}]", Builtin::Int.name())
            }
            Used::Entity(id) => {
                let entity = self.schema.entity(id);
                match &entity.kind {
                    EntityKind::Builtin(b) => b.name().to_string(),
                    EntityKind::Array(a) => {
                        format!("[{}]", self.use_type(Used::Entity(a.element)))
                    }
                    _ => self.name(&entity.name),
                }
            }
        }
    }

    /// `int`, which every integer type is reported as.
    fn int(&self) -> Used {
        match self.schema.lookup(Builtin::Int.name()) {
            Some(id) => Used::Entity(id),
            // Every schema has the builtins; `intList` stands in.
            None => Used::IntList,
        }
    }

    fn is_int(&self, id: EntityId) -> bool {
        matches!(&self.schema.entity(id).kind, EntityKind::Builtin(b) if b.json_type() == JsonType::Int)
    }

    /// The masked name of a type: a number, given on first use (its own
    /// name, when plain).
    fn name(&mut self, name: &str) -> String {
        if self.plain {
            return name.to_string();
        }
        let next = self.numbers.len();
        self.numbers
            .entry(name.to_string())
            .or_insert_with(|| next.to_string())
            .clone()
    }

    /// The entry reporting a used type.
    fn type_entry(&mut self, used: Used) -> Value {
        let id = match used {
            Used::IntList => {
                return json!({
                    "name": format!("[{}]", Builtin::Int.name()),
                    "meta-type": "array",
                    "element-type": Builtin::Int.name(),
                });
            }
            Used::Entity(id) => id,
        };
        let schema = self.schema;
        let entity = schema.entity(id);
        let mut entry = match &entity.kind {
            EntityKind::Builtin(b) => {
                return json!({
                    "name": b.name(),
                    "meta-type": "builtin",
                    "json-type": b.json_type().name(),
                });
            }
            EntityKind::Array(a) => {
                let element = self.use_type(Used::Entity(a.element));
                let entry = json!({
                    "name": format!("[{element}]"),
                    "meta-type": "array",
                    "element-type": element,
                });
                // An array exists where its element type does.
                return self.conditional(entry, schema.entity(a.element).cond.as_ref());
            }
            EntityKind::Enum(e) => {
                let members = e.values.iter().map(|value| {
                    let mut member = json!({ "name": value.name });
                    self.add_features(&mut member, &value.features);
                    self.conditional(member, value.cond.as_ref())
                });
                let values = e
                    .values
                    .iter()
                    .map(|value| self.conditional_string(&value.name, value.cond.as_ref()));
                json!({
                    "meta-type": "enum",
                    "members": members.collect::<Vec<_>>(),
                    "values": values.collect::<Vec<_>>(),
                })
            }
            EntityKind::Object(o) => {
                let mut members = Vec::new();
                for member in schema.members(id) {
                    let mut info = json!({
                        "name": member.name,
                        "type": self.use_type(Used::Entity(member.ty)),
                    });
                    if member.optional {
                        info["default"] = Value::Null;
                    }
                    self.add_features(&mut info, &member.features);
                    members.push(self.conditional(info, member.cond.as_ref()));
                }
                let mut entry = json!({ "meta-type": "object", "members": members });
                if let Some(branches) = &o.branches {
                    let mut variants = Vec::new();
                    for variant in &branches.variants {
                        let info = json!({
                            "case": variant.name,
                            "type": self.use_type(Used::Entity(variant.ty)),
                        });
                        variants.push(self.conditional(info, variant.cond.as_ref()));
                    }
                    entry["tag"] = Value::String(branches.tag.clone());
                    entry["variants"] = Value::Array(variants);
                }
                entry
            }
            EntityKind::Alternate(a) => {
                let mut members = Vec::new();
                for variant in &a.variants {
                    let info = json!({ "type": self.use_type(Used::Entity(variant.ty)) });
                    members.push(self.conditional(info, variant.cond.as_ref()));
                }
                json!({ "meta-type": "alternate", "members": members })
            }
            // Commands and events are never used as types.
            EntityKind::Command(_) | EntityKind::Event(_) => json!({ "meta-type": "object" }),
        };
        entry["name"] = Value::String(self.name(&entity.name));
        self.add_features(&mut entry, &entity.features);
        self.conditional(entry, entity.cond.as_ref())
    }

    /// Adds `features` to an object, unless there are none.
    fn add_features(&self, object: &mut Value, features: &[Feature]) {
        if features.is_empty() {
            return;
        }
        object["features"] = features
            .iter()
            .map(|f| self.conditional_string(&f.name, f.cond.as_ref()))
            .collect();
    }

    /// `object` with its condition as an `"if"` key (unless plain).
    fn conditional(&self, mut object: Value, cond: Option<&Cond>) -> Value {
        if self.plain {
            return object;
        }
        if let (Some(cond), Value::Object(map)) = (cond, &mut object) {
            map.insert("if".to_string(), cond_json(cond));
        }
        object
    }

    /// A string, or `{"value": STRING, "if": CONDITION}` when it has one
    /// (unless plain).
    fn conditional_string(&self, text: &str, cond: Option<&Cond>) -> Value {
        match cond.filter(|_| !self.plain) {
            None => Value::String(text.to_string()),
            Some(cond) => {
                let mut map = Map::new();
                map.insert("value".to_string(), Value::String(text.to_string()));
                map.insert("if".to_string(), cond_json(cond));
                Value::Object(map)
            }
        }
    }
}

/// A condition as the schema writes it.
fn cond_json(cond: &Cond) -> Value {
    match cond {
        Cond::Name(name) => Value::String(name.clone()),
        Cond::All(all) => json!({ "all": all.iter().map(cond_json).collect::<Vec<_>>() }),
        Cond::Any(any) => json!({ "any": any.iter().map(cond_json).collect::<Vec<_>>() }),
        Cond::Not(not) => json!({ "not": cond_json(not) }),
    }
}

/// What a captured introspection (a `query-qmp-schema` reply, or its
/// array, as `cargo qapi introspect` writes it) reports of the commands
/// and events `keep` accepts: those entries and the types they reach (or
/// every entry, where `keep` accepts every command and event), as
/// captured and in the capture's order, an entry a line. Bindings
/// generated from a QEMU's introspection carry this rather than
/// [`masked`] of the schema rebuilt from it, whose order and numbering
/// are the rebuild's.
pub fn reported(text: &str, keep: &dyn Fn(&str) -> bool) -> Result<String, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let list = match value {
        Value::Object(mut reply) => reply.remove("return").unwrap_or(Value::Null),
        list => list,
    };
    let Value::Array(entries) = list else {
        return Err("not a query-qmp-schema reply: expected an array".into());
    };
    let index: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| Some((entry.get("name")?.as_str()?, i)))
        .collect();
    let mut kept = vec![false; entries.len()];
    let mut queue = Vec::new();
    let mut left_out = false;
    for (i, entry) in entries.iter().enumerate() {
        let definition = matches!(
            entry.get("meta-type").and_then(Value::as_str),
            Some("command" | "event")
        );
        if !definition {
            continue;
        }
        if entry.get("name").and_then(Value::as_str).is_some_and(keep) {
            kept[i] = true;
            queue.push(i);
        } else {
            left_out = true;
        }
    }
    // Keeping every command and event keeps the capture whole.
    if !left_out {
        kept.iter_mut().for_each(|k| *k = true);
    }
    while let Some(i) = queue.pop() {
        for name in referenced(&entries[i]) {
            if let Some(&j) = index.get(name) {
                if !kept[j] {
                    kept[j] = true;
                    queue.push(j);
                }
            }
        }
    }
    let lines: Vec<String> = entries
        .iter()
        .zip(&kept)
        .filter(|(_, &kept)| kept)
        .map(|(entry, _)| entry.to_string())
        .collect();
    Ok(format!("[\n{}\n]", lines.join(",\n")))
}

/// The names of the types an introspection entry refers to.
fn referenced(entry: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = ["arg-type", "ret-type", "element-type"]
        .iter()
        .filter_map(|key| entry.get(*key)?.as_str())
        .collect();
    for list in ["members", "variants"] {
        let items = entry.get(list).and_then(Value::as_array);
        names.extend(
            items
                .into_iter()
                .flatten()
                .filter_map(|item| item.get("type")?.as_str()),
        );
    }
    names
}
