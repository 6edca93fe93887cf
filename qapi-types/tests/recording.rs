//! The QMP clients record their sessions when the config says so: the
//! greeting, every request as sent, every reply and event as received,
//! each with its connection, in order, and the file reads back.

use qapi_types::recording::{Direction, Recording};
use qapi_types::serde_json::{json, Value};
use qapi_types::{BlockingQmp, Config, Qmp, Recorder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

#[path = "support/temp_dir.rs"]
mod temp_dir;

use temp_dir::TempDir;

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": ["oob"]}}"#;

/// A server that answers each request with `{"return": {"echo": NAME}}`,
/// an error for `fail`, and sends an event after `emit`'s reply.
async fn serve(stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write
        .write_all(format!("{GREETING}\n").as_bytes())
        .await
        .expect("the client reads");
    let mut line = String::new();
    while reader.read_line(&mut line).await.unwrap_or(0) > 0 {
        let request: Value = qapi_types::serde_json::from_str(&line).expect("JSON");
        line.clear();
        let name = request["execute"].as_str().unwrap_or_default().to_string();
        let mut out = match name.as_str() {
            "fail" => {
                json!({"error": {"class": "GenericError", "desc": "no"}, "id": request["id"]})
                    .to_string()
            }
            _ => json!({"return": {"echo": name}, "id": request["id"]}).to_string(),
        };
        out.push('\n');
        if name == "emit" {
            // Pretty-printed, over several lines, as QEMU's `pretty=on`.
            out.push_str("{\n  \"event\": \"E\",\n  \"data\": {\"n\": 1},\n  \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}\n}\n");
        }
        write.write_all(out.as_bytes()).await.expect("written");
    }
}

#[tokio::test]
async fn a_session_is_recorded_and_reads_back() {
    let dir = TempDir::new("recording");
    let path = dir.join("session.jsonl");
    let recorder = Recorder::create(&path).expect("created");
    let config = Config::builder().record(recorder.clone()).build();
    let (client, server) = UnixStream::pair().expect("a socket pair");
    let server = tokio::spawn(serve(server));
    let qmp = Qmp::from_stream(client, &config).await.expect("connected");
    let mut events = qmp.events();
    qmp.execute_raw("first", json!({"a": [1, 2]}))
        .await
        .expect("answered");
    qmp.execute_raw("emit", json!({})).await.expect("answered");
    events.next().await.expect("the event");
    qmp.execute_raw("fail", json!({}))
        .await
        .expect_err("an error");
    qmp.close().await;
    server.await.expect("served");
    recorder.flush().expect("all written");

    let text = std::fs::read_to_string(&path).expect("the recording");
    let header: Value =
        qapi_types::serde_json::from_str(text.lines().next().expect("a header")).expect("JSON");
    assert_eq!(header["qapi-recording"], 1);
    let recording = Recording::read(&path).expect("reads back");
    let messages: Vec<(Direction, Value)> = recording
        .entries()
        .iter()
        .map(|entry| (entry.direction, entry.message.clone()))
        .collect();
    assert_eq!(messages.len(), 10, "{text}");
    assert_eq!(messages[0].0, Direction::Received);
    assert_eq!(messages[0].1["QMP"]["capabilities"], json!(["oob"]));
    assert_eq!(
        messages[1],
        (
            Direction::Sent,
            json!({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 1})
        )
    );
    assert_eq!(
        messages[3],
        (
            Direction::Sent,
            json!({"execute": "first", "arguments": {"a": [1, 2]}, "id": 2})
        )
    );
    assert_eq!(messages[7].1["event"], "E");
    assert_eq!(messages[9].1["error"]["desc"], "no");
    assert!(recording
        .entries()
        .iter()
        .all(|entry| entry.connection == 1));
    assert!(recording
        .entries()
        .windows(2)
        .all(|pair| pair[0].time <= pair[1].time));
}

/// The server of [`serve`], on a std socket in a thread.
fn serve_blocking(stream: std::os::unix::net::UnixStream) {
    use std::io::{BufRead, Write};
    let mut writer = stream.try_clone().expect("a second handle");
    let mut reader = std::io::BufReader::new(stream);
    writeln!(writer, "{GREETING}").expect("the client reads");
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        let request: Value = qapi_types::serde_json::from_str(&line).expect("JSON");
        line.clear();
        let reply = json!({"return": {"echo": request["execute"]}, "id": request["id"]});
        writeln!(writer, "{reply}").expect("written");
        if request["execute"] == "emit" {
            let event = json!({"event": "E", "timestamp": {"seconds": 1, "microseconds": 2}});
            writeln!(writer, "{event}").expect("written");
        }
    }
}

#[test]
fn the_blocking_client_records_too() {
    let dir = TempDir::new("recording-blocking");
    let out = dir.join("session.jsonl");
    let recorder = Recorder::create(&out).expect("created");
    let config = Config::builder().record(recorder.clone()).build();
    let (client, server) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    let server = std::thread::spawn(move || serve_blocking(server));
    let qmp = BlockingQmp::from_socket(client, &config).expect("connected");
    qmp.execute_raw("emit", json!({"n": 1})).expect("answered");
    let event = qmp
        .next_event(std::time::Duration::from_secs(10))
        .expect("reads")
        .expect("the event");
    assert_eq!(event.event, "E");
    drop(qmp);
    server.join().expect("served");
    recorder.flush().expect("all written");

    let recording = Recording::read(&out).expect("reads back");
    let messages: Vec<(Direction, Value)> = recording
        .entries()
        .iter()
        .map(|entry| (entry.direction, entry.message.clone()))
        .collect();
    assert_eq!(messages.len(), 6, "{messages:?}");
    assert!(messages[0].1.get("QMP").is_some());
    assert_eq!(messages[1].0, Direction::Sent);
    assert_eq!(messages[1].1["execute"], "qmp_capabilities");
    assert_eq!(
        messages[3],
        (
            Direction::Sent,
            json!({"execute": "emit", "arguments": {"n": 1}, "id": 2})
        )
    );
    assert_eq!(messages[4].1["return"]["echo"], "emit");
    assert_eq!(messages[5].1["event"], "E");
}
