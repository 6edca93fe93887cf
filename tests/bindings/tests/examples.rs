//! The `->`/`<-` messages in the schemas' own doc examples decode into the
//! generated types and encode back to equal JSON: arguments as the
//! command's type, replies as its return type, events through
//! `events::Event`.

use qapi_bindings_tests::example;
#[cfg(qemu_schemas)]
use qapi_bindings_tests::{qga, storage_daemon, system};
use qapi_types::serde_json::{self, Value};
use qapi_types::{EventSet, RawEvent};

type RoundTrip = fn(&str, &Value) -> Option<Result<Value, String>>;

struct Schema {
    name: &'static str,
    examples: &'static [&'static str],
    command: RoundTrip,
    reply: RoundTrip,
    event: RoundTrip,
    decode_event: fn(&RawEvent) -> Result<bool, String>,
}

/// JSON equality where `1` and `1.0` are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn check(schema: &Schema) -> (usize, Vec<String>) {
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut last_command: Option<String> = None;
    for example in schema.examples {
        let (direction, text) = example.split_at(1);
        let message: Value = serde_json::from_str(text).expect("extracted as valid JSON");
        let Some(object) = message.as_object() else {
            continue;
        };
        let empty = Value::Object(Default::default());
        let outcome = if direction == ">" {
            let Some(name) = object
                .get("execute")
                .or_else(|| object.get("exec-oob"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            last_command = Some(name.to_string());
            let args = object.get("arguments").unwrap_or(&empty);
            (schema.command)(name, args).map(|r| (name.to_string(), args.clone(), r))
        } else if let Some(ret) = object.get("return") {
            let Some(name) = last_command.clone() else {
                continue;
            };
            (schema.reply)(&name, ret).map(|r| (format!("{name} reply"), ret.clone(), r))
        } else if let Some(event) = object.get("event").and_then(Value::as_str) {
            let raw: RawEvent = match serde_json::from_value(message.clone()) {
                Ok(raw) => raw,
                Err(e) => {
                    failures.push(format!("{}: event {event}: {e}", schema.name));
                    continue;
                }
            };
            match (schema.decode_event)(&raw) {
                Ok(true) => {}
                Ok(false) => failures.push(format!("{}: event {event} is not known", schema.name)),
                Err(e) => failures.push(format!("{}: event {event}: {e}", schema.name)),
            }
            let data = object.get("data").unwrap_or(&empty);
            (schema.event)(event, data).map(|r| (event.to_string(), data.clone(), r))
        } else {
            continue;
        };
        match outcome {
            None => failures.push(format!("{}: no binding for {text}", schema.name)),
            Some((what, _, Err(e))) => {
                failures.push(format!("{}: {what}: {e}\n  {text}", schema.name))
            }
            Some((what, original, Ok(encoded))) => {
                if same(&original, &encoded) {
                    passed += 1;
                } else {
                    failures.push(format!(
                        "{}: {what}: re-encoded differs\n  sent    {original}\n  encoded {encoded}",
                        schema.name
                    ));
                }
            }
        }
    }
    (passed, failures)
}

macro_rules! schema {
    ($module:ident) => {
        Schema {
            name: stringify!($module),
            examples: $module::examples::EXAMPLES,
            command: $module::examples::command,
            reply: $module::examples::reply,
            event: $module::examples::event,
            decode_event: |raw| {
                $module::events::Event::decode(raw)
                    .map(|e| !matches!(e, $module::events::Event::Unrecognized(_)))
                    .map_err(|e| e.to_string())
            },
        }
    };
}

/// Examples in QEMU 10.0.2's docs that contradict its own schema (they
/// predate a change to it): they must fail, exactly so. Those of the
/// block layer are in the storage daemon's schema too.
const KNOWN_DOC_BUGS: &[(&[&str], &str, &str)] = &[
    (BOTH, "query-block reply: member `inserted`: missing member `active`", "example predates BlockDeviceInfo.active"),
    (BOTH, "query-named-block-nodes reply: missing member `active`", "example predates BlockDeviceInfo.active"),
    (SYSTEM, "query-migrate reply: member `ram`: missing member `dirty-pages-rate`", "examples predate MigrationStats.dirty-pages-rate"),
    (SYSTEM, "migrate: member `channels`: member `addr`: member `offset`: invalid type: string \"0x1000\", expected u64", "example writes a size as a string"),
    (SYSTEM, "set-vcpu-dirty-limit: missing member `dirty-rate`", "example omits a required argument"),
    (SYSTEM, "trace-event-get-state reply: re-encoded differs", "example shows the removed member vcpu, which decoding ignores"),
    (SYSTEM, "dumpdtb: missing member `filename`", "example omits a required argument"),
    (SYSTEM, "query-iothreads reply: missing member `poll-max-ns`", "example predates the poll members"),
    (SYSTEM, "event RTC_CHANGE: missing member `qom-path`", "example predates RTC_CHANGE.qom-path"),
    (SYSTEM, "RTC_CHANGE: missing member `qom-path`", "example predates RTC_CHANGE.qom-path"),
    (SYSTEM, "query-sev reply: missing member `sev-type`", "example predates SevInfo.sev-type"),
    (SYSTEM, "query-sgx-capabilities reply: missing member `sections`", "example predates SgxInfo.sections"),
    (SYSTEM, "query-pci reply: member `devices`: missing member `irq_pin`", "example predates PciDeviceInfo.irq_pin"),
    (SYSTEM, "x-query-virtio-status reply: missing member `disable-legacy-check`", "example predates VirtioStatus.disable-legacy-check"),
];
const SYSTEM: &[&str] = &["system"];
const BOTH: &[&str] = &["system", "storage_daemon"];

fn run(schema: Schema, minimum: usize) {
    let (passed, failures) = check(&schema);
    let prefix = format!("{}: ", schema.name);
    let known: Vec<&(&[&str], &str, &str)> = KNOWN_DOC_BUGS
        .iter()
        .filter(|(schemas, _, _)| schemas.contains(&schema.name))
        .collect();
    let mut unexpected = Vec::new();
    let mut hit = vec![false; known.len()];
    for failure in &failures {
        let first = failure
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches(&prefix);
        match known.iter().position(|(_, message, _)| *message == first) {
            Some(index) => {
                hit[index] = true;
                println!("known QEMU doc bug: {first} ({})", known[index].2);
            }
            None => unexpected.push(failure.clone()),
        }
    }
    println!(
        "{}: {passed} example messages round-tripped, {} failures known",
        schema.name,
        failures.len() - unexpected.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} failures:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    let fixed: Vec<&str> = known
        .iter()
        .zip(&hit)
        .filter(|(_, hit)| !**hit)
        .map(|((_, m, _), _)| *m)
        .collect();
    assert!(
        fixed.is_empty(),
        "known doc bugs no longer fail; remove them from the list: {fixed:?}"
    );
    assert!(passed >= minimum, "{}: only {passed} messages", schema.name);
}

#[test]
fn example_schema_examples() {
    run(schema!(example), 10);
}

#[cfg(qemu_schemas)]
#[test]
fn system_schema_examples() {
    run(schema!(system), 480);
}

#[cfg(qemu_schemas)]
#[test]
fn storage_daemon_schema_examples() {
    run(schema!(storage_daemon), 115);
}

/// QEMU 10.0.2's guest agent documents no example messages.
#[cfg(qemu_schemas)]
#[test]
fn guest_agent_schema_examples() {
    run(schema!(qga), 0);
}

#[cfg(not(qemu_schemas))]
#[test]
#[ignore = "../shared/qemu-10.0.2 was absent at build time: QEMU's schemas' examples are left out"]
fn skipped_without_qemu_schemas() {}
