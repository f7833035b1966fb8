//! blake3 over many short messages at once: each output is bit for bit
//! `blake3::hash(message)` (or `blake3::keyed_hash(key, message)`), computed several
//! messages per SIMD instruction.
//!
//! blake3's public API hashes one message at a time, and a message of at most one
//! 1 KiB chunk is a chain of 64-byte block compressions that cannot use SIMD: a Merkle
//! tree of short leaves and 64-byte parents then runs at a fraction of blake3's speed
//! over a long buffer. blake3's SIMD kernels compress one block of 4, 8 or 16 *different*
//! inputs at a time (`blake3::platform::Platform::hash_many`, the kernel behind its long
//! inputs). Single-chunk messages of equal length fit it exactly: all start from the key
//! with chunk counter 0, `CHUNK_START` on the first block and `CHUNK_END | ROOT` on the
//! last. So messages are grouped by length in blocks: a group of whole-block messages
//! (a 64-byte Merkle parent) is one `hash_many` call that also finalizes; in a group of
//! messages with a partial last block, the whole blocks go through one `hash_many` call
//! and each last block is one more compression. Messages over one chunk take the public
//! API, which uses SIMD across their chunks anyway.
//!
//! `platform` is a hidden, unstable module of the blake3 crate (the one its benchmarks
//! and other Merkle-tree libraries batch leaves with), so Cargo.toml pins blake3's exact
//! version, and `tests` here compare every path with the public API for every message
//! length up to two chunks, keyed and not: a change in the crate fails them, never
//! silently changes a hash.

use super::merkle::Hash;
use blake3::platform::Platform;
use blake3::{BLOCK_LEN, CHUNK_LEN, IncrementCounter};

/// blake3's initial chaining value (the key words of unkeyed hashing), from the spec.
const IV: [u32; 8] = [
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
];
/// blake3's domain flags, from the spec.
const CHUNK_START: u8 = 1 << 0;
const CHUNK_END: u8 = 1 << 1;
const ROOT: u8 = 1 << 3;
const KEYED_HASH: u8 = 1 << 4;

/// Blocks in one chunk.
const CHUNK_BLOCKS: usize = CHUNK_LEN / BLOCK_LEN;

/// Hashes many messages with one blake3 mode, reusing its scratch space between calls.
pub struct BatchHasher {
    platform: Platform,
    key: Option<[u8; 32]>,
    /// Indices of the current call's single-chunk messages by [`group_of`] their length.
    groups: Vec<Vec<usize>>,
    /// Chaining values `hash_many` writes, 32 bytes per message of a group.
    cvs: Vec<u8>,
}

impl BatchHasher {
    /// Hashes as `blake3::hash`.
    pub fn new() -> BatchHasher {
        BatchHasher::with_key(None)
    }

    /// Hashes as `blake3::keyed_hash(key, _)`.
    pub fn keyed(key: [u8; 32]) -> BatchHasher {
        BatchHasher::with_key(Some(key))
    }

    fn with_key(key: Option<[u8; 32]>) -> BatchHasher {
        BatchHasher {
            platform: Platform::detect(),
            key,
            groups: vec![Vec::new(); 2 * CHUNK_BLOCKS],
            cvs: Vec::new(),
        }
    }

    /// The hash of each of `messages`, in order, into `out` (cleared first).
    pub fn hash_each(&mut self, messages: &[&[u8]], out: &mut Vec<Hash>) {
        out.clear();
        out.resize(messages.len(), [0; 32]);
        for group in &mut self.groups {
            group.clear();
        }
        for (i, &message) in messages.iter().enumerate() {
            if message.len() > CHUNK_LEN {
                out[i] = match &self.key {
                    Some(key) => *blake3::keyed_hash(key, message).as_bytes(),
                    None => *blake3::hash(message).as_bytes(),
                };
            } else {
                self.groups[group_of(message.len())].push(i);
            }
        }
        let (key_words, mode) = match &self.key {
            Some(key) => (words(key), KEYED_HASH),
            None => (IV, 0),
        };
        let mut groups = std::mem::take(&mut self.groups);
        for (g, group) in groups.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
            let inputs = group.iter().map(|&i| messages[i]);
            self.cvs.clear();
            self.cvs.resize(group.len() * 32, 0);
            if g >= CHUNK_BLOCKS {
                // Whole blocks only: the SIMD pass finalizes each message.
                let blocks = g - CHUNK_BLOCKS + 1;
                let end = CHUNK_END | ROOT;
                hash_many(self.platform, blocks, inputs, &key_words, mode, end, &mut self.cvs);
                for (lane, &i) in group.iter().enumerate() {
                    out[i] = self.cvs[lane * 32..][..32].try_into().expect("32 bytes");
                }
                continue;
            }
            // The whole blocks before the last one, all lanes at once; then each last block.
            let prefix_blocks = g;
            if prefix_blocks > 0 {
                hash_many(self.platform, prefix_blocks, inputs, &key_words, mode, 0, &mut self.cvs);
            }
            for (lane, &i) in group.iter().enumerate() {
                let mut cv = if prefix_blocks > 0 {
                    words(self.cvs[lane * 32..][..32].try_into().expect("32 bytes"))
                } else {
                    key_words
                };
                let tail = &messages[i][prefix_blocks * BLOCK_LEN..];
                let mut block = [0; BLOCK_LEN];
                block[..tail.len()].copy_from_slice(tail);
                let start = if prefix_blocks == 0 { CHUNK_START } else { 0 };
                let flags = mode | start | CHUNK_END | ROOT;
                self.platform
                    .compress_in_place(&mut cv, &block, tail.len() as u8, 0, flags);
                out[i] = bytes(&cv);
            }
        }
        self.groups = std::mem::take(&mut groups);
    }
}

