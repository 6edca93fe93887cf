//! Hostile clients against the server runtime: garbage, a 100 MiB line,
//! nesting 100,000 deep, a flood from a client that never reads, clients
//! that go mid-command. The server answers as QEMU does, stays usable,
//! holds bounded memory (the process's resident set is measured) and
//! leaves no descriptor behind. One test in its own binary: tests running
//! beside it would allocate and open descriptors of their own.
#![cfg(feature = "server")]

use std::time::{Duration, Instant};

use qapi_types::serde_json::{self, json, Value};
use qapi_types::server::{QmpServer, ServerConfig};
use qapi_types::{Config, Qmp};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

#[path = "support/test_dispatch.rs"]
mod test_dispatch;

use test_dispatch::Test;

#[path = "support/temp_dir.rs"]
mod temp_dir;

use temp_dir::TempDir;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The process's resident set, in MiB.
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

/// A negotiated raw connection whose messages a task reads into a
/// channel (so that the server is never stopped by an unread reply).
struct Raw {
    writer: tokio::net::unix::OwnedWriteHalf,
    messages: mpsc::UnboundedReceiver<Value>,
}

impl Raw {
    async fn connect(path: &std::path::Path) -> Self {
        let (read, writer) = UnixStream::connect(path).await.unwrap().into_split();
        let (sender, messages) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(read);
            let mut line = String::new();
            while reader.read_line(&mut line).await.is_ok_and(|n| n > 0) {
                let _ = sender.send(serde_json::from_str(&line).unwrap());
                line.clear();
            }
        });
        let mut raw = Raw { writer, messages };
        raw.next().await;
        raw.writer
            .write_all(br#"{"execute":"qmp_capabilities"}"#)
            .await
            .unwrap();
        assert_eq!(raw.next().await, json!({"return": {}}));
        raw
    }

    async fn next(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(60), self.messages.recv())
            .await
            .expect("a message in time")
            .expect("open")
    }

    /// The errors' descriptions up to the reply with `id`.
    async fn errors_until(&mut self, id: &str) -> Vec<String> {
        let mut errors = Vec::new();
        loop {
            let message = self.next().await;
            if message["id"] == id {
                return errors;
            }
            errors.push(message["error"]["desc"].as_str().unwrap().to_string());
        }
    }

    /// Asks for `ping` with `id`: the server still answers.
    async fn ping(&mut self, id: &str) {
        let request = format!("\n{{\"execute\":\"ping\",\"id\":\"{id}\"}}");
        self.writer.write_all(request.as_bytes()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_get_qemus_answers_and_bounded_memory() {
    let dir = TempDir::new("server-hostile");
    let path = dir.join("qmp.sock");
    let fds_before = open_fds();

    let server = QmpServer::new(Test, ServerConfig::default());
    let listener = server.listen_unix(&path).await.unwrap();
    let mut raw = Raw::connect(&path).await;

    // Garbage: 1 MiB of bytes of every value, then a byte that resets
    // QEMU's parser whatever state it is in.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut garbage = vec![0u8; 1 << 20];
    for byte in &mut garbage {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    raw.writer.write_all(&garbage).await.unwrap();
    drop(garbage);
    raw.writer.write_all(b"\xff").await.unwrap();
    raw.ping("after-garbage").await;
    let errors = raw.errors_until("after-garbage").await;
    assert!(errors.len() > 1000, "{}", errors.len());
    assert!(errors.iter().all(|e| e.starts_with("JSON parse error, ")
        || e.starts_with("QMP input")
        || e.starts_with("JSON ")));

    drop(errors);
    // Measured from here: the test's own reader kept the garbage's
    // replies (about one every six bytes) until they were checked.
    let baseline = rss_mib();
    // A 100 MiB line: one token over QEMU's 64 MiB limit, refused as QEMU
    // refuses it; the rest read as QEMU reads it.
    raw.writer
        .write_all(br#"{"execute":"ping","id":""#)
        .await
        .unwrap();
    let chunk = vec![b'A'; 1 << 20];
    let mut peak = 0;
    for _ in 0..100 {
        raw.writer.write_all(&chunk).await.unwrap();
        peak = peak.max(rss_mib());
    }
    raw.writer.write_all(b"\"}\n").await.unwrap();
    raw.ping("after-line").await;
    let errors = raw.errors_until("after-line").await;
    assert_eq!(
        errors,
        [
            "JSON token size limit exceeded",
            "JSON parse error, stray 'A'",
            "JSON parse error, expecting value"
        ]
    );
    let grown = peak.saturating_sub(baseline);
    eprintln!("a 100 MiB line: the process grew {grown} MiB");
    assert!(grown < 64 + 48, "grew {grown} MiB for a 100 MiB line");

    // Nesting 100,000 deep: refused at every 1025th level; the levels
    // left open are closed by a byte that resets the parser.
    raw.writer.write_all(&[b'['; 100_000]).await.unwrap();
    raw.writer.write_all(b"\xff").await.unwrap();
    raw.ping("after-nesting").await;
    let mut errors = raw.errors_until("after-nesting").await;
    assert_eq!(errors.pop().unwrap(), "JSON parse error, stray '\u{fffd}'");
    assert_eq!(errors.len(), 100_000 / 1025);
    assert!(errors
        .iter()
        .all(|e| e == "JSON nesting depth limit exceeded"));

    // A flood from a client that never reads: the server stops reading
    // from it, and holds little.
    let flooding = UnixStream::connect(&path).await.unwrap();
    let before_flood = rss_mib();
    let request = br#"{"execute":"fail"}"#.repeat(1 << 12);
    let mut sent = 0usize;
    let deadline = Instant::now() + Duration::from_secs(3);
    let (read, mut write) = flooding.into_split();
    while Instant::now() < deadline && sent < 1 << 30 {
        match tokio::time::timeout(Duration::from_millis(200), write.write_all(&request)).await {
            Ok(result) => {
                result.unwrap();
                sent += request.len();
            }
            Err(_) => break,
        }
    }
    assert!(sent < 64 << 20, "the server read {sent} bytes of a flood");
    let flood_grown = rss_mib().saturating_sub(before_flood);
    eprintln!("a flood never read: {sent} bytes taken, the process grew {flood_grown} MiB");
    assert!(flood_grown < 32, "grew {flood_grown} MiB");
    drop((read, write));

    // Clients that go mid-command: every connection's parts end.
    for _ in 0..20 {
        let client = Qmp::connect_unix(&path, &Config::default()).await.unwrap();
        let call = client.execute_raw("slow", json!({"ms": 60_000}));
        let _ = tokio::time::timeout(Duration::from_millis(20), call).await;
    }
    drop(raw);
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.negotiated_connections() > 0 || open_fds() > fds_before + 1 {
        assert!(
            Instant::now() < deadline,
            "{} connections, {} descriptors open (from {fds_before})",
            server.negotiated_connections(),
            open_fds()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    listener.stop().await;
    assert!(!path.exists());
    assert_eq!(open_fds(), fds_before);
}
