//! `qapi_types::schema::check` on small hand-written bindings and server
//! schemas: a server that matches, then one difference at a time, then
//! server input that no QEMU sends.

use qapi_types::qmp::SchemaInfo;
use qapi_types::schema::table::{
    Alternative, BindingSchema, Branch, CommandDef, Condition, EnumValue, EventDef, Member,
    TypeDef, TypeRef,
};
use qapi_types::schema::{check, Location, MismatchKind, SchemaReport};
use qapi_types::serde_json::{self, json, Value};

/// The condition of what the tables define only for some builds.
const ON_X86: Condition = Condition::Defined("TARGET_I386");

/// Bindings as the generator writes them: types sorted by name.
static BINDINGS: BindingSchema = BindingSchema {
    commands: &[
        CommandDef::new(
            "blockdev-add",
            TypeRef::Named("BlockdevOptions"),
            TypeRef::Named("q_empty"),
        ),
        CommandDef::new(
            "blockdev-del",
            TypeRef::Named("q_obj_blockdev-del-arg"),
            TypeRef::Named("q_empty"),
        ),
        CommandDef::new(
            "query-thing",
            TypeRef::Named("q_empty"),
            TypeRef::Named("Thing"),
        ),
        CommandDef::new("yank", TypeRef::Named("q_empty"), TypeRef::Named("q_empty")).allow_oob(),
        CommandDef::new(
            "set-mode",
            TypeRef::Named("q_obj_set-mode-arg"),
            TypeRef::Named("q_empty"),
        ),
        CommandDef::new(
            "query-cpus-fast",
            TypeRef::Named("q_empty"),
            TypeRef::Array(&TypeRef::INT),
        ),
        CommandDef::new(
            "query-sgx",
            TypeRef::Named("q_empty"),
            TypeRef::Named("q_empty"),
        )
        .only_if(ON_X86),
    ],
    events: &[
        EventDef::new("SHUTDOWN", TypeRef::Named("q_obj_SHUTDOWN-arg")),
        EventDef::new("STOP", TypeRef::Named("q_empty")),
    ],
    types: &[
        TypeDef::enumeration(
            "BlockdevDriver",
            &[
                EnumValue::new("file"),
                EnumValue::new("null-co"),
                EnumValue::new("sgx-drv").only_if(ON_X86),
            ],
        ),
        TypeDef::union(
            "BlockdevOptions",
            &[
                Member::new("driver", TypeRef::Named("BlockdevDriver")),
                Member::new("node-name", TypeRef::STR).optional(),
            ],
            "driver",
            &[Branch::new("file", TypeRef::Named("BlockdevOptionsFile"))],
        ),
        TypeDef::structure(
            "BlockdevOptionsFile",
            &[
                Member::new("filename", TypeRef::STR),
                Member::new("aio", TypeRef::STR).optional(),
                Member::new("backing", TypeRef::Named("BlockdevRef")).optional(),
            ],
        ),
        TypeDef::alternate(
            "BlockdevRef",
            &[
                Alternative::new(TypeRef::Named("BlockdevOptions")),
                Alternative::new(TypeRef::STR),
            ],
        ),
        TypeDef::enumeration("Mode", &[EnumValue::new("fast"), EnumValue::new("slow")]),
        TypeDef::structure(
            "Thing",
            &[
                Member::new("name", TypeRef::STR),
                Member::new("size", TypeRef::INT),
                Member::new("ratio", TypeRef::NUMBER).optional(),
                Member::new("sev", TypeRef::STR).only_if(ON_X86),
            ],
        ),
        TypeDef::structure("q_empty", &[]),
        TypeDef::structure(
            "q_obj_SHUTDOWN-arg",
            &[
                Member::new("guest", TypeRef::BOOL),
                Member::new("reason", TypeRef::STR),
            ],
        ),
        TypeDef::structure(
            "q_obj_blockdev-del-arg",
            &[
                Member::new("node-name", TypeRef::STR),
                Member::new("force", TypeRef::BOOL).optional(),
            ],
        ),
        TypeDef::structure(
            "q_obj_set-mode-arg",
            &[Member::new("mode", TypeRef::Named("Mode"))],
        ),
    ],
};

