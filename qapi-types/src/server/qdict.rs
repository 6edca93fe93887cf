//! The order in which QEMU's dictionary (`QDict`) visits its keys: 512
//! buckets by `tdb_hash`, each listing the key inserted last first. It
//! decides which of several faults in a request QEMU reports.

/// `QDict`'s number of buckets.
const BUCKETS: u32 = 512;

/// `keys`, given in the order they were inserted, in the order a `QDict`
/// holding them visits them.
pub(crate) fn qdict_order<'k>(keys: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
    let mut keys: Vec<&str> = keys.into_iter().collect();
    // Newest first within a bucket: reversed, then sorted stably.
    keys.reverse();
    keys.sort_by_cached_key(|key| tdb_hash(key) % BUCKETS);
    keys
}

/// QEMU's `tdb_hash`, which places a key in a bucket.
fn tdb_hash(name: &str) -> u32 {
    let bytes = name.as_bytes();
    // A C string ends at its first NUL.
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let mut value = 0x238F_13AFu32.wrapping_mul(len as u32);
    for (i, &byte) in bytes[..len].iter().enumerate() {
        value = value.wrapping_add(u32::from(byte) << ((i * 5) % 24));
    }
    1_103_515_243u32.wrapping_mul(value).wrapping_add(12345)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sharing_a_bucket_are_visited_newest_first() {
        let keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        let order = qdict_order(keys);
        assert_eq!(order.len(), keys.len());
        for pair in order.windows(2) {
            let bucket = |key: &str| tdb_hash(key) % BUCKETS;
            let (first, second) = (pair[0], pair[1]);
            assert!(bucket(first) <= bucket(second));
            if bucket(first) == bucket(second) {
                let at = |key| keys.iter().position(|k| *k == key);
                assert!(at(first) > at(second));
            }
        }
    }

    #[test]
    fn the_hash_is_qemus() {
        assert_eq!(tdb_hash(""), 12345);
    }

    #[test]
    fn a_key_ends_at_its_first_nul_as_a_c_string_does() {
        assert_eq!(tdb_hash("ab\0c"), tdb_hash("ab"));
    }
}
