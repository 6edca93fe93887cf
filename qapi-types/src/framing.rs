//! Where a server's messages begin and end in its output: one a line, or,
//! from a QMP monitor started with `pretty=on`, one over many lines, the
//! first of which is a lone `{`.
//!
//! [`Framer`] joins lines; [`Decoder`] cuts a byte stream, read in chunks
//! of any size, into lines and hands them to a [`Framer`], holding no more
//! than the largest message allowed. Every client reads through a
//! [`Decoder`]: the blocking ones in their connection, the async ones
//! with `read_message`.

/// Joins the lines of a message written over several lines.
///
/// A message starts on a line of its own; one whose first line is not a
/// lone `{` is that line, as the protocol's compact output is, so that a
/// malformed line is reported at once rather than read on from. A
/// pretty-printed message ends with the line that closes its outermost
/// object.
#[derive(Debug, Default)]
pub(crate) struct Framer {
    /// The lines of a message begun, each ending in `\n`.
    message: Vec<u8>,
    /// Objects and arrays open at the end of `message`.
    depth: usize,
    /// Whether `message` ends inside a string.
    in_string: bool,
    /// Whether `message` ends in a string's backslash.
    escaped: bool,
}

impl Framer {
    /// Takes one line without its line ending; a message when it
    /// completes one. A line ending inside a string ends the message
    /// too: JSON strings hold no line breaks, so the message is
    /// malformed, and is reported as such rather than read on from.
    /// Blank lines between messages are skipped; within one, they count
    /// against the limit like any other.
    pub(crate) fn push(&mut self, line: Vec<u8>) -> Option<Vec<u8>> {
        if self.message.is_empty() {
            match line.trim_ascii() {
                b"" => return None,
                b"{" => {}
                _ => return Some(line),
            }
        }
        let closed = self.scan(&line) || self.in_string;
        self.message.extend_from_slice(&line);
        self.message.push(b'\n');
        closed.then(|| std::mem::take(self).message)
    }

    /// The bytes of the message begun: what a line adds to counts
    /// against the same limit.
    pub(crate) fn len(&self) -> usize {
        self.message.len()
    }

    /// Follows a line's strings and brackets; whether the outermost
    /// object closed in it.
    fn scan(&mut self, line: &[u8]) -> bool {
        let mut closed = false;
        for &byte in line {
            if self.in_string {
                match byte {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    closed |= self.depth == 0;
                }
                _ => {}
            }
        }
        closed
    }
}

/// Cuts the bytes a server sends, however they are split across reads,
/// into messages: lines (`\n`- or `\r\n`-terminated) joined by a
/// `Framer`. What it holds of a message begun never exceeds its limit
/// (and a line ending's `\r`).
#[derive(Debug)]
pub struct Decoder {
    /// The bytes of a line begun, without its line ending.
    line: Vec<u8>,
    framer: Framer,
    /// The largest message accepted, in bytes.
    limit: usize,
}

/// A message longer than the limit: the stream can't be read on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong {
    /// The limit, in bytes.
    pub limit: usize,
}

impl Decoder {
    /// A decoder of messages of at most `limit` bytes (a pretty-printed
    /// message counts all its lines, each but the last with one byte for
    /// its line ending).
    pub fn new(limit: usize) -> Self {
        Self {
            line: Vec::new(),
            framer: Framer::default(),
            limit,
        }
    }

