//! Capturing a QEMU's introspection: `query-qmp-schema` over a QMP
//! monitor, on a socket given or of a QEMU started for the purpose.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qapi_types::serde_json::{self, Value};
use qapi_types::{BlockingQmp, Error};

/// How long a QEMU may take to open its monitor, to greet, to negotiate
/// and to answer.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How long a QEMU asked to `quit` may take to exit before it is killed.
const QUIT: Duration = Duration::from_secs(2);

/// How much of a QEMU's standard output, and of its standard error, is
/// kept for an error message: the end.
const OUTPUT_TAIL: usize = 8 << 10;

/// The longest path of a unix socket (`sun_path` holds 108 bytes, the
/// last a NUL).
const SOCKET_PATH_MAX: usize = 107;

/// Why the introspection could not be captured.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CaptureError(String);

/// Runs `query-qmp-schema` on the QMP monitor at `socket` and returns the
/// reply as introspection JSON (see [`to_json`]). Each step (the
/// greeting, the negotiation, the query) must be done within 30 s.
pub fn from_socket(socket: &Path) -> Result<String, CaptureError> {
    from_socket_within(socket, TIMEOUT)
}

/// [`from_socket`] with another time limit for each step.
pub fn from_socket_within(socket: &Path, timeout: Duration) -> Result<String, CaptureError> {
    let qmp = connect(socket, timeout, false).map_err(|failure| CaptureError(failure.message))?;
    query(&qmp, timeout).map_err(|failure| CaptureError(failure.message))
}

/// What went wrong, and when.
struct Failure {
    stage: Stage,
    message: String,
    /// Whether the connection can still be used (to send `quit`).
    usable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Before the monitor's socket exists.
    Starting,
    Connecting,
    Querying,
}

/// A client configuration that connects, and reads the greeting, each
/// within `timeout`.
fn limited(timeout: Duration) -> qapi_types::Config {
    qapi_types::Config::builder()
        .connect_timeout(timeout)
        .greeting_timeout(timeout)
        .build()
}

/// Connects to the monitor at `socket`; for a QEMU starting up
/// (`starting`), trying again while nobody listens on it yet: QEMU creates
/// the socket file a moment before it listens.
fn connect(socket: &Path, timeout: Duration, starting: bool) -> Result<BlockingQmp, Failure> {
    let config = limited(timeout);
    let connected = if starting {
        BlockingQmp::connect_unix_retry(socket, &config)
    } else {
        BlockingQmp::connect_unix(socket, &config)
    };
    connected.map_err(|error| {
        let at = socket.display();
        let message = match &error {
            Error::NotQmp { sent } => format!("'{at}' is not a QMP monitor: it sent '{sent}'"),
            Error::NoGreeting { .. } | Error::ConnectTimeout { .. } => format!(
                "can't talk QMP on '{at}': {error} (a QEMU monitor serves one client at a \
                 time: is another client connected? Or is it not a QMP monitor?)"
            ),
            Error::Connect { source, .. } => format!("can't talk QMP on '{at}': {source}"),
            Error::Timeout { .. } | Error::Command { .. } => {
                format!("can't talk QMP on '{at}': the negotiation failed: {error}")
            }
            _ => format!("can't talk QMP on '{at}': {error}"),
        };
        Failure {
            stage: Stage::Connecting,
            message,
            usable: false,
        }
    })
}

