//! CRC-32C, the Castagnoli polynomial 0x1EDC6F41 in bit-reflected form,
//! with no initial or final inversion: the function of x86's crc32
//! instruction (SSE4.2, Intel SDM vol. 2A, "CRC32") and of aarch64's
//! crc32cb/h/w/x (FEAT_CRC32). `update` is the table-driven version, for
//! the interpreter and hosts without FEAT_CRC32; `bytes` uses the host
//! instructions where they exist (the code cache's record checksums).

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

/// The CRC of `data` continuing from `crc`, 8 bytes at a time.
pub fn bytes(crc: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("crc") {
        // SAFETY: the CPU has FEAT_CRC32.
        return unsafe { bytes_by_host(crc, data) };
    }
    bytes_by_table(crc, data)
}

fn bytes_by_table(crc: u32, data: &[u8]) -> u32 {
    let mut words = data.chunks_exact(8);
    let crc = words.by_ref().fold(crc, |c, w| update(c, u64::from_le_bytes(w.try_into().expect("8 bytes")), 8));
    words.remainder().iter().fold(crc, |c, &b| update(c, u64::from(b), 1))
}

#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "crc")]
fn bytes_by_host(crc: u32, data: &[u8]) -> u32 {
    use std::arch::aarch64::{__crc32cb, __crc32cd};
    let word = |r: &[u8], at: usize| u64::from_le_bytes(*r[at..].first_chunk().expect("8 bytes"));
    // 32 bytes a round: the loop's own instructions cost less than the
    // crc32cx they run (a warm start checks megabytes of saved code).
    let (rounds, rest) = data.as_chunks::<32>();
    let crc = rounds.iter().fold(crc, |c, r| {
        __crc32cd(__crc32cd(__crc32cd(__crc32cd(c, word(r, 0)), word(r, 8)), word(r, 16)), word(r, 24))
    });
    let (words, bytes) = rest.as_chunks::<8>();
    let crc = words.iter().fold(crc, |c, w| __crc32cd(c, u64::from_le_bytes(*w)));
    bytes.iter().fold(crc, |c, &b| __crc32cb(c, b))
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

    #[test]
    fn host_instructions_and_table_agree() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 71, 1000] {
            assert_eq!(bytes(!0, &data[..len]), bytes_by_table(!0, &data[..len]), "{len} bytes");
        }
        assert_eq!(!bytes(!0, b"123456789"), 0xe306_9283);
    }
}
