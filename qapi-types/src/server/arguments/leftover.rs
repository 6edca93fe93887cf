//! Which of several leftover members QEMU reports as unexpected.
//!
//! QEMU's visitor keeps the names of an object's members not yet read in a
//! GLib hash table (`GHashTable` with `g_str_hash`), filled in the order
//! the object's `QDict` lists them, emptied as members are read, and
//! reports the first name the table's iterator gives once the object's
//! type is read. That order is the hash table's: this module replays the
//! table (GLib 2.74's open addressing with quadratic probing, tombstones,
//! and the in-place resizes), and the `QDict`'s order before it (512
//! buckets by `tdb_hash`, each newest first).
//!
//! A `serde_json` map does not keep the order of the message's text, which
//! `QDict` keeps among names of one bucket: names that share a bucket are
//! taken in the map's order.

use crate::server::qdict::qdict_order;

/// A `GHashTable` starts with `1 << MIN_SHIFT` slots, and never has fewer.
const MIN_SHIFT: u32 = 3;

/// GLib's primes below each power of two, by shift: the hash of a name
/// modulo `PRIME_MOD[shift]` is its first slot.
const PRIME_MOD: [u32; 32] = [
    1,
    2,
    3,
    7,
    13,
    31,
    61,
    127,
    251,
    509,
    1021,
    2039,
    4093,
    8191,
    16381,
    32749,
    65521,
    131_071,
    262_139,
    524_287,
    1_048_573,
    2_097_143,
    4_194_301,
    8_388_593,
    16_777_213,
    33_554_393,
    67_108_859,
    134_217_689,
    268_435_399,
    536_870_909,
    1_073_741_789,
    2_147_483_647,
];

/// A slot's hash that marks it unused.
const UNUSED: u32 = 0;

/// A slot's hash that marks a removed name.
const TOMBSTONE: u32 = 1;

/// The name QEMU reports as unexpected among `keys` (an object's member
/// names, in the map's order), of which those `read` says were read are
/// removed in the order `removed` gives them. `None` if every name was
/// read.
pub(super) fn first_unexpected<'k>(
    keys: impl Iterator<Item = &'k str> + Clone,
    removed: impl Iterator<Item = &'k str>,
) -> Option<&'k str> {
    let names = qdict_order(keys);
    let mut table = Table::new();
    for name in &names {
        table.insert(name);
    }
    for name in removed {
        table.remove(name);
    }
    table.first()
}

/// GLib's `g_str_hash` (djb2 over signed chars), made a real hash as
/// `GHashTable` makes it (0 and 1 mark unused slots and tombstones).
fn str_hash(name: &str) -> u32 {
    let mut hash = 5381u32;
    for &byte in name.as_bytes().iter().take_while(|&&b| b != 0) {
        hash = (hash << 5)
            .wrapping_add(hash)
            .wrapping_add(i32::from(byte as i8) as u32);
    }
    hash.max(2)
}

/// A `GHashTable` of names, as GLib 2.74 lays it out.
struct Table<'k> {
    /// Each slot's hash (or [`UNUSED`], [`TOMBSTONE`]).
    hashes: Vec<u32>,
    /// Each slot's name.
    names: Vec<&'k str>,
    /// The prime the first slot is computed with.
    modulus: u32,
    /// The number of slots less one (a power of two less one).
    mask: u32,
    /// Names held.
    nodes: u32,
    /// Slots not unused: names and tombstones.
    occupied: u32,
}

impl<'k> Table<'k> {
    fn new() -> Self {
        let mut table = Table {
            hashes: Vec::new(),
            names: Vec::new(),
            modulus: 0,
            mask: 0,
            nodes: 0,
            occupied: 0,
        };
        table.set_shift(MIN_SHIFT);
        table.hashes.resize(table.size(), UNUSED);
        table.names.resize(table.size(), "");
        table
    }

    fn size(&self) -> usize {
        self.mask as usize + 1
    }

    fn set_shift(&mut self, shift: u32) {
        self.modulus = PRIME_MOD[shift as usize];
        self.mask = (1u32 << shift) - 1;
    }

    /// The first slot of `hash`.
    fn home(&self, hash: u32) -> u32 {
        hash.wrapping_mul(11) % self.modulus
    }

    fn insert(&mut self, name: &'k str) {
        let hash = str_hash(name);
        let mut index = self.home(hash);
        let mut step = 0;
        let mut tombstone = None;
        loop {
            let slot = self.hashes[index as usize];
            if slot == UNUSED {
                break;
            }
            if slot == hash && self.names[index as usize] == name {
                return;
            }
            if slot == TOMBSTONE && tombstone.is_none() {
                tombstone = Some(index);
            }
            step += 1;
            index = index.wrapping_add(step) & self.mask;
        }
        let index = tombstone.unwrap_or(index) as usize;
        let was_unused = self.hashes[index] == UNUSED;
        self.hashes[index] = hash;
        self.names[index] = name;
        self.nodes += 1;
        if was_unused {
            self.occupied += 1;
            self.maybe_resize();
        }
    }

