//! Starts qemu-storage-daemon with a QMP monitor on a unix socket in a
//! temporary directory, negotiates, runs typed commands from the core
//! protocol bindings, creates an image with a job, prints the events it
//! sends, and stops the daemon.
//!
//! `cargo run -p qapi-types --example storage-daemon`

use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use qapi_types::qmp::commands::{QueryCommands, QueryVersion};
use qapi_types::serde_json::json;
use qapi_types::Qmp;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("qapi-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
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

async fn run(
    socket: &std::path::Path,
    dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if Instant::now() > deadline {
            return Err("qemu-storage-daemon did not open its monitor".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let qmp = Qmp::connect_unix(socket).await?;
    println!("greeting: {}", qmp.greeting().qmp.version);
    println!("out-of-band execution: {}", qmp.oob_enabled());

    let version = qmp.execute(&QueryVersion::new()).await?;
    let triple = &version.qemu;
    println!(
        "query-version: QEMU {}.{}.{} {}",
        triple.major, triple.minor, triple.micro, version.package
    );
    let commands = qmp.execute(&QueryCommands::new()).await?;
    println!("query-commands: {} commands", commands.len());

    let mut events = qmp.events();
    let image = dir.join("disk.img");
    qmp.execute_raw(
        "blockdev-create",
        json!({ "job-id": "create0", "options": { "driver": "file", "filename": image, "size": 1 << 20 } }),
    )
    .await?;
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next()).await??;
        println!(
            "event {} at {}: {}",
            event.event, event.timestamp, event.data
        );
        if event.data["status"] == "concluded" {
            break;
        }
    }
    qmp.execute_raw("job-dismiss", json!({ "id": "create0" }))
        .await?;
    if let Err(error) = qmp
        .execute_raw("blockdev-del", json!({ "node-name": "no-such-node" }))
        .await
    {
        println!("a typed error: {error}");
    }
    Ok(())
}
