//! What a request asks for, checked as QEMU's dispatcher checks it
//! (`qmp_dispatch_check_obj`): its members, in the order QEMU's
//! dictionary visits them, which decides which error is reported first.

use serde_json::{Map, Value};

use super::json::Parsed;
use super::qdict::qdict_order;
use crate::error::QmpError;

/// A request read from a client, before it is run.
#[derive(Debug)]
pub(crate) struct Request {
    parsed: Parsed,
}

/// A request that names a command, checked.
#[derive(Debug)]
pub(crate) struct Call {
    /// The command.
    pub(crate) name: String,
    /// The arguments (empty when there were none).
    pub(crate) arguments: Map<String, Value>,
    /// Whether it asks for out-of-band execution.
    pub(crate) oob: bool,
}

impl Request {
    /// A request as the streamer completed it.
    pub(crate) fn new(parsed: Parsed) -> Self {
        Self { parsed }
    }

    /// Whether it skips the in-band queue, as QEMU decides when it reads
    /// it: `exec-oob` without `execute` (or, with QEMU 2.12's syntax
    /// accepted, `"control": {"run-oob": true}`), whatever the rest.
    pub(crate) fn skips_queue(&self, legacy: bool) -> bool {
        let Parsed::Object(map, _) = &self.parsed else {
            return false;
        };
        if map.contains_key("execute") {
            return legacy && run_oob(map.get("control"));
        }
        map.contains_key("exec-oob")
    }

    /// The id, to echo in the reply (`None` when the request had none or
    /// is not an object).
    pub(crate) fn id(&self) -> Option<&Value> {
        match &self.parsed {
            Parsed::Object(map, _) => map.get("id"),
            _ => None,
        }
    }

    /// Checks the request as QEMU does before it looks the command up:
    /// `allow_oob` when out-of-band execution is on for the connection,
    /// `legacy` when QEMU 2.12's `control` member is accepted.
    pub(crate) fn check(self, allow_oob: bool, legacy: bool) -> Result<Call, QmpError> {
        let (mut map, order) = match self.parsed {
            Parsed::Error(desc) => return Err(QmpError::generic(desc)),
            Parsed::Other(_) => {
                return Err(QmpError::generic("QMP input must be a JSON object"));
            }
            Parsed::Object(map, order) => (map, order),
        };
        let mut exec_key: Option<&str> = None;
        for key in qdict_order(order.iter().map(String::as_str)) {
            let value = &map[key];
            match key {
                "execute" | "exec-oob" if key == "execute" || allow_oob => {
                    if !value.is_string() {
                        return Err(QmpError::generic(format!(
                            "QMP input member '{key}' must be a string"
                        )));
                    }
                    if let Some(first) = exec_key {
                        return Err(QmpError::generic(format!(
                            "QMP input member '{key}' clashes with '{first}'"
                        )));
                    }
                    exec_key = Some(key);
                }
                "arguments" if !value.is_object() => {
                    return Err(QmpError::generic(
                        "QMP input member 'arguments' must be an object",
                    ));
                }
                "control" if legacy && !value.is_object() => {
                    return Err(QmpError::generic(
                        "QMP input member 'control' must be an object",
                    ));
                }
                "arguments" | "id" => {}
                "control" if legacy => {}
                _ => {
                    return Err(QmpError::generic(format!(
                        "QMP input member '{key}' is unexpected"
                    )));
                }
            }
        }
        let Some(exec_key) = exec_key else {
            return Err(QmpError::generic("QMP input lacks member 'execute'"));
        };
        let oob = exec_key == "exec-oob" || (legacy && run_oob(map.get("control")));
        let name = match map.remove(exec_key) {
            Some(Value::String(name)) => name,
            _ => String::new(),
        };
        let arguments = match map.remove("arguments") {
            Some(Value::Object(arguments)) => arguments,
            _ => Map::new(),
        };
        Ok(Call {
            name,
            arguments,
            oob,
        })
    }
}

/// Whether QEMU 2.12's `control` member asks for out-of-band execution.
fn run_oob(control: Option<&Value>) -> bool {
    control.and_then(|c| c.get("run-oob")) == Some(&Value::Bool(true))
}

#[cfg(test)]
mod tests {
    use super::super::json::Streamer;
    use super::*;

    fn request(text: &str) -> Request {
        let mut streamer = Streamer::new(1 << 20);
        let mut out = Vec::new();
        for &byte in text.as_bytes() {
            streamer.push(byte, &mut out);
        }
        assert_eq!(out.len(), 1, "{out:?}");
        Request::new(out.remove(0))
    }

    fn error(text: &str, oob: bool) -> String {
        request(text).check(oob, false).unwrap_err().desc
    }

    #[test]
    fn the_first_error_is_the_one_qemu_visits_first() {
        // qemu-storage-daemon 10.0.2 reports 'baz' here.
        assert_eq!(
            error(
                r#"{"execute":"query-version","foo":1,"bar":2,"baz":3}"#,
                true
            ),
            "QMP input member 'baz' is unexpected"
        );
        assert_eq!(
            error(r#"{"execute":"x","exec-oob":"y","id":5}"#, true),
            "QMP input member 'execute' clashes with 'exec-oob'"
        );
        assert_eq!(
            error(r#"{"exec-oob":"x"}"#, false),
            "QMP input member 'exec-oob' is unexpected"
        );
        assert_eq!(
            error(r#"{"id":1}"#, true),
            "QMP input lacks member 'execute'"
        );
        assert_eq!(
            error(r#"{"execute":1}"#, true),
            "QMP input member 'execute' must be a string"
        );
        assert_eq!(
            error(r#"{"execute":"x","arguments":[]}"#, true),
            "QMP input member 'arguments' must be an object"
        );
        assert_eq!(error("[1]", true), "QMP input must be a JSON object");
    }

    #[test]
    fn out_of_band_requests_skip_the_queue() {
        assert!(request(r#"{"exec-oob":"x"}"#).skips_queue(false));
        assert!(!request(r#"{"exec-oob":"x","execute":"y"}"#).skips_queue(false));
        let legacy = r#"{"execute":"x","control":{"run-oob":true}}"#;
        assert!(!request(legacy).skips_queue(false));
        assert!(request(legacy).skips_queue(true));
        let call = request(legacy).check(true, true).unwrap();
        assert!(call.oob && call.name == "x");
        assert_eq!(
            request(legacy).check(true, false).unwrap_err().desc,
            "QMP input member 'control' is unexpected"
        );
    }
}
