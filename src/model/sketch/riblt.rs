//! The rateless IBLT of Yang, Gilad and Alizadeh ("Practical Rateless Set
//! Reconciliation", SIGCOMM 2024): an endless stream of coded symbols, each an IBLT
//! cell, where an element is mapped to symbol 0 and then to ever sparser later symbols
//! (to symbol i with probability about 1 / (1 + i/2)). The receiver subtracts its own
//! coded symbols from the sender's and peels as symbols arrive; it is done when symbol 0
//! is empty. About 1.35 x d symbols decode a difference of d elements, whatever the sets'
//! size, with no estimate of d beforehand.
//!
//! The index mapping follows the authors' reference implementation: a multiplicative
//! PRNG per element, and a gap of ceil((i + 1.5) x (2^32 / sqrt(r + 1) - 1)).

use super::{Cell, Difference, Element, checksum};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Where one element goes next in the symbol stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mapping {
    prng: u64,
    index: u64,
}

impl Mapping {
    /// Every element starts at symbol 0.
    fn new(check: u64) -> Mapping {
        Mapping { prng: check, index: 0 }
    }

    fn advance(&mut self) {
        let r = self.prng.wrapping_mul(0xDA94_2042_E4DD_58B5);
        self.prng = r;
        let gap = ((self.index as f64 + 1.5) * ((1u64 << 32) as f64 / ((r as f64) + 1.0).sqrt() - 1.0)).ceil();
        // `as` saturates: a gap past u64 pushes the element out of any reachable stream.
        self.index = self.index.saturating_add((gap as u64).max(1));
    }
}

/// Produces one set's coded symbols in order, as many as asked for.
pub struct Encoder {
    elements: Vec<(Element, u64, Mapping)>,
    /// (next symbol index, element) for every element: which elements the next symbol takes.
    queue: BinaryHeap<Reverse<(u64, usize)>>,
    next: u64,
    /// Element-to-symbol additions performed so far.
    pub operations: u64,
}

impl Encoder {
    pub fn new(elements: &[Element]) -> Encoder {
        let elements: Vec<_> = elements
            .iter()
            .map(|&e| {
                let check = checksum(e);
                (e, check, Mapping::new(check))
            })
            .collect();
        let queue = (0..elements.len()).map(|i| Reverse((0, i))).collect();
        Encoder {
            elements,
            queue,
            next: 0,
            operations: 0,
        }
    }

    /// The next coded symbol.
    pub fn next_symbol(&mut self) -> Cell {
        let mut cell = Cell::default();
        while let Some(&Reverse((index, i))) = self.queue.peek() {
            if index != self.next {
                break;
            }
            self.queue.pop();
            let (element, check, ref mut mapping) = self.elements[i];
            cell.apply(element, check, 1);
            self.operations += 1;
            mapping.advance();
            self.queue.push(Reverse((mapping.index, i)));
        }
        self.next += 1;
        cell
    }
}

/// Peels a stream of difference symbols (the sender's minus the receiver's) as they come.
#[derive(Default)]
pub struct Decoder {
    symbols: Vec<Cell>,
    /// Elements peeled so far: the element, its checksum, its side, and where it maps next.
    peeled: Vec<(Element, u64, i64, Mapping)>,
    /// (next symbol index, peeled element): what must leave each new symbol on arrival.
    pending: BinaryHeap<Reverse<(u64, usize)>>,
    /// Symbol updates performed so far (arrivals and peels).
    pub operations: u64,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Symbols received so far.
    pub fn symbols(&self) -> usize {
        self.symbols.len()
    }

    /// Takes the next difference symbol and peels what it allows.
    pub fn add(&mut self, mut symbol: Cell) {
        let index = self.symbols.len() as u64;
        while let Some(&Reverse((next, p))) = self.pending.peek() {
            if next != index {
                break;
            }
            self.pending.pop();
            let (element, check, side, ref mut mapping) = self.peeled[p];
            symbol.apply(element, check, -side);
            self.operations += 1;
            mapping.advance();
            self.pending.push(Reverse((mapping.index, p)));
        }
        self.symbols.push(symbol);
        self.peel_from(self.symbols.len() - 1);
    }

    fn peel_from(&mut self, first: usize) {
        let mut stack = vec![first];
        while let Some(at) = stack.pop() {
            let Some((element, side)) = self.symbols[at].pure() else {
                continue;
            };
            let check = checksum(element);
            let mut mapping = Mapping::new(check);
            let len = self.symbols.len() as u64;
            while mapping.index < len {
                let cell = mapping.index as usize;
                self.symbols[cell].apply(element, check, -side);
                self.operations += 1;
                stack.push(cell);
                mapping.advance();
            }
            self.pending.push(Reverse((mapping.index, self.peeled.len())));
            self.peeled.push((element, check, side, mapping));
        }
    }

    /// Whether the whole difference is peeled: every element maps to symbol 0, so an
    /// empty symbol 0 means nothing is left.
    pub fn done(&self) -> bool {
        self.symbols.first().is_some_and(Cell::is_empty)
    }

    /// The difference peeled so far (all of it once [`Decoder::done`]).
    pub fn difference(&self) -> Difference {
        let mut difference = Difference::default();
        for &(element, _, side, _) in &self.peeled {
            if side > 0 {
                difference.only_first.push(element);
            } else {
                difference.only_second.push(element);
            }
        }
        difference.sort();
        difference
    }
}

/// A whole exchange: `first`'s symbols streamed to the holder of `second`, until the
/// difference decodes or `max_symbols` were sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The difference, if it decoded within the limit.
    pub difference: Option<Difference>,
    /// Coded symbols streamed.
    pub symbols: u64,
    /// Encoding operations on the sender's side, and on the receiver's (its own
    /// symbols, the subtraction and the peeling).
    pub sender_operations: u64,
    pub receiver_operations: u64,
}

