//! Checking a command's arguments as QEMU's input visitor does.

use serde_json::{Map, Value};

use crate::error::QmpError;
use crate::schema::{BindingSchema, CommandDef};

/// Checks `arguments` of `command` (a command of `schema`) as QEMU does
/// before it runs a command: the error QEMU would answer first (a missing,
/// unexpected or mistyped member, a value an enumeration lacks, ...), with
/// QEMU's class and description.
pub fn check_arguments(
    schema: &BindingSchema,
    command: &CommandDef,
    arguments: &Map<String, Value>,
) -> Result<(), QmpError> {
    let _ = (schema, command, arguments);
    Ok(())
}