/// A server that has everything the bindings use (but the conditional
/// `query-sgx` and `sgx-drv`), and more: type names masked as QEMU does.
fn server() -> Vec<Value> {
    let value = json!([
        { "name": "blockdev-add", "meta-type": "command", "arg-type": "1", "ret-type": "0" },
        { "name": "blockdev-del", "meta-type": "command", "arg-type": "2", "ret-type": "0" },
        { "name": "query-thing", "meta-type": "command", "arg-type": "0", "ret-type": "3" },
        { "name": "yank", "meta-type": "command", "arg-type": "0", "ret-type": "0", "allow-oob": true },
        { "name": "set-mode", "meta-type": "command", "arg-type": "4", "ret-type": "0" },
        { "name": "query-cpus-fast", "meta-type": "command", "arg-type": "0", "ret-type": "[int]" },
        { "name": "query-new", "meta-type": "command", "arg-type": "0", "ret-type": "0" },
        { "name": "SHUTDOWN", "meta-type": "event", "arg-type": "5" },
        { "name": "STOP", "meta-type": "event", "arg-type": "0" },
        { "name": "0", "meta-type": "object", "members": [] },
        { "name": "1", "meta-type": "object",
          "members": [ { "name": "driver", "type": "6" },
                       { "name": "node-name", "type": "str", "default": null } ],
          "tag": "driver",
          "variants": [ { "case": "file", "type": "7" }, { "case": "null-co", "type": "0" } ] },
        { "name": "6", "meta-type": "enum",
          "members": [ { "name": "file" }, { "name": "null-co" } ], "values": [ "file", "null-co" ] },
        { "name": "7", "meta-type": "object",
          "members": [ { "name": "filename", "type": "str" },
                       { "name": "aio", "type": "str", "default": null },
                       { "name": "backing", "type": "8", "default": null } ] },
        { "name": "8", "meta-type": "alternate", "members": [ { "type": "1" }, { "type": "str" } ] },
        { "name": "2", "meta-type": "object",
          "members": [ { "name": "node-name", "type": "str" },
                       { "name": "force", "type": "bool", "default": null } ] },
        { "name": "3", "meta-type": "object",
          "members": [ { "name": "name", "type": "str" }, { "name": "size", "type": "int" },
                       { "name": "ratio", "type": "number", "default": null },
                       { "name": "extra", "type": "str", "default": null } ] },
        { "name": "4", "meta-type": "object", "members": [ { "name": "mode", "type": "9" } ] },
        { "name": "9", "meta-type": "enum", "members": [ { "name": "fast" }, { "name": "slow" } ] },
        { "name": "5", "meta-type": "object",
          "members": [ { "name": "guest", "type": "bool" }, { "name": "reason", "type": "str" } ] },
        { "name": "[int]", "meta-type": "array", "element-type": "int" },
        { "name": "str", "meta-type": "builtin", "json-type": "string" },
        { "name": "int", "meta-type": "builtin", "json-type": "int" },
        { "name": "number", "meta-type": "builtin", "json-type": "number" },
        { "name": "bool", "meta-type": "builtin", "json-type": "boolean" }
    ]);
    match value {
        Value::Array(items) => items,
        _ => unreachable!(),
    }
}

/// The server entry named `name`.
fn entry<'a>(server: &'a mut [Value], name: &str) -> &'a mut Value {
    server
        .iter_mut()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no entry {name}"))
}

/// The member `member` of object `name`.
fn member<'a>(server: &'a mut [Value], name: &str, member: &str) -> &'a mut Value {
    entry(server, name)["members"]
        .as_array_mut()
        .expect("members")
        .iter_mut()
        .find(|m| m["name"] == member)
        .unwrap_or_else(|| panic!("no member {member} in {name}"))
}

fn remove_member(server: &mut [Value], name: &str, member: &str) {
    entry(server, name)["members"]
        .as_array_mut()
        .expect("members")
        .retain(|m| m["name"] != member);
}

fn decode(server: Vec<Value>) -> Vec<SchemaInfo> {
    serde_json::from_value(Value::Array(server)).expect("SchemaInfo decodes")
}

fn report(bindings: &BindingSchema, server: Vec<Value>) -> SchemaReport {
    check(bindings, &decode(server))
}

/// The incompatibilities, as displayed.
fn errors(report: &SchemaReport) -> Vec<String> {
    report.incompatibilities().map(|m| m.to_string()).collect()
}

/// The notes, as displayed.
fn notes(report: &SchemaReport) -> Vec<String> {
    report.notes().map(|m| m.to_string()).collect()
}

const BASE_NOTES: [&str; 2] = [
    "command 'blockdev-add' argument 'driver': value 'sgx-drv' not known to the server (conditional in the schema: TARGET_I386)",
    "command 'query-sgx': not known to the server (conditional in the schema: TARGET_I386)",
];

#[test]
fn a_server_with_everything_is_compatible_and_conditional_absences_are_notes() {
    let report = report(&BINDINGS, server());
    assert!(report.is_compatible(), "{report}");
    assert_eq!(errors(&report), Vec::<String>::new());
    assert_eq!(notes(&report), BASE_NOTES);
    // `query-new` and `Thing`'s `extra`: fine, counted.
    let only = report.server_only();
    assert_eq!((only.commands, only.events, only.members), (1, 0, 1));
    assert!(report.to_string().starts_with(
        "compatible: 0 incompatibilities, 2 notes; the server has 1 command, 0 events and 1 member the bindings lack\n  note: "
    ));
}

