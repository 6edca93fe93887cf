//! A client nobody here wrote drives the project's server: QEMU's Python
//! client (`qemu.qmp`, from PyPI, in the virtual environment
//! `scripts/install-qemu` makes) runs `tests/bindings/python/drive.py`
//! against mocks served by `QmpServer` (negotiation, commands, errors, an
//! event, an out-of-band command overtaking a slow in-band one), and its
//! `qmp-shell` runs commands typed on its standard input.
//!
//! Ignored, with the reason, where the virtual environment was absent at
//! build time (`tests/support/machine.rs`); CI requires it.

#[cfg(not(qemu_schemas))]
#[test]
#[ignore = "../shared/qemu-10.0.2 was absent at build time: the storage daemon's bindings are left out"]
fn skipped_without_qemu_schemas() {}

#[cfg(qemu_schemas)]
mod with_schemas {
    use std::path::{Path, PathBuf};
    use std::process::Stdio;
    use std::time::Duration;

    use qapi_bindings_tests::temp_dir::TempDir;
    use qapi_bindings_tests::{storage_daemon as sd, system};
    use qapi_types::serde_json::{self, json};
    use qapi_types::server::{Listener, Mock, QmpServer, ServerConfig};
    use qapi_types::{Empty, QmpError};
    use tokio::io::AsyncWriteExt;

    /// The virtual environment holding qemu.qmp, as found at build time.
    fn venv() -> PathBuf {
        match option_env!("QAPI_QEMU_QMP_VENV") {
            Some(venv) => PathBuf::from(venv),
            None => panic!("the build found no qemu.qmp: this test is ignored then"),
        }
    }

    /// What `query-named-block-nodes` says of a null-co node.
    fn null_node(name: &str) -> sd::BlockDeviceInfo {
        serde_json::from_value(json!({
            "file": "null-co://", "node-name": name, "ro": false, "drv": "null-co",
            "encrypted": false, "detect_zeroes": "off", "bps": 0, "bps_rd": 0,
            "bps_wr": 0, "iops": 0, "iops_rd": 0, "iops_wr": 0, "write_threshold": 0,
            "backing_file_depth": 0, "active": true,
            "image": {"filename": "null-co://", "format": "null-co", "virtual-size": 0},
            "cache": {"writeback": true, "direct": false, "no-flush": false},
        }))
        .expect("a node's description")
    }

    /// A mock of the storage daemon, as drive.py expects it.
    fn storage_daemon_mock() -> Mock {
        let mock = Mock::new(&sd::SCHEMA);
        mock.on::<sd::commands::BlockdevAdd>(|_| Ok(Empty {}))
            .reply::<sd::commands::QueryNamedBlockNodes>(vec![null_node("py0")])
            .fail::<sd::commands::BlockdevDel>(QmpError::generic(
                "Failed to find node with node-name='nope'",
            ))
            .reply::<sd::commands::BlockdevCreate>(Empty {});
        let created = sd::events::JobStatusChange::new("job0", sd::JobStatus::Created);
        mock.emit_after::<sd::commands::BlockdevCreate, _>(&created)
            .expect("event data serializes");
        mock
    }

    /// A mock of the system emulator: a slow in-band command and a quick
    /// out-of-band one.
    fn system_mock() -> Mock {
        let mock = Mock::new(&system::SCHEMA);
        mock.on_async::<system::commands::QueryStatus, _, _>(|_| async {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            Ok(system::StatusInfo::new(true, system::RunState::Running))
        })
        .on::<system::commands::MigratePause>(|_| Ok(Empty {}));
        mock
    }

    async fn serve(mock: &Mock, socket: &Path) -> Listener {
        QmpServer::new(mock.clone(), ServerConfig::default())
            .listen_unix(socket)
            .await
            .expect("listening")
    }

    #[tokio::test]
    #[cfg_attr(
        no_qemu_qmp,
        ignore = "QEMU's Python client (qemu.qmp) is not installed (scripts/install-qemu)"
    )]
    async fn qemu_python_client_drives_the_server() {
        let dir = TempDir::new("python-client");
        let (storage_daemon, system) = (storage_daemon_mock(), system_mock());
        let sd_socket = dir.join("storage-daemon.sock");
        let system_socket = dir.join("system.sock");
        let _sd_listener = serve(&storage_daemon, &sd_socket).await;
        let _system_listener = serve(&system, &system_socket).await;

        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/drive.py");
        let output = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::new(venv().join("bin/python"))
                .arg(&script)
                .arg(&sd_socket)
                .arg(&system_socket)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("the script ends")
        .expect("python runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.trim_end().ends_with("ok"),
            "drive.py failed:\n{stdout}\n{stderr}"
        );

        // What the mocks received, in order (the protocol's own commands
        // and an unknown one never reach them).
        assert_eq!(
            storage_daemon.call_names(),
            [
                "blockdev-add",
                "query-named-block-nodes",
                "blockdev-del",
                "blockdev-create"
            ]
        );
        let added = storage_daemon.received::<sd::commands::BlockdevAdd>();
        let added = serde_json::to_value(&added[0]).expect("serializes");
        assert_eq!(added, json!({"driver": "null-co", "node-name": "py0"}));
        assert_eq!(
            system.call_names(),
            ["query-status", "migrate-pause"],
            "the refused out-of-band query-status never runs"
        );
    }

    #[tokio::test]
    #[cfg_attr(
        no_qemu_qmp,
        ignore = "QEMU's Python client (qemu.qmp) is not installed (scripts/install-qemu)"
    )]
    async fn qmp_shell_runs_commands() {
        let dir = TempDir::new("qmp-shell");
        let mock = storage_daemon_mock();
        let socket = dir.join("qmp.sock");
        let _listener = serve(&mock, &socket).await;

        let mut shell = tokio::process::Command::new(venv().join("bin/qmp-shell"))
            .arg(&socket)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("qmp-shell starts");
        let mut stdin = shell.stdin.take().expect("piped");
        stdin
            .write_all(b"blockdev-add driver=null-co node-name=shell0\nquery-named-block-nodes flat=true\n")
            .await
            .expect("written");
        drop(stdin);
        let output = tokio::time::timeout(Duration::from_secs(30), shell.wait_with_output())
            .await
            .expect("qmp-shell ends at the end of its input")
            .expect("it ran");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "qmp-shell: {}\n{stderr}",
            output.status
        );
        assert!(
            stdout.contains("\"node-name\": \"py0\""),
            "qmp-shell printed:\n{stdout}\n{stderr}"
        );
        assert_eq!(
            mock.call_names(),
            ["blockdev-add", "query-named-block-nodes"]
        );
        let added = mock.received::<sd::commands::BlockdevAdd>();
        let added = serde_json::to_value(&added[0]).expect("serializes");
        assert_eq!(added, json!({"driver": "null-co", "node-name": "shell0"}));
    }
}
