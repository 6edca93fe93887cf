//! Bindings generated at build time from the introspection of the
//! installed qemu-storage-daemon and qemu-system-x86_64 (see `build.rs`),
//! alone and with QEMU's schema source resolved against it, driving those
//! binaries with typed commands. Reported as ignored where the
//! binaries (or `../shared`) were absent at build time.

#[cfg(not(storage_daemon_introspected))]
#[test]
#[ignore = "qemu-storage-daemon was not installed at build time: scripts/install-qemu installs QEMU"]
fn skipped_without_storage_daemon_introspected() {}

#[cfg(not(system_introspected))]
#[test]
#[ignore = "qemu-system-x86_64 was not installed at build time: scripts/install-qemu installs QEMU"]
fn skipped_without_system_introspected() {}

#[cfg(not(storage_daemon_resolved))]
#[test]
#[ignore = "qemu-storage-daemon or ../shared/qemu-10.0.2 was absent at build time: scripts/install-qemu installs QEMU"]
fn skipped_without_storage_daemon_resolved() {}

#[cfg(not(system_resolved))]
#[test]
#[ignore = "qemu-system-x86_64 or ../shared/qemu-10.0.2 was absent at build time: scripts/install-qemu installs QEMU"]
fn skipped_without_system_resolved() {}

#[cfg(storage_daemon_introspected)]
mod storage_daemon_introspected {
    use qapi_bindings_tests::qemu::storage_daemon;
    use qapi_bindings_tests::storage_daemon_introspected as sdi;
    use qapi_types::{Error, Qmp};

    #[tokio::test]
    async fn storage_daemon_from_its_introspection_alone() {
        let Some(qemu) = storage_daemon() else { return };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let version = qmp
            .execute(&sdi::commands::QueryVersion::new())
            .await
            .expect("a version");
        assert_eq!((version.qemu.major, version.qemu.minor), (10, 0));

        // A union argument, its branch type named after the first branch
        // that uses it.
        let null = sdi::BlockdevAddArgumentsNullAio::new().with_size(1 << 20);
        let node = sdi::BlockdevAddArguments::new(sdi::BlockdevAddArgumentsBranch::NullCo(null))
            .with_node_name("null0");
        qmp.execute(&sdi::commands::BlockdevAdd(node))
            .await
            .expect("added");
        let nodes = qmp
            .execute(&sdi::commands::QueryNamedBlockNodes::new())
            .await
            .expect("nodes");
        let node = nodes
            .iter()
            .find(|n| n.node_name.as_deref() == Some("null0"))
            .expect("the node is listed");
        assert_eq!(node.drv, "null-co");
        assert_eq!(node.image.virtual_size, 1 << 20);
        qmp.execute(&sdi::commands::BlockdevDel::new("null0"))
            .await
            .expect("deleted");
        let error = qmp
            .execute(&sdi::commands::BlockdevDel::new("null0"))
            .await
            .expect_err("gone");
        assert!(matches!(error, Error::Command { .. }), "{error}");
    }

    /// Bindings from a build's introspection match that build
    /// exactly: the run-time check finds nothing, not even a note.
    #[tokio::test]
    async fn the_run_time_check_finds_nothing_to_report() {
        let Some(qemu) = storage_daemon() else { return };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let report = qmp.check_schema(&sdi::SCHEMA).await.expect("checked");
        assert!(report.mismatches().is_empty(), "{report}");
    }

    /// `cargo qapi introspect --socket` against a running QEMU.
    #[test]
    fn cargo_qapi_introspect_on_a_socket() {
        let Some(qemu) = storage_daemon() else { return };
        let out = qemu.dir.join("capture.json");
        let argv = [
            "cargo-qapi",
            "qapi",
            "introspect",
            "--socket",
            qemu.socket.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ];
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let code = qapi_gen::cli::run(argv.map(Into::into), &mut stdout, &mut stderr);
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&stderr));
        let introspection =
            qapi_gen::introspect::Introspection::read(&out).expect("a valid capture");
        assert!(introspection.get("blockdev-add").is_some());
        assert!(introspection.get("query-cpus-fast").is_none());
    }
}

#[cfg(system_introspected)]
mod system_introspected {
    use std::time::Duration;