impl Default for BatchHasher {
    fn default() -> BatchHasher {
        BatchHasher::new()
    }
}

/// The group of a single-chunk message of `len` bytes: `k - 1 + CHUNK_BLOCKS` for `k`
/// whole blocks (no partial block), else the number of whole blocks before the last,
/// partial one (0 to `CHUNK_BLOCKS - 1`; the empty message is one empty block).
fn group_of(len: usize) -> usize {
    if len > 0 && len.is_multiple_of(BLOCK_LEN) {
        len / BLOCK_LEN - 1 + CHUNK_BLOCKS
    } else {
        len / BLOCK_LEN
    }
}

/// The chaining values after the first `blocks` blocks of each input (all at least that
/// long), `end` the flags of the last of them, through `Platform::hash_many`, whose
/// input length is a const parameter.
fn hash_many<'m>(
    platform: Platform,
    blocks: usize,
    inputs: impl Iterator<Item = &'m [u8]>,
    key: &[u32; 8],
    mode: u8,
    end: u8,
    out: &mut [u8],
) {
    macro_rules! dispatch {
        ($($n:literal)*) => {
            match blocks {
                $($n => {
                    let arrays: Vec<&[u8; $n * BLOCK_LEN]> = inputs
                        .map(|m| m[..$n * BLOCK_LEN].try_into().expect("long enough"))
                        .collect();
                    platform.hash_many(&arrays, key, 0, IncrementCounter::No, mode, CHUNK_START, end, out);
                })*
                _ => unreachable!("{blocks} whole blocks before the last one of a single chunk"),
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
}

fn words(bytes: &[u8; 32]) -> [u32; 8] {
    std::array::from_fn(|i| u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes")))
}

fn bytes(words: &[u32; 8]) -> Hash {
    let mut out = [0; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slices(messages: &[Vec<u8>]) -> Vec<&[u8]> {
        messages.iter().map(Vec::as_slice).collect()
    }

    /// Messages of every length from 0 to two chunks plus one block, with varied bytes.
    fn messages() -> Vec<Vec<u8>> {
        (0..=2 * CHUNK_LEN + BLOCK_LEN)
            .map(|len| (0..len).map(|i| (i * 31 + len * 7) as u8).collect())
            .collect()
    }

    #[test]
    fn equals_blake3_hash_for_every_length() {
        let messages = messages();
        let mut out = Vec::new();
        BatchHasher::new().hash_each(&slices(&messages), &mut out);
        for (message, hash) in messages.iter().zip(&out) {
            assert_eq!(hash, blake3::hash(message).as_bytes(), "length {}", message.len());
        }
    }

    #[test]
    fn equals_blake3_keyed_hash_for_every_length() {
        let key = *b"a key of thirty-two bytes, 32 B.";
        let messages = messages();
        let mut out = Vec::new();
        let mut hasher = BatchHasher::keyed(key);
        hasher.hash_each(&slices(&messages), &mut out);
        for (message, hash) in messages.iter().zip(&out) {
            assert_eq!(
                hash,
                blake3::keyed_hash(&key, message).as_bytes(),
                "length {}",
                message.len()
            );
        }
        // Scratch space is reused: a second, smaller call is just as right.
        hasher.hash_each(&slices(&messages[60..70]), &mut out);
        assert_eq!(out.len(), 10);
        assert_eq!(&out[5], blake3::keyed_hash(&key, &messages[65]).as_bytes());
    }

    #[test]
    fn many_equal_lengths_fill_the_simd_lanes() {
        // 100 distinct 64-byte messages (one full block each, like Merkle parents) and
        // 100 of 272 bytes (four whole blocks and a partial one, like a 16-record leaf).
        let messages: Vec<Vec<u8>> = (0..200u32)
            .map(|i| {
                let len = if i < 100 { 64 } else { 272 };
                (0..len).map(|j| (i as usize * 13 + j) as u8).collect()
            })
            .collect();
        let mut out = Vec::new();
        BatchHasher::new().hash_each(&slices(&messages), &mut out);
        for (message, hash) in messages.iter().zip(&out) {
            assert_eq!(hash, blake3::hash(message).as_bytes());
        }
    }
}
