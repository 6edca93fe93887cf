//! `qapi_types::server::check_arguments` against real qemu-storage-daemon
//! 10.0.2: bad arguments derived from the storage daemon's table for every
//! command, sent to the daemon over a raw unix socket, and the checker's
//! answer compared with QEMU's reply for each.

#[cfg(qemu_schemas)]
#[path = "server_arguments/corpus.rs"]
mod corpus;

#[cfg(not(qemu_schemas))]
#[test]
#[ignore = "../shared/qemu-10.0.2 was absent at build time: the storage daemon's bindings are empty"]
fn skipped_without_qemu_schemas() {}

#[cfg(qemu_schemas)]
mod with_schemas {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    use qapi_bindings_tests::qemu::storage_daemon;
    use qapi_bindings_tests::qemu_build;
    use qapi_bindings_tests::storage_daemon::SCHEMA;
    use qapi_types::serde_json::{self, json, Value};
    use qapi_types::server::{check_arguments, Conditions};

    use super::corpus::{self, Case};

    /// A raw QMP connection, negotiated.
    pub(super) struct Monitor {
        reader: BufReader<UnixStream>,
        writer: UnixStream,
        next_id: u64,
    }

    impl Monitor {
        pub(super) fn connect(socket: &std::path::Path) -> Self {
            let stream = UnixStream::connect(socket).expect("connected");
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .expect("a timeout");
            let writer = stream.try_clone().expect("a second handle");
            let mut monitor = Monitor {
                reader: BufReader::new(stream),
                writer,
                next_id: 0,
            };
            let greeting = monitor.read();
            assert!(greeting.get("QMP").is_some(), "{greeting}");
            let reply = monitor.execute("qmp_capabilities", &json!({}));
            assert_eq!(reply, json!({"return": {}}));
            monitor
        }

        fn read(&mut self) -> Value {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("a line");
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
        }

        /// The reply to `command` with `arguments` (its id taken out);
        /// events are skipped.
        fn execute(&mut self, command: &str, arguments: &Value) -> Value {
            self.execute_text(command, &arguments.to_string())
        }

        /// Reads the replies left of a request QEMU could not parse (its
        /// parser goes on with the rest of the text as new messages) up to
        /// the reply to a request sent now.
        pub(super) fn resync(&mut self) {
            self.writer
                .write_all(b"{\"execute\": \"query-version\", \"id\": \"sync\"}\n")
                .expect("request sent");
            while self.read().get("id") != Some(&json!("sync")) {}
        }

        /// The replies to `cases`, sent by a second thread while this one
        /// reads (QEMU stops reading while eight wait; it answers in
        /// order).
        pub(super) fn pipeline(&mut self, cases: &[Case]) -> Vec<Value> {
            let first = self.next_id + 1;
            self.next_id += cases.len() as u64;
            let mut writer = self.writer.try_clone().expect("a second handle");
            std::thread::scope(|scope| {
                scope.spawn(move || {
                    let mut batch = Vec::new();
                    for (id, case) in (first..).zip(cases) {
                        let request = json!({
                            "execute": case.command,
                            "arguments": case.arguments,
                            "id": id,
                        });
                        batch.extend_from_slice(request.to_string().as_bytes());
                        batch.push(b'\n');
                        if batch.len() > 1 << 16 {
                            writer.write_all(&batch).expect("requests sent");
                            batch.clear();
                        }
                    }
                    writer.write_all(&batch).expect("requests sent");
                });
                let mut replies = Vec::with_capacity(cases.len());
                while replies.len() < cases.len() {
                    let mut message = self.read();
                    if message.get("event").is_some() {
                        continue;
                    }
                    let id = first + replies.len() as u64;
                    assert_eq!(message["id"], json!(id), "{message}");
                    if let Some(object) = message.as_object_mut() {
                        object.remove("id");
                    }
                    replies.push(message);
                }
                replies
            })
        }

        /// The same with the arguments as JSON text.
        pub(super) fn execute_text(&mut self, command: &str, arguments: &str) -> Value {
            self.next_id += 1;
            let id = self.next_id;
            let request = format!(
                "{{\"execute\": \"{command}\", \"arguments\": {arguments}, \"id\": {id}}}\n"
            );
            self.writer
                .write_all(request.as_bytes())
                .expect("request sent");
            loop {
                let mut message = self.read();
                if message.get("event").is_some() {
                    continue;
                }
                // An error without an id answers a request QEMU could not
                // parse (nested too deeply).
                let unparsed = message.get("id").is_none() && message.get("error").is_some();
                assert!(unparsed || message["id"] == json!(id), "{message}");
                if let Some(object) = message.as_object_mut() {
                    object.remove("id");
                }
                return message;
            }
        }
    }

    /// Whether QEMU's error is one its input visitor words, for a case the
    /// checker accepts.
    fn reads_as_visitor_error(desc: &str) -> bool {
        desc.starts_with("Invalid parameter type for '")
            || (desc.starts_with("Parameter '")
                && (desc.ends_with("' is missing")
                    || desc.ends_with("' is unexpected")
                    || desc.contains("' does not accept value '")
                    || desc.ends_with("' expects uint64")
                    || desc.ends_with("_t")))
    }

