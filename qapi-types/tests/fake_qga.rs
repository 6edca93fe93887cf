//! The guest-agent client against a scripted fake agent: the 0xFF
//! resynchronisation (and the parse error the agent answers it with),
//! commands without a success response, and resynchronising after a
//! timeout.

use std::time::Duration;

use qapi_types::serde_json::{json, Value};
use qapi_types::{Command, Config, Error, Qga};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// A command whose success the agent does not answer, like
/// `guest-shutdown`.
#[derive(qapi_types::serde::Serialize)]
#[serde(crate = "qapi_types::serde")]
struct Shutdown {}

impl Command for Shutdown {
    const NAME: &'static str = "guest-shutdown";
    const ALLOW_OOB: bool = false;
    const SUCCESS_RESPONSE: bool = false;
    type Ok = qapi_types::Empty;
}

struct Agent {
    reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    writer: tokio::net::unix::OwnedWriteHalf,
}

impl Agent {
    /// The next request; a leading 0xFF is answered as qemu-ga does.
    async fn recv(&mut self) -> Option<Value> {
        let mut line = Vec::new();
        if self.reader.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        if line.first() == Some(&0xff) {
            line.remove(0);
            self.writer
                .write_all(b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}\n")
                .await
                .ok()?;
        }
        let request: Value = qapi_types::serde_json::from_slice(&line).expect("JSON");
        if request["execute"] == "guest-sync-delimited" {
            let mut bytes = vec![0xff];
            bytes.extend_from_slice(
                format!("{}\n", json!({ "return": request["arguments"]["id"] })).as_bytes(),
            );
            self.writer.write_all(&bytes).await.ok()?;
            return Box::pin(self.recv()).await;
        }
        Some(request)
    }

    async fn send(&mut self, value: Value) {
        self.writer
            .write_all(format!("{value}\n").as_bytes())
            .await
            .expect("written");
    }
}

async fn agent<F, Fut>(script: F) -> UnixStream
where
    F: FnOnce(Agent) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (client, server) = UnixStream::pair().expect("a pair");
    let (read, writer) = server.into_split();
    tokio::spawn(script(Agent {
        reader: BufReader::new(read),
        writer,
    }));
    client
}

#[tokio::test]
async fn synchronises_and_skips_stale_output() {
    let stream = agent(|mut agent| async move {
        // Output a previous client left unread.
        agent.send(json!({ "return": "stale" })).await;
        let ping = agent.recv().await.expect("ping");
        assert_eq!(ping, json!({ "execute": "guest-ping" }));
        agent.send(json!({ "return": {} })).await;
        std::future::pending::<()>().await;
    })
    .await;
    let qga = Qga::from_stream(stream, &Config::default())
        .await
        .expect("synchronised");
    assert_eq!(
        qga.execute_raw("guest-ping", json!({}))
            .await
            .expect("pong"),
        json!({})
    );
}

#[tokio::test]
async fn commands_without_success_response_complete_once_sent() {
    let stream = agent(|mut agent| async move {
        let shutdown = agent.recv().await.expect("shutdown");
        assert_eq!(shutdown["execute"], "guest-shutdown");
        // No reply: the agent is going away.
        std::future::pending::<()>().await;
    })
    .await;
    let qga = Qga::from_stream(stream, &Config::default())
        .await
        .expect("synchronised");
    tokio::time::timeout(Duration::from_secs(5), qga.execute(&Shutdown {}))
        .await
        .expect("does not wait for a reply")
        .expect("sent");
}

#[tokio::test]
async fn a_timeout_is_followed_by_a_resynchronisation() {
    let stream = agent(|mut agent| async move {
        let slow = agent.recv().await.expect("the slow one");
        assert_eq!(slow["execute"], "guest-slow");
        // Answer only after the client gave up: the late answer comes
        // before the resynchronisation the next call starts with, and
        // must be skipped.
        tokio::time::sleep(Duration::from_millis(200)).await;
        agent.send(json!({ "return": "late" })).await;
        let ping = agent.recv().await.expect("ping");
        assert_eq!(ping["execute"], "guest-ping");
        agent.send(json!({ "return": "pong" })).await;
        std::future::pending::<()>().await;
    })
    .await;
    let qga = Qga::from_stream(stream, &Config::default())
        .await
        .expect("synchronised");
    let slow = tokio::time::timeout(
        Duration::from_millis(50),
        qga.execute_raw("guest-slow", json!({})),
    )
    .await;
    assert!(slow.is_err(), "timed out");
    assert_eq!(
        qga.execute_raw("guest-ping", json!({}))
            .await
            .expect("pong"),
        json!("pong")
    );
}

#[tokio::test]
async fn errors_name_the_command_and_a_closed_agent_is_reported() {
    let stream = agent(|mut agent| async move {
        let request = agent.recv().await.expect("a request");
        assert_eq!(request["execute"], "guest-file-open");
        agent
            .send(json!({ "error": { "class": "GenericError", "desc": "failed to open file" } }))
            .await;
        // The agent goes away.
    })
    .await;
    let qga = Qga::from_stream(stream, &Config::default())
        .await
        .expect("synchronised");
    let error = qga
        .execute_raw("guest-file-open", json!({ "path": "/nope" }))
        .await
        .expect_err("an error");
    assert!(
        matches!(&error, Error::Command { command, .. } if command == "guest-file-open"),
        "{error}"
    );
    let error = qga
        .execute_raw("guest-ping", json!({}))
        .await
        .expect_err("gone");
    assert!(matches!(error, Error::Closed(_) | Error::Io(_)), "{error}");
}

