//! SSSE3's integer operations as pure functions on lane arrays, written
//! once for both widths: `[T; N]` is an MMX register (8 bytes) or an XMM
//! register (16 bytes) viewed as lanes, lane 0 the least significant. The
//! interpreter's MMX forms use them through `on_mmx`.

use iced_x86::Mnemonic;

/// pshufb: each result byte is the `table` byte its control byte selects
/// (the low log2(N) bits), or zero when the control byte's top bit is set.
pub fn shuffle_bytes<const N: usize>(table: [u8; N], control: [u8; N]) -> [u8; N] {
    control.map(|c| if c & 0x80 != 0 { 0 } else { table[c as usize % N] })
}

/// palignr: bytes `shift..shift + N` of `high:low` (2N bytes, `low` first);
/// bytes past the end read as zero.
pub fn align_right<const N: usize>(high: [u8; N], low: [u8; N], shift: u8) -> [u8; N] {
    std::array::from_fn(|i| {
        let k = i + shift as usize;
        match k {
            _ if k < N => low[k],
            _ if k < 2 * N => high[k - N],
            _ => 0,
        }
    })
}

/// phadd*, phsub*: the first half of the result combines adjacent pairs of
/// `a`, the second half those of `b`; `f(even, odd)`.
pub fn horizontal<T: Copy, const N: usize>(a: [T; N], b: [T; N], f: impl Fn(T, T) -> T) -> [T; N] {
    std::array::from_fn(|i| {
        let (src, j) = if i < N / 2 { (&a, 2 * i) } else { (&b, 2 * (i - N / 2)) };
        f(src[j], src[j + 1])
    })
}

/// Applies `f` lane by lane.
pub fn zip<T: Copy, const N: usize>(a: [T; N], b: [T; N], f: impl Fn(T, T) -> T) -> [T; N] {
    std::array::from_fn(|i| f(a[i], b[i]))
}

/// pmaddubsw: unsigned bytes of `a` times signed bytes of `b`, adjacent
/// products summed with signed saturation to 16 bits (`M` = N / 2).
pub fn multiply_add_bytes<const N: usize, const M: usize>(a: [u8; N], b: [u8; N]) -> [i16; M] {
    std::array::from_fn(|i| {
        let product = |k: usize| a[k] as i32 * b[k] as i8 as i32;
        (product(2 * i) + product(2 * i + 1)).clamp(i16::MIN as i32, i16::MAX as i32) as i16
    })
}

/// pmulhrsw: the product scaled by 2^-15 and rounded to nearest (ties up),
/// keeping the low 16 bits (0x8000 * 0x8000 gives 0x8000).
pub fn mul_high_round(a: i16, b: i16) -> i16 {
    ((((a as i32 * b as i32) >> 14) + 1) >> 1) as i16
}

/// psign*: `a` negated where `b` is negative, zeroed where `b` is zero.
pub fn sign<T: SignedLane>(a: T, b: T) -> T {
    match b.signum_lane() {
        s if s < 0 => a.wrapping_negate(),
        0 => T::ZERO,
        _ => a,
    }
}

/// The signed lane types SSSE3 works on.
pub trait SignedLane: Copy {
    const ZERO: Self;
    fn wrapping_negate(self) -> Self;
    fn signum_lane(self) -> i8;
    /// pabs*: the absolute value; the minimum stays itself (its unsigned
    /// reading is then the right answer, 2^(bits-1)).
    fn wrapping_absolute(self) -> Self;
}

macro_rules! signed_lane {
    ($($t:ty),*) => {$(
        impl SignedLane for $t {
            const ZERO: Self = 0;
            fn wrapping_negate(self) -> Self { self.wrapping_neg() }
            fn signum_lane(self) -> i8 { self.signum() as i8 }
            fn wrapping_absolute(self) -> Self { self.wrapping_abs() }
        }
    )*};
}
signed_lane!(i8, i16, i32);

fn bytes(x: u64) -> [u8; 8] {
    x.to_le_bytes()
}

fn from_bytes(b: [u8; 8]) -> u64 {
    u64::from_le_bytes(b)
}

fn i8s(x: u64) -> [i8; 8] {
    bytes(x).map(|b| b as i8)
}

fn from_i8s(v: [i8; 8]) -> u64 {
    from_bytes(v.map(|b| b as u8))
}

fn i16s(x: u64) -> [i16; 4] {
    std::array::from_fn(|i| (x >> (16 * i)) as i16)
}

fn from_i16s(v: [i16; 4]) -> u64 {
    v.iter().enumerate().fold(0, |r, (i, &w)| r | (w as u16 as u64) << (16 * i))
}

fn i32s(x: u64) -> [i32; 2] {
    [x as i32, (x >> 32) as i32]
}

fn from_i32s(v: [i32; 2]) -> u64 {
    v[0] as u32 as u64 | (v[1] as u32 as u64) << 32
}

fn saturate16(x: i32) -> i16 {
    x.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

/// Whether `m` is an SSSE3 integer instruction (`on_mmx` computes it).
pub fn is_ssse3(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Pshufb | Palignr | Phaddw | Phaddd | Phaddsw | Phsubw | Phsubd | Phsubsw | Pmaddubsw | Pmulhrsw | Pabsb
            | Pabsw | Pabsd | Psignb | Psignw | Psignd
    )
}

