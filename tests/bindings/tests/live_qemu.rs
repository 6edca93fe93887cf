//! The clients against real QEMU 10.0.2 processes started here on unix
//! sockets in temporary directories (and killed at the end):
//! qemu-storage-daemon, qemu-system-x86_64 -M none and qemu-ga. Skipped,
//! with a notice, where the binaries are not installed.
//!
//! Most use the bindings of QEMU 10.0.2's schemas, generated only where
//! `../shared` is beside the checkout, and are reported as ignored where
//! it was absent at build time; the tests here need only the core
//! protocol's checked-in bindings.

use std::time::Duration;

use qapi_bindings_tests::qemu::{path, storage_daemon_pretty, storage_daemon_tcp};
use qapi_types::serde_json::json;
use qapi_types::{qmp, BlockingQmp, Config, Error, Qmp};

#[cfg(qemu_schemas)]
#[path = "live_qemu/with_schemas.rs"]
mod with_schemas;

#[cfg(not(qemu_schemas))]
#[test]
#[ignore = "../shared/qemu-10.0.2 was absent at build time: the live tests on its bindings are left out"]
fn skipped_without_qemu_schemas() {}

/// The arguments of a `blockdev-create` job making a 1 MiB image.
fn create_image(job: &str, file: &str) -> qapi_types::serde_json::Value {
    json!({
        "job-id": job,
        "options": { "driver": "file", "filename": file, "size": 1 << 20 },
    })
}

/// A monitor started with `pretty=on` writes each message over many
/// lines: replies, errors, empty objects and arrays, events and the
/// whole of query-qmp-schema read as they do from a compact one.
#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn a_pretty_printing_monitor_async() {
    let qemu = storage_daemon_pretty();
    let client = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    assert!(client.oob_enabled());
    let version = client
        .execute(&qmp::commands::QueryVersion::new())
        .await
        .expect("a version");
    assert_eq!(version.qemu.major, 10);
    let error = client
        .execute_raw("no-such-command", json!({}))
        .await
        .expect_err("not a command");
    assert!(
        matches!(&error, Error::Command { error, .. } if error.class == "CommandNotFound"),
        "{error}"
    );
    assert_eq!(
        client
            .execute_raw("query-jobs", json!({}))
            .await
            .expect("jobs"),
        json!([])
    );
    let mut events = client.events();
    let image = path(&qemu.dir, "pretty.img");
    client
        .execute_raw("blockdev-create", create_image("job0", &image))
        .await
        .expect("a job");
    let mut statuses = Vec::new();
    while !statuses.contains(&json!("concluded")) {
        let event = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .expect("the job progresses")
            .expect("subscribed");
        if event.event == "JOB_STATUS_CHANGE" {
            statuses.push(event.data["status"].clone());
        }
    }
    let report = client
        .check_schema(&qmp::SCHEMA)
        .await
        .expect("the schema, pretty-printed");
    assert!(report.is_compatible(), "{report}");
    assert!(report.server_only().commands > 50, "{report}");
    assert_eq!(client.ignored_messages(), 0);
}

/// The same with the blocking client.
#[test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
fn a_pretty_printing_monitor_blocking() {
    let qemu = storage_daemon_pretty();
    let client = BlockingQmp::connect_unix(&qemu.socket, &Config::default()).expect("connected");
    assert!(client.oob_enabled());
    let version = client
        .execute(&qmp::commands::QueryVersion::new())
        .expect("a version");
    assert_eq!(version.qemu.major, 10);
    let error = client
        .execute_raw("no-such-command", json!({}))
        .expect_err("not a command");
    assert!(
        matches!(&error, Error::Command { error, .. } if error.class == "CommandNotFound"),
        "{error}"
    );
    let image = path(&qemu.dir, "pretty.img");
    client
        .execute_raw("blockdev-create", create_image("job1", &image))
        .expect("a job");
    let mut statuses = Vec::new();
    while !statuses.contains(&json!("concluded")) {
        let event = client
            .next_event(Duration::from_secs(20))
            .expect("reads")
            .expect("an event in time");
        if event.event == "JOB_STATUS_CHANGE" {
            statuses.push(event.data["status"].clone());
        }
    }
    let report = client.check_schema(&qmp::SCHEMA).expect("the schema");
    assert!(report.is_compatible(), "{report}");
    assert_eq!(client.ignored_messages(), 0);
}

/// A reply nested deeper than the clients decode comes from real QEMU:
/// `query-named-block-nodes` on a backing chain of 140 images nests each
/// image in the one above it. The call fails by itself, and the same
/// query with `flat` (which leaves the chain out) then succeeds on the
/// same connection.
#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn a_long_backing_chain_fails_only_its_query() {
    let qemu = qapi_bindings_tests::qemu::storage_daemon();
    const IMAGES: usize = 140;
    let image = |i: usize| path(&qemu.dir, &format!("chain{i}.qcow2"));
    for i in 0..IMAGES {
        let mut command = std::process::Command::new("qemu-img");
        command.args(["create", "-q", "-f", "qcow2"]);
        // Each on the one before, which -u leaves unopened: quick.
        if i > 0 {
            command.args(["-u", "-b", &image(i - 1), "-F", "qcow2"]);
        }
        let status = command
            .args([&image(i), "1M"])
            .status()
            .expect("qemu-img runs");
        assert!(status.success(), "qemu-img create {}", image(i));
    }
    let client = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    client
        .execute_raw(
            "blockdev-add",
            json!({
                "driver": "qcow2",
                "node-name": "top",
                "file": { "driver": "file", "filename": image(IMAGES - 1) },
            }),
        )
        .await
        .expect("the chain opens");
    let error = client
        .execute_raw("query-named-block-nodes", json!({}))
        .await
        .expect_err("nested too deeply");
    assert!(
        matches!(&error, Error::Decode { command, .. } if command == "query-named-block-nodes"),
        "{error}"
    );
    let nodes = client
        .execute_raw("query-named-block-nodes", json!({ "flat": true }))
        .await
        .expect("the flat list");
    // Each image and the file node under it.
    assert_eq!(nodes.as_array().map(Vec::len), Some(2 * IMAGES));
}

/// Both clients over TCP, as QEMU's `-qmp tcp:HOST:PORT,server` serves.
#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn both_clients_over_tcp() {
    let (_qemu, port) = storage_daemon_tcp();
    let address = ("127.0.0.1", port);
    let blocking = BlockingQmp::connect_tcp(
        address,
        &Config::builder()
            .connect_timeout(Duration::from_secs(20))
            .greeting_timeout(Duration::from_secs(20))
            .build(),
    )
    .expect("connected");
    assert!(blocking.oob_enabled());
    let version = blocking
        .execute(&qmp::commands::QueryVersion::new())
        .expect("a version");
    assert_eq!(version.qemu.major, 10);
    // A monitor serves one client at a time: the next one waits for the
    // greeting until this one leaves.
    let busy = BlockingQmp::connect_tcp(
        address,
        &Config::builder()
            .connect_timeout(Duration::from_millis(300))
            .greeting_timeout(Duration::from_millis(300))
            .build(),
    )
    .expect_err("no greeting while the monitor is busy");
    assert!(matches!(busy, Error::NoGreeting { .. }), "{busy}");
    drop(blocking);
    let client = Qmp::connect_tcp(address, &Config::default())
        .await
        .expect("connected");
    let report = client.check_schema(&qmp::SCHEMA).await.expect("a report");
    assert!(report.is_compatible(), "{report}");
}
