//! The token ring: which nodes store which keys.
//!
//! Keys are numbered in token order: key `k` sits at position `k` of a ring of
//! `key_count` positions (as if the partitioner's hash of a key were its number), so a
//! token range is a contiguous range of keys and a hotspot is a hot token range.
//!
//! Every node owns `vnodes` tokens. Tokens are placed at random (seeded, as Cassandra's
//! random tokens) or evenly spaced (`balanced`, what Cassandra's allocation algorithm
//! aims for), and each evenly spaced round of `nodes` tokens goes to the nodes in a
//! seeded random order, so that a node's vnodes meet many different neighbours; the
//! order is drawn so that any `replication_factor` consecutive tokens belong to
//! distinct nodes, which makes every node store exactly `rf / nodes` of the keys. Token
//! range `i` is `[t_i, t_{i+1})`, the last one wrapping past the end of the key space
//! to `t_0`. Its replicas are the first `replication_factor` distinct nodes met walking
//! clockwise from `t_i` (SimpleStrategy); with racks, nodes of racks not yet used come
//! first and the skipped ones fill the remaining places in walk order
//! (NetworkTopologyStrategy's rule within one data centre).
//!
//! The ring cuts the key space into *pieces*: the token ranges in key order, the
//! wrapping one split in two (its part past the end of the key space and its part
//! before `t_0`). A piece's replicas, in preference (walk) order, are a replica set; a
//! key's replicas are its piece's. When every node holds every key
//! (`replication_factor == nodes`) the ring is a single piece replicated on all nodes,
//! in node order, whatever the tokens: exactly the cluster of a scenario without a ring.
//!
//! The replica table stores a key's versions in its replica set's order: a node's
//! *position* in the set is its slot column. With every node holding every key,
//! position and node id coincide.

use super::{Column, Key, KeyRange, NodeId};
use crate::sim::{StreamId, stream};
use rand::Rng;
use rand::seq::SliceRandom;

/// How tokens are placed on the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenAllocation {
    /// Uniformly at random (seeded): ownership is uneven, more so with few vnodes.
    Random,
    /// Evenly spaced; each round of `nodes` tokens is dealt to the nodes in a seeded
    /// random order, chosen so that every node stores exactly `rf / nodes` of the keys.
    Balanced,
}

/// Which node coordinates a client write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinatorChoice {
    /// Any node, uniformly: a node that is not a replica forwards the write to every
    /// replica (each message lost independently) and the write is acknowledged when the
    /// first replica applies it.
    Any,
    /// One of the key's replicas, uniformly (token-aware clients): it applies the write
    /// at once and replicates to the others.
    Replica,
}

/// The ring of a scenario, as validated.
#[derive(Clone, Debug, PartialEq)]
pub struct RingConfig {
    pub replication_factor: usize,
    /// Tokens per node.
    pub vnodes: u32,
    pub allocation: TokenAllocation,
    /// The rack of each node (`None`: no racks, every node its own placement).
    pub racks: Option<Vec<u32>>,
    pub coordinator: CoordinatorChoice,
}

/// One piece of the key space with its replicas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub keys: KeyRange,
    /// The token range this piece belongs to (the wrapping range has two pieces).
    pub token_range: usize,
    /// Index into [`Ring::replica_sets`].
    pub replica_set: usize,
}

/// Key-space share each node stores, and summary statistics over nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Ownership {
    /// Share of the key space stored by each node (sums to the replication factor).
    pub per_node: Vec<f64>,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Population standard deviation over nodes.
    pub stdev: f64,
}

impl Ownership {
    /// The statistics of each node's share `per_node` (empty: all zero).
    pub fn of(per_node: Vec<f64>) -> Ownership {
        let n = per_node.len().max(1) as f64;
        let mean = per_node.iter().sum::<f64>() / n;
        let variance = per_node.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
        Ownership {
            min: per_node.iter().copied().reduce(f64::min).unwrap_or(0.0),
            max: per_node.iter().copied().reduce(f64::max).unwrap_or(0.0),
            mean,
            stdev: variance.sqrt(),
            per_node,
        }
    }
}

