//! The qemu-storage-daemon the benchmarks measure against.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts qemu-storage-daemon with a monitor listening on each of
/// `sockets` (a monitor serves one connection at a time), once they all
/// exist; `None` when it is not installed.
pub fn start(sockets: &[PathBuf]) -> Option<Child> {
    let mut command = Command::new("qemu-storage-daemon");
    for (i, socket) in sockets.iter().enumerate() {
        command
            .arg("--chardev")
            .arg(format!(
                "socket,id=mon{i},path={},server=on,wait=off",
                socket.display()
            ))
            .arg("--monitor")
            .arg(format!("chardev=mon{i}"));
    }
    let daemon = command.stdin(Stdio::null()).spawn().ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sockets.iter().all(|socket| socket.exists()) {
        assert!(Instant::now() < deadline, "the daemon opens its monitors");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(daemon)
}