#[test]
fn a_missing_command_is_incompatible_a_missing_event_a_note() {
    let mut server = server();
    server.retain(|e| e["name"] != "query-cpus-fast" && e["name"] != "SHUTDOWN");
    let report = report(&BINDINGS, server);
    assert!(!report.is_compatible());
    assert_eq!(
        errors(&report),
        ["command 'query-cpus-fast': not known to the server"]
    );
    assert!(notes(&report).contains(&"event 'SHUTDOWN': not known to the server".to_string()));
    let missing = &report.incompatibilities().next().expect("one");
    assert_eq!(
        missing.location,
        Location::Command("query-cpus-fast".into())
    );
    assert_eq!(missing.kind, MismatchKind::Missing);
    assert!(report
        .to_string()
        .starts_with("incompatible: 1 incompatibility, 3 notes"));
}

#[test]
fn an_argument_the_server_does_not_know() {
    let mut server = server();
    remove_member(&mut server, "2", "force");
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        ["command 'blockdev-del' argument 'force': not known to the server"]
    );
    assert_eq!(notes(&report), BASE_NOTES);
}

#[test]
fn arguments_the_server_requires_and_replies_it_may_leave_out() {
    let mut server = server();
    // Arguments: a new required one, and one the bindings make optional.
    entry(&mut server, "2")["members"]
        .as_array_mut()
        .expect("members")
        .push(json!({ "name": "id", "type": "str" }));
    member(&mut server, "2", "force")
        .as_object_mut()
        .expect("an object")
        .remove("default");
    // Replies: a member the bindings require becomes optional, another goes.
    member(&mut server, "3", "size")["default"] = Value::Null;
    remove_member(&mut server, "3", "name");
    // Optional or conditional in the bindings: no matter.
    remove_member(&mut server, "3", "ratio");
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        [
            "command 'blockdev-del' argument 'force': required by the server, optional in the bindings",
            "command 'blockdev-del' arguments: member 'id' required by the server, absent from the bindings",
            "command 'query-thing' return 'name': required by the bindings, absent on the server",
            "command 'query-thing' return 'size': required by the bindings, optional on the server",
        ]
    );
}

#[test]
fn out_of_band_execution_the_server_does_not_allow() {
    let mut server = server();
    entry(&mut server, "yank")
        .as_object_mut()
        .expect("an object")
        .remove("allow-oob");
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        ["command 'yank': allow-oob in the bindings, not on the server"]
    );
}

#[test]
fn enum_values_the_bindings_can_send() {
    let mut server = server();
    entry(&mut server, "9")["members"] = json!([{ "name": "fast" }]);
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        ["command 'set-mode' argument 'mode': value 'slow' not known to the server"]
    );
    assert_eq!(
        report.incompatibilities().next().map(|m| &m.kind),
        Some(&MismatchKind::UnknownValue("slow".into()))
    );
}

#[test]
fn kinds_of_json_values_and_numbers() {
    let mut server = server();
    member(&mut server, "3", "size")["type"] = json!("str");
    // A number the server sends as integers decodes: fine.
    member(&mut server, "3", "ratio")["type"] = json!("int");
    // Integers the server sends as numbers may be fractions.
    entry(&mut server, "query-cpus-fast")["ret-type"] = json!("[number]");
    server.push(json!({ "name": "[number]", "meta-type": "array", "element-type": "number" }));
    // Arguments: a string where the server wants an integer.
    member(&mut server, "2", "node-name")["type"] = json!("int");
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        [
            "command 'blockdev-del' argument 'node-name': the bindings send str, the server expects int",
            "command 'query-thing' return 'size': the bindings expect int, the server sends str",
            "command 'query-cpus-fast' return '[]': the bindings expect int, the server sends number",
        ]
    );
}

#[test]
fn recursive_types_through_unions_and_alternates_are_compared_once() {
    let mut server = server();
    // BlockdevOptions reaches itself through `backing`: a difference in it
    // is reported once, where first reached.
    remove_member(&mut server, "7", "aio");
    // The alternate loses its object alternative.
    entry(&mut server, "8")["members"] = json!([{ "type": "str" }]);
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        [
            "command 'blockdev-add' argument '[driver=file].aio': not known to the server",
            "command 'blockdev-add' argument '[driver=file].backing': the bindings send object, the server expects str",
        ]
    );
}

