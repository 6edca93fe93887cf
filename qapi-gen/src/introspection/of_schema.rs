//! The introspection of a schema: what QEMU built from it would report.

use qapi_types::qmp::SchemaInfo;

use crate::introspection::introspect::Introspection;
use crate::model::Schema;

/// What QEMU built from `schema` would report in `query-qmp-schema`, with
/// every condition taken to hold and the type names left unmasked: the
/// commands, the events and the types they reach. Integer types all
/// report as `int`, as QEMU reports them; a struct's base is flattened.
pub fn of_schema(schema: &Schema) -> Introspection {
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
            EntityKind::Builtin(b) => b.json_type().builtin_name().to_string(),
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
                "name": b.json_type().builtin_name(), "meta-type": "builtin",
                "json-type": b.json_type().name(),
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
    Introspection::new(infos).unwrap_or_default()
}
