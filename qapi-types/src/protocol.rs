//! The QMP wire protocol: the greeting, requests, and the messages a
//! server sends (replies, errors, events), each a JSON object (one a
//! line, or pretty-printed over several: see the framing module).

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Error;
pub use crate::error::QmpError;
use crate::qmp::{QMPCapability, VersionInfo};
use crate::{Command, RawEvent};

/// The server's greeting: `{"QMP": {"version": ..., "capabilities": [...]}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Greeting {
    version: Option<VersionInfo>,
    raw_version: Value,
    capabilities: Vec<QMPCapability>,
}

impl Greeting {
    /// The server's version, as `query-version` returns it; `None` when
    /// the greeting's has another shape (see [`Greeting::raw_version`]).
    pub fn version(&self) -> Option<&VersionInfo> {
        self.version.as_ref()
    }

    /// The server's version as it was sent (`null` when it sent none).
    pub fn raw_version(&self) -> &Value {
        &self.raw_version
    }

    /// The capabilities the server offers. One that is not a string is
    /// kept as [`QMPCapability::Unrecognized`] with its JSON text.
    pub fn capabilities(&self) -> &[QMPCapability] {
        &self.capabilities
    }

    /// Whether the server offers a capability.
    pub fn offers(&self, capability: &QMPCapability) -> bool {
        self.capabilities.contains(capability)
    }
}

impl<'de> Deserialize<'de> for Greeting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The greeting as sent.
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "QMP")]
            qmp: Body,
        }
        /// What `QMP` holds.
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            version: Value,
            #[serde(default)]
            capabilities: Vec<Value>,
        }
        let Envelope { qmp } = Envelope::deserialize(deserializer)?;
        let capabilities = qmp
            .capabilities
            .into_iter()
            .map(|capability| match capability {
                Value::String(name) => QMPCapability::deserialize(Value::String(name.clone()))
                    .unwrap_or(QMPCapability::Unrecognized(name)),
                other => QMPCapability::Unrecognized(other.to_string()),
            })
            .collect();
        Ok(Greeting {
            version: VersionInfo::deserialize(&qmp.version).ok(),
            raw_version: qmp.version,
            capabilities,
        })
    }
}

/// A message from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// A success, with the request's id if it had one.
    Return {
        /// The id.
        id: Option<Value>,
        /// The returned value.
        value: Value,
    },
    /// An error, with the request's id if the server could read it.
    Error {
        /// The id.
        id: Option<Value>,
        /// The error.
        error: QmpError,
    },
    /// An asynchronous event.
    Event(RawEvent),
    /// A greeting (at the start of a connection).
    Greeting(Greeting),
}

impl Message {
    /// Parses one message of server output.
    pub fn parse(line: &[u8]) -> Result<Self, ParseError> {
        let mut object: Map<String, Value> = match serde_json::from_slice(line) {
            Ok(object) => object,
            Err(error) => return Err(Self::undecodable(line, error)),
        };
        let id = object.remove("id");
        if let Some(value) = object.remove("return") {
            return Ok(Message::Return { id, value });
        }
        if let Some(error) = object.remove("error") {
            return match serde_json::from_value(error) {
                Ok(error) => Ok(Message::Error { id, error }),
                Err(e) => Err(ParseError::MalformedError {
                    id,
                    reason: e.to_string(),
                }),
            };
        }
        if object.contains_key("event") {
            let event = serde_json::from_value(Value::Object(object))
                .map_err(|e| ParseError::MalformedEvent(e.to_string()))?;
            return Ok(Message::Event(event));
        }
        if object.contains_key("QMP") {
            let greeting = serde_json::from_value(Value::Object(object))
                .map_err(|e| ParseError::MalformedGreeting(e.to_string()))?;
            return Ok(Message::Greeting(greeting));
        }
        Err(ParseError::Unrecognized)
    }

