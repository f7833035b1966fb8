//! Every replica's version of every key, and the ground truth of which keys differ.
//!
//! A table has one column per replica of a key: with a token ring (`model::ring`) a
//! key's columns are its replica set in preference order, and the callers translate
//! nodes to columns (`Ring::position`); when every node holds every key, column and
//! node id coincide. Columns are [`Column`]s, never node ids, so the compiler keeps
//! the two apart.
//!
//! Storage is sparse: only keys that some replica has written are stored; every other
//! key is in the shared initial state (version 0) on all replicas. Memory therefore
//! grows with the keys written, never with the key space, so 10^9 keys cost nothing
//! until they are touched.
//!
//! The versions of one key on all replicas sit side by side in one slot, so the oracle
//! question "do the replicas agree on this key?" is answered on every change in O(nodes)
//! and the set of divergent keys is always exact. This module never decides anything:
//! callers apply versions; the table keeps last-writer-wins, measures, and reports.
//!
//! Slots live in key-ordered buckets: bucket `b` holds the written keys of
//! `[b << shift, (b + 1) << shift)` as one sorted, flat `Vec<u64>` of slots. A lookup is
//! one array index and a short binary search, a range scan reads memory sequentially,
//! and there is no per-key allocation: at 10^9 keys this is several times faster than a
//! `BTreeMap` and half its memory. Iteration is always in key order.

use super::{Column, Key, KeyRange, Version};
use crate::sim::SimTime;
use std::cell::Cell;

/// Marks a slot whose replicas all agree.
const CONSISTENT: u64 = u64::MAX;

/// Slot layout: `[key, diverged_since, latest_acknowledged, version on node 0, node 1, ...]`.
const KEY: usize = 0;
const SINCE: usize = 1;
const LATEST: usize = 2;
const FIRST_REPLICA: usize = 3;

/// Most buckets a table has: 2^20 bucket headers are 56 MiB (56 bytes each).
const MAX_BUCKET_BITS: u32 = 20;
/// Fewest keys of the key space per bucket (as a power of two).
const MIN_SHIFT: u32 = 6;

/// What one application of a version did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The replica's version changed (the applied version was newer).
    pub changed: bool,
    /// The key became consistent on all replicas; the value is how long it had been
    /// divergent, in nanoseconds.
    pub healed_after_ns: Option<u64>,
}

impl Applied {
    /// The version was not newer (or, for `set_version`, the same): nothing changed.
    const UNCHANGED: Applied = Applied {
        changed: false,
        healed_after_ns: None,
    };
}

/// What [`ReplicaTable::audit`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audit {
    /// Keys on which the replicas differ, recounted from the versions.
    pub divergent: u64,
    /// Some key's latest acknowledged version is on no replica.
    pub lost_acknowledged: bool,
}

/// The written keys of one bucket's key range: their slots, sorted by key, back to back.
#[derive(Default)]
struct Bucket {
    slots: Vec<u64>,
    /// How many of these keys are divergent.
    divergent: u32,
    /// This bucket's part of the last [`ReplicaTable::audit`] (divergent keys recounted
    /// from the versions, a lost acknowledged write), or `None` if a slot was touched
    /// since. A recount depends only on the slots, so an untouched bucket's stands.
    audited: Cell<Option<(u32, bool)>>,
    /// The table's [`change_stamp`](ReplicaTable::change_stamp) at the last change of a
    /// version in this bucket (0: none since the table was made).
    changed_at: u64,
    /// The change stamp of the last change here that was a write (a client write or its
    /// replication), not a repair stream or a fault: what Cassandra's incremental repair
    /// counts as unrepaired data ([`written_since`](ReplicaTable::written_since)).
    written_at: u64,
}

/// log2 of the keys per bucket over a key space of `key_count` keys: at most 2^20
/// buckets, at least 64 keys each.
fn bucket_shift(key_count: u64) -> u32 {
    let key_bits = u64::BITS - (key_count - 1).leading_zeros();
    key_bits.saturating_sub(MAX_BUCKET_BITS).clamp(MIN_SHIFT, 63)
}

