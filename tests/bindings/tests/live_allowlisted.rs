//! Bindings for the twelve commands an orchestrator calls and their
//! events (`Builder::only`, see `build.rs`), from QEMU 10.0.2's system
//! schema and from the installed qemu-system-x86_64's introspection:
//! compiled with warnings denied (by the crate), run against real QEMU,
//! and checked against it at run time.

/// The allowlist's commands (its lower-case names), as `build.rs` reads
/// them.
#[cfg(any(system_allowlisted, system_introspected_allowlisted))]
fn commands() -> Vec<&'static str> {
    include_str!("../orchestrator.allowlist")
        .lines()
        .filter(|name| name.starts_with(|c: char| c.is_ascii_lowercase()))
        .collect()
}

/// The run-time check finds nothing the allowlist does not use: nothing
/// at all for bindings of that build's introspection, for the schema
/// source's only notes on the allowlist's own commands (values the build
/// leaves out), and the table holds exactly the allowlist's commands.
#[cfg(any(system_allowlisted, system_introspected_allowlisted))]
async fn check_against_qemu(schema: &qapi_types::schema::BindingSchema, exact: bool) {
    let qemu = qapi_bindings_tests::qemu::system_emulator();
    let qmp = qapi_types::Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
        .await
        .expect("connected");
    let report = qmp.check_schema(schema).await.expect("checked");
    assert_eq!(report.incompatibilities().count(), 0, "{report}");
    if exact {
        assert!(report.mismatches().is_empty(), "{report}");
    }
    for note in report.notes() {
        let note = note.to_string();
        assert!(
            commands()
                .iter()
                .any(|c| note.starts_with(&format!("command '{c}' "))),
            "a note beyond the allowlist: {note}"
        );
    }
    let mut names: Vec<&str> = schema.commands.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let mut expected = commands();
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert!(schema.commands.len() < 20 && schema.events.len() < 20);
}

/// Runs the allowlisted commands against QEMU `-M none`: each either
/// works or comes back as QEMU's typed error for what `-M none` lacks.
#[cfg(any(system_allowlisted, system_introspected_allowlisted))]
macro_rules! run_the_commands {
    ($bindings:path) => {{
        use qapi_types::Qmp;
        use $bindings as b;
        let qemu = qapi_bindings_tests::qemu::system_emulator();
        let qmp = Qmp::connect_unix(&qemu.socket, &qapi_types::Config::default())
            .await
            .expect("connected");
        let mut events = qmp.events();
        qmp.execute(&b::commands::Stop::new())
            .await
            .expect("stopped");
        let status = qmp
            .execute(&b::commands::QueryStatus::new())
            .await
            .expect("status");
        assert!(!status.running, "{status:?}");
        qmp.execute(&b::commands::Cont::new())
            .await
            .expect("resumed");
        let mut seen = Vec::new();
        while seen.len() < 2 {
            let raw = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
                .await
                .expect("events in time")
                .expect("an event");
            use qapi_types::EventSet;
            seen.push(b::events::Event::decode(&raw).expect("decodes"));
        }
        assert!(matches!(seen[0], b::events::Event::Stop(_)), "{seen:?}");
        assert!(matches!(seen[1], b::events::Event::Resume(_)), "{seen:?}");

        let node = b::BlockdevOptions::new(b::BlockdevOptionsBranch::NullCo(
            b::BlockdevOptionsNull::new(),
        ))
        .with_node_name("null0");
        qmp.execute(&b::commands::BlockdevAdd(node))
            .await
            .expect("a null-co node is added");
        let nodes = qmp
            .execute(&b::commands::QueryNamedBlockNodes::new())
            .await
            .expect("nodes");
        assert!(
            nodes
                .iter()
                .any(|n| n.node_name.as_deref() == Some("null0")),
            "{nodes:?}"
        );
        let jobs = qmp
            .execute(&b::commands::QueryBlockJobs::new())
            .await
            .expect("jobs");
        assert!(jobs.is_empty(), "{jobs:?}");
        let no_job = qmp
            .execute(&b::commands::BlockJobCancel::new("nothing"))
            .await
            .expect_err("no such job");
        assert!(no_job.to_string().contains("nothing"), "{no_job}");
        qmp.execute(&b::commands::BlockdevDel::new("null0"))
            .await
            .expect("removed");

        let no_device = qmp
            .execute(&b::commands::DeviceDel::new("nothing"))
            .await
            .expect_err("no such device");
        assert!(no_device.to_string().contains("nothing"), "{no_device}");
        let no_bus = qmp
            .execute(&b::commands::DeviceAdd::new("virtio-blk-pci").with_id("disk0"))
            .await
            .expect_err("-M none has no PCI bus");
        assert!(!no_bus.to_string().is_empty());

        let migration = qmp
            .execute(&b::commands::QueryMigrate::new())
            .await
            .expect("migration status");
        assert!(migration.status.is_none(), "{migration:?}");
        // Migrating needs somewhere to go: a URI QEMU rejects comes back
        // as its error, through the typed arguments.
        let bad_uri = qmp
            .execute(&b::commands::Migrate::new().with_uri("nowhere:1"))
            .await
            .expect_err("an unknown migration protocol");
        assert!(!bad_uri.to_string().is_empty());
    }};
}

#[cfg(not(system_allowlisted))]
#[test]
#[ignore = "QEMU 10.0.2's schemas (../shared) were absent at build time"]
fn skipped_without_system_allowlisted() {}

#[cfg(system_allowlisted)]
mod from_the_schema_source {
    #[tokio::test]
    async fn the_commands_run_against_qemu() {
        run_the_commands!(qapi_bindings_tests::system_allowlisted);
    }

    #[tokio::test]
    async fn the_run_time_check_covers_only_the_allowlist() {
        super::check_against_qemu(&qapi_bindings_tests::system_allowlisted::SCHEMA, false).await;
    }
}

#[cfg(not(system_introspected_allowlisted))]
#[test]
#[ignore = "qemu-system-x86_64 was not installed at build time"]
fn skipped_without_system_introspected_allowlisted() {}

#[cfg(system_introspected_allowlisted)]
mod from_the_introspection {
    #[tokio::test]
    async fn the_commands_run_against_qemu() {
        run_the_commands!(qapi_bindings_tests::system_introspected_allowlisted);
    }

    #[tokio::test]
    async fn the_run_time_check_covers_only_the_allowlist() {
        super::check_against_qemu(
            &qapi_bindings_tests::system_introspected_allowlisted::SCHEMA,
            true,
        )
        .await;
    }
}
