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
//! and each last block is one more compression. A longer message is cut into its
//! chunks, and chunk `i` of every such message joins the others' chunk `i` (same chunk
//! counter) in the same way; each message's chunk chaining values are then merged as
//! blake3's tree (`blake3::hazmat`). A message with enough chunks to fill the SIMD lanes
//! by itself takes the public API, which does just that.
//!
//! `platform` is a hidden, unstable module of the blake3 crate (the one its benchmarks
//! and other Merkle-tree libraries batch leaves with), so Cargo.toml pins blake3's exact
//! version, and `tests` here compare every path with the public API for every message
//! length up to three chunks and some longer, keyed and not: a change in the crate
//! fails them, never silently changes a hash.

use blake3::hazmat::{Mode, merge_subtrees_non_root, merge_subtrees_root};
use blake3::platform::Platform;
use blake3::{BLOCK_LEN, CHUNK_LEN, IncrementCounter};

/// A blake3 digest.
pub type Hash = [u8; 32];

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
    /// Messages of this many chunks or more fill the SIMD lanes on their own and take
    /// the public API (the platform's SIMD degree; tests lower it to check every path).
    own_path_from_chunks: usize,
    /// The current call's chunks to compress, as (message, chunk) pairs, by
    /// [`group_index`]: chunks in one group share a SIMD pass.
    groups: Vec<Vec<(usize, usize)>>,
    /// Chaining values `hash_many` writes, 32 bytes per chunk of a group.
    cvs: Vec<u8>,
    /// Chaining values of the chunks of the batched messages of several chunks.
    chunk_cvs: Vec<Hash>,
    /// By message, the index of its first chunk's value in `chunk_cvs` (unused for
    /// messages of one chunk).
    first_chunk_cv: Vec<usize>,
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
        let platform = Platform::detect();
        BatchHasher::on(platform, key, platform.simd_degree())
    }

    fn on(platform: Platform, key: Option<[u8; 32]>, own_path_from_chunks: usize) -> BatchHasher {
        BatchHasher {
            platform,
            key,
            own_path_from_chunks,
            groups: Vec::new(),
            cvs: Vec::new(),
            chunk_cvs: Vec::new(),
            first_chunk_cv: Vec::new(),
        }
    }

    /// The hash of each of `messages`, in order, into `out` (cleared first).
    ///
    /// Longer than the ~100 lines a function here should be, on purpose: it is the
    /// simulator's hottest kernel (every leaf of every tree build), and its phases
    /// (grouping by length, batched chunk compression, the parent tree per message)
    /// share scratch buffers whose reuse is the point; split, they would be passed
    /// around as six `&mut Vec`s. `benches/merkle_build.rs` measures it.
    pub fn hash_each(&mut self, messages: &[&[u8]], out: &mut Vec<Hash>) {
        out.clear();
        out.resize(messages.len(), [0; 32]);
        for group in &mut self.groups {
            group.clear();
        }
        self.chunk_cvs.clear();
        self.first_chunk_cv.clear();
        self.first_chunk_cv.resize(messages.len(), 0);
        for (m, message) in messages.iter().enumerate() {
            let chunks = message.len().div_ceil(CHUNK_LEN).max(1);
            if chunks >= self.own_path_from_chunks {
                // Enough chunks to fill the SIMD lanes on its own: blake3's own path.
                out[m] = match &self.key {
                    Some(key) => *blake3::keyed_hash(key, message).as_bytes(),
                    None => *blake3::hash(message).as_bytes(),
                };
                continue;
            }
            if chunks > 1 {
                self.first_chunk_cv[m] = self.chunk_cvs.len();
                self.chunk_cvs.resize(self.chunk_cvs.len() + chunks, [0; 32]);
            }
            for chunk in 0..chunks {
                let len = chunk_of(message, chunk).len();
                let g = group_index(chunk, chunks == 1, len);
                if g >= self.groups.len() {
                    self.groups.resize_with(g + 1, Vec::new);
                }
                self.groups[g].push((m, chunk));
            }
        }
        let (key_words, mode) = match &self.key {
            Some(key) => (words(key), KEYED_HASH),
            None => (IV, 0),
        };
        let groups = std::mem::take(&mut self.groups);
        for (g, group) in groups.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
            let (counter, root, length_group) = group_parts(g);
            let end = CHUNK_END | if root { ROOT } else { 0 };
            let inputs = group.iter().map(|&(m, c)| chunk_of(messages[m], c));
            self.cvs.clear();
            self.cvs.resize(group.len() * 32, 0);
            if length_group >= CHUNK_BLOCKS {
                // Whole blocks only: the SIMD pass ends each chunk.
                let blocks = length_group - CHUNK_BLOCKS + 1;
                hash_many(
                    self.platform,
                    blocks,
                    inputs,
                    &key_words,
                    counter,
                    mode,
                    end,
                    &mut self.cvs,
                );
            } else {
                // The whole blocks before the last one, all lanes at once; then each last block.
                let prefix_blocks = length_group;
                if prefix_blocks > 0 {
                    hash_many(
                        self.platform,
                        prefix_blocks,
                        inputs.clone(),
                        &key_words,
                        counter,
                        mode,
                        0,
                        &mut self.cvs,
                    );
                }
                for (lane, chunk) in inputs.enumerate() {
                    let mut cv = if prefix_blocks > 0 {
                        words(self.cvs[lane * 32..][..32].try_into().expect("32 bytes"))
                    } else {
                        key_words
                    };
                    let tail = &chunk[prefix_blocks * BLOCK_LEN..];
                    let mut block = [0; BLOCK_LEN];
                    block[..tail.len()].copy_from_slice(tail);
                    let start = if prefix_blocks == 0 { CHUNK_START } else { 0 };
                    let flags = mode | start | end;
                    self.platform
                        .compress_in_place(&mut cv, &block, tail.len() as u8, counter, flags);
                    self.cvs[lane * 32..][..32].copy_from_slice(&bytes(&cv));
                }
            }
            for (lane, &(m, c)) in group.iter().enumerate() {
                let cv: Hash = self.cvs[lane * 32..][..32].try_into().expect("32 bytes");
                if root {
                    out[m] = cv;
                } else {
                    self.chunk_cvs[self.first_chunk_cv[m] + c] = cv;
                }
            }
        }
        self.groups = groups;
        // Messages over one chunk: their chunks' chaining values merged as blake3's tree.
        let mode = match &self.key {
            Some(key) => Mode::KeyedHash(key),
            None => Mode::Hash,
        };
        for (m, message) in messages.iter().enumerate() {
            let chunks = message.len().div_ceil(CHUNK_LEN);
            if chunks > 1 && chunks < self.own_path_from_chunks {
                let first = self.first_chunk_cv[m];
                out[m] = root_of(&self.chunk_cvs[first..first + chunks], mode);
            }
        }
    }
}

