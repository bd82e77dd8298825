//! SSE4.2 packed string compares (pcmpestri, pcmpestrm, pcmpistri,
//! pcmpistrm) as pure functions of their operands: Intel SDM vol. 2B,
//! "PCMPESTRI", and vol. 1 §4.1 "Packed string compare" (the imm8 control
//! byte, the validity overrides of table 4-7, the polarity and output
//! selection), then `step`, which the interpreter calls with the operands
//! in `CpuState`.

use crate::cpu::state::gpr::{RAX, RCX, RDX};
use crate::cpu::state::{rflags, CpuState};
use crate::interp::vector_operands;
use iced_x86::{Instruction, Mnemonic};

/// What the imm8 control byte selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Control(pub u8);

impl Control {
    /// Words (8 elements) rather than bytes (16).
    fn words(self) -> bool {
        self.0 & 1 != 0
    }
    fn signed(self) -> bool {
        self.0 & 2 != 0
    }
    fn elements(self) -> usize {
        if self.words() {
            8
        } else {
            16
        }
    }
    fn aggregation(self) -> Aggregation {
        match (self.0 >> 2) & 3 {
            0 => Aggregation::EqualAny,
            1 => Aggregation::Ranges,
            2 => Aggregation::EqualEach,
            _ => Aggregation::EqualOrdered,
        }
    }
    /// imm8[6]: most significant index / byte-or-word mask.
    fn bit6(self) -> bool {
        self.0 & 0x40 != 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aggregation {
    EqualAny,
    Ranges,
    EqualEach,
    EqualOrdered,
}

/// How the two string lengths are given.
#[derive(Clone, Copy, Debug)]
pub enum Lengths {
    /// pcmpistrX: each string ends at its first zero element.
    Implicit,
    /// pcmpestrX: RAX/EAX and RDX/EDX (already truncated to the operand
    /// size and sign-extended): the absolute value, saturated to the
    /// element count.
    Explicit(i64, i64),
}

/// The compare's results before the instruction picks its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// IntRes2, one bit per element of the second operand.
    pub mask: u16,
    /// CF ZF SF OF as x86 sets them (AF and PF are always cleared).
    pub cf: bool,
    pub zf: bool,
    pub sf: bool,
    pub of: bool,
}

fn element(v: u128, i: usize, ctl: Control) -> i32 {
    match (ctl.words(), ctl.signed()) {
        (false, false) => (v >> (8 * i)) as u8 as i32,
        (false, true) => (v >> (8 * i)) as u8 as i8 as i32,
        (true, false) => (v >> (16 * i)) as u16 as i32,
        (true, true) => (v >> (16 * i)) as u16 as i16 as i32,
    }
}

/// The index of `v`'s first zero element, or the element count: the
/// lowest element whose top bit survives `(v - ones) & !v` is the first
/// zero one (a borrow only carries upwards from a zero element).
fn implicit_length(v: u128, ctl: Control) -> usize {
    let (ones, tops, width) = if ctl.words() {
        (0x0001_0001_0001_0001_0001_0001_0001_0001u128, 0x8000_8000_8000_8000_8000_8000_8000_8000u128, 16)
    } else {
        (0x0101_0101_0101_0101_0101_0101_0101_0101u128, 0x8080_8080_8080_8080_8080_8080_8080_8080u128, 8)
    };
    let zeros = v.wrapping_sub(ones) & !v & tops;
    if zeros == 0 {
        ctl.elements()
    } else {
        zeros.trailing_zeros() as usize / width
    }
}

fn explicit_length(len: i64, ctl: Control) -> usize {
    len.unsigned_abs().min(ctl.elements() as u64) as usize
}

/// Compares `a` (the xmm1 operand) with `b` (xmm2/m128).
pub fn compare(a: u128, b: u128, lengths: Lengths, ctl: Control) -> Outcome {
    let n = ctl.elements();
    let (la, lb) = match lengths {
        Lengths::Implicit => (implicit_length(a, ctl), implicit_length(b, ctl)),
        Lengths::Explicit(ra, rd) => (explicit_length(ra, ctl), explicit_length(rd, ctl)),
    };
    let res1 = match ctl.aggregation() {
        Aggregation::EqualAny if !ctl.words() => equal_any_bytes(a, la, b, lb),
        _ => intres1(a, la, b, lb, ctl),
    };
    let all = if n == 16 { 0xffff } else { 0xff };
    let valid_b = ((1u32 << lb) - 1) as u16;
    let res2 = match (ctl.0 >> 4) & 3 {
        1 => !res1 & all,
        3 => res1 ^ valid_b,
        _ => res1,
    };
    Outcome { mask: res2, cf: res2 != 0, zf: lb < n, sf: la < n, of: res2 & 1 != 0 }
}

/// IntRes1 of byte elements under "equal any" (glibc's strpbrk, strcspn
/// and strspn, for one): a byte of `b` below `lb` matches if it is one of
/// `a`'s first `la`. The set of `a`'s bytes as a 256-bit map, then one
/// look per byte of `b`, where `intres1` compares every pair (interpreted,
/// Lua's number parsing spent 3% of its run there).
fn equal_any_bytes(a: u128, la: usize, b: u128, lb: usize) -> u16 {
    let mut set = [0u64; 4];
    for i in 0..la {
        let x = (a >> (8 * i)) as u8;
        set[usize::from(x >> 6)] |= 1 << (x & 63);
    }
    (0..lb).fold(0, |res1, j| {
        let x = (b >> (8 * j)) as u8;
        res1 | (((set[usize::from(x >> 6)] >> (x & 63)) & 1) as u16) << j
    })
}

/// IntRes1 as the SDM defines it, element by element: `a`'s and `b`'s
/// valid lengths `la` and `lb`.
fn intres1(a: u128, la: usize, b: u128, lb: usize, ctl: Control) -> u16 {
    let n = ctl.elements();
    let ea = |i: usize| element(a, i, ctl);
    let eb = |j: usize| element(b, j, ctl);
    let mut res1: u16 = 0;
    for j in 0..n {
        let bit = match ctl.aggregation() {
            // Invalid elements never match (table 4-7).
            Aggregation::EqualAny => j < lb && (0..la).any(|i| ea(i) == eb(j)),
            // a holds (low, high) pairs; a pair with an invalid end matches nothing.
            Aggregation::Ranges => j < lb && (0..la / 2).any(|p| ea(2 * p) <= eb(j) && eb(j) <= ea(2 * p + 1)),
            // Both invalid: true; one invalid: false.
            Aggregation::EqualEach => match (j < la, j < lb) {
                (true, true) => ea(j) == eb(j),
                (false, false) => true,
                _ => false,
            },
            // Does a occur in b at j? Past a's end anything matches; past
            // b's end (with a still valid) nothing does.
            Aggregation::EqualOrdered => (0..n - j).all(|k| match (k < la, j + k < lb) {
                (false, _) => true,
                (true, false) => false,
                (true, true) => ea(k) == eb(j + k),
            }),
        };
        res1 |= (bit as u16) << j;
    }
    res1
}

/// pcmpXstri's ECX: the least (or, imm8[6], most) significant set bit of
/// the mask, or the element count when none is set.
pub fn index(o: &Outcome, ctl: Control) -> u32 {
    if o.mask == 0 {
        ctl.elements() as u32
    } else if ctl.bit6() {
        15 - o.mask.leading_zeros()
    } else {
        o.mask.trailing_zeros()
    }
}

/// pcmpXstrm's XMM0: the mask as bits, or (imm8[6]) expanded to one
/// all-ones or zero element per bit.
pub fn mask(o: &Outcome, ctl: Control) -> u128 {
    if !ctl.bit6() {
        return o.mask as u128;
    }
    let width = if ctl.words() { 16 } else { 8 };
    let ones = (1u128 << width) - 1;
    (0..ctl.elements()).filter(|&i| o.mask >> i & 1 != 0).fold(0, |m, i| m | ones << (width * i))
}

/// Whether `step` runs `m`.
pub fn handles(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Pcmpestri | Pcmpestri64 | Pcmpestrm | Pcmpestrm64 | Pcmpistri | Pcmpistrm | Vpcmpestri | Vpcmpestri64
            | Vpcmpestrm | Vpcmpestrm64 | Vpcmpistri | Vpcmpistrm
    )
}

