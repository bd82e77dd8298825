//! The crc32 instruction (SSE4.2): CRC-32C, the Castagnoli polynomial
//! 0x1EDC6F41 in bit-reflected form, with no initial or final inversion
//! (Intel SDM vol. 2A, "CRC32"). This is the table-driven version for the
//! interpreter and for hosts without FEAT_CRC32, whose crc32cb/h/w/x
//! compute the same function.

/// The reflected polynomial.
const POLY: u32 = 0x82f6_3b78;

const TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Accumulates the low `bytes` bytes of `data`, least significant first,
/// into `crc`.
pub fn update(mut crc: u32, data: u64, bytes: u32) -> u32 {
    for i in 0..bytes {
        let b = (data >> (8 * i)) as u8;
        crc = (crc >> 8) ^ TABLE[((crc as u8) ^ b) as usize];
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_of_crc32c() {
        // The catalogue's check value for "123456789" includes the
        // inversions the instruction leaves to software.
        let crc = b"123456789".iter().fold(!0u32, |c, &b| update(c, b as u64, 1));
        assert_eq!(!crc, 0xe306_9283);
    }

    #[test]
    fn wide_updates_are_byte_updates_in_order() {
        let d = 0x0123_4567_89ab_cdefu64;
        let bytewise = (0..8).fold(0x1234_5678, |c, i| update(c, d >> (8 * i), 1));
        assert_eq!(update(0x1234_5678, d, 8), bytewise);
    }
}
