//! An invertible Bloom lookup table (Goodrich and Mitzenmacher; Eppstein et al.'s
//! "What's the difference?") with a fixed cell count: each element is added to one cell
//! in each of three equal sub-tables. Two tables subtract cell by cell; the difference
//! is peeled from pure cells. With three hashes, peeling succeeds with high probability
//! while the difference is below about 0.8 x the cell count, and fails beyond it.

use super::{Cell, Difference, Element, checksum, mix};

/// Cells each element is added to (one per sub-table).
pub const HASHES: usize = 3;

/// The smallest table: one cell per sub-table.
pub const MIN_CELLS: usize = HASHES;

/// An IBLT of a fixed number of cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iblt {
    cells: Vec<Cell>,
}

/// A peeling attempt's outcome: the difference if every cell emptied, and the peeling
/// operations (cell updates) it took either way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub difference: Option<Difference>,
    pub operations: u64,
}

impl Iblt {
    /// An empty table of `cells` cells (at least [`MIN_CELLS`]).
    pub fn new(cells: usize) -> Iblt {
        Iblt {
            cells: vec![Cell::default(); cells.max(MIN_CELLS)],
        }
    }

    /// A table of `cells` cells holding `elements`.
    pub fn encode(cells: usize, elements: &[Element]) -> Iblt {
        let mut table = Iblt::new(cells);
        for &element in elements {
            table.apply(element, 1);
        }
        table
    }

    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    /// The cell of sub-table `i` for an element with checksum `check`.
    fn index(&self, check: u64, i: usize) -> usize {
        let n = self.cells.len();
        let (start, end) = (n * i / HASHES, n * (i + 1) / HASHES);
        start + (mix(check ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407)) % (end - start) as u64) as usize
    }

    fn apply(&mut self, element: Element, sign: i64) {
        let check = checksum(element);
        for i in 0..HASHES {
            let at = self.index(check, i);
            self.cells[at].apply(element, check, sign);
        }
    }

    /// This table minus `other` (same cell count): the sketch of the symmetric
    /// difference, `self`'s side counting +1.
    pub fn subtract(&self, other: &Iblt) -> Iblt {
        debug_assert_eq!(self.cells.len(), other.cells.len());
        let mut cells = self.cells.clone();
        for (cell, theirs) in cells.iter_mut().zip(&other.cells) {
            cell.subtract(theirs);
        }
        Iblt { cells }
    }

    /// Peels a difference table. Succeeds only if every cell ends empty; a pure cell is
    /// accepted only with a matching checksum.
    pub fn decode(mut self) -> Decoded {
        let mut difference = Difference::default();
        let mut operations = 0u64;
        let mut stack: Vec<usize> = (0..self.cells.len()).rev().collect();
        // Each peel empties at least one cell for good; bound the loop by the work a
        // correct decode can need, so a pathological table cannot spin.
        let mut budget = self.cells.len() * (HASHES + 1) * 4 + 16;
        while let Some(at) = stack.pop() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let Some((element, side)) = self.cells[at].pure() else {
                continue;
            };
            if side > 0 {
                difference.only_first.push(element);
            } else {
                difference.only_second.push(element);
            }
            let check = checksum(element);
            for i in 0..HASHES {
                let cell = self.index(check, i);
                self.cells[cell].apply(element, check, -side);
                operations += 1;
                stack.push(cell);
            }
        }
        let complete = self.cells.iter().all(Cell::is_empty);
        difference.sort();
        Decoded {
            difference: complete.then_some(difference),
            operations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::pair;
    use super::*;

    #[test]
    fn decodes_the_exact_difference_over_sizes_and_counts() {
        for (seed, common, d) in [(1, 0, 1), (2, 100, 0), (3, 1_000, 10), (4, 10_000, 100), (5, 50, 400)] {
            for trial in 0..5u64 {
                let (a, b, expected) = pair(seed * 100 + trial, common, d);
                // Twice the difference's elements (each divergent key is one or two).
                let cells = 3 * expected.len().max(1);
                let decoded = Iblt::encode(cells, &a).subtract(&Iblt::encode(cells, &b)).decode();
                assert_eq!(
                    decoded.difference.as_ref(),
                    Some(&expected),
                    "seed {seed} trial {trial}"
                );
            }
        }
    }

    #[test]
    fn an_undersized_table_fails_and_never_reports_a_wrong_difference() {
        let mut failures = 0;
        for trial in 0..50u64 {
            let (a, b, expected) = pair(9_000 + trial, 1_000, 200);
            // Far fewer cells than the difference's elements: peeling must stall.
            let decoded = Iblt::encode(60, &a).subtract(&Iblt::encode(60, &b)).decode();
            match decoded.difference {
                None => failures += 1,
                Some(found) => assert_eq!(found, expected),
            }
        }
        assert_eq!(failures, 50);
    }

    #[test]
    fn identical_sets_decode_to_nothing_at_any_size() {
        let (a, _, _) = pair(7, 5_000, 0);
        let decoded = Iblt::encode(3, &a).subtract(&Iblt::encode(3, &a)).decode();
        assert_eq!(decoded.difference, Some(Difference::default()));
    }

    #[test]
    fn the_same_input_gives_the_same_table() {
        let (a, _, _) = pair(11, 1_000, 0);
        assert_eq!(Iblt::encode(300, &a), Iblt::encode(300, &a));
        let mut reversed = a.clone();
        reversed.reverse();
        assert_eq!(Iblt::encode(300, &a), Iblt::encode(300, &reversed));
    }
}
