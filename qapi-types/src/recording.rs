//! Recordings of QMP sessions: what a QMP client sent and received, with
//! timing, as JSON lines. A [`Recorder`] given to
//! [`ConfigBuilder::record`](crate::ConfigBuilder::record) writes one;
//! [`Recording`] reads it back (a server's replay serves it as a mock).
//!
//! # Format (version 1)
//!
//! The first line says what the file is and which version of the format
//! it follows:
//!
//! ```json
//! {"qapi-recording": 1, "started": 1733310000.123456}
//! ```
//!
//! (`started`: when recording began, in seconds since the Unix epoch).
//! Then one line per message, in the order the client sent or read them:
//!
//! ```json
//! {"t": 0.000412, "conn": 1, "recv": {"QMP": {"version": {}, "capabilities": ["oob"]}}}
//! {"t": 0.000950, "conn": 1, "send": {"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 1}}
//! {"t": 0.001310, "conn": 1, "recv": {"return": {}, "id": 1}}
//! {"t": 0.004021, "conn": 1, "recv": {"event": "JOB_STATUS_CHANGE", "data": {}, "timestamp": {"seconds": 1, "microseconds": 2}}}
//! ```
//!
//! `t` is the time since `started`, in seconds; `conn` numbers the
//! connections made with the recorder, from 1 (request ids are unique
//! within a connection only); `send` is a request exactly as sent,
//! `recv` a message (greeting, reply, error or event) as received. Readers
//! skip keys they don't know; a later version that changes the meaning of
//! these keys changes the version number.

use std::fmt;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// The version of the format written, and the only one read.
pub const FORMAT_VERSION: u64 = 1;

/// The first line's key naming the format.
const HEADER_KEY: &str = "qapi-recording";

/// Where a client records its sessions: a file or any writer. Clones
/// share it; every connection made with a [`Config`](crate::Config)
/// holding it is recorded (numbered from 1), in the order messages pass.
/// The QMP clients record (async and blocking); the guest agent's ignore
/// it.
///
/// Each message is written (and flushed) as it passes; a write that fails
/// stops the recording, and [`Recorder::flush`] reports it.
#[derive(Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
}

struct Shared {
    start: Instant,
    output: Mutex<Output>,
    connections: AtomicU64,
}

struct Output {
    writer: Box<dyn Write + Send>,
    /// The first write that failed: nothing is written after it.
    failed: Option<io::Error>,
}

impl Recorder {
    /// Records to a new file at `path` (replacing one that is there).
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let file = std::fs::File::create(path)?;
        let recorder = Self::to_writer(BufWriter::new(file));
        recorder.flush()?;
        Ok(recorder)
    }

    /// Records to `writer`.
    pub fn to_writer(writer: impl Write + Send + 'static) -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        let recorder = Self {
            shared: Arc::new(Shared {
                start: Instant::now(),
                output: Mutex::new(Output {
                    writer: Box::new(writer),
                    failed: None,
                }),
                connections: AtomicU64::new(0),
            }),
        };
        let header = serde_json::json!({HEADER_KEY: FORMAT_VERSION, "started": started});
        recorder.write_line(header.to_string().as_bytes());
        recorder
    }

    /// Writes what is buffered; the first error of any write so far, if
    /// one failed (the recording stopped there).
    pub fn flush(&self) -> io::Result<()> {
        let mut output = self.output();
        if let Some(error) = &output.failed {
            return Err(io::Error::new(error.kind(), error.to_string()));
        }
        output.writer.flush()
    }

    /// A new connection's recorder.
    pub(crate) fn connection(&self) -> ConnectionRecorder {
        ConnectionRecorder {
            recorder: self.clone(),
            connection: self.shared.connections.fetch_add(1, Ordering::Relaxed) + 1,
        }
    }

    /// Writes one entry: `{"t":T,"conn":N,"KEY":` message `}`. The time
    /// is read under the lock, so that the lines' times never go back.
    fn entry(&self, connection: u64, key: &str, message: &[u8]) {
        let mut output = self.output();
        if output.failed.is_some() {
            return;
        }
        let seconds = self.shared.start.elapsed().as_secs_f64();
        let written = write!(
            output.writer,
            "{{\"t\":{seconds:.6},\"conn\":{connection},\"{key}\":"
        )
        .and_then(|()| output.writer.write_all(message))
        .and_then(|()| output.writer.write_all(b"}\n"))
        .and_then(|()| output.writer.flush());
        if let Err(error) = written {
            output.failed = Some(error);
        }
    }

    /// Writes a line and flushes it, unless a write failed before.
    fn write_line(&self, line: &[u8]) {
        let mut output = self.output();
        if output.failed.is_some() {
            return;
        }
        let written = output
            .writer
            .write_all(line)
            .and_then(|()| output.writer.write_all(b"\n"))
            .and_then(|()| output.writer.flush());
        if let Err(error) = written {
            output.failed = Some(error);
        }
    }

    fn output(&self) -> std::sync::MutexGuard<'_, Output> {
        self.shared
            .output
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field(
                "connections",
                &self.shared.connections.load(Ordering::Relaxed),
            )
            .field("failed", &self.output().failed.is_some())
            .finish()
    }
}

