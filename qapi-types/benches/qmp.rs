//! Round trips against qemu-storage-daemon: 10,000 sequential and 10,000
//! pipelined `query-version` calls through the typed async client, each
//! beside a minimal raw client measured in the same run (JSON lines with
//! ids of the same shape, written and read directly on a std socket), and
//! the bytes each request puts on the wire; measured with tracing compiled
//! in and no subscriber, then with a subscriber at the default level.
//!
//! `cargo bench -p qapi-types --bench qmp`

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use daemon::Daemon;
use qapi_types::qmp::commands::QueryVersion;
use qapi_types::{Config, Qmp};
use rounds::Rounds;

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/rounds.rs"]
mod rounds;

const CALLS: usize = 10_000;
/// Many short rounds: a pause of the daemon or the machine spoils one
/// round's ratio, which the median leaves out.
const ROUNDS: usize = 40;
const PER_ROUND: usize = CALLS / ROUNDS;

fn main() {
    // A monitor for each client: a monitor serves one connection at a time.
    let Some(daemon) = Daemon::start("qmp", 2) else {
        println!("notice: qemu-storage-daemon is not installed; nothing to measure");
        return;
    };
    let (socket, raw_socket) = (daemon.socket("mon0"), daemon.socket("mon1"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // The same protocol setup for both clients: no out-of-band execution,
    // so that nothing limits pipelining but the server.
    let qmp = runtime
        .block_on(Qmp::from_stream(
            runtime
                .block_on(tokio::net::UnixStream::connect(&socket))
                .expect("connects"),
            &Config::builder().oob(false).build(),
        ))
        .expect("negotiated");
    let mut raw = Raw::connect(&raw_socket);

    // Tracing compiled in (the default feature), first with no subscriber,
    // then with one at its default level (INFO) writing nowhere.
    let traced = if cfg!(feature = "tracing") {
        "tracing compiled in"
    } else {
        "tracing compiled out"
    };
    measure(
        &runtime,
        &qmp,
        &mut raw,
        &format!("{traced}, no subscriber"),
    );
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        measure(
            &runtime,
            &qmp,
            &mut raw,
            &format!("{traced}, a subscriber at the default level"),
        )
    });
    let mut request = Vec::new();
    qapi_types::protocol::write_request(
        &mut request,
        "query-version",
        &qapi_types::serde_json::json!({}),
        Some(CALLS as u64),
        qapi_types::protocol::Execution::InBand,
    );
    println!(
        "bytes a request puts on the wire: {} ({})",
        request.len(),
        String::from_utf8_lossy(&request).trim_end()
    );
    drop(daemon);
}

/// Both clients sequentially and pipelined, over rounds in which the two
/// take turns (which goes first alternates), so that drift in the daemon
/// or the machine meets both alike: the rates over all rounds, and the
/// median of the rounds' ratios, printed under `setting`.
fn measure(runtime: &tokio::runtime::Runtime, qmp: &Qmp, raw: &mut Raw, setting: &str) {
    println!("{setting}:");
    let typed_sequential = || {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..PER_ROUND {
                qmp.execute(&QueryVersion::new()).await.expect("a version");
            }
            start.elapsed()
        })
    };
    let typed_pipelined = || {
        runtime.block_on(async {
            let start = Instant::now();
            let calls: Vec<_> = (0..PER_ROUND)
                .map(|_| {
                    let qmp = qmp.clone();
                    tokio::spawn(async move { qmp.execute(&QueryVersion::new()).await })
                })
                .collect();
            for call in calls {
                call.await.expect("joined").expect("a version");
            }
            start.elapsed()
        })
    };
    // A round of each, not counted: first connections' buffers, the
    // daemon's and the allocator's first touches of memory.
    typed_sequential();
    raw.sequential();
    typed_pipelined();
    raw.pipelined();
    let mut sequential = Rounds::default();
    let mut pipelined = Rounds::default();
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            let raw_time = raw.sequential();
            sequential.push(typed_sequential(), raw_time);
            let raw_time = raw.pipelined();
            pipelined.push(typed_pipelined(), raw_time);
        } else {
            let typed_time = typed_sequential();
            sequential.push(typed_time, raw.sequential());
            let typed_time = typed_pipelined();
            pipelined.push(typed_time, raw.pipelined());
        }
    }
    let names = ("typed client", "raw client");
    sequential.report("  sequential", CALLS, names, Some(0.95));
    pipelined.report("  pipelined", CALLS, names, Some(0.95));
}

/// A minimal client: lines with ids, written and read directly.
struct Raw {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
}

impl Raw {
    fn connect(socket: &Path) -> Self {
        let stream = UnixStream::connect(socket).expect("connects");
        let mut raw = Self {
            reader: BufReader::new(stream.try_clone().expect("a clone")),
            writer: stream,
            next_id: 1,
        };
        raw.line(); // the greeting
        raw.writer
            .write_all(b"{\"execute\":\"qmp_capabilities\",\"id\":0}\n")
            .expect("written");
        raw.line();
        raw
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a line");
        line
    }

    fn request(&mut self) -> Vec<u8> {
        let id = self.next_id;
        self.next_id += 1;
        format!("{{\"execute\":\"query-version\",\"id\":{id}}}\n").into_bytes()
    }

    fn sequential(&mut self) -> Duration {
        let start = Instant::now();
        for _ in 0..PER_ROUND {
            let request = self.request();
            self.writer.write_all(&request).expect("written");
            let reply = self.line();
            assert!(reply.contains("\"return\""));
        }
        start.elapsed()
    }

    fn pipelined(&mut self) -> Duration {
        let requests: Vec<Vec<u8>> = (0..PER_ROUND).map(|_| self.request()).collect();
        let mut writer = self.writer.try_clone().expect("a clone");
        let start = Instant::now();
        let sender = std::thread::spawn(move || {
            for request in requests {
                writer.write_all(&request).expect("written");
            }
        });
        for _ in 0..PER_ROUND {
            let reply = self.line();
            assert!(reply.contains("\"return\""));
        }
        sender.join().expect("all sent");
        start.elapsed()
    }
}
