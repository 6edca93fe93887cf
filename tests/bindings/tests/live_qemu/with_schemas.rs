//! The live tests on the bindings of QEMU's own schemas.

use std::time::Duration;

use qapi_bindings_tests::qemu::{guest_agent, path, storage_daemon, system_emulator};
use qapi_bindings_tests::{qemu_build, storage_daemon as sd, system};
use qapi_types::schema::{Location, MismatchKind, ServerOnly};
use qapi_types::serde_json::{self, json};
use qapi_types::server::Conditions;
use qapi_types::{Config, Error, Qmp};

#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn storage_daemon_typed_commands_errors_and_job_events() {
    let qemu = storage_daemon();
    let qmp = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    let version = qmp
        .execute(&sd::commands::QueryVersion::new())
        .await
        .expect("a version");
    assert_eq!((version.qemu.major, version.qemu.minor), (10, 0));

    // A typed error that names the command.
    let error = qmp
        .execute(&sd::commands::BlockdevDel::new("no-such-node"))
        .await
        .expect_err("no such node");
    let Error::Command { command, error } = &error else {
        panic!("{error}")
    };
    assert_eq!(command, "blockdev-del");
    assert_eq!(error.class, "GenericError");

    // A job: its status changes arrive as typed events, between replies.
    let mut events = qmp.events();
    let options: sd::BlockdevCreateOptions = serde_json::from_value(
        json!({ "driver": "file", "filename": path(&qemu.dir, "disk.img"), "size": 1 << 20 }),
    )
    .expect("typed options");
    qmp.execute(&sd::commands::BlockdevCreate::new("create0", options))
        .await
        .expect("job started");
    let mut seen = Vec::new();
    while !seen.contains(&sd::JobStatus::Concluded) {
        let event = tokio::time::timeout(
            Duration::from_secs(20),
            events.next_typed::<sd::events::Event>(),
        )
        .await
        .expect("the job progresses")
        .expect("subscribed")
        .expect("decodes");
        if let sd::events::Event::JobStatusChange(change) = event.event {
            assert_eq!(change.id, "create0");
            seen.push(change.status);
        }
    }
    assert!(seen.contains(&sd::JobStatus::Running), "{seen:?}");
    qmp.execute(&sd::commands::JobDismiss::new("create0"))
        .await
        .expect("dismissed");
    let jobs = qmp
        .execute(&sd::commands::QueryJobs::new())
        .await
        .expect("jobs");
    assert!(jobs.is_empty());
    assert!(
        std::fs::metadata(qemu.dir.join("disk.img"))
            .expect("created")
            .len()
            >= 1 << 20
    );
}

#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn system_emulator_out_of_band_overtakes_in_band() {
    let qemu = system_emulator();
    let qmp = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    assert!(qmp.oob_enabled(), "QEMU offers oob on a socket monitor");
    // Queue slow in-band commands, then one out-of-band: its reply comes
    // before the in-band ones that were queued ahead of it.
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut slow = Vec::new();
    for i in 0..4 {
        let (qmp, order) = (qmp.clone(), order.clone());
        slow.push(tokio::spawn(async move {
            let schema = qmp
                .execute(&system::commands::QueryQmpSchema::new())
                .await
                .expect("the schema");
            assert!(schema.len() > 1000);
            order
                .lock()
                .expect("not poisoned")
                .push(format!("schema-{i}"));
        }));
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(1)).await;
    let yank = qmp
        .execute_oob(&system::commands::QueryYank::new())
        .await
        .expect("oob reply");
    order.lock().expect("not poisoned").push("yank".to_string());
    assert!(!yank.is_empty());
    for task in slow {
        task.await.expect("joined");
    }
    let order = order.lock().expect("not poisoned").clone();
    let yank_at = order.iter().position(|o| o == "yank").expect("recorded");
    assert!(
        yank_at < order.len() - 1,
        "the out-of-band reply overtook in-band ones: {order:?}"
    );
}

#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn system_emulator_stop_and_cont_events() {
    let qemu = system_emulator();
    let qmp = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    let mut events = qmp.events();
    qmp.execute(&system::commands::Stop::new())
        .await
        .expect("stopped");
    qmp.execute(&system::commands::Cont::new())
        .await
        .expect("continued");
    let mut names = Vec::new();
    while names.len() < 2 {
        let event = tokio::time::timeout(
            Duration::from_secs(10),
            events.next_typed::<system::events::Event>(),
        )
        .await
        .expect("events arrive")
        .expect("subscribed")
        .expect("decodes");
        match event.event {
            system::events::Event::Stop(_) => names.push("STOP"),
            system::events::Event::Resume(_) => names.push("RESUME"),
            _ => {}
        }
        assert!(event.timestamp.to_system_time().is_some());
    }
    assert_eq!(names, ["STOP", "RESUME"]);
    let status = qmp
        .execute(&system::commands::QueryStatus::new())
        .await
        .expect("status");
    assert!(status.running);
}

