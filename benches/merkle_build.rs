//! Merkle tree builds: hashed bytes/s and keys/s, against raw blake3 over the same
//! bytes, on one thread.
//!
//! Two references: blake3 over one contiguous buffer of the same size (the hardware's
//! best, SIMD across 1 KiB chunks: the target), and `blake3::hash` called once per
//! message the tree hashes (one per leaf and per parent: what a tree gets from blake3's
//! public API alone; batching several messages per SIMD pass beats it). Trees of 2^20
//! records over 2^30 keys, with 1,024 leaves (~16 KiB per leaf), 16,384 leaves (~1 KiB:
//! about half of them one blake3 chunk, half two) and 65,536 leaves (~256 B per leaf).
//!
//! `cargo bench --bench merkle_build`

mod common;

use aesim::model::merkle::MerkleTree;
use aesim::model::replicas::ReplicaTable;
use aesim::model::{Column, Key, KeyRange, Version};
use aesim::sim::SimTime;
use common::{Rng, best_secs, print_ratio, si};

const RECORDS: usize = 1 << 20;
const KEY_SPACE: u64 = 1 << 30;
const LEAVES: [u32; 3] = [1_024, 16_384, 65_536];

/// 2^20 distinct sorted (key, version) records spread over the key space.
fn records() -> Vec<(Key, Version)> {
    let mut rng = Rng::new(3);
    let mut keys: Vec<Key> = (0..RECORDS).map(|_| rng.next() % KEY_SPACE).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter().map(|k| (k, 1 + k % 1_000)).collect()
}

fn range() -> KeyRange {
    KeyRange::new(0, KEY_SPACE)
}

/// The messages a tree of `leaves` leaves hashes: one per leaf (bounds, records, zeros
/// to a whole 64-byte block) and one per parent (two child hashes).
fn messages(records: &[(Key, Version)], leaves: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = records;
    for leaf in 0..u64::from(leaves) {
        let bounds = range().part(leaf, u64::from(leaves));
        let n = rest.iter().take_while(|(k, _)| *k < bounds.end).count();
        let mut m = Vec::new();
        m.extend_from_slice(&bounds.start.to_le_bytes());
        m.extend_from_slice(&bounds.end.to_le_bytes());
        for (k, v) in &rest[..n] {
            m.extend_from_slice(&k.to_le_bytes());
            m.extend_from_slice(&v.to_le_bytes());
        }
        m.resize(m.len().next_multiple_of(64), 0);
        out.push(m);
        rest = &rest[n..];
    }
    out.extend((1..leaves).map(|_| vec![1u8; 64]));
    out
}

#[divan::bench(args = LEAVES)]
fn build_from_records(bencher: divan::Bencher, leaves: u32) {
    let records = records();
    bencher
        .counter(divan::counter::ItemsCount::new(records.len()))
        .bench_local(|| MerkleTree::build(range(), leaves, records.iter().copied()));
}

#[divan::bench(args = LEAVES)]
fn build_from_replica_table(bencher: divan::Bencher, leaves: u32) {
    let records = records();
    let mut table = ReplicaTable::for_key_space(2, KEY_SPACE);
    for &(key, version) in &records {
        table.client_write(Column(0), key, version, SimTime::ZERO);
    }
    bencher
        .counter(divan::counter::ItemsCount::new(records.len()))
        .bench_local(|| MerkleTree::build(range(), leaves, table.records(Column(0), range())));
}

#[divan::bench(args = LEAVES)]
fn reference_blake3_same_messages(bencher: divan::Bencher, leaves: u32) {
    let messages = messages(&records(), leaves);
    let bytes: usize = messages.iter().map(Vec::len).sum();
    bencher
        .counter(divan::counter::BytesCount::new(bytes))
        .bench_local(|| messages.iter().map(|m| blake3::hash(m).as_bytes()[0]).sum::<u8>());
}

#[divan::bench(args = LEAVES)]
fn reference_blake3_contiguous(bencher: divan::Bencher, leaves: u32) {
    let bytes: Vec<u8> = messages(&records(), leaves).concat();
    bencher
        .counter(divan::counter::BytesCount::new(bytes.len()))
        .bench_local(|| blake3::hash(&bytes));
}

fn main() {
    let records = records();
    println!(
        "Merkle build, one thread, {} records over 2^30 keys: bytes/s hashed, same run",
        records.len()
    );
    for leaves in LEAVES {
        let messages = messages(&records, leaves);
        let bytes: usize = messages.iter().map(Vec::len).sum();
        let contiguous = messages.concat();
        let build_s = best_secs(5, || {
            std::hint::black_box(MerkleTree::build(range(), leaves, records.iter().copied()));
        });
        let same_s = best_secs(5, || {
            std::hint::black_box(messages.iter().map(|m| blake3::hash(m).as_bytes()[0]).sum::<u8>());
        });
        let raw_s = best_secs(5, || {
            std::hint::black_box(blake3::hash(&contiguous));
        });
        let build = bytes as f64 / build_s;
        println!(
            "  {leaves} leaves: {} B hashed per build, {} keys/s",
            si(bytes as f64),
            si(records.len() as f64 / build_s)
        );
        print_ratio(
            "    tree build",
            "B/s",
            build,
            "raw blake3 (contiguous)",
            bytes as f64 / raw_s,
        );
        print_ratio(
            "    tree build",
            "B/s",
            build,
            "blake3::hash per message",
            bytes as f64 / same_s,
        );
    }
    common::divan().main();
}