    /// Takes bytes from `input` up to the end of the first message they
    /// complete: how many it took, and the message if one completed
    /// (call again with the rest). A message longer than the limit is
    /// an error: what was held of it is dropped, and the stream is out
    /// of step (the caller closes it).
    pub fn decode(&mut self, input: &[u8]) -> (usize, Option<Result<Vec<u8>, TooLong>>) {
        let mut taken = 0;
        while taken < input.len() {
            let rest = &input[taken..];
            let end = rest.iter().position(|&b| b == b'\n');
            let text = end.unwrap_or(rest.len());
            // A `\r` last (before the `\n`, or where one may follow) is
            // the line ending's: it does not count.
            let last = match text {
                0 => self.line.last().copied(),
                _ => Some(rest[text - 1]),
            };
            let counted = self.line.len() + text - usize::from(last == Some(b'\r'));
            if self.framer.len() + counted > self.limit {
                return (taken, Some(Err(self.too_long())));
            }
            self.line.extend_from_slice(&rest[..text]);
            let Some(end) = end else {
                return (input.len(), None);
            };
            taken += end + 1;
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(message) = self.framer.push(line) {
                return (taken, Some(Ok(message)));
            }
            // The line ending the framer keeps with each line.
            if self.framer.len() > self.limit {
                return (taken, Some(Err(self.too_long())));
            }
        }
        (taken, None)
    }

    /// The error for a message over the limit, what was held of it
    /// dropped.
    fn too_long(&mut self) -> TooLong {
        *self = Self::new(self.limit);
        TooLong { limit: self.limit }
    }

    /// Takes output to be skipped (a guest agent's, before its
    /// delimiter), handing each message of `input` to `each`: a message
    /// over the limit is skipped, however long, up to the end of the line
    /// it stopped at. What is left of a message begun stays held.
    pub(crate) fn skip<E>(
        &mut self,
        mut input: &[u8],
        mut each: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        while !input.is_empty() {
            let (used, message) = self.decode(input);
            input = &input[used..];
            match message {
                Some(Ok(message)) => each(&message)?,
                Some(Err(TooLong { .. })) => {
                    let end = input.iter().position(|&b| b == b'\n');
                    input = &input[end.map_or(input.len(), |at| at + 1)..];
                }
                None => {}
            }
        }
        Ok(())
    }

    /// The largest message accepted, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The bytes held of a message begun: never more than the limit (and
    /// a line ending's `\r`).
    pub fn buffered(&self) -> usize {
        self.framer.len() + self.line.len()
    }
}