/// All replicas' versions of every written key, plus the divergence oracle.
pub struct ReplicaTable {
    nodes: usize,
    /// Slot width in `u64`s: key, since, latest, one version per node.
    stride: usize,
    /// Bucket of key `k` is `k >> shift`.
    shift: u32,
    buckets: Vec<Bucket>,
    stored: u64,
    /// The key of each slot in order of first write (slots are never freed): how
    /// [`key_at_slot`](Self::key_at_slot) draws a random stored key.
    slot_keys: Vec<Key>,
    /// Keys on which the replicas currently disagree: the oracle's answer, kept exact on
    /// every change. Each bucket counts its own, so a question about a range costs
    /// O(buckets in it) plus a scan of the partly covered ones.
    divergent: u64,
    /// The most keys divergent at once so far: the true peak, which samples can miss.
    divergent_peak: u64,
    /// Divergence episodes begun so far (a key going from agreement to disagreement):
    /// each one ends by exactly one repair path or is still open (`world::paths`).
    divergences_begun: u64,
    /// Changes of any replica's version so far: the stamp [`changed_since`](Self::changed_since)
    /// compares against.
    changes: u64,
    /// Integral of the divergent-key count over time, in key-nanoseconds.
    divergence_key_ns: u128,
    last_change: SimTime,
}

impl ReplicaTable {
    /// A table for keys of the whole `u64` range (2^20 buckets of 2^44 keys, 56 MiB of
    /// headers: for tests and small experiments; runs use
    /// [`for_key_space`](Self::for_key_space)).
    pub fn new(nodes: usize) -> ReplicaTable {
        ReplicaTable::for_key_space(nodes, u64::MAX)
    }

    /// A table for keys `0..key_count`, with buckets sized to the key space.
    pub fn for_key_space(nodes: usize, key_count: u64) -> ReplicaTable {
        assert!(nodes >= 2, "anti-entropy needs at least two replicas");
        assert!(key_count >= 1, "at least one key");
        let shift = bucket_shift(key_count);
        let bucket_count = ((key_count - 1) >> shift) as usize + 1;
        ReplicaTable {
            nodes,
            stride: FIRST_REPLICA + nodes,
            shift,
            buckets: (0..bucket_count).map(|_| Bucket::default()).collect(),
            stored: 0,
            slot_keys: Vec::new(),
            divergent: 0,
            divergent_peak: 0,
            divergences_begun: 0,
            changes: 0,
            divergence_key_ns: 0,
            last_change: SimTime::ZERO,
        }
    }

    /// Bytes of the fixed bucket index a table over `key_count` keys allocates up front
    /// (at most 2^20 buckets, 56 MiB), for the memory estimate.
    pub fn index_bytes(key_count: u64) -> u64 {
        let buckets = (key_count.max(1) - 1) >> bucket_shift(key_count.max(1));
        (buckets + 1) * std::mem::size_of::<Bucket>() as u64
    }

    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Number of keys stored (written by at least one replica): the sparse state's size.
    pub fn stored_keys(&self) -> u64 {
        self.stored
    }

    /// Heap memory the table holds, in bytes: the bucket index (fixed by the key space,
    /// at most 2^20 buckets) plus the allocated slots, which grow with the keys written.
    pub fn heap_bytes(&self) -> u64 {
        let index = self.buckets.capacity() * std::mem::size_of::<Bucket>();
        let slots: usize = self.buckets.iter().map(|b| b.slots.capacity() * 8).sum();
        let order = self.slot_keys.capacity() * std::mem::size_of::<Key>();
        (index + slots + order) as u64
    }

    /// Version of `key` in `column` (0 if never written there).
    pub fn version(&self, column: Column, key: Key) -> Version {
        self.slot(key).map_or(0, |slot| slot[FIRST_REPLICA + column.0])
    }

    /// Latest acknowledged version of `key` (0 if never written).
    pub fn latest(&self, key: Key) -> Version {
        self.slot(key).map_or(0, |slot| slot[LATEST])
    }

    /// The most keys divergent at once since the table was made (exact, every instant).
    pub fn divergent_peak(&self) -> u64 {
        self.divergent_peak
    }

    /// Divergence episodes begun since the table was made: every one has ended (a
    /// version application returned `healed_after_ns`) or is among the divergent keys.
    pub fn divergences_begun(&self) -> u64 {
        self.divergences_begun
    }

    /// Number of keys on which the replicas currently disagree (exact ground truth).
    pub fn divergent_keys(&self) -> u64 {
        self.divergent
    }

