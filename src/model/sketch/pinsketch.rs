//! PinSketch (Dodis, Ostrovsky, Reyzin and Smith), as in Bitcoin's Minisketch: a set of
//! 64-bit element ids is summarised by the odd power sums s_1, s_3, ..., s_(2c-1) over
//! GF(2^64), the syndromes of a BCH code of capacity `c` (c x 64 bits). Sketches add by
//! XOR, so two sets' sketches combine into the sketch of their symmetric difference,
//! which Berlekamp-Massey turns into an error-locator polynomial (O(c^2) field
//! multiplications) whenever the difference has at most `c` elements.
//!
//! Roots are found among the candidates the two replicas hold (each side knows its own
//! ids; a side tests its set against the locator), instead of by a trace-based root
//! finder over the whole field. A decode is accepted only if the locator has exactly as
//! many roots among the candidates as its degree and the decoded set's own sketch equals
//! the difference's: beyond the capacity the decode reports failure, never a wrong set.
//! Field elements are reduced modulo x^64 + x^4 + x^3 + x + 1.

/// Multiplications in GF(2^64) performed by this thread's sketches (the decoder's and
/// encoder's cost, counted rather than estimated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    pub multiplications: u64,
}

/// The product of `a` and `b` in GF(2^64).
pub fn mul(a: u64, b: u64) -> u64 {
    let (wide, mut b) = (u128::from(a), b);
    let mut acc: u128 = 0;
    let mut shift = 0;
    while b != 0 {
        if b & 1 != 0 {
            acc ^= wide << shift;
        }
        b >>= 1;
        shift += 1;
    }
    let (lo, hi) = (acc as u64, (acc >> 64) as u64);
    // hi x^64 = hi (x^4 + x^3 + x + 1); the bits pushed past x^63 fold once more.
    let over = (hi >> 63) ^ (hi >> 61) ^ (hi >> 60);
    lo ^ hi ^ (hi << 1) ^ (hi << 3) ^ (hi << 4) ^ over ^ (over << 1) ^ (over << 3) ^ (over << 4)
}

/// The inverse of a non-zero `a` (a^(2^64 - 2)).
pub fn inverse(a: u64, work: &mut Work) -> u64 {
    let (mut result, mut base, mut exponent) = (1u64, a, u64::MAX - 1);
    while exponent != 0 {
        if exponent & 1 != 0 {
            result = mul(result, base);
            work.multiplications += 1;
        }
        base = mul(base, base);
        work.multiplications += 1;
        exponent >>= 1;
    }
    result
}

/// A sketch of capacity `c`: the odd syndromes s_1, s_3, ..., s_(2c-1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sketch {
    syndromes: Vec<u64>,
}

impl Sketch {
    pub fn new(capacity: usize) -> Sketch {
        Sketch {
            syndromes: vec![0; capacity.max(1)],
        }
    }

    pub fn capacity(&self) -> usize {
        self.syndromes.len()
    }

    /// Adds (or, the same thing in characteristic 2, removes) a non-zero id.
    pub fn add(&mut self, id: u64, work: &mut Work) {
        debug_assert_ne!(id, 0);
        let square = mul(id, id);
        let mut power = id;
        for s in &mut self.syndromes {
            *s ^= power;
            power = mul(power, square);
        }
        work.multiplications += self.syndromes.len() as u64;
    }

    /// The sketch of the ids.
    pub fn of(capacity: usize, ids: impl IntoIterator<Item = u64>, work: &mut Work) -> Sketch {
        let mut sketch = Sketch::new(capacity);
        for id in ids {
            sketch.add(id, work);
        }
        sketch
    }

