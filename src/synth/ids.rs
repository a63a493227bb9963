//! Identifiers: opaque person pseudonyms, encounter ids and synthetic NHS
//! numbers. All are pure functions of the seed and an index, so they do not
//! depend on chunking or threads.

/// Bits of the permuted index space (about 10^12 values).
const BITS: u32 = 40;

/// A bijection on `[0, 2^40)` keyed by `key`: odd multiplications and
/// xor-shifts modulo 2^bits are each invertible, so distinct inputs give
/// distinct outputs and ids stay unique without a lookup table.
pub fn permute40(x: u64, key: u64) -> u64 {
    permute_bits(x, key, BITS)
}

/// The same keyed bijection on `[0, 2^bits)`, for 8 ≤ bits ≤ 63.
fn permute_bits(x: u64, key: u64, bits: u32) -> u64 {
    let mask = (1u64 << bits) - 1;
    let mut x = (x ^ key) & mask;
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15 | 1) & mask;
    x ^= x >> (bits / 2 - 1);
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9 | 1) & mask;
    x ^= x >> (bits / 2 + 3);
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB | 1) & mask;
    x ^= x >> (bits / 2);
    (x ^ (key >> 24)) & mask
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `prefix` followed by the 10 lower-case hex digits of `x`.
fn hex_id(prefix: u8, x: u64) -> [u8; 11] {
    let mut out = [b'0'; 11];
    out[0] = prefix;
    for i in 0..10 {
        out[10 - i] = HEX[((x >> (4 * i)) & 0xF) as usize];
    }
    out
}

/// Person pseudonym `P` + 10 hex digits: unique per index for a given key.
pub fn person_id(index: u64, key: u64) -> [u8; 11] {
    hex_id(b'P', permute40(index, key))
}

/// Encounters per person are numbered below this bound.
pub const MAX_ENCOUNTERS_PER_PERSON: u64 = 1 << 12;

/// Encounter id `E` + 10 hex digits, unique for (person index < 2^28, sequence < 2^12).
pub fn encounter_id(person_index: u64, seq: u64, key: u64) -> [u8; 11] {
    hex_id(
        b'E',
        permute40((person_index << 12) | (seq & 0xFFF), key.rotate_left(17)),
    )
}

/// Turns an ASCII id buffer into `&str`.
pub fn as_str(buf: &[u8]) -> &str {
    // The buffers above are built from ASCII digits and letters only.
    std::str::from_utf8(buf).unwrap_or("")
}

/// NHS numbers from the test range `999 000 0000`–`999 999 9999`, which
/// NHS England reserves for testing, so they can never be a real patient.
pub struct NhsNumbers {
    /// The 6-digit bodies whose Modulus 11 check digit exists (not 10).
    bodies: Vec<u32>,
}

impl NhsNumbers {
    pub fn new() -> NhsNumbers {
        let bodies = (0..1_000_000u32)
            .filter(|b| check_digit(*b).is_some())
            .collect();
        NhsNumbers { bodies }
    }

    /// How many distinct numbers the range holds (about 909,000); beyond
    /// this, numbers repeat.
    pub fn capacity(&self) -> u64 {
        self.bodies.len() as u64
    }

    /// The NHS number of person `index`, as 10 ASCII digits.
    pub fn number(&self, index: u64, key: u64) -> [u8; 10] {
        let n = self.capacity();
        // A keyed bijection of the index within [0, n): cycle-walk the
        // 40-bit permutation until it lands in range.
        let mut x = index % n;
        loop {
            x = permute_bits(x, key ^ 0x5EED, 20);
            if x < n {
                break;
            }
        }
        let body = self.bodies[x as usize];
        let mut out = *b"9990000000";
        let mut b = body;
        for i in 0..6 {
            out[8 - i] = b'0' + (b % 10) as u8;
            b /= 10;
        }
        out[9] = b'0' + check_digit(body).unwrap_or(0) as u8;
        out
    }
}

impl Default for NhsNumbers {
    fn default() -> Self {
        Self::new()
    }
}

/// Modulus 11 check digit of `999` + `body` (6 digits), or `None` when the
/// remainder makes it 10 (no valid number).
fn check_digit(body: u32) -> Option<u32> {
    let mut digits = [9u32, 9, 9, 0, 0, 0, 0, 0, 0];
    let mut b = body;
    for i in 0..6 {
        digits[8 - i] = b % 10;
        b /= 10;
    }
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        c => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::nhs_number_is_valid;
    use std::collections::HashSet;

    #[test]
    fn permutation_is_injective_on_a_sample() {
        let ids: HashSet<u64> = (0..200_000).map(|i| permute40(i, 42)).collect();
        assert_eq!(ids.len(), 200_000);
    }

    #[test]
    fn person_ids_look_like_p_and_ten_hex_digits() {
        let id = person_id(7, 1);
        let s = as_str(&id);
        assert_eq!(s.len(), 11);
        assert!(s.starts_with('P'));
        assert!(s[1..].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn nhs_numbers_are_valid_test_numbers_and_distinct() {
        let nhs = NhsNumbers::new();
        // 1,000,000 bodies, of which those with remainder making check 10 drop out (1 in 11).
        assert!(nhs.capacity() > 900_000 && nhs.capacity() < 920_000);
        let mut seen = HashSet::new();
        for i in 0..50_000 {
            let n = nhs.number(i, 9);
            let s = as_str(&n);
            assert!(s.starts_with("999"), "{s}");
            assert!(nhs_number_is_valid(s), "{s}");
            assert!(seen.insert(n));
        }
    }
}