/// The token ring of one run: tokens, pieces and replica sets.
#[derive(Clone, Debug)]
pub struct Ring {
    nodes: usize,
    key_count: u64,
    replication_factor: usize,
    /// Every token, sorted by position: (position, owning node).
    tokens: Vec<(Key, NodeId)>,
    /// Pieces in key order, tiling `0..key_count`.
    pieces: Vec<Piece>,
    /// `pieces[i].keys.start`, for lookups.
    piece_starts: Vec<Key>,
    /// Distinct replica sets, each in preference order.
    replica_sets: Vec<Vec<NodeId>>,
    racks: Option<Vec<u32>>,
    coordinator: CoordinatorChoice,
}

impl Ring {
    /// The ring of a cluster of `nodes` over `key_count` keys: `config` `None` is every
    /// node holding every key (one token per node, evenly spaced, for the record).
    /// Validation guarantees `nodes * vnodes <= key_count` and
    /// `2 <= replication_factor <= nodes`.
    pub fn new(nodes: usize, key_count: u64, config: Option<&RingConfig>, seed: u64) -> Ring {
        let replication_factor = config.map_or(nodes, |c| c.replication_factor);
        let vnodes = config.map_or(1, |c| c.vnodes) as usize;
        let allocation = config.map_or(TokenAllocation::Balanced, |c| c.allocation);
        let racks = config.and_then(|c| c.racks.clone());
        let tokens = place_tokens(nodes, replication_factor, vnodes, key_count, allocation, seed);
        let mut ring = Ring {
            nodes,
            key_count,
            replication_factor,
            tokens,
            pieces: Vec::new(),
            piece_starts: Vec::new(),
            replica_sets: Vec::new(),
            racks,
            coordinator: config.map_or(CoordinatorChoice::Any, |c| c.coordinator),
        };
        ring.cut_pieces();
        ring
    }

    /// The single-piece ring of `nodes` nodes that all hold every key.
    pub fn full_replication(nodes: usize, key_count: u64) -> Ring {
        Ring::new(nodes, key_count, None, 0)
    }

    fn cut_pieces(&mut self) {
        if self.replication_factor == self.nodes {
            self.replica_sets = vec![(0..self.nodes).collect()];
            self.pieces = vec![Piece {
                keys: KeyRange::new(0, self.key_count),
                token_range: 0,
                replica_set: 0,
            }];
            self.piece_starts = vec![0];
            return;
        }
        let count = self.tokens.len();
        let mut pieces = Vec::with_capacity(count + 1);
        let mut sets: Vec<Vec<NodeId>> = Vec::new();
        let mut set_index = std::collections::BTreeMap::new();
        let mut intern = |set: Vec<NodeId>| {
            *set_index.entry(set.clone()).or_insert_with(|| {
                sets.push(set);
                sets.len() - 1
            })
        };
        let first = self.tokens[0].0;
        if first > 0 {
            // The wrapping range's part before the first token.
            let set = intern(self.walk(count - 1));
            pieces.push(Piece {
                keys: KeyRange::new(0, first),
                token_range: count - 1,
                replica_set: set,
            });
        }
        for i in 0..count {
            let end = self.tokens.get(i + 1).map_or(self.key_count, |&(t, _)| t);
            let set = intern(self.walk(i));
            pieces.push(Piece {
                keys: KeyRange::new(self.tokens[i].0, end),
                token_range: i,
                replica_set: set,
            });
        }
        self.piece_starts = pieces.iter().map(|p| p.keys.start).collect();
        self.pieces = pieces;
        self.replica_sets = sets;
    }

