//! The server runtime over raw streams: what QEMU's monitor answers to
//! good and bad requests, the queue, out-of-band commands, events.
#![cfg(feature = "server")]

use std::time::Duration;

use qapi_types::serde_json::{self, json, Value};
use qapi_types::server::{QmpServer, QueuePolicy, ServerConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

#[path = "support/test_dispatch.rs"]
mod test_dispatch;

use test_dispatch::{Test, COMMANDS};

/// A client's end of a stream the server serves.
struct Client {
    reader: BufReader<tokio::io::ReadHalf<DuplexStream>>,
    writer: tokio::io::WriteHalf<DuplexStream>,
}

impl Client {
    fn start(server: &QmpServer) -> (Self, tokio::task::JoinHandle<std::io::Result<()>>) {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let server = server.clone();
        let task = tokio::spawn(async move { server.serve(theirs).await });
        let (read, write) = tokio::io::split(ours);
        let client = Client {
            reader: BufReader::new(read),
            writer: write,
        };
        (client, task)
    }

    async fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).await.unwrap();
    }

    async fn next(&mut self) -> Value {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
            .await
            .expect("a message in time")
            .unwrap();
        assert!(line.ends_with("\r\n"), "{line:?}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    async fn ask(&mut self, text: &str) -> Value {
        self.send(text).await;
        self.next().await
    }
}

/// A typed event of the test schema.
#[derive(serde::Serialize, serde::Deserialize)]
struct JobDone {
    when: String,
}

impl qapi_types::Event for JobDone {
    const NAME: &'static str = "JOB_DONE";
}

fn error(class: &str, desc: &str) -> Value {
    json!({"error": {"class": class, "desc": desc}})
}

fn with_id(mut message: Value, id: Value) -> Value {
    message["id"] = id;
    message
}

