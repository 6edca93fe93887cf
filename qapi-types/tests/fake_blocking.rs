//! The blocking client against scripted fake servers on unix sockets:
//! lines that break the protocol, servers that don't speak QMP, and time
//! limits on connecting and on calls.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qapi_types::serde_json::{self, json, Value};
use qapi_types::{BlockingQmp, Config, Error};

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": []}}"#;

/// How long a test waits before calling a client hung.
const HUNG: Duration = Duration::from_secs(10);

/// A socket in a directory of its own, removed when dropped.
struct Socket {
    dir: PathBuf,
    path: PathBuf,
}

impl Socket {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "qapi-types-blocking-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join("qmp.sock");
        Self { dir, path }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server side of a connection.
struct Server {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Server {
    fn recv(&mut self) -> Option<Value> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        Some(serde_json::from_str(&line).expect("the client sends JSON"))
    }

    fn send(&mut self, value: Value) {
        self.send_raw(format!("{value}\r\n").as_bytes());
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        // The client may have given up: that is what some tests check.
        let _ = self.writer.write_all(bytes);
    }

    fn accept_negotiation(&mut self) {
        let request = self.recv().expect("qmp_capabilities");
        assert_eq!(request["execute"], "qmp_capabilities");
        self.send(json!({ "return": {}, "id": request["id"] }));
    }

    /// Keeps the connection open until the client closes it.
    fn linger(mut self) {
        while self.recv().is_some() {}
    }
}

/// A server on `socket` that runs `script` for one client.
fn serve(socket: &Socket, script: impl FnOnce(Server) + Send + 'static) {
    let listener = UnixListener::bind(&socket.path).expect("bound");
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a client");
        let server = Server {
            reader: BufReader::new(stream.try_clone().expect("a clone")),
            writer: stream,
        };
        script(server);
    });
}

/// A QMP server that greets and negotiates, then runs `script`.
fn serve_qmp(socket: &Socket, script: impl FnOnce(&mut Server) + Send + 'static) {
    serve(socket, |mut server| {
        server.send_raw(format!("{GREETING}\r\n").as_bytes());
        server.accept_negotiation();
        script(&mut server);
        server.linger();
    });
}

/// Connecting and the greeting (then the negotiation) each within
/// `limit`.
fn limited(limit: Duration) -> Config {
    Config::builder()
        .connect_timeout(limit)
        .greeting_timeout(limit)
        .build()
}

/// Runs `f` on a thread of its own and fails the test if it takes longer
/// than [`HUNG`], rather than hanging the test run.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(f());
    });
    receiver.recv_timeout(HUNG).expect("the client hung")
}

#[test]
fn a_line_that_is_not_a_json_object_fails_the_call_and_closes() {
    let deep = [vec![b'['; 100_000], vec![b']'; 100_000], b"\r\n".to_vec()].concat();
    let lines: [&[u8]; 3] = [b"{this is not json\r\n", &deep, b"\"a string\"\n"];
    let excerpts = [
        "'{this is not json'".to_string(),
        format!("'{}…'", "[".repeat(80)),
        "'\"a string\"'".to_string(),
    ];
    for (line, excerpt) in lines.into_iter().zip(excerpts) {
        let socket = Socket::new();
        let line = line.to_vec();
        serve_qmp(&socket, move |server| {
            let _ = server.recv().expect("a request");
            server.send_raw(&line);
        });
        let path = socket.path.clone();
        let (error, later) = within(move || {
            let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
            let error = qmp
                .execute_raw("x", json!({}))
                .expect_err("a protocol error");
            let later = qmp.execute_raw("y", json!({})).expect_err("closed");
            (error, later)
        });
        assert!(
            matches!(&error, Error::Protocol(what) if what.contains("not a JSON object") && what.ends_with(&excerpt)),
            "{error}"
        );
        assert!(
            matches!(&later, Error::Closed(why) if why.contains("not a JSON object")),
            "{later}"
        );
    }
}

