//! The async client against a scripted fake server on a socket pair:
//! negotiation, typed calls and errors, events interleaved with replies,
//! ids matching out-of-order replies, and every fault a server can cause.

use std::time::Duration;

use qapi_types::qmp::commands::{QmpCapabilities, QueryVersion};
use qapi_types::serde_json::{json, Value};
use qapi_types::{Config, Error, EventsError, Qmp};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": ["oob"]}}"#;

/// The server side of a connection.
struct Server {
    reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    writer: tokio::net::unix::OwnedWriteHalf,
}

impl Server {
    async fn recv(&mut self) -> Option<Value> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        Some(qapi_types::serde_json::from_str(&line).expect("the client sends JSON"))
    }

    async fn send(&mut self, value: Value) {
        self.send_raw(format!("{value}\r\n").as_bytes()).await;
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer
            .write_all(bytes)
            .await
            .expect("the client reads");
    }

    /// Answers `qmp_capabilities`.
    async fn accept_negotiation(&mut self) -> Value {
        let request = self.recv().await.expect("a request");
        assert_eq!(request["execute"], "qmp_capabilities");
        self.send(json!({ "return": {}, "id": request["id"] }))
            .await;
        request
    }
}

/// A client connected to a server running `script`, negotiated unless
/// `negotiate` is false.
async fn connect<F, Fut>(
    negotiate: bool,
    config: Config,
    script: F,
) -> (Result<Qmp, Error>, tokio::task::JoinHandle<()>)
where
    F: FnOnce(Server) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (client, server) = UnixStream::pair().expect("a socket pair");
    let (read, write) = server.into_split();
    let task = tokio::spawn(async move {
        let mut server = Server {
            reader: BufReader::new(read),
            writer: write,
        };
        server.send_raw(format!("{GREETING}\r\n").as_bytes()).await;
        script(server).await;
    });
    let qmp = if negotiate {
        Qmp::from_stream(client, &config).await
    } else {
        Qmp::handshake(client, &config).await
    };
    (qmp, task)
}

#[tokio::test]
async fn negotiates_and_executes_typed_commands() {
    let (qmp, server) = connect(true, Config::default(), |mut server| async move {
        let negotiation = server.accept_negotiation().await;
        assert_eq!(negotiation["arguments"], json!({ "enable": ["oob"] }));
        let request = server.recv().await.expect("query-version");
        assert_eq!(request, json!({ "execute": "query-version", "id": request["id"] }));
        server
            .send(json!({ "return": { "qemu": { "major": 10, "minor": 0, "micro": 2 }, "package": "v10.0.2" }, "id": request["id"] }))
            .await;
    })
    .await;
    let qmp = qmp.expect("connected");
    assert!(qmp.oob_enabled());
    assert!(qmp.greeting().offers(&qapi_types::qmp::QMPCapability::Oob));
    let version = qmp.execute(&QueryVersion::new()).await.expect("a version");
    assert_eq!(version.qemu.major, 10);
    assert_eq!(version.package, "v10.0.2");
    server.await.expect("the script ran");
}

#[tokio::test]
async fn commands_before_negotiation_are_refused_locally() {
    let (qmp, _server) = connect(false, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("handshake");
    let error = qmp
        .execute(&QueryVersion::new())
        .await
        .expect_err("refused");
    assert!(
        matches!(error, Error::NotNegotiated { ref command } if command == "query-version"),
        "{error}"
    );
    qmp.execute(&QmpCapabilities::new())
        .await
        .expect("negotiation works");
}

#[tokio::test]
async fn errors_name_the_command() {
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("a request");
        server
            .send(json!({ "error": { "class": "CommandNotFound", "desc": "The command query-version has not been found" }, "id": request["id"] }))
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let error = qmp
        .expect("connected")
        .execute(&QueryVersion::new())
        .await
        .expect_err("an error");
    let Error::Command { command, error } = &error else {
        panic!("{error}")
    };
    assert_eq!(command, "query-version");
    assert_eq!(error.class, "CommandNotFound");
}

#[tokio::test]
async fn replies_out_of_order_reach_their_callers_and_events_their_subscribers() {
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        let first = server.recv().await.expect("first");
        let second = server.recv().await.expect("second");
        server
            .send(json!({ "event": "STOP", "timestamp": { "seconds": 1, "microseconds": 2 } }))
            .await;
        server
            .send(json!({ "return": "second", "id": second["id"] }))
            .await;
        server
            .send(json!({ "event": "RESUME", "timestamp": { "seconds": 3, "microseconds": 4 } }))
            .await;
        server
            .send(json!({ "return": "first", "id": first["id"] }))
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    let mut events = qmp.events();
    let (first, second) = tokio::join!(qmp.execute_raw("first", json!({})), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        qmp.execute_raw("second", json!({})).await
    });
    assert_eq!(first.expect("first"), json!("first"));
    assert_eq!(second.expect("second"), json!("second"));
    assert_eq!(events.next().await.expect("an event").event, "STOP");
    assert_eq!(events.next().await.expect("an event").event, "RESUME");
}