fn query(qmp: &BlockingQmp, timeout: Duration) -> Result<String, Failure> {
    qmp.set_timeout(Some(timeout));
    let failure = |message, usable| Failure {
        stage: Stage::Querying,
        message,
        usable,
    };
    match qmp.execute_raw("query-qmp-schema", Value::Object(Default::default())) {
        Ok(reply) => to_json(&reply).map_err(|CaptureError(message)| failure(message, true)),
        Err(Error::Command { error, .. }) => Err(failure(
            format!("query-qmp-schema failed: {}: {}", error.class, error.desc),
            true,
        )),
        Err(error @ Error::Timeout { .. }) => Err(failure(error.to_string(), false)),
        Err(error) => Err(failure(format!("query-qmp-schema failed: {error}"), false)),
    }
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
/// stops it: asks it to `quit` (so that a QEMU that daemonized, or one a
/// wrapper script started, exits too), and kills it if it is still
/// running 2 s later. qemu-storage-daemon gets its monitor with
/// `--chardev` and `--monitor`, every other binary with `-chardev` and
/// `-mon`. What it writes to standard output and error is kept (the last
/// 8 KiB of each) for the error message.
pub fn from_qemu(binary: &OsStr, args: &[OsString]) -> Result<String, CaptureError> {
    from_qemu_within(binary, args, TIMEOUT)
}

/// [`from_qemu`] with another time limit for opening the monitor and for
/// each step after.
pub fn from_qemu_within(
    binary: &OsStr,
    args: &[OsString],
    timeout: Duration,
) -> Result<String, CaptureError> {
    from_qemu_in(&std::env::temp_dir(), binary, args, timeout)
}

/// Whether `binary` is qemu-storage-daemon, which takes its monitor with
/// `--chardev`/`--monitor`: by its name, else by what `--version` says
/// (a wrapper script, a link with another name) within `timeout`.
fn is_storage_daemon(binary: &OsStr, timeout: Duration) -> bool {
    let named = Path::new(binary)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("storage-daemon"));
    named || version(binary, timeout).is_some_and(|v| v.starts_with("qemu-storage-daemon"))
}

/// The first line `binary --version` writes, if it writes one within
/// `timeout`. The probe is killed then, with whatever it started (a
/// wrapper's children): it has said what it is, or had its time.
fn version(binary: &OsStr, timeout: Duration) -> Option<String> {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(binary);
    command
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    exit_with_parent(&mut command);
    let mut child = command.spawn().ok()?;
    let stdout = child.stdout.take()?;
    let (sender, receiver) = std::sync::mpsc::channel();
    // Ends at the line's end, or when the probe's group is killed.
    std::thread::spawn(move || {
        let mut line = Vec::new();
        let _ = std::io::BufReader::new(stdout.take(4096)).read_until(b'\n', &mut line);
        let _ = sender.send(line);
    });
    let line = receiver.recv_timeout(timeout).ok();
    kill_group(&mut child);
    let _ = child.wait();
    line.map(|line| String::from_utf8_lossy(&line).into_owned())
}

/// Kills a process started as the leader of its own process group, and
/// the group. Before the leader is reaped, so the group id is still its.
#[cfg(target_os = "linux")]
fn kill_group(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill takes no pointers; a group that is gone is ESRCH.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn kill_group(child: &mut Child) {
    let _ = child.kill();
}

fn from_qemu_in(
    base: &Path,
    binary: &OsStr,
    args: &[OsString],
    timeout: Duration,
) -> Result<String, CaptureError> {
    let dir = TempDir::new(base)?;
    let socket = dir.0.join(SOCKET);
    let is_storage_daemon = is_storage_daemon(binary, timeout);
    let mut command = Command::new(binary);
    command.args(args);
    if is_storage_daemon {
        command
            .arg("--chardev")
            .arg(chardev(&socket))
            .args(["--monitor", "chardev=cargo-qapi"]);
    } else {
        command
            .arg("-chardev")
            .arg(chardev(&socket))
            .args(["-mon", "chardev=cargo-qapi,mode=control"]);
    }
    let mut qemu = Running::start(command, binary)?;
    let mut qmp = None;
    let result = match qemu.wait_for_socket(&socket, timeout) {
        Err(message) => Err(Failure {
            stage: Stage::Starting,
            message,
            usable: false,
        }),
        Ok(()) => connect(&socket, timeout, true)
            .and_then(|connected| query(qmp.insert(connected), timeout)),
    };
    let result = result.map_err(|failure| {
        let usable = failure.usable;
        (qemu.explain(failure), usable)
    });
    let usable = result.as_ref().map_or_else(|(_, usable)| *usable, |_| true);
    // An unusable connection is closed first: a monitor serves one
    // client at a time, and `stop` may need another.
    let qmp = qmp.filter(|_| usable);
    qemu.stop(qmp.as_ref(), &socket);
    drop(qmp);
    result.map_err(
        |(message, _)| match qemu.output.describe(&binary.to_string_lossy()) {
            None => CaptureError(message),
            Some(output) => CaptureError(format!("{message}\n{output}")),
        },
    )
}

/// Has the process `command` starts killed when the thread starting it
/// ends, as it does when this process is killed (a build cancelled, a
/// time limit reached): a capture stops its QEMU before it returns, so
/// only a capture killed midway needs this. Linux only: elsewhere such a
/// QEMU is left running. A wrapper's own children are not covered.
#[cfg(target_os = "linux")]
fn exit_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec, and
    // only makes async-signal-safe system calls; it neither allocates
    // nor takes locks.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the signal was asked for.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn exit_with_parent(_: &mut Command) {}

/// The socket's file name in the temporary directory.
const SOCKET: &str = "qmp.sock";

/// `socket,id=cargo-qapi,path=PATH,server=on,wait=off`.
fn chardev(socket: &Path) -> OsString {
    let mut spec = OsString::from("socket,id=cargo-qapi,path=");
    spec.push(option_value(socket.as_os_str()));
    spec.push(",server=on,wait=off");
    spec
}

/// `value` as the value of a QEMU option (`key=value,...`): a comma is
/// written twice.
fn option_value(value: &OsStr) -> OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let mut escaped = Vec::with_capacity(value.len());
    for &byte in value.as_bytes() {
        escaped.push(byte);
        if byte == b',' {
            escaped.push(b',');
        }
    }
    OsString::from_vec(escaped)
}

