//! AES-NI round primitives and PCLMULQDQ's carry-less multiply in Rust:
//! the semantics for the interpreter, used when the host lacks FEAT_AES /
//! FEAT_PMULL (some Raspberry Pi SoCs). Intel SDM vol. 2A "AESENC" and
//! following; FIPS-197 for the transformations.
//!
//! The state is the xmm register's 16 bytes in column-major order: byte
//! `r + 4c` is row r of column c, as FIPS-197 arranges its input.

const fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    p
}

/// FIPS-197 §5.1.1: the multiplicative inverse, then the affine map.
const SBOX: [u8; 256] = {
    let mut s = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        // x^254 is the inverse in GF(2^8) (and 0 for 0).
        let mut inv = 1u8;
        let mut k = 0;
        while k < 254 {
            inv = gf_mul(inv, x as u8);
            k += 1;
        }
        let b = inv;
        s[x] = b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4) ^ 0x63;
        x += 1;
    }
    s
};

const INV_SBOX: [u8; 256] = {
    let mut s = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        s[SBOX[x] as usize] = x as u8;
        x += 1;
    }
    s
};

type State = [u8; 16];

fn shift_rows(s: State, inverse: bool) -> State {
    let mut o = [0u8; 16];
    for c in 0..4 {
        for r in 0..4 {
            let from = if inverse { (c + 4 - r) % 4 } else { (c + r) % 4 };
            o[r + 4 * c] = s[r + 4 * from];
        }
    }
    o
}

fn sub_bytes(s: State, table: &[u8; 256]) -> State {
    s.map(|b| table[b as usize])
}

fn mix_columns(s: State, inverse: bool) -> State {
    let m: [u8; 4] = if inverse { [14, 11, 13, 9] } else { [2, 3, 1, 1] };
    let mut o = [0u8; 16];
    for c in 0..4 {
        for r in 0..4 {
            o[r + 4 * c] = (0..4).fold(0, |acc, k| acc ^ gf_mul(m[(k + 4 - r) % 4], s[k + 4 * c]));
        }
    }
    o
}

fn xor(s: State, key: u128) -> u128 {
    u128::from_le_bytes(s) ^ key
}

/// aesenc (`last`: aesenclast, without MixColumns).
pub fn encrypt_round(state: u128, key: u128, last: bool) -> u128 {
    let s = sub_bytes(shift_rows(state.to_le_bytes(), false), &SBOX);
    xor(if last { s } else { mix_columns(s, false) }, key)
}

/// aesdec (`last`: aesdeclast, without InvMixColumns).
pub fn decrypt_round(state: u128, key: u128, last: bool) -> u128 {
    let s = sub_bytes(shift_rows(state.to_le_bytes(), true), &INV_SBOX);
    xor(if last { s } else { mix_columns(s, true) }, key)
}

/// aesimc: InvMixColumns, turning an encryption round key into the
/// equivalent inverse cipher's.
pub fn inverse_mix_columns(v: u128) -> u128 {
    u128::from_le_bytes(mix_columns(v.to_le_bytes(), true))
}

/// aeskeygenassist: SubWord of dwords 1 and 3, and those rotated and
/// XORed with the round constant.
pub fn key_gen_assist(v: u128, rcon: u8) -> u128 {
    let sub_word = |w: u32| u32::from_le_bytes(w.to_le_bytes().map(|b| SBOX[b as usize]));
    let x1 = sub_word((v >> 32) as u32);
    let x3 = sub_word((v >> 96) as u32);
    let rot = |w: u32| w.rotate_right(8) ^ rcon as u32;
    x1 as u128 | (rot(x1) as u128) << 32 | (x3 as u128) << 64 | (rot(x3) as u128) << 96
}

/// pclmulqdq's 64 x 64 -> 128-bit carry-less product.
pub fn clmul(a: u64, b: u64) -> u128 {
    (0..64).filter(|i| b >> i & 1 != 0).fold(0u128, |p, i| p ^ (a as u128) << i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(hex: &str) -> u128 {
        let mut b = [0u8; 16];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        u128::from_le_bytes(b)
    }

    /// FIPS-197 appendix C.1 with the key schedule of aeskeygenassist,
    /// the way the Intel AES-NI white paper expands an AES-128 key.
    #[test]
    fn fips_197_aes_128_round_trip() {
        let key = block("000102030405060708090a0b0c0d0e0f");
        let plain = block("00112233445566778899aabbccddeeff");
        let mut keys = vec![key];
        for rcon in [1u8, 2, 4, 8, 16, 32, 64, 128, 0x1b, 0x36] {
            let k = *keys.last().unwrap();
            let assist = key_gen_assist(k, rcon);
            let t = (assist >> 96) as u32 as u128;
            let t = t | t << 32 | t << 64 | t << 96;
            let k = k ^ (k << 32) ^ (k << 64) ^ (k << 96);
            keys.push(k ^ t);
        }
        assert_eq!(SBOX[0x53], 0xed);
        let mut s = plain ^ keys[0];
        for k in &keys[1..10] {
            s = encrypt_round(s, *k, false);
        }
        s = encrypt_round(s, keys[10], true);
        assert_eq!(s, block("69c4e0d86a7b0430d8cdb78070b4c55a"));
        let mut d = s ^ keys[10];
        for k in keys[1..10].iter().rev() {
            d = decrypt_round(d, inverse_mix_columns(*k), false);
        }
        d = decrypt_round(d, keys[0], true);
        assert_eq!(d, plain);
    }

    #[test]
    fn carry_less_multiply() {
        assert_eq!(clmul(0b11, 0b11), 0b101);
        assert_eq!(clmul(u64::MAX, u64::MAX), 0x5555_5555_5555_5555_5555_5555_5555_5555);
    }
}