/// Runs `insn` on `state`; `addr` is its memory operand's address (probed)
/// if it has one. The index forms write ECX (RCX zero-extended), the mask
/// forms XMM0; CF ZF SF OF as the compare sets them, AF and PF cleared.
pub fn step(state: &mut CpuState, insn: &Instruction, addr: u64) {
    use Mnemonic::*;
    let ctl = Control(insn.immediate8());
    // pcmpXstrX does not require alignment.
    let (a, b) = vector_operands::sources(state, insn, addr, 0);
    let m = insn.mnemonic();
    let lengths = match m {
        Pcmpestri64 | Pcmpestrm64 | Vpcmpestri64 | Vpcmpestrm64 => Lengths::Explicit(state.gpr[RAX] as i64, state.gpr[RDX] as i64),
        Pcmpestri | Pcmpestrm | Vpcmpestri | Vpcmpestrm => Lengths::Explicit(state.gpr[RAX] as i32 as i64, state.gpr[RDX] as i32 as i64),
        _ => Lengths::Implicit,
    };
    let o = compare(a, b, lengths, ctl);
    match m {
        Pcmpestri | Pcmpestri64 | Pcmpistri | Vpcmpestri | Vpcmpestri64 | Vpcmpistri => {
            state.gpr[RCX] = index(&o, ctl) as u64
        }
        _ => {
            state.xmm[0] = mask(&o, ctl);
            if insn.encoding() == iced_x86::EncodingKind::VEX {
                state.ymm_upper[0] = 0;
            }
        }
    }
    let set = |on: bool, flag: u64| if on { flag } else { 0 };
    let arith = rflags::CF | rflags::PF | rflags::AF | rflags::ZF | rflags::SF | rflags::OF;
    let f = set(o.cf, rflags::CF) | set(o.zf, rflags::ZF) | set(o.sf, rflags::SF) | set(o.of, rflags::OF);
    state.set_rflags((state.rflags() & !arith) | f);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &[u8]) -> u128 {
        let mut b = [0u8; 16];
        b[..s.len()].copy_from_slice(s);
        u128::from_le_bytes(b)
    }

    #[test]
    fn byte_sets_and_lengths_agree_with_the_definition() {
        // A xorshift stream of operands rich in zero bytes and repeats.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let pick = |r: u64| (0..16).fold(0u128, |v, i| v | u128::from([0u8, b'a', b'n', b'N', 0xff, r as u8][(r >> (3 * i)) as usize % 6]) << (8 * i));
            let (a, b) = (pick(next()), pick(next()));
            for ctl in [Control(0x00), Control(0x01)] {
                let by_find = (0..ctl.elements()).find(|&i| element(a, i, ctl) == 0).unwrap_or(ctl.elements());
                assert_eq!(implicit_length(a, ctl), by_find, "{a:#x} {ctl:?}");
            }
            let (la, lb) = (next() as usize % 17, next() as usize % 17);
            assert_eq!(equal_any_bytes(a, la, b, lb), intres1(a, la, b, lb, Control(0x00)), "{a:#x} {la} {b:#x} {lb}");
            assert_eq!(equal_any_bytes(a, la, b, lb), intres1(a, la, b, lb, Control(0x02)), "signed");
        }
    }

    #[test]
    fn equal_any_finds_the_first_vowel() {
        let ctl = Control(0x00);
        let o = compare(bytes(b"aeiou"), bytes(b"xyzzyoa"), Lengths::Implicit, ctl);
        assert_eq!(o.mask, 0b110_0000);
        assert_eq!(index(&o, ctl), 5);
        assert!(o.cf && o.zf && o.sf && !o.of);
    }

    #[test]
    fn ranges_with_signed_bytes() {
        // -5..=5 as a signed range.
        let ctl = Control(0x06);
        let a = bytes(&[0xfb, 5]);
        let b = bytes(&[0, 0xfb, 6, 0x80, 5]);
        let o = compare(a, b, Lengths::Explicit(2, 5), ctl);
        assert_eq!(o.mask, 0b10011);
        // Unsigned, 0xfb..=5 is empty.
        assert_eq!(compare(a, b, Lengths::Explicit(2, 5), Control(0x04)).mask, 0);
    }

    #[test]
    fn equal_each_treats_both_ends_as_equal() {
        let ctl = Control(0x08);
        let o = compare(bytes(b"abc"), bytes(b"abd"), Lengths::Implicit, ctl);
        assert_eq!(o.mask, 0xfff8 | 0b011);
        // Masked negative inverts only the valid part of b.
        let o = compare(bytes(b"abc"), bytes(b"abd"), Lengths::Implicit, Control(0x38));
        assert_eq!(o.mask, 0xfff8 | 0b100);
    }

    #[test]
    fn equal_ordered_is_a_substring_search() {
        let ctl = Control(0x0c);
        let o = compare(bytes(b"lo"), bytes(b"hello, world"), Lengths::Implicit, ctl);
        // "lo" at 3; a match may start where b ends only if a is empty there.
        assert_eq!(o.mask, 1 << 3);
        // A prefix of the needle at b's end does not match.
        let o = compare(bytes(b"ld!"), bytes(b"world"), Lengths::Implicit, ctl);
        assert_eq!(o.mask, 0);
    }

    #[test]
    fn explicit_lengths_are_absolute_and_saturated() {
        let ctl = Control(0x01); // words, equal any
        let o = compare(0, 0, Lengths::Explicit(-3, 100), ctl);
        assert_eq!(o.mask, 0xff);
        assert!(!o.zf && o.sf);
        let o = compare(0, 0, Lengths::Explicit(i64::MIN, -8), ctl);
        assert!(!o.zf && !o.sf);
        assert_eq!(index(&o, Control(0x41)), 7);
        assert_eq!(mask(&o, Control(0x41)), u128::MAX);
    }
}