/// A line that is not JSON fails the call (rather than being skipped
/// while the caller waits forever); the next call resynchronises.
#[tokio::test]
async fn a_line_that_is_not_json_fails_the_call_and_the_next_resynchronises() {
    let stream = agent(|mut agent| async move {
        let request = agent.recv().await.expect("a request");
        assert_eq!(request["execute"], "guest-info");
        agent
            .writer
            .write_all(b"{this is not json\n")
            .await
            .expect("written");
        let ping = agent.recv().await.expect("ping, after a resynchronisation");
        assert_eq!(ping["execute"], "guest-ping");
        agent.send(json!({ "return": "pong" })).await;
        std::future::pending::<()>().await;
    })
    .await;
    let qga = Qga::from_stream(stream, &Config::default())
        .await
        .expect("synchronised");
    let error = tokio::time::timeout(
        Duration::from_secs(5),
        qga.execute_raw("guest-info", json!({})),
    )
    .await
    .expect("no hang")
    .expect_err("a protocol error");
    assert!(
        matches!(&error, Error::Protocol(what) if what.contains("'{this is not json'")),
        "{error}"
    );
    assert_eq!(
        qga.execute_raw("guest-ping", json!({}))
            .await
            .expect("pong"),
        json!("pong")
    );
}

/// A QMP monitor mistaken for an agent greets, and never sends the
/// delimiter: the client says what it is instead of waiting.
#[tokio::test]
async fn a_qmp_monitor_is_not_an_agent() {
    let (client, server) = UnixStream::pair().expect("a socket pair");
    let (read, mut write) = server.into_split();
    let monitor = tokio::spawn(async move {
        write
            .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\r\n")
            .await
            .expect("greeted");
        // Keep the connection open, reading what comes.
        let mut reader = BufReader::new(read);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).await.unwrap_or(0) > 0 {}
    });
    let error = tokio::time::timeout(
        Duration::from_secs(5),
        Qga::from_stream(client, &Config::default()),
    )
    .await
    .expect("no wait")
    .expect_err("not an agent");
    assert!(
        matches!(&error, Error::Protocol(why) if why.starts_with("not a guest agent")),
        "{error}"
    );
    monitor.abort();
}

/// The agent answers an error to a command without a success response
/// that it rejects: the next call resynchronises first, so that it does
/// not take that error for its own answer.
#[tokio::test]
async fn an_error_to_a_command_without_a_success_response_is_not_the_next_answer() {
    let stream = agent(|mut agent| async move {
        let shutdown = agent.recv().await.expect("shutdown");
        assert_eq!(shutdown["execute"], "guest-shutdown");
        agent
            .send(json!({ "error": { "class": "GenericError", "desc": "mode is invalid" } }))
            .await;
        // `recv` answers the resynchronisation itself.
        let ping = agent.recv().await.expect("ping");
        assert_eq!(ping["execute"], "guest-ping");
        agent.send(json!({ "return": {} })).await;
        std::future::pending::<()>().await;
    })
    .await;
    let qga = Qga::from_stream(stream, &Config::default())
        .await
        .expect("synchronised");
    qga.execute(&Shutdown {}).await.expect("sent");
    let pong = tokio::time::timeout(
        Duration::from_secs(5),
        qga.execute_raw("guest-ping", json!({})),
    )
    .await
    .expect("answered");
    assert_eq!(pong.expect("the ping's own answer"), json!({}));
}

/// Closing fails a call waiting on a silent agent at once, and the calls
/// after it; close returns without waiting out its grace for the call.
#[tokio::test]
async fn closing_fails_a_call_waiting_on_a_silent_agent() {
    let stream = agent(|mut agent| async move {
        // The request arrives; no answer ever comes.
        agent.recv().await.expect("a request");
        while agent.recv().await.is_some() {}
    })
    .await;
    let config = Config::builder()
        .close_grace(Duration::from_secs(5))
        .build();
    let qga = std::sync::Arc::new(Qga::from_stream(stream, &config).await.expect("synced"));
    let waiting = {
        let qga = qga.clone();
        tokio::spawn(async move { qga.execute_raw("guest-info", json!({})).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    qga.close().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let failed = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("the waiting call ended")
        .expect("joined");
    assert!(matches!(failed, Err(Error::Closed(_))), "{failed:?}");
    let later = qga.execute_raw("guest-ping", json!({})).await;
    assert!(matches!(later, Err(Error::Closed(_))), "{later:?}");
}

/// Stale output longer than the message limit before the agent's
/// delimiter, with and without a line ending, is skipped like any other:
/// the synchronisation succeeds.
#[tokio::test]
async fn stale_output_over_the_limit_is_skipped() {
    for stale in [
        vec![b'x'; 20000],
        [vec![b'y'; 3000], b"\n{}\n".to_vec()].concat(),
    ] {
        let (client, server) = UnixStream::pair().expect("a pair");
        let agent = tokio::spawn(async move {
            let (read, mut writer) = server.into_split();
            let mut reader = BufReader::new(read);
            let mut line = Vec::new();
            reader
                .read_until(b'\n', &mut line)
                .await
                .expect("the sync request");
            line.retain(|&b| b != 0xff);
            let request: Value = qapi_types::serde_json::from_slice(&line).expect("JSON");
            let mut bytes = stale;
            bytes.push(0xff);
            let answer = json!({ "return": request["arguments"]["id"] });
            bytes.extend_from_slice(format!("{answer}\n").as_bytes());
            writer.write_all(&bytes).await.expect("written");
            // Open until the client is done.
            let _ = reader.read_until(b'\n', &mut Vec::new()).await;
        });
        let config = Config::builder()
            .max_message(1024)
            .greeting_timeout(Duration::from_secs(5))
            .build();
        let qga = Qga::from_stream(client, &config)
            .await
            .expect("synchronised");
        drop(qga);
        agent.await.expect("the agent ends");
    }
}
