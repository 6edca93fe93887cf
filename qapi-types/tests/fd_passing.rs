//! Descriptors passed with `execute_with_fds` arrive with the first byte
//! of exactly their command while many other calls are in flight on the
//! same connection (the fake server reads a byte at a time, as QEMU
//! does).

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use qapi_types::serde::Serialize;
use qapi_types::{Command, Config, Error, Qmp, Transport};
use serde_json::{json, Value};

#[path = "support/fd_server.rs"]
mod fd_server;

/// `getfd`, as bindings of QEMU's schema define it.
#[derive(Serialize)]
struct Getfd {
    fdname: String,
}

impl Command for Getfd {
    const NAME: &'static str = "getfd";
    const ALLOW_OOB: bool = false;
    const SUCCESS_RESPONSE: bool = true;
    type Ok = Value;
}

fn temp_file(name: &str) -> std::fs::File {
    let path = std::env::temp_dir().join(format!("qapi-fds-{}-{name}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("a temporary file");
    std::fs::remove_file(&path).expect("removed");
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn descriptors_go_with_their_command_under_pipelining() {
    let (client, server) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    let server = std::thread::spawn(move || fd_server::serve(server));
    let qmp = Qmp::from_stream(client, &Config::default())
        .await
        .expect("negotiated");
    assert!(qmp.passes_fds());

    let mut calls = Vec::new();
    for i in 0..120 {
        let qmp = qmp.clone();
        calls.push(tokio::spawn(async move {
            match i % 10 {
                3 => {
                    let file = temp_file(&format!("typed-{i}"));
                    let reply = qmp
                        .execute_with_fds(
                            &Getfd {
                                fdname: format!("fd{i}"),
                            },
                            &[file.as_fd()],
                        )
                        .await
                        .expect("getfd answered");
                    let ino = file.metadata().expect("metadata").ino();
                    (i, reply, 1, Some(ino))
                }
                7 => {
                    let (first, second) =
                        (temp_file(&format!("a-{i}")), temp_file(&format!("b-{i}")));
                    let reply = qmp
                        .execute_raw_with_fds(
                            "add-fd",
                            json!({ "opaque": format!("two-{i}") }),
                            &[first.as_fd(), second.as_fd()],
                        )
                        .await
                        .expect("add-fd answered");
                    let ino = first.metadata().expect("metadata").ino();
                    (i, reply, 2, Some(ino))
                }
                _ => {
                    let reply = qmp
                        .execute_raw("query-status", json!({ "n": i }))
                        .await
                        .expect("answered");
                    (i, reply, 0, None)
                }
            }
        }));
    }
    for call in calls {
        let (i, reply, fds, ino) = call.await.expect("the call's task");
        assert_eq!(reply["fds"], fds, "call {i}: {reply}");
        assert_eq!(reply["ino"], json!(ino), "call {i}: {reply}");
    }
    qmp.close().await;
    let seen = server.join().expect("the server");
    assert_eq!(seen.misplaced, 0, "descriptors arrived mid-request");
    assert_eq!(seen.requests.len(), 121);
}

#[tokio::test]
async fn only_unix_sockets_pass_descriptors() {
    let (client, mut server) = tokio::io::duplex(4096);
    let serving = tokio::spawn(async move {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        server
            .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
            .await
            .expect("greeting");
        let (read, mut write) = tokio::io::split(server);
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let request: Value = serde_json::from_str(&line).expect("JSON");
            let reply = json!({"return": {}, "id": request["id"]}).to_string() + "\n";
            write.write_all(reply.as_bytes()).await.expect("reply");
        }
    });
    let qmp = Qmp::from_stream(Transport::other(client), &Config::default())
        .await
        .expect("negotiated");
    assert!(!qmp.passes_fds());
    assert_eq!(qmp.greeting().version(), None);
    let file = temp_file("tcp");
    let error = qmp
        .execute_with_fds(&Getfd { fdname: "x".into() }, &[file.as_fd()])
        .await
        .expect_err("not a unix socket");
    assert!(
        matches!(&error, Error::FdPassingUnsupported { command } if command == "getfd"),
        "{error}"
    );
    assert!(error.is_usage());
    qmp.close().await;
    serving.await.expect("the server");
}