/// SSSE3 instruction `m` on MMX operands: `a` the destination's value, `b`
/// the source's, `imm` palignr's byte count. None for other mnemonics.
pub fn on_mmx(m: Mnemonic, a: u64, b: u64, imm: u8) -> Option<u64> {
    use Mnemonic::*;
    let add_sat = |x: i16, y: i16| saturate16(x as i32 + y as i32);
    let sub_sat = |x: i16, y: i16| saturate16(x as i32 - y as i32);
    Some(match m {
        Pshufb => from_bytes(shuffle_bytes(bytes(a), bytes(b))),
        Palignr => from_bytes(align_right(bytes(a), bytes(b), imm)),
        Phaddw => from_i16s(horizontal(i16s(a), i16s(b), i16::wrapping_add)),
        Phaddd => from_i32s(horizontal(i32s(a), i32s(b), i32::wrapping_add)),
        Phaddsw => from_i16s(horizontal(i16s(a), i16s(b), add_sat)),
        Phsubw => from_i16s(horizontal(i16s(a), i16s(b), i16::wrapping_sub)),
        Phsubd => from_i32s(horizontal(i32s(a), i32s(b), i32::wrapping_sub)),
        Phsubsw => from_i16s(horizontal(i16s(a), i16s(b), sub_sat)),
        Pmaddubsw => from_i16s(multiply_add_bytes(bytes(a), bytes(b))),
        Pmulhrsw => from_i16s(zip(i16s(a), i16s(b), mul_high_round)),
        Pabsb => from_i8s(i8s(b).map(SignedLane::wrapping_absolute)),
        Pabsw => from_i16s(i16s(b).map(SignedLane::wrapping_absolute)),
        Pabsd => from_i32s(i32s(b).map(SignedLane::wrapping_absolute)),
        Psignb => from_i8s(zip(i8s(a), i8s(b), sign)),
        Psignw => from_i16s(zip(i16s(a), i16s(b), sign)),
        Psignd => from_i32s(zip(i32s(a), i32s(b), sign)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Mnemonic::*;

    #[test]
    fn shuffles() {
        let table = 0x8877_6655_4433_2211;
        assert_eq!(on_mmx(Pshufb, table, 0x0001_0203_0405_0607, 0), Some(0x1122_3344_5566_7788));
        // Index bits above the third are ignored; bit 7 zeroes.
        assert_eq!(on_mmx(Pshufb, table, 0x80ff_7f0f_0908_1000, 0), Some(0x0000_8888_2211_1111));
        assert_eq!(shuffle_bytes::<16>(std::array::from_fn(|i| i as u8), [0x0f; 16]), [15; 16]);
        assert_eq!(on_mmx(Palignr, 0x1716_1514_1312_1110, 0x0706_0504_0302_0100, 3), Some(0x1211_1007_0605_0403));
        assert_eq!(on_mmx(Palignr, 0x1716_1514_1312_1110, 0, 8), Some(0x1716_1514_1312_1110));
        assert_eq!(on_mmx(Palignr, 0x1716_1514_1312_1110, 0, 15), Some(0x17));
        assert_eq!(on_mmx(Palignr, u64::MAX, u64::MAX, 16), Some(0));
    }

    #[test]
    fn horizontal_sums() {
        assert_eq!(on_mmx(Phaddw, 0x0004_0003_0002_0001, 0xffff_0001_7fff_0001, 0), Some(0x0000_8000_0007_0003));
        assert_eq!(on_mmx(Phaddsw, 0x0004_0003_0002_0001, 0xffff_0001_7fff_0001, 0), Some(0x0000_7fff_0007_0003));
        assert_eq!(on_mmx(Phsubw, 0x0001_0004_0002_0005, 0, 0), Some(0x0000_0000_0003_0003));
        assert_eq!(on_mmx(Phsubsw, 0x0001_8000, 0, 0), Some(0x8000));
        assert_eq!(on_mmx(Phaddd, 0x0000_0002_ffff_ffff, 0x0000_0005_0000_0001, 0), Some(0x0000_0006_0000_0001));
        assert_eq!(on_mmx(Phsubd, 0x0000_0002_0000_0007, 0, 0), Some(5));
    }

    #[test]
    fn multiplies() {
        // 255 * 127 * 2 saturates; 255 * -128 * 2 saturates low.
        assert_eq!(on_mmx(Pmaddubsw, 0xffff_ffff, 0x8080_7f7f, 0), Some(0x8000_7fff));
        assert_eq!(on_mmx(Pmaddubsw, 0x0302, 0xfe05, 0), Some(10 - 6));
        assert_eq!(mul_high_round(i16::MIN, i16::MIN), i16::MIN);
        assert_eq!(mul_high_round(0x4000, 0x4000), 0x2000);
        assert_eq!(mul_high_round(1, 0x4000), 1); // 0.5 rounds up
        assert_eq!(mul_high_round(-1, 0x4000), 0); // -0.5 rounds up
    }

    #[test]
    fn absolute_and_sign() {
        assert_eq!(on_mmx(Pabsb, 0, 0x80ff_7f01_00fe_8180, 0), Some(0x8001_7f01_0002_7f80));
        assert_eq!(on_mmx(Pabsw, 0, 0x8000_ffff_0000_8001, 0), Some(0x8000_0001_0000_7fff));
        assert_eq!(on_mmx(Pabsd, 0, 0x8000_0000_ffff_fffe, 0), Some(0x8000_0000_0000_0002));
        assert_eq!(on_mmx(Psignb, 0x8005_0505_0505_0505, 0xff01_00ff_0100_8080, 0), Some(0x8005_00fb_0500_fbfb));
        assert_eq!(on_mmx(Psignw, 0x0003_0003_0003_8000, 0x8000_0000_0001_ffff, 0), Some(0xfffd_0000_0003_8000));
        assert_eq!(on_mmx(Psignd, 0x0000_0007_0000_0007, 0xffff_ffff_0000_0000, 0), Some(0xffff_fff9_0000_0000));
    }
}
