//! What can go wrong talking to a server.

use std::fmt;
use std::sync::Arc;

use crate::protocol::QmpError;

/// An error of a client call.
#[derive(Clone, Debug)]
pub enum Error {
    /// The server answered with an error.
    Command {
        /// The command's wire name.
        command: String,
        /// What the server said.
        error: QmpError,
    },
    /// The reply did not match the command's return type.
    Decode {
        /// The command's wire name.
        command: String,
        /// Why it did not match.
        message: String,
    },
    /// The connection is closed (or broke); the text says why.
    Closed(Arc<str>),
    /// The server sent something the protocol does not allow.
    Protocol(String),
    /// The call took longer than its timeout.
    Timeout {
        /// The command's wire name.
        command: String,
    },
    /// Commands other than `qmp_capabilities` are refused until
    /// capabilities are negotiated.
    NotNegotiated {
        /// The command's wire name.
        command: String,
    },
    /// Reading or writing failed.
    Io(Arc<std::io::Error>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Command { command, error } => {
                write!(f, "{command}: {}: {}", error.class, error.desc)
            }
            Error::Decode { command, message } => {
                write!(f, "{command}: unexpected reply: {message}")
            }
            Error::Closed(why) => write!(f, "connection closed: {why}"),
            Error::Protocol(what) => write!(f, "protocol error: {what}"),
            Error::Timeout { command } => write!(f, "{command}: no reply in time"),
            Error::NotNegotiated { command } => {
                write!(
                    f,
                    "{command}: capabilities are not negotiated yet (send qmp_capabilities first)"
                )
            }
            Error::Io(error) => write!(f, "I/O error: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(error) => Some(&**error),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Io(Arc::new(error))
    }
}
