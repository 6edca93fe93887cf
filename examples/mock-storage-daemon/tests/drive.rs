//! The mock daemon as a program: started on a socket in a temporary
//! directory, driven with the project's client and the storage daemon's
//! bindings (the same generated file the program serves), and stopped
//! with SIGTERM, after which its socket is gone.

#[cfg(not(schema_absent))]
#[allow(clippy::all, dead_code)]
mod storage_daemon {
    include!(concat!(env!("OUT_DIR"), "/storage_daemon.rs"));
}

/// Bindings generated from the mock's own introspection alone (see
/// `build.rs`), as `cargo qapi introspect` and `generate --introspect`
/// against the mock give them.
#[cfg(not(schema_absent))]
#[allow(clippy::all, dead_code)]
mod from_introspection {
    include!(concat!(env!("OUT_DIR"), "/from_introspection.rs"));
}

#[cfg(schema_absent)]
#[test]
#[ignore = "../shared/qemu-10.0.2 was absent at build time: the mock is not built"]
fn skipped_without_the_schema() {}

#[cfg(not(schema_absent))]
mod with_schema {
    use std::path::PathBuf;
    use std::process::{Child, Command};
    use std::time::Duration;

    use qapi_types::serde_json::{self, json};
    use qapi_types::{Config, Qmp};

    use super::from_introspection as fi;
    use super::storage_daemon as sd;

    /// The daemon and its directory: killed and removed on drop.
    struct Daemon {
        child: Child,
        dir: PathBuf,
        socket: PathBuf,
    }

    impl Daemon {
        /// The daemon of the test `name`, in a directory of its own.
        fn start(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("qapi-mock-sd-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            let socket = dir.join("qmp.sock");
            let child = Command::new(env!("CARGO_BIN_EXE_mock-storage-daemon"))
                .arg(&socket)
                .spawn()
                .expect("the mock starts");
            Self { child, dir, socket }
        }

        /// A client of the daemon, connected once it listens.
        async fn connect(&self) -> Qmp {
            let config = Config::builder()
                .connect_timeout(Duration::from_secs(20))
                .build();
            Qmp::connect_unix_retry(&self.socket, &config)
                .await
                .expect("connected")
        }

        /// SIGTERM, then its exit status.
        fn terminate(&mut self) -> std::process::ExitStatus {
            let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a pid");
            rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("signalled");
            self.child.wait().expect("it exits")
        }
    }

    impl Drop for Daemon {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[tokio::test]
    async fn block_nodes_and_a_job_with_its_events() {
        let mut daemon = Daemon::start("driven");
        let qmp = daemon.connect().await;
        let version = qmp
            .execute(&sd::commands::QueryVersion::new())
            .await
            .expect("a version");
        assert_eq!(version.qemu.major, 10);

        let options: sd::BlockdevOptions =
            serde_json::from_value(json!({"driver": "null-co", "node-name": "n0", "size": 4096}))
                .expect("typed options");
        qmp.execute(&sd::commands::BlockdevAdd(options.clone()))
            .await
            .expect("added");
        let error = qmp
            .execute(&sd::commands::BlockdevAdd(options))
            .await
            .expect_err("a duplicate");
        assert_eq!(
            error.qmp_error().map(|e| e.desc.as_str()),
            Some("Duplicate nodes with node-name='n0'")
        );
        let nodes = qmp
            .execute(&sd::commands::QueryNamedBlockNodes::new())
            .await
            .expect("the nodes");
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].node_name.as_deref(), Some("n0"));
        assert_eq!(nodes[0].drv, "null-co");
        assert_eq!(nodes[0].image.virtual_size, 4096);