#[test]
fn a_malformed_error_reply_fails_its_call_and_unknown_messages_are_skipped() {
    let socket = Socket::new();
    serve_qmp(&socket, |server| {
        let request = server.recv().expect("a request");
        server.send(json!({ "error": "no body", "id": request["id"] }));
        let request = server.recv().expect("another request");
        server.send(json!({ "something-new": true }));
        server.send(json!({ "return": "stale", "id": 12345 }));
        server.send(json!({ "return": "ok", "id": request["id"] }));
    });
    let path = socket.path.clone();
    within(move || {
        let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
        let error = qmp.execute_raw("x", json!({})).expect_err("malformed");
        assert!(
            matches!(&error, Error::Protocol(what) if what.contains("a malformed error reply")),
            "{error}"
        );
        assert_eq!(qmp.execute_raw("y", json!({})).expect("usable"), "ok");
        assert_eq!(qmp.ignored_messages(), 1);
    });
}

/// A reply nested deeper than the client decodes fails its call only;
/// such an event is skipped.
#[test]
fn messages_nested_too_deeply_fail_their_call_only() {
    let socket = Socket::new();
    serve_qmp(&socket, |server| {
        let nested = "[".repeat(1000) + &"]".repeat(1000);
        let request = server.recv().expect("a request");
        let event = format!(
            r#"{{"event": "DEEP", "data": {{"x": {nested}}}, "timestamp": {{"seconds": 1, "microseconds": 0}}}}"#
        );
        server.send_raw(format!("{event}\r\n").as_bytes());
        let reply = format!(r#"{{"return": {nested}, "id": {}}}"#, request["id"]);
        server.send_raw(format!("{reply}\r\n").as_bytes());
        let request = server.recv().expect("another request");
        server.send(json!({ "return": "fine", "id": request["id"] }));
    });
    let path = socket.path.clone();
    within(move || {
        let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
        let error = qmp
            .execute_raw("query-block", json!({}))
            .expect_err("too deep");
        assert!(
            matches!(&error, Error::Decode { command, .. } if command == "query-block"),
            "{error}"
        );
        assert_eq!(qmp.execute_raw("y", json!({})).expect("usable"), "fine");
        assert_eq!(qmp.ignored_messages(), 1);
    });
}

#[test]
fn a_server_that_does_not_speak_json_is_not_qmp() {
    let socket = Socket::new();
    serve(&socket, |mut server| {
        server.send_raw(b"QEMU 10.0.2 monitor - type 'help' for more information\r\n(qemu) ");
        server.linger();
    });
    let path = socket.path.clone();
    let error =
        within(move || BlockingQmp::connect_unix(&path, &Config::default()).expect_err("not QMP"));
    assert_eq!(
        error.to_string(),
        "not a QMP server: it sent 'QEMU 10.0.2 monitor - type 'help' for more information'"
    );
}

#[test]
fn a_server_that_never_greets_times_out() {
    let socket = Socket::new();
    serve(&socket, Server::linger);
    let path = socket.path.clone();
    let start = Instant::now();
    let error = within(move || {
        BlockingQmp::connect_unix(&path, &limited(Duration::from_millis(200)))
            .expect_err("no greeting")
    });
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(matches!(error, Error::NoGreeting { .. }), "{error}");
    assert_eq!(error.to_string(), "no QMP greeting within 200 ms");
}

#[test]
fn a_server_that_never_answers_the_negotiation_times_out() {
    let socket = Socket::new();
    serve(&socket, |mut server| {
        server.send_raw(format!("{GREETING}\r\n").as_bytes());
        server.linger();
    });
    let path = socket.path.clone();
    let error = within(move || {
        BlockingQmp::connect_unix(&path, &limited(Duration::from_millis(200)))
            .expect_err("no answer")
    });
    assert_eq!(
        error.to_string(),
        "no reply to 'qmp_capabilities' within 200 ms"
    );
}

/// A call that runs out of time fails alone: its reply, arriving late
/// (after an event and before the next call's), is recognised by its id
/// and dropped, and the next call on the same connection gets its own.
#[test]
fn a_call_out_of_time_leaves_the_connection_usable() {
    let socket = Socket::new();
    let (send_late, late) = mpsc::channel::<()>();
    serve_qmp(&socket, move |server| {
        let slow = server.recv().expect("a request");
        // Answered only once the client has given up on it.
        late.recv().expect("the client gave up");
        server.send(json!({ "event": "STOP", "timestamp": { "seconds": 1, "microseconds": 2 } }));
        server.send(json!({ "return": "late", "id": slow["id"] }));
        let request = server.recv().expect("the next request");
        assert_eq!(request["execute"], "query-version");
        server.send(json!({ "return": "on time", "id": request["id"] }));
        let request = server.recv().expect("a typed request");
        server.send(json!({ "return": { "qemu": { "major": 10, "minor": 0, "micro": 2 }, "package": "" }, "id": request["id"] }));
    });
    let path = socket.path.clone();
    let (error, elapsed, later, version, dropped, event) = within(move || {
        let qmp = BlockingQmp::connect_unix(
            &path,
            &Config::builder()
                .call_timeout(Some(Duration::from_millis(200)))
                .build(),
        )
        .expect("connected");
        let start = Instant::now();
        let error = qmp
            .execute_raw("query-qmp-schema", json!({}))
            .expect_err("out of time");
        let elapsed = start.elapsed();
        send_late.send(()).expect("the server waits");
        let later = qmp
            .execute_raw("query-version", json!({}))
            .expect("the next call works");
        let version = qmp
            .execute_timeout(
                &qapi_types::qmp::commands::QueryVersion::new(),
                Duration::from_secs(5),
            )
            .expect("a call with its own limit");
        let event = qmp
            .next_event(Duration::from_millis(1))
            .expect("usable")
            .expect("the event kept");
        (error, elapsed, later, version, qmp.dropped_replies(), event)
    });
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(error.is_timeout());
    assert!(
        matches!(&error, Error::Timeout { command, limit } if command == "query-qmp-schema" && *limit == Duration::from_millis(200)),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "no reply to 'query-qmp-schema' within 200 ms"
    );
    assert_eq!(later, "on time");
    assert_eq!(version.qemu.major, 10);
    assert_eq!(dropped, 1);
    assert_eq!(event.event, "STOP");
}

/// The limit is on the whole call: a reply that arrives in pieces is
/// put together, and a server that trickles bytes forever can't extend
/// the deadline.
#[test]
fn a_deadline_covers_the_whole_reply() {
    let socket = Socket::new();
    serve_qmp(&socket, |server| {
        let request = server.recv().expect("a request");
        let reply = format!("{}\r\n", json!({ "return": "pieces", "id": request["id"] }));
        for piece in reply.as_bytes().chunks(8) {
            server.send_raw(piece);
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = server.recv().expect("another request");
        // A byte every 50 ms, never a whole line.
        for _ in 0..100 {
            server.send_raw(b" ");
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let path = socket.path.clone();
    let (answer, error, elapsed) = within(move || {
        let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
        qmp.set_timeout(Some(Duration::from_secs(3)));
        let answer = qmp.execute_raw("pieces", json!({}));
        qmp.set_timeout(Some(Duration::from_millis(300)));
        let start = Instant::now();
        let error = qmp
            .execute_raw("trickle", json!({}))
            .expect_err("out of time");
        (answer, error, start.elapsed())
    });
    assert_eq!(answer.expect("put together"), "pieces");
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
}

/// Waiting for an event in vain keeps the connection, and what arrived
/// of a line meanwhile.
#[test]
fn waiting_for_events_keeps_partial_lines() {
    let socket = Socket::new();
    serve_qmp(&socket, |server| {
        let event = format!(
            "{}\r\n",
            json!({ "event": "STOP", "timestamp": { "seconds": 1, "microseconds": 2 } })
        );
        let (first, second) = event.as_bytes().split_at(10);
        server.send_raw(first);
        std::thread::sleep(Duration::from_millis(300));
        server.send_raw(second);
        let request = server.recv().expect("a request");
        server.send(json!({ "return": "still here", "id": request["id"] }));
    });
    let path = socket.path.clone();
    within(move || {
        let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
        assert_eq!(
            qmp.next_event(Duration::from_millis(50)).expect("no error"),
            None
        );
        let event = qmp
            .next_event(Duration::from_secs(5))
            .expect("no error")
            .expect("the event");
        assert_eq!(event.event, "STOP");
        qmp.set_timeout(Some(Duration::from_secs(5)));
        assert_eq!(
            qmp.execute_raw("x", json!({})).expect("usable"),
            "still here"
        );
    });
}

/// Likewise for a pretty-printed message, whose lines arrive apart.
#[test]
fn waiting_for_events_keeps_the_lines_of_a_pretty_printed_message() {
    let socket = Socket::new();
    serve_qmp(&socket, |server| {
        server.send_raw(b"{\r\n    \"event\": \"STOP\",\r\n");
        std::thread::sleep(Duration::from_millis(300));
        server.send_raw(b"    \"data\": {\r\n    },\r\n    \"timestamp\": {\r\n");
        server
            .send_raw(b"        \"seconds\": 1,\r\n        \"microseconds\": 2\r\n    }\r\n}\r\n");
    });
    let path = socket.path.clone();
    within(move || {
        let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
        assert_eq!(
            qmp.next_event(Duration::from_millis(50)).expect("no error"),
            None
        );
        let event = qmp
            .next_event(Duration::from_secs(5))
            .expect("no error")
            .expect("the event");
        assert_eq!(event.event, "STOP");
        assert_eq!(event.timestamp.seconds, 1);
    });
}

#[test]
fn an_oversized_line_closes_the_connection() {
    let socket = Socket::new();
    serve_qmp(&socket, |server| {
        let _ = server.recv().expect("a request");
        server.send_raw(&vec![b'x'; (64 << 20) + 1]);
        server.send_raw(b"\n");
    });
    let path = socket.path.clone();
    let (error, later) = within(move || {
        let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
        let error = qmp.execute_raw("x", json!({})).expect_err("too long");
        (error, qmp.execute_raw("y", json!({})).expect_err("closed"))
    });
    assert!(
        matches!(&error, Error::Protocol(what) if what.contains("longer than")),
        "{error}"
    );
    assert!(matches!(later, Error::Closed(_)), "{later}");
}

/// A job's completion, as a generated event struct would be.
#[derive(Debug, qapi_types::serde::Deserialize)]
#[serde(crate = "qapi_types::serde")]
struct JobDone {
    id: String,
}

impl qapi_types::Event for JobDone {
    const NAME: &'static str = "JOB_DONE";
}

/// Waiting for an event of one type takes the first that the predicate
/// accepts, whether it came during a call or comes later; every other
/// event stays kept.
#[test]
fn waiting_for_a_typed_event_keeps_the_others() {
    let socket = Socket::new();
    serve_qmp(&socket, |server| {
        let event = |name: &str, data: Value| json!({ "event": name, "data": data, "timestamp": { "seconds": 7, "microseconds": 0 } });
        let request = server.recv().expect("a request");
        server.send(event("STOP", json!({})));
        server.send(event("JOB_DONE", json!({ "id": "x" })));
        server.send(json!({ "return": {}, "id": request["id"] }));
        let _ = server.recv().expect("the go-ahead");
        std::thread::sleep(Duration::from_millis(50));
        server.send(event("JOB_DONE", json!({ "id": "y" })));
        server.send(event("JOB_DONE", json!({ "nothing": true })));
    });
    let path = socket.path.clone();
    within(move || {
        let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
        qmp.execute_raw("job-start", json!({})).expect("started");
        // Sent without waiting for its reply: the events come after it.
        qmp.execute_timeout(&GoAhead {}, Duration::from_secs(5))
            .expect("sent");
        let y = qmp
            .wait_for_event_where(Duration::from_secs(5), |done: &JobDone| done.id == "y")
            .expect("usable")
            .expect("job y's completion");
        assert_eq!(y.event.id, "y");
        assert_eq!(y.timestamp.seconds, 7);
        let x = qmp
            .wait_for_event::<JobDone>(Duration::from_secs(5))
            .expect("usable")
            .expect("job x's completion, kept");
        assert_eq!(x.event.id, "x");
        let malformed = qmp
            .wait_for_event::<JobDone>(Duration::from_secs(5))
            .expect_err("data that does not decode");
        assert!(malformed.is_decode(), "{malformed}");
        let none = qmp
            .wait_for_event_where(Duration::from_millis(100), |_: &JobDone| true)
            .expect("usable");
        assert!(none.is_none());
        let stop = qmp
            .next_event(Duration::from_millis(1))
            .expect("usable")
            .expect("kept");
        assert_eq!(stop.event, "STOP");
    });
}

/// A command without a success response: completes once sent.
#[derive(qapi_types::serde::Serialize)]
#[serde(crate = "qapi_types::serde")]
struct GoAhead {}

impl qapi_types::Command for GoAhead {
    const NAME: &'static str = "go-ahead";
    const ALLOW_OOB: bool = false;
    const SUCCESS_RESPONSE: bool = false;
    type Ok = qapi_types::Empty;
}

/// Serves QMP on `stream`: a greeting, then `{}` for every request.
fn answer_everything(stream: UnixStream) {
    let mut server = Server {
        reader: BufReader::new(stream.try_clone().expect("a clone")),
        writer: stream,
    };
    server.send_raw(format!("{GREETING}\r\n").as_bytes());
    while let Some(request) = server.recv() {
        server.send(json!({ "return": {}, "id": request["id"] }));
    }
}

/// QEMU started with `server=off` connects to a socket the client
/// listens on; the client waits for it within the connect limit.
#[test]
fn accepting_the_servers_connection() {
    let socket = Socket::new();
    let listener = UnixListener::bind(&socket.path).expect("bound");
    let path = socket.path.clone();
    let server = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        answer_everything(UnixStream::connect(path).expect("connected"));
    });
    let qmp = BlockingQmp::accept_unix(&listener, &limited(Duration::from_secs(5)))
        .expect("accepted and negotiated");
    assert_eq!(
        qmp.execute_raw("x", json!({})).expect("answered"),
        json!({})
    );
    qmp.close();
    drop(qmp);
    server.join().expect("the server ends");
    // Nobody connects: out of time.
    let error = BlockingQmp::accept_unix(&listener, &limited(Duration::from_millis(100)))
        .expect_err("nobody connects");
    assert!(matches!(error, Error::ConnectTimeout { .. }), "{error}");
}

/// Connecting before the server has created its socket: tried again
/// until it exists, within the connect limit.
#[test]
fn connecting_once_the_socket_exists() {
    let socket = Socket::new();
    let path = socket.path.clone();
    let server = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        let listener = UnixListener::bind(&path).expect("bound");
        answer_everything(listener.accept().expect("a client").0);
    });
    let qmp = BlockingQmp::connect_unix_retry(&socket.path, &limited(Duration::from_secs(5)))
        .expect("connected once the socket existed");
    assert_eq!(
        qmp.execute_raw("x", json!({})).expect("answered"),
        json!({})
    );
    assert!(format!("{qmp:?}").contains("BlockingQmp"));
    drop(qmp);
    server.join().expect("the server ends");
    let missing = socket.dir.join("never.sock");
    let error = BlockingQmp::connect_unix_retry(&missing, &limited(Duration::from_millis(100)))
        .expect_err("never created");
    assert!(matches!(error, Error::ConnectTimeout { .. }), "{error}");
}

/// A late reply read while waiting for events settles its call out of
/// time: an error the server sends without an id afterwards (for a
/// request it could not read) is the next call's, not the old one's.
#[test]
fn a_late_reply_read_while_waiting_for_events_settles_its_call() {
    let socket = Socket::new();
    let (send_late, late) = mpsc::channel::<()>();
    serve_qmp(&socket, move |server| {
        let slow = server.recv().expect("a request");
        late.recv().expect("the client gave up");
        server.send(json!({ "return": {}, "id": slow["id"] }));
        server.recv().expect("the next request");
        server.send(json!({ "error": { "class": "GenericError", "desc": "JSON parse error" } }));
    });
    let path = socket.path.clone();
    let (first, waited, dropped, second) = within(move || {
        let qmp = BlockingQmp::connect_unix(&path, &Config::default()).expect("connected");
        qmp.set_timeout(Some(Duration::from_millis(100)));
        let first = qmp.execute_raw("query-status", json!({}));
        send_late.send(()).expect("the server waits");
        let waited = qmp.next_event(Duration::from_millis(500)).expect("usable");
        let dropped = qmp.dropped_replies();
        qmp.set_timeout(Some(HUNG));
        let second = qmp.execute_raw("query-status", json!({}));
        (first, waited, dropped, second)
    });
    assert!(first.expect_err("out of time").is_timeout());
    assert!(waited.is_none());
    assert_eq!(dropped, 1);
    let error = second.expect_err("the server's error");
    assert!(error.is_qmp(), "{error}");
    assert_eq!(
        error.qmp_error().expect("QEMU's error").desc,
        "JSON parse error"
    );
}

/// Waiting for an event finds one that arrives while the buffer of kept
/// events is full (and pushes the oldest out).
#[test]
fn waiting_finds_an_event_that_arrives_with_the_buffer_full() {
    let socket = Socket::new();
    let (send_wait, wait) = mpsc::channel::<()>();
    serve_qmp(&socket, move |server| {
        let event = |name: &str| json!({ "event": name, "timestamp": { "seconds": 1, "microseconds": 2 }, "data": { "id": "x" } });
        for _ in 0..4 {
            server.send(event("RTC_CHANGE"));
        }
        wait.recv().expect("the client waits");
        server.send(event("JOB_DONE"));
    });
    let path = socket.path.clone();
    let (found, kept, lagged) = within(move || {
        let config = Config::builder().event_buffer(4).build();
        let qmp = BlockingQmp::connect_unix(&path, &config).expect("connected");
        // The four read and kept, the buffer full: none is a JOB_DONE.
        let none = qmp
            .wait_for_event::<JobDone>(Duration::from_millis(200))
            .expect("usable");
        assert!(none.is_none());
        send_wait.send(()).expect("the server waits");
        let found = qmp.wait_for_event::<JobDone>(HUNG).expect("usable");
        let mut kept = 0;
        while qmp
            .next_event(Duration::from_millis(1))
            .expect("usable")
            .is_some()
        {
            kept += 1;
        }
        (found.map(|event| event.event.id), kept, qmp.lagged_events())
    });
    assert_eq!(found.as_deref(), Some("x"), "the event was missed");
    assert_eq!((kept, lagged), (3, 1));
}

/// Closing from another thread fails a call waiting without a time limit
/// on a server that never answers, at once.
#[test]
fn closing_fails_a_call_in_progress() {
    let socket = Socket::new();
    let (received, in_progress) = mpsc::channel::<()>();
    serve_qmp(&socket, move |server| {
        server.recv().expect("a request");
        received.send(()).expect("the test waits");
    });
    let path = socket.path.clone();
    let (result, closing) = within(move || {
        let qmp = std::sync::Arc::new(
            BlockingQmp::connect_unix(&path, &Config::default()).expect("connected"),
        );
        let call = {
            let qmp = qmp.clone();
            std::thread::spawn(move || qmp.execute_raw("query-status", json!({})))
        };
        // Sent: the call waits for its reply, holding the connection.
        in_progress.recv().expect("the request arrived");
        let started = Instant::now();
        qmp.close();
        let closing = started.elapsed();
        (call.join().expect("the call returns"), closing)
    });
    let error = result.expect_err("closed under it");
    assert!(
        matches!(&error, Error::Closed(why) if &**why == "closed by the client"),
        "{error}"
    );
    assert!(closing < Duration::from_secs(2), "{closing:?}");
}

/// A reply of exactly the message limit, ended as QEMU ends its lines
/// (`\r\n`), is read; one byte more is too long.
#[test]
fn a_reply_of_exactly_the_limit_is_read() {
    for (extra, fits) in [(0, true), (1, false)] {
        let socket = Socket::new();
        serve_qmp(&socket, move |server| {
            let request = server.recv().expect("a request");
            let reply = |text: &str| json!({ "return": text, "id": request["id"] }).to_string();
            let padding = 1024 + extra - reply("").len();
            let reply = reply(&"x".repeat(padding));
            assert_eq!(reply.len(), 1024 + extra);
            server.send_raw(format!("{reply}\r\n").as_bytes());
        });
        let path = socket.path.clone();
        let result = within(move || {
            let config = Config::builder().max_message(1024).build();
            let qmp = BlockingQmp::connect_unix(&path, &config).expect("connected");
            qmp.execute_raw("big", json!({})).map(drop)
        });
        assert_eq!(result.is_ok(), fits, "{extra}: {result:?}");
    }
}