    /// The replicas of token range `i`: distinct nodes walking clockwise from token
    /// `i`, racks not yet used first when racks are configured.
    fn walk(&self, i: usize) -> Vec<NodeId> {
        let count = self.tokens.len();
        let mut chosen: Vec<NodeId> = Vec::with_capacity(self.replication_factor);
        let mut skipped: Vec<NodeId> = Vec::new();
        let mut racks_used: Vec<u32> = Vec::new();
        let rack_count = self.racks.as_ref().map_or(0, |r| {
            let mut distinct = r.clone();
            distinct.sort_unstable();
            distinct.dedup();
            distinct.len()
        });
        for step in 0..count {
            if chosen.len() == self.replication_factor {
                break;
            }
            let node = self.tokens[(i + step) % count].1;
            if chosen.contains(&node) || skipped.contains(&node) {
                continue;
            }
            match &self.racks {
                Some(racks) if racks_used.len() < rack_count => {
                    let rack = racks[node];
                    if racks_used.contains(&rack) {
                        skipped.push(node);
                    } else {
                        racks_used.push(rack);
                        chosen.push(node);
                    }
                }
                _ => {
                    // Every rack has a replica (or there are no racks): the nodes skipped
                    // for their rack come first, in walk order.
                    while chosen.len() < self.replication_factor && !skipped.is_empty() {
                        chosen.push(skipped.remove(0));
                    }
                    if chosen.len() < self.replication_factor {
                        chosen.push(node);
                    }
                }
            }
        }
        for node in skipped {
            if chosen.len() == self.replication_factor {
                break;
            }
            chosen.push(node);
        }
        chosen
    }

    pub fn nodes(&self) -> usize {
        self.nodes
    }

    pub fn key_count(&self) -> u64 {
        self.key_count
    }

    pub fn replication_factor(&self) -> usize {
        self.replication_factor
    }

    /// Every node holds every key: the ring is one piece.
    pub fn is_full_replication(&self) -> bool {
        self.replication_factor == self.nodes
    }

    pub fn coordinator_choice(&self) -> CoordinatorChoice {
        self.coordinator
    }

    /// Every token, sorted by position, with its node.
    pub fn tokens(&self) -> &[(Key, NodeId)] {
        &self.tokens
    }

    /// Number of token ranges (nodes x vnodes).
    pub fn token_ranges(&self) -> usize {
        self.tokens.len()
    }

    /// The pieces, in key order, tiling the key space.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    pub fn replica_sets(&self) -> &[Vec<NodeId>] {
        &self.replica_sets
    }

    /// The rack of `node` (0 when there are no racks).
    pub fn rack(&self, node: NodeId) -> u32 {
        self.racks.as_ref().map_or(0, |r| r[node])
    }

    /// Index of the piece holding `key`.
    pub fn piece_of(&self, key: Key) -> usize {
        if self.pieces.len() == 1 {
            return 0;
        }
        self.piece_starts.partition_point(|&start| start <= key) - 1
    }

    /// The replicas of `key`, in preference order.
    pub fn replicas_of(&self, key: Key) -> &[NodeId] {
        &self.replica_sets[self.pieces[self.piece_of(key)].replica_set]
    }

    /// `node`'s position in the replica set of `key` (its column in the replica
    /// table), or `None` if it does not store `key`.
    pub fn position(&self, node: NodeId, key: Key) -> Option<Column> {
        if self.is_full_replication() {
            return (node < self.nodes).then_some(Column(node));
        }
        self.replicas_of(key).iter().position(|&n| n == node).map(Column)
    }

    /// The node in column `column` of the replica set of `key`.
    pub fn node_at(&self, key: Key, column: Column) -> NodeId {
        if self.is_full_replication() {
            return column.0;
        }
        self.replicas_of(key)[column.0]
    }

    /// The pieces overlapping `range`, by index.
    pub fn pieces_overlapping(&self, range: KeyRange) -> std::ops::Range<usize> {
        if range.is_empty() {
            return 0..0;
        }
        self.piece_of(range.start)..self.piece_of(range.end - 1) + 1
    }

    /// Token ranges each node is primary for (the node of the range's token).
    pub fn primary_ranges(&self, node: NodeId) -> usize {
        self.tokens.iter().filter(|&&(_, n)| n == node).count()
    }

    /// Share of the key space each node stores.
    pub fn ownership(&self) -> Ownership {
        let mut keys = vec![0u64; self.nodes];
        for piece in &self.pieces {
            for &node in &self.replica_sets[piece.replica_set] {
                keys[node] += piece.keys.len();
            }
        }
        Ownership::of(keys.iter().map(|&k| k as f64 / self.key_count as f64).collect())
    }
}

