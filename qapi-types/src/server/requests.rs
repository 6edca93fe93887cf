//! The way a connection reads requests (QEMU's JSON streamer, then the
//! checks of the request's members), with nothing of a connection around
//! it: for the fuzz target, through [`crate::fuzzing`].

use serde_json::{Map, Value};

use super::json::Streamer;
use super::request::Request;
use crate::error::QmpError;

/// What one request came to: whether it skips the in-band queue, the id
/// its reply echoes, and the command it names (its name, arguments and
/// whether it runs out of band) or the error QEMU answers.
pub type ReadRequest = (
    bool,
    Option<Value>,
    Result<(String, Map<String, Value>, bool), QmpError>,
);

/// Reads requests from a byte stream as a connection does.
#[derive(Debug)]
pub struct RequestReader {
    streamer: Streamer,
    allow_oob: bool,
    legacy: bool,
}

impl RequestReader {
    /// A reader holding at most `limit` bytes of one request's text, with
    /// out-of-band execution on or off and QEMU 2.12's syntax accepted or
    /// not.
    pub fn new(limit: usize, allow_oob: bool, legacy: bool) -> Self {
        Self {
            streamer: Streamer::new(limit),
            allow_oob,
            legacy,
        }
    }

    /// Reads bytes of `input` until a request completes (or `input`
    /// ends): how many it took, and the requests completed, checked.
    pub fn read(&mut self, input: &[u8]) -> (usize, Vec<ReadRequest>) {
        let mut parsed = Vec::new();
        let taken = self.streamer.feed(input, &mut parsed);
        let requests = parsed
            .into_iter()
            .map(|value| {
                let request = Request::new(value);
                let skips = request.skips_queue(self.legacy);
                let id = request.id().cloned();
                let call = request
                    .check(self.allow_oob, self.legacy)
                    .map(|call| (call.name, call.arguments, call.oob));
                (skips, id, call)
            })
            .collect();
        (taken, requests)
    }

    /// The bytes held of a request begun.
    pub fn buffered(&self) -> usize {
        self.streamer.buffered()
    }
}