    use qapi_bindings_tests::qemu::system_emulator;
    use qapi_bindings_tests::system_introspected as sysi;
    use qapi_types::{EventSet, Qmp};

    #[tokio::test]
    async fn system_emulator_from_its_introspection_alone() {
        let Some(qemu) = system_emulator() else {
            return;
        };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        assert!(qmp.oob_enabled());
        // allow-oob comes through introspection: this compiles only
        // because query-yank allows it.
        let instances = qmp
            .execute_oob(&sysi::commands::QueryYank::new())
            .await
            .expect("yank instances");
        // The monitor's own chardev can be yanked.
        let yankable = |i: &sysi::QueryYankItem| matches!(&i.r#type, sysi::QueryYankItemBranch::Chardev(c) if c.id == "mon");
        assert!(instances.iter().any(yankable), "{instances:?}");
        let status = qmp
            .execute(&sysi::commands::QueryStatus::new())
            .await
            .expect("status");
        assert_eq!(status.status, sysi::QueryStatusReturnStatus::Running);
        let properties = qmp
            .execute(&sysi::commands::QomList::new("/machine"))
            .await
            .expect("properties");
        assert!(
            properties.iter().any(|p| p.name == "type"),
            "{properties:?}"
        );

        let mut events = qmp.events();
        qmp.execute(&sysi::commands::Stop::new())
            .await
            .expect("stopped");
        let raw = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an event in time")
            .expect("an event");
        let event = sysi::events::Event::decode(&raw).expect("decodes");
        assert!(matches!(event, sysi::events::Event::Stop(_)), "{event:?}");
    }

    /// The build-time capture is what a connected client reads.
    #[tokio::test]
    async fn the_capture_is_the_servers_schema() {
        let Some(qemu) = system_emulator() else {
            return;
        };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let live = qmp
            .execute(&qapi_types::qmp::commands::QueryQmpSchema::new())
            .await
            .expect("schema");
        let captured: Vec<qapi_types::serde_json::Value> =
            qapi_types::serde_json::from_str(include_str!(concat!(
                env!("OUT_DIR"),
                "/system_introspected.introspection.json"
            )))
            .expect("JSON");
        let mut live: Vec<&str> = live.iter().map(|i| i.name.as_str()).collect();
        let mut captured: Vec<&str> = captured
            .iter()
            .map(|i| i["name"].as_str().expect("named"))
            .collect();
        live.sort_unstable();
        captured.sort_unstable();
        assert_eq!(live, captured);
    }

    /// Bindings from a build's introspection match that build
    /// exactly: the run-time check finds nothing, not even a note.
    #[tokio::test]
    async fn the_run_time_check_finds_nothing_to_report() {
        let Some(qemu) = system_emulator() else {
            return;
        };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let report = qmp.check_schema(&sysi::SCHEMA).await.expect("checked");
        assert!(report.mismatches().is_empty(), "{report}");
    }
}

#[cfg(storage_daemon_resolved)]
mod storage_daemon_resolved {
    use qapi_bindings_tests::qemu::storage_daemon;
    use qapi_bindings_tests::storage_daemon_resolved as sdr;
    use qapi_types::Qmp;

    #[tokio::test]
    async fn storage_daemon_with_its_schema_source() {
        let Some(qemu) = storage_daemon() else { return };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        // The source's names.
        let null = sdr::BlockdevOptionsNull::new().with_size(1 << 20);
        let options = sdr::BlockdevOptions::new(sdr::BlockdevOptionsBranch::NullCo(null))
            .with_node_name("null0");
        qmp.execute(&sdr::commands::BlockdevAdd(options))
            .await
            .expect("added");
        let nodes = qmp
            .execute(&sdr::commands::QueryNamedBlockNodes::new())
            .await
            .expect("nodes");
        let node: &sdr::BlockDeviceInfo = nodes
            .iter()
            .find(|n| n.node_name.as_deref() == Some("null0"))
            .expect("listed");
        assert_eq!(node.image.virtual_size, 1 << 20);
    }

    /// Bindings from a build's introspection resolved against the source match that build
    /// exactly: the run-time check finds nothing, not even a note.
    #[tokio::test]
    async fn the_run_time_check_finds_nothing_to_report() {
        let Some(qemu) = storage_daemon() else { return };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let report = qmp.check_schema(&sdr::SCHEMA).await.expect("checked");
        assert!(report.mismatches().is_empty(), "{report}");
    }

