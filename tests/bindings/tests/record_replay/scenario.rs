//! One test of code that drives a storage daemon, run against the real
//! qemu-storage-daemon and against a replay of that run.

use std::time::Duration;

use qapi_bindings_tests::storage_daemon as sd;
use qapi_types::serde_json::{self, json};
use qapi_types::{Error, Qmp};

/// Adds a null-co node, finds it, fails to add it twice, creates an
/// image with a job (following its events to the end), deletes the node
/// and fails to delete it again.
pub async fn block_nodes(qmp: &Qmp) {
    let options: sd::BlockdevOptions =
        serde_json::from_value(json!({"driver": "null-co", "node-name": "null0", "size": 1 << 20}))
            .expect("typed options");
    qmp.execute(&sd::commands::BlockdevAdd(options.clone()))
        .await
        .expect("added");
    let mut flat = sd::commands::QueryNamedBlockNodes::new();
    flat.flat = Some(true);
    let nodes = qmp.execute(&flat).await.expect("the nodes");
    let node = nodes
        .iter()
        .find(|node| node.node_name.as_deref() == Some("null0"))
        .expect("the new node is there");
    assert_eq!(node.drv, "null-co");

    let error = qmp
        .execute(&sd::commands::BlockdevAdd(options))
        .await
        .expect_err("a node name is unique");
    let Error::Command { error, .. } = &error else {
        panic!("{error}")
    };
    assert_eq!(error.class, "GenericError");
    assert!(error.desc.contains("null0"), "{}", error.desc);

    // A job: the daemon's working directory holds the image.
    let mut events = qmp.events();
    let image: sd::BlockdevCreateOptions =
        serde_json::from_value(json!({"driver": "file", "filename": "disk.img", "size": 1 << 20}))
            .expect("typed options");
    qmp.execute(&sd::commands::BlockdevCreate::new("create0", image))
        .await
        .expect("the job starts");
    let mut statuses = Vec::new();
    while !statuses.contains(&sd::JobStatus::Concluded) {
        let event = tokio::time::timeout(
            Duration::from_secs(20),
            events.next_typed::<sd::events::Event>(),
        )
        .await
        .expect("the job goes on")
        .expect("subscribed")
        .expect("decodes");
        if let sd::events::Event::JobStatusChange(change) = event.event {
            assert_eq!(change.id, "create0");
            statuses.push(change.status);
        }
    }
    assert!(statuses.contains(&sd::JobStatus::Running), "{statuses:?}");
    qmp.execute(&sd::commands::JobDismiss::new("create0"))
        .await
        .expect("dismissed");

    qmp.execute(&sd::commands::BlockdevDel::new("null0"))
        .await
        .expect("deleted");
    let nodes = qmp.execute(&flat).await.expect("the nodes");
    assert!(nodes
        .iter()
        .all(|node| node.node_name.as_deref() != Some("null0")));
    let error = qmp
        .execute(&sd::commands::BlockdevDel::new("null0"))
        .await
        .expect_err("gone");
    assert_eq!(
        error.qmp_error().map(|e| e.class.as_str()),
        Some("GenericError")
    );
}