#[tokio::test]
async fn unknown_ids_unknown_messages_and_idless_errors() {
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("a request");
        server.send(json!({ "return": {}, "id": 999_999 })).await;
        // JSON objects the client can't use: skipped, counted.
        server.send(json!({ "something-new": 1 })).await;
        server.send(json!({ "event": "NO-TIMESTAMP" })).await;
        server.send(json!({ "return": "ok", "id": request["id"] })).await;
        let _ = server.recv().await.expect("another request");
        server.send(json!({ "error": { "class": "GenericError", "desc": "JSON parse error, expecting value" } })).await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    assert_eq!(
        qmp.execute_raw("x", json!({})).await.expect("ok"),
        json!("ok")
    );
    assert_eq!(qmp.dropped_replies(), 1);
    assert_eq!(qmp.ignored_messages(), 2);
    let error = qmp
        .execute_raw("y", json!({}))
        .await
        .expect_err("the id-less error");
    assert!(
        matches!(&error, Error::Command { command, .. } if command == "y"),
        "{error}"
    );
}

/// Messages nested deeper than the client decodes (a query-block on a
/// long backing chain): a reply fails its own call, naming the command,
/// an event is skipped, and the connection stays usable.
#[tokio::test]
async fn messages_nested_too_deeply_fail_their_call_only() {
    let nested = |depth: usize| "[".repeat(depth) + &"]".repeat(depth);
    let (qmp, _server) = connect(true, Config::default(), move |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("a request");
        let event = format!(
            r#"{{"event": "DEEP", "data": {{"x": {}}}, "timestamp": {{"seconds": 1, "microseconds": 0}}}}"#,
            nested(1000)
        );
        server.send_raw(format!("{event}\r\n").as_bytes()).await;
        let reply = format!(r#"{{"return": {}, "id": {}}}"#, nested(1000), request["id"]);
        server.send_raw(format!("{reply}\r\n").as_bytes()).await;
        let request = server.recv().await.expect("another request");
        server.send(json!({ "return": "fine", "id": request["id"] })).await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    let error = qmp
        .execute_raw("query-block", json!({}))
        .await
        .expect_err("too deep");
    assert!(
        matches!(&error, Error::Decode { command, source, .. } if command == "query-block" && source.to_string().contains("deeper than 128")),
        "{error}"
    );
    assert_eq!(
        qmp.execute_raw("x", json!({})).await.expect("usable"),
        json!("fine")
    );
    assert_eq!(qmp.ignored_messages(), 1);
}

/// A line that is not a JSON object (not JSON, or an array nested
/// deeper than anything QMP sends) means client and server no longer
/// agree: every waiting call fails with a protocol error naming the
/// line, and the connection closes.
#[tokio::test]
async fn a_line_that_is_not_a_json_object_fails_every_waiting_call() {
    let deep = [vec![b'['; 100_000], vec![b']'; 100_000], b"\r\n".to_vec()].concat();
    let lines: [&[u8]; 3] = [b"{this is not json\r\n", &deep, b"[1, 2]\n"];
    let excerpts = [
        "'{this is not json'".to_string(),
        format!("'{}…'", "[".repeat(80)),
        "'[1, 2]'".to_string(),
    ];
    for (line, excerpt) in lines.into_iter().zip(excerpts) {
        let line = line.to_vec();
        let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
            server.accept_negotiation().await;
            let _ = server.recv().await.expect("a request");
            let _ = server.recv().await.expect("another request");
            server.send_raw(&line).await;
            std::future::pending::<()>().await;
        })
        .await;
        let qmp = qmp.expect("connected");
        let mut events = qmp.events();
        let (a, b) = tokio::time::timeout(
            Duration::from_secs(5),
            futures_join(
                qmp.execute_raw("a", json!({})),
                qmp.execute_raw("b", json!({})),
            ),
        )
        .await
        .expect("no call hangs");
        for result in [a, b] {
            let error = result.expect_err("a protocol error");
            assert!(
                matches!(&error, Error::Protocol(what) if what.contains("not a JSON object") && what.ends_with(&excerpt)),
                "{error}"
            );
        }
        let later = qmp.execute_raw("c", json!({})).await.expect_err("closed");
        assert!(
            matches!(&later, Error::Closed(why) if why.contains("not a JSON object")),
            "{later}"
        );
        assert_eq!(events.next().await, Err(EventsError::Closed));
    }
}