    /// The source's own bindings, against the same build, have notes on
    /// what the build left out.
    #[tokio::test]
    async fn the_sources_bindings_have_notes() {
        let Some(qemu) = storage_daemon() else { return };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let report = qmp
            .check_schema(&qapi_bindings_tests::storage_daemon::SCHEMA)
            .await
            .expect("checked");
        assert!(report.is_compatible(), "{report}");
        assert!(!report.mismatches().is_empty(), "{report}");
    }
}

#[cfg(system_resolved)]
mod system_diff {
    use qapi_gen::schema_diff::{compare, ChangeKind};
    use std::path::Path;

    /// `cargo qapi diff` of QEMU's schema source against the installed
    /// build's introspection: only what the wire shows is compared, so
    /// the changes are exactly what this build leaves out, every one a
    /// removal; the other way round, additions.
    #[test]
    fn source_against_the_build_shows_what_the_build_leaves_out() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/qemu-10.0.2/qapi/qapi-schema.json");
        let capture = Path::new(concat!(
            env!("OUT_DIR"),
            "/system_introspected.introspection.json"
        ));
        let (old, new) = qapi_gen::introspect::load_pair(&source, capture).expect("loads");
        let changes = compare(&old, &new);
        assert!(!changes.changes().is_empty());
        for change in changes.changes() {
            assert_eq!(change.kind, ChangeKind::Removed, "{change}");
        }
        let text = changes.render_text();
        assert!(
            text.contains("- union 'Netdev': branch 'af-xdp': removed"),
            "{text}"
        );
        let (old, new) = qapi_gen::introspect::load_pair(capture, &source).expect("loads");
        for change in compare(&old, &new).changes() {
            assert_eq!(change.kind, ChangeKind::Added, "{change}");
        }
    }
}

#[cfg(system_resolved)]
mod system_resolved {
    use qapi_bindings_tests::qemu::system_emulator;
    use qapi_bindings_tests::system_resolved as sysr;
    use qapi_types::Qmp;

    #[tokio::test]
    async fn system_emulator_with_its_schema_source() {
        let Some(qemu) = system_emulator() else {
            return;
        };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let target = qmp
            .execute(&sysr::commands::QueryTarget::new())
            .await
            .expect("target");
        assert_eq!(target.arch, sysr::SysEmuTarget::X86_64);
        // TARGET_I386 holds in this build: query-sev is there, unconditional.
        let sev = qmp
            .execute(&sysr::commands::QuerySev::new())
            .await
            .expect("SEV information");
        assert!(!sev.enabled);
    }

    /// Bindings from a build's introspection resolved against the source match that build
    /// exactly: the run-time check finds nothing, not even a note.
    #[tokio::test]
    async fn the_run_time_check_finds_nothing_to_report() {
        let Some(qemu) = system_emulator() else {
            return;
        };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let report = qmp.check_schema(&sysr::SCHEMA).await.expect("checked");
        assert!(report.mismatches().is_empty(), "{report}");
    }

    /// The source's own bindings, against the same build, have notes on
    /// what the build left out.
    #[tokio::test]
    async fn the_sources_bindings_have_notes() {
        let Some(qemu) = system_emulator() else {
            return;
        };
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let report = qmp
            .check_schema(&qapi_bindings_tests::system::SCHEMA)
            .await
            .expect("checked");
        assert!(report.is_compatible(), "{report}");
        assert!(!report.mismatches().is_empty(), "{report}");
    }

    /// What the build lacks is left out, and nothing is conditional any
    /// more; the source's bindings have both.
    #[test]
    fn conditions_are_resolved_by_the_build() {
        let resolved = include_str!(concat!(env!("OUT_DIR"), "/system_resolved.rs"));
        let source = include_str!(concat!(env!("OUT_DIR"), "/system.rs"));
        for arm_only in [
            "pub struct QueryGicCapabilities ",
            "pub struct GICCapability ",
        ] {
            assert!(source.contains(arm_only), "{arm_only}");
            assert!(!resolved.contains(arm_only), "{arm_only}");
        }
        assert!(source.contains("Only in QEMU builds where"));
        assert!(!resolved.contains("Only in QEMU builds where"));
        assert!(resolved.contains("pub struct QuerySev "));
    }
}
