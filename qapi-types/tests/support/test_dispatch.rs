//! A small schema and the dispatch the server tests serve: `slow` answers
//! after the milliseconds it is given, `fail` with an error, `ping` (which
//! allows out-of-band execution) at once, `job` with an event now and one
//! after its reply; `unimplemented` is in the schema, not implemented;
//! `echo` answers its arguments, in builds that define `CONFIG_ECHO`.
#![allow(dead_code)]

use std::time::Duration;

use qapi_types::schema::{BindingSchema, CommandDef, Condition, EventDef, TypeRef};
use qapi_types::serde_json::{json, Map, Value};
use qapi_types::server::{CallFuture, Dispatch, Session};
use qapi_types::QmpError;

pub static COMMANDS: &[CommandDef] = &[
    CommandDef::new("qmp_capabilities", TypeRef::ANY, TypeRef::ANY),
    CommandDef::new("query-version", TypeRef::ANY, TypeRef::ANY),
    CommandDef::new("query-commands", TypeRef::ANY, TypeRef::ANY),
    CommandDef::new("slow", TypeRef::ANY, TypeRef::ANY),
    CommandDef::new("fail", TypeRef::ANY, TypeRef::ANY),
    CommandDef::new("unimplemented", TypeRef::ANY, TypeRef::ANY),
    CommandDef::new("ping", TypeRef::ANY, TypeRef::ANY).allow_oob(),
    CommandDef::new("echo", TypeRef::ANY, TypeRef::ANY).only_if(Condition::Defined("CONFIG_ECHO")),
    CommandDef::new("job", TypeRef::ANY, TypeRef::ANY),
];

pub static SCHEMA: BindingSchema = BindingSchema {
    commands: COMMANDS,
    events: &[EventDef::new("JOB_DONE", TypeRef::ANY)],
    types: &[],
};

/// The dispatch of [`SCHEMA`].
pub struct Test;

impl Dispatch for Test {
    fn schema(&self) -> &'static BindingSchema {
        &SCHEMA
    }

    fn call<'a>(
        &'a self,
        name: &'a str,
        arguments: Map<String, Value>,
        session: &'a Session,
    ) -> CallFuture<'a> {
        Box::pin(async move {
            match name {
                "slow" => {
                    let ms = arguments.get("ms").and_then(Value::as_u64).unwrap_or(100);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Some(Ok(json!({"slept": ms})))
                }
                "fail" => Some(Err(QmpError::generic("it failed"))),
                "ping" => Some(Ok(json!("pong"))),
                "echo" => Some(Ok(Value::Object(arguments))),
                "job" => {
                    session.emit_raw("JOB_DONE", json!({"when": "now"}));
                    session.emit_raw_after_reply("JOB_DONE", json!({"when": "after"}));
                    Some(Ok(json!({})))
                }
                _ => None,
            }
        })
    }
}