    /// Why a message that does not parse does not: an object nested
    /// deeper than [`MAX_DEPTH`] (read again without building it, which
    /// takes no recursion), or not a JSON object at all.
    fn undecodable(line: &[u8], error: serde_json::Error) -> ParseError {
        /// The top level of a message, its contents skipped.
        #[derive(Deserialize)]
        struct Envelope {
            id: Option<Value>,
            #[serde(rename = "return", default, deserialize_with = "present")]
            returned: bool,
            #[serde(default, deserialize_with = "present")]
            error: bool,
            #[serde(rename = "QMP", default, deserialize_with = "present")]
            greeting: bool,
        }
        /// That a key is there, whatever its value (`null` included).
        fn present<'de, D: serde::Deserializer<'de>>(value: D) -> Result<bool, D::Error> {
            IgnoredAny::deserialize(value).map(|_| true)
        }
        // serde_json says so only in its message; anything else wrong
        // (invalid JSON deeper down, which the second reading would
        // skip) is what it says.
        if !error.to_string().starts_with("recursion limit exceeded") {
            return ParseError::NotAnObject(error.to_string());
        }
        match serde_json::from_slice::<Envelope>(line) {
            Ok(Envelope { greeting: true, .. }) => {
                ParseError::MalformedGreeting(format!("nested deeper than {MAX_DEPTH} levels"))
            }
            Ok(envelope) => ParseError::TooDeep {
                reply: envelope.returned || envelope.error,
                id: envelope.id,
            },
            Err(_) => ParseError::NotAnObject(error.to_string()),
        }
    }
}

/// How deeply nested a message may be: serde_json's limit. Decoding
/// recurses once a level at least (several times for typed replies), and
/// at this depth a typed reply fits a thread's stack in a debug build
/// with room to spare.
pub const MAX_DEPTH: usize = 128;

/// How many calls may have been given up on (out of time, or cancelled)
/// with their replies still to come; one more closes the connection: a
/// server that never answers.
pub(crate) const MAX_ABANDONED: usize = 1024;

/// Why a line of server output is not a [`Message`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not a JSON object: not JSON at all, or another JSON value. The protocol allows nothing else,
    /// so the client and the server no longer agree on what is sent.
    #[error("a line that is not a JSON object ({0})")]
    NotAnObject(String),
    /// An error reply whose `error` is not `{"class": ..., "desc": ...}`:
    /// it still answers the request with this id (or the oldest one).
    #[error("a malformed error reply ({reason})")]
    MalformedError {
        /// The reply's id.
        id: Option<Value>,
        /// What is wrong with it.
        reason: String,
    },
    /// A JSON object nested deeper than [`MAX_DEPTH`] levels (a
    /// `query-block` reply on a backing chain of more than about 120
    /// images, say): a reply among them fails its call, and the
    /// connection stays usable.
    #[error("a message nested deeper than {MAX_DEPTH} levels, the most this client decodes")]
    TooDeep {
        /// The message's id.
        id: Option<Value>,
        /// Whether it is a reply (`return` or `error`), not an event.
        reply: bool,
    },
    /// An object with an `event` key that is not an event.
    #[error("a malformed event ({0})")]
    MalformedEvent(String),
    /// An object with a `QMP` key that is not a greeting.
    #[error("a malformed greeting ({0})")]
    MalformedGreeting(String),
    /// A JSON object that is neither a reply, an error, an event nor a
    /// greeting (perhaps of a newer protocol).
    #[error("a message that is neither a reply, an error, an event nor a greeting")]
    Unrecognized,
}

impl ParseError {
    /// For a message that is a reply all the same (a malformed error, a
    /// reply nested too deeply): its id, and what its call fails with.
    pub(crate) fn failed_reply(
        &self,
        command: &str,
        line: &[u8],
    ) -> Option<(Option<Value>, Error)> {
        match self {
            ParseError::MalformedError { id, .. } => Some((id.clone(), violation(self, line))),
            ParseError::TooDeep { id, reply: true } => Some((
                id.clone(),
                Error::decode(command, None, serde::de::Error::custom(self.to_string())),
            )),
            _ => None,
        }
    }
}

/// The beginning of a line, for an error message: at most [`EXCERPT`]
/// characters, control characters escaped, `…` where it was cut.
pub(crate) fn excerpt(line: &[u8]) -> String {
    // Four bytes a character at most: enough to fill the excerpt.
    let text = String::from_utf8_lossy(&line[..line.len().min(EXCERPT * 4)]);
    let mut out = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(EXCERPT) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() || line.len() > EXCERPT * 4 {
        out.push('…');
    }
    out
}