#[tokio::test]
async fn greeting_negotiation_and_requests_as_qemu_answers_them() {
    let server = QmpServer::new(Test, ServerConfig::default());
    let (mut client, _task) = Client::start(&server);
    let greeting = client.next().await;
    assert_eq!(greeting["QMP"]["capabilities"], json!(["oob"]));
    assert_eq!(greeting["QMP"]["version"]["qemu"]["major"], 10);

    let negotiate = "Expecting capabilities negotiation with 'qmp_capabilities'";
    assert_eq!(
        client.ask(r#"{"execute":"query-version","id":1}"#).await,
        with_id(error("CommandNotFound", negotiate), json!(1))
    );
    assert_eq!(
        client.ask(r#"{"execute":"nope"}"#).await,
        error("CommandNotFound", negotiate)
    );
    assert_eq!(
        client.ask(r#"{"exec-oob":"ping","id":2}"#).await,
        with_id(
            error("GenericError", "QMP input member 'exec-oob' is unexpected"),
            json!(2)
        )
    );
    assert_eq!(
        client.ask("foo!\n").await,
        error("GenericError", "JSON parse error, invalid keyword 'foo'")
    );
    assert_eq!(
        client.next().await,
        error("GenericError", "JSON parse error, stray '!'")
    );
    assert_eq!(
        client
            .ask(r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":"a"}"#)
            .await,
        json!({"return": {}, "id": "a"})
    );
    assert_eq!(
        client.ask(r#"{"execute":"qmp_capabilities"}"#).await,
        error(
            "CommandNotFound",
            "Capabilities negotiation is already complete, command ignored"
        )
    );
    assert_eq!(
        client.ask(r#"{"exec-oob":"slow","id":3}"#).await,
        with_id(
            error("GenericError", "The command slow does not support OOB"),
            json!(3)
        )
    );
    assert_eq!(
        client
            .ask(r#"{"execute":"nope","id":[1,{"x":null}]}"#)
            .await,
        with_id(
            error("CommandNotFound", "The command nope has not been found"),
            json!([1, {"x": null}])
        )
    );
    assert_eq!(
        client.ask(r#"{"execute":"unimplemented"}"#).await,
        error(
            "CommandNotFound",
            "The command unimplemented has not been found"
        )
    );
    assert_eq!(
        client.ask(r#"{"execute":"fail","id":4.5}"#).await,
        with_id(error("GenericError", "it failed"), json!(4.5))
    );
    let version = client.ask(r#"{"execute":"query-version"}"#).await;
    assert_eq!(version["return"]["package"], "qapi-types");
    let commands = client.ask(r#"{"execute":"query-commands"}"#).await;
    assert_eq!(commands["return"].as_array().unwrap().len(), COMMANDS.len());
    // Values are cut where brackets balance, across lines.
    client.send("{'execute':\n'slow',\n").await;
    assert_eq!(
        client.ask("'arguments':{'ms':1},'id':'sq'}").await,
        json!({"return": {"slept": 1}, "id": "sq"})
    );
    assert_eq!(
        client.ask("[1]").await,
        error("GenericError", "QMP input must be a JSON object")
    );
}

#[tokio::test]
async fn out_of_band_execution_needs_offering_and_enabling() {
    let config = ServerConfig::builder().oob(false).legacy_oob(true).build();
    let server = QmpServer::new(Test, config);
    let (mut client, _task) = Client::start(&server);
    assert_eq!(client.next().await["QMP"]["capabilities"], json!([]));
    assert_eq!(
        client
            .ask(r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#)
            .await,
        error(
            "GenericError",
            "Capability 'oob' not available with this monitor"
        )
    );
    client.ask(r#"{"execute":"qmp_capabilities"}"#).await;
    assert_eq!(
        client
            .ask(r#"{"execute":"ping","control":{"run-oob":true}}"#)
            .await,
        error(
            "GenericError",
            "Please enable Out-Of-Band first for the session during capabilities negotiation"
        )
    );
    assert_eq!(
        client.ask(r#"{"exec-oob":"ping"}"#).await,
        error("GenericError", "QMP input member 'exec-oob' is unexpected")
    );
    assert_eq!(
        client.ask(r#"{"execute":"ping"}"#).await,
        json!({"return": "pong"})
    );
}

#[tokio::test]
async fn values_nested_as_deep_as_qemu_allows_are_echoed() {
    let server = QmpServer::new(Test, ServerConfig::default());
    let (mut client, _task) = Client::start(&server);
    client.next().await;
    client.ask(r#"{"execute":"qmp_capabilities"}"#).await;
    let id = format!("{}{}", "[".repeat(1023), "]".repeat(1023));
    client
        .send(&format!(r#"{{"execute":"ping","id":{id}}}"#))
        .await;
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), client.reader.read_line(&mut line))
        .await
        .expect("a reply in time")
        .unwrap();
    let expected = format!("{{\"return\": \"pong\", \"id\": {id}}}\r\n");
    assert_eq!(line, expected);
}

#[tokio::test]
async fn out_of_band_commands_overtake_queued_in_band_ones() {
    let server = QmpServer::new(Test, ServerConfig::default());
    let (mut client, _task) = Client::start(&server);
    client.next().await;
    client
        .ask(r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#)
        .await;
    client
        .send(r#"{"execute":"slow","arguments":{"ms":300},"id":"slow"}{"execute":"ping","id":"queued"}{"exec-oob":"ping","id":"oob"}"#)
        .await;
    let order: Vec<Value> = [
        client.next().await,
        client.next().await,
        client.next().await,
    ]
    .into_iter()
    .map(|m| m["id"].clone())
    .collect();
    assert_eq!(order, [json!("oob"), json!("slow"), json!("queued")]);
}

#[tokio::test]
async fn events_go_to_negotiated_connections_and_after_replies() {
    let server = QmpServer::new(Test, ServerConfig::default());
    let (mut first, _a) = Client::start(&server);
    let (mut second, _b) = Client::start(&server);
    first.next().await;
    second.next().await;
    first.ask(r#"{"execute":"qmp_capabilities"}"#).await;
    assert_eq!(server.negotiated_connections(), 1);
    let now = first.ask(r#"{"execute":"job","id":1}"#).await;
    assert_eq!(now["event"], "JOB_DONE");
    assert_eq!(now["data"]["when"], "now");
    assert!(now["timestamp"]["seconds"].as_i64().unwrap() > 0);
    assert_eq!(first.next().await, json!({"return": {}, "id": 1}));
    assert_eq!(first.next().await["data"]["when"], "after");
    server
        .emit(&JobDone {
            when: "typed".into(),
        })
        .unwrap();
    let typed = first.next().await;
    assert_eq!(
        (&typed["event"], &typed["data"]),
        (&json!("JOB_DONE"), &json!({"when": "typed"}))
    );
    server.emit_raw("STOP", Value::Null);
    let stop = first.next().await;
    assert_eq!(stop["event"], "STOP");
    assert!(stop.get("data").is_none());
    // Not negotiated: no events; its next message is its own reply.
    assert_eq!(
        second.ask(r#"{"execute":"qmp_capabilities"}"#).await,
        json!({"return": {}})
    );
}

#[tokio::test]
async fn a_full_queue_drops_commands_with_an_event_when_so_configured() {
    let config = ServerConfig::builder()
        .queue_policy(QueuePolicy::DropWhenFull)
        .build();
    let server = QmpServer::new(Test, config);
    let (mut client, _task) = Client::start(&server);
    client.next().await;
    client
        .ask(r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#)
        .await;
    let mut burst = String::new();
    for id in 0..12 {
        burst.push_str(&format!(
            r#"{{"execute":"slow","arguments":{{"ms":50}},"id":{id}}}"#
        ));
    }
    client.send(&burst).await;
    let mut dropped = Vec::new();
    let mut replied = Vec::new();
    while dropped.len() + replied.len() < 12 {
        let message = client.next().await;
        if message["event"] == "COMMAND_DROPPED" {
            assert_eq!(message["data"]["reason"], "queue-full");
            dropped.push(message["data"]["id"].as_u64().unwrap());
        } else {
            replied.push(message["id"].as_u64().unwrap());
        }
    }
    // Eight wait (and one may have started): the rest are dropped, the
    // ones queued answered in order.
    assert!(matches!(dropped.len(), 3 | 4), "{dropped:?}");
    assert_eq!(replied, (0..replied.len() as u64).collect::<Vec<_>>());
    assert_eq!(dropped, (replied.len() as u64..12).collect::<Vec<_>>());
}

#[tokio::test]
async fn shutdown_ends_every_connection() {
    let server = QmpServer::new(Test, ServerConfig::default());
    let (mut client, task) = Client::start(&server);
    client.next().await;
    client.send(r#"{"execute":"qmp_capabilities"}"#).await;
    client.next().await;
    client
        .send(r#"{"execute":"slow","arguments":{"ms":60000}}"#)
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.shutdown();
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("ended in time");
    assert!(result.unwrap().is_ok());
    assert_eq!(server.negotiated_connections(), 0);
}

/// The test schema's introspection, as generated server bindings carry
/// it: `echo` exists only where `CONFIG_ECHO` is defined.
const INTROSPECTION: &str = r#"[
{"name":"qmp_capabilities","meta-type":"command","arg-type":"0","ret-type":"0"},
{"name":"query-commands","meta-type":"command","arg-type":"0","ret-type":"0"},
{"name":"echo","meta-type":"command","arg-type":"0","ret-type":"0","if":"CONFIG_ECHO"},
{"name":"0","meta-type":"object","members":[]}
]"#;

/// The commands `query-commands` lists.
async fn listed(client: &mut Client) -> Vec<String> {
    let commands = client.ask(r#"{"execute":"query-commands"}"#).await;
    commands["return"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|command| command["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[tokio::test]
async fn a_command_the_build_conditions_leave_out_is_one_the_server_lacks() {
    let mock = qapi_types::server::Mock::new(&test_dispatch::SCHEMA);
    mock.set_introspection(INTROSPECTION)
        .on_raw("echo", |arguments| Ok(Value::Object(arguments)));
    let serve = |conditions| {
        let config = ServerConfig::builder().conditions(conditions).build();
        QmpServer::new(mock.clone(), config)
    };
    let echo = r#"{"execute":"echo","arguments":{"a":1}}"#;

    // Built without CONFIG_ECHO: no echo, as in query-qmp-schema.
    let server = serve(qapi_types::server::Conditions::only(["CONFIG_OTHER"]));
    let (mut client, _task) = Client::start(&server);
    client.next().await;
    client.ask(r#"{"execute":"qmp_capabilities"}"#).await;
    assert_eq!(
        client.ask(echo).await,
        error("CommandNotFound", "The command echo has not been found")
    );
    let names = listed(&mut client).await;
    assert!(!names.contains(&"echo".to_owned()), "{names:?}");
    assert_eq!(names.len(), COMMANDS.len() - 1);
    let schema = client.ask(r#"{"execute":"query-qmp-schema"}"#).await;
    assert!(!schema.to_string().contains("echo"), "{schema}");

    // Built with it, and with every condition holding: echo is there.
    for conditions in [
        qapi_types::server::Conditions::only(["CONFIG_ECHO"]),
        qapi_types::server::Conditions::all(),
    ] {
        let server = serve(conditions);
        let (mut client, _task) = Client::start(&server);
        client.next().await;
        client.ask(r#"{"execute":"qmp_capabilities"}"#).await;
        assert_eq!(client.ask(echo).await, json!({"return": {"a": 1}}));
        assert!(listed(&mut client).await.contains(&"echo".to_owned()));
    }
}
