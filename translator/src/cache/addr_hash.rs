//! Hashing for maps keyed by addresses (guest block starts, page numbers).
//! std's SipHash resists keys chosen to collide, which addresses need not:
//! a guest can only slow its own translations down. One multiply (the
//! Fibonacci constant) per key costs a fraction of it, and block lookups
//! are on every translation's path.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct AddrHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        // The table indexes with the low bits: give them the product's
        // well-mixed high bits too.
        self.0 ^ (self.0 >> 29)
    }
}

pub type AddrMap<V> = HashMap<u64, V, BuildHasherDefault<AddrHasher>>;
pub type AddrSet = HashSet<u64, BuildHasherDefault<AddrHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_pages_and_aligned_addresses_spread_over_the_low_bits() {
        let low_bits = |keys: &mut dyn Iterator<Item = u64>| {
            let mut seen = AddrSet::default();
            for k in keys {
                let mut h = AddrHasher::default();
                h.write_u64(k);
                seen.insert(h.finish() & 0xfff);
            }
            seen.len()
        };
        // 4096 keys into 4096 buckets: random placement fills about 63%
        // (2589); the identity would put 64-byte aligned addresses in 64.
        assert!(low_bits(&mut (0x400..0x1400)) > 2200, "page numbers");
        assert!(low_bits(&mut (0..4096).map(|i| 0x40_0000 + i * 64)) > 2200, "64-byte aligned addresses");
    }
}
