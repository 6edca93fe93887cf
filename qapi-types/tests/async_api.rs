//! The async client's ways to connect, its configuration, typed event
//! subscriptions, `close`, and what its errors keep, against scripted
//! fake servers.

use std::time::Duration;

use qapi_types::qmp::commands::QueryVersion;
use qapi_types::serde::{Deserialize, Serialize};
use qapi_types::{Command, Config, Error, Event, EventsError, Qmp};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

#[path = "support/temp_dir.rs"]
mod temp_dir;

use temp_dir::TempDir;

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": ["oob"]}}"#;

/// A job's status change, as generated bindings define the event.
#[derive(Debug, PartialEq, Deserialize)]
struct JobStatusChange {
    id: String,
    status: String,
}

impl Event for JobStatusChange {
    const NAME: &'static str = "JOB_STATUS_CHANGE";
}

/// A fake server on `stream`: greets, answers every request with its
/// arguments' `answer` (or `{}`), and after a request `emit` sends the
/// events it lists; `silent` is never answered.
async fn serve(stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write
        .write_all(format!("{GREETING}\n").as_bytes())
        .await
        .unwrap();
    while let Ok(Some(line)) = lines.next_line().await {
        let request: Value = serde_json::from_str(&line).unwrap();
        if request["execute"] == "silent" {
            continue;
        }
        let answer = request["arguments"]
            .get("answer")
            .cloned()
            .unwrap_or(json!({}));
        let reply = json!({"return": answer, "id": request["id"]});
        if write
            .write_all(format!("{reply}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
        if request["execute"] == "emit" {
            for event in request["arguments"]["events"].as_array().unwrap() {
                let message = json!({
                    "event": event["event"],
                    "data": event["data"],
                    "timestamp": {"seconds": 1, "microseconds": 2},
                });
                write
                    .write_all(format!("{message}\n").as_bytes())
                    .await
                    .unwrap();
            }
        }
    }
}

async fn connected(config: &Config) -> Qmp {
    let (client, server) = UnixStream::pair().unwrap();
    tokio::spawn(serve(server));
    Qmp::from_stream(client, config).await.unwrap()
}

fn status(id: &str, status: &str) -> Value {
    json!({"event": "JOB_STATUS_CHANGE", "data": {"id": id, "status": status}})
}

#[tokio::test]
async fn a_typed_subscription_filters_and_waits() {
    let qmp = connected(&Config::default()).await;
    let mut concluded = qmp
        .subscribe::<JobStatusChange>()
        .filter(|change| change.id == "job1" && change.status == "concluded");
    let mut all = qmp.subscribe::<JobStatusChange>();
    qmp.execute_raw(
        "emit",
        json!({"events": [
            status("job0", "concluded"),
            {"event": "STOP"},
            status("job1", "running"),
            status("job1", "concluded"),
        ]}),
    )
    .await
    .unwrap();
    let event = concluded.wait(Duration::from_secs(5)).await.unwrap();
    assert_eq!(event.event.id, "job1");
    assert_eq!(event.timestamp.seconds, 1);
    assert_eq!(
        concluded.wait(Duration::from_millis(50)).await,
        Err(EventsError::TimedOut(Duration::from_millis(50)))
    );
    // The unfiltered one, as a Stream.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let next = std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut all), cx)
        })
        .await;
        let change = next.expect("not ended").expect("an event").event;
        ids.push(format!("{}:{}", change.id, change.status));
    }
    assert_eq!(ids, ["job0:concluded", "job1:running", "job1:concluded"]);
    assert!(format!("{all:?}").contains("JOB_STATUS_CHANGE"));
    // A malformed event of the type is reported, not skipped.
    qmp.execute_raw(
        "emit",
        json!({"events": [{"event": "JOB_STATUS_CHANGE", "data": {"id": 5}}]}),
    )
    .await
    .unwrap();
    let error = all.next().await.expect_err("malformed");
    assert!(matches!(&error, EventsError::Malformed { event, .. } if event == "JOB_STATUS_CHANGE"));
    // Waiting from now on, for one that comes later.
    let waiter = {
        let qmp = qmp.clone();
        tokio::spawn(async move {
            qmp.wait_for_event::<JobStatusChange>(Duration::from_secs(5))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    qmp.execute_raw("emit", json!({"events": [status("job2", "null")]}))
        .await
        .unwrap();
    assert_eq!(waiter.await.unwrap().unwrap().event.id, "job2");
    // The stream ends when the connection closes, after what it holds.
    qmp.close().await;
    let mut rest = Vec::new();
    while let Some(item) =
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut all), cx))
            .await
    {
        rest.push(item.expect("an event").event.id);
    }
    assert_eq!(rest, ["job2"]);
    // The filtered one still holds the malformed event, then ends.
    assert!(matches!(
        concluded.next().await,
        Err(EventsError::Malformed { .. })
    ));
    assert_eq!(
        concluded.next().await.expect_err("closed"),
        EventsError::Closed
    );
}