/// `30 s`, or `200 ms` for a limit of less than a second.
fn seconds(limit: Duration) -> String {
    // As the clients' errors say it (`no QMP greeting within 30 s`).
    let said = qapi_types::Error::NoGreeting { limit }.to_string();
    said.rsplit("within ")
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A started QEMU, killed when dropped, its output kept.
struct Running {
    child: Child,
    output: Output,
    /// Whether the process started exited before its monitor was
    /// reached (it daemonized, or a wrapper left QEMU running): then its
    /// exit says nothing about QEMU.
    exited_early: bool,
}

impl Running {
    fn start(mut command: Command, binary: &OsStr) -> Result<Self, CaptureError> {
        exit_with_parent(&mut command);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                CaptureError(format!("can't start '{}': {e}", binary.to_string_lossy()))
            })?;
        let pipes = [
            (
                "standard error",
                child.stderr.take().map(|p| Box::new(p) as _),
            ),
            (
                "standard output",
                child.stdout.take().map(|p| Box::new(p) as _),
            ),
        ];
        let mut qemu = Self {
            child,
            output: Output::default(),
            exited_early: false,
        };
        for (name, pipe) in pipes {
            let Some(pipe) = pipe else { continue };
            if let Err(e) = qemu.output.drain(name, pipe) {
                return Err(CaptureError(format!("can't read QEMU's {name}: {e}")));
            }
        }
        Ok(qemu)
    }

    fn wait_for_socket(&mut self, socket: &Path, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if socket.exists() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // A QEMU that daemonizes exits once the daemon is ready.
                if socket.exists() {
                    self.exited_early = true;
                    return Ok(());
                }
                return Err(format!("QEMU exited ({status}) before opening its monitor"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "QEMU did not open its monitor within {}",
                    seconds(timeout)
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The message for a failure: QEMU exiting meanwhile explains it
    /// better than what the connection reported.
    fn explain(&mut self, failure: Failure) -> String {
        if self.exited_early {
            return failure.message;
        }
        let doing = match failure.stage {
            Stage::Starting => return failure.message,
            Stage::Connecting => "while cargo qapi was connecting to its monitor",
            Stage::Querying => "while answering query-qmp-schema",
        };
        // The connection closes a little before the process is gone.
        match self.exit_within(Duration::from_millis(500)) {
            Some(status) => format!("QEMU exited ({status}) {doing}"),
            None => failure.message,
        }
    }

    fn exit_within(&mut self, wait: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + wait;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => return None,
            }
        }
    }

    /// Asks QEMU to quit, on `qmp` or else on a new connection, and waits
    /// for it to close the connection and for the process started to
    /// exit; kills that process if it still runs after [`QUIT`].
    fn stop(&mut self, qmp: Option<&BlockingQmp>, socket: &Path) {
        let deadline = Instant::now() + QUIT;
        let fresh;
        let running = self.exited_early || matches!(self.child.try_wait(), Ok(None));
        let qmp = match qmp {
            Some(qmp) => Some(qmp),
            None if running && socket.exists() => {
                fresh = BlockingQmp::connect_unix(socket, &limited(QUIT / 2)).ok();
                fresh.as_ref()
            }
            None => None,
        };
        if let Some(qmp) = qmp {
            qmp.set_timeout(Some(QUIT));
            // QEMU may close the connection before it answers.
            let _ = qmp.execute_raw("quit", Value::Object(Default::default()));
            // Once the connection closes, QEMU is on its way out.
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                if !matches!(qmp.next_event(left), Ok(Some(_))) {
                    break;
                }
            }
            let _ = self.exit_within(deadline.saturating_duration_since(Instant::now()));
        }
        self.kill();
    }

    fn kill(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What a QEMU writes to standard error and output: the last
/// [`OUTPUT_TAIL`] bytes of each, read by threads so that it never
/// blocks on a full pipe.
#[derive(Default)]
struct Output {
    streams: Vec<Stream>,
}

/// A stream's name, what is kept of it, and its reader.
type Stream = (&'static str, Arc<Mutex<Tail>>, JoinHandle<()>);

#[derive(Default)]
struct Tail {
    bytes: VecDeque<u8>,
    /// Whether earlier bytes were dropped.
    cut: bool,
}

impl Output {
    fn drain(&mut self, name: &'static str, mut pipe: Box<dyn Read + Send>) -> std::io::Result<()> {
        let tail = Arc::new(Mutex::new(Tail::default()));
        let kept = tail.clone();
        let reader = std::thread::Builder::new()
            .name("qemu-output".into())
            .spawn(move || {
                let mut buffer = [0; 8192];
                loop {
                    let read = match pipe.read(&mut buffer) {
                        Ok(0) => return,
                        Ok(read) => read,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => return,
                    };
                    let mut tail = kept.lock().unwrap_or_else(|p| p.into_inner());
                    tail.bytes.extend(&buffer[..read]);
                    let excess = tail.bytes.len().saturating_sub(OUTPUT_TAIL);
                    if excess > 0 {
                        tail.bytes.drain(..excess);
                        tail.cut = true;
                    }
                }
            })?;
        self.streams.push((name, tail, reader));
        Ok(())
    }

    /// `BINARY said:` and what it wrote, with the stream named when it
    /// wrote to both; `None` if it wrote nothing. Waits a little for the
    /// readers to reach the end (a process QEMU left behind may keep the
    /// pipes open).
    fn describe(&self, binary: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_millis(500);
        while !self
            .streams
            .iter()
            .all(|(_, _, reader)| reader.is_finished())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let texts: Vec<(&str, String)> = self
            .streams
            .iter()
            .filter_map(|(name, tail, _)| {
                let tail = tail.lock().unwrap_or_else(|p| p.into_inner());
                let bytes: Vec<u8> = tail.bytes.iter().copied().collect();
                let mut text = String::from_utf8_lossy(&bytes).into_owned();
                // Cut: from the first whole line.
                if tail.cut {
                    if let Some(newline) = text.find('\n') {
                        text.drain(..=newline);
                    }
                }
                let text = text.trim();
                let cut = if tail.cut {
                    format!(" (the last {} KiB)", OUTPUT_TAIL >> 10)
                } else {
                    String::new()
                };
                (!text.is_empty()).then(|| (*name, format!("{cut}:\n{text}")))
            })
            .collect();
        match &texts[..] {
            [] => None,
            [(_, text)] => Some(format!("{binary} said{text}")),
            [(first, text), rest @ ..] => {
                let mut out = format!("{binary} said on {first}{text}");
                for (name, text) in rest {
                    out.push_str(&format!("\nand on {name}{text}"));
                }
                Some(out)
            }
        }
    }
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    /// A new directory in `base` only this user can enter: one that
    /// exists already (perhaps made by someone else to plant a socket)
    /// is never reused. In `/tmp` instead where `base` is too long for a
    /// socket's path.
    fn new(base: &Path) -> Result<Self, CaptureError> {
        use std::os::unix::fs::DirBuilderExt;
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let mut base = base.to_path_buf();
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = base.join(format!("cargo-qapi-{}-{n}", std::process::id()));
            if dir.join(SOCKET).as_os_str().len() > SOCKET_PATH_MAX && base != Path::new("/tmp") {
                base = PathBuf::from("/tmp");
                continue;
            }
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

    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;

    const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": []}}"#;

    /// A short limit for the fake servers that never answer.
    const SHORT: Duration = Duration::from_millis(200);

    /// A fake monitor at `socket` answering one client with `script`,
    /// which gets each line the client sends and returns what to send
    /// back (`None`: nothing, and keep the connection open).
    fn fake_monitor(
        socket: &Path,
        greeting: &'static str,
        mut script: impl FnMut(&Value) -> Option<String> + Send + 'static,
    ) {
        let listener = UnixListener::bind(socket).expect("bound");
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("a client");
            let _ = stream.write_all(greeting.as_bytes());
            let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let request: Value = serde_json::from_str(&line).expect("JSON");
                if let Some(reply) = script(&request) {
                    let _ = stream.write_all(reply.as_bytes());
                }
                line.clear();
            }
        });
    }

    fn reply(request: &Value, value: Value) -> Option<String> {
        let id = &request["id"];
        Some(format!(
            "{}\r\n",
            serde_json::json!({ "return": value, "id": id })
        ))
    }

    /// Captures from a fake monitor: the error.
    fn capture_from_fake(
        greeting: &'static str,
        script: impl FnMut(&Value) -> Option<String> + Send + 'static,
    ) -> String {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        let socket = dir.0.join(SOCKET);
        fake_monitor(&socket, greeting, script);
        from_socket_within(&socket, SHORT)
            .expect_err("no capture")
            .to_string()
    }

    /// Answers the negotiation, then `then` for the rest.
    fn negotiating(
        mut then: impl FnMut(&Value) -> Option<String> + Send + 'static,
    ) -> impl FnMut(&Value) -> Option<String> + Send + 'static {
        move |request| {
            if request["execute"] == "qmp_capabilities" {
                reply(request, serde_json::json!({}))
            } else {
                then(request)
            }
        }
    }

    const QMP_GREETING: &str = concat!(
        r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": []}}"#,
        "\r\n"
    );

    #[test]
    fn errors_name_the_stage_that_failed() {
        let _ = GREETING;
        let error = capture_from_fake("", |_| None);
        assert!(
            error.contains("no QMP greeting within 200 ms")
                && error.contains("a QEMU monitor serves one client at a time"),
            "{error}"
        );
        let error = capture_from_fake(
            "QEMU 10.0.2 monitor - type 'help' for more information\r\n(qemu) ",
            |_| None,
        );
        assert!(
            error.ends_with(
                "is not a QMP monitor: it sent 'QEMU 10.0.2 monitor - type 'help' for more information'"
            ),
            "{error}"
        );
        let error = capture_from_fake(QMP_GREETING, |_| None);
        assert!(
            error.ends_with("the negotiation failed: no reply to 'qmp_capabilities' within 200 ms"),
            "{error}"
        );
        let error = capture_from_fake(QMP_GREETING, negotiating(|_| None));
        assert_eq!(error, "no reply to 'query-qmp-schema' within 200 ms");
        let error = capture_from_fake(
            QMP_GREETING,
            negotiating(|request| {
                Some(format!(
                    "{}\r\n",
                    serde_json::json!({ "error": { "class": "CommandNotFound", "desc": "The command query-qmp-schema has not been found" }, "id": request["id"] })
                ))
            }),
        );
        assert_eq!(
            error,
            "query-qmp-schema failed: CommandNotFound: The command query-qmp-schema has not been found"
        );
        let error = capture_from_fake(
            QMP_GREETING,
            negotiating(|_| Some("{\"return\": [\r\n".into())),
        );
        assert!(
            error.starts_with(
                "query-qmp-schema failed: protocol error: the server sent a line that is not a JSON object"
            ),
            "{error}"
        );
    }

    /// A monitor serves one client at a time: another client connected
    /// means no greeting (or, once the backlog is full, no connection),
    /// not a hang.
    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn a_busy_monitor_is_a_greeting_timeout() {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        let socket = dir.0.join(SOCKET);
        let daemon = Command::new("qemu-storage-daemon")
            .arg("--chardev")
            .arg(chardev(&socket))
            .args(["--monitor", "chardev=cargo-qapi"])
            .stdin(Stdio::null())
            .spawn()
            .expect("started");
        let mut daemon = Running {
            child: daemon,
            output: Output::default(),
            exited_early: false,
        };
        daemon.wait_for_socket(&socket, TIMEOUT).expect("a monitor");
        let first = BlockingQmp::connect_unix(&socket, &limited(TIMEOUT)).expect("served");
        // The first waits in the backlog for a greeting; so does the
        // second (the first stays there though its client is gone); the
        // backlog full, a later one can't even connect (how soon depends on
        // the kernel's backlog). Either way, within the limit, not a hang.
        for _ in 0..3 {
            let start = Instant::now();
            let error = from_socket_within(&socket, SHORT).unwrap_err().to_string();
            assert!(
                (error.contains("no QMP greeting within 200 ms")
                    || error.contains("can't connect to "))
                    && error.contains("a QEMU monitor serves one client at a time"),
                "{error}"
            );
            assert!(start.elapsed() < Duration::from_secs(5));
        }
        first
            .execute_raw("query-version", Value::Object(Default::default()))
            .expect("the first client is still served");
        daemon.stop(Some(&first), &socket);
    }

    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn an_hmp_monitor_is_not_a_qmp_monitor() {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        let socket = dir.0.join(SOCKET);
        let mut monitor = OsString::from("unix:");
        monitor.push(option_value(socket.as_os_str()));
        monitor.push(",server=on,wait=off");
        let qemu = Command::new("qemu-system-x86_64")
            .args(["-M", "none", "-display", "none", "-monitor"])
            .arg(monitor)
            .stdin(Stdio::null())
            .spawn()
            .expect("started");
        let mut qemu = Running {
            child: qemu,
            output: Output::default(),
            exited_early: false,
        };
        qemu.wait_for_socket(&socket, TIMEOUT).expect("a monitor");
        let error = from_socket_within(&socket, TIMEOUT)
            .unwrap_err()
            .to_string();
        assert!(
            error.ends_with("is not a QMP monitor: it sent 'QEMU 10.0.2 monitor - type 'help' for more information'")
                || error.contains("is not a QMP monitor: it sent 'QEMU "),
            "{error}"
        );
        qemu.kill();
    }

    #[test]
    fn option_values_double_commas() {
        assert_eq!(option_value(OsStr::new("/tmp/a,b,,c")), "/tmp/a,,b,,,,c");
        assert_eq!(
            chardev(Path::new("/tmp/a,b/qmp.sock")),
            "socket,id=cargo-qapi,path=/tmp/a,,b/qmp.sock,server=on,wait=off"
        );
    }

    /// A scratch directory whose name holds what QEMU's option syntax
    /// treats specially.
    fn awkward_base() -> TempDir {
        let parent = TempDir::new(&std::env::temp_dir()).expect("a directory");
        let base = parent.0.join("a,b=c");
        std::fs::create_dir(&base).expect("created");
        parent
    }

    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn a_comma_in_the_temporary_directory_is_escaped() {
        for (binary, args) in [
            ("qemu-storage-daemon", &[][..]),
            (
                "qemu-system-x86_64",
                &["-M", "none", "-display", "none"][..],
            ),
        ] {
            let parent = awkward_base();
            let args: Vec<OsString> = args.iter().map(Into::into).collect();
            let json = from_qemu_in(&parent.0.join("a,b=c"), OsStr::new(binary), &args, TIMEOUT)
                .unwrap_or_else(|e| panic!("{binary}: {e}"));
            assert!(json.contains("\"query-qmp-schema\""));
        }
    }

    #[test]
    fn a_temporary_directory_too_long_for_a_socket_falls_back_to_tmp() {
        let long = std::env::temp_dir().join("d".repeat(100));
        let dir = TempDir::new(&long).expect("a directory");
        assert!(dir.0.starts_with("/tmp"), "{}", dir.0.display());
        assert!(dir.0.join(SOCKET).as_os_str().len() <= SOCKET_PATH_MAX);
        let short = TempDir::new(Path::new("/tmp")).expect("a directory");
        assert_eq!(short.0.parent(), Some(Path::new("/tmp")));
    }

    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn a_capture_in_a_temporary_directory_too_long_for_a_socket_succeeds() {
        let long = std::env::temp_dir().join("d".repeat(100));
        from_qemu_in(&long, OsStr::new("qemu-storage-daemon"), &[], TIMEOUT)
            .expect("captured through /tmp");
    }

    /// Waits for QEMU's pid file to go (QEMU removes it as it exits);
    /// kills the process it names if it does not.
    fn assert_exits(pidfile: &Path) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while pidfile.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(pid) = std::fs::read_to_string(pidfile) {
            let _ = Command::new("kill").arg(pid.trim()).status();
            panic!("QEMU {} was left running", pid.trim());
        }
    }

    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn a_qemu_that_daemonizes_is_asked_to_quit() {
        for (binary, args) in [
            ("qemu-storage-daemon", &["--daemonize", "--pidfile"][..]),
            (
                "qemu-system-x86_64",
                &["-M", "none", "-display", "none", "-daemonize", "-pidfile"][..],
            ),
        ] {
            let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
            let pidfile = dir.0.join("pid");
            let mut args: Vec<OsString> = args.iter().map(Into::into).collect();
            args.push(pidfile.clone().into());
            let json = from_qemu(OsStr::new(binary), &args).unwrap_or_else(|e| panic!("{e}"));
            assert!(json.contains("\"query-qmp-schema\""));
            assert_exits(&pidfile);
        }
    }

    /// A script in `dir` named `name`.
    fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{text}\n")).expect("written");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn a_qemu_started_by_a_wrapper_is_asked_to_quit() {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        // No `exec`: killing the shell would leave the daemon running.
        let wrapper = script(
            &dir.0,
            "wrapped-storage-daemon",
            "qemu-storage-daemon \"$@\"\necho wrapper done",
        );
        let pidfile = dir.0.join("pid");
        let args = [OsString::from("--pidfile"), pidfile.clone().into()];
        from_qemu(wrapper.as_os_str(), &args).unwrap_or_else(|e| panic!("{e}"));
        assert_exits(&pidfile);
    }

    #[test]
    fn what_qemu_writes_is_kept_in_part_and_shown() {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        // 20 MB on standard error, then a word on each.
        let spammer = script(
            &dir.0,
            "spam",
            "head -c 20000000 /dev/zero | tr '\\0' 'x' >&2\n\
             echo >&2\necho 'the end of stderr' >&2\necho 'and of stdout'\nexit 1",
        );
        let error = from_qemu(spammer.as_os_str(), &[]).unwrap_err().to_string();
        assert!(error.len() < 2 * OUTPUT_TAIL, "{} bytes", error.len());
        assert!(
            error.starts_with("QEMU exited (exit status: 1) before opening its monitor\n"),
            "{}",
            &error[..200]
        );
        assert!(
            error.contains(" said on standard error (the last 8 KiB):\n"),
            "{}",
            &error[..200]
        );
        assert!(error.contains("\nthe end of stderr\nand on standard output:\nand of stdout"));
        assert!(
            error.ends_with("and of stdout"),
            "{}",
            &error[error.len() - 100..]
        );
        assert!(!error.contains('\0'));
    }

    #[test]
    #[cfg_attr(no_qemu, ignore = "QEMU is not installed (scripts/install-qemu)")]
    fn what_a_qemu_exiting_at_once_writes_is_shown() {
        let error = from_qemu(OsStr::new("qemu-storage-daemon"), &["--help".into()])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "QEMU exited (exit status: 0) before opening its monitor\n\
                 qemu-storage-daemon said:\nUsage: qemu-storage-daemon"
            ),
            "{error}"
        );
    }

    /// A fake QEMU, run by [`a_qemu_exiting_mid_query_is_reported_as_such`]
    /// through a script: it serves its monitor until the query, then
    /// exits with status 3. Does nothing when run as a test.
    #[test]
    #[ignore = "a fake QEMU, started by another test"]
    fn fake_qemu() {
        let Some(args) = std::env::var_os("CARGO_QAPI_FAKE_QEMU_ARGS") else {
            return;
        };
        let args = std::fs::read_to_string(args).expect("the arguments");
        let path = args
            .lines()
            .find_map(|arg| arg.strip_prefix("socket,id=cargo-qapi,path="))
            .and_then(|rest| rest.strip_suffix(",server=on,wait=off"))
            .expect("a chardev")
            .replace(",,", ",");
        let (done, wait) = std::sync::mpsc::channel();
        fake_monitor(
            Path::new(&path),
            QMP_GREETING,
            negotiating(move |_| {
                eprintln!("fake QEMU: dying");
                let _ = done.send(());
                None
            }),
        );
        let _ = wait.recv();
        std::process::exit(3);
    }

    /// A binary that never answers `--version` (nor starts a monitor)
    /// fails the capture within its time limits.
    #[test]
    fn a_binary_hanging_on_version_is_not_waited_for() {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        let binary = script(&dir.0, "hangs", "exec sleep 60").into_os_string();
        let (sender, receiver) = std::sync::mpsc::channel();
        let start = Instant::now();
        std::thread::spawn(move || {
            let _ = sender.send(from_qemu_within(&binary, &[], Duration::from_millis(300)));
        });
        let error = receiver
            .recv_timeout(Duration::from_secs(20))
            .expect("the capture returns")
            .expect_err("no monitor")
            .to_string();
        assert!(
            error.starts_with("QEMU did not open its monitor within 300 ms"),
            "{error}"
        );
        // The probe's 0.3 s, the socket's 0.3 s, and stopping.
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }

    /// The version is its first line, read as soon as it comes; what the
    /// probe left running (holding the pipe open) is killed with it.
    #[test]
    fn a_version_is_read_at_once_and_the_probe_stopped() {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        let pid_file = dir.0.join("pid");
        let binary = script(
            &dir.0,
            "wrapper",
            &format!(
                "echo 'qemu-storage-daemon version 10.0.2'\nsleep 60 &\necho $! > '{}'\nwait",
                pid_file.display()
            ),
        );
        let start = Instant::now();
        let version = version(binary.as_os_str(), Duration::from_secs(20));
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(
            version.as_deref(),
            Some("qemu-storage-daemon version 10.0.2\n")
        );
        // The background sleep is gone with its group (or a zombie).
        let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(5);
        while sleeping(pid.trim()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!sleeping(pid.trim()), "the probe's child outlived it");
    }

    /// Whether process `pid` runs `sleep` (not a zombie, nor another
    /// process that took the number).
    fn sleeping(pid: &str) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        !pid.is_empty()
            && cmdline.starts_with(b"sleep")
            && !stat.rsplit(')').next().unwrap_or("").starts_with(" Z")
    }

    #[test]
    #[ignore = "a capture to be killed, started by another test"]
    fn capture_to_be_killed() {
        let Some(binary) = std::env::var_os("CARGO_QAPI_CAPTURED") else {
            return;
        };
        let _ = from_qemu_within(&binary, &[], Duration::from_secs(60));
    }

    /// A capture killed midway takes its QEMU with it (Linux).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_capture_killed_midway_leaves_no_qemu_running() {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        let pid_file = dir.0.join("pid");
        // Never creates the socket: the capture waits for it.
        let qemu = script(
            &dir.0,
            "fake-qemu",
            &format!(
                "[ \"$1\" = --version ] && exit 0\necho $$ > '{}'\nexec sleep 60",
                pid_file.display()
            ),
        );
        let mut capture = Command::new(std::env::current_exe().expect("this test"))
            .args([
                "--exact",
                "introspection::capture::tests::capture_to_be_killed",
                "--ignored",
            ])
            .env("CARGO_QAPI_CAPTURED", &qemu)
            // The killed capture's own directory is left: here, in ours.
            .env("TMPDIR", &dir.0)
            .stdout(Stdio::null())
            .spawn()
            .expect("the capture starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        let pid = loop {
            match std::fs::read_to_string(&pid_file) {
                Ok(pid) if pid.ends_with('\n') => break Some(pid.trim().to_string()),
                _ if Instant::now() > deadline => break None,
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        capture.kill().expect("killed");
        capture.wait().expect("reaped");
        let pid = pid.expect("the fake QEMU started");
        let deadline = Instant::now() + Duration::from_secs(5);
        while sleeping(&pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let left = sleeping(&pid);
        if left {
            let _ = Command::new("kill").arg(&pid).status();
        }
        assert!(!left, "the fake QEMU outlived its capture");
    }

    #[test]
    fn a_qemu_exiting_mid_query_is_reported_as_such() {
        let dir = TempDir::new(&std::env::temp_dir()).expect("a directory");
        let test = std::env::current_exe().expect("this test");
        let args = dir.0.join("args");
        let wrapper = script(
            &dir.0,
            "fake-storage-daemon",
            &format!(
                "printf '%s\\n' \"$@\" > '{}'\n\
                 CARGO_QAPI_FAKE_QEMU_ARGS='{}' exec '{}' --exact introspection::capture::tests::fake_qemu \
                 --ignored --nocapture --test-threads 1",
                args.display(),
                args.display(),
                test.display()
            ),
        );
        let error = from_qemu(wrapper.as_os_str(), &[]).unwrap_err().to_string();
        assert!(
            error.starts_with("QEMU exited (exit status: 3) while answering query-qmp-schema\n"),
            "{error}"
        );
        assert!(error.contains("fake QEMU: dying"), "{error}");
    }
}
