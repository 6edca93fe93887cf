//! The introspection of a schema: what QEMU built from it would report.

use qapi_types::qmp::SchemaInfo;

use crate::introspection::introspect::Introspection;
use crate::introspection::masked;
use crate::model::Schema;

/// What QEMU built from `schema` would report in `query-qmp-schema`, with
/// every condition taken to hold and the type names left unmasked: the
/// commands, the events and the types they reach. Integer types all
/// report as `int`, as QEMU reports them; a struct's base is flattened.
pub fn of_schema(schema: &Schema) -> Introspection {
    let infos: Vec<SchemaInfo> = masked::plain(schema)
        .into_iter()
        .filter_map(|entry| serde_json::from_value(entry).ok())
        .collect();
    // Each type is reported once, by its own name: `new` cannot fail.
    Introspection::new(infos).unwrap_or_default()
}
