//! A Mock of the project's example schema (bindings checked in: no QEMU
//! and no `../shared` needed) served by `QmpServer` and driven by the
//! typed client: typed handlers and scripted errors over the wire, a
//! command nobody answers, an event sent whenever the test says, and an
//! out-of-band command overtaking a slow async handler.

use std::time::Duration;

use qapi_bindings_tests::example::SCHEMA;
use qapi_bindings_tests::example::{commands, events};
use qapi_types::server::{Mock, QmpServer, ServerConfig};
use qapi_types::{Config, Empty, Qmp, QmpError, Transport};

/// `mock` served over an in-memory pipe, and a client connected to it.
async fn connect(mock: &Mock) -> (QmpServer, Qmp) {
    let server = QmpServer::new(mock.clone(), ServerConfig::default());
    let (client, served) = tokio::io::duplex(64 << 10);
    let serving = server.clone();
    tokio::spawn(async move { serving.serve(served).await });
    let qmp = Qmp::from_stream(Transport::other(client), &Config::default())
        .await
        .expect("connected");
    (server, qmp)
}

#[tokio::test]
async fn handlers_scripts_and_events_over_the_wire() {
    let mock = Mock::new(&SCHEMA);
    mock.on::<commands::VolumeDelete>(|arguments| match arguments.id.as_str() {
        "vol-1" => Ok(Empty {}),
        other => Err(QmpError::new(
            "DeviceNotFound",
            format!("no volume '{other}'"),
        )),
    })
    .fail_once::<commands::VolumeFlush>(QmpError::generic("busy"));
    let (server, qmp) = connect(&mock).await;

    qmp.execute(&commands::VolumeDelete::new("vol-1"))
        .await
        .expect("deleted");
    let error = qmp
        .execute(&commands::VolumeDelete::new("vol-2"))
        .await
        .expect_err("no such volume");
    assert_eq!(
        error.qmp_error(),
        Some(&QmpError::new("DeviceNotFound", "no volume 'vol-2'"))
    );
    // Scripted once, then answered as a command the server lacks.
    let flush = commands::VolumeFlush::new("vol-1");
    let error = qmp.execute(&flush).await.expect_err("busy");
    assert_eq!(error.qmp_error(), Some(&QmpError::generic("busy")));
    let error = qmp.execute(&flush).await.expect_err("not implemented");
    assert_eq!(
        error.qmp_error(),
        Some(&QmpError::command_not_found("volume-flush"))
    );

    // An event whenever the test says.
    let mut ready = qmp.subscribe::<events::ApplianceReady>();
    server
        .emit(&events::ApplianceReady::new())
        .expect("serializes");
    ready
        .wait(Duration::from_secs(10))
        .await
        .expect("the event");

    assert_eq!(
        mock.call_names(),
        [
            "volume-delete",
            "volume-delete",
            "volume-flush",
            "volume-flush"
        ]
    );
    let deleted: Vec<String> = mock
        .received::<commands::VolumeDelete>()
        .into_iter()
        .map(|arguments| arguments.id)
        .collect();
    assert_eq!(deleted, ["vol-1", "vol-2"]);
}

#[tokio::test]
async fn an_out_of_band_command_overtakes_a_slow_async_handler() {
    let mock = Mock::new(&SCHEMA);
    mock.on_async::<commands::QueryJobs, _, _>(|_| async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        Ok(Vec::new())
    })
    .on::<commands::JobCancel>(|_| Ok(Empty {}));
    let (_server, qmp) = connect(&mock).await;
    assert!(qmp.oob_enabled());

    let slow = tokio::spawn({
        let qmp = qmp.clone();
        async move {
            qmp.execute(&commands::QueryJobs::new())
                .await
                .expect("jobs");
            std::time::Instant::now()
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    qmp.execute_oob(&commands::JobCancel::new("job0"))
        .await
        .expect("cancelled");
    let cancelled = std::time::Instant::now();
    let listed = slow.await.expect("the slow call");
    assert!(cancelled < listed, "the out-of-band reply came first");
    assert_eq!(mock.call_names(), ["query-jobs", "job-cancel"]);
}