    /// Integral of the divergent-key count up to `now`, in key-nanoseconds.
    pub fn divergence_key_ns(&self, now: SimTime) -> u128 {
        self.divergence_key_ns + u128::from(self.divergent_keys()) * u128::from(now.since(self.last_change))
    }

    /// Records a client write acknowledged by the replica in column `coordinator` at `now`. Versions are global
    /// write sequence numbers, so every new write is the newest version of its key.
    pub fn client_write(&mut self, coordinator: Column, key: Key, version: Version, now: SimTime) -> Applied {
        let (bucket, at) = self.slot_index(key);
        let latest = &mut self.buckets[bucket].slots[at + LATEST];
        assert!(version > *latest, "write versions must increase");
        *latest = version;
        self.apply_at(bucket, at, coordinator.0, version, now)
    }

    /// The write `version` of `key` reached its consistency level: the acknowledged-latest
    /// version moves up to it (for writes at QUORUM or ALL, whose replicas apply them with
    /// [`apply`](Self::apply) and are acknowledged once enough of them did).
    pub fn acknowledge(&mut self, key: Key, version: Version) {
        let (bucket, at) = self.slot_index(key);
        let latest = &mut self.buckets[bucket].slots[at + LATEST];
        *latest = (*latest).max(version);
    }

    /// Applies `version` of a write forwarded by a coordinator that is not a replica of
    /// `key`: the first replica to apply it acknowledges it (the acknowledged-latest
    /// version moves up to it), then it is applied as by [`apply`](Self::apply).
    /// Also returns whether this application acknowledged the write (it was the first).
    pub fn apply_forwarded(&mut self, column: Column, key: Key, version: Version, now: SimTime) -> (Applied, bool) {
        let (bucket, at) = self.slot_index(key);
        let latest = &mut self.buckets[bucket].slots[at + LATEST];
        let acknowledges = *latest < version;
        *latest = (*latest).max(version);
        (self.apply_at(bucket, at, column.0, version, now), acknowledges)
    }

    /// Applies `version` of `key` to `column` if it is newer than what the replica holds
    /// (last writer wins); an older or equal version is ignored, so a replica can never
    /// be made older.
    pub fn apply(&mut self, column: Column, key: Key, version: Version, now: SimTime) -> Applied {
        let (bucket, at) = self.slot_index(key);
        self.apply_at(bucket, at, column.0, version, now)
    }

    /// [`apply`](Self::apply) for a record a repair streamed: the same last-writer-wins
    /// change, but not a write, so [`written_since`](Self::written_since) does not see it
    /// (incremental repair marks streamed data repaired with the session).
    pub fn apply_repair(&mut self, column: Column, key: Key, version: Version, now: SimTime) -> Applied {
        let (bucket, at) = self.slot_index(key);
        let current = self.buckets[bucket].slots[at + FIRST_REPLICA + column.0];
        if version <= current {
            return Applied::UNCHANGED;
        }
        self.store(bucket, at, column.0, version, now)
    }

    fn apply_at(&mut self, bucket: usize, at: usize, node: usize, version: Version, now: SimTime) -> Applied {
        let current = self.buckets[bucket].slots[at + FIRST_REPLICA + node];
        if version <= current {
            return Applied::UNCHANGED;
        }
        let applied = self.store(bucket, at, node, version, now);
        self.buckets[bucket].written_at = self.changes;
        applied
    }

    /// Writes `version` into the slot, stamps the change and brings the oracle up to date.
    fn store(&mut self, bucket: usize, at: usize, node: usize, version: Version, now: SimTime) -> Applied {
        self.changes += 1;
        self.buckets[bucket].changed_at = self.changes;
        self.buckets[bucket].slots[at + FIRST_REPLICA + node] = version;
        Applied {
            changed: true,
            healed_after_ns: self.update_oracle(bucket, at, now),
        }
    }

    /// Purges the tombstone `version` of `key`: every replica holding exactly it forgets
    /// the key (back to version 0, the initial state), all at once; replicas holding
    /// another version keep it. The acknowledged-latest version follows if it was the
    /// tombstone or older (the delete superseded it: absence is what was acknowledged). A purge never begins a
    /// divergence; it ends one when the replicas that forgot the key now agree with
    /// those that never had it.
    pub fn purge(&mut self, key: Key, version: Version, now: SimTime) -> Applied {
        let (bucket, at) = self.slot_index(key);
        let slot = &mut self.buckets[bucket].slots[at..at + self.stride];
        if slot[LATEST] <= version {
            slot[LATEST] = 0;
        }
        let mut changed = false;
        for held in &mut slot[FIRST_REPLICA..] {
            if *held == version {
                *held = 0;
                changed = true;
            }
        }
        if !changed {
            return Applied::UNCHANGED;
        }
        self.changes += 1;
        self.buckets[bucket].changed_at = self.changes;
        Applied {
            changed: true,
            healed_after_ns: self.update_oracle(bucket, at, now),
        }
    }