#[test]
fn a_union_that_is_not_one_on_the_server() {
    let mut server = server();
    let union = entry(&mut server, "1").as_object_mut().expect("an object");
    union.remove("tag");
    union.remove("variants");
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        ["command 'blockdev-add' arguments: a union on 'driver' in the bindings, not a union on the server"]
    );
}

#[test]
fn a_branch_the_server_does_not_list_is_empty() {
    let mut server = server();
    // `file` without members: the bindings' `filename` is unknown.
    entry(&mut server, "1")["variants"] = json!([]);
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        [
            "command 'blockdev-add' argument '[driver=file].filename': not known to the server",
            "command 'blockdev-add' argument '[driver=file].aio': not known to the server",
            "command 'blockdev-add' argument '[driver=file].backing': not known to the server"
        ]
    );
}

/// Bindings with a union on `kind` that declares only branch `a` (`b`
/// and `c` add no members), sent and decoded.
static UNI: BindingSchema = BindingSchema {
    commands: &[
        CommandDef::new("send-uni", TypeRef::Named("Uni"), TypeRef::Named("q_empty")),
        CommandDef::new("get-uni", TypeRef::Named("q_empty"), TypeRef::Named("Uni")),
    ],
    events: &[],
    types: &[
        TypeDef::union(
            "Uni",
            &[Member::new("kind", TypeRef::Named("UniKind"))],
            "kind",
            &[Branch::new("a", TypeRef::Named("UniA"))],
        ),
        TypeDef::structure("UniA", &[Member::new("x", TypeRef::STR)]),
        TypeDef::enumeration(
            "UniKind",
            &[
                EnumValue::new("a"),
                EnumValue::new("b"),
                EnumValue::new("c").only_if(ON_X86),
            ],
        ),
        TypeDef::structure("q_empty", &[]),
    ],
};

/// A server with `Uni` as the bindings have it, but for its branches:
/// `variants` as given.
fn uni_server(variants: Value) -> Vec<Value> {
    let value = json!([
        { "name": "send-uni", "meta-type": "command", "arg-type": "1", "ret-type": "0" },
        { "name": "get-uni", "meta-type": "command", "arg-type": "0", "ret-type": "1" },
        { "name": "0", "meta-type": "object", "members": [] },
        { "name": "1", "meta-type": "object", "members": [ { "name": "kind", "type": "2" } ],
          "tag": "kind", "variants": variants },
        { "name": "2", "meta-type": "enum",
          "members": [ { "name": "a" }, { "name": "b" }, { "name": "c" } ] },
        { "name": "3", "meta-type": "object", "members": [ { "name": "x", "type": "str" } ] },
        { "name": "4", "meta-type": "object", "members": [ { "name": "y", "type": "str" } ] },
        { "name": "5", "meta-type": "object", "members": [ { "name": "z", "type": "str" } ] },
        { "name": "str", "meta-type": "builtin", "json-type": "string" }
    ]);
    match value {
        Value::Array(items) => items,
        _ => unreachable!(),
    }
}

#[test]
fn a_branch_the_bindings_leave_empty_is_compared_with_the_servers() {
    // The same branches: nothing to say.
    let same = json!([ { "case": "a", "type": "3" }, { "case": "b", "type": "0" },
                       { "case": "c", "type": "0" } ]);
    let same = report(&UNI, uni_server(same));
    assert!(same.mismatches().is_empty(), "{same}");
    // The server's `b` requires `y`: `{kind: b}` from the bindings is
    // rejected; its `c` requires `z`, but `c` is conditional in the
    // bindings.
    let b_requires_y = json!([ { "case": "a", "type": "3" }, { "case": "b", "type": "4" },
                               { "case": "c", "type": "5" } ]);
    let report = report(&UNI, uni_server(b_requires_y));
    assert_eq!(
        errors(&report),
        ["command 'send-uni' argument '[kind=b]': member 'y' required by the server, absent from the bindings"]
    );
    assert_eq!(
        notes(&report),
        ["command 'send-uni' argument '[kind=c]': member 'z' required by the server, absent from the bindings (conditional in the schema: TARGET_I386)"]
    );
    // Decoding, extra members are fine (counted, once a direction).
    assert_eq!(report.server_only().members, 2);
}

#[test]
fn a_branch_the_server_lists_as_empty_lacks_what_the_bindings_decode() {
    // The server's `a` adds nothing: the bindings' `x` is never sent.
    let report = report(&UNI, uni_server(json!([])));
    assert_eq!(
        errors(&report),
        [
            "command 'send-uni' argument '[kind=a].x': not known to the server",
            "command 'get-uni' return '[kind=a].x': required by the bindings, absent on the server",
        ]
    );
}