impl Default for BatchHasher {
    fn default() -> BatchHasher {
        BatchHasher::new()
    }
}

/// Chunk `chunk` of `message` (the empty message is one empty chunk).
fn chunk_of(message: &[u8], chunk: usize) -> &[u8] {
    &message[chunk * CHUNK_LEN..message.len().min((chunk + 1) * CHUNK_LEN)]
}

/// Length groups of chunks: see [`length_group`].
const LENGTH_GROUPS: usize = 2 * CHUNK_BLOCKS;

/// The group of a chunk: chunks that can share a SIMD pass have the same chunk counter
/// (their index in their message), are all root chunks (the message's only chunk) or
/// none, and have the same [`length_group`].
fn group_index(counter: usize, root: bool, len: usize) -> usize {
    (2 * counter + usize::from(root)) * LENGTH_GROUPS + length_group(len)
}

/// The chunk counter, root or not, and length group of group `g` of [`group_index`].
fn group_parts(g: usize) -> (u64, bool, usize) {
    let counter = g / (2 * LENGTH_GROUPS);
    (counter as u64, g / LENGTH_GROUPS % 2 == 1, g % LENGTH_GROUPS)
}

/// The root hash of a message from the chaining values of its chunks (at least two),
/// merged as blake3 does: the left subtree holds the largest power of two of chunks
/// that leaves at least one for the right.
fn root_of(chunk_cvs: &[Hash], mode: Mode) -> Hash {
    let split = subtree_split(chunk_cvs.len());
    let left = subtree_cv(&chunk_cvs[..split], mode);
    let right = subtree_cv(&chunk_cvs[split..], mode);
    *merge_subtrees_root(&left, &right, mode).as_bytes()
}