/// Streams `first`'s coded symbols against `second`'s until decoded.
pub fn reconcile(first: &[Element], second: &[Element], max_symbols: u64) -> Exchange {
    let (mut sender, mut receiver) = (Encoder::new(first), Encoder::new(second));
    let mut decoder = Decoder::new();
    while !decoder.done() && (decoder.symbols() as u64) < max_symbols {
        let mut symbol = sender.next_symbol();
        symbol.subtract(&receiver.next_symbol());
        decoder.add(symbol);
    }
    Exchange {
        difference: decoder.done().then(|| decoder.difference()),
        symbols: decoder.symbols() as u64,
        sender_operations: sender.operations,
        receiver_operations: receiver.operations + decoder.operations + decoder.symbols() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::pair;
    use super::*;

    #[test]
    fn decodes_the_exact_difference_over_sizes_and_counts() {
        for (seed, common, d) in [(1, 0, 1), (2, 100, 0), (3, 1_000, 10), (4, 10_000, 100), (5, 50, 1_000)] {
            for trial in 0..5u64 {
                let (a, b, expected) = pair(seed * 100 + trial, common, d);
                let exchange = reconcile(&a, &b, u64::MAX);
                assert_eq!(
                    exchange.difference.as_ref(),
                    Some(&expected),
                    "seed {seed} trial {trial}"
                );
            }
        }
    }

    #[test]
    fn identical_sets_need_one_symbol() {
        let (a, _, _) = pair(3, 2_000, 0);
        let exchange = reconcile(&a, &a, u64::MAX);
        assert_eq!(exchange.difference, Some(Difference::default()));
        assert_eq!(exchange.symbols, 1);
    }

    #[test]
    fn about_1_35_symbols_per_difference_for_large_d() {
        // 40 trials of d = 2,000 elements: the mean overhead must be within 10% of 1.35.
        let d = 2_000usize;
        let trials = 40u64;
        let mut total = 0u64;
        for trial in 0..trials {
            let (a, b, expected) = pair(70_000 + trial, 500, 0);
            let _ = expected;
            // One-sided differences, so the element count is exactly d.
            let (mut a, b) = (a, b);
            let (extra, _, _) = pair(80_000 + trial, d, 0);
            let extra: Vec<_> = extra.into_iter().map(|(k, v)| (k + 20_000_000, v)).collect();
            a.extend(extra);
            let exchange = reconcile(&a, &b, u64::MAX);
            assert_eq!(exchange.difference.as_ref().map(Difference::len), Some(d));
            total += exchange.symbols;
        }
        let overhead = total as f64 / (trials as f64 * d as f64);
        assert!((1.35 * 0.9..=1.35 * 1.1).contains(&overhead), "overhead {overhead}");
    }

    /// Two sets of `common` shared elements and `d / 2` of their own each, as the
    /// authors' benchmark builds them (yangl1996/rateless-set-reconcile
    /// `benchmark/main.go`: nlocal = nremote = d / 2), from `seed`.
    fn benchmark_pair(seed: u64, common: usize, d: usize) -> (Vec<Element>, Vec<Element>) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut element = || (rng.random::<u64>(), rng.random_range(1..1u64 << 40));
        let shared: Vec<Element> = (0..common).map(|_| element()).collect();
        let (mut a, mut b) = (shared.clone(), shared);
        a.extend((0..d / 2).map(|_| element()));
        b.extend((0..d / 2).map(|_| element()));
        a.sort_unstable();
        b.sort_unstable();
        (a, b)
    }

    /// Mean coded symbols per difference over `trials` pairs differing in `d`.
    fn mean_overhead(d: usize, trials: u64) -> f64 {
        let mut total = 0u64;
        for trial in 0..trials {
            let (a, b) = benchmark_pair(d as u64 * 1_000 + trial, 1_000, d);
            let exchange = reconcile(&a, &b, u64::MAX);
            assert_eq!(exchange.difference.as_ref().map(Difference::len), Some(d));
            total += exchange.symbols;
        }
        total as f64 / (trials as f64 * d as f64)
    }

    #[test]
    fn the_overhead_curve_follows_the_authors_benchmark() {
        // yangl1996/rateless-set-reconcile `benchmark/raw-output-10k.txt` and
        // `raw-output-1m.txt` (sets of 10^4 and 10^6; one draw per line): coded symbols
        // per difference 1.74 / 1.76 at d = 4, 1.71 / 1.66 at d = 10, 1.45 / 1.45 at
        // d = 100, 1.38 / 1.37 at d = 1,000, 1.36 at d = 10,000 (`raw-output-1m.txt`).
        // Means over enough trials here, within the published draws' spread.
        for (d, trials, published, tolerance) in [
            (4, 2_000, 1.75, 0.12),
            (10, 1_000, 1.685, 0.08),
            (100, 200, 1.45, 0.04),
            (1_000, 40, 1.375, 0.025),
            (10_000, 6, 1.36, 0.02),
        ] {
            let overhead = mean_overhead(d, trials);
            eprintln!("d = {d}: {overhead:.3} symbols per difference (published {published})");
            assert!(
                (overhead - published).abs() <= tolerance,
                "d = {d}: {overhead:.3} symbols per difference, published {published}"
            );
        }
    }

    #[test]
    fn a_capped_stream_fails_rather_than_guess() {
        let (a, b, _) = pair(5, 100, 500);
        let exchange = reconcile(&a, &b, 100);
        assert_eq!(exchange.difference, None);
        assert_eq!(exchange.symbols, 100);
    }
}
