//! Set-reconciliation sketches over (key, version) records: an invertible Bloom lookup
//! table with a fixed cell count ([`iblt`]) and the rateless IBLT of Yang et al.
//! (SIGCOMM 2024, [`riblt`]). Both run for real: they encode the records a replica holds,
//! are subtracted cell by cell, and are peeled into the exact symmetric difference.
//!
//! A decoded element is accepted only when its checksum matches (a 64-bit hash of the
//! key and version), so a decode never reports a wrong difference except with
//! probability about 2^-64 per peeled cell. Everything here is deterministic: the hash
//! is a fixed mixing function, and results are sorted vectors (no hash-map order).
//! This module knows nothing of time, the network or the world: it counts the
//! operations it performed, and the reconciler turns them into virtual time.

pub mod iblt;
pub mod pinsketch;
pub mod riblt;

use crate::model::{Key, Version};

/// One record of a replica: a key and the version it holds.
pub type Element = (Key, Version);

/// Bytes of one IBLT cell or rateless coded symbol on the wire: the XOR of the keys
/// (8) and of the versions (8), the XOR of the checksums (8), and a count (4).
pub const CELL_BYTES: u64 = 28;

/// Virtual time of one sketch operation (one element added to or removed from one cell:
/// three 8-byte XORs, a counter, and the index hash), in nanoseconds.
pub const SKETCH_OP_NS: u64 = 20;

/// The 64-bit finaliser of SplitMix64: a fixed, well-mixed hash of one word.
pub const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The checksum of a record: what proves a peeled cell holds exactly one element.
pub const fn checksum(element: Element) -> u64 {
    mix(mix(element.0 ^ 0x005E_ED0F_AE51) ^ element.1.rotate_left(17))
}

/// The symmetric difference of two sets, as decoded: records only the first side holds,
/// and records only the second holds, each sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Difference {
    pub only_first: Vec<Element>,
    pub only_second: Vec<Element>,
}

impl Difference {
    /// Elements in the difference, both sides together.
    pub fn len(&self) -> usize {
        self.only_first.len() + self.only_second.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sort(&mut self) {
        self.only_first.sort_unstable();
        self.only_second.sort_unstable();
    }
}

/// One cell (IBLT) or coded symbol (rateless IBLT): XOR sums of keys, versions and
/// checksums, and the signed count of elements added minus removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub count: i64,
    pub key_sum: u64,
    pub version_sum: u64,
    pub check_sum: u64,
}

impl Cell {
    /// Adds (`sign` = 1) or removes (`sign` = -1) one element with its checksum.
    pub fn apply(&mut self, element: Element, check: u64, sign: i64) {
        self.count += sign;
        self.key_sum ^= element.0;
        self.version_sum ^= element.1;
        self.check_sum ^= check;
    }

    /// This cell minus `other` (the difference of two sketches, cell by cell).
    pub fn subtract(&mut self, other: &Cell) {
        self.count -= other.count;
        self.key_sum ^= other.key_sum;
        self.version_sum ^= other.version_sum;
        self.check_sum ^= other.check_sum;
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.key_sum == 0 && self.version_sum == 0 && self.check_sum == 0
    }

    /// The single element this cell holds, with its side (+1 first, -1 second), if it
    /// is pure: a count of one either way and a matching checksum.
    pub fn pure(&self) -> Option<(Element, i64)> {
        let element = (self.key_sum, self.version_sum);
        (self.count.abs() == 1 && checksum(element) == self.check_sum).then_some((element, self.count))
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Random set pairs with a known symmetric difference, for the sketches' tests.
    use super::{Difference, Element};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeSet;

    /// Two sets sharing `common` records and differing in `d` (split between the sides;
    /// some keys present on both sides with different versions), and their difference.
    pub fn pair(seed: u64, common: usize, d: usize) -> (Vec<Element>, Vec<Element>, Difference) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut keys = BTreeSet::new();
        while keys.len() < common + d {
            keys.insert(rng.random_range(0..10_000_000u64));
        }
        let keys: Vec<u64> = keys.into_iter().collect();
        let (mut a, mut b, mut diff) = (Vec::new(), Vec::new(), Difference::default());
        for (i, &key) in keys.iter().enumerate() {
            let version = rng.random_range(1..1u64 << 40);
            if i < common {
                a.push((key, version));
                b.push((key, version));
                continue;
            }
            match rng.random_range(0..3) {
                0 => {
                    a.push((key, version));
                    diff.only_first.push((key, version));
                }
                1 => {
                    b.push((key, version));
                    diff.only_second.push((key, version));
                }
                _ => {
                    // The same key, two versions: two elements of the difference, but
                    // one divergent key. Counted as one of `d` for the key count.
                    a.push((key, version));
                    b.push((key, version + 1));
                    diff.only_first.push((key, version));
                    diff.only_second.push((key, version + 1));
                }
            }
        }
        diff.sort();
        (a, b, diff)
    }
}

#[cfg(test)]
mod property_tests {
    //! Every method against random set pairs of random sizes and difference counts,
    //! drawn from a fixed seed: the exact difference, or (PinSketch beyond capacity) a
    //! reported failure, never a wrong set.
    use super::testing::pair;
    use super::{checksum, iblt::Iblt, pinsketch, riblt};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn every_method_decodes_random_pairs_exactly() {
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        for case in 0..60u64 {
            let common = rng.random_range(0..3_000usize);
            let d = rng.random_range(0..300usize);
            let (a, b, expected) = pair(case * 7 + 1, common, d);
            let elements = expected.len();
            // IBLT with 1.5x cells plus slack: decodes with high probability; when it
            // does not, it must say so.
            let cells = elements + elements / 2 + 30;
            let iblt = Iblt::encode(cells, &a).subtract(&Iblt::encode(cells, &b)).decode();
            if let Some(found) = iblt.difference {
                assert_eq!(found, expected, "case {case}");
            }
            let rateless = riblt::reconcile(&a, &b, u64::MAX);
            assert_eq!(rateless.difference.as_ref(), Some(&expected), "case {case}");
            // PinSketch over the elements' ids, capacity drawn around the difference (<= 160).
            let capacity = rng.random_range(1..=(elements.max(1) * 2).min(160));
            let ids = |s: &[(u64, u64)]| s.iter().map(|&e| checksum(e).max(1)).collect::<Vec<u64>>();
            let (ia, ib) = (ids(&a), ids(&b));
            let mut work = pinsketch::Work::default();
            let sketch = pinsketch::Sketch::of(capacity, ia.iter().copied(), &mut work)
                .combine(&pinsketch::Sketch::of(capacity, ib.iter().copied(), &mut work));
            let decoded = sketch.decode(&ia, &ib, &mut work);
            if elements <= capacity {
                let mut want = (ids(&expected.only_first), ids(&expected.only_second));
                want.0.sort_unstable();
                want.1.sort_unstable();
                assert_eq!(decoded, Some(want), "case {case}: c {capacity} d {elements}");
            } else {
                assert_eq!(decoded, None, "case {case}: c {capacity} d {elements}");
            }
        }
    }
}
