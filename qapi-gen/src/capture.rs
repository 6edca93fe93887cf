//! Capturing a QEMU's introspection: `query-qmp-schema` over a QMP
//! monitor, on a socket given or of a QEMU started for the purpose.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use qapi_types::serde_json::{self, Value};
use qapi_types::BlockingQmp;

/// How long a QEMU may take to open its monitor and answer.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why the introspection could not be captured.
#[derive(Debug)]
pub struct CaptureError(String);

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaptureError {}

/// Runs `query-qmp-schema` on the QMP monitor at `socket` and returns the
/// reply as introspection JSON (see [`to_json`]).
pub fn from_socket(socket: &Path) -> Result<String, CaptureError> {
    let socket = socket.to_path_buf();
    let (tx, rx) = mpsc::channel();
    // The blocking client has no deadline of its own: a server that never
    // answers must not hang the caller.
    std::thread::spawn(move || {
        let _ = tx.send(query(&socket));
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(result) => result,
        Err(_) => Err(CaptureError(format!(
            "no answer to query-qmp-schema within {} s",
            TIMEOUT.as_secs()
        ))),
    }
}

fn query(socket: &Path) -> Result<String, CaptureError> {
    let qmp = BlockingQmp::connect_unix(socket)
        .map_err(|e| CaptureError(format!("can't talk QMP on '{}': {e}", socket.display())))?;
    let reply = qmp
        .execute_raw("query-qmp-schema", Value::Object(Default::default()))
        .map_err(|e| CaptureError(format!("query-qmp-schema failed: {e}")))?;
    to_json(&reply)
}

/// The `query-qmp-schema` reply as a file: a JSON array, one entity a
/// line, in the server's order (so that two captures diff well).
pub fn to_json(reply: &Value) -> Result<String, CaptureError> {
    let Value::Array(infos) = reply else {
        return Err(CaptureError(
            "query-qmp-schema did not return an array".into(),
        ));
    };
    let mut out = String::from("[\n");
    let json = |v: &Value| serde_json::to_string(v).map_err(|e| CaptureError(e.to_string()));
    for (i, info) in infos.iter().enumerate() {
        // `name` and `meta-type` first, for the reader.
        match info {
            Value::Object(map) => {
                let first = ["name", "meta-type"];
                let keys = first
                    .iter()
                    .copied()
                    .filter(|k| map.contains_key(*k))
                    .chain(
                        map.keys()
                            .map(String::as_str)
                            .filter(|k| !first.contains(k)),
                    );
                out.push('{');
                for (n, key) in keys.enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&json(&Value::String(key.to_string()))?);
                    out.push(':');
                    out.push_str(&json(&map[key])?);
                }
                out.push('}');
            }
            other => out.push_str(&json(other)?),
        }
        out.push_str(if i + 1 < infos.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    Ok(out)
}

/// Starts `binary` with `args` and a QMP monitor of its own on a unix
/// socket in a temporary directory, captures its introspection, and
/// stops it. qemu-storage-daemon gets its monitor with `--chardev` and
/// `--monitor`, every other binary with `-qmp`.
pub fn from_qemu(binary: &OsStr, args: &[OsString]) -> Result<String, CaptureError> {
    let dir = TempDir::new()?;
    let socket = dir.0.join("qmp.sock");
    let log = dir.0.join("stderr");
    let is_storage_daemon = Path::new(binary)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("storage-daemon"));
    let mut command = Command::new(binary);
    command.args(args);
    if is_storage_daemon {
        command
            .arg("--chardev")
            .arg(chardev(&socket))
            .args(["--monitor", "chardev=cargo-qapi"]);
    } else {
        let mut spec = OsString::from("unix:");
        spec.push(socket.as_os_str());
        spec.push(",server=on,wait=off");
        command.arg("-qmp").arg(spec);
    }
    let stderr = std::fs::File::create(&log)
        .map_err(|e| CaptureError(format!("can't create '{}': {e}", log.display())))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| CaptureError(format!("can't start '{}': {e}", binary.to_string_lossy())))?;
    let mut qemu = Running(child);
    let result = wait_for_socket(&mut qemu.0, &socket).and_then(|()| from_socket(&socket));
    qemu.stop();
    result.map_err(|CaptureError(message)| {
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        match output.trim() {
            "" => CaptureError(message),
            output => CaptureError(format!(
                "{message}\n{} said:\n{output}",
                binary.to_string_lossy()
            )),
        }
    })
}

fn chardev(socket: &Path) -> OsString {
    let mut spec = OsString::from("socket,id=cargo-qapi,path=");
    spec.push(socket.as_os_str());
    spec.push(",server=on,wait=off");
    spec
}

fn wait_for_socket(child: &mut Child, socket: &Path) -> Result<(), CaptureError> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if socket.exists() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(CaptureError(format!(
                "QEMU exited ({status}) before opening its monitor"
            )));
        }
        if Instant::now() > deadline {
            return Err(CaptureError(format!(
                "QEMU did not open its monitor within {} s",
                TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A started QEMU, killed when dropped.
struct Running(Child);

impl Running {
    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    /// A new directory only this user can enter: one that exists already
    /// (perhaps made by someone else to plant a socket) is never reused.
    fn new() -> Result<Self, CaptureError> {
        use std::os::unix::fs::DirBuilderExt;
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("cargo-qapi-{}-{n}", std::process::id()));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(Self(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => {}
                Err(e) => {
                    return Err(CaptureError(format!(
                        "can't create '{}': {e}",
                        dir.display()
                    )))
                }
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_are_one_entity_a_line_name_first() {
        let reply = serde_json::json!([
            {"arg-type": "0", "meta-type": "event", "name": "STOP"},
            {"json-type": "string", "meta-type": "builtin", "name": "str"}
        ]);
        assert_eq!(
            to_json(&reply).unwrap(),
            "[\n{\"name\":\"STOP\",\"meta-type\":\"event\",\"arg-type\":\"0\"},\n\
             {\"name\":\"str\",\"meta-type\":\"builtin\",\"json-type\":\"string\"}\n]\n"
        );
        let back: Value = serde_json::from_str(&to_json(&reply).unwrap()).unwrap();
        assert_eq!(back, reply);
        assert!(to_json(&serde_json::json!({})).is_err());
    }

    #[test]
    fn a_missing_socket_or_binary_is_an_error() {
        let error = from_socket(Path::new("/nonexistent/qmp.sock")).unwrap_err();
        assert!(error.to_string().contains("can't talk QMP"), "{error}");
        let error = from_qemu(OsStr::new("/nonexistent/qemu"), &[]).unwrap_err();
        assert!(error.to_string().contains("can't start"), "{error}");
    }
}
