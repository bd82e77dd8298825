//! SSSE3 on MMX registers (NP 0F 38 xx, NP 0F 3A 0F): each operation is a
//! pure function of the destination `a` and the source `b` as 64-bit lane
//! vectors (SDM vol. 2, the instruction pages of PSHUFB ... PSIGNB).

fn lane(v: u64, bits: u32, i: u32) -> u64 {
    (v >> (i * bits)) & ((1u64 << bits) - 1)
}

fn slane(v: u64, bits: u32, i: u32) -> i64 {
    let x = lane(v, bits, i);
    ((x << (64 - bits)) as i64) >> (64 - bits)
}

/// Builds a vector of `64 / bits` lanes from `f(lane index)`, truncating.
fn build(bits: u32, f: impl Fn(u32) -> i64) -> u64 {
    (0..64 / bits).fold(0, |r, i| r | ((f(i) as u64) & ((1u64 << bits) - 1)) << (i * bits))
}

fn sat16(v: i64) -> i64 {
    v.clamp(i16::MIN as i64, i16::MAX as i64)
}

/// pshufb: byte i is a's byte (b_i & 7), or 0 when b_i's top bit is set.
pub fn pshufb(a: u64, b: u64) -> u64 {
    build(8, |i| {
        let sel = lane(b, 8, i);
        if sel & 0x80 != 0 {
            0
        } else {
            lane(a, 8, (sel & 7) as u32) as i64
        }
    })
}

/// palignr: the 16-byte a:b (a high) shifted right by `imm` bytes, low 8.
pub fn palignr(a: u64, b: u64, imm: u8) -> u64 {
    let cat = (a as u128) << 64 | b as u128;
    if imm >= 16 {
        0
    } else {
        (cat >> (imm as u32 * 8)) as u64
    }
}

/// The horizontal pair operations: the result's low half comes from the
/// pairs of a, its high half from the pairs of b.
fn horizontal(a: u64, b: u64, bits: u32, op: impl Fn(i64, i64) -> i64) -> u64 {
    let pairs = 64 / bits / 2;
    build(bits, |i| {
        let (v, p) = if i < pairs { (a, i) } else { (b, i - pairs) };
        op(slane(v, bits, 2 * p), slane(v, bits, 2 * p + 1))
    })
}

pub fn phaddw(a: u64, b: u64) -> u64 {
    horizontal(a, b, 16, |x, y| x + y)
}
pub fn phaddd(a: u64, b: u64) -> u64 {
    horizontal(a, b, 32, |x, y| x + y)
}
pub fn phaddsw(a: u64, b: u64) -> u64 {
    horizontal(a, b, 16, |x, y| sat16(x + y))
}
pub fn phsubw(a: u64, b: u64) -> u64 {
    horizontal(a, b, 16, |x, y| x - y)
}
pub fn phsubd(a: u64, b: u64) -> u64 {
    horizontal(a, b, 32, |x, y| x - y)
}
pub fn phsubsw(a: u64, b: u64) -> u64 {
    horizontal(a, b, 16, |x, y| sat16(x - y))
}

/// pmaddubsw: unsigned bytes of a times signed bytes of b, adjacent
/// products added with signed word saturation.
pub fn pmaddubsw(a: u64, b: u64) -> u64 {
    build(16, |i| {
        let p = |k: u32| lane(a, 8, k) as i64 * slane(b, 8, k);
        sat16(p(2 * i) + p(2 * i + 1))
    })
}

/// pmulhrsw: (a * b + 0x4000) >> 15 per signed word, as the SDM's
/// ((a * b >> 14) + 1) >> 1.
pub fn pmulhrsw(a: u64, b: u64) -> u64 {
    build(16, |i| (((slane(a, 16, i) * slane(b, 16, i)) >> 14) + 1) >> 1)
}

/// pabsb/w/d: the absolute value of each signed lane of b (the most
/// negative value stays as it is, read unsigned).
pub fn pabs(b: u64, bits: u32) -> u64 {
    build(bits, |i| slane(b, bits, i).abs())
}

/// psignb/w/d: a's lane negated, zeroed or kept as b's lane is negative,
/// zero or positive.
pub fn psign(a: u64, b: u64, bits: u32) -> u64 {
    build(bits, |i| match slane(b, bits, i).signum() {
        -1 => -slane(a, bits, i),
        0 => 0,
        _ => slane(a, bits, i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles() {
        assert_eq!(pshufb(0x0706_0504_0302_0100, 0x8000_0102_0304_0507), 0x0000_0102_0304_0507);
        assert_eq!(pshufb(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908), 0x0706_0504_0302_0100);
        assert_eq!(palignr(0x1716_1514_1312_1110, 0x0706_0504_0302_0100, 3), 0x1211_1007_0605_0403);
        assert_eq!(palignr(0x1716_1514_1312_1110, 0x0706_0504_0302_0100, 8), 0x1716_1514_1312_1110);
        assert_eq!(palignr(0x1716_1514_1312_1110, 0x0706_0504_0302_0100, 15), 0x17);
        assert_eq!(palignr(1, 2, 16), 0);
    }

    #[test]
    fn horizontal_ops() {
        // a = [1, 2, 3, 4], b = [0x7fff, 1, 0x8000, 0xffff] (word lanes, low first).
        let a = 0x0004_0003_0002_0001;
        let b = 0xffff_8000_0001_7fff;
        assert_eq!(phaddw(a, b), 0x7fff_8000_0007_0003);
        assert_eq!(phaddsw(a, b), 0x8000_7fff_0007_0003);
        assert_eq!(phsubw(a, b), 0x8001_7ffe_ffff_ffff);
        assert_eq!(phsubsw(a, b), 0x8001_7ffe_ffff_ffff);
        assert_eq!(phsubsw(0, 0x0001_8000_0000_0000), 0x8000_0000_0000_0000);
        assert_eq!(phaddd(0x0000_0002_ffff_ffff, 0x8000_0000_8000_0000), 0x0000_0000_0000_0001);
        assert_eq!(phsubd(0x0000_0002_0000_0001, 0x0000_0001_8000_0000), 0x7fff_ffff_ffff_ffff);
    }

    #[test]
    fn multiplies() {
        // 255 * 127 * 2 saturates; 255 * -128 * 2 saturates low.
        assert_eq!(pmaddubsw(0x0000_0000_ffff_ffff, 0x0000_0000_8080_7f7f), 0x0000_0000_8000_7fff);
        assert_eq!(pmaddubsw(0x0000_0000_0000_0302, 0x0000_0000_0000_04ff), 0x0000_0000_0000_000a);
        // 0x8000 * 0x8000 overflows to 0x8000; 0x4000 * 0x4000 = 0x2000.
        assert_eq!(pmulhrsw(0x0000_ffff_4000_8000, 0x0000_0001_4000_8000), 0x0000_0000_2000_8000);
    }

    #[test]
    fn abs_and_sign() {
        assert_eq!(pabs(0x80ff_7f01_0000_0000, 8), 0x8001_7f01_0000_0000);
        assert_eq!(pabs(0x8000_0000_ffff_ffff, 32), 0x8000_0000_0000_0001);
        assert_eq!(psign(0x0505_0505_0505_0505, 0x0001_ff00_807f_0000, 8), 0x0005_fb00_fb05_0000);
        assert_eq!(psign(0x0000_8000_0000_0001, 0x0000_ffff_0000_ffff, 16), 0x0000_8000_0000_ffff);
    }
}