    /// The kind of QEMU's answer, for the figures.
    fn kind(reply: &Value) -> &'static str {
        let Some(desc) = reply["error"]["desc"].as_str() else {
            return "return";
        };
        if desc.ends_with("' is missing") {
            "missing"
        } else if desc.ends_with("' is unexpected") {
            "unexpected"
        } else if desc.starts_with("Invalid parameter type") {
            "type"
        } else if desc.contains("' expects ") {
            "range"
        } else if desc.contains("' does not accept value '") {
            "enum"
        } else {
            "other"
        }
    }

    /// The checker's answer and QEMU's reply for one case: `None` where
    /// they agree, else what differs.
    fn compare(case: &Case, reply: &Value, build: &Conditions) -> Option<String> {
        let command = SCHEMA.command(case.command).expect("a command");
        let Value::Object(arguments) = &case.arguments else {
            unreachable!("the corpus makes objects")
        };
        let checked = check_arguments(&SCHEMA, command, arguments, build);
        let agree = match (&checked, reply.get("error")) {
            (Err(expected), Some(error)) => {
                error["class"] == json!(expected.class) && error["desc"] == json!(expected.desc)
            }
            (Err(_), None) => false,
            (Ok(()), Some(error)) => {
                !reads_as_visitor_error(error["desc"].as_str().unwrap_or_default())
            }
            (Ok(()), None) => true,
        };
        (!agree).then(|| {
            format!(
                "{} {}\n  check_arguments: {checked:?}\n  QEMU: {reply}",
                case.command, case.arguments
            )
        })
    }

    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn check_arguments_answers_as_qemu_storage_daemon() {
        let build = Conditions::only(qemu_build::SYMBOLS.iter().copied());
        let cases = corpus::cases(&SCHEMA, &build);
        let qemu = storage_daemon();
        let mut monitor = Monitor::connect(&qemu.socket);
        let started = Instant::now();
        let mut mismatches = Vec::new();
        // How many cases each kind of answer had.
        let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
        let replies = monitor.pipeline(&cases);
        for (case, reply) in cases.iter().zip(&replies) {
            *kinds.entry(kind(reply)).or_default() += 1;
            if let Some(mismatch) = compare(case, reply, &build) {
                mismatches.push(mismatch);
            }
        }
        // The checker's own time over the corpus.
        let timer = Instant::now();
        for case in &cases {
            if let (Some(command), Value::Object(arguments)) =
                (SCHEMA.command(case.command), &case.arguments)
            {
                let checked = check_arguments(&SCHEMA, command, arguments, &build);
                let _ = std::hint::black_box(checked);
            }
        }
        let checking = timer.elapsed();
        let commands = cases
            .iter()
            .map(|case| case.command)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let left_out = cases.iter().filter(|case| case.left_out).count();
        println!(
            "compared {} cases of {commands} commands with qemu-storage-daemon in {:.1?} \
             ({left_out} of parts its build leaves out): {} mismatches; QEMU's answers: \
             {kinds:?}; check_arguments took {:.0?} a case",
            cases.len(),
            started.elapsed(),
            mismatches.len(),
            checking / cases.len().max(1) as u32,
        );
        for expected in ["missing", "unexpected", "type", "range", "enum", "other"] {
            assert!(kinds.contains_key(expected), "no case answered {expected}");
        }
        assert!(cases.len() > 1000, "{} cases", cases.len());
        assert!(
            left_out > 10,
            "{left_out} cases of parts the build leaves out"
        );
        corpus::assert_no_mismatches(&mismatches, cases.len());
    }
}

#[cfg(qemu_schemas)]
mod deep {
    use qapi_bindings_tests::qemu::storage_daemon;
    use qapi_bindings_tests::qemu_build;
    use qapi_bindings_tests::storage_daemon::SCHEMA;
    use qapi_types::serde_json::{json, Map, Value};
    use qapi_types::server::{check_arguments, Conditions};

    use super::with_schemas::Monitor;

    /// `blockdev-add` arguments of `levels` objects, each the `file` of
    /// the one around it, the innermost `inner`; as a value and as text
    /// (built without recursion: serde_json serializes and drops
    /// recursively).
    fn nested(levels: usize, inner: &Value) -> (Map<String, Value>, String) {
        let mut value = inner.clone();
        let mut text = inner.to_string();
        for _ in 1..levels {
            let mut outer = Map::new();
            outer.insert("driver".to_string(), Value::from("raw"));
            outer.insert("file".to_string(), value);
            value = Value::Object(outer);
            text = format!("{{\"driver\": \"raw\", \"file\": {text}}}");
        }
        let Value::Object(arguments) = value else {
            unreachable!("an object")
        };
        (arguments, text)
    }

    /// Takes a nested value apart from the outside in.
    fn dismantle(mut arguments: Map<String, Value>) {
        while let Some(Value::Object(inner)) = arguments.remove("file") {
            arguments = inner;
        }
    }