/// An error reply whose body is malformed still answers its call.
#[tokio::test]
async fn a_malformed_error_reply_fails_its_call() {
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("a request");
        server
            .send(json!({ "error": { "class": "GenericError" }, "id": request["id"] }))
            .await;
        let request = server.recv().await.expect("another request");
        server
            .send(json!({ "return": 7, "id": request["id"] }))
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    let error = tokio::time::timeout(Duration::from_secs(5), qmp.execute_raw("x", json!({})))
        .await
        .expect("no hang")
        .expect_err("a protocol error");
    assert!(
        matches!(&error, Error::Protocol(what) if what.contains("a malformed error reply") && what.contains("desc")),
        "{error}"
    );
    assert_eq!(
        qmp.execute_raw("y", json!({})).await.expect("still usable"),
        json!(7)
    );
}

/// A server whose first line is not JSON is not a QMP server: an HMP
/// monitor, say.
#[tokio::test]
async fn a_server_that_does_not_speak_json_is_not_qmp() {
    let (client, mut server) = UnixStream::pair().expect("a socket pair");
    let _server = tokio::spawn(async move {
        server
            .write_all(b"QEMU 10.0.2 monitor - type 'help' for more information\r\n(qemu) ")
            .await
            .expect("written");
        std::future::pending::<()>().await;
    });
    let error = tokio::time::timeout(
        Duration::from_secs(5),
        Qmp::from_stream(client, &Config::default()),
    )
    .await
    .expect("no hang")
    .expect_err("not QMP");
    assert_eq!(
        error.to_string(),
        "not a QMP server: it sent 'QEMU 10.0.2 monitor - type 'help' for more information'"
    );
}

#[tokio::test]
async fn a_dying_server_fails_every_pending_call_promptly() {
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        let _ = server.recv().await;
        let _ = server.recv().await;
        // Dropping the server closes the socket mid-command.
    })
    .await;
    let qmp = qmp.expect("connected");
    let calls = tokio::time::timeout(
        Duration::from_secs(5),
        futures_join(
            qmp.execute_raw("a", json!({})),
            qmp.execute_raw("b", json!({})),
        ),
    )
    .await
    .expect("no call hangs");
    assert!(matches!(calls.0, Err(Error::Closed(_))), "{:?}", calls.0);
    assert!(matches!(calls.1, Err(Error::Closed(_))), "{:?}", calls.1);
    assert!(matches!(
        qmp.execute_raw("c", json!({})).await,
        Err(Error::Closed(_))
    ));
    assert_eq!(qmp.events().next().await, Err(EventsError::Closed));
}

async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    tokio::join!(a, b)
}

#[tokio::test]
async fn an_oversized_line_closes_the_connection() {
    let config = Config::builder().max_message(1024).build();
    let (qmp, _server) = connect(true, config, |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("a request");
        let huge = "x".repeat(4096);
        server
            .send(json!({ "return": huge, "id": request["id"] }))
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let error = qmp
        .expect("connected")
        .execute_raw("big", json!({}))
        .await
        .expect_err("too long");
    // The waiting call learns why: the server broke the protocol.
    assert!(
        matches!(&error, Error::Protocol(why) if why.contains("longer than 1024")),
        "{error}"
    );
}

#[tokio::test]
async fn a_pretty_printed_message_counts_all_its_lines_against_the_limit() {
    let config = Config::builder().max_message(1024).build();
    let (qmp, _server) = connect(true, config, |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("a request");
        // Short lines, one long message.
        let lines = "    \"x\": 1,\r\n".repeat(200);
        let reply = format!("{{\r\n{lines}    \"id\": {}\r\n}}\r\n", request["id"]);
        server.send_raw(reply.as_bytes()).await;
        std::future::pending::<()>().await;
    })
    .await;
    let error = qmp
        .expect("connected")
        .execute_raw("big", json!({}))
        .await
        .expect_err("too long");
    assert!(
        matches!(&error, Error::Protocol(why) if why.contains("message longer than 1024")),
        "{error}"
    );
}

