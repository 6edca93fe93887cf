// The example itself, built where qemu-storage-daemon is installed (see
// `main.rs`).

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use qapi_types::qmp::commands::QueryVersion;
use qapi_types::{Config, Error, EventSet, Qmp};

/// Everything qemu-storage-daemon exposes, named from its introspection.
// A binary uses a few of the bindings; the rest are not dead code to fix.
#[allow(dead_code)]
mod qsd {
    include!(concat!(env!("OUT_DIR"), "/qsd.rs"));
}

use qsd::commands::{BlockdevAdd, BlockdevCreate, BlockdevDel, JobDismiss, QueryNamedBlockNodes};
use qsd::events::Event;
use qsd::{
    BlockdevAddArguments, BlockdevAddArgumentsBranch, BlockdevAddArgumentsFile,
    BlockdevCreateOptions, BlockdevCreateOptionsBranch, BlockdevCreateOptionsFile,
    JobStatusChangeStatus,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A new directory only this user can enter, for the daemon's socket.
    let dir = std::env::temp_dir().join(format!("qapi-example-{}", std::process::id()));
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let socket = dir.join("qmp.sock");
    let mut daemon = Process::new("qemu-storage-daemon")
        .arg("--chardev")
        .arg(format!(
            "socket,id=mon,path={},server=on,wait=off",
            socket.display()
        ))
        .args(["--monitor", "chardev=mon"])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start qemu-storage-daemon: {e}"))?;
    let result = run(&socket, &dir).await;
    let _ = daemon.kill();
    let _ = daemon.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(socket: &Path, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if Instant::now() > deadline {
            return Err("qemu-storage-daemon did not open its monitor".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let qmp = Qmp::connect_unix(socket, &Config::default()).await?;
    println!("greeting: {}", qmp.greeting().raw_version());
    println!("out-of-band execution: {}", qmp.oob_enabled());

    // Both sets of bindings, checked against what the daemon exposes.
    for (name, bindings) in [
        ("the core protocol bindings", &qapi_types::qmp::SCHEMA),
        ("the daemon's bindings", &qsd::SCHEMA),
    ] {
        let report = qmp.check_schema(bindings).await?;
        println!(
            "{name}: {}",
            if report.is_compatible() {
                "compatible with this daemon"
            } else {
                "NOT compatible with this daemon"
            }
        );
        if !report.is_compatible() {
            return Err(report.to_string().into());
        }
    }

    // The project's core protocol bindings.
    let version = qmp.execute(&QueryVersion::new()).await?;
    let triple = &version.qemu;
    println!(
        "query-version: QEMU {}.{}.{} {}",
        triple.major, triple.minor, triple.micro, version.package
    );

    // The daemon's own bindings: create an image with a job.
    let mut events = qmp.events();
    let image = dir.join("disk.img");
    let image = image.to_str().ok_or("temporary path is not UTF-8")?;
    let options = BlockdevCreateOptions::new(BlockdevCreateOptionsBranch::File(
        BlockdevCreateOptionsFile::new(image, 1 << 20),
    ));
    qmp.execute(&BlockdevCreate::new("create0", options))
        .await?;
    loop {
        let raw = tokio::time::timeout(Duration::from_secs(10), events.next()).await??;
        println!("event {} at {}", raw.event, raw.timestamp);
        if let Ok(Event::JobStatusChange(change)) = Event::decode(&raw) {
            println!("  job {} is {:?}", change.id, change.status);
            if change.status == JobStatusChangeStatus::Concluded {
                break;
            }
        }
    }
    qmp.execute(&JobDismiss::new("create0")).await?;

    // Open the image as a block node, list the nodes, close it.
    let file = BlockdevAddArgumentsFile::new(image);
    let node =
        BlockdevAddArguments::new(BlockdevAddArgumentsBranch::File(file)).with_node_name("disk0");
    qmp.execute(&BlockdevAdd(node)).await?;
    for node in qmp.execute(&QueryNamedBlockNodes::new()).await? {
        println!(
            "node {}: {} bytes, driver {}",
            node.node_name.as_deref().unwrap_or("(unnamed)"),
            node.image.virtual_size,
            node.drv
        );
    }
    qmp.execute(&BlockdevDel::new("disk0")).await?;

    // A failed command is a typed error.
    match qmp.execute(&BlockdevDel::new("no-such-node")).await {
        Err(Error::Command { command, error }) => {
            println!(
                "{command} failed as expected: {} ({})",
                error.desc, error.class
            )
        }
        other => return Err(format!("expected an error, got {other:?}").into()),
    }
    Ok(())
}
