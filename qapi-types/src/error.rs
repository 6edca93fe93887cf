//! What can go wrong talking to a server.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An error a server answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QmpError {
    /// The error class (`GenericError`, `CommandNotFound`, …).
    pub class: String,
    /// The human-readable message.
    pub desc: String,
}

impl QmpError {
    /// An error of `class` (`GenericError`, `CommandNotFound`, ...)
    /// described by `desc`.
    pub fn new(class: impl Into<String>, desc: impl Into<String>) -> Self {
        Self {
            class: class.into(),
            desc: desc.into(),
        }
    }

    /// A `GenericError`: the class of nearly every error QEMU answers.
    pub fn generic(desc: impl Into<String>) -> Self {
        Self::new("GenericError", desc)
    }

    /// What QEMU answers for a command it does not have:
    /// `CommandNotFound`, "The command NAME has not been found".
    pub fn command_not_found(name: &str) -> Self {
        Self::new(
            "CommandNotFound",
            format!("The command {name} has not been found"),
        )
    }
}

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
    /// did not match it (bindings of another QEMU version, say), or it
    /// was nested deeper than [`MAX_DEPTH`](crate::protocol::MAX_DEPTH)
    /// levels. The reply is kept: see [`Error::raw_reply`].
    #[error("{command}: unexpected reply: {source}")]
    Decode {
        /// The command's wire name.
        command: String,
        /// The reply as JSON (`None` when it was nested too deeply to be
        /// read).
        reply: Option<Arc<Value>>,
        /// Why it did not match.
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// The command's arguments could not be serialized to JSON (a map
    /// with non-string keys, a serializer of the caller's failing).
    /// Nothing was sent.
    #[error("{command}: can't serialize the arguments: {source}")]
    Serialize {
        /// The command's wire name.
        command: String,
        /// Why.
        #[source]
        source: Arc<serde_json::Error>,
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
    /// The connection could not be made within
    /// [`ConfigBuilder::connect_timeout`](crate::ConfigBuilder::connect_timeout)
    /// (for an accepting client: the server did not connect).
    #[error("can't connect to {to} within {}", Seconds(*limit))]
    ConnectTimeout {
        /// The socket's path or address.
        to: String,
        /// The time limit.
        limit: Duration,
    },
    /// Descriptors were given for a command on a connection that can't
    /// pass them (not a unix socket). Nothing was sent.
    #[error("{command}: this connection can't pass file descriptors (not a unix socket)")]
    FdPassingUnsupported {
        /// The command's wire name.
        command: String,
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
    /// (the server does not offer it, or
    /// [`ConfigBuilder::oob`](crate::ConfigBuilder::oob) turned it off).
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
    /// Whether a time limit ran out: a call's ([`Error::Timeout`]), the
    /// greeting's ([`Error::NoGreeting`]) or connecting's
    /// ([`Error::ConnectTimeout`], or a socket that timed out).
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::NoGreeting { .. } | Error::ConnectTimeout { .. } => true,
            Error::Connect { source, .. } | Error::Io(source) => {
                matches!(
                    source.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                )
            }
            _ => false,
        }
    }

    /// Whether the connection is gone (closed by either side, or broken):
    /// connect again.
    pub fn is_closed(&self) -> bool {
        match self {
            Error::Closed(_) => true,
            Error::Io(source) => matches!(
                source.kind(),
                std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            ),
            _ => false,
        }
    }

    /// Whether the server broke the protocol, or is no QMP server at all
    /// ([`Error::Protocol`], [`Error::NotQmp`]).
    pub fn is_protocol(&self) -> bool {
        matches!(self, Error::Protocol(_) | Error::NotQmp { .. })
    }

    /// Whether the server answered the command with an error
    /// ([`Error::Command`]): see [`Error::qmp_error`].
    pub fn is_qmp(&self) -> bool {
        matches!(self, Error::Command { .. })
    }

    /// Whether the reply did not decode as the command's return type
    /// ([`Error::Decode`]): see [`Error::raw_reply`].
    pub fn is_decode(&self) -> bool {
        matches!(self, Error::Decode { .. })
    }

    /// Whether the connection could not be made ([`Error::Connect`],
    /// [`Error::ConnectTimeout`]).
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Connect { .. } | Error::ConnectTimeout { .. })
    }

    /// Whether the call was refused before anything was sent, for what the
    /// caller asked: arguments that don't serialize, out-of-band execution
    /// or descriptors the connection can't do, a command before the
    /// negotiation.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Serialize { .. }
                | Error::OobNotEnabled { .. }
                | Error::NotNegotiated { .. }
                | Error::FdPassingUnsupported { .. }
        )
    }

    /// The server's error, when it answered the command with one.
    pub fn qmp_error(&self) -> Option<&QmpError> {
        match self {
            Error::Command { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The reply that did not decode as the command's return type, as
    /// JSON: a caller can still read it.
    pub fn raw_reply(&self) -> Option<&Value> {
        match self {
            Error::Decode { reply, .. } => reply.as_deref(),
            _ => None,
        }
    }

    /// The command the error concerns, when it concerns one.
    pub fn command(&self) -> Option<&str> {
        match self {
            Error::Command { command, .. }
            | Error::Decode { command, .. }
            | Error::Serialize { command, .. }
            | Error::Timeout { command, .. }
            | Error::FdPassingUnsupported { command }
            | Error::OobNotEnabled { command }
            | Error::NotNegotiated { command } => Some(command),
            _ => None,
        }
    }

    /// A reply of `command` that did not decode: `reply` is kept.
    pub(crate) fn decode(command: &str, reply: Option<Value>, source: serde_json::Error) -> Self {
        Error::Decode {
            command: command.to_string(),
            reply: reply.map(Arc::new),
            source: Arc::new(source),
        }
    }

    /// Arguments of `command` that did not serialize.
    pub(crate) fn serialize(command: &str, source: serde_json::Error) -> Self {
        Error::Serialize {
            command: command.to_string(),
            source: Arc::new(source),
        }
    }

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
    fn classification() {
        let timeout = Error::Timeout {
            command: "stop".into(),
            limit: Duration::from_secs(1),
        };
        assert!(timeout.is_timeout() && !timeout.is_closed());
        assert_eq!(timeout.command(), Some("stop"));
        assert!(Error::Closed("gone".into()).is_closed());
        assert!(Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe)).is_closed());
        let command = Error::Command {
            command: "stop".into(),
            error: QmpError {
                class: "GenericError".into(),
                desc: "no".into(),
            },
        };
        assert!(command.is_qmp());
        assert_eq!(
            command.qmp_error().map(|e| e.class.as_str()),
            Some("GenericError")
        );
        let reply = serde_json::json!({"running": true});
        let source = serde_json::from_value::<u8>(reply.clone()).unwrap_err();
        let decode = Error::decode("query-status", Some(reply.clone()), source);
        assert!(decode.is_decode() && !decode.is_protocol());
        assert_eq!(decode.raw_reply(), Some(&reply));
        assert!(std::error::Error::source(&decode).is_some());
        assert!(Error::Protocol("x".into()).is_protocol());
        assert!(Error::NotQmp { sent: "x".into() }.is_protocol());
        let source = serde_json::from_str::<u8>("x").unwrap_err();
        assert!(Error::serialize("stop", source).is_usage());
    }

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
