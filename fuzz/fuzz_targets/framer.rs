//! Feeds arbitrary bytes to the wire decoder the clients read a server's
//! output with: cut into messages (compact or pretty-printed) in chunks
//! whose sizes the input chooses, each message parsed as a QMP message.
//!
//! Run with `cargo fuzz run framer` from the `fuzz/` directory. Checks
//! that nothing panics, that the decoder never holds more than its limit
//! (and a line ending's `\r`),
//! and that the messages do not depend on how the stream was split.
#![no_main]

mod chunks;

use chunks::{chunks, sizes_and_stream};
use libfuzzer_sys::fuzz_target;
use qapi_types::fuzzing::Decoder;
use qapi_types::protocol::Message;

/// Small, so that the fuzzer reaches the limit.
const LIMIT: usize = 256;

/// The messages of `stream` read in chunks of the sizes `sizes` cycles
/// through, and whether the limit stopped it.
fn decode(stream: &[u8], sizes: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let mut decoder = Decoder::new(LIMIT);
    let mut messages = Vec::new();
    for mut input in chunks(stream, sizes) {
        while !input.is_empty() {
            let (taken, message) = decoder.decode(input);
            assert!(taken <= input.len());
            assert!(decoder.buffered() <= LIMIT + 1);
            input = &input[taken..];
            match message {
                Some(Ok(message)) => {
                    assert!(message.len() <= LIMIT + 1);
                    let _ = Message::parse(&message);
                    messages.push(message);
                }
                Some(Err(_)) => return (messages, true),
                None => assert!(input.is_empty()),
            }
        }
    }
    (messages, false)
}

fuzz_target!(|data: &[u8]| {
    // The first bytes choose chunk sizes, the rest is the stream.
    let split = data.first().map_or(0, |&n| usize::from(n % 8));
    let (sizes, stream) = sizes_and_stream(data, split);
    let whole = decode(stream, &[]);
    let chunked = decode(stream, sizes);
    assert_eq!(whole, chunked, "the split changed the messages");
});
