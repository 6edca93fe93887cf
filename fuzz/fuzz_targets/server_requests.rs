//! Feeds arbitrary bytes to the server's request reader (QEMU's JSON
//! streamer and the checks of a request's members), in chunks whose sizes
//! the input chooses, and checks the arguments of each command the core
//! protocol's bindings know.
//!
//! Run with `cargo fuzz run server_requests` from the `fuzz/` directory.
//! Checks that nothing panics, that the reader never holds more than its
//! limit allows, and that the requests do not depend on how the stream
//! was split.
#![no_main]

mod chunks;

use chunks::{chunks, sizes_and_stream};
use libfuzzer_sys::fuzz_target;
use qapi_types::fuzzing::{ReadRequest, RequestReader};
use qapi_types::qmp::SCHEMA;
use qapi_types::server::{check_arguments, Conditions};

/// Small, so that the fuzzer reaches the limit.
const LIMIT: usize = 256;

/// The requests of `stream` read in chunks of the sizes `sizes` cycles
/// through.
fn read(stream: &[u8], sizes: &[u8], allow_oob: bool, legacy: bool) -> Vec<ReadRequest> {
    let mut reader = RequestReader::new(LIMIT, allow_oob, legacy);
    let mut requests = Vec::new();
    for mut input in chunks(stream, sizes) {
        while !input.is_empty() {
            let (taken, read) = reader.read(input);
            assert!(taken <= input.len());
            // The text of a value and of a token, each cut at the limit.
            assert!(reader.buffered() <= 2 * LIMIT + 2);
            if read.is_empty() {
                assert_eq!(taken, input.len(), "stopped with nothing read");
            }
            input = &input[taken..];
            for (_, _, call) in &read {
                if let Ok((name, arguments, _)) = call {
                    if let Some(command) = SCHEMA.command(name) {
                        let _ = check_arguments(&SCHEMA, command, arguments, &Conditions::all());
                    }
                }
            }
            requests.extend(read);
        }
    }
    requests
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the settings and how many chunk sizes follow;
    // the rest is the stream.
    let first = data.first().copied().unwrap_or(0);
    let (allow_oob, legacy) = (first & 0x10 != 0, first & 0x20 != 0);
    let (sizes, stream) = sizes_and_stream(data, usize::from(first % 8));
    let whole = read(stream, &[], allow_oob, legacy);
    let chunked = read(stream, sizes, allow_oob, legacy);
    assert_eq!(whole, chunked, "the split changed the requests");
});
