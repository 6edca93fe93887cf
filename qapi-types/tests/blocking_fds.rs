//! Descriptors passed by the blocking client (SCM_RIGHTS) arrive with the
//! first byte of exactly the command they were given with, and none is
//! leaked or closed twice: the process has as many open after a session
//! as before it, with calls that succeed, fail, time out or come after
//! the connection closed. (One test in its own binary: other tests
//! running beside it would open descriptors of their own.)

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use qapi_types::{BlockingQmp, Config, Error};
use serde_json::json;

#[path = "support/fd_server.rs"]
mod fd_server;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// A session with the fake server; returns what it saw.
fn session(file: &std::fs::File) -> fd_server::Seen {
    let (client, server) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    let server = std::thread::spawn(move || fd_server::serve(server));
    let config = Config::builder()
        .call_timeout(Some(Duration::from_millis(200)))
        .build();
    let qmp = BlockingQmp::from_socket(client, &config).expect("negotiated");
    assert!(qmp.passes_fds());
    let fd = [file.as_fd()];
    let inode = file.metadata().expect("metadata").ino();
    // Success: the server got one descriptor, the file's, with it, and
    // none with the calls around it.
    assert_eq!(
        qmp.execute_raw("before", json!({})).expect("answered")["fds"],
        0
    );
    let reply = qmp
        .execute_raw_with_fds("getfd", json!({"fdname": "a"}), &fd)
        .expect("answered");
    assert_eq!(reply["fds"], 1);
    assert_eq!(reply["ino"], inode);
    assert_eq!(
        qmp.execute_raw("after", json!({})).expect("answered")["fds"],
        0
    );
    // Typed, with two.
    let reply = qmp
        .execute_with_fds(
            &qapi_types::qmp::commands::QueryVersion::new(),
            &[fd[0], fd[0]],
        )
        .map(|_| ())
        .expect_err("the fake's reply is not a version");
    assert!(matches!(&reply, Error::Decode { .. }), "{reply}");
    assert_eq!(reply.raw_reply().expect("kept")["fds"], 2);
    // An error reply.
    let error = qmp
        .execute_raw_with_fds("fail", json!({}), &fd)
        .expect_err("an error");
    assert!(error.is_qmp(), "{error}");
    // The time limit passes: the reply never comes, the connection stays
    // usable.
    let hang = qmp
        .execute_raw_with_fds("hang", json!({}), &fd)
        .expect_err("no reply");
    assert!(hang.is_timeout(), "{hang}");
    let reply = qmp
        .execute_raw_with_fds("getfd", json!({"fdname": "b"}), &fd)
        .expect("answered");
    assert_eq!(reply["fds"], 1);
    qmp.close();
    // After the close: refused, the copies dropped.
    let closed = qmp
        .execute_raw_with_fds("getfd", json!({"fdname": "c"}), &fd)
        .expect_err("closed");
    assert!(closed.is_closed(), "{closed}");
    drop(qmp);
    server.join().expect("the server ends")
}

#[test]
fn descriptors_go_with_their_command_and_none_leaks() {
    let file = std::fs::File::open("/dev/null").expect("/dev/null");
    // A first session opens what the process keeps open afterwards
    // (threads' resources), so that the count compares like with like.
    session(&file);
    let before = open_fds();
    let seen = session(&file);
    assert_eq!(open_fds(), before, "descriptors leaked or closed twice");
    assert_eq!(seen.misplaced, 0);
    let names: Vec<_> = seen
        .requests
        .iter()
        .map(|r| r["execute"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        names,
        [
            "qmp_capabilities",
            "before",
            "getfd",
            "after",
            "query-version",
            "fail",
            "hang",
            "getfd"
        ]
    );
    // Over TCP, descriptors are refused before anything is sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bound");
    let address = listener.local_addr().expect("an address");
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accepted");
        let mut writer = stream.try_clone().expect("cloned");
        use std::io::{BufRead, Write};
        writer
            .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
            .expect("greeted");
        let mut reader = std::io::BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let request: serde_json::Value = serde_json::from_str(&line).expect("JSON");
            line.clear();
            let reply = json!({"return": {}, "id": request["id"]});
            writer
                .write_all(format!("{reply}\n").as_bytes())
                .expect("sent");
        }
    });
    let qmp = BlockingQmp::connect_tcp(address, &Config::default()).expect("connected");
    assert!(!qmp.passes_fds());
    let refused = qmp
        .execute_raw_with_fds("getfd", json!({"fdname": "a"}), &[file.as_fd()])
        .expect_err("no descriptors over TCP");
    assert!(
        matches!(&refused, Error::FdPassingUnsupported { command } if command == "getfd"),
        "{refused}"
    );
    qmp.close();
    drop(qmp);
    server.join().expect("the server ends");
}