    /// Sets `column`'s version of `key` to `version` even if that is older: for modelled
    /// faults that lose or corrupt data (a crashed node's lost writes, bitrot) and for
    /// tests that break a repair on purpose. The oracle follows, exactly as for
    /// [`apply`](Self::apply); the acknowledged-latest version is untouched, so a lost
    /// acknowledged write stays detectable.
    pub fn set_version(&mut self, column: Column, key: Key, version: Version, now: SimTime) -> Applied {
        let (bucket, at) = self.slot_index(key);
        let current = self.buckets[bucket].slots[at + FIRST_REPLICA + column.0];
        if version == current {
            return Applied::UNCHANGED;
        }
        self.store(bucket, at, column.0, version, now)
    }

    /// Re-derives whether the key of the slot at `at` in `bucket` is divergent after one
    /// of its versions changed; returns how long it had been divergent if it just healed.
    fn update_oracle(&mut self, bucket: usize, at: usize, now: SimTime) -> Option<u64> {
        let bucket = &mut self.buckets[bucket];
        let slot = &mut bucket.slots[at..at + self.stride];
        let replicas = &slot[FIRST_REPLICA..];
        let agree = replicas.iter().all(|&v| v == replicas[0]);
        let since = slot[SINCE];
        if agree && since != CONSISTENT {
            slot[SINCE] = CONSISTENT;
            bucket.divergent -= 1;
            self.advance_integral(now);
            self.divergent -= 1;
            return Some(now.nanos() - since);
        }
        if !agree && since == CONSISTENT {
            slot[SINCE] = now.nanos();
            bucket.divergent += 1;
            self.advance_integral(now);
            self.divergent += 1;
            self.divergences_begun += 1;
            self.divergent_peak = self.divergent_peak.max(self.divergent);
        }
        None
    }

    /// A stamp that advances on every change of any replica's version: hold on to it, and
    /// [`changed_since`](Self::changed_since) later tells where the table changed after it.
    pub fn change_stamp(&self) -> u64 {
        self.changes
    }