    fn remove(&mut self, name: &str) {
        let hash = str_hash(name);
        let mut index = self.home(hash);
        let mut step = 0;
        loop {
            let slot = self.hashes[index as usize];
            if slot == UNUSED {
                return;
            }
            if slot == hash && self.names[index as usize] == name {
                break;
            }
            step += 1;
            index = index.wrapping_add(step) & self.mask;
        }
        self.hashes[index as usize] = TOMBSTONE;
        self.names[index as usize] = "";
        self.nodes -= 1;
        self.maybe_resize();
    }

    fn maybe_resize(&mut self) {
        let size = self.size() as u64;
        let (nodes, occupied) = (u64::from(self.nodes), u64::from(self.occupied));
        if (size > nodes * 4 && size > 1 << MIN_SHIFT) || size <= occupied + occupied / 16 {
            self.resize();
        }
    }

    /// GLib's in-place resize: every name moved to its first slot not yet
    /// taken by a moved one, evicting the name there to be moved next.
    fn resize(&mut self) {
        let old_size = self.size();
        // GLib computes `nnodes * 1.333` in double and truncates it.
        let wanted = (f64::from(self.nodes) * 1.333) as u32;
        // (No map holds the 2^31 names a larger table takes.)
        let shift = (u32::BITS - wanted.leading_zeros()).clamp(MIN_SHIFT, 31);
        self.set_shift(shift);
        let new_size = self.size();
        if new_size > old_size {
            self.hashes.resize(new_size, UNUSED);
            self.names.resize(new_size, "");
        }
        let mut moved = vec![false; old_size.max(new_size)];
        for i in 0..old_size {
            let hash = self.hashes[i];
            if hash <= TOMBSTONE {
                self.hashes[i] = UNUSED;
                continue;
            }
            if moved[i] {
                continue;
            }
            self.hashes[i] = UNUSED;
            let (mut hash, mut name) = (hash, self.names[i]);
            loop {
                let mut index = self.home(hash);
                let mut step = 0;
                while moved[index as usize] {
                    step += 1;
                    index = index.wrapping_add(step) & self.mask;
                }
                let index = index as usize;
                moved[index] = true;
                let replaced = self.hashes[index];
                let replaced_name = self.names[index];
                self.hashes[index] = hash;
                self.names[index] = name;
                if replaced <= TOMBSTONE {
                    break;
                }
                hash = replaced;
                name = replaced_name;
            }
        }
        self.hashes.truncate(new_size);
        self.names.truncate(new_size);
        self.occupied = self.nodes;
    }

    /// The name the table's iterator gives first.
    fn first(&self) -> Option<&'k str> {
        self.hashes
            .iter()
            .position(|&hash| hash > TOMBSTONE)
            .map(|index| self.names[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What qemu-storage-daemon 10.0.2 (GLib 2.74) reported for these
    /// objects.
    #[test]
    fn the_name_qemu_reported() {
        assert_eq!(
            first_unexpected(["a", "b"].into_iter(), [].into_iter()),
            Some("b")
        );
        assert_eq!(
            first_unexpected(
                ["node-name", "a", "b"].into_iter(),
                ["node-name"].into_iter()
            ),
            Some("b")
        );
        // Ten names: the table grows once.
        let letters = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        assert_eq!(
            first_unexpected(letters.into_iter(), [].into_iter()),
            Some("b")
        );
        // Twenty: it grows twice.
        let greek = [
            "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
            "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon",
        ];
        assert_eq!(
            first_unexpected(greek.into_iter(), [].into_iter()),
            Some("epsilon")
        );
        // Thirteen names, eleven read: the table shrinks as they go.
        let read = [
            "driver",
            "node-name",
            "discard",
            "active",
            "read-only",
            "auto-read-only",
            "force-share",
            "detect-zeroes",
            "filename",
            "aio",
            "locking",
        ];
        let all = read.iter().copied().chain(["x", "y"]);
        assert_eq!(first_unexpected(all, read.into_iter()), Some("y"));
        // Bytes beyond ASCII hash as signed chars.
        assert_eq!(
            first_unexpected(["é", "ü"].into_iter(), [].into_iter()),
            Some("ü")
        );
    }

    #[test]
    fn none_when_every_name_was_read() {
        assert_eq!(first_unexpected(["a"].into_iter(), ["a"].into_iter()), None);
        assert_eq!(first_unexpected([].into_iter(), [].into_iter()), None);
    }

    #[test]
    fn hashes_match_glib_and_qemu() {
        // g_str_hash("") is 5381.
        assert_eq!(str_hash(""), 5381);
        assert_eq!(str_hash("a"), 5381 * 33 + 97);
    }

    proptest::proptest! {
        /// Whatever names are put in and which of them are read, the name
        /// given is one left, and none only when none is.
        #[test]
        fn the_name_given_is_left(
            names in proptest::collection::btree_set("[a-z]{1,4}", 0..80),
            read_mask in proptest::collection::vec(proptest::prelude::any::<bool>(), 80),
        ) {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let read: Vec<&str> = names
                .iter()
                .zip(&read_mask)
                .filter(|(_, read)| **read)
                .map(|(name, _)| *name)
                .collect();
            let left: Vec<&str> = names.iter().copied().filter(|n| !read.contains(n)).collect();
            let given = first_unexpected(names.iter().copied(), read.iter().copied());
            match given {
                Some(name) => proptest::prop_assert!(left.contains(&name), "{} was read", name),
                None => proptest::prop_assert!(left.is_empty()),
            }
        }
    }
}
