//! What can go wrong talking to a server.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::QmpError;

/// An error of a client call. New kinds of failure may be added.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error.
    #[error("{command}: {}: {}", error.class, error.desc)]
    Command {
        /// The command's wire name.
        command: String,
        /// What the server said.
        error: QmpError,
    },
    /// The reply did not match the command's return type.
    #[error("{command}: unexpected reply: {message}")]
    Decode {
        /// The command's wire name.
        command: String,
        /// Why it did not match.
        message: String,
    },
    /// The connection is closed (or broke); the text says why.
    #[error("connection closed: {0}")]
    Closed(Arc<str>),
    /// The server sent something the protocol does not allow.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The server's first line is not JSON: it is not a QMP server (an
    /// HMP monitor, say, or something else entirely).
    #[error("not a QMP server: it sent '{sent}'")]
    NotQmp {
        /// The beginning of what it sent.
        sent: String,
    },
    /// The call took longer than its timeout.
    #[error("no reply to '{command}' within {}", Seconds(*limit))]
    Timeout {
        /// The command's wire name.
        command: String,
        /// The time limit.
        limit: Duration,
    },
    /// No greeting came within the time limit: the server may not be a
    /// QMP server, or may be serving another client (a QEMU monitor
    /// serves one at a time).
    #[error("no QMP greeting within {}", Seconds(*limit))]
    NoGreeting {
        /// The time limit.
        limit: Duration,
    },
    /// Commands other than `qmp_capabilities` are refused until
    /// capabilities are negotiated.
    #[error("{command}: capabilities are not negotiated yet (send qmp_capabilities first)")]
    NotNegotiated {
        /// The command's wire name.
        command: String,
    },
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[source] Arc<std::io::Error>),
}

/// A time limit as people write it: `30 s`, `1.5 s`, `200 ms`.
struct Seconds(Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{} s", d.as_secs())
        } else if d < Duration::from_secs(1) && d.subsec_nanos() % 1_000_000 == 0 {
            write!(f, "{} ms", d.as_millis())
        } else if d < Duration::from_millis(1) {
            write!(f, "{} µs", d.as_micros())
        } else {
            // Three significant decimals at most, trailing zeros dropped.
            let text = format!("{:.3}", d.as_secs_f64());
            write!(f, "{} s", text.trim_end_matches('0').trim_end_matches('.'))
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Io(Arc::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_read_naturally() {
        let timeout = |limit| {
            Error::Timeout {
                command: "query-qmp-schema".into(),
                limit,
            }
            .to_string()
        };
        assert_eq!(
            timeout(Duration::from_secs(30)),
            "no reply to 'query-qmp-schema' within 30 s"
        );
        assert_eq!(
            timeout(Duration::from_millis(200)),
            "no reply to 'query-qmp-schema' within 200 ms"
        );
        assert_eq!(
            timeout(Duration::from_millis(1500)),
            "no reply to 'query-qmp-schema' within 1.5 s"
        );
        assert_eq!(
            timeout(Duration::from_micros(1)),
            "no reply to 'query-qmp-schema' within 1 µs"
        );
        assert_eq!(
            Error::NoGreeting {
                limit: Duration::from_secs(30)
            }
            .to_string(),
            "no QMP greeting within 30 s"
        );
    }
}
