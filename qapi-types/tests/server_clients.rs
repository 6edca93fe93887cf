//! The project's async and blocking clients against the server runtime:
//! pipelining, out-of-band commands overtaking in-band ones, the in-band
//! queue's limit both ways, many tasks, clients that go mid-command, and
//! no descriptor left behind.
#![cfg(feature = "server")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use qapi_types::serde::Serialize;
use qapi_types::serde_json::{json, Value};
use qapi_types::server::{Listener, QmpServer, QueuePolicy, ServerConfig};
use qapi_types::{BlockingQmp, Command, Config, OobCommand, Qmp};

#[path = "support/test_dispatch.rs"]
mod test_dispatch;

use test_dispatch::Test;

/// `ping`, which the test schema allows out of band.
#[derive(Serialize)]
struct Ping {}

impl Command for Ping {
    const NAME: &'static str = "ping";
    const ALLOW_OOB: bool = true;
    const SUCCESS_RESPONSE: bool = true;
    type Ok = String;
}

impl OobCommand for Ping {}

/// A server listening on a unix socket in a directory of its own.
struct Served {
    server: QmpServer,
    listener: Option<Listener>,
    dir: std::path::PathBuf,
}

impl Served {
    async fn start(tag: &str, config: ServerConfig) -> Self {
        let dir = std::env::temp_dir().join(format!("qapi-server-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let server = QmpServer::new(Test, config);
        let listener = server.listen_unix(dir.join("qmp.sock")).await.unwrap();
        Served {
            server,
            listener: Some(listener),
            dir,
        }
    }

    fn socket(&self) -> std::path::PathBuf {
        self.dir.join("qmp.sock")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.listener.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_calls_are_matched_by_id() {
    let served = Served::start("pipeline", ServerConfig::default()).await;
    let qmp = Qmp::connect_unix(served.socket(), &Config::default())
        .await
        .unwrap();
    assert!(qmp.oob_enabled());
    let qmp = Arc::new(qmp);
    // Two hundred calls in flight at once, answered in any order.
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let qmp = qmp.clone();
            tokio::spawn(async move { (i, qmp.execute_raw("echo", json!({ "n": i })).await) })
        })
        .collect();
    for call in calls {
        let (i, reply) = call.await.unwrap();
        assert_eq!(reply.unwrap(), json!({ "n": i }));
    }
    let error = qmp.execute_raw("fail", json!({})).await.unwrap_err();
    assert_eq!(error.qmp_error().unwrap().desc, "it failed");
    let error = qmp.execute_raw("nope", json!({})).await.unwrap_err();
    assert_eq!(error.qmp_error().unwrap().class, "CommandNotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_band_calls_overtake_a_slow_in_band_one() {
    let served = Served::start("oob", ServerConfig::default()).await;
    let qmp = Arc::new(
        Qmp::connect_unix(served.socket(), &Config::default())
            .await
            .unwrap(),
    );
    let slow = {
        let qmp = qmp.clone();
        tokio::spawn(async move { qmp.execute_raw("slow", json!({"ms": 1000})).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(qmp.execute_oob(&Ping {}).await.unwrap(), "pong");
    assert!(!slow.is_finished(), "the slow command still runs");
    assert_eq!(slow.await.unwrap().unwrap(), json!({"slept": 1000}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qemu_2_12_out_of_band_syntax_when_accepted() {
    let config = ServerConfig::builder().legacy_oob(true).build();
    let served = Served::start("legacy", config).await;
    let config = Config::builder().legacy_oob(true).build();
    let qmp = Arc::new(Qmp::connect_unix(served.socket(), &config).await.unwrap());
    let slow = {
        let qmp = qmp.clone();
        tokio::spawn(async move { qmp.execute_raw("slow", json!({"ms": 1000})).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(qmp.execute_oob(&Ping {}).await.unwrap(), "pong");
    assert!(!slow.is_finished(), "the slow command still runs");
    slow.await.unwrap().unwrap();

    // Refused, as QEMU since 3.0 refuses it, when not accepted.
    let served = Served::start("legacy-refused", ServerConfig::default()).await;
    let qmp = Qmp::connect_unix(served.socket(), &config).await.unwrap();
    let error = qmp.execute_oob(&Ping {}).await.unwrap_err();
    assert_eq!(
        error.qmp_error().unwrap().desc,
        "QMP input member 'control' is unexpected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_stops_reading_when_full_by_default() {
    let served = Served::start("backpressure", ServerConfig::default()).await;
    let config = Config::builder().max_in_band(64).build();
    let qmp = Arc::new(Qmp::connect_unix(served.socket(), &config).await.unwrap());
    let mut slow = Vec::new();
    for _ in 0..20 {
        let qmp = qmp.clone();
        slow.push(tokio::spawn(async move {
            qmp.execute_raw("slow", json!({"ms": 100})).await
        }));
    }
    // All twenty sent (on a loaded machine too), a few run.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The server reads the out-of-band ping only once enough in-band
    // commands have left the queue: after about eleven have run.
    let started = Instant::now();
    qmp.execute_oob(&Ping {}).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    let finished = slow.iter().filter(|s| s.is_finished()).count();
    assert!(finished >= 10, "{finished}");
    for call in slow {
        assert_eq!(call.await.unwrap().unwrap(), json!({"slept": 100}));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_commands_with_command_dropped_when_so_configured() {
    let config = ServerConfig::builder()
        .queue_policy(QueuePolicy::DropWhenFull)
        .build();
    let served = Served::start("drop", config).await;
    let config = Config::builder()
        .max_in_band(64)
        .call_timeout(Some(Duration::from_secs(4)))
        .build();
    let qmp = Arc::new(Qmp::connect_unix(served.socket(), &config).await.unwrap());
    let mut events = qmp.events();
    let mut slow = Vec::new();
    for _ in 0..20 {
        let qmp = qmp.clone();
        slow.push(tokio::spawn(async move {
            qmp.execute_raw("slow", json!({"ms": 100})).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Read at once: nothing waits for the queue (which takes 800 ms to
    // drain). The commands answered (about ten, 100 ms each) are answered
    // well within the client's limit; the dropped ones run into it.
    let started = Instant::now();
    qmp.execute_oob(&Ping {}).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
    let mut answered = 0;
    let mut timed_out = 0;
    for call in slow {
        match call.await.unwrap() {
            Ok(_) => answered += 1,
            Err(error) => {
                assert!(error.is_timeout(), "{error}");
                timed_out += 1;
            }
        }
    }
    let mut dropped = 0;
    while let Ok(Ok(event)) = tokio::time::timeout(Duration::from_millis(100), events.next()).await
    {
        assert_eq!(event.event, "COMMAND_DROPPED");
        assert_eq!(event.data["reason"], "queue-full");
        assert!(event.data["id"].is_u64());
        dropped += 1;
    }
    assert!((8..=10).contains(&answered), "{answered}");
    assert_eq!((dropped, timed_out), (20 - answered, 20 - answered));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_while_the_queue_is_full_ends_its_connection() {
    use tokio::io::AsyncWriteExt;
    let served = Served::start("gone", ServerConfig::default()).await;
    let mut stream = tokio::net::UnixStream::connect(served.socket())
        .await
        .unwrap();
    let mut requests =
        r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#.to_string();
    for _ in 0..20 {
        requests.push_str(r#"{"execute":"slow","arguments":{"ms":60000}}"#);
    }
    stream.write_all(requests.as_bytes()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while served.server.negotiated_connections() != 1 {
        assert!(Instant::now() < deadline, "the client negotiated");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(2);
    while served.server.negotiated_connections() > 0 {
        assert!(
            Instant::now() < deadline,
            "the connection outlived its client"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_tasks_of_a_thousand_commands() {
    let served = Served::start("many", ServerConfig::default()).await;
    let qmp = Arc::new(
        Qmp::connect_unix(served.socket(), &Config::default())
            .await
            .unwrap(),
    );
    let tasks: Vec<_> = (0..100)
        .map(|task| {
            let qmp = qmp.clone();
            tokio::spawn(async move {
                for n in 0..1000 {
                    let reply = qmp
                        .execute_raw("echo", json!({"task": task, "n": n}))
                        .await
                        .unwrap();
                    assert_eq!(reply, json!({"task": task, "n": n}));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn the_blocking_client_pipelines_from_threads_and_sees_events() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let served = runtime.block_on(Served::start("blocking", ServerConfig::default()));
    let qmp = Arc::new(BlockingQmp::connect_unix(served.socket(), &Config::default()).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let qmp = qmp.clone();
            std::thread::spawn(move || {
                for n in 0..200 {
                    let reply = qmp.execute_raw("echo", json!({"t": t, "n": n})).unwrap();
                    assert_eq!(reply, json!({"t": t, "n": n}));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(qmp.execute_oob(&Ping {}).unwrap(), "pong");
    qmp.execute_raw("job", json!({})).unwrap();
    let first = qmp.next_event(Duration::from_secs(5)).unwrap().unwrap();
    let second = qmp.next_event(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(
        (first.data["when"].clone(), second.data["when"].clone()),
        (json!("now"), json!("after"))
    );
    served.server.emit_raw("STOP", Value::Null);
    let stop = qmp.next_event(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(stop.event, "STOP");
    assert!(stop.timestamp.to_system_time().is_some());
    drop(served);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_listener_serves_and_stops() {
    let server = QmpServer::new(Test, ServerConfig::default());
    let listener = server.listen_tcp("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let qmp = Qmp::connect_tcp(address, &Config::default()).await.unwrap();
    assert_eq!(qmp.execute_raw("ping", json!({})).await.unwrap(), "pong");
    listener.stop().await;
    let error = qmp.execute_raw("ping", json!({})).await.unwrap_err();
    assert!(error.is_closed(), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_listener_ends_its_connections_and_removes_its_socket() {
    let mut served = Served::start("drop-listener", ServerConfig::default()).await;
    let qmp = Qmp::connect_unix(served.socket(), &Config::default())
        .await
        .unwrap();
    assert_eq!(served.server.negotiated_connections(), 1);
    drop(served.listener.take());
    assert!(!served.socket().exists());
    let error = qmp.execute_raw("ping", json!({})).await.unwrap_err();
    assert!(error.is_closed(), "{error}");
    let deadline = Instant::now() + Duration::from_secs(2);
    while served.server.negotiated_connections() > 0 {
        assert!(
            Instant::now() < deadline,
            "the connection outlived its listener"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
