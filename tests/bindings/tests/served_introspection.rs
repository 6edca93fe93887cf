//! The storage daemon's server bindings (`storage_daemon::server`, see
//! `build.rs`) against the installed qemu-storage-daemon: the
//! introspection generated from QEMU 10.0.2's schema, under the build
//! configuration of the installed binary, is exactly what the binary
//! reports in `query-qmp-schema`, `cargo qapi diff` finds no change
//! between the two, and `cargo qapi introspect` captures the same text
//! from a server of the bindings as from the binary. Reported as ignored where QEMU or `../shared` is
//! absent.

#[cfg(any(not(qemu_schemas), no_qemu))]
#[test]
#[ignore = "qemu-storage-daemon or ../shared/qemu-10.0.2 is absent: scripts/install-qemu installs QEMU"]
fn skipped_without_qemu_or_its_schemas() {}

#[cfg(all(qemu_schemas, not(no_qemu)))]
mod storage_daemon {
    use qapi_bindings_tests::storage_daemon::{commands, server, SCHEMA};
    use qapi_bindings_tests::{qemu, qemu_build};
    use qapi_types::serde_json::{self, Value};
    use qapi_types::server::{query_qmp_schema, Conditions, Dispatch, QmpServer, ServerConfig};

    /// The introspection of a running qemu-storage-daemon, as
    /// `cargo qapi introspect` captures it, and the daemon (whose
    /// temporary directory the test may write to).
    fn captured() -> (String, qemu::Qemu) {
        let daemon = qemu::storage_daemon();
        let text = qapi_gen::capture::from_socket(&daemon.socket).expect("captured");
        (text, daemon)
    }

    fn generated(conditions: &Conditions) -> Value {
        query_qmp_schema(server::INTROSPECTION, conditions).expect("the introspection is JSON")
    }

    /// The first entry where two introspections differ, for the message.
    fn first_difference(ours: &Value, theirs: &Value) -> String {
        let (ours, theirs) = (
            ours.as_array().expect("an array"),
            theirs.as_array().expect("an array"),
        );
        match ours.iter().zip(theirs).position(|(a, b)| a != b) {
            Some(i) => format!("entry {i}: generated {}\ncaptured {}", ours[i], theirs[i]),
            None => format!(
                "{} entries generated, {} captured",
                ours.len(),
                theirs.len()
            ),
        }
    }

    #[test]
    fn generated_introspection_is_the_installed_daemons() {
        let (text, _daemon) = captured();
        let theirs: Value = serde_json::from_str(&text).expect("JSON");
        let ours = generated(&Conditions::only(qemu_build::SYMBOLS.iter().copied()));
        assert!(ours == theirs, "{}", first_difference(&ours, &theirs));
        // Every condition holding reports more than this build has.
        let everything = generated(&Conditions::all());
        assert!(
            everything.as_array().map(Vec::len) > theirs.as_array().map(Vec::len),
            "the conditions leave nothing out"
        );
    }

    #[test]
    fn cargo_qapi_diff_finds_no_change() {
        let (text, daemon) = captured();
        let ours = generated(&Conditions::only(qemu_build::SYMBOLS.iter().copied()));
        let captured_path = daemon.dir.join("captured.json");
        let generated_path = daemon.dir.join("generated.json");
        std::fs::write(&captured_path, &text).expect("writable");
        std::fs::write(&generated_path, ours.to_string()).expect("writable");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let argv = [
            "cargo-qapi".as_ref(),
            "diff".as_ref(),
            captured_path.as_os_str(),
            generated_path.as_os_str(),
        ];
        let code = qapi_gen::cli::run(argv.map(Into::into), &mut out, &mut err);
        let (out, err) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
        assert_eq!((code, out.as_ref()), (0, "no changes\n"), "{err}");
    }

    /// `cargo qapi introspect` against a server of the bindings, configured
    /// with the installed daemon's build conditions, captures what it
    /// captures from the daemon.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_served_introspection_captures_as_the_daemons() {
        let (text, daemon) = captured();
        let config = ServerConfig::builder()
            .conditions(Conditions::only(qemu_build::SYMBOLS.iter().copied()))
            .build();
        let server = QmpServer::new(server::Served(OneCommand), config);
        let socket = daemon.dir.join("served.sock");
        let listener = server.listen_unix(&socket).await.expect("listening");
        let ours = tokio::task::spawn_blocking(move || qapi_gen::capture::from_socket(&socket))
            .await
            .expect("the capture ran")
            .expect("captured from the server");
        drop(listener);
        assert!(ours == text, "the captures differ");
    }

    /// A server that implements one command, as users write it.
    struct OneCommand;

    impl server::Server for OneCommand {
        async fn query_version(
            &self,
            _: commands::QueryVersion,
            _: &qapi_types::server::Session,
        ) -> Result<qapi_bindings_tests::storage_daemon::VersionInfo, qapi_types::QmpError>
        {
            Err(qapi_types::QmpError::generic("not today"))
        }
    }

    #[test]
    fn served_bindings_carry_the_schema_and_the_introspection() {
        let served = server::Served(OneCommand);
        assert!(std::ptr::eq(served.schema(), &SCHEMA));
        assert_eq!(served.introspection(), Some(server::INTROSPECTION));
    }
}