/// Places `nodes * vnodes` distinct tokens on `0..key_count`, sorted, with their nodes.
fn place_tokens(
    nodes: usize,
    replication_factor: usize,
    vnodes: usize,
    key_count: u64,
    allocation: TokenAllocation,
    seed: u64,
) -> Vec<(Key, NodeId)> {
    let count = nodes * vnodes;
    let mut rng = stream(seed, StreamId::RingTokens);
    let mut tokens: Vec<(Key, NodeId)> = match allocation {
        TokenAllocation::Balanced => {
            let first: Vec<NodeId> = (0..nodes).collect();
            let mut order = first.clone();
            (0..count)
                .map(|i| {
                    if i % nodes == 0 && i > 0 {
                        let last = i + nodes == count;
                        order = next_round(&order, last.then_some(&first[..]), replication_factor, &mut rng);
                    }
                    let at = (u128::from(key_count) * i as u128 / count as u128) as Key;
                    (at, order[i % nodes])
                })
                .collect()
        }
        TokenAllocation::Random => {
            let mut taken = std::collections::BTreeSet::new();
            let mut tokens = Vec::with_capacity(count);
            for node in 0..nodes {
                for _ in 0..vnodes {
                    // Redraw a position another token holds (validated: enough keys).
                    let at = loop {
                        let at = rng.random_range(0..key_count);
                        if taken.insert(at) {
                            break at;
                        }
                    };
                    tokens.push((at, node));
                }
            }
            tokens
        }
    };
    tokens.sort_unstable();
    tokens
}

/// The order in which the next round of evenly spaced tokens goes to the nodes: a
/// seeded shuffle whose first `rf - 1` nodes are none of the previous round's last
/// `rf - 1`, so that every `rf` consecutive tokens belong to distinct nodes and every
/// node stores exactly `rf / nodes` of the key space. When a few draws find no such
/// order (too few nodes for the replication factor), the previous order is kept, which
/// has the same property. The last round must also fit before the first (`first`): the
/// ring wraps; when neither a draw nor the previous order does, a search over the
/// constrained positions finds one ([`constrained_order`]).
fn next_round(
    previous: &[NodeId],
    first: Option<&[NodeId]>,
    rf: usize,
    rng: &mut rand_chacha::ChaCha12Rng,
) -> Vec<NodeId> {
    let span = rf.saturating_sub(1).min(previous.len());
    let tail = &previous[previous.len() - span..];
    let head = first.map_or(&[][..], |f| &f[..span]);
    let mut order = previous.to_vec();
    for _ in 0..256 {
        order.shuffle(rng);
        let fits_after = order[..span].iter().all(|n| !tail.contains(n));
        let fits_before = order[order.len() - span..].iter().all(|n| !head.contains(n));
        if fits_after && fits_before {
            return order;
        }
    }
    // The previous order again always fits after it (any `rf` consecutive tokens of a
    // repeated permutation are distinct); the last round must also fit before the first.
    if first.is_none_or(|f| wraps_evenly(previous, f, rf)) {
        return previous.to_vec();
    }
    constrained_order(previous, first.expect("the last round"), rf, rng).unwrap_or_else(|| previous.to_vec())
}

/// The nodes of `previous` the j-th node of the round after it may not be, for every
/// `rf` consecutive tokens across the boundary to be distinct nodes: the last
/// `rf - 1 - j` of `previous` (none for j >= rf - 1).
fn barred_after(previous: &[NodeId], j: usize, rf: usize) -> &[NodeId] {
    let n = previous.len();
    &previous[n - rf.saturating_sub(1 + j).min(n)..]
}