#[tokio::test]
async fn the_configured_call_limit_applies_and_the_connection_stays_usable() {
    let config = Config::builder()
        .call_timeout(Some(Duration::from_millis(100)))
        .build();
    let qmp = connected(&config).await;
    let error = qmp
        .execute_raw("silent", json!({}))
        .await
        .expect_err("never answered");
    assert!(error.is_timeout(), "{error}");
    assert_eq!(error.command(), Some("silent"));
    // A call's own limit replaces it.
    qmp.execute_timeout(&QueryVersion::new(), Duration::from_secs(5))
        .await
        .expect_err("{} does not decode as a version");
    let version = qmp
        .execute_raw(
            "query-version",
            json!({"answer": {"qemu": {"major": 10, "minor": 0, "micro": 2}, "package": ""}}),
        )
        .await
        .unwrap();
    assert_eq!(version["qemu"]["major"], 10);
}

/// `query-version` whose reply the server makes up from the arguments.
#[derive(Serialize)]
struct Answered {
    answer: Value,
}

impl Command for Answered {
    const NAME: &'static str = "query-version";
    const ALLOW_OOB: bool = false;
    const SUCCESS_RESPONSE: bool = true;
    type Ok = qapi_types::qmp::VersionInfo;
}

/// Arguments that can't be serialized.
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: qapi_types::serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(qapi_types::serde::ser::Error::custom("no"))
    }
}

impl Command for Unserializable {
    const NAME: &'static str = "x-unserializable";
    const ALLOW_OOB: bool = false;
    const SUCCESS_RESPONSE: bool = true;
    type Ok = Value;
}

#[tokio::test]
async fn errors_say_what_they_are_and_keep_the_reply() {
    let qmp = connected(&Config::default()).await;
    // A reply of another version's shape: the raw reply is still there.
    let reply = json!({"qemu": {"major": 10, "minor": 0}, "package": "", "extra": 1});
    let error = qmp
        .execute(&Answered {
            answer: reply.clone(),
        })
        .await
        .expect_err("micro is missing");
    assert!(error.is_decode(), "{error}");
    assert_eq!(error.raw_reply(), Some(&reply));
    assert_eq!(error.command(), Some("query-version"));
    assert!(error.to_string().contains("micro"), "{error}");
    let error = qmp.execute(&Unserializable).await.expect_err("not sent");
    assert!(
        matches!(&error, Error::Serialize { command, .. } if command == "x-unserializable"),
        "{error}"
    );
    assert!(error.is_usage() && !error.is_protocol());
    // The connection is still fine.
    qmp.execute_raw("query-status", json!({})).await.unwrap();
    assert!(format!("{qmp:?}").starts_with("Qmp {"));
}

#[tokio::test]
async fn close_waits_for_the_socket_and_fails_later_calls() {
    let (client, server) = UnixStream::pair().unwrap();
    let serving = tokio::spawn(serve(server));
    let qmp = Qmp::from_stream(client, &Config::default()).await.unwrap();
    let other = qmp.clone();
    let waiting = tokio::spawn(async move { other.execute_raw("silent", json!({})).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    qmp.close().await;
    // The server saw the end of the stream: its task is done.
    tokio::time::timeout(Duration::from_secs(1), serving)
        .await
        .expect("the server saw the close")
        .unwrap();
    let error = waiting.await.unwrap().expect_err("closed");
    assert!(error.is_closed(), "{error}");
    let error = qmp.execute(&QueryVersion::new()).await.expect_err("closed");
    assert!(error.is_closed(), "{error}");
    // Closing again is harmless.
    qmp.close().await;
}

#[tokio::test]
async fn connect_unix_retry_waits_for_the_socket() {
    let dir = TempDir::new("retry");
    let socket = dir.join("late.sock");
    let listening = {
        let socket = socket.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let listener = UnixListener::bind(&socket).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            serve(stream).await;
        })
    };
    let config = Config::builder()
        .connect_timeout(Duration::from_secs(5))
        .build();
    let qmp = Qmp::connect_unix_retry(&socket, &config)
        .await
        .expect("connected once the socket exists");
    qmp.execute_raw("query-status", json!({})).await.unwrap();
    qmp.close().await;
    listening.await.unwrap();
    // Nothing there, ever: the deadline passes.
    let missing = dir.join("never.sock");
    let config = Config::builder()
        .connect_timeout(Duration::from_millis(100))
        .build();
    let error = Qmp::connect_unix_retry(&missing, &config)
        .await
        .expect_err("no socket");
    assert!(matches!(error, Error::ConnectTimeout { .. }), "{error}");
    assert!(error.is_timeout() && error.is_connect());
    // Without retrying, a missing socket is an error at once.
    let error = Qmp::connect_unix(&missing, &config)
        .await
        .expect_err("no socket");
    assert!(error.is_connect() && !error.is_timeout(), "{error}");
}

#[tokio::test]
async fn accept_unix_takes_the_server_connecting_to_us() {
    let dir = TempDir::new("accept");
    let socket = dir.join("accept.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let connecting = {
        let socket = socket.clone();
        tokio::spawn(async move { serve(UnixStream::connect(&socket).await.unwrap()).await })
    };
    let qmp = Qmp::accept_unix(&listener, &Config::default())
        .await
        .expect("accepted");
    assert_eq!(qmp.greeting().version().map(|v| v.qemu.micro), Some(2));
    qmp.close().await;
    connecting.await.unwrap();
    // Nobody connects: the deadline passes.
    let config = Config::builder()
        .connect_timeout(Duration::from_millis(50))
        .build();
    let error = Qmp::accept_unix(&listener, &config)
        .await
        .expect_err("nobody");
    assert!(error.is_timeout(), "{error}");
}