/// The blocking guest-agent client against qemu-ga started here on a
/// unix socket (killed at the end): synchronised, typed and raw calls, a
/// call with a limit of its own, an explicit resynchronisation, close.
#[test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
fn blocking_guest_agent() {
    let agent = guest_agent();
    let config = Config::builder()
        .connect_timeout(Duration::from_secs(10))
        .greeting_timeout(Duration::from_secs(10))
        .call_timeout(Some(Duration::from_secs(10)))
        .build();
    let qga = qapi_types::BlockingQga::connect_unix_retry(&agent.socket, &config)
        .expect("connected and synchronised");
    qga.execute(&qapi_bindings_tests::qga::commands::GuestPing::new())
        .expect("pong");
    let info = qga
        .execute_timeout(
            &qapi_bindings_tests::qga::commands::GuestInfo::new(),
            Duration::from_secs(5),
        )
        .expect("info");
    assert!(info.version.starts_with("10.0"), "{}", info.version);
    assert!(info
        .supported_commands
        .iter()
        .any(|c| c.name == "guest-ping"));
    qga.sync().expect("synchronised again");
    let id = qga
        .execute(&qapi_bindings_tests::qga::commands::GuestSyncDelimited::new(4242))
        .expect("echoed");
    assert_eq!(id, 4242);
    let error = qga
        .execute_raw("no-such-command", json!({}))
        .expect_err("not a command");
    assert!(error.is_qmp(), "{error}");
    assert_eq!(
        qga.execute_raw("guest-ping", json!({}))
            .expect("still usable"),
        json!({})
    );
    qga.close();
    assert!(qga
        .execute_raw("guest-ping", json!({}))
        .expect_err("closed")
        .is_closed());
}

#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn guest_agent_sync_ping_and_info() {
    let agent = guest_agent();
    let qga = qapi_types::Qga::connect_unix(&agent.socket, &qapi_types::Config::default())
        .await
        .expect("connected and synchronised");
    qga.execute(&qapi_bindings_tests::qga::commands::GuestPing::new())
        .await
        .expect("pong");
    let info = qga
        .execute(&qapi_bindings_tests::qga::commands::GuestInfo::new())
        .await
        .expect("info");
    assert!(info.version.starts_with("10.0"), "{}", info.version);
    assert!(info
        .supported_commands
        .iter()
        .any(|c| c.name == "guest-ping"));
    // An explicit resynchronisation, then the connection is usable again.
    qga.sync().await.expect("synchronised again");
    let id = qga
        .execute(&qapi_bindings_tests::qga::commands::GuestSyncDelimited::new(4242))
        .await
        .expect("echoed");
    assert_eq!(id, 4242);
}

#[test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
fn blocking_client_against_the_storage_daemon() {
    let qemu = storage_daemon();
    let qmp = qapi_types::BlockingQmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
        .expect("connected");
    assert!(qmp.oob_enabled());
    let version = qmp
        .execute(&sd::commands::QueryVersion::new())
        .expect("a version");
    assert_eq!(version.qemu.major, 10);
    let error = qmp
        .execute(&sd::commands::BlockdevDel::new("nope"))
        .expect_err("no such node");
    assert!(
        matches!(&error, Error::Command { command, .. } if command == "blockdev-del"),
        "{error}"
    );
    let options: sd::BlockdevCreateOptions = serde_json::from_value(
        json!({ "driver": "file", "filename": path(&qemu.dir, "b.img"), "size": 1 << 20 }),
    )
    .expect("typed options");
    qmp.execute(&sd::commands::BlockdevCreate::new("create1", options))
        .expect("job started");
    let mut statuses = Vec::new();
    while !statuses.contains(&"concluded".to_string()) {
        let event = qmp
            .next_event(Duration::from_secs(20))
            .expect("reads")
            .expect("an event in time");
        if event.event == "JOB_STATUS_CHANGE" {
            statuses.push(event.data["status"].as_str().expect("a status").to_string());
        }
    }
    assert!(statuses.contains(&"running".to_string()), "{statuses:?}");
    assert_eq!(
        qmp.next_event(Duration::from_millis(50)).expect("reads"),
        None
    );
    qmp.execute(&sd::commands::JobDismiss::new("create1"))
        .expect("dismissed");
}

