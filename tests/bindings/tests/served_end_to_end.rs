//! The storage daemon's server bindings as a user writes them: a
//! `server::Server` with a few `async fn`s, served by
//! `qapi_types::server::QmpServer` through `server::Served`, driven by the
//! typed client: typed arguments in and returns out, an error answered, a
//! command left out answering `CommandNotFound`, an event emitted through
//! the session, arguments that do not decode answered with an error, and
//! `query-qmp-schema` from the bindings' introspection. No QEMU needed;
//! reported as ignored where `../shared` was absent at build time.

#[cfg(not(qemu_schemas))]
#[test]
#[ignore = "../shared/qemu-10.0.2 was absent at build time: the storage daemon's bindings are empty"]
fn skipped_without_the_storage_daemons_schema() {}

#[cfg(qemu_schemas)]
mod served {
    use std::path::PathBuf;
    use std::sync::Mutex;
    use std::time::Duration;

    use qapi_bindings_tests::storage_daemon::{self as sd, commands, events, server};
    use qapi_types::serde_json::json;
    use qapi_types::server::{
        query_qmp_schema, Conditions, Listener, QmpServer, ServerConfig, Session,
    };
    use qapi_types::{Config, Error, Qmp, QmpError};

    /// A storage daemon that keeps block nodes' names, and a job.
    #[derive(Default)]
    struct Daemon {
        nodes: Mutex<Vec<String>>,
    }

    impl Daemon {
        fn nodes(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
            self.nodes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    impl server::Server for Daemon {
        async fn blockdev_add(
            &self,
            arguments: commands::BlockdevAdd,
            _: &Session,
        ) -> Result<qapi_types::Empty, QmpError> {
            let name = arguments.0.node_name.unwrap_or_default();
            self.nodes().push(name);
            Ok(qapi_types::Empty {})
        }

        async fn blockdev_del(
            &self,
            arguments: commands::BlockdevDel,
            _: &Session,
        ) -> Result<qapi_types::Empty, QmpError> {
            let mut nodes = self.nodes();
            match nodes.iter().position(|n| *n == arguments.node_name) {
                Some(index) => {
                    nodes.remove(index);
                    Ok(qapi_types::Empty {})
                }
                None => Err(QmpError::generic(format!(
                    "Failed to find node with node-name='{}'",
                    arguments.node_name
                ))),
            }
        }

        async fn job_dismiss(
            &self,
            arguments: commands::JobDismiss,
            session: &Session,
        ) -> Result<qapi_types::Empty, QmpError> {
            let event = events::JobStatusChange::new(arguments.id, sd::JobStatus::Null);
            session
                .emit_after_reply(&event)
                .map_err(|e| QmpError::generic(e.to_string()))?;
            Ok(qapi_types::Empty {})
        }
    }

    /// The daemon served on a unix socket in a directory of its own, both
    /// gone on drop.
    struct Serving {
        _server: QmpServer,
        listener: Option<Listener>,
        dir: PathBuf,
    }

    impl Serving {
        async fn start(config: ServerConfig) -> Self {
            let dir = std::env::temp_dir().join(format!("qapi-served-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("writable");
            let server = QmpServer::new(server::Served(Daemon::default()), config);
            let listener = server
                .listen_unix(dir.join("qmp.sock"))
                .await
                .expect("listening");
            Serving {
                _server: server,
                listener: Some(listener),
                dir,
            }
        }

        async fn client(&self) -> Qmp {
            Qmp::connect_unix(self.dir.join("qmp.sock"), &Config::default())
                .await
                .expect("connected")
        }
    }

    impl Drop for Serving {
        fn drop(&mut self) {
            drop(self.listener.take());
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn qmp_error(result: Result<impl std::fmt::Debug, Error>) -> QmpError {
        match result {
            Err(error) => error
                .qmp_error()
                .cloned()
                .unwrap_or_else(|| panic!("{error}")),
            Ok(value) => panic!("an error expected, got {value:?}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_of_async_fns_answers_the_typed_client() {
        let conditions = Conditions::only(["CONFIG_POSIX", "CONFIG_LINUX"]);
        let config = ServerConfig::builder()
            .conditions(conditions.clone())
            .build();
        let serving = Serving::start(config).await;
        let qmp = serving.client().await;

        let null = sd::BlockdevOptionsNull::new();
        let node = sd::BlockdevOptions::new(sd::BlockdevOptionsBranch::NullCo(null))
            .with_node_name("null0");
        qmp.execute(&commands::BlockdevAdd(node))
            .await
            .expect("added");
        qmp.execute(&commands::BlockdevDel::new("null0"))
            .await
            .expect("deleted");
        let error = qmp_error(qmp.execute(&commands::BlockdevDel::new("null0")).await);
        assert_eq!(
            (error.class.as_str(), error.desc.as_str()),
            ("GenericError", "Failed to find node with node-name='null0'")
        );

        // Left out of the implementation: as QEMU answers a command it lacks.
        let error = qmp_error(qmp.execute(&commands::QueryJobs::new()).await);
        assert_eq!(
            (error.class.as_str(), error.desc.as_str()),
            (
                "CommandNotFound",
                "The command query-jobs has not been found"
            )
        );

        // Arguments the method's type does not take: an error, not a panic.
        let error = qmp_error(
            qmp.execute_raw("blockdev-del", json!({ "node-name": 5 }))
                .await,
        );
        assert_eq!(error.class, "GenericError");

        // A driver the build conditions leave out (`io_uring` needs
        // `CONFIG_BLKIO`): refused as a QEMU built so refuses it, before
        // the method runs.
        let error = qmp_error(
            qmp.execute_raw(
                "blockdev-add",
                json!({"driver": "io_uring", "node-name": "u0", "path": "/u0"}),
            )
            .await,
        );
        assert_eq!(
            (error.class.as_str(), error.desc.as_str()),
            (
                "GenericError",
                "Parameter 'driver' does not accept value 'io_uring'"
            )
        );

        // An event the method emits through its session.
        let mut changes = qmp.subscribe::<events::JobStatusChange>();
        qmp.execute(&commands::JobDismiss::new("job0"))
            .await
            .expect("dismissed");
        let change = changes
            .wait(Duration::from_secs(10))
            .await
            .expect("the event");
        assert_eq!(change.event.id, "job0");

        // `query-qmp-schema`: the bindings' introspection under the
        // server's conditions.
        let schema = qmp
            .execute_raw("query-qmp-schema", json!({}))
            .await
            .expect("the introspection");
        let expected = query_qmp_schema(server::INTROSPECTION, &conditions).expect("JSON");
        assert!(schema == expected, "query-qmp-schema differs");
    }
}
