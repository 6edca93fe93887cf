//! No descriptor is leaked or closed twice by passing descriptors: the
//! process has as many open after a session as before it, with calls
//! that succeed, fail, time out, are cancelled, or come after the
//! connection closed. (One test in its own binary: other tests running
//! beside it would open descriptors of their own.)

use std::os::fd::AsFd;
use std::time::Duration;

use qapi_types::{Config, Qmp};
use serde_json::json;

#[path = "support/fd_server.rs"]
mod fd_server;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// A session with a fake server; returns the server's requests count.
async fn session(file: &std::fs::File) -> usize {
    let (client, server) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    let server = std::thread::spawn(move || fd_server::serve(server));
    let config = Config::builder()
        .call_timeout(Some(Duration::from_millis(200)))
        .build();
    let qmp = Qmp::from_stream(client, &config).await.expect("negotiated");
    let fd = [file.as_fd()];
    // Success.
    let reply = qmp
        .execute_raw_with_fds("getfd", json!({"fdname": "a"}), &fd)
        .await
        .expect("answered");
    assert_eq!(reply["fds"], 1);
    // An error reply.
    qmp.execute_raw_with_fds("fail", json!({}), &fd)
        .await
        .expect_err("an error");
    // The call's time limit passes: the reply never comes.
    let hang = qmp
        .execute_raw_with_fds("hang", json!({}), &fd)
        .await
        .expect_err("no reply");
    assert!(hang.is_timeout(), "{hang}");
    // Cancelled as soon as it starts, and later.
    for wait in [Duration::ZERO, Duration::from_millis(20)] {
        let _ = tokio::time::timeout(wait, qmp.execute_raw_with_fds("hang", json!({}), &fd)).await;
    }
    // Still usable.
    let reply = qmp
        .execute_raw_with_fds("getfd", json!({"fdname": "b"}), &fd)
        .await
        .expect("answered");
    assert_eq!(reply["fds"], 1);
    qmp.close().await;
    // After the close: refused, the copies dropped.
    qmp.execute_raw_with_fds("getfd", json!({"fdname": "c"}), &fd)
        .await
        .expect_err("closed");
    drop(qmp);
    server.join().expect("the server").requests.len()
}

#[test]
fn no_descriptor_is_leaked() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let file = std::fs::File::open("/dev/null").expect("/dev/null");
    // A first session opens what the runtime keeps open.
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), session(&file))
            .await
            .expect("in time")
    });
    let before = open_fds();
    for _ in 0..3 {
        let requests = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(20), session(&file))
                .await
                .expect("in time")
        });
        assert!(requests >= 5, "{requests}");
    }
    assert_eq!(open_fds(), before, "descriptors leaked");
    // The caller's descriptor is still its own, open.
    assert!(rustix::fs::fstat(&file).is_ok());
}
