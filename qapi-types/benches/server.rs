//! The project's QMP server against qemu-storage-daemon: the typed async
//! client runs 10,000 sequential and 10,000 pipelined `query-version`
//! calls against each, over rounds in which the two servers take turns
//! (which goes first alternates); the rates over all rounds and the median
//! of the rounds' ratios (the project's server over QEMU) are printed.
//! The server runs on a runtime of its own, on its own thread; both are
//! reached over unix sockets, out-of-band execution off (as QEMU then
//! queues one command at a time, so does the server).
//!
//! `cargo bench -p qapi-types --features server --bench server`

use std::path::Path;
use std::time::Instant;

use qapi_types::qmp::commands::QueryVersion;
use qapi_types::server::{QmpServer, ServerConfig};
use qapi_types::{Config, Qmp};

#[path = "support/daemon.rs"]
mod daemon;
#[path = "support/rounds.rs"]
mod rounds;
#[path = "../tests/support/test_dispatch.rs"]
mod test_dispatch;

use daemon::Daemon;
use rounds::Rounds;

const CALLS: usize = 10_000;
const ROUNDS: usize = 10;
const PER_ROUND: usize = CALLS / ROUNDS;

fn main() {
    let Some(daemon) = Daemon::start("server", 1) else {
        println!("notice: qemu-storage-daemon is not installed; nothing to measure");
        return;
    };
    let qemu_socket = daemon.socket("mon0");

    // The project's server, on a thread and runtime of its own.
    let our_socket = daemon.socket("ours");
    let (ready, listening) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_thread = {
        let our_socket = our_socket.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let server = QmpServer::new(test_dispatch::Test, ServerConfig::default());
                let listener = server.listen_unix(&our_socket).await.expect("listening");
                ready.send(()).expect("the bench waits");
                let _ = stopped.await;
                listener.stop().await;
            });
        })
    };
    listening.recv().expect("the server listens");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let config = Config::builder().oob(false).build();
    let connect = |socket: &Path| {
        runtime
            .block_on(Qmp::connect_unix_retry(socket, &config))
            .expect("negotiated")
    };
    let qemu = connect(&qemu_socket);
    let ours = connect(&our_socket);

    let sequential = |qmp: &Qmp| {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..PER_ROUND {
                qmp.execute(&QueryVersion::new()).await.expect("a version");
            }
            start.elapsed()
        })
    };
    let pipelined = |qmp: &Qmp| {
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
    let mut sequential_rounds = Rounds::default();
    let mut pipelined_rounds = Rounds::default();
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            let q = sequential(&qemu);
            sequential_rounds.push(sequential(&ours), q);
            let q = pipelined(&qemu);
            pipelined_rounds.push(pipelined(&ours), q);
        } else {
            let o = sequential(&ours);
            sequential_rounds.push(o, sequential(&qemu));
            let o = pipelined(&ours);
            pipelined_rounds.push(o, pipelined(&qemu));
        }
    }
    println!("the typed async client, query-version, {CALLS} calls each way:");
    let names = ("the project's server", "qemu-storage-daemon");
    sequential_rounds.report("  sequential", CALLS, names, None);
    pipelined_rounds.report("  pipelined", CALLS, names, None);

    runtime.block_on(async {
        qemu.close().await;
        ours.close().await;
    });
    let _ = stop.send(());
    let _ = server_thread.join();
    drop(daemon);
}
