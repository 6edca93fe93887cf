// The example itself, built where qemu-system-x86_64 is installed (see
// `main.rs`).

use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use qapi_types::{Config, Qmp};
use tokio::net::UnixListener;

/// Everything qemu-system-x86_64 exposes, named from its introspection.
// A binary uses a few of the bindings; the rest are not dead code to fix.
#[allow(dead_code)]
mod system {
    include!(concat!(env!("OUT_DIR"), "/system.rs"));
}

use system::commands::{
    AddFd, BlockdevAdd, BlockdevCreate, BlockdevDel, JobDismiss, QueryNamedBlockNodes, RemoveFd,
};
use system::events::JobStatusChange;
use system::{
    BlockdevAddArguments, BlockdevAddArgumentsBlkdebugImage, BlockdevAddArgumentsBranch,
    BlockdevAddArgumentsFile, BlockdevAddArgumentsQcow2, BlockdevCreateOptions,
    BlockdevCreateOptionsBranch, BlockdevCreateOptionsQcow2, JobStatusChangeStatus,
};

/// The disk's size.
const DISK_SIZE: i64 = 64 << 20;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A new directory only this user can enter, for the socket and disk.
    let dir = std::env::temp_dir().join(format!("qapi-orchestrator-{}", std::process::id()));
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let socket = dir.join("qmp.sock");
    // Listen first; QEMU connects as it starts.
    let listener = UnixListener::bind(&socket)?;
    let mut qemu = Process::new("qemu-system-x86_64")
        .args(["-M", "none", "-nodefaults", "-display", "none"])
        .arg("-chardev")
        .arg(format!("socket,id=mon,path={},server=off", socket.display()))
        .args(["-mon", "chardev=mon,mode=control"])
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
    let result = orchestrate(&listener, &dir).await;
    let _ = qemu.kill();
    let _ = qemu.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn orchestrate(listener: &UnixListener, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    // One configuration, for every client and every way to connect.
    let config = Config::builder()
        .connect_timeout(Duration::from_secs(10))
        .call_timeout(Some(Duration::from_secs(30)))
        .build();
    let qmp = Qmp::accept_unix(listener, &config).await?;
    if let Some(version) = qmp.greeting().version() {
        let triple = &version.qemu;
        println!("QEMU {}.{}.{} connected", triple.major, triple.minor, triple.micro);
    }

    // The disk: a file QEMU could not open itself, passed as a descriptor.
    let disk = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join("disk.img"))?;
    disk.set_len(DISK_SIZE as u64)?;
    let added = qmp
        .execute_with_fds(&AddFd::new().with_opaque("disk0"), &[disk.as_fd()])
        .await?;
    // QEMU has its own copy: ours may go.
    drop(disk);
    let fdset = format!("/dev/fdset/{}", added.fdset_id);
    println!("add-fd: descriptor {} in set {}", added.fd, added.fdset_id);
    let file = BlockdevAddArgumentsBranch::File(BlockdevAddArgumentsFile::new(&fdset));
    qmp.execute(&BlockdevAdd(
        BlockdevAddArguments::new(file).with_node_name("disk0-file"),
    ))
    .await?;

    // Format it with a job; subscribe before starting the job, then wait
    // for its end within a time limit.
    let mut concluded = qmp.subscribe::<JobStatusChange>().filter(|change| {
        change.id == "format0" && change.status == JobStatusChangeStatus::Concluded
    });
    let qcow2 = BlockdevCreateOptionsQcow2::new(
        BlockdevAddArgumentsBlkdebugImage::String("disk0-file".into()),
        DISK_SIZE,
    );
    qmp.execute(&BlockdevCreate::new(
        "format0",
        BlockdevCreateOptions::new(BlockdevCreateOptionsBranch::Qcow2(qcow2)),
    ))
    .await?;
    let event = concluded.wait(Duration::from_secs(30)).await?;
    println!("job {} concluded at {}", event.event.id, event.timestamp);
    qmp.execute(&JobDismiss::new("format0")).await?;

    // Open the formatted disk, and list the nodes.
    let format = BlockdevAddArgumentsBranch::Qcow2(BlockdevAddArgumentsQcow2::new(
        BlockdevAddArgumentsBlkdebugImage::String("disk0-file".into()),
    ));
    qmp.execute(&BlockdevAdd(
        BlockdevAddArguments::new(format).with_node_name("disk0"),
    ))
    .await?;
    for node in qmp.execute(&QueryNamedBlockNodes::new()).await? {
        println!(
            "node {}: {} on {}, {} bytes",
            node.node_name.as_deref().unwrap_or("(unnamed)"),
            node.drv,
            node.file,
            node.image.virtual_size
        );
    }

    // Shut down in order.
    qmp.execute(&BlockdevDel::new("disk0")).await?;
    qmp.execute(&BlockdevDel::new("disk0-file")).await?;
    qmp.execute(&RemoveFd::new(added.fdset_id)).await?;
    qmp.close().await;
    println!("done");
    Ok(())
}
