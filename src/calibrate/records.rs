//! The records written to real stores, shared by `calibrate` and `validate`: key `k` is
//! its 8-byte big-endian number (engines order keys bytewise, so byte order is key
//! order, as aesim numbers keys in token order), and its value is the record's version
//! (8 bytes, big-endian) followed by filler that makes the whole record (key and value)
//! `record_bytes` long. The filler is a function of key and version, so two replicas
//! holding the same version of a key hold the same bytes.

/// Bytes of a record that are not filler: the key and the version.
pub const RECORD_HEADER_BYTES: u64 = 16;

/// The stored key of key number `key`.
pub fn key_bytes(key: u64) -> [u8; 8] {
    key.to_be_bytes()
}

/// The key number of stored key `bytes` (None for a key aesim did not write).
pub fn key_number(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// The stored value of `key` at `version` in a record of `record_bytes` bytes.
pub fn value_bytes(key: u64, version: u64, record_bytes: u64) -> Vec<u8> {
    let filler = record_bytes.saturating_sub(RECORD_HEADER_BYTES) as usize;
    let mut value = Vec::with_capacity(8 + filler);
    value.extend_from_slice(&version.to_be_bytes());
    let mut state = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ version;
    while value.len() < 8 + filler {
        // splitmix64: cheap, deterministic, incompressible enough to defeat LZ4.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let take = (8 + filler - value.len()).min(8);
        value.extend_from_slice(&z.to_le_bytes()[..take]);
    }
    value
}

/// The version a stored value carries (0 for a value too short to carry one).
pub fn value_version(value: &[u8]) -> u64 {
    value
        .get(..8)
        .map_or(0, |v| u64::from_be_bytes(v.try_into().expect("8 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_their_size_and_read_back() {
        let value = value_bytes(42, 7, 100);
        assert_eq!(key_bytes(42).len() + value.len(), 100);
        assert_eq!(value_version(&value), 7);
        assert_eq!(key_number(&key_bytes(42)), Some(42));
        assert_eq!(value_bytes(42, 7, 100), value);
        assert_ne!(value_bytes(42, 8, 100)[8..], value[8..]);
        assert_eq!(value_bytes(1, 1, 16).len(), 8);
    }
}