/// The recorder of one connection.
#[derive(Debug)]
pub(crate) struct ConnectionRecorder {
    recorder: Recorder,
    connection: u64,
}

impl ConnectionRecorder {
    /// Records a request as sent: one line of JSON (its newline, if
    /// there, is left out).
    pub(crate) fn sent(&self, request: &[u8]) {
        let request = request.strip_suffix(b"\n").unwrap_or(request);
        self.recorder.entry(self.connection, "send", request);
    }

    /// Records a message as received; one that is not JSON is recorded
    /// as a string.
    pub(crate) fn received(&self, message: &[u8]) {
        let value = serde_json::from_slice::<Value>(message)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(message).into_owned()));
        self.recorder
            .entry(self.connection, "recv", value.to_string().as_bytes());
    }
}

/// A recording read back: its entries, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    entries: Vec<Entry>,
}

/// One message of a [`Recording`].
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The line it was on (from 1; the header is line 1).
    pub line: usize,
    /// When it passed, since recording began.
    pub time: Duration,
    /// The connection it passed on (from 1).
    pub connection: u64,
    /// Which way it went.
    pub direction: Direction,
    /// The message.
    pub message: Value,
}

/// Which way a recorded message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A request the client sent.
    Sent,
    /// A message the client received.
    Received,
}

/// Why a recording can't be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordingError {
    /// Reading failed.
    #[error("can't read the recording: {0}")]
    Io(#[from] io::Error),
    /// The first line is not a recording's header.
    #[error(
        "not a QMP recording (the first line is not {{\"{HEADER_KEY}\": {FORMAT_VERSION}, ...}})"
    )]
    NotARecording,
    /// A version of the format this library does not read.
    #[error("a recording of format version {0}; this library reads version {FORMAT_VERSION}")]
    UnsupportedVersion(u64),
    /// A line that is not an entry.
    #[error("line {line} of the recording: {reason}")]
    Malformed {
        /// The line (from 1).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl Recording {
    /// Reads the recording in file `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, RecordingError> {
        let file = std::fs::File::open(path)?;
        Self::from_reader(io::BufReader::new(file))
    }

    /// Reads a recording from `reader`.
    pub fn from_reader(reader: impl BufRead) -> Result<Self, RecordingError> {
        let mut lines = reader.lines();
        let header = lines.next().ok_or(RecordingError::NotARecording)??;
        let header: Map<String, Value> =
            serde_json::from_str(&header).map_err(|_| RecordingError::NotARecording)?;
        match header.get(HEADER_KEY).and_then(Value::as_u64) {
            Some(FORMAT_VERSION) => {}
            Some(other) => return Err(RecordingError::UnsupportedVersion(other)),
            None => return Err(RecordingError::NotARecording),
        }
        let mut entries = Vec::new();
        for (index, line) in lines.enumerate() {
            let line_number = index + 2;
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            entries.push(Entry::parse(line_number, &line)?);
        }
        Ok(Self { entries })
    }

    /// Reads a recording held in a string.
    pub fn parse(text: &str) -> Result<Self, RecordingError> {
        Self::from_reader(text.as_bytes())
    }

    /// The entries, in the order the messages passed.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

