//! Tree comparison (the root-down walk) with d = 1, 100 and 10,000 differing keys, on
//! trees of 65,536 leaves over 2^20 records. Reference: a plain equality scan of both
//! trees' whole hash arrays (what comparing without a tree would read), measured here as
//! a memcmp of two 4 MiB buffers.
//!
//! `cargo bench --bench merkle_compare`

mod common;

use aesim::model::merkle::{MerkleTree, compare};
use aesim::model::{Key, KeyRange, Version};
use common::{Rng, best_secs, si};

const RECORDS: usize = 1 << 20;
const KEY_SPACE: u64 = 1 << 30;
const LEAVES: u32 = 65_536;
const DIFFERENCES: [usize; 3] = [1, 100, 10_000];

fn records() -> Vec<(Key, Version)> {
    let mut rng = Rng::new(5);
    let mut keys: Vec<Key> = (0..RECORDS).map(|_| rng.next() % KEY_SPACE).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter().map(|k| (k, 1)).collect()
}

/// Two trees whose records differ at `d` keys spread evenly over the key space.
fn trees(d: usize) -> (MerkleTree, MerkleTree) {
    let range = KeyRange::new(0, KEY_SPACE);
    let a = records();
    let mut b = a.clone();
    let step = b.len() / d;
    for i in 0..d {
        b[i * step].1 += 1;
    }
    (
        MerkleTree::build(range, LEAVES, a.iter().copied()),
        MerkleTree::build(range, LEAVES, b.iter().copied()),
    )
}

#[divan::bench(args = DIFFERENCES)]
fn compare_trees(bencher: divan::Bencher, d: usize) {
    let (a, b) = trees(d);
    bencher.bench_local(|| compare(&a, &b));
}

#[divan::bench]
fn reference_memcmp_all_hashes(bencher: divan::Bencher) {
    let size = 2 * LEAVES as usize * 32;
    let (x, y) = (vec![7u8; size], vec![7u8; size]);
    bencher.bench_local(|| std::hint::black_box(&x) == std::hint::black_box(&y));
}

fn main() {
    println!("Merkle compare, {LEAVES} leaves: time per comparison, same run");
    let size = 2 * LEAVES as usize * 32;
    let (x, y) = (vec![7u8; size], vec![7u8; size]);
    let memcmp_s = best_secs(20, || {
        std::hint::black_box(std::hint::black_box(&x) == std::hint::black_box(&y));
    });
    println!(
        "  reference: equality scan of both trees' hash arrays ({} B): {:.1} us",
        si(size as f64),
        memcmp_s * 1e6
    );
    for d in DIFFERENCES {
        let (a, b) = trees(d);
        let s = best_secs(20, || {
            std::hint::black_box(compare(&a, &b));
        });
        let c = compare(&a, &b);
        println!(
            "  d = {d}: {:.1} us, {} hashes compared, {} divergent leaves = {:.2}x the full scan",
            s * 1e6,
            c.hashes_compared(),
            c.divergent_leaves.len(),
            s / memcmp_s
        );
    }
    common::divan().main();
}