/// How many characters of a line [`excerpt`] keeps.
const EXCERPT: usize = 80;

/// The error for a line that breaks the protocol: what is wrong with it
/// and how it begins.
pub(crate) fn violation(error: &ParseError, line: &[u8]) -> Error {
    Error::Protocol(format!("the server sent {error}: '{}'", excerpt(line)))
}

/// A command's arguments as JSON.
pub(crate) fn arguments<C: Command>(command: &C) -> Result<Value, Error> {
    serde_json::to_value(command).map_err(|e| Error::serialize(C::NAME, e))
}

/// A command's reply as its return type; a reply that does not decode is
/// kept in the error.
pub(crate) fn decode_reply<C: Command>(value: Value) -> Result<C::Ok, Error> {
    match C::Ok::deserialize(&value) {
        Ok(decoded) => Ok(decoded),
        Err(error) => Err(Error::decode(C::NAME, Some(value), error)),
    }
}

/// How a command is to be executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub enum Execution {
    /// In band: `{"execute": ...}`.
    InBand,
    /// Out of band: `{"exec-oob": ...}`.
    OutOfBand,
    /// Out of band with QEMU 2.12's syntax:
    /// `{"execute": ..., "control": {"run-oob": true}}`.
    OutOfBandLegacy,
}