#[tokio::test]
async fn a_server_dying_mid_message_fails_the_call() {
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        let _ = server.recv().await;
        server.send_raw(b"{\r\n    \"return\": {\r\n").await;
    })
    .await;
    let error = tokio::time::timeout(
        Duration::from_secs(5),
        qmp.expect("connected").execute_raw("a", json!({})),
    )
    .await
    .expect("no hang")
    .expect_err("closed");
    assert!(
        matches!(&error, Error::Closed(why) if why.contains("mid-message")),
        "{error}"
    );
}

#[tokio::test]
async fn timeouts_and_cancellations_leave_the_connection_usable() {
    // Without out-of-band execution, nothing limits the commands in flight.
    let config = Config::builder().oob(false).build();
    let (qmp, _server) = connect(true, config, |mut server| async move {
        server.accept_negotiation().await;
        let slow = server.recv().await.expect("the slow one");
        // 101 more: one is cancelled by its caller, 100 wait.
        let mut others = Vec::new();
        for _ in 0..101 {
            others.push(server.recv().await.expect("a request"));
        }
        for request in others {
            server.send(json!({ "return": request["execute"], "id": request["id"] })).await;
        }
        server.send(json!({ "return": {}, "id": slow["id"] })).await;
        let last = server.recv().await.expect("after the timeout");
        server.send(json!({ "return": { "qemu": { "major": 1, "minor": 2, "micro": 3 }, "package": "" }, "id": last["id"] })).await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    let slow = qmp
        .execute_timeout(&QueryVersion::new(), Duration::from_millis(50))
        .await;
    assert!(matches!(slow, Err(Error::Timeout { .. })), "{slow:?}");
    let cancelled = {
        let qmp = qmp.clone();
        tokio::spawn(async move { qmp.execute_raw("cancelled", json!({})).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    cancelled.abort();
    let mut waiting = Vec::new();
    for i in 0..100 {
        let qmp = qmp.clone();
        waiting.push(tokio::spawn(async move {
            qmp.execute_raw(&format!("call-{i}"), json!({})).await
        }));
    }
    for (i, call) in waiting.into_iter().enumerate() {
        assert_eq!(
            call.await.expect("joined").expect("answered"),
            json!(format!("call-{i}"))
        );
    }
    let version = qmp
        .execute(&QueryVersion::new())
        .await
        .expect("still usable");
    assert_eq!(version.qemu.minor, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_tasks_times_a_thousand_commands_all_matched() {
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        // Echo each request's name back as its return value.
        while let Some(request) = server.recv().await {
            server
                .send(json!({ "return": request["execute"], "id": request["id"] }))
                .await;
        }
    })
    .await;
    let qmp = qmp.expect("connected");
    let mut tasks = Vec::new();
    for task in 0..100 {
        let qmp = qmp.clone();
        tasks.push(tokio::spawn(async move {
            for call in 0..1000 {
                let name = format!("t{task}-c{call}");
                assert_eq!(
                    qmp.execute_raw(&name, json!({})).await.expect("answered"),
                    json!(name)
                );
            }
        }));
    }
    for task in tasks {
        task.await.expect("every reply matched its caller");
    }
}

#[tokio::test]
async fn at_most_eight_in_band_commands_are_in_flight_with_oob() {
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        // Read what the client sends before anything is answered.
        let mut requests = Vec::new();
        while let Ok(Some(request)) =
            tokio::time::timeout(Duration::from_millis(200), server.recv()).await
        {
            requests.push(request);
        }
        assert_eq!(
            requests.len(),
            8,
            "only 8 in-band commands are sent before replies"
        );
        for request in requests {
            server
                .send(json!({ "return": {}, "id": request["id"] }))
                .await;
        }
        while let Some(request) = server.recv().await {
            server
                .send(json!({ "return": {}, "id": request["id"] }))
                .await;
        }
    })
    .await;
    let qmp = qmp.expect("connected");
    let mut calls = Vec::new();
    for i in 0..20 {
        let qmp = qmp.clone();
        calls.push(tokio::spawn(async move {
            qmp.execute_raw(&format!("c{i}"), json!({})).await
        }));
    }
    for call in calls {
        call.await.expect("joined").expect("answered");
    }
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_told_how_many_events_it_missed() {
    let config = Config::builder().event_buffer(4).build();
    let (qmp, _server) = connect(true, config, |mut server| async move {
        server.accept_negotiation().await;
        for i in 0..10 {
            server.send(json!({ "event": format!("E{i}"), "timestamp": { "seconds": i, "microseconds": 0 } })).await;
        }
        let request = server.recv().await.expect("a request");
        server.send(json!({ "return": {}, "id": request["id"] })).await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    let mut events = qmp.events();
    // A round trip: every event sent before the reply has been read.
    qmp.execute_raw("sync", json!({})).await.expect("answered");
    assert_eq!(events.next().await, Err(EventsError::Lagged(6)));
    for i in 6..9 {
        assert_eq!(events.next().await.expect("kept").event, format!("E{i}"));
    }
    // An event the bindings don't know decodes to the raw fallback.
    let unknown = events
        .next_typed::<qapi_types::qmp::events::Event>()
        .await
        .expect("kept")
        .expect("decodes");
    assert!(
        matches!(&unknown.event, qapi_types::qmp::events::Event::Unrecognized(raw) if raw.event == "E9")
    );
    assert_eq!(unknown.timestamp.seconds, 9);
}

#[tokio::test]
async fn qemu_2_12_out_of_band_syntax_can_be_selected() {
    let config = Config::builder().legacy_oob(true).build();
    let (qmp, _server) = connect(true, config, |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("a request");
        assert_eq!(request["execute"], "x-oob-test");
        assert_eq!(request["control"], json!({ "run-oob": true }));
        server
            .send(json!({ "return": {}, "id": request["id"] }))
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    qmp.execute_oob(&OobTest {}).await.expect("answered");
}

/// An out-of-band command for the syntax test.
#[derive(qapi_types::serde::Serialize)]
#[serde(crate = "qapi_types::serde")]
struct OobTest {}

impl qapi_types::Command for OobTest {
    const NAME: &'static str = "x-oob-test";
    const ALLOW_OOB: bool = true;
    const SUCCESS_RESPONSE: bool = true;
    type Ok = qapi_types::Empty;
}

impl qapi_types::OobCommand for OobTest {}

#[tokio::test]
async fn check_schema_asks_for_the_schema_and_compares() {
    let (qmp, server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("query-qmp-schema");
        assert_eq!(request["execute"], "query-qmp-schema");
        // A server that knows only `query-version`, whose reply lacks
        // `package`.
        server
            .send(json!({ "return": [
                { "name": "query-version", "meta-type": "command", "arg-type": "0", "ret-type": "1" },
                { "name": "0", "meta-type": "object", "members": [] },
                { "name": "1", "meta-type": "object", "members": [ { "name": "qemu", "type": "2" } ] },
                { "name": "2", "meta-type": "object", "members": [
                    { "name": "major", "type": "int" }, { "name": "minor", "type": "int" },
                    { "name": "micro", "type": "int" } ] },
                { "name": "int", "meta-type": "builtin", "json-type": "int" }
            ], "id": request["id"] }))
            .await;
    })
    .await;
    let report = qmp
        .expect("connected")
        .check_schema(&qapi_types::qmp::SCHEMA)
        .await
        .expect("a report");
    let errors: Vec<String> = report.incompatibilities().map(|m| m.to_string()).collect();
    assert_eq!(
        errors,
        [
            "command 'qmp_capabilities': not known to the server",
            "command 'query-version' return 'package': required by the bindings, absent on the server",
            "command 'query-commands': not known to the server",
            "command 'query-qmp-schema': not known to the server",
        ]
    );
    assert!(!report.is_compatible());
    server.await.expect("the script ran");
}

/// A command without a success response, as `'success-response': false`
/// generates it.
#[derive(serde::Serialize)]
struct Shutdown {}

impl qapi_types::Command for Shutdown {
    const NAME: &'static str = "shutdown-quietly";
    const ALLOW_OOB: bool = false;
    const SUCCESS_RESPONSE: bool = false;
    type Ok = qapi_types::Empty;
}

#[tokio::test]
async fn dropping_every_clone_closes_the_connection() {
    let (closed, is_closed) = tokio::sync::oneshot::channel();
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        // No events, no replies: only the client closing ends this.
        assert!(server.recv().await.is_none());
        let _ = closed.send(());
    })
    .await;
    let qmp = qmp.expect("connected");
    let clone = qmp.clone();
    drop(qmp);
    drop(clone);
    tokio::time::timeout(Duration::from_secs(5), is_closed)
        .await
        .expect("the socket closed when the last clone went")
        .expect("the server saw it");
}

#[tokio::test]
async fn a_server_that_never_greets_is_no_greeting() {
    let (client, _server) = UnixStream::pair().expect("a socket pair");
    let config = Config::builder()
        .greeting_timeout(Duration::from_millis(100))
        .build();
    let error = Qmp::from_stream(client, &config)
        .await
        .expect_err("no greeting");
    assert!(matches!(error, Error::NoGreeting { .. }), "{error}");
    assert_eq!(error.to_string(), "no QMP greeting within 100 ms");
}

#[tokio::test]
async fn a_negotiation_nobody_answers_times_out() {
    let config = Config::builder()
        .greeting_timeout(Duration::from_millis(100))
        .build();
    let (qmp, _server) = connect(true, config, |server| async move {
        let _silent = server;
        std::future::pending::<()>().await;
    })
    .await;
    let error = qmp.expect_err("no answer");
    assert!(
        matches!(&error, Error::Timeout { command, .. } if command == "qmp_capabilities"),
        "{error}"
    );
}

/// An `allow-oob` command.
#[derive(serde::Serialize)]
struct QueryYank {}

impl qapi_types::Command for QueryYank {
    const NAME: &'static str = "query-yank";
    const ALLOW_OOB: bool = true;
    const SUCCESS_RESPONSE: bool = true;
    type Ok = Value;
}

impl qapi_types::OobCommand for QueryYank {}

#[tokio::test]
async fn out_of_band_execution_needs_the_capability() {
    let config = Config::builder().oob(false).build();
    let (qmp, server) = connect(true, config, |mut server| async move {
        let negotiation = server.accept_negotiation().await;
        assert!(negotiation.get("arguments").is_none(), "{negotiation}");
        // Nothing else may arrive.
        assert!(server.recv().await.is_none());
    })
    .await;
    let qmp = qmp.expect("connected");
    assert!(!qmp.oob_enabled());
    let error = qmp
        .execute_oob(&QueryYank {})
        .await
        .expect_err("refused before anything is sent");
    assert!(
        matches!(&error, Error::OobNotEnabled { command } if command == "query-yank"),
        "{error}"
    );
    // The server saw nothing but the negotiation before the close.
    drop(qmp);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the connection closed")
        .expect("nothing was sent");
}

#[tokio::test]
async fn commands_without_a_success_response_complete_once_sent() {
    let (sent, was_sent) = tokio::sync::oneshot::channel();
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        let request = server.recv().await.expect("the command");
        let _ = sent.send(request);
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    tokio::time::timeout(Duration::from_secs(5), qmp.execute(&Shutdown {}))
        .await
        .expect("no wait for a reply")
        .expect("sent");
    let request = was_sent.await.expect("the server got it");
    assert_eq!(request["execute"], "shutdown-quietly");
}

/// A server that stops reading leaves the writer stuck on a large
/// request; dropping the last clone still closes the socket, after a
/// short grace for what was queued.
#[tokio::test]
async fn dropping_the_client_closes_the_socket_even_with_a_stuck_writer() {
    let (closed, is_closed) = tokio::sync::oneshot::channel();
    let (qmp, _server) = connect(true, Config::default(), |mut server| async move {
        server.accept_negotiation().await;
        // Read nothing more until well past the writer's grace (1 s),
        // with room for a loaded machine: the client's write blocks
        // meanwhile.
        tokio::time::sleep(Duration::from_millis(4000)).await;
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut server.reader, &mut sink).await;
        let _ = closed.send(sink.len());
    })
    .await;
    let qmp = qmp.expect("connected");
    let big = "x".repeat(16 << 20);
    let call = {
        let qmp = qmp.clone();
        tokio::spawn(async move { qmp.execute_raw("big", json!({ "data": big })).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    call.abort();
    drop(qmp);
    let read = tokio::time::timeout(Duration::from_secs(10), is_closed)
        .await
        .expect("the socket closed")
        .expect("the server saw it");
    assert!(
        read < 16 << 20,
        "the stuck request was not all sent: {read} bytes"
    );
}

/// Calls given up on (a time limit) while the server never answers are
/// kept only until too many are: the connection is then closed, rather
/// than holding their places without end. With out-of-band execution,
/// eight are sent and the others given up on while queued behind them.
#[tokio::test]
async fn a_server_that_leaves_calls_unanswered_is_given_up_on() {
    for oob in [false, true] {
        let config = Config::builder().oob(oob).build();
        let (qmp, _server) = connect(true, config, |mut server| async move {
            server.accept_negotiation().await;
            while server.recv().await.is_some() {}
        })
        .await;
        let qmp = qmp.expect("connected");
        assert_eq!(qmp.oob_enabled(), oob);
        let mut closed = None;
        for i in 0..2000 {
            match qmp
                .execute_timeout(&QueryVersion::new(), Duration::from_millis(1))
                .await
            {
                Err(Error::Timeout { .. }) => {}
                Err(error) => {
                    closed = Some((i, error));
                    break;
                }
                Ok(value) => panic!("no reply was sent, got {value:?}"),
            }
        }
        let (calls, error) = closed.expect("the connection closed");
        assert_eq!(
            calls, 1025,
            "oob {oob}: closed after {calls} calls: {error}"
        );
        assert!(error.is_closed(), "{error}");
        assert!(error.to_string().contains("given up on"), "{error}");
        assert!(format!("{qmp:?}").contains("in_flight: 0"), "{qmp:?}");
    }
}

/// A reply that comes after its caller gave up is dropped and settles
/// that call: an error without an id afterwards is the next call's.
#[tokio::test]
async fn a_late_reply_settles_its_abandoned_call() {
    let config = Config::builder().oob(false).build();
    let (qmp, _server) = connect(true, config, |mut server| async move {
        server.accept_negotiation().await;
        let slow = server.recv().await.expect("a request");
        let next = server.recv().await.expect("the next request");
        server.send(json!({ "return": {}, "id": slow["id"] })).await;
        let _ = next;
        server
            .send(json!({ "error": { "class": "GenericError", "desc": "JSON parse error" } }))
            .await;
        std::future::pending::<()>().await;
    })
    .await;
    let qmp = qmp.expect("connected");
    // Cancelled by its caller.
    let slow = tokio::time::timeout(
        Duration::from_millis(20),
        qmp.execute_raw("query-status", json!({})),
    )
    .await;
    assert!(slow.is_err(), "{slow:?}");
    assert!(format!("{qmp:?}").contains("abandoned: 1"), "{qmp:?}");
    let error = qmp
        .execute_timeout(&QueryVersion::new(), Duration::from_secs(10))
        .await
        .expect_err("the server's error");
    assert_eq!(
        error.qmp_error().expect("QEMU's error").desc,
        "JSON parse error"
    );
    assert_eq!(qmp.dropped_replies(), 1);
    assert!(format!("{qmp:?}").contains("abandoned: 0"), "{qmp:?}");
}

/// A reply of exactly the message limit is read (its line ending does not
/// count); one byte more is too long.
#[tokio::test]
async fn a_reply_of_exactly_the_limit_is_read() {
    for (extra, fits) in [(0, true), (1, false)] {
        let config = Config::builder().max_message(1024).build();
        let (qmp, _server) = connect(true, config, move |mut server| async move {
            server.accept_negotiation().await;
            let request = server.recv().await.expect("a request");
            let reply = |text: &str| json!({ "return": text, "id": request["id"] }).to_string();
            let padding = 1024 + extra - reply("").len();
            let reply = reply(&"x".repeat(padding));
            assert_eq!(reply.len(), 1024 + extra);
            server.send_raw(format!("{reply}\r\n").as_bytes()).await;
            std::future::pending::<()>().await;
        })
        .await;
        let result = qmp.expect("connected").execute_raw("big", json!({})).await;
        assert_eq!(result.is_ok(), fits, "{extra}: {result:?}");
    }
}
