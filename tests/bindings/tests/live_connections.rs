//! The async client against real qemu-system-x86_64 10.0.2 (`-M none`,
//! started here in temporary directories): descriptors passed with
//! `add-fd` and `getfd` while other calls are in flight, QEMU connecting
//! to an accepting client (`server=off`), and QEMU given one end of a
//! socketpair (`-chardev socket,fd=N`). QEMU must be installed: these
//! fail, not pass, without it.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;

use qapi_types::serde_json::{json, Value};
use qapi_types::{qmp, Config, Qmp};

/// A qemu-system-x86_64 and its temporary directory, gone on drop.
struct Qemu {
    child: Child,
    dir: PathBuf,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new temporary directory for one test.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qapi-live-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `qemu-system-x86_64 -M none` with a monitor on chardev `chardev`,
/// with `prepare` applied to its command (descriptors to inherit).
fn system_emulator(dir: PathBuf, chardev: &str, prepare: impl FnOnce(&mut Process)) -> Qemu {
    let mut process = Process::new("qemu-system-x86_64");
    process
        .args(["-M", "none", "-nodefaults", "-display", "none"])
        .args(["-chardev", chardev, "-mon", "chardev=mon,mode=control"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    prepare(&mut process);
    let child = process
        .spawn()
        .expect("qemu-system-x86_64 is installed (scripts/install-qemu)");
    Qemu { child, dir }
}

fn config() -> Config {
    Config::builder()
        .connect_timeout(Duration::from_secs(20))
        .call_timeout(Some(Duration::from_secs(20)))
        .build()
}

/// A 1 MiB image file, opened for reading and writing.
fn image(dir: &Path) -> std::fs::File {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join("disk.img"))
        .expect("an image");
    file.set_len(1 << 20).expect("sized");
    file
}

/// `count` calls in flight on `qmp` while the caller does its own.
fn background_calls(qmp: &Qmp, count: usize) -> Vec<tokio::task::JoinHandle<()>> {
    (0..count)
        .map(|i| {
            let qmp = qmp.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    qmp.execute(&qmp::commands::QueryVersion::new())
                        .await
                        .expect("a version");
                } else {
                    qmp.execute_raw("query-status", json!({}))
                        .await
                        .expect("a status");
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn descriptors_reach_qemu_while_other_calls_are_in_flight() {
    let dir = temp_dir("fds");
    let socket = dir.join("qmp.sock");
    let chardev = format!("socket,id=mon,path={},server=on,wait=off", socket.display());
    let qemu = system_emulator(dir, &chardev, |_| {});
    let qmp = Qmp::connect_unix_retry(&socket, &config())
        .await
        .expect("connected once QEMU listens");
    assert!(qmp.passes_fds());
    let file = image(&qemu.dir);

    // add-fd, then a block node on the descriptor set.
    let load = background_calls(&qmp, 40);
    let added = qmp
        .execute_raw_with_fds("add-fd", json!({ "opaque": "disk" }), &[file.as_fd()])
        .await
        .expect("add-fd");
    let fdset = added["fdset-id"].as_i64().expect("an fdset id");
    let load2 = background_calls(&qmp, 40);
    let filename = format!("/dev/fdset/{fdset}");
    qmp.execute_raw(
        "blockdev-add",
        json!({ "driver": "file", "node-name": "fdnode", "filename": filename }),
    )
    .await
    .expect("blockdev-add on the passed descriptor");
    let nodes = qmp
        .execute_raw("query-named-block-nodes", json!({}))
        .await
        .expect("the nodes");
    let node = nodes
        .as_array()
        .expect("a list")
        .iter()
        .find(|node| node["node-name"] == "fdnode")
        .unwrap_or_else(|| panic!("fdnode among {nodes}"));
    assert_eq!(node["file"], json!(filename));
    assert_eq!(node["image"]["virtual-size"], json!(1 << 20));
    qmp.execute_raw("blockdev-del", json!({ "node-name": "fdnode" }))
        .await
        .expect("blockdev-del");
    let fdsets = qmp
        .execute_raw("query-fdsets", json!({}))
        .await
        .expect("the fdsets");
    assert!(
        fdsets
            .as_array()
            .expect("a list")
            .iter()
            .any(|set| set["fdset-id"] == json!(fdset) && set["fds"][0]["opaque"] == "disk"),
        "{fdsets}"
    );
    qmp.execute_raw("remove-fd", json!({ "fdset-id": fdset }))
        .await
        .expect("remove-fd");

    // getfd/closefd: QEMU holds the descriptor by name until closed.
    let load3 = background_calls(&qmp, 40);
    qmp.execute_raw_with_fds("getfd", json!({ "fdname": "passed" }), &[file.as_fd()])
        .await
        .expect("getfd");
    qmp.execute_raw("closefd", json!({ "fdname": "passed" }))
        .await
        .expect("closefd of the passed descriptor");
    let error = qmp
        .execute_raw("closefd", json!({ "fdname": "passed" }))
        .await
        .expect_err("closed already");
    assert!(error.is_qmp(), "{error}");
    // getfd without a descriptor is refused by QEMU.
    let error = qmp
        .execute_raw("getfd", json!({ "fdname": "none" }))
        .await
        .expect_err("no descriptor");
    assert!(error.is_qmp(), "{error}");
    for call in load.into_iter().chain(load2).chain(load3) {
        call.await.expect("a background call");
    }
    qmp.close().await;
    drop(qemu);
}

#[tokio::test]
async fn qemu_connects_to_an_accepting_client() {
    let dir = temp_dir("accept");
    let socket = dir.join("qmp.sock");
    let listener = tokio::net::UnixListener::bind(&socket).expect("listening");
    let chardev = format!("socket,id=mon,path={},server=off", socket.display());
    let qemu = system_emulator(dir, &chardev, |_| {});
    let qmp = Qmp::accept_unix(&listener, &config())
        .await
        .expect("QEMU connected");
    let version = qmp.greeting().version().expect("a typed version");
    assert_eq!(version.qemu.major, 10);
    assert!(qmp.oob_enabled());
    let status = qmp
        .execute_raw("query-status", json!({}))
        .await
        .expect("a status");
    assert_eq!(status["status"], "running", "{status}");
    qmp.close().await;
    drop(qemu);
}

#[tokio::test]
async fn qemu_given_one_end_of_a_socketpair() {
    let dir = temp_dir("socketpair");
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    let theirs = OwnedFd::from(theirs);
    let number = theirs.as_raw_fd();
    let chardev = format!("socket,id=mon,fd={number}");
    let qemu = system_emulator(dir, &chardev, |process| {
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec only the async-signal-safe
        // `fcntl` runs, on a descriptor the parent keeps open until the
        // child is spawned.
        unsafe {
            process.pre_exec(move || {
                let fd = std::os::fd::BorrowedFd::borrow_raw(number);
                rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?;
                Ok(())
            });
        }
    });
    // QEMU has its own copy now.
    drop(theirs);
    let qmp = Qmp::from_fd(OwnedFd::from(ours), &config())
        .await
        .expect("negotiated over the socketpair");
    assert!(qmp.passes_fds());
    let version = qmp
        .execute(&qmp::commands::QueryVersion::new())
        .await
        .expect("a version");
    assert_eq!(
        Some(&version),
        qmp.greeting().version(),
        "the greeting's version is query-version's"
    );
    let raw: &Value = qmp.greeting().raw_version();
    assert_eq!(raw["qemu"]["major"], 10);
    qmp.close().await;
    drop(qemu);
}
