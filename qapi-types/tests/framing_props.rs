//! Properties of the wire decoder the clients read a server's output
//! with: however the stream is split into reads, the same messages come
//! out; arbitrary bytes never panic it, and it never holds more than the
//! largest message allowed.

use proptest::prelude::*;
use qapi_types::fuzzing::{Decoder, TooLong};
use qapi_types::protocol::Message;
use qapi_types::serde_json::{self, json, Value};

/// The messages of `stream` fed in chunks of `sizes` (cycled; the whole
/// stream at once when empty), and the error that stopped it, if any.
fn decode(
    limit: usize,
    stream: &[u8],
    sizes: &[usize],
) -> Result<(Vec<Vec<u8>>, Option<TooLong>), TestCaseError> {
    let mut decoder = Decoder::new(limit);
    let mut messages = Vec::new();
    let mut at = 0;
    for size in sizes.iter().copied().cycle().chain([stream.len()]) {
        if at >= stream.len() {
            break;
        }
        let mut input = &stream[at..stream.len().min(at + size.max(1))];
        at += input.len();
        while !input.is_empty() {
            let (taken, message) = decoder.decode(input);
            prop_assert!(taken <= input.len());
            prop_assert!(decoder.buffered() <= limit, "holds {}", decoder.buffered());
            input = &input[taken..];
            match message {
                Some(Ok(message)) => messages.push(message),
                Some(Err(error)) => return Ok((messages, Some(error))),
                None => prop_assert!(input.is_empty(), "stopped short of a message's end"),
            }
        }
    }
    Ok((messages, None))
}

/// A JSON value of a few levels, with strings holding brackets, quotes
/// and escapes.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z{}\\[\\]\"\\\\ ]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z-]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A server message: a reply or an event, with a value of any shape.
fn message() -> impl Strategy<Value = Value> {
    (value(), any::<u32>(), any::<bool>()).prop_map(|(value, id, event)| {
        if event {
            json!({"event": "X", "data": {"v": value}, "timestamp": {"seconds": 1, "microseconds": 2}})
        } else {
            json!({"return": value, "id": id})
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Messages written compact or pretty-printed (as QEMU's `pretty=on`
    /// monitor writes them), `\n` or `\r\n` terminated, blank lines
    /// between, come out the same however the stream is cut.
    #[test]
    fn any_split_yields_the_same_messages(
        messages in prop::collection::vec((message(), any::<bool>(), any::<bool>(), any::<bool>()), 1..8),
        sizes in prop::collection::vec(1usize..40, 0..8),
    ) {
        let mut stream = Vec::new();
        for (message, pretty, crlf, blank) in &messages {
            let text = if *pretty {
                serde_json::to_string_pretty(message).unwrap()
            } else {
                message.to_string()
            };
            let ending = if *crlf { "\r\n" } else { "\n" };
            stream.extend_from_slice(text.replace('\n', ending).as_bytes());
            stream.extend_from_slice(ending.as_bytes());
            if *blank {
                stream.extend_from_slice(b"\n  \n");
            }
        }
        let (decoded, error) = decode(1 << 20, &stream, &sizes)?;
        prop_assert_eq!(error, None);
        prop_assert_eq!(decoded.len(), messages.len());
        for (bytes, (sent, ..)) in decoded.iter().zip(&messages) {
            let parsed: Value = serde_json::from_slice(bytes)
                .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(bytes))))?;
            prop_assert_eq!(&parsed, sent);
            prop_assert!(Message::parse(bytes).is_ok());
        }
    }

    /// Arbitrary bytes, cut anywhere: no panic, the decoder holds no
    /// more than its limit, and the messages (and where the limit
    /// stopped it) do not depend on the cuts.
    #[test]
    fn arbitrary_bytes_are_bounded_and_split_independent(
        stream in prop::collection::vec(prop_oneof![
            4 => any::<u8>(),
            1 => Just(b'\n'),
            1 => Just(b'{'),
            1 => Just(b'}'),
            1 => Just(b'"'),
        ], 0..2048),
        sizes in prop::collection::vec(1usize..64, 0..8),
        limit in 1usize..300,
    ) {
        let whole = decode(limit, &stream, &[])?;
        let cut = decode(limit, &stream, &sizes)?;
        for message in &whole.0 {
            let _ = Message::parse(message);
        }
        prop_assert_eq!(whole, cut);
    }
}
