//! Real QEMU processes for the live tests, started on unix sockets in
//! temporary directories and killed (the directories removed) on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

/// A QEMU process and its temporary directory, both gone on drop.
pub struct Qemu {
    child: Child,
    /// The temporary directory.
    pub dir: PathBuf,
    /// The monitor's socket.
    pub socket: PathBuf,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("qapi-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Starts `binary` with `args` (where `SOCKET`, `STATEDIR` and `PIDFILE`
/// stand for paths in a temporary directory) and waits for the socket.
/// Panics where QEMU is not installed: a test that starts it is marked
/// `#[cfg_attr(no_qemu, ignore = "...")]` (the build script sets
/// `no_qemu` where QEMU is absent), so it is reported as ignored there.
pub fn start(binary: &str, args: &[&str]) -> Qemu {
    let dir = temp_dir(binary);
    let socket = dir.join("qmp.sock");
    let socket_str = socket.to_str().expect("utf-8 path");
    let dir_str = dir.to_str().expect("utf-8 path");
    let args: Vec<String> = args
        .iter()
        .map(|a| match *a {
            "STATEDIR" => dir_str.to_string(),
            "PIDFILE" => format!("{dir_str}/pid"),
            other => other.replace("SOCKET", socket_str),
        })
        .collect();
    let child = Process::new(binary)
        .args(&args)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("QEMU starts");
    let qemu = Qemu { child, dir, socket };
    let deadline = Instant::now() + Duration::from_secs(20);
    // The file appears when QEMU binds the socket, a moment before it
    // listens: a connection taken (and dropped) says it listens. QEMU
    // then serves the next one.
    while std::os::unix::net::UnixStream::connect(&qemu.socket).is_err() {
        assert!(
            Instant::now() < deadline,
            "{binary} did not listen on its socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    qemu
}

/// qemu-storage-daemon with a QMP monitor.
pub fn storage_daemon() -> Qemu {
    start(
        "qemu-storage-daemon",
        &[
            "--chardev",
            "socket,id=mon,path=SOCKET,server=on,wait=off",
            "--monitor",
            "chardev=mon",
        ],
    )
}

/// qemu-storage-daemon with a QMP monitor that pretty-prints: each
/// message over many lines.
pub fn storage_daemon_pretty() -> Qemu {
    start(
        "qemu-storage-daemon",
        &[
            "--chardev",
            "socket,id=mon,path=SOCKET,server=on,wait=off",
            "--monitor",
            "chardev=mon,pretty=on",
        ],
    )
}

/// qemu-storage-daemon with a QMP monitor on a TCP port of 127.0.0.1
/// (returned; free a moment before) besides the one on its unix socket.
pub fn storage_daemon_tcp() -> (Qemu, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let tcp = format!("socket,id=tcp,host=127.0.0.1,port={port},server=on,wait=off");
    let qemu = start(
        "qemu-storage-daemon",
        &[
            "--chardev",
            &tcp,
            "--monitor",
            "chardev=tcp",
            "--chardev",
            "socket,id=mon,path=SOCKET,server=on,wait=off",
            "--monitor",
            "chardev=mon",
        ],
    );
    (qemu, port)
}

/// qemu-system-x86_64 -M none with a QMP monitor.
pub fn system_emulator() -> Qemu {
    start(
        "qemu-system-x86_64",
        &[
            "-M",
            "none",
            "-nodefaults",
            "-display",
            "none",
            "-chardev",
            "socket,id=mon,path=SOCKET,server=on,wait=off",
            "-mon",
            "chardev=mon,mode=control",
        ],
    )
}

/// The path of `name` in `dir`, as a string.
pub fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().expect("utf-8").to_string()
}

/// qemu-ga run on the host, listening on a unix socket, its state and
/// pid files in the temporary directory.
pub fn guest_agent() -> Qemu {
    start(
        "qemu-ga",
        &[
            "-m",
            "unix-listen",
            "-p",
            "SOCKET",
            "-t",
            "STATEDIR",
            "-f",
            "PIDFILE",
        ],
    )
}