/// Writes a request as one line: `{"execute":"NAME","arguments":{...},"id":N}`
/// with no whitespace, `arguments` left out when empty. QEMU reads its
/// monitor a byte at a time, so every byte saved counts.
#[doc(hidden)]
pub fn write_request(
    out: &mut Vec<u8>,
    name: &str,
    arguments: &Value,
    id: Option<u64>,
    execution: Execution,
) {
    let key = match execution {
        Execution::OutOfBand => "exec-oob",
        _ => "execute",
    };
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    serde_json::to_writer(&mut *out, name).expect("strings serialize");
    let empty = matches!(arguments, Value::Object(map) if map.is_empty()) || arguments.is_null();
    if !empty {
        out.extend_from_slice(b",\"arguments\":");
        serde_json::to_writer(&mut *out, arguments).expect("JSON values serialize");
    }
    if execution == Execution::OutOfBandLegacy {
        out.extend_from_slice(b",\"control\":{\"run-oob\":true}");
    }
    if let Some(id) = id {
        out.extend_from_slice(b",\"id\":");
        out.extend_from_slice(id.to_string().as_bytes());
    }
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_are_minimal() {
        let mut out = Vec::new();
        write_request(
            &mut out,
            "query-version",
            &json!({}),
            Some(7),
            Execution::InBand,
        );
        assert_eq!(out, b"{\"execute\":\"query-version\",\"id\":7}\n");
        out.clear();
        write_request(
            &mut out,
            "yank",
            &json!({"instances": []}),
            Some(8),
            Execution::OutOfBand,
        );
        assert_eq!(
            out,
            b"{\"exec-oob\":\"yank\",\"arguments\":{\"instances\":[]},\"id\":8}\n"
        );
        out.clear();
        write_request(
            &mut out,
            "migrate-pause",
            &json!({}),
            Some(9),
            Execution::OutOfBandLegacy,
        );
        assert_eq!(
            out,
            b"{\"execute\":\"migrate-pause\",\"control\":{\"run-oob\":true},\"id\":9}\n"
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            Message::parse(br#"{"return": {}, "id": 3}"#),
            Ok(Message::Return {
                id: Some(json!(3)),
                value: json!({})
            })
        );
        let Ok(Message::Error { id: None, error }) =
            Message::parse(br#"{"error": {"class": "GenericError", "desc": "JSON parse error"}}"#)
        else {
            panic!("an error without id");
        };
        assert_eq!(error.class, "GenericError");

        assert!(matches!(
            Message::parse(br#"{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}"#),
            Ok(Message::Event(_))
        ));
        let Ok(Message::Greeting(greeting)) =
            Message::parse(br#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": ["oob"]}}"#)
        else {
            panic!("a greeting");
        };
        assert!(greeting.offers(&QMPCapability::Oob));
        assert_eq!(greeting.version().map(|v| v.qemu.major), Some(10));
        assert_eq!(greeting.raw_version()["qemu"]["major"], 10);
        let Ok(Message::Greeting(odd)) =
            Message::parse(br#"{"QMP": {"version": "9", "capabilities": ["oob", "x", 3]}}"#)
        else {
            panic!("an odd greeting");
        };
        assert_eq!(odd.version(), None);
        assert_eq!(odd.raw_version(), &json!("9"));
        assert_eq!(
            odd.capabilities(),
            [
                QMPCapability::Oob,
                QMPCapability::Unrecognized("x".into()),
                QMPCapability::Unrecognized("3".into())
            ]
        );
        assert!(matches!(
            Message::parse(br#"{"QMP": 5}"#),
            Err(ParseError::MalformedGreeting(_))
        ));
        assert!(matches!(
            Message::parse(br#"{"event": "STOP"}"#),
            Err(ParseError::MalformedEvent(_))
        ));
        assert!(matches!(
            Message::parse(b"{not json"),
            Err(ParseError::NotAnObject(_))
        ));
        assert!(matches!(
            Message::parse(b"[1]"),
            Err(ParseError::NotAnObject(_))
        ));
        let deep = [vec![b'['; 100_000], vec![b']'; 100_000]].concat();
        assert!(matches!(
            Message::parse(&deep),
            Err(ParseError::NotAnObject(_))
        ));
        // Nested deeper than the limit, and read without recursing.
        let nested = |depth: usize, key: &str| {
            let inner = "[".repeat(depth) + &"]".repeat(depth);
            format!(r#"{{"{key}": {inner}, "id": 9}}"#)
        };
        assert!(Message::parse(nested(MAX_DEPTH - 2, "return").as_bytes()).is_ok());
        for (key, reply) in [("return", true), ("error", true), ("event", false)] {
            assert_eq!(
                Message::parse(nested(100_000, key).as_bytes()),
                Err(ParseError::TooDeep {
                    id: Some(json!(9)),
                    reply
                })
            );
        }
        assert!(matches!(
            Message::parse(format!("{}x", nested(200, "return")).as_bytes()),
            Err(ParseError::NotAnObject(_))
        ));
        // A reply whose value is null, deep beside it, is a reply.
        let null_reply = format!(r#"{{"return": null, "id": 3, "x": {}}}"#, nested(200, "y"));
        assert_eq!(
            Message::parse(null_reply.as_bytes()),
            Err(ParseError::TooDeep {
                id: Some(json!(3)),
                reply: true
            })
        );
        // A deep greeting is a malformed one.
        assert!(matches!(
            Message::parse(nested(200, "QMP").as_bytes()),
            Err(ParseError::MalformedGreeting(_))
        ));
        // Invalid JSON is that, not depth, wherever it is.
        for invalid in [
            r#"{"return": 1e400, "id": 1}"#,
            r#"{"return": "\ud800", "id": 1}"#,
        ] {
            assert!(
                matches!(
                    Message::parse(invalid.as_bytes()),
                    Err(ParseError::NotAnObject(_))
                ),
                "{invalid}"
            );
        }
        assert_eq!(Message::parse(b"{}"), Err(ParseError::Unrecognized));
        assert_eq!(
            Message::parse(br#"{"error": {"class": "GenericError"}, "id": 4}"#),
            Err(ParseError::MalformedError {
                id: Some(json!(4)),
                reason: "missing field `desc`".into()
            })
        );
    }
}

#[cfg(test)]
mod excerpt_tests {
    use super::excerpt;

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt(b"{this is not json"), "{this is not json");
        let long = excerpt(&vec![b'['; 100_000]);
        assert_eq!(long, format!("{}…", "[".repeat(80)));
        assert_eq!(excerpt(b"a\tb\x1b[0m"), "a\\tb\\u{1b}[0m");
        assert_eq!(excerpt(b"\xff\xfe"), "\u{fffd}\u{fffd}");
        assert_eq!(excerpt("é".repeat(80).as_bytes()), "é".repeat(80));
        assert_eq!(
            excerpt("é".repeat(81).as_bytes()),
            format!("{}…", "é".repeat(80))
        );
        assert_eq!(excerpt(b""), "");
    }
}
