//! The blocking guest-agent client against a scripted fake agent on a
//! socket pair: synchronising, a call out of time whose late answer is
//! skipped by resynchronising, and a QMP monitor taken for an agent.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qapi_types::serde_json::{self, json, Value};
use qapi_types::{BlockingQga, Config};

/// The agent's side: reads requests, a leading 0xFF dropped as qemu-ga's
/// parser drops it, and answers `guest-sync-delimited` as qemu-ga does
/// (0xFF, then the id).
struct Agent {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Agent {
    fn new(stream: UnixStream) -> Self {
        Self {
            reader: BufReader::new(stream.try_clone().expect("cloned")),
            writer: stream,
        }
    }

    /// The next request other than a synchronisation, which is answered.
    fn recv(&mut self) -> Option<Value> {
        loop {
            let mut line = Vec::new();
            if self.reader.read_until(b'\n', &mut line).ok()? == 0 {
                return None;
            }
            line.retain(|&b| b != 0xff);
            let request: Value = serde_json::from_slice(&line).expect("JSON");
            if request["execute"] == "guest-sync-delimited" {
                let id = &request["arguments"]["id"];
                let mut bytes = vec![0xff];
                bytes.extend_from_slice(format!("{}\n", json!({ "return": id })).as_bytes());
                self.writer.write_all(&bytes).ok()?;
                continue;
            }
            return Some(request);
        }
    }

    fn send(&mut self, value: Value) {
        let _ = self.writer.write_all(format!("{value}\n").as_bytes());
    }
}

#[test]
fn a_call_out_of_time_is_skipped_by_resynchronising() {
    let (client, server) = UnixStream::pair().expect("a socket pair");
    let (gave_up, wait) = mpsc::channel::<()>();
    let agent = std::thread::spawn(move || {
        let mut agent = Agent::new(server);
        // Output a previous client left unread.
        agent.send(json!({ "return": "stale" }));
        let slow = agent.recv().expect("a request");
        assert_eq!(slow["execute"], "guest-fsfreeze-freeze");
        wait.recv().expect("the client gave up");
        agent.send(json!({ "return": 3 }));
        let ping = agent.recv().expect("the next request");
        assert_eq!(ping["execute"], "guest-ping");
        agent.send(json!({ "return": {} }));
        let info = agent.recv().expect("a raw request");
        assert_eq!(info["execute"], "guest-info");
        agent.send(json!({ "return": { "version": "10.0.2" } }));
        while agent.recv().is_some() {}
    });
    let config = Config::builder()
        .call_timeout(Some(Duration::from_millis(200)))
        .build();
    let qga = BlockingQga::from_socket(client, &config).expect("synchronised");
    let start = Instant::now();
    let error = qga
        .execute_raw("guest-fsfreeze-freeze", json!({}))
        .expect_err("out of time");
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(error.is_timeout(), "{error}");
    assert_eq!(
        error.to_string(),
        "no reply to 'guest-fsfreeze-freeze' within 200 ms"
    );
    gave_up.send(()).expect("the agent waits");
    assert_eq!(
        qga.execute_raw("guest-ping", json!({}))
            .expect("the next call works"),
        json!({})
    );
    let info = qga
        .execute_raw("guest-info", json!({}))
        .expect("a raw call");
    assert_eq!(info["version"], "10.0.2");
    assert!(format!("{qga:?}").starts_with("BlockingQga"));
    qga.close();
    let closed = qga.sync().expect_err("closed");
    assert!(closed.is_closed(), "{closed}");
    let closed = qga
        .execute_raw("guest-ping", json!({}))
        .expect_err("closed");
    assert!(closed.is_closed(), "{closed}");
    drop(qga);
    agent.join().expect("the agent ends");
}

#[test]
fn a_qmp_monitor_is_not_an_agent() {
    let (client, mut server) = UnixStream::pair().expect("a socket pair");
    server
        .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\r\n")
        .expect("greeted");
    let error = BlockingQga::from_socket(client, &Config::default()).expect_err("not an agent");
    assert!(error.is_protocol(), "{error}");
    assert!(error.to_string().contains("not a guest agent"), "{error}");
}

#[test]
fn nothing_answering_the_first_sync_times_out() {
    let (client, _server) = UnixStream::pair().expect("a socket pair");
    let config = Config::builder()
        .greeting_timeout(Duration::from_millis(100))
        .build();
    let error = BlockingQga::from_socket(client, &config).expect_err("no agent");
    assert!(error.is_timeout(), "{error}");
}

/// Stale output longer than the message limit before the agent's
/// delimiter, with and without a line ending, is skipped like any other:
/// the synchronisation succeeds (it once spun forever on it).
#[test]
fn stale_output_over_the_limit_is_skipped() {
    for stale in [
        vec![b'x'; 2000],
        [vec![b'y'; 3000], b"\n{}\n".to_vec()].concat(),
    ] {
        let (client, server) = UnixStream::pair().expect("a socket pair");
        let agent = std::thread::spawn(move || {
            let mut reader = BufReader::new(server.try_clone().expect("cloned"));
            let mut writer = server;
            let mut line = Vec::new();
            reader
                .read_until(b'\n', &mut line)
                .expect("the sync request");
            line.retain(|&b| b != 0xff);
            let request: Value = serde_json::from_slice(&line).expect("JSON");
            let mut bytes = stale;
            bytes.push(0xff);
            let answer = json!({ "return": request["arguments"]["id"] });
            bytes.extend_from_slice(format!("{answer}\n").as_bytes());
            writer.write_all(&bytes).expect("written");
            // Open until the client is done.
            let _ = reader.read_until(b'\n', &mut Vec::new());
        });
        let config = Config::builder()
            .max_message(1024)
            .greeting_timeout(Duration::from_secs(5))
            .build();
        // On a thread, so that a client that spins fails the test.
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(BlockingQga::from_socket(client, &config).map(drop));
        });
        let synchronised = result
            .recv_timeout(Duration::from_secs(10))
            .expect("the client returns in time");
        synchronised.expect("synchronised");
        agent.join().expect("the agent ends");
    }
}

/// Closing from another thread fails a call waiting without a time limit
/// on an agent that never answers, at once.
#[test]
fn closing_fails_a_call_in_progress() {
    let (client, server) = UnixStream::pair().expect("a socket pair");
    let (received, in_progress) = mpsc::channel::<()>();
    let agent = std::thread::spawn(move || {
        let mut agent = Agent::new(server);
        agent.recv().expect("a request");
        received.send(()).expect("the test waits");
        while agent.recv().is_some() {}
    });
    let qga = std::sync::Arc::new(
        BlockingQga::from_socket(client, &Config::default()).expect("synchronised"),
    );
    let call = {
        let qga = qga.clone();
        std::thread::spawn(move || qga.execute_raw("guest-info", json!({})))
    };
    // Sent: the call waits for its answer, holding the connection.
    in_progress
        .recv_timeout(Duration::from_secs(5))
        .expect("the request arrived");
    let (done, closed) = mpsc::channel();
    {
        let qga = qga.clone();
        std::thread::spawn(move || {
            qga.close();
            let _ = done.send(());
        });
    }
    closed
        .recv_timeout(Duration::from_secs(5))
        .expect("close returns");
    let error = call
        .join()
        .expect("the call returns")
        .expect_err("closed under it");
    assert!(
        matches!(&error, qapi_types::Error::Closed(why) if &**why == "closed by the client"),
        "{error}"
    );
    drop(qga);
    agent.join().expect("the agent ends");
}