#[test]
fn a_string_sent_where_the_server_takes_an_enum_is_a_mismatch() {
    static STRINGS: BindingSchema = BindingSchema {
        commands: &[CommandDef::new(
            "pick",
            TypeRef::Named("q_obj_pick-arg"),
            TypeRef::STR,
        )],
        events: &[],
        types: &[
            TypeDef::structure("q_empty", &[]),
            TypeDef::structure("q_obj_pick-arg", &[Member::new("choice", TypeRef::STR)]),
        ],
    };
    let server = json!([
        { "name": "pick", "meta-type": "command", "arg-type": "1", "ret-type": "2" },
        { "name": "1", "meta-type": "object", "members": [ { "name": "choice", "type": "2" } ] },
        { "name": "2", "meta-type": "enum", "members": [ { "name": "left" }, { "name": "right" } ] }
    ]);
    let Value::Array(server) = server else {
        unreachable!()
    };
    let report = report(&STRINGS, server);
    // Sending, any string but `left` and `right` is rejected; decoding,
    // the server's values are strings.
    assert_eq!(
        errors(&report),
        ["command 'pick' argument 'choice': the bindings send str, the server expects enum"]
    );
    assert_eq!(notes(&report), Vec::<String>::new());
}

#[test]
fn a_conditional_member_the_server_requires_may_be_left_out() {
    static CONDITIONAL: BindingSchema = BindingSchema {
        commands: &[CommandDef::new(
            "tune",
            TypeRef::Named("q_obj_tune-arg"),
            TypeRef::Named("q_empty"),
        )],
        events: &[],
        types: &[
            TypeDef::structure("q_empty", &[]),
            TypeDef::structure(
                "q_obj_tune-arg",
                &[
                    Member::new("level", TypeRef::INT),
                    Member::new("turbo", TypeRef::BOOL).only_if(ON_X86),
                    Member::new("boost", TypeRef::BOOL)
                        .optional()
                        .only_if(ON_X86),
                ],
            ),
        ],
    };
    let server = json!([
        { "name": "tune", "meta-type": "command", "arg-type": "1", "ret-type": "0" },
        { "name": "0", "meta-type": "object", "members": [] },
        { "name": "1", "meta-type": "object",
          "members": [ { "name": "level", "type": "int" }, { "name": "turbo", "type": "bool" },
                       { "name": "boost", "type": "bool" } ] },
        { "name": "int", "meta-type": "builtin", "json-type": "int" },
        { "name": "bool", "meta-type": "builtin", "json-type": "boolean" }
    ]);
    let Value::Array(server) = server else {
        unreachable!()
    };
    let report = report(&CONDITIONAL, server);
    // The bindings hold both as optional: the server that has them
    // rejects arguments without them.
    assert_eq!(
        errors(&report),
        [
            "command 'tune' argument 'turbo': required by the server, optional in the bindings",
            "command 'tune' argument 'boost': required by the server, optional in the bindings",
        ]
    );
    assert_eq!(
        report.incompatibilities().next().map(|m| &m.kind),
        Some(&MismatchKind::RequiredByServer)
    );
}

#[test]
fn a_name_the_server_lists_as_something_else_is_missing() {
    static OTHER: BindingSchema = BindingSchema {
        commands: &[CommandDef::new(
            "do-str",
            TypeRef::Named("q_empty"),
            TypeRef::Named("q_empty"),
        )],
        events: &[EventDef::new("DONE", TypeRef::Named("q_empty"))],
        types: &[TypeDef::structure("q_empty", &[])],
    };
    let server = json!([
        { "name": "do-str", "meta-type": "event", "arg-type": "0" },
        { "name": "DONE", "meta-type": "object", "members": [] },
        { "name": "0", "meta-type": "object", "members": [] }
    ]);
    let Value::Array(server) = server else {
        unreachable!()
    };
    let report = report(&OTHER, server);
    assert!(!report.is_compatible(), "{report}");
    assert_eq!(
        errors(&report),
        ["command 'do-str': not known to the server as a command: the server's 'do-str' has meta-type 'event'"]
    );
    assert_eq!(
        report.incompatibilities().next().map(|m| &m.kind),
        Some(&MismatchKind::OtherMetaType("event".into()))
    );
    // Like a missing event, a note.
    assert_eq!(
        notes(&report),
        ["event 'DONE': not known to the server as an event: the server's 'DONE' has meta-type 'object'"]
    );
}

