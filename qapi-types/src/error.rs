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
    /// The reply could not be decoded as the command's return type: it
    /// did not match it, or it was nested deeper than
    /// [`MAX_DEPTH`](crate::protocol::MAX_DEPTH) levels.
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
    /// The connection could not be made.
    #[error("can't connect to {to}: {source}")]
    Connect {
        /// The socket's path or address.
        to: String,
        /// Why.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// `execute_oob` on a connection where out-of-band execution is off
    /// (the server does not offer it, or [`crate::Config::oob`] is unset).
    #[error("{command}: out-of-band execution is not enabled on this connection")]
    OobNotEnabled {
        /// The command's wire name.
        command: String,
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
        let nanos = self.0.as_nanos();
        let (value, unit) = if nanos >= 1_000_000_000 {
            (self.0.as_secs_f64(), "s")
        } else if nanos >= 1_000_000 {
            (nanos as f64 / 1e6, "ms")
        } else if nanos >= 1_000 {
            (nanos as f64 / 1e3, "µs")
        } else {
            (nanos as f64, "ns")
        };
        // Three decimals at most, trailing zeros dropped.
        let text = format!("{value:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        write!(f, "{text} {unit}")
    }
}

impl Error {
    /// An error connecting to `to`.
    pub(crate) fn connect(to: impl std::fmt::Display, source: std::io::Error) -> Self {
        Error::Connect {
            to: to.to_string(),
            source: Arc::new(source),
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
        for (limit, text) in [
            (Duration::from_nanos(1), "1 ns"),
            (Duration::from_micros(1500), "1.5 ms"),
            (Duration::from_micros(999_999), "999.999 ms"),
            (Duration::from_millis(1234), "1.234 s"),
        ] {
            assert_eq!(
                timeout(limit),
                format!("no reply to 'query-qmp-schema' within {text}")
            );
        }
        assert_eq!(
            Error::NoGreeting {
                limit: Duration::from_secs(30)
            }
            .to_string(),
            "no QMP greeting within 30 s"
        );
    }
}