/// Whether `next` can follow `previous` with every `rf` consecutive tokens on distinct
/// nodes across the boundary ([`barred_after`]).
fn wraps_evenly(previous: &[NodeId], next: &[NodeId], rf: usize) -> bool {
    (0..rf.saturating_sub(1).min(next.len())).all(|j| !barred_after(previous, j, rf).contains(&next[j]))
}

/// An order that fits after `previous` and before `first` ([`wraps_evenly`] both
/// ways), found by a depth-first search over the positions the two boundaries
/// constrain (at most 2 (rf - 1)), trying nodes in a seeded order; the other positions
/// take the remaining nodes. `None` when no order fits (too few nodes).
fn constrained_order(
    previous: &[NodeId],
    first: &[NodeId],
    rf: usize,
    rng: &mut rand_chacha::ChaCha12Rng,
) -> Option<Vec<NodeId>> {
    let n = previous.len();
    let span = rf.saturating_sub(1).min(n);
    let mut candidates = previous.to_vec();
    candidates.shuffle(rng);
    // The mirror of `barred_after`: the j-th node from the end may not be one of the
    // first `rf - 1 - j` of `first`.
    let forbidden = |position: usize, node: NodeId| {
        let from_end = n - 1 - position;
        let before = &first[..rf.saturating_sub(1 + from_end).min(n)];
        barred_after(previous, position, rf).contains(&node) || before.contains(&node)
    };
    let mut constrained: Vec<usize> = (0..span).chain(n.saturating_sub(span)..n).collect();
    constrained.sort_unstable();
    constrained.dedup();
    let mut order: Vec<Option<NodeId>> = vec![None; n];
    fn place(
        at: usize,
        constrained: &[usize],
        candidates: &[NodeId],
        order: &mut Vec<Option<NodeId>>,
        forbidden: &dyn Fn(usize, NodeId) -> bool,
    ) -> bool {
        let Some(&position) = constrained.get(at) else {
            return true;
        };
        for &node in candidates {
            if order.contains(&Some(node)) || forbidden(position, node) {
                continue;
            }
            order[position] = Some(node);
            if place(at + 1, constrained, candidates, order, forbidden) {
                return true;
            }
            order[position] = None;
        }
        false
    }
    if !place(0, &constrained, &candidates, &mut order, &forbidden) {
        return None;
    }
    let placed: Vec<NodeId> = order.iter().flatten().copied().collect();
    let mut rest = candidates.into_iter().filter(|node| !placed.contains(node));
    Some(
        order
            .into_iter()
            .map(|slot| slot.or_else(|| rest.next()).expect("n nodes for n places"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(nodes: usize, rf: usize, vnodes: u32, allocation: TokenAllocation, racks: Option<Vec<u32>>) -> Ring {
        let config = RingConfig {
            replication_factor: rf,
            vnodes,
            allocation,
            racks,
            coordinator: CoordinatorChoice::Any,
        };
        Ring::new(nodes, 1_000_000, Some(&config), 7)
    }

    #[test]
    fn full_replication_is_one_piece_in_node_order() {
        let ring = Ring::full_replication(3, 1_000);
        assert_eq!(ring.pieces().len(), 1);
        assert_eq!(ring.replicas_of(999), &[0, 1, 2]);
        assert_eq!(ring.position(2, 5), Some(Column(2)));
        assert_eq!(ring.node_at(5, Column(1)), 1);
    }

    #[test]
    fn every_key_has_rf_distinct_replicas_and_ranges_number_nodes_times_vnodes() {
        for allocation in [TokenAllocation::Random, TokenAllocation::Balanced] {
            let ring = ring(6, 3, 16, allocation, None);
            assert_eq!(ring.token_ranges(), 96);
            let distinct: std::collections::BTreeSet<usize> = ring.pieces().iter().map(|p| p.token_range).collect();
            assert_eq!(distinct.len(), 96);
            let mut covered = 0;
            for (i, piece) in ring.pieces().iter().enumerate() {
                covered += piece.keys.len();
                let set = &ring.replica_sets()[piece.replica_set];
                let mut sorted = set.clone();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!(sorted.len(), 3, "piece {i} of {allocation:?}");
                assert_eq!(ring.piece_of(piece.keys.start), i);
                assert_eq!(ring.piece_of(piece.keys.end - 1), i);
            }
            assert_eq!(covered, 1_000_000);
        }
    }

    #[test]
    fn balanced_tokens_give_each_node_about_rf_over_n() {
        let ring = ring(6, 3, 256, TokenAllocation::Balanced, None);
        let ownership = ring.ownership();
        assert!((ownership.mean - 0.5).abs() < 1e-9);
        for share in &ownership.per_node {
            assert!((share - 0.5).abs() < 1e-5, "{ownership:?}");
        }
        let random = super::tests::ring(6, 3, 4, TokenAllocation::Random, None).ownership();
        assert!(random.stdev > ownership.stdev, "random tokens are less even");
    }

    #[test]
    fn balanced_tokens_give_every_node_rf_over_n_for_any_nodes_and_rf() {
        // Issue 23: 7 nodes at RF 4 were up to 12.5% off RF / N in some seeds, 9 at RF 5
        // up to 20% (the last round of tokens did not wrap onto the first). Every node
        // must own RF / N, as Cassandra's allocation algorithm aims for.
        for nodes in 3..=12usize {
            for rf in 2..=nodes.min(5) {
                for vnodes in [1u32, 4, 16, 256] {
                    for seed in 0..10u64 {
                        let config = RingConfig {
                            replication_factor: rf,
                            vnodes,
                            allocation: TokenAllocation::Balanced,
                            racks: None,
                            coordinator: CoordinatorChoice::Any,
                        };
                        let ring = Ring::new(nodes, 1_000_000, Some(&config), seed);
                        let target = rf as f64 / nodes as f64;
                        for share in ring.ownership().per_node {
                            assert!(
                                (share - target).abs() <= 1e-3 * target,
                                "{nodes} nodes, RF {rf}, {vnodes} vnodes, seed {seed}: a node owns {share}, not {target}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn one_vnode_balanced_is_perfectly_even() {
        let ring = ring(6, 3, 1, TokenAllocation::Balanced, None);
        for share in ring.ownership().per_node {
            assert!((share - 0.5).abs() < 1e-5, "{share}");
        }
    }

    #[test]
    fn racks_spread_replicas() {
        // Nodes 0,1 in rack 0; 2,3 in rack 1; 4,5 in rack 2.
        let racks = vec![0, 0, 1, 1, 2, 2];
        let ring = ring(6, 3, 8, TokenAllocation::Random, Some(racks.clone()));
        for set in ring.replica_sets() {
            let mut used: Vec<u32> = set.iter().map(|&n| racks[n]).collect();
            used.sort_unstable();
            assert_eq!(used, vec![0, 1, 2], "replicas {set:?} cover every rack");
        }
    }

    #[test]
    fn positions_map_nodes_to_table_columns() {
        let ring = ring(5, 2, 4, TokenAllocation::Random, None);
        for key in [0, 1, 499_999, 999_999] {
            let set = ring.replicas_of(key).to_vec();
            for (position, &node) in set.iter().enumerate() {
                assert_eq!(ring.position(node, key), Some(Column(position)));
                assert_eq!(ring.node_at(key, Column(position)), node);
            }
            let outsider = (0..5).find(|n| !set.contains(n)).unwrap();
            assert_eq!(ring.position(outsider, key), None);
        }
    }

    #[test]
    fn same_seed_same_ring() {
        let a = ring(12, 3, 16, TokenAllocation::Random, None);
        let b = ring(12, 3, 16, TokenAllocation::Random, None);
        assert_eq!(a.tokens(), b.tokens());
        assert_eq!(a.pieces(), b.pieces());
    }
}
