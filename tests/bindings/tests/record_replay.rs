//! Record and replay: a session of the async client against the real
//! qemu-storage-daemon is recorded, then served again by the project's
//! server from the recording alone, and the same test function passes
//! against both.

#[cfg(qemu_schemas)]
#[path = "record_replay/scenario.rs"]
mod scenario;

#[cfg(not(qemu_schemas))]
#[test]
#[ignore = "../shared/qemu-10.0.2 was absent at build time: the storage daemon's bindings are left out"]
fn skipped_without_qemu_schemas() {}

#[cfg(qemu_schemas)]
mod with_schemas {
    use qapi_bindings_tests::qemu::storage_daemon;
    use qapi_bindings_tests::storage_daemon as sd;
    use qapi_bindings_tests::temp_dir::TempDir;
    use qapi_types::recording::Recording;
    use qapi_types::serde_json::json;
    use qapi_types::server::{QmpServer, Replay, ServerConfig};
    use qapi_types::{Config, Qmp, Recorder};

    use super::scenario;

    #[tokio::test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    async fn a_recorded_session_replays_and_the_same_test_passes() {
        let dir = TempDir::new("record-replay");
        let path = dir.join("storage-daemon.jsonl");

        // Against the real daemon, recorded.
        {
            let qemu = storage_daemon();
            let recorder = Recorder::create(&path).expect("created");
            let config = Config::builder().record(recorder.clone()).build();
            let qmp = Qmp::connect_unix(&qemu.socket, &config)
                .await
                .expect("connected");
            scenario::block_nodes(&qmp).await;
            qmp.close().await;
            recorder.flush().expect("recorded");
        }

        let recording = Recording::read(&path).expect("reads back");
        let replay = Replay::new(&recording, &sd::SCHEMA);
        let names: Vec<&str> = replay
            .exchanges()
            .iter()
            .map(|exchange| exchange.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "blockdev-add",
                "query-named-block-nodes",
                "blockdev-add",
                "blockdev-create",
                "job-dismiss",
                "blockdev-del",
                "query-named-block-nodes",
                "blockdev-del"
            ]
        );
        let job_events: usize = replay
            .exchanges()
            .iter()
            .map(|exchange| exchange.events_before.len() + exchange.events_after.len())
            .sum();
        assert!(job_events >= 4, "{replay:?}");

        // Against the replay, without QEMU.
        // It greets as the recorded daemon did, and describes its schema.
        let version = replay.recorded_version().expect("a greeting").clone();
        replay.set_introspection(sd::server::INTROSPECTION);
        let config = ServerConfig::builder().version(version.clone()).build();
        let server = QmpServer::new(replay.clone(), config);
        let socket = dir.join("replay.sock");
        let listener = server.listen_unix(&socket).await.expect("listening");
        let qmp = Qmp::connect_unix(&socket, &Config::default())
            .await
            .expect("connected");
        assert_eq!(qmp.greeting().version(), Some(&version));
        scenario::block_nodes(&qmp).await;
        let schema = qmp
            .execute_raw("query-qmp-schema", json!({}))
            .await
            .expect("the schema");
        let commands: Vec<&str> = schema
            .as_array()
            .expect("a list")
            .iter()
            .filter(|entity| entity["meta-type"] == "command")
            .filter_map(|entity| entity["name"].as_str())
            .collect();
        assert!(commands.contains(&"blockdev-add"), "{commands:?}");
        let report = qmp.check_schema(&sd::SCHEMA).await.expect("the schema");
        assert!(report.is_compatible(), "{report}");
        assert!(replay.unmatched().is_empty(), "{:?}", replay.unmatched());
        assert!(replay.unused().is_empty(), "{:?}", replay.unused());

        // A request the recording lacks fails, naming it.
        let error = qmp
            .execute_raw("blockdev-del", json!({"node-name": "other"}))
            .await
            .expect_err("not recorded");
        let error = error.qmp_error().expect("an error reply");
        assert_eq!(error.class, "GenericError");
        assert_eq!(
            error.desc,
            r#"replay: the recording has no request 'blockdev-del' with arguments {"node-name":"other"}"#
        );
        assert_eq!(replay.unmatched().len(), 1);
        qmp.close().await;
        listener.stop().await;
    }
}