        // A job, followed through its events.
        let mut changes = qmp.subscribe::<sd::events::JobStatusChange>();
        let image: sd::BlockdevCreateOptions =
            serde_json::from_value(json!({"driver": "file", "filename": "disk.img", "size": 4096}))
                .expect("typed options");
        qmp.execute(&sd::commands::BlockdevCreate::new("job0", image))
            .await
            .expect("started");
        let mut statuses = Vec::new();
        while statuses.last() != Some(&sd::JobStatus::Concluded) {
            let change = changes
                .wait(Duration::from_secs(10))
                .await
                .expect("the job goes on");
            assert_eq!(change.event.id, "job0");
            statuses.push(change.event.status);
        }
        assert_eq!(
            statuses,
            [
                sd::JobStatus::Created,
                sd::JobStatus::Running,
                sd::JobStatus::Waiting,
                sd::JobStatus::Pending,
                sd::JobStatus::Concluded
            ]
        );
        let jobs = qmp
            .execute(&sd::commands::QueryJobs::new())
            .await
            .expect("the jobs");
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].status, sd::JobStatus::Concluded);
        qmp.execute(&sd::commands::JobDismiss::new("job0"))
            .await
            .expect("dismissed");
        let change = changes
            .wait(Duration::from_secs(10))
            .await
            .expect("the last change");
        assert_eq!(change.event.status, sd::JobStatus::Null);
        assert!(qmp
            .execute(&sd::commands::QueryJobs::new())
            .await
            .expect("the jobs")
            .is_empty());

        qmp.execute(&sd::commands::BlockdevDel::new("n0"))
            .await
            .expect("deleted");
        let error = qmp
            .execute(&sd::commands::BlockdevDel::new("n0"))
            .await
            .expect_err("gone");
        assert_eq!(
            error.qmp_error().map(|e| e.desc.as_str()),
            Some("Failed to find node with node-name='n0'")
        );
        // A command of the schema the mock does not implement.
        let error = qmp
            .execute_raw("blockdev-snapshot-sync", json!({}))
            .await
            .expect_err("not here");
        assert_eq!(
            error.qmp_error().map(|e| e.class.as_str()),
            Some("CommandNotFound")
        );
        qmp.close().await;

        assert!(daemon.terminate().success());
        assert!(!daemon.socket.exists(), "the socket is removed");
    }

    /// Bindings generated from the mock's introspection: the running mock
    /// reports exactly the introspection they were generated from, and
    /// they run the mock's commands, typed both ways.
    #[tokio::test]
    async fn bindings_from_its_introspection_run_its_commands() {
        let daemon = Daemon::start("introspected");
        let qmp = daemon.connect().await;
        let reported = qmp
            .execute_raw("query-qmp-schema", json!({}))
            .await
            .expect("its introspection");
        let generated_from: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("OUT_DIR"),
            "/served.introspection.json"
        )))
        .expect("JSON");
        assert_eq!(reported, generated_from);
        let report = qmp.check_schema(&fi::SCHEMA).await.expect("checked");
        assert!(
            report.is_compatible() && report.mismatches().is_empty(),
            "{report}"
        );

        let add: fi::commands::BlockdevAdd =
            serde_json::from_value(json!({"driver": "null-co", "node-name": "m0", "size": 512}))
                .expect("typed arguments");
        qmp.execute(&add).await.expect("added");
        let nodes = qmp
            .execute(&fi::commands::QueryNamedBlockNodes::new())
            .await
            .expect("the nodes");
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].node_name.as_deref(), Some("m0"));
        assert_eq!(nodes[0].image.virtual_size, 512);

        let mut changes = qmp.subscribe::<fi::events::JobStatusChange>();
        let create: fi::commands::BlockdevCreate = serde_json::from_value(json!({
            "job-id": "job1",
            "options": {"driver": "file", "filename": "disk.img", "size": 512}
        }))
        .expect("typed arguments");
        qmp.execute(&create).await.expect("started");
        loop {
            let change = changes
                .wait(Duration::from_secs(10))
                .await
                .expect("the job goes on")
                .event;
            assert_eq!(change.id, "job1");
            if serde_json::to_value(&change.status).expect("an enum") == "concluded" {
                break;
            }
        }
        qmp.execute(&fi::commands::JobDismiss::new("job1"))
            .await
            .expect("dismissed");
        qmp.execute(&fi::commands::BlockdevDel::new("m0"))
            .await
            .expect("deleted");
        qmp.close().await;
    }
}