    /// Arguments nested as deep as QEMU's parser reads (1,024 levels with
    /// the request around them) get the same answer, paths of a thousand
    /// names included, and one level deeper the parser's refusal.
    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn deeply_nested_arguments_answer_as_qemu_storage_daemon() {
        let qemu = storage_daemon();
        let mut monitor = Monitor::connect(&qemu.socket);
        let command = SCHEMA.command("blockdev-add").expect("blockdev-add");
        let build = Conditions::only(qemu_build::SYMBOLS.iter().copied());
        let inners = [
            json!({"driver": "file", "filename": 1}),
            json!({"driver": "file"}),
            json!({"driver": "file", "filename": "f", "a": 1, "b": 2, "c": 3}),
            json!({"driver": "nope"}),
            json!(7),
        ];
        let mut compared = 0;
        for levels in [2, 64, 128, 129, 500, 1022, 1023, 1024] {
            for inner in &inners {
                let (arguments, text) = nested(levels, inner);
                let checked = check_arguments(&SCHEMA, command, &arguments, &build)
                    .expect_err("nothing valid");
                let reply = monitor.execute_text("blockdev-add", &text);
                assert_eq!(
                    reply,
                    json!({"error": {"class": checked.class, "desc": checked.desc}}),
                    "{levels} levels around {inner}"
                );
                if checked.desc == "JSON nesting depth limit exceeded" {
                    monitor.resync();
                }
                dismantle(arguments);
                compared += 1;
            }
        }
        println!("compared {compared} deeply nested cases with qemu-storage-daemon");
    }
}

#[cfg(qemu_schemas)]
mod system_emulator {
    use qapi_bindings_tests::qemu::system_emulator;
    use qapi_bindings_tests::qemu_build;
    use qapi_bindings_tests::system::SCHEMA;
    use qapi_types::serde_json::{json, Map, Value};
    use qapi_types::server::{check_arguments, Conditions};

    use super::corpus;
    use super::with_schemas::Monitor;

    /// Commands whose effect, were QEMU to take the arguments, would stop,
    /// reset or end the emulator, write outside its directory, or crash
    /// it: left out even though only arguments the checker refuses are
    /// sent.
    const RISKY: [&str; 20] = [
        "stop",
        "cont",
        "system_reset",
        "system_powerdown",
        "system_wakeup",
        "x-exit-preconfig",
        "migrate",
        "migrate-incoming",
        "migrate-recover",
        "human-monitor-command",
        "dump-guest-memory",
        "blockdev-reopen",
        "transaction",
        "snapshot-save",
        "snapshot-load",
        "snapshot-delete",
        "pmemsave",
        "memsave",
        "screendump",
        "set-action",
    ];

    /// The same corpus for the system emulator's schema (`-M none`): the
    /// cases the checker refuses (so that nothing runs) get QEMU's very
    /// error.
    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn refusals_match_qemu_system_emulator() {
        // device_add's schema says `gen: false`: QEMU reads its
        // arguments itself (any member is a device property), and so the
        // checker leaves them to the command.
        let device_add = SCHEMA.command("device_add").expect("a command");
        assert!(device_add.reads_own_arguments);
        let extra = Map::from_iter([("driver".into(), json!("x")), ("speed".into(), json!(1))]);
        let build = Conditions::only(qemu_build::SYMBOLS.iter().copied());
        assert_eq!(check_arguments(&SCHEMA, device_add, &extra, &build), Ok(()));
        let wanted = |name: &str| !RISKY.contains(&name);
        let cases: Vec<corpus::Case> = corpus::cases_of(&SCHEMA, &build, wanted)
            .into_iter()
            .filter(|case| {
                let command = SCHEMA.command(case.command).expect("a command");
                let Value::Object(arguments) = &case.arguments else {
                    return false;
                };
                check_arguments(&SCHEMA, command, arguments, &build).is_err()
            })
            .collect();
        assert!(cases.len() > 1000, "only {} refused cases", cases.len());
        let qemu = system_emulator();
        let mut monitor = Monitor::connect(&qemu.socket);
        let replies = monitor.pipeline(&cases);
        let mut mismatches = Vec::new();
        for (case, reply) in cases.iter().zip(&replies) {
            let command = SCHEMA.command(case.command).expect("a command");
            let Value::Object(arguments) = &case.arguments else {
                unreachable!("only objects were kept");
            };
            let expected = check_arguments(&SCHEMA, command, arguments, &build)
                .expect_err("only refused cases were kept");
            let expected = json!({"error": {"class": expected.class, "desc": expected.desc}});
            if *reply != expected {
                mismatches.push(format!(
                    "{} {}\n  check_arguments: {expected}\n  QEMU: {reply}",
                    case.command, case.arguments
                ));
            }
        }
        let left_out = cases.iter().filter(|case| case.left_out).count();
        println!(
            "compared {} refused cases with qemu-system-x86_64 ({left_out} of parts its build \
             leaves out): {} mismatches",
            cases.len(),
            mismatches.len()
        );
        assert!(
            left_out > 10,
            "{left_out} cases of parts the build leaves out"
        );
        corpus::assert_no_mismatches(&mismatches, cases.len());
    }
}