    /// The parts of `range` where some replica's version may have changed after `stamp`,
    /// in key order, at the granularity of the table's buckets (up to `2^shift` keys
    /// each, clipped to `range`): every changed key is in one of them. Costs a look at
    /// each bucket header in `range`; this is how the tree cache finds the leaves to
    /// rehash without a lookup on every write.
    pub fn changed_since(&self, range: KeyRange, stamp: u64) -> impl Iterator<Item = KeyRange> + '_ {
        let first = range.start >> self.shift;
        self.buckets_in(range)
            .iter()
            .zip(first..)
            .filter(move |(bucket, _)| bucket.changed_at > stamp)
            .map(move |(_, b)| {
                let start = (b << self.shift).max(range.start);
                let end = (b + 1)
                    .checked_mul(1 << self.shift)
                    .map_or(range.end, |end| end.min(range.end));
                KeyRange::new(start, end)
            })
    }

    /// The parts of `range` where some replica took a write (not a repair, not a fault)
    /// after `stamp`, at the granularity of [`changed_since`](Self::changed_since): the
    /// data Cassandra's incremental repair holds unrepaired since a session that
    /// snapshotted at `stamp`.
    pub fn written_since(&self, range: KeyRange, stamp: u64) -> impl Iterator<Item = KeyRange> + '_ {
        let first = range.start >> self.shift;
        self.buckets_in(range)
            .iter()
            .zip(first..)
            .filter(move |(bucket, _)| bucket.written_at > stamp)
            .map(move |(_, b)| {
                let start = (b << self.shift).max(range.start);
                let end = (b + 1)
                    .checked_mul(1 << self.shift)
                    .map_or(range.end, |end| end.min(range.end));
                KeyRange::new(start, end)
            })
    }

    /// The key stored in slot `slot` (`0..stored_keys()`, in order of first write).
    pub fn key_at_slot(&self, slot: u64) -> Key {
        self.slot_keys[slot as usize]
    }

    /// Every replica's version of `key`, by node.
    pub fn versions(&self, key: Key) -> Vec<Version> {
        match self.slot(key) {
            Some(slot) => slot[FIRST_REPLICA..].to_vec(),
            None => vec![0; self.nodes],
        }
    }

    /// One pass over every bucket touched since the last audit (the others keep their
    /// recount, which depends on nothing else): the recount of divergent keys
    /// and whether any acknowledged write is on no replica. The cheap form of
    /// [`recount_divergent`](Self::recount_divergent) and
    /// [`lost_acknowledged_write`](Self::lost_acknowledged_write), for checks at every
    /// sample point; those two find the offending key once something is wrong.
    pub fn audit(&self) -> Audit {
        let mut audit = Audit {
            divergent: 0,
            lost_acknowledged: false,
        };
        for bucket in &self.buckets {
            let (divergent, lost) = bucket.audited.get().unwrap_or_else(|| {
                let mut part = (0, false);
                for slot in bucket.slots.chunks_exact(self.stride) {
                    let versions = &slot[FIRST_REPLICA..];
                    part.0 += u32::from(versions.iter().any(|&v| v != versions[0]));
                    part.1 |= versions.iter().all(|&v| v < slot[LATEST]);
                }
                bucket.audited.set(Some(part));
                part
            });
            audit.divergent += u64::from(divergent);
            audit.lost_acknowledged |= lost;
        }
        audit
    }

    /// The first key on which the oracle and the replicas disagree about divergence
    /// (`None` is the healthy answer); with whether the replicas really differ on it.
    pub fn oracle_mismatch(&self) -> Option<(Key, bool)> {
        self.all_slots().find_map(|slot| {
            let versions = &slot[FIRST_REPLICA..];
            let differ = versions.iter().any(|&v| v != versions[0]);
            (differ != (slot[SINCE] != CONSISTENT)).then_some((slot[KEY], differ))
        })
    }

    /// The first divergent key, if any.
    pub fn first_divergent(&self) -> Option<Key> {
        self.divergent_in(KeyRange::new(0, u64::MAX)).next().map(|(key, _)| key)
    }

    /// The (key, version) records `column` holds in `range`, in key order, skipping keys in
    /// the initial state.
    pub fn records(&self, column: Column, range: KeyRange) -> impl Iterator<Item = (Key, Version)> + '_ {
        self.slots_in(range)
            .map(move |slot| (slot[KEY], slot[FIRST_REPLICA + column.0]))
            .filter(|&(_, version)| version > 0)
    }

    /// The records in column `from`'s `range` that are newer than column `to`'s: exactly
    /// what `to` would change if `from` streamed the whole range to it.
    pub fn newer_records(&self, from: Column, to: Column, range: KeyRange) -> Vec<(Key, Version)> {
        self.slots_in(range)
            .filter_map(|slot| {
                let versions = &slot[FIRST_REPLICA..];
                (versions[from.0] > versions[to.0]).then_some((slot[KEY], versions[from.0]))
            })
            .collect()
    }

    /// For each replica column, the keys of `range` on which it holds an older version
    /// than another replica: how stale each replica is.
    pub fn stale_per_replica(&self, range: KeyRange) -> Vec<u64> {
        let mut stale = vec![0; self.nodes];
        for slot in self
            .buckets_in(range)
            .iter()
            .filter(|b| b.divergent > 0)
            .flat_map(|b| self.bucket_slots_in(b, range))
            .filter(|slot| slot[SINCE] != CONSISTENT)
        {
            let versions = &slot[FIRST_REPLICA..];
            let newest = versions.iter().copied().max().unwrap_or(0);
            for (count, &version) in stale.iter_mut().zip(versions) {
                *count += u64::from(version < newest);
            }
        }
        stale
    }

    /// Counts divergent keys from scratch by comparing replicas; equals
    /// [`divergent_keys`](Self::divergent_keys) unless the oracle is broken.
    pub fn recount_divergent(&self) -> u64 {
        self.all_slots()
            .filter(|slot| {
                let versions = &slot[FIRST_REPLICA..];
                versions.iter().any(|&v| v != versions[0])
            })
            .count() as u64
    }

    /// Divergent keys in `range`, with the instant each diverged, in key order.
    pub fn divergent_in(&self, range: KeyRange) -> impl Iterator<Item = (Key, SimTime)> + '_ {
        self.buckets_in(range)
            .iter()
            .filter(|b| b.divergent > 0)
            .flat_map(move |b| self.bucket_slots_in(b, range))
            .filter(|slot| slot[SINCE] != CONSISTENT)
            .map(|slot| (slot[KEY], SimTime::from_nanos(slot[SINCE])))
    }

    /// Number of divergent keys in `range`.
    pub fn divergent_count_in(&self, range: KeyRange) -> u64 {
        let mut count = 0;
        for (i, b) in self.buckets_in(range).iter().enumerate() {
            if b.divergent == 0 {
                continue;
            }
            let first_key = ((range.start >> self.shift) + i as u64) << self.shift;
            let whole = first_key >= range.start && first_key.saturating_add((1 << self.shift) - 1) < range.end;
            count += if whole {
                u64::from(b.divergent)
            } else {
                self.bucket_slots_in(b, range)
                    .filter(|slot| slot[SINCE] != CONSISTENT)
                    .count() as u64
            };
        }
        count
    }

    /// The first key whose latest acknowledged version (or a newer one) is on no
    /// replica: a lost acknowledged write. `None` is the healthy answer.
    pub fn lost_acknowledged_write(&self) -> Option<(Key, Version)> {
        self.all_slots().find_map(|slot| {
            let latest = slot[LATEST];
            // A newer version supersedes it (writes at QUORUM or ALL are applied before
            // they are acknowledged, so a replica may hold a version newer than it).
            let held = slot[FIRST_REPLICA..].iter().any(|&v| v >= latest);
            (!held).then_some((slot[KEY], latest))
        })
    }

    /// Every stored slot, in key order.
    fn all_slots(&self) -> impl Iterator<Item = &[u64]> + '_ {
        self.buckets.iter().flat_map(move |b| b.slots.chunks_exact(self.stride))
    }

    /// The stored slots of keys in `range`, in key order.
    fn slots_in(&self, range: KeyRange) -> impl Iterator<Item = &[u64]> + '_ {
        self.buckets_in(range)
            .iter()
            .flat_map(move |b| self.bucket_slots_in(b, range))
    }

    /// The buckets that hold keys of `range`, in key order.
    fn buckets_in(&self, range: KeyRange) -> &[Bucket] {
        let last_bucket = self.buckets.len() as u64 - 1;
        if range.start >= range.end || range.start >> self.shift > last_bucket {
            return &[];
        }
        let first = (range.start >> self.shift) as usize;
        let last = ((range.end - 1) >> self.shift).min(last_bucket) as usize;
        &self.buckets[first..=last]
    }

    /// The slots of `bucket` whose keys are in `range`, in key order.
    fn bucket_slots_in<'a>(&'a self, bucket: &'a Bucket, range: KeyRange) -> impl Iterator<Item = &'a [u64]> + 'a {
        // Past the range's first bucket, every slot is at or after its start.
        let starts_before = bucket.slots.first().is_some_and(|&key| key < range.start);
        let first = if starts_before {
            self.position(&bucket.slots, range.start)
        } else {
            0
        };
        bucket.slots[first * self.stride..]
            .chunks_exact(self.stride)
            .take_while(move |slot| slot[KEY] < range.end)
    }

    /// Index (in slots) of the first slot of `bucket` whose key is >= `key`.
    ///
    /// Written keys are spread over the bucket's `2^shift` keys, so the first probe goes
    /// where `key` would sit if they were spread evenly, and a short walk from there
    /// usually ends it: two or three neighbouring cache lines, where a plain binary
    /// search over a bucket of a few dozen 40-byte slots misses cache at every step.
    /// When the guess is far off (clustered keys), a binary search over the rest keeps
    /// the worst case logarithmic.
    fn position(&self, bucket: &[u64], key: Key) -> usize {
        const WALK: usize = 4;
        let n = bucket.len() / self.stride;
        let key_at = |i: usize| bucket[i * self.stride + KEY];
        if n == 0 {
            return 0;
        }
        let guess = self.guess(key, n);
        let (mut low, mut high) = if key_at(guess) < key {
            // The answer is after `guess`.
            let mut i = guess + 1;
            while i < n && i <= guess + WALK {
                if key_at(i) >= key {
                    return i;
                }
                i += 1;
            }
            (i, n)
        } else {
            // The answer is `guess` or before it.
            let mut i = guess;
            while i > 0 && i + WALK > guess {
                if key_at(i - 1) < key {
                    return i;
                }
                i -= 1;
            }
            (0, i)
        };
        while low < high {
            let mid = (low + high) / 2;
            if key_at(mid) < key {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }

    /// Where `key` would sit among `n` slots of its bucket if the written keys were
    /// spread evenly over the bucket's key range.
    fn guess(&self, key: Key, n: usize) -> usize {
        let offset = u128::from(key & ((1u64 << self.shift) - 1));
        ((offset * n as u128) >> self.shift) as usize
    }

    fn bucket_of(&self, key: Key) -> usize {
        let bucket = (key >> self.shift) as usize;
        assert!(bucket < self.buckets.len(), "key {key} outside the key space");
        bucket
    }

    fn slot(&self, key: Key) -> Option<&[u64]> {
        let bucket = &self.buckets[self.bucket_of(key)].slots;
        let at = self.position(bucket, key) * self.stride;
        (at < bucket.len() && bucket[at + KEY] == key).then(|| &bucket[at..at + self.stride])
    }

    /// The bucket of `key` and the offset of its slot, inserting a fresh slot (all
    /// replicas in the initial state) if the key was never written.
    fn slot_index(&mut self, key: Key) -> (usize, usize) {
        let b = self.bucket_of(key);
        // Every change of a slot comes through here: the bucket's audit is stale.
        self.buckets[b].audited.set(None);
        let at = self.position(&self.buckets[b].slots, key) * self.stride;
        let bucket = &mut self.buckets[b].slots;
        if at == bucket.len() || bucket[at + KEY] != key {
            let fresh = (0..self.stride).map(|i| match i {
                KEY => key,
                SINCE => CONSISTENT,
                _ => 0,
            });
            bucket.splice(at..at, fresh);
            self.stored += 1;
            self.slot_keys.push(key);
        }
        (b, at)
    }

    /// Starts fetching the bucket header of `key` into cache, for a lookup soon after.
    /// A hint only: nothing observable changes.
    pub fn prefetch_bucket(&self, key: Key) {
        if let Some(bucket) = self.buckets.get((key >> self.shift) as usize) {
            prefetch(bucket);
        }
    }

    /// Starts fetching the slot where `key` would be (the first probe of
    /// [`position`](Self::position)), reading its bucket header: best called a while
    /// after [`prefetch_bucket`](Self::prefetch_bucket). A hint only.
    pub fn prefetch_slot(&self, key: Key) {
        if let Some(bucket) = self.buckets.get((key >> self.shift) as usize) {
            let guess = self.guess(key, bucket.slots.len() / self.stride);
            if let Some(slot) = bucket.slots.get(guess * self.stride) {
                prefetch(slot);
            }
        }
    }

    fn advance_integral(&mut self, now: SimTime) {
        self.divergence_key_ns = self.divergence_key_ns(now);
        self.last_change = now;
    }
}

/// Asks the CPU to start loading `value`'s cache line; a no-op off x86_64.
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults, reads nothing into the
    // program and changes no state the program can observe; SSE, which provides it, is
    // part of the x86_64 baseline.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    #[test]
    fn tracks_divergence_and_heal_latency() {
        let mut table = ReplicaTable::new(2);
        let w = table.client_write(Column(0), 42, 1, t(1));
        assert_eq!(
            w,
            Applied {
                changed: true,
                healed_after_ns: None
            }
        );
        assert_eq!(table.divergent_keys(), 1);
        assert_eq!(table.version(Column(0), 42), 1);
        assert_eq!(table.version(Column(1), 42), 0);
        let healed = table.apply(Column(1), 42, 1, t(4));
        assert_eq!(healed.healed_after_ns, Some(3_000_000_000));
        assert_eq!(table.divergent_keys(), 0);
        assert_eq!(table.divergence_key_ns(t(10)), 3_000_000_000);
    }

    #[test]
    fn last_writer_wins_and_never_goes_back() {
        let mut table = ReplicaTable::new(3);
        table.client_write(Column(0), 5, 1, t(0));
        table.client_write(Column(1), 5, 2, t(0));
        assert!(!table.apply(Column(1), 5, 1, t(1)).changed);
        assert_eq!(table.version(Column(1), 5), 2);
        assert_eq!(
            table.newer_records(Column(1), Column(0), KeyRange::new(0, 10)),
            vec![(5, 2)]
        );
        assert_eq!(table.newer_records(Column(0), Column(1), KeyRange::new(0, 10)), vec![]);
        assert_eq!(table.recount_divergent(), 1);
        assert_eq!(table.lost_acknowledged_write(), None);
    }

    #[test]
    fn a_purge_forgets_the_tombstone_where_held_and_may_end_a_divergence() {
        let mut table = ReplicaTable::new(3);
        // Key 1: value 1 everywhere, tombstone 2 on nodes 0 and 1 (node 2 missed it).
        for node in 0..3 {
            table.apply(Column(node), 1, 1, t(0));
        }
        table.client_write(Column(0), 1, 2, t(1));
        table.apply(Column(1), 1, 2, t(1));
        // Key 5: a delete of a key node 0 alone heard of.
        table.client_write(Column(0), 5, 3, t(1));
        // Key 1 diverged twice (while its value spread, then at the delete), key 5 once.
        assert_eq!(table.divergences_begun(), 3);
        assert_eq!(table.purge(1, 2, t(9)).healed_after_ns, None);
        assert_eq!(table.versions(1), vec![0, 0, 1], "node 2 still holds the value");
        assert_eq!(table.lost_acknowledged_write(), None, "absence was acknowledged");
        assert_eq!(table.purge(5, 3, t(9)).healed_after_ns, Some(8_000_000_000));
        assert_eq!(table.versions(5), vec![0, 0, 0]);
        assert_eq!(table.divergent_keys(), 1);
        assert!(!table.purge(5, 3, t(10)).changed, "nothing left to purge");
    }

    #[test]
    fn records_skip_initial_state() {
        let mut table = ReplicaTable::new(2);
        table.client_write(Column(1), 3, 1, t(0));
        table.client_write(Column(0), 7, 2, t(0));
        let on_zero: Vec<_> = table.records(Column(0), KeyRange::new(0, 100)).collect();
        assert_eq!(on_zero, vec![(7, 2)]);
        assert_eq!(table.stored_keys(), 2);
    }

    #[test]
    fn lookups_find_every_key_however_keys_cluster() {
        // 10^6 keys: buckets of 64 keys. Dense, clustered at one end, and spread keys;
        // written out of order so slots are inserted in the middle of buckets.
        let mut table = ReplicaTable::for_key_space(2, 1_000_000);
        let keys: Vec<Key> = (0..64)
            .chain(1_000..1_010)
            .chain([5_000, 5_001, 5_002, 5_063])
            .chain((0..500).map(|i| 100_000 + i * 97))
            .collect();
        for (i, &key) in keys.iter().rev().enumerate() {
            table.client_write(Column(0), key, i as u64 + 1, t(0));
        }
        for &key in &keys {
            assert!(table.version(Column(0), key) > 0, "key {key} is found");
            assert_eq!(table.version(Column(0), key + 1_000_000 / 2), 0);
        }
        for absent in [64, 999, 1_010, 5_003, 5_062, 100_001] {
            assert_eq!(table.version(Column(0), absent), 0, "key {absent} was never written");
        }
        let stored: Vec<Key> = table
            .records(Column(0), KeyRange::new(0, 1_000_000))
            .map(|(k, _)| k)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(stored, sorted);
    }

    #[test]
    fn changed_since_names_the_buckets_changed_after_a_stamp() {
        // 10^6 keys: buckets of 64 keys.
        let mut table = ReplicaTable::for_key_space(2, 1_000_000);
        table.client_write(Column(0), 10, 1, t(0));
        let stamp = table.change_stamp();
        table.apply(Column(1), 10, 1, t(1));
        table.client_write(Column(0), 700, 2, t(1));
        assert!(!table.apply(Column(0), 700, 2, t(1)).changed, "no change: no stamp");
        let changed: Vec<KeyRange> = table.changed_since(KeyRange::new(5, 1_000), stamp).collect();
        assert_eq!(changed, vec![KeyRange::new(5, 64), KeyRange::new(640, 704)]);
        assert_eq!(
            table
                .changed_since(KeyRange::new(0, 1_000), table.change_stamp())
                .count(),
            0
        );
        assert_eq!(table.changed_since(KeyRange::new(0, 1_000_000), 0).count(), 2);
    }
}