    /// The sketch of the symmetric difference of the two sets.
    pub fn combine(&self, other: &Sketch) -> Sketch {
        Sketch {
            syndromes: self
                .syndromes
                .iter()
                .zip(&other.syndromes)
                .map(|(a, b)| a ^ b)
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.syndromes.iter().all(|&s| s == 0)
    }

    /// The error-locator polynomial (coefficients from z^0), by Berlekamp-Massey on the
    /// 2c syndromes (the even ones are squares of the odd ones: s_2k = s_k^2).
    fn locator(&self, work: &mut Work) -> Vec<u64> {
        let c = self.syndromes.len();
        // all[k] = s_(k+1), k = 0..2c.
        let mut all = vec![0u64; 2 * c];
        for k in 0..2 * c {
            all[k] = if k % 2 == 0 {
                self.syndromes[k / 2]
            } else {
                let half = all[k / 2];
                work.multiplications += 1;
                mul(half, half)
            };
        }
        let (mut current, mut previous) = (vec![1u64], vec![1u64]);
        let (mut length, mut gap, mut previous_discrepancy) = (0usize, 1usize, 1u64);
        for n in 0..2 * c {
            let mut discrepancy = all[n];
            for i in 1..=length.min(current.len() - 1) {
                discrepancy ^= mul(current[i], all[n - i]);
            }
            work.multiplications += length as u64;
            if discrepancy == 0 {
                gap += 1;
                continue;
            }
            let factor = mul(discrepancy, inverse(previous_discrepancy, work));
            let saved = current.clone();
            if current.len() < previous.len() + gap {
                current.resize(previous.len() + gap, 0);
            }
            for (i, &p) in previous.iter().enumerate() {
                current[i + gap] ^= mul(factor, p);
            }
            work.multiplications += previous.len() as u64 + 1;
            if 2 * length <= n {
                length = n + 1 - length;
                previous = saved;
                previous_discrepancy = discrepancy;
                gap = 1;
            } else {
                gap += 1;
            }
        }
        current.truncate(length + 1);
        current.resize(length + 1, 0);
        current
    }

    /// The symmetric difference this sketch encodes, found among `first` and `second`
    /// (the two sides' ids, each without duplicates), as (ids of `first`, ids of
    /// `second`) sorted; `None` when it holds more than the capacity.
    pub fn decode(&self, first: &[u64], second: &[u64], work: &mut Work) -> Option<(Vec<u64>, Vec<u64>)> {
        if self.is_empty() {
            return Some((Vec::new(), Vec::new()));
        }
        let locator = self.locator(work);
        let degree = locator.len() - 1;
        if degree == 0 || degree > self.capacity() {
            return None;
        }
        // x is an element iff the locator vanishes at 1/x, i.e. sum locator[i] x^(L-i) = 0.
        let is_root = |x: u64, work: &mut Work| {
            work.multiplications += degree as u64;
            locator.iter().fold(0u64, |acc, &coefficient| mul(acc, x) ^ coefficient) == 0
        };
        let mut found_first: Vec<u64> = first.iter().copied().filter(|&x| is_root(x, work)).collect();
        let mut found_second: Vec<u64> = second.iter().copied().filter(|&x| is_root(x, work)).collect();
        found_first.sort_unstable();
        found_second.sort_unstable();
        // An id on both sides cancels out of the difference: it cannot be a root.
        if found_first.len() + found_second.len() != degree
            || found_first.iter().any(|x| found_second.binary_search(x).is_ok())
        {
            return None;
        }
        let check = Sketch::of(self.capacity(), found_first.iter().chain(&found_second).copied(), work);
        (check == *self).then_some((found_first, found_second))
    }

    /// Bytes on the wire: 8 per syndrome.
    pub fn bytes(&self) -> u64 {
        8 * self.syndromes.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sketch::mix;

    fn ids(seed: u64, n: usize) -> Vec<u64> {
        (0..n as u64)
            .map(|i| mix(seed.wrapping_mul(1_000_003) ^ i).max(1))
            .collect()
    }

    #[test]
    fn the_field_has_inverses_and_distributes() {
        let mut work = Work::default();
        for a in ids(1, 200) {
            assert_eq!(mul(a, inverse(a, &mut work)), 1);
            let (b, c) = (mix(a), mix(a ^ 7));
            assert_eq!(mul(a, b ^ c), mul(a, b) ^ mul(a, c));
            assert_eq!(mul(mul(a, b), c), mul(a, mul(b, c)));
        }
    }

    #[test]
    fn decodes_any_difference_up_to_the_capacity_and_fails_beyond() {
        for capacity in [1usize, 2, 8, 33, 64] {
            for d in [0, 1, capacity / 2, capacity, capacity + 1, 2 * capacity + 3] {
                for trial in 0..3u64 {
                    let mut work = Work::default();
                    let common = ids(100 + trial, 300);
                    let extra = ids(10_000 + trial * 97 + d as u64, d);
                    let (mut a, mut b) = (common.clone(), common);
                    for (i, &x) in extra.iter().enumerate() {
                        if i % 2 == 0 { a.push(x) } else { b.push(x) }
                    }
                    let sketch = Sketch::of(capacity, a.iter().copied(), &mut work).combine(&Sketch::of(
                        capacity,
                        b.iter().copied(),
                        &mut work,
                    ));
                    let decoded = sketch.decode(&a, &b, &mut work);
                    if d <= capacity {
                        let mut want_a: Vec<u64> = extra.iter().step_by(2).copied().collect();
                        let mut want_b: Vec<u64> = extra.iter().skip(1).step_by(2).copied().collect();
                        want_a.sort_unstable();
                        want_b.sort_unstable();
                        assert_eq!(decoded, Some((want_a, want_b)), "c {capacity} d {d} trial {trial}");
                    } else {
                        assert_eq!(decoded, None, "c {capacity} d {d} trial {trial}: must report failure");
                    }
                }
            }
        }
    }

    #[test]
    fn decoding_costs_grow_with_the_square_of_the_capacity() {
        let cost = |capacity: usize| {
            let mut work = Work::default();
            let a = ids(5, capacity);
            let sketch = Sketch::of(capacity, a.iter().copied(), &mut Work::default());
            sketch.decode(&a, &[], &mut work).expect("within capacity");
            // Exclude the candidate tests, linear in the set: keep BM's share.
            work.multiplications - (a.len() * capacity) as u64 - (capacity * capacity) as u64
        };
        // 8x the capacity: 8x for a linear cost, 64x for a pure quadratic one (the inverse
        // in each Berlekamp-Massey step adds a linear term that weighs at small c).
        let (small, large) = (cost(64), cost(512));
        let ratio = large as f64 / small as f64;
        assert!(ratio > 24.0, "{small} -> {large}: {ratio}x");
    }
}