#[test]
fn the_summary_is_in_good_english_and_incompatibilities_come_first() {
    let mut server = server();
    // One incompatibility, after a note in the bindings' order.
    remove_member(&mut server, "2", "force");
    server.retain(|e| e["name"] != "query-new");
    let report = report(&BINDINGS, server);
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "incompatible: 1 incompatibility, 2 notes; the server has 0 commands, 0 events and 1 member the bindings lack",
            "  command 'blockdev-del' argument 'force': not known to the server",
            "  note: command 'blockdev-add' argument 'driver': value 'sgx-drv' not known to the server (conditional in the schema: TARGET_I386)",
            "  note: command 'query-sgx': not known to the server (conditional in the schema: TARGET_I386)",
        ]
    );
    // In the bindings' order, the note first.
    assert!(!report.mismatches()[0].is_incompatible());
    assert_eq!(report.notes().count(), 2);
}

/// An enumeration's values come from `members`, or from the deprecated
/// `values` where `members` lists none.
#[test]
fn enumeration_values_by_name() {
    use qapi_types::qmp::SchemaInfoBranch;
    let infos = decode(vec![
        json!({ "name": "1", "meta-type": "enum", "members": [ { "name": "a" } ], "values": [ "a" ] }),
        json!({ "name": "2", "meta-type": "enum", "members": [], "values": [ "b", "c" ] }),
        json!({ "name": "3", "meta-type": "enum", "members": [] }),
    ]);
    let names: Vec<Vec<&str>> = infos
        .iter()
        .map(|info| match &info.meta_type {
            SchemaInfoBranch::Enum(e) => e.value_names().collect(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(names, [vec!["a"], vec!["b", "c"], vec![]]);
}

/// QEMU before 6.2 lists an enumeration's values in `values` only.
#[test]
fn enumerations_with_values_only_as_before_qemu_6_2() {
    let mut server = server();
    let mode = entry(&mut server, "9").as_object_mut().expect("an object");
    mode.remove("members");
    mode.insert("values".into(), json!(["fast"]));
    let drivers = entry(&mut server, "6").as_object_mut().expect("an object");
    drivers.remove("members");
    let report = report(&BINDINGS, server);
    assert_eq!(
        errors(&report),
        ["command 'set-mode' argument 'mode': value 'slow' not known to the server"]
    );
    assert_eq!(notes(&report), BASE_NOTES);
}

#[test]
fn required_members_the_bindings_lack_are_one_mismatch_a_pair_of_objects() {
    // Every command takes one object with 60,000 required members.
    const MEMBERS: usize = 60_000;
    let mut server = server();
    for e in server.iter_mut() {
        if e["meta-type"] == "command" {
            e["arg-type"] = json!("big");
        }
    }
    let members: Vec<Value> = (0..MEMBERS)
        .map(|i| json!({ "name": format!("m{i}"), "type": "str" }))
        .collect();
    server.push(json!({ "name": "big", "meta-type": "object", "members": members }));
    let report = report(&BINDINGS, server);
    let missing: Vec<&qapi_types::schema::Mismatch> = report
        .mismatches()
        .iter()
        .filter(|m| matches!(m.kind, MismatchKind::MissingRequired { .. }))
        .collect();
    // The commands' four argument types (`q_empty` is shared).
    assert_eq!(missing.len(), 4, "{report}");
    assert!(report.mismatches().len() < 20, "{report}");
    let MismatchKind::MissingRequired { names, more } = &missing[0].kind else {
        unreachable!()
    };
    assert_eq!((names.len(), *more), (8, MEMBERS - 8));
    assert_eq!(
        missing[0].to_string(),
        "command 'blockdev-add' arguments: members 'm0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7' \
         and 59992 more required by the server, absent from the bindings"
    );
}

#[test]
fn mismatches_and_notes_kept_are_capped() {
    // A union the server has as thousands of alternatives, each a union
    // on another tag (an incompatibility) whose member's type it does not
    // describe (a note).
    static PICKS: BindingSchema = BindingSchema {
        commands: &[CommandDef::new(
            "get",
            TypeRef::Named("q_empty"),
            TypeRef::Named("Pick"),
        )],
        events: &[],
        types: &[
            TypeDef::alternate(
                "Pick",
                &[
                    Alternative::new(TypeRef::Named("U")),
                    Alternative::new(TypeRef::INT),
                ],
            ),
            TypeDef::union(
                "U",
                &[Member::new("kind", TypeRef::Named("K"))],
                "kind",
                &[],
            ),
            TypeDef::enumeration("K", &[EnumValue::new("a")]),
            TypeDef::structure("q_empty", &[]),
        ],
    };
    const MANY: usize = 3000;
    let mut server = vec![
        json!({ "name": "get", "meta-type": "command", "arg-type": "0", "ret-type": "alt" }),
        json!({ "name": "0", "meta-type": "object", "members": [] }),
    ];
    let alternatives: Vec<Value> = (0..MANY)
        .map(|i| json!({ "type": format!("o{i}") }))
        .collect();
    server.push(json!({ "name": "alt", "meta-type": "alternate", "members": alternatives }));
    for i in 0..MANY {
        server.push(json!({ "name": format!("o{i}"), "meta-type": "object",
            "members": [ { "name": "kind", "type": format!("missing{i}") },
                         { "name": format!("t{i}"), "type": format!("missing{i}") } ],
            "tag": format!("t{i}"), "variants": [] }));
    }
    let report = report(&PICKS, server);
    assert!(!report.is_compatible());
    assert_eq!(report.incompatibilities().count(), 1000);
    assert_eq!(report.notes().count(), 1000);
    assert_eq!(report.incompatibilities_left_out(), MANY - 1000);
    assert_eq!(report.notes_left_out(), MANY - 1000);
    let text = report.to_string();
    assert!(
        text.starts_with("incompatible: 3000 incompatibilities, 3000 notes;"),
        "{}",
        &text[..200]
    );
    assert!(text.contains("\n  ... and 2000 more incompatibilities, left out\n  note: "));
    assert!(text.ends_with("\n  note: ... and 2000 more notes, left out"));
    // The first of each kind, in order.
    assert_eq!(
        errors(&report)[0],
        "command 'get' return: a union on 'kind' in the bindings, on 't0' on the server"
    );
    assert_eq!(
        notes(&report)[0],
        "command 'get' return 'kind': cannot check: the server describes no type 'missing0'"
    );
}

#[test]
fn long_server_names_are_shortened_in_reports() {
    let long = "x".repeat(100_000);
    let mut server = server();
    member(&mut server, "3", "name")["type"] = json!(long);
    let report = report(&BINDINGS, server);
    let text = errors(&report)
        .into_iter()
        .chain(notes(&report))
        .find(|m| m.contains("describes no type"))
        .expect("reported");
    assert!(text.len() < 300, "{text}");
    assert!(text.contains("xxx..."), "{text}");
}

/// Bindings with a type that reaches itself, for the hostile servers.
static NODES: BindingSchema = BindingSchema {
    commands: &[CommandDef::new(
        "walk",
        TypeRef::Named("q_empty"),
        TypeRef::Named("Node"),
    )],
    events: &[],
    types: &[
        TypeDef::structure(
            "Node",
            &[
                Member::new("name", TypeRef::STR),
                Member::new("next", TypeRef::Named("Node")).optional(),
                Member::new("children", TypeRef::Array(&TypeRef::Named("Node"))).optional(),
                Member::new("value", TypeRef::Named("Value")).optional(),
            ],
        ),
        TypeDef::alternate(
            "Value",
            &[
                Alternative::new(TypeRef::INT),
                Alternative::new(TypeRef::Named("Node")),
            ],
        ),
        TypeDef::structure("q_empty", &[]),
    ],
};

#[test]
fn any_server_input_gives_a_report() {
    let hostile = json!([
        { "name": "walk", "meta-type": "command", "arg-type": "walk", "ret-type": "n" },
        // Listed twice: the first counts.
        { "name": "walk", "meta-type": "event", "arg-type": "0" },
        { "name": "n", "meta-type": "object",
          "members": [ { "name": "name", "type": "missing" },
                       { "name": "next", "type": "n", "default": null },
                       { "name": "children", "type": "a", "default": null },
                       { "name": "value", "type": "alt", "default": null } ] },
        // An array of itself, an alternate of itself.
        { "name": "a", "meta-type": "array", "element-type": "a" },
        { "name": "alt", "meta-type": "alternate", "members": [ { "type": "alt" }, { "type": "future" } ] },
        { "name": "future", "meta-type": "quantum", "spin": 1 },
        { "name": "odd", "meta-type": "builtin", "json-type": "bytes" }
    ]);
    let Value::Array(items) = hostile else {
        unreachable!()
    };
    let report = report(&NODES, items);
    let all: Vec<String> = report.mismatches().iter().map(|m| m.to_string()).collect();
    assert_eq!(
        all,
        [
            "command 'walk' arguments: cannot check: the server's 'walk' is not a type",
            "command 'walk' return 'name': cannot check: the server describes no type 'missing'",
            "command 'walk' return 'children[]': the bindings expect object, the server sends array",
            "command 'walk' return 'value': cannot check: the server's type 'future' has meta-type 'quantum'",
        ],
    );
    // What cannot be checked is a note; the array of arrays is wrong.
    assert_eq!(report.incompatibilities().count(), 1);
}

#[test]
fn a_server_whose_types_nest_without_end_is_not_followed() {
    // Each level is a new server type: nothing to memoize.
    const DEPTH: usize = 20_000;
    let mut server = vec![
        json!({ "name": "walk", "meta-type": "command", "arg-type": "e", "ret-type": "n0" }),
        json!({ "name": "e", "meta-type": "object", "members": [] }),
        json!({ "name": "str", "meta-type": "builtin", "json-type": "string" }),
    ];
    for i in 0..DEPTH {
        server.push(json!({ "name": format!("n{i}"), "meta-type": "object",
            "members": [ { "name": "name", "type": "str" },
                         { "name": "next", "type": format!("n{}", i + 1), "default": null } ] }));
    }
    server.push(json!({ "name": format!("n{DEPTH}"), "meta-type": "object", "members": [] }));
    let report = report(&NODES, server);
    assert_eq!(report.mismatches().len(), 1, "{report}");
    let mismatch = &report.mismatches()[0];
    assert_eq!(
        mismatch.kind,
        MismatchKind::Unrecognized("nested more than 100 levels deep".into())
    );
    assert_eq!(mismatch.path.matches("next").count(), 101);
    assert!(report.is_compatible());
}

#[test]
fn lookups_by_name() {
    for ty in BINDINGS.types {
        assert_eq!(BINDINGS.lookup(ty.name), Some(ty));
    }
    assert_eq!(BINDINGS.lookup("Nope"), None);
    // A hand-written table out of order is still searched.
    static UNSORTED: BindingSchema = BindingSchema {
        commands: &[],
        events: &[],
        types: &[
            TypeDef::structure("b", &[]),
            TypeDef::structure("a", &[]),
            TypeDef::structure("c", &[]),
        ],
    };
    for name in ["a", "b", "c"] {
        assert_eq!(UNSORTED.lookup(name).map(|t| t.name), Some(name));
    }
    assert_eq!(BINDINGS.command("yank").map(|c| c.allow_oob), Some(true));
    assert_eq!(
        BINDINGS.event("STOP").map(|e| e.data),
        Some(TypeRef::Named("q_empty"))
    );
}

#[test]
fn the_checked_in_core_bindings_describe_themselves() {
    let schema = &qapi_types::qmp::SCHEMA;
    let names: Vec<&str> = schema.commands.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "qmp_capabilities",
            "query-version",
            "query-commands",
            "query-qmp-schema"
        ]
    );
    assert!(schema.types.windows(2).all(|w| w[0].name < w[1].name));
    assert_eq!(
        schema
            .command("query-qmp-schema")
            .map(|c| c.returns.to_string()),
        Some("[SchemaInfo]".to_string())
    );
}

/// Type references print as QAPI writes them, which reports and the
/// generated tables' readers rely on.
#[test]
fn type_references_display_as_qapi_writes_them() {
    let nested = TypeRef::Array(&TypeRef::Array(&TypeRef::Named("BlockInfo")));
    assert_eq!(nested.to_string(), "[[BlockInfo]]");
    assert_eq!(TypeRef::UINT8.to_string(), "uint8");
    assert_eq!(TypeRef::Array(&TypeRef::SIZE).to_string(), "[size]");
    let member = Member::new("x", TypeRef::STR).optional().only_if(ON_X86);
    assert_eq!(
        (member.name, member.ty, member.optional, member.condition),
        ("x", TypeRef::STR, true, Some(ON_X86))
    );
}

/// A table's condition holds as the schema language reads it: `all`,
/// `any` and `not` over the symbols a build defines.
#[test]
fn table_conditions_hold_as_the_schema_language_reads_them() {
    const LINUX: Condition = Condition::Defined("CONFIG_LINUX");
    const NOT_WIN32: Condition = Condition::Not(&Condition::Defined("CONFIG_WIN32"));
    let posix_or_win32 = Condition::Any(&[
        Condition::Defined("CONFIG_POSIX"),
        Condition::Defined("CONFIG_WIN32"),
    ]);
    let linux_not_win32 = Condition::All(&[LINUX, NOT_WIN32]);
    let linux = |symbol: &str| ["CONFIG_LINUX", "CONFIG_POSIX"].contains(&symbol);
    let win32 = |symbol: &str| symbol == "CONFIG_WIN32";
    let none = |_: &str| false;
    let holds = |condition: Condition| {
        [&linux as &dyn Fn(&str) -> bool, &win32, &none].map(|defined| condition.holds(defined))
    };
    assert_eq!(holds(LINUX), [true, false, false]);
    assert_eq!(holds(NOT_WIN32), [true, false, true]);
    assert_eq!(holds(posix_or_win32), [true, true, false]);
    assert_eq!(holds(linux_not_win32), [true, false, false]);
    assert_eq!(holds(Condition::All(&[])), [true; 3]);
    assert_eq!(holds(Condition::Any(&[])), [false; 3]);
}