impl Entry {
    fn parse(line: usize, text: &str) -> Result<Self, RecordingError> {
        let malformed = |reason: &str| RecordingError::Malformed {
            line,
            reason: reason.to_string(),
        };
        let mut object: Map<String, Value> =
            serde_json::from_str(text).map_err(|e| malformed(&e.to_string()))?;
        let seconds = object
            .get("t")
            .and_then(Value::as_f64)
            .ok_or_else(|| malformed("no time (\"t\")"))?;
        let time = Duration::try_from_secs_f64(seconds).map_err(|e| malformed(&e.to_string()))?;
        let connection = object
            .get("conn")
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed("no connection (\"conn\")"))?;
        let (direction, message) = match (object.remove("send"), object.remove("recv")) {
            (Some(message), None) => (Direction::Sent, message),
            (None, Some(message)) => (Direction::Received, message),
            _ => return Err(malformed("not one of \"send\" and \"recv\"")),
        };
        Ok(Self {
            line,
            time,
            connection,
            direction,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A writer whose bytes the test reads.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .expect("not poisoned")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn what_is_recorded_reads_back() {
        let out = Shared::default();
        let recorder = Recorder::to_writer(out.clone());
        let first = recorder.connection();
        let second = recorder.connection();
        first.received(br#"{"QMP": {"version": {}, "capabilities": []}}"#);
        first.sent(b"{\"execute\":\"stop\",\"id\":1}\n");
        second.received(b"{\n  \"return\": {},\n  \"id\": 1\n}");
        second.received(b"not json");
        recorder.flush().expect("written");
        let text = String::from_utf8(out.0.lock().expect("not poisoned").clone()).expect("utf-8");
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text
            .lines()
            .all(|line| serde_json::from_str::<Value>(line).is_ok()));
        let recording = Recording::parse(&text).expect("reads");
        let entries = recording.entries();
        assert_eq!(entries.len(), 4);
        assert_eq!(
            (entries[0].connection, entries[0].direction),
            (1, Direction::Received)
        );
        assert_eq!(entries[1].message, json!({"execute": "stop", "id": 1}));
        assert_eq!(entries[1].direction, Direction::Sent);
        assert_eq!(entries[1].line, 3);
        assert_eq!(entries[2].connection, 2);
        assert_eq!(entries[2].message, json!({"return": {}, "id": 1}));
        assert_eq!(entries[3].message, json!("not json"));
        assert!(entries.windows(2).all(|w| w[0].time <= w[1].time));
    }

    #[test]
    fn what_is_not_a_recording_is_refused() {
        assert!(matches!(
            Recording::parse(""),
            Err(RecordingError::NotARecording)
        ));
        assert!(matches!(
            Recording::parse("{\"execute\": \"stop\"}\n"),
            Err(RecordingError::NotARecording)
        ));
        assert!(matches!(
            Recording::parse("{\"qapi-recording\": 2}\n"),
            Err(RecordingError::UnsupportedVersion(2))
        ));
        let Err(RecordingError::Malformed { line, .. }) = Recording::parse(
            "{\"qapi-recording\": 1}\n{\"t\": 0, \"conn\": 1, \"recv\": {}}\n{\"t\": 0}\n",
        ) else {
            panic!("a malformed line")
        };
        assert_eq!(line, 3);
        assert!(Recording::parse("{\"qapi-recording\": 1}\n\n")
            .expect("empty")
            .entries()
            .is_empty());
    }

    #[test]
    fn a_failed_write_stops_the_recording_and_is_reported() {
        /// Fails every write.
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let recorder = Recorder::to_writer(Broken);
        recorder.connection().sent(b"{}");
        let error = recorder.flush().expect_err("failed");
        assert!(error.to_string().contains("disk full"));
        assert!(format!("{recorder:?}").contains("failed: true"));
    }
}