/// Reads one message from `reader` with a [`Decoder`] (the async
/// clients' reading; the blocking ones keep theirs in their
/// connection): what follows the message stays buffered in `reader`.
/// `None` at the end of the stream; a message longer than `limit` is a
/// protocol error, and a stream that ends within a message is closed.
#[cfg(feature = "tokio")]
pub(crate) async fn read_message<R>(
    reader: &mut R,
    limit: usize,
) -> Result<Option<Vec<u8>>, crate::error::Error>
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    use crate::error::Error;
    use tokio::io::AsyncBufReadExt;
    let mut decoder = Decoder::new(limit);
    loop {
        let input = reader.fill_buf().await?;
        if input.is_empty() {
            return match decoder.buffered() {
                0 => Ok(None),
                _ => Err(Error::Closed(
                    "the server closed the connection mid-message".into(),
                )),
            };
        }
        let (used, message) = decoder.decode(input);
        reader.consume(used);
        match message {
            None => {}
            Some(Ok(message)) => return Ok(Some(message)),
            Some(Err(TooLong { limit })) => {
                return Err(Error::Protocol(format!(
                    "a message longer than {limit} bytes"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Decoder, Framer, TooLong};

    fn messages(output: &str) -> Vec<String> {
        let mut framer = Framer::default();
        output
            .lines()
            .filter_map(|line| framer.push(line.as_bytes().to_vec()))
            .map(|m| String::from_utf8(m).unwrap())
            .collect()
    }

    #[test]
    fn compact_messages_are_lines() {
        assert_eq!(
            messages("{\"return\": {}}\n\n  \n{\"event\": \"STOP\"}\nnot json\n{\"a\":"),
            [
                "{\"return\": {}}",
                "{\"event\": \"STOP\"}",
                "not json",
                "{\"a\":"
            ]
        );
    }

    #[test]
    fn pretty_messages_are_joined() {
        let output =
            "{\n    \"return\": {\n    },\n    \"id\": 1\n}\n{\n    \"return\": [\n    ]\n}\n";
        let joined = messages(output);
        assert_eq!(joined.len(), 2);
        let first: serde_json::Value = serde_json::from_str(&joined[0]).unwrap();
        assert_eq!(first, serde_json::json!({"return": {}, "id": 1}));
        let second: serde_json::Value = serde_json::from_str(&joined[1]).unwrap();
        assert_eq!(second, serde_json::json!({"return": []}));
    }

    #[test]
    fn brackets_and_quotes_in_strings_are_text() {
        let output = "{\n    \"desc\": \"a } and a \\\" and a \\\\\",\n    \"x\": \"{[\"\n}\n{\"return\": 1}\n";
        let joined = messages(output);
        assert_eq!(joined.len(), 2, "{joined:?}");
        let first: serde_json::Value = serde_json::from_str(&joined[0]).unwrap();
        assert_eq!(first["desc"], "a } and a \" and a \\");
        assert_eq!(joined[1], "{\"return\": 1}");
    }

    #[test]
    fn a_line_ending_inside_a_string_ends_the_message() {
        let joined = messages("{\n    \"desc\": \"unterminated\n}\n{\"return\": 1}\n");
        assert_eq!(
            joined,
            ["{\n    \"desc\": \"unterminated\n", "}", "{\"return\": 1}"]
        );
    }

    #[test]
    fn an_unfinished_message_waits_for_more() {
        let mut framer = Framer::default();
        assert_eq!(framer.push(b"{".to_vec()), None);
        assert_eq!(framer.push(b"    \"return\": {".to_vec()), None);
        assert_eq!(framer.len(), 18);
        assert_eq!(framer.push(b"    }".to_vec()), None);
        assert!(framer.push(b"}".to_vec()).is_some());
        assert_eq!(framer.len(), 0);
    }

    #[test]
    fn a_decoder_cuts_chunks_into_messages() {
        let mut decoder = Decoder::new(64);
        let input = b"{\"a\": 1}\r\n{\n \"b\": 2\n}\n{\"c\"";
        let (taken, first) = decoder.decode(input);
        assert_eq!(first, Some(Ok(b"{\"a\": 1}".to_vec())));
        let (more, second) = decoder.decode(&input[taken..]);
        assert_eq!(second, Some(Ok(b"{\n \"b\": 2\n}\n".to_vec())));
        let (last, none) = decoder.decode(&input[taken + more..]);
        assert_eq!((taken + more + last, none), (input.len(), None));
        assert_eq!(decoder.buffered(), 4);
        assert_eq!(
            decoder.decode(b": 3}\n").1,
            Some(Ok(b"{\"c\": 3}".to_vec()))
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn a_decoder_refuses_what_exceeds_its_limit() {
        let mut decoder = Decoder::new(8);
        assert_eq!(
            decoder.decode(b"12345678\n").1,
            Some(Ok(b"12345678".to_vec()))
        );
        assert_eq!(decoder.decode(b"12345"), (5, None));
        assert_eq!(decoder.decode(b"6789").1, Some(Err(TooLong { limit: 8 })));
        assert_eq!(decoder.buffered(), 0);
        assert_eq!(
            decoder.decode(b"{\n123456\n").1,
            Some(Err(TooLong { limit: 8 }))
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn a_line_ending_does_not_count_against_the_limit() {
        let mut decoder = Decoder::new(8);
        assert_eq!(
            decoder.decode(b"12345678\r\n").1,
            Some(Ok(b"12345678".to_vec()))
        );
        // Split between the `\r` and the `\n`.
        assert_eq!(decoder.decode(b"12345678\r"), (9, None));
        assert_eq!(decoder.buffered(), 9);
        assert_eq!(decoder.decode(b"\n").1, Some(Ok(b"12345678".to_vec())));
        // A `\r` the line goes on after is part of it.
        assert_eq!(decoder.decode(b"12345678\r"), (9, None));
        assert_eq!(decoder.decode(b"x").1, Some(Err(TooLong { limit: 8 })));
        assert_eq!(
            decoder.decode(b"123456789\r\n").1,
            Some(Err(TooLong { limit: 8 }))
        );
    }
}