/// The storage daemon's own bindings: everything they use is there, but
/// for what QEMU's schema makes conditional and this build leaves out
/// (`io_uring` and the `virtio-blk-*` drivers, the `console` chardev
/// backend): each mismatch's condition fails in the installed build.
#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn storage_daemon_bindings_match_the_storage_daemon() {
    let qemu = storage_daemon();
    let qmp = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    let report = qmp.check_schema(&sd::SCHEMA).await.expect("a report");
    assert!(report.is_compatible(), "{report}");
    let build = Conditions::only(qemu_build::SYMBOLS.iter().copied());
    for mismatch in report.mismatches() {
        assert!(mismatch.condition.is_some(), "{mismatch}");
        assert!(!build.keeps(mismatch.condition), "{mismatch}");
        assert!(
            matches!(mismatch.kind, MismatchKind::UnknownValue(_)),
            "{mismatch}"
        );
    }
    assert!(report.mismatches().iter().any(|m| m.to_string()
        == "command 'blockdev-add' argument 'driver': value 'io_uring' not known to the server \
            (conditional in the schema: CONFIG_BLKIO)"));
    // The same schema: the server has nothing more.
    assert_eq!(report.server_only(), ServerOnly::default());
}

/// The system emulator's bindings against the storage daemon: what they
/// share (block devices, jobs, NBD, objects) matches; the rest is missing.
#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn system_bindings_against_the_storage_daemon_lack_system_commands() {
    let qemu = storage_daemon();
    let qmp = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    let report = qmp.check_schema(&system::SCHEMA).await.expect("a report");
    assert!(!report.is_compatible());
    let missing = report
        .incompatibilities()
        .find(|m| m.location == Location::Command("query-cpus-fast".into()))
        .expect("query-cpus-fast is reported");
    assert_eq!(missing.kind, MismatchKind::Missing);
    assert_eq!(
        missing.to_string(),
        "command 'query-cpus-fast': not known to the server"
    );
    for mismatch in report.incompatibilities() {
        assert!(
            matches!(mismatch.location, Location::Command(_))
                && mismatch.kind == MismatchKind::Missing,
            "{mismatch}"
        );
    }
    // Shared commands are checked, not just found: their arguments are
    // compared (values this build leaves out are noted).
    assert!(system::SCHEMA.command("blockdev-add").is_some());
    assert!(!report
        .mismatches()
        .iter()
        .any(|m| m.location == Location::Command("blockdev-add".into())));
    assert!(report
        .mismatches()
        .iter()
        .any(|m| m.location == Location::Arguments("blockdev-add".into()) && !m.is_incompatible()));
    assert!(report
        .mismatches()
        .iter()
        .any(|m| m.location == Location::Event("SHUTDOWN".into()) && !m.is_incompatible()));
}

/// The checked-in core protocol bindings against the system emulator.
#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn core_bindings_match_the_system_emulator() {
    let qemu = system_emulator();
    let qmp = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    let report = qmp
        .check_schema(&qapi_types::qmp::SCHEMA)
        .await
        .expect("a report");
    assert!(report.is_compatible(), "{report}");
    assert!(report.mismatches().is_empty(), "{report}");
    assert!(report.server_only().commands > 200, "{report}");
}

#[test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
fn blocking_client_checks_the_schema() {
    let qemu = storage_daemon();
    let qmp = qapi_types::BlockingQmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
        .expect("connected");
    let report = qmp.check_schema(&sd::SCHEMA).expect("a report");
    assert!(report.is_compatible(), "{report}");
    let report = qmp.check_schema(&system::SCHEMA).expect("a report");
    assert!(!report.is_compatible(), "{report}");
}

/// The system emulator's bindings against qemu-system-x86_64: only what
/// this build leaves out of QEMU's conditional definitions is absent
/// (other targets' CPU model commands, other hosts' backends).
#[tokio::test]
#[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
async fn system_bindings_match_the_system_emulator() {
    let qemu = system_emulator();
    let qmp = Qmp::connect_unix(&qemu.socket, &Config::default())
        .await
        .expect("connected");
    let report = qmp.check_schema(&system::SCHEMA).await.expect("a report");
    assert!(report.is_compatible(), "{report}");
    let build = Conditions::only(qemu_build::SYMBOLS.iter().copied());
    for mismatch in report.mismatches() {
        assert!(mismatch.condition.is_some(), "{mismatch}");
        assert!(!build.keeps(mismatch.condition), "{mismatch}");
    }
    assert!(report.mismatches().iter().any(|m| {
        m.to_string()
            == "command 'query-gic-capabilities': not known to the server \
            (conditional in the schema: TARGET_ARM)"
    }));
    assert_eq!(report.server_only(), ServerOnly::default());
}