fn subtree_cv(chunk_cvs: &[Hash], mode: Mode) -> Hash {
    if chunk_cvs.len() == 1 {
        return chunk_cvs[0];
    }
    let split = subtree_split(chunk_cvs.len());
    let left = subtree_cv(&chunk_cvs[..split], mode);
    let right = subtree_cv(&chunk_cvs[split..], mode);
    merge_subtrees_non_root(&left, &right, mode)
}

/// Chunks in the left subtree of `chunks` (at least two): the largest power of two
/// below `chunks`.
fn subtree_split(chunks: usize) -> usize {
    1 << (usize::BITS - 1 - (chunks - 1).leading_zeros())
}

/// The length group of a chunk of `len` bytes (at most one chunk): `k - 1 +
/// CHUNK_BLOCKS` for `k` whole blocks (no partial block), else the number of whole
/// blocks before the last, partial one (0 to `CHUNK_BLOCKS - 1`; the empty message is
/// one empty block).
fn length_group(len: usize) -> usize {
    if len > 0 && len.is_multiple_of(BLOCK_LEN) {
        len / BLOCK_LEN - 1 + CHUNK_BLOCKS
    } else {
        len / BLOCK_LEN
    }
}

/// The chaining values after the first `blocks` blocks of each input (all at least that
/// long, all chunk `counter` of their message), `end` the flags of the last of them,
/// through `Platform::hash_many`, whose input length is a const parameter.
#[allow(clippy::too_many_arguments)]
fn hash_many<'m>(
    platform: Platform,
    blocks: usize,
    inputs: impl Iterator<Item = &'m [u8]>,
    key: &[u32; 8],
    counter: u64,
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
                    platform.hash_many(&arrays, key, counter, IncrementCounter::No, mode, CHUNK_START, end, out);
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

    /// Messages of every length from 0 to three chunks plus one block, and for 4 to 17
    /// chunks a whole number of chunks, one byte more and a partial block less (every
    /// shape of blake3's tree up to 17 chunks), with varied bytes.
    fn messages() -> Vec<Vec<u8>> {
        let longer = (4..=17).flat_map(|k| [k * CHUNK_LEN - 7, k * CHUNK_LEN, k * CHUNK_LEN + 1]);
        (0..=3 * CHUNK_LEN + BLOCK_LEN)
            .chain(longer)
            .map(|len| (0..len).map(|i| (i * 31 + len * 7) as u8).collect())
            .collect()
    }

    /// The portable kernel, the one detected, and on x86 every SIMD kernel this machine
    /// has, each batching messages of every length (never handing one to the public
    /// API).
    fn hashers_on_every_platform(key: Option<[u8; 32]>) -> Vec<BatchHasher> {
        let mut platforms = vec![Platform::portable(), Platform::detect()];
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        platforms.extend(
            [
                Platform::sse2(),
                Platform::sse41(),
                Platform::avx2(),
                Platform::avx512(),
            ]
            .into_iter()
            .flatten(),
        );
        platforms
            .into_iter()
            .map(|platform| BatchHasher::on(platform, key, usize::MAX))
            .collect()
    }

    #[test]
    fn every_kernel_and_every_path_equals_blake3() {
        let key = *b"another key of thirty-two bytes.";
        let messages = messages();
        let mut out = Vec::new();
        for keyed in [None, Some(key)] {
            let hashers = hashers_on_every_platform(keyed);
            for mut hasher in hashers {
                hasher.hash_each(&slices(&messages), &mut out);
                for (message, hash) in messages.iter().zip(&out) {
                    let expected = match keyed {
                        Some(key) => blake3::keyed_hash(&key, message),
                        None => blake3::hash(message),
                    };
                    let len = message.len();
                    assert_eq!(hash, expected.as_bytes(), "length {len}, keyed {}", keyed.is_some());
                }
            }
        }
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
        for (message, hash) in messages[60..70].iter().zip(&out) {
            assert_eq!(hash, blake3::keyed_hash(&key, message).as_bytes());
        }
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
