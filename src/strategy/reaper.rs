//! Cassandra Reaper's segment generator, ported: how a repair run's token ranges become
//! segments (thelastpickle/cassandra-reaper
//! `src/server/src/main/java/io/cassandrareaper/service/SegmentGenerator.java`, tested
//! against its `SegmentGeneratorTest` in `tests/real_code.rs`).
//!
//! With more segments requested than there are token ranges, each range is cut into
//! `ceil(share x requested)` subranges (so a run may get more segments than asked);
//! with fewer, ranges that share a replica set are coalesced up to a target size.
//! Tokens are `u64` here (aesim's keys are in token order); Reaper's are `BigInteger`s
//! over the partitioner's range. Pure: it knows nothing of time or sessions.

/// Why a ring cannot be cut (Reaper throws a `ReaperException`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentError {
    /// Two consecutive tokens are equal: "two nodes have the same token".
    SameToken(u64),
    /// The segments do not add up to the ring: "Not entire ring would get repaired"
    /// (tokens out of ring order).
    NotEntireRing,
}

/// `ceil(range_len x requested / ring_size)`: the subranges Reaper cuts a token range
/// of `range_len` tokens into, on a ring of `ring_size` tokens.
pub fn segment_count(range_len: u64, ring_size: u64, requested: u64) -> u64 {
    let product = u128::from(range_len) * u128::from(requested);
    product.div_ceil(u128::from(ring_size.max(1))) as u64
}

/// `SegmentGenerator.generateSegments` when more segments are requested than there are
/// token ranges: every range `(tokens[i], tokens[i + 1]]` (the last wrapping to
/// `tokens[0]`) cut into [`segment_count`] equal subranges, as `(start, end]` pairs on a
/// ring of the tokens `0 .. ring_size` (Reaper's `rangeMin .. rangeMax`).
pub fn generate_segments(requested: u64, tokens: &[u64], ring_size: u64) -> Result<Vec<(u64, u64)>, SegmentError> {
    let count = tokens.len();
    let size = u128::from(ring_size);
    let mut segments = Vec::new();
    for (i, &start) in tokens.iter().enumerate() {
        let stop = tokens[(i + 1) % count];
        if start == stop && count != 1 {
            return Err(SegmentError::SameToken(start));
        }
        // The range's span, wrapping around the ring.
        let span = if stop > start {
            u128::from(stop - start)
        } else {
            u128::from(stop) + size - u128::from(start)
        };
        let parts = segment_count(span as u64, ring_size, requested);
        let endpoint = |j: u64| -> u64 {
            let token = u128::from(start) + span * u128::from(j) / u128::from(parts);
            (if token >= size { token - size } else { token }) as u64
        };
        segments.extend((0..parts).map(|j| (endpoint(j), endpoint(j + 1))));
    }
    let covered: u128 = segments
        .iter()
        .map(|&(start, end)| {
            if end > start {
                u128::from(end - start)
            } else {
                u128::from(end) + size - u128::from(start)
            }
        })
        .sum();
    if covered != size {
        return Err(SegmentError::NotEntireRing);
    }
    Ok(segments)
}

/// `SegmentGenerator.coalesceTokenRanges`: for each replica set in turn, its token
/// ranges (as `(start, end]` pairs) gathered into segments of at most `target` tokens
/// (a range larger than the target is a segment of its own). Ranges of different
/// replica sets never share a segment.
pub fn coalesce_token_ranges(target: u64, ranges_by_replicas: &[Vec<(u64, u64)>]) -> Vec<Vec<(u64, u64)>> {
    let mut segments = Vec::new();
    for ranges in ranges_by_replicas {
        let mut current: Vec<(u64, u64)> = Vec::new();
        let mut tokens = 0u64;
        for &(start, end) in ranges {
            let span = end - start;
            if span + tokens > target && !current.is_empty() {
                segments.push(std::mem::take(&mut current));
                tokens = 0;
            }
            tokens += span;
            current.push((start, end));
        }
        if !current.is_empty() {
            segments.push(current);
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_equal_ranges_asked_for_ten_get_four_each() {
        // Issue 23's example: rounding to nearest would give 3 each (9); Reaper gives 12.
        let ring = 3_000;
        let segments = generate_segments(10, &[0, 1_000, 2_000], ring).expect("a valid ring");
        assert_eq!(segments.len(), 12);
        assert_eq!(segments[0], (0, 250));
        assert_eq!(segment_count(1_000, ring, 10), 4);
    }
}
