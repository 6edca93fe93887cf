//! The qemu-storage-daemon the benchmarks measure against.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A qemu-storage-daemon with monitors listening on unix sockets in a
/// directory of its own: killed, waited for and its directory removed
/// when dropped, a panic included.
pub struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Daemon {
    /// Starts the daemon with `monitors` monitors (a monitor serves one
    /// connection at a time) in a new directory named after `tag`, once
    /// their sockets exist. `None` when it is not installed, unless
    /// `QAPI_REQUIRE_QEMU` is set (as `.ci/run` sets it): then a panic.
    pub fn start(tag: &str, monitors: usize) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("qapi-bench-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut command = Command::new("qemu-storage-daemon");
        for i in 0..monitors {
            command
                .arg("--chardev")
                .arg(format!(
                    "socket,id=mon{i},path={},server=on,wait=off",
                    dir.join(format!("mon{i}.sock")).display()
                ))
                .arg("--monitor")
                .arg(format!("chardev=mon{i}"));
        }
        let child = match command.stdin(Stdio::null()).spawn() {
            Ok(child) => child,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&dir);
                let required = std::env::var_os("QAPI_REQUIRE_QEMU").is_some_and(|v| v != "0");
                assert!(!required, "qemu-storage-daemon does not start: {error}");
                return None;
            }
        };
        let daemon = Self { child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(0..monitors).all(|i| daemon.socket(&format!("mon{i}")).exists()) {
            assert!(Instant::now() < deadline, "the daemon opens its monitors");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(daemon)
    }

    /// The socket named `name` in the daemon's directory: `mon0`,
    /// `mon1`, ... are its monitors'.
    pub fn socket(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.sock"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
