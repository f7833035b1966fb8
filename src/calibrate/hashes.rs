//! The reconcilers' hashes, each from its crate, applied to one record: blake3 (aesim's
//! Merkle walk), MD5 (Cassandra's leaf hashes, Riak's Tictac segment hashes take 4 of
//! its bytes), Murmur3 x64-128 (Cassandra's partitioner and its newer tree hashes) and
//! xxHash64 (ScyllaDB's row-level repair).

use md5::Digest;

/// One of the measured hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    Blake3,
    Md5,
    Murmur3,
    XxHash64,
}

impl HashKind {
    pub const ALL: [HashKind; 4] = [HashKind::Blake3, HashKind::Md5, HashKind::Murmur3, HashKind::XxHash64];

    /// The profile key's suffix and the table's name.
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Blake3 => "blake3",
            HashKind::Md5 => "md5",
            HashKind::Murmur3 => "murmur3",
            HashKind::XxHash64 => "xxhash64",
        }
    }

    /// Who hashes with it, for the profile's comments.
    pub fn used_by(self) -> &'static str {
        match self {
            HashKind::Blake3 => "aesim's Merkle walk",
            HashKind::Md5 => "Cassandra's classic leaf hashes, Riak Tictac",
            HashKind::Murmur3 => "Cassandra's partitioner and newer trees",
            HashKind::XxHash64 => "ScyllaDB's row-level repair",
        }
    }

    /// The first 8 bytes of `record`'s hash, as a number (so callers can fold them).
    pub fn hash(self, record: &[u8]) -> u64 {
        match self {
            HashKind::Blake3 => {
                let digest = blake3::hash(record);
                u64::from_le_bytes(digest.as_bytes()[..8].try_into().expect("8 bytes"))
            }
            HashKind::Md5 => {
                let digest = md5::Md5::digest(record);
                u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
            }
            HashKind::Murmur3 => {
                let mut reader = record;
                murmur3::murmur3_x64_128(&mut reader, 0).map_or(0, |h| h as u64)
            }
            HashKind::XxHash64 => xxhash_rust::xxh64::xxh64(record, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_their_reference_values() {
        // Reference digests of "abc" (RFC 1321 for MD5; the crates' own test vectors).
        assert_eq!(
            HashKind::Md5.hash(b"abc").to_le_bytes(),
            [0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0]
        );
        assert_eq!(HashKind::XxHash64.hash(b"abc"), 0x44BC_2CF5_AD77_0999);
        assert_eq!(HashKind::Blake3.hash(b"abc").to_le_bytes()[..2], [0x64, 0x37]);
        assert_ne!(HashKind::Murmur3.hash(b"abc"), HashKind::Murmur3.hash(b"abd"));
    }
}
