//! How the targets that feed a reader cut the fuzzer's input: chunk sizes
//! first, then the stream, read in chunks of those sizes.

/// `data` after its first byte, cut into up to `count` chunk sizes and
/// the stream (the first byte is the target's to read).
pub fn sizes_and_stream(data: &[u8], count: usize) -> (&[u8], &[u8]) {
    data.get(1..)
        .unwrap_or_default()
        .split_at(count.min(data.len().saturating_sub(1)))
}

/// `stream` in chunks whose sizes cycle through `sizes` (a byte a size,
/// less one); the whole stream at once when `sizes` is empty.
pub fn chunks<'a>(stream: &'a [u8], sizes: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut at = 0;
    let mut chunk = 0;
    std::iter::from_fn(move || {
        if at >= stream.len() {
            return None;
        }
        let size = sizes
            .get(chunk % sizes.len().max(1))
            .map_or(stream.len(), |&s| usize::from(s) + 1);
        chunk += 1;
        let input = &stream[at..stream.len().min(at + size)];
        at += input.len();
        Some(input)
    })
}
