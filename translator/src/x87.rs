//! The x87 FPU, interpreted with exact 80-bit arithmetic (rustc_apfloat's
//! X87DoubleExtended). x87 code is rare in x86_64 programs (long double,
//! musl's printf), so every x87 instruction leaves translated code and runs
//! here; `is_x87` lists what is implemented.
//!
//! Not modelled: precision control (always 64-bit mantissa), exception
//! flags and unmasked exceptions, stack overflow/underflow faults.

use crate::cpu_state::{rflags, CpuState, X87State};
use crate::dispatch::GuestEvent;
use iced_x86::{Instruction, MemorySize, Mnemonic, OpKind, Register};
use rustc_apfloat::ieee::{Double, Single, X87DoubleExtended as F80};
use rustc_apfloat::{Float, FloatConvert, Round, Status, StatusAnd};
use std::cmp::Ordering;

/// Status word condition bits.
const C0: u16 = 1 << 8;
const C1: u16 = 1 << 9;
const C2: u16 = 1 << 10;
const C3: u16 = 1 << 14;

/// The x87 instructions `step` implements.
pub fn is_x87(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Fld | Fild | Fldz | Fld1 | Fldpi | Fldl2e | Fldl2t | Fldlg2 | Fldln2 | Fst | Fstp | Fist | Fistp | Fxch
            | Fadd | Faddp | Fiadd | Fsub | Fsubp | Fisub | Fsubr | Fsubrp | Fisubr | Fmul | Fmulp | Fimul | Fdiv
            | Fdivp | Fidiv | Fdivr | Fdivrp | Fidivr | Fcom | Fcomp | Fcompp | Fucom | Fucomp | Fucompp
            | Fcomi | Fcomip | Fucomi | Fucomip | Ftst | Fxam | Fchs | Fabs | Fsqrt | Frndint | Fscale | Fprem
            | Fprem1 | Fnstcw | Fldcw | Fnstsw | Fnclex | Fninit | Wait | Ffree | Fincstp | Fdecstp | Fnop
            | Fcmovb | Fcmove | Fcmovbe | Fcmovu | Fcmovnb | Fcmovne | Fcmovnbe | Fcmovnu
    )
}

fn round_mode(x: &X87State) -> Round {
    match (x.control >> 10) & 3 {
        0 => Round::NearestTiesToEven,
        1 => Round::TowardNegative,
        2 => Round::TowardPositive,
        _ => Round::TowardZero,
    }
}

/// x87's "real indefinite": the negative quiet NaN invalid operations produce.
fn indefinite() -> F80 {
    F80::from_bits(0xffff_c000_0000_0000_0000)
}

/// Exponent nonzero but the integer bit clear: unnormals, pseudo-NaNs and
/// pseudo-infinities, which the FPU rejects as operands (MMX leaves such
/// encodings behind).
fn unsupported(bits: u128) -> bool {
    (bits >> 64) & 0x7fff != 0 && bits & (1 << 63) == 0
}

fn is_nan_bits(bits: u128) -> bool {
    (bits >> 64) & 0x7fff == 0x7fff && bits & ((1 << 63) - 1) != 0
}

/// The result the FPU's operand rules decide before any arithmetic: the
/// indefinite for unsupported encodings; for NaNs, the NaN (quieted), or of
/// two NaNs the one with the larger significand.
fn special_result(inputs: &[u128]) -> Option<u128> {
    if inputs.iter().any(|&b| unsupported(b)) {
        return Some(indefinite().to_bits());
    }
    let quiet = |b: u128| b | (1 << 62);
    let significand = |b: u128| b & ((1 << 64) - 1);
    match inputs.iter().copied().filter(|&b| is_nan_bits(b)).collect::<Vec<_>>()[..] {
        [] => None,
        [n] => Some(quiet(n)),
        // Of two NaNs the larger significand wins; on a tie the positive one.
        [a, b, ..] => Some(quiet(match significand(b).cmp(&significand(a)) {
            Ordering::Greater => b,
            Ordering::Less => a,
            Ordering::Equal => a.min(b),
        })),
    }
}

/// A NaN the operation created (no NaN input) gets x87's negative sign.
fn x87_nan(r: StatusAnd<F80>, inputs: &[F80]) -> F80 {
    if r.value.is_nan() && !inputs.iter().any(|i| i.is_nan()) {
        indefinite()
    } else {
        r.value
    }
}

impl X87State {
    fn st(&self, i: usize) -> F80 {
        F80::from_bits(self.regs[(self.top as usize + i) & 7])
    }
    fn set_st(&mut self, i: usize, v: F80) {
        let p = (self.top as usize + i) & 7;
        self.regs[p] = v.to_bits();
        self.valid |= 1 << p;
    }
    fn push(&mut self, v: F80) {
        self.push_bits(v.to_bits());
    }
    /// Pushes raw register bits: loads and moves copy encodings (even ones
    /// arithmetic would reject) unchanged.
    fn push_bits(&mut self, bits: u128) {
        self.top = (self.top + 7) & 7;
        self.regs[self.top as usize] = bits;
        self.valid |= 1 << self.top;
    }
    fn st_bits(&self, i: usize) -> u128 {
        self.regs[(self.top as usize + i) & 7]
    }
    fn set_st_bits(&mut self, i: usize, bits: u128) {
        let p = (self.top as usize + i) & 7;
        self.regs[p] = bits;
        self.valid |= 1 << p;
    }
    fn pop(&mut self) {
        self.valid &= !(1 << self.top);
        self.top = (self.top + 1) & 7;
    }
    fn set_cc(&mut self, bits: u16) {
        self.status = (self.status & !(C0 | C1 | C2 | C3)) | bits;
    }
    /// Status word as fnstsw stores it (TOP in bits 11..13).
    pub fn status_word(&self) -> u16 {
        (self.status & !(7 << 11)) | ((self.top as u16) << 11)
    }
}

fn st_index(reg: Register) -> usize {
    reg.number()
}

// SAFETY (for the memory helpers below): the guest chose these addresses and
// owns the memory; a bad address faults as the guest's own access would.
fn read_mem(addr: u64, size: usize) -> u128 {
    let mut b = [0u8; 16];
    unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, b.as_mut_ptr(), size) };
    u128::from_le_bytes(b)
}
fn write_mem(addr: u64, size: usize, v: u128) {
    let b = v.to_le_bytes();
    unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), addr as *mut u8, size) };
}

fn to_f80<T: FloatConvert<F80>>(v: T) -> F80 {
    let mut loses = false;
    v.convert(&mut loses).value
}

/// A 32- or 64-bit float (`frac_bits` fraction bits) as an 80-bit value.
/// NaNs are widened by hand so that a signalling NaN stays signalling: of a
/// signalling and a quiet NaN the FPU picks the quiet one, which a
/// converting (quieting) load would hide.
fn widen(bits: u128, frac_bits: u32, convert: impl FnOnce(u128) -> F80) -> F80 {
    let exp_bits = if frac_bits == 23 { 8 } else { 11 };
    let exp_max = (1u128 << exp_bits) - 1;
    let frac = bits & ((1 << frac_bits) - 1);
    if (bits >> frac_bits) & exp_max != exp_max || frac == 0 {
        return convert(bits);
    }
    let sign = (bits >> (frac_bits + exp_bits)) & 1;
    F80::from_bits(sign << 79 | 0x7fff << 64 | 1 << 63 | frac << (63 - frac_bits))
}

/// Loads a memory operand of any x87 type as an 80-bit value (a NaN keeps
/// its signalling bit: `fld` quiets it itself).
fn load_operand(insn: &Instruction, addr: u64) -> Option<F80> {
    Some(match insn.memory_size() {
        MemorySize::Float32 => widen(read_mem(addr, 4), 23, |b| to_f80(Single::from_bits(b))),
        MemorySize::Float64 => widen(read_mem(addr, 8), 52, |b| to_f80(Double::from_bits(b))),
        MemorySize::Float80 => F80::from_bits(read_mem(addr, 10)),
        MemorySize::Int16 => F80::from_i128(read_mem(addr, 2) as u16 as i16 as i128).value,
        MemorySize::Int32 => F80::from_i128(read_mem(addr, 4) as u32 as i32 as i128).value,
        MemorySize::Int64 => F80::from_i128(read_mem(addr, 8) as u64 as i64 as i128).value,
        _ => return None,
    })
}

/// Stores ST(0) to memory in the operand's format. An unsupported encoding
/// is an invalid operand: the format's indefinite is stored.
fn store_operand(insn: &Instruction, addr: u64, v: F80, round: Round) -> Option<()> {
    let mut loses = false;
    if unsupported(v.to_bits()) {
        let (size, indefinite) = match insn.memory_size() {
            MemorySize::Float32 => (4, 0xffc0_0000),
            MemorySize::Float64 => (8, 0xfff8_0000_0000_0000),
            MemorySize::Int16 => (2, 0x8000),
            MemorySize::Int32 => (4, 0x8000_0000),
            MemorySize::Int64 => (8, 0x8000_0000_0000_0000),
            _ => return None,
        };
        write_mem(addr, size, indefinite);
        return Some(());
    }
    match insn.memory_size() {
        MemorySize::Float32 => {
            let s: Single = v.convert_r(round, &mut loses).value;
            write_mem(addr, 4, s.to_bits());
        }
        MemorySize::Float64 => {
            let d: Double = v.convert_r(round, &mut loses).value;
            write_mem(addr, 8, d.to_bits());
        }
        MemorySize::Float80 => write_mem(addr, 10, v.to_bits()),
        MemorySize::Int16 => write_mem(addr, 2, to_int(v, 16, round) as u128),
        MemorySize::Int32 => write_mem(addr, 4, to_int(v, 32, round) as u128),
        MemorySize::Int64 => write_mem(addr, 8, to_int(v, 64, round) as u128),
        _ => return None,
    }
    Some(())
}

/// Integer conversion with x87's "integer indefinite" for NaN and overflow.
fn to_int(v: F80, bits: usize, round: Round) -> u64 {
    let mut exact = false;
    let r = v.to_i128_r(bits, round, &mut exact);
    let min = 1u64 << (bits - 1);
    if v.is_nan() || r.status.contains(Status::INVALID_OP) {
        return min;
    }
    r.value as u64 & if bits == 64 { u64::MAX } else { (1 << bits) - 1 }
}

/// Comparison as (ZF, PF, CF) / (C3, C2, C0).
fn compare(a: F80, b: F80) -> (bool, bool, bool) {
    match a.partial_cmp(&b) {
        None => (true, true, true),
        Some(Ordering::Less) => (false, false, true),
        Some(Ordering::Equal) => (true, false, false),
        Some(Ordering::Greater) => (false, false, false),
    }
}

fn set_eflags_compare(state: &mut CpuState, (zf, pf, cf): (bool, bool, bool)) {
    let mut f = state.rflags() & !(rflags::CF | rflags::PF | rflags::AF | rflags::ZF | rflags::SF | rflags::OF);
    if zf {
        f |= rflags::ZF;
    }
    if pf {
        f |= rflags::PF;
    }
    if cf {
        f |= rflags::CF;
    }
    state.set_rflags(f);
}

fn condition_codes((c3, c2, c0): (bool, bool, bool)) -> u16 {
    (if c3 { C3 } else { 0 }) | (if c2 { C2 } else { 0 }) | (if c0 { C0 } else { 0 })
}

/// Executes x87 instruction `insn`; `addr` is its memory operand's address.
pub fn step(state: &mut CpuState, insn: &Instruction, addr: u64) -> Result<(), GuestEvent> {
    use Mnemonic::*;
    let ill = GuestEvent::Fault { signal: libc::SIGILL, addr: insn.ip() };
    let mem = insn.op_count() > 0 && insn.op0_kind() == OpKind::Memory;
    let round = round_mode(&state.x87);
    let m = insn.mnemonic();
    match m {
        // An 80-bit load copies the bits as they are, as the FPU does.
        Fld if mem && insn.memory_size() == MemorySize::Float80 => state.x87.push_bits(read_mem(addr, 10)),
        Fld if !mem => {
            let bits = state.x87.st_bits(st_index(insn.op0_register()));
            state.x87.push_bits(bits);
        }
        Fld | Fild => {
            let v = load_operand(insn, addr).ok_or(ill)?;
            // Loading a signalling NaN delivers it quieted.
            let v = if v.is_nan() { F80::from_bits(v.to_bits() | 1 << 62) } else { v };
            state.x87.push(v);
        }
        Fldz => state.x87.push(F80::ZERO),
        Fld1 => state.x87.push(F80::from_i128(1).value),
        Fldpi | Fldl2e | Fldl2t | Fldlg2 | Fldln2 => state.x87.push(F80::from_bits(constant(m, round))),
        Fst | Fstp | Fist | Fistp => {
            let v = state.x87.st(0);
            if mem && insn.memory_size() == MemorySize::Float80 {
                write_mem(addr, 10, state.x87.st_bits(0));
            } else if mem {
                store_operand(insn, addr, v, round).ok_or(ill)?;
            } else {
                let bits = state.x87.st_bits(0);
                state.x87.set_st_bits(st_index(insn.op0_register()), bits);
            }
            if matches!(m, Fstp | Fistp) {
                state.x87.pop();
            }
        }
        Fxch => {
            let i = if insn.op_count() > 1 { st_index(insn.op1_register()) } else { 1 };
            let (a, b) = (state.x87.st_bits(0), state.x87.st_bits(i));
            state.x87.set_st_bits(0, b);
            state.x87.set_st_bits(i, a);
        }
        Fadd | Faddp | Fiadd | Fsub | Fsubp | Fisub | Fsubr | Fsubrp | Fisubr | Fmul | Fmulp | Fimul | Fdiv | Fdivp
        | Fidiv | Fdivr | Fdivrp | Fidivr => {
            // Raw register bits: converting an unsupported encoding to a
            // float first would hide it from `special_result`.
            let (dst, a_bits, b_bits) = if mem {
                (0, state.x87.st_bits(0), load_operand(insn, addr).ok_or(ill)?.to_bits())
            } else if insn.op_count() == 2 {
                let d = st_index(insn.op0_register());
                (d, state.x87.st_bits(d), state.x87.st_bits(st_index(insn.op1_register())))
            } else {
                (1, state.x87.st_bits(1), state.x87.st_bits(0))
            };
            let (a, b) = (F80::from_bits(a_bits), F80::from_bits(b_bits));
            let r = match m {
                Fadd | Faddp | Fiadd => a.add_r(b, round),
                Fsub | Fsubp | Fisub => a.sub_r(b, round),
                Fsubr | Fsubrp | Fisubr => b.sub_r(a, round),
                Fmul | Fmulp | Fimul => a.mul_r(b, round),
                Fdiv | Fdivp | Fidiv => a.div_r(b, round),
                _ => b.div_r(a, round),
            };
            let bits = special_result(&[a_bits, b_bits]).unwrap_or_else(|| x87_nan(r, &[a, b]).to_bits());
            state.x87.set_st_bits(dst, bits);
            if matches!(m, Faddp | Fsubp | Fsubrp | Fmulp | Fdivp | Fdivrp) {
                state.x87.pop();
            }
        }
        Fcom | Fcomp | Fcompp | Fucom | Fucomp | Fucompp | Ftst => {
            let b = if m == Ftst {
                F80::ZERO
            } else if mem {
                load_operand(insn, addr).ok_or(ill)?
            } else if insn.op_count() == 2 {
                state.x87.st(st_index(insn.op1_register()))
            } else {
                state.x87.st(1)
            };
            let cc = condition_codes(compare(state.x87.st(0), b));
            state.x87.set_cc(cc);
            match m {
                Fcomp | Fucomp => state.x87.pop(),
                Fcompp | Fucompp => {
                    state.x87.pop();
                    state.x87.pop();
                }
                _ => {}
            }
        }
        Fcomi | Fcomip | Fucomi | Fucomip => {
            let b = state.x87.st(st_index(insn.op1_register()));
            let r = compare(state.x87.st(0), b);
            set_eflags_compare(state, r);
            if matches!(m, Fcomip | Fucomip) {
                state.x87.pop();
            }
        }
        Fxam => {
            let v = state.x87.st(0);
            let sign = if v.is_negative() { C1 } else { 0 };
            let class = if state.x87.valid & (1 << state.x87.top) == 0 {
                C3 | C0
            } else if unsupported(state.x87.st_bits(0)) {
                0
            } else if v.is_nan() {
                C0
            } else if v.is_infinite() {
                C2 | C0
            } else if v.is_zero() {
                C3
            } else if v.is_denormal() {
                C3 | C2
            } else {
                C2
            };
            state.x87.set_cc(class | sign);
        }
        // Sign changes work on the bits, whatever the encoding.
        Fchs => {
            let bits = state.x87.st_bits(0) ^ (1 << 79);
            state.x87.set_st_bits(0, bits);
        }
        Fabs => {
            let bits = state.x87.st_bits(0) & !(1 << 79);
            state.x87.set_st_bits(0, bits);
        }
        Fsqrt | Frndint => {
            let v = state.x87.st(0);
            let bits = special_result(&[state.x87.st_bits(0)]).unwrap_or_else(|| {
                if m == Fsqrt { sqrt(v, round) } else { v.round_to_integral(round).value }.to_bits()
            });
            state.x87.set_st_bits(0, bits);
        }
        Fscale => {
            let (v, s) = (state.x87.st(0), state.x87.st(1));
            let bits = special_result(&[state.x87.st_bits(0), state.x87.st_bits(1)])
                .unwrap_or_else(|| scale(v, s, round).to_bits());
            state.x87.set_st_bits(0, bits);
        }
        Fprem | Fprem1 => {
            let (a, b) = (state.x87.st(0), state.x87.st(1));
            let r = if m == Fprem { a.c_fmod(b) } else { a.ieee_rem(b) };
            state.x87.set_st(0, x87_nan(r, &[a, b]));
            // The reduction is always complete here: C2 = 0.
            state.x87.set_cc(0);
        }
        Fcmovb | Fcmove | Fcmovbe | Fcmovu | Fcmovnb | Fcmovne | Fcmovnbe | Fcmovnu => {
            let f = state.rflags();
            let (cf, zf, pf) = (f & rflags::CF != 0, f & rflags::ZF != 0, f & rflags::PF != 0);
            let take = match m {
                Fcmovb => cf,
                Fcmove => zf,
                Fcmovbe => cf || zf,
                Fcmovu => pf,
                Fcmovnb => !cf,
                Fcmovne => !zf,
                Fcmovnbe => !cf && !zf,
                _ => !pf,
            };
            if take {
                let bits = state.x87.st_bits(st_index(insn.op1_register()));
                state.x87.set_st_bits(0, bits);
            }
        }
        Fnstcw => write_mem(addr, 2, state.x87.control as u128),
        Fldcw => state.x87.control = read_mem(addr, 2) as u16,
        Fnstsw => {
            let sw = state.x87.status_word();
            if mem {
                write_mem(addr, 2, sw as u128);
            } else {
                state.gpr[0] = (state.gpr[0] & !0xffff) | sw as u64;
            }
        }
        Fnclex => state.x87.status &= !0x80ff,
        Fninit => state.x87 = X87State::default(),
        Ffree => {
            let p = (state.x87.top as usize + st_index(insn.op0_register())) & 7;
            state.x87.valid &= !(1 << p);
        }
        Fincstp => state.x87.top = (state.x87.top + 1) & 7,
        Fdecstp => state.x87.top = (state.x87.top + 7) & 7,
        Wait | Fnop => {}
        _ => return Err(ill),
    }
    Ok(())
}

/// The FPU's built-in constants, held with more precision than 64 bits
/// and rounded per the control word: (rounded down, rounded up, which one
/// round-to-nearest gives).
fn constant(m: Mnemonic, round: Round) -> u128 {
    use Mnemonic::*;
    let (down, up, nearest_is_up): (u128, u128, bool) = match m {
        Fldpi => (0x4000_c90f_daa2_2168_c234, 0x4000_c90f_daa2_2168_c235, true),
        Fldl2e => (0x3fff_b8aa_3b29_5c17_f0bb, 0x3fff_b8aa_3b29_5c17_f0bc, true),
        Fldl2t => (0x4000_d49a_784b_cd1b_8afe, 0x4000_d49a_784b_cd1b_8aff, false),
        Fldlg2 => (0x3ffd_9a20_9a84_fbcf_f798, 0x3ffd_9a20_9a84_fbcf_f799, true),
        _ => (0x3ffe_b172_17f7_d1cf_79ab, 0x3ffe_b172_17f7_d1cf_79ac, true),
    };
    match round {
        Round::TowardPositive => up,
        Round::NearestTiesToEven if nearest_is_up => up,
        _ => down,
    }
}

/// fscale: ST(0) * 2^trunc(ST(1)), with the FPU's NaN and infinity rules.
fn scale(v: F80, s: F80, round: Round) -> F80 {
    let quiet = |x: F80| F80::from_bits(x.to_bits() | (1 << 62));
    if v.is_nan() {
        return quiet(v);
    }
    if s.is_nan() {
        return quiet(s);
    }
    if s.is_infinite() {
        return match (s.is_negative(), v.is_zero(), v.is_infinite()) {
            (false, true, _) | (true, _, true) => indefinite(),
            (false, false, _) => F80::INFINITY.copy_sign(v),
            (true, _, false) => F80::ZERO.copy_sign(v),
        };
    }
    let mut exact = false;
    // Beyond +-2^16 every finite result has already over- or underflowed.
    let n = s.to_i128_r(64, Round::TowardZero, &mut exact).value.clamp(-(1 << 16), 1 << 16);
    v.scalbn_r(n as _, round)
}

/// Correctly rounded square root, by integer square root of the
/// significand: `value = N * 2^k` with k even, then `isqrt` of N scaled so
/// the root has exactly 64 bits, with the remainder deciding the rounding.
fn sqrt(v: F80, round: Round) -> F80 {
    if v.is_nan() || v.is_zero() || v.is_pos_infinity() {
        return v;
    }
    if v.is_negative() {
        return indefinite();
    }
    let bits = v.to_bits();
    let mut m = bits as u64;
    let biased = ((bits >> 64) & 0x7fff) as i64;
    // value = m * 2^k; denormals have exponent 1 - bias and no integer bit.
    let mut k = biased.max(1) - 16383 - 63;
    let shift = m.leading_zeros() as i64;
    m <<= shift;
    k -= shift;
    let mut n = m as u128;
    if k % 2 != 0 {
        n <<= 1;
        k -= 1;
    }
    // A radicand whose root has exactly 64 bits.
    let (radicand, scale) = if n < 1 << 64 { (n << 64, 32) } else { (n << 62, 31) };
    let mut q = radicand.isqrt();
    let remainder = radicand - q * q;
    let up = match round {
        Round::NearestTiesToEven => remainder > q,
        Round::TowardPositive => remainder != 0,
        _ => false,
    };
    let mut e = k / 2 - scale;
    if up {
        q += 1;
        if q == 1 << 64 {
            q >>= 1;
            e += 1;
        }
    }
    // value = q * 2^e with q's top bit at 63: the 80-bit exponent is e + 63.
    let exponent = (e + 63 + 16383) as u128;
    F80::from_bits(exponent << 64 | q)
}

/// fxsave: the 512-byte legacy FXSAVE image (x87 state, MXCSR, XMM0-15).
pub fn fxsave(state: &CpuState, addr: u64) {
    write_mem_bytes(addr, &fxsave_image(state));
}

/// The FXSAVE image of `state` (also the fpstate of x86_64 signal frames).
pub fn fxsave_image(state: &CpuState) -> [u8; 512] {
    let x = &state.x87;
    let mut img = [0u8; 512];
    img[0..2].copy_from_slice(&x.control.to_le_bytes());
    img[2..4].copy_from_slice(&x.status_word().to_le_bytes());
    // Abridged tag word: one bit per physical register, 1 = valid.
    img[4] = x.valid;
    img[24..28].copy_from_slice(&(state.mxcsr as u32).to_le_bytes());
    img[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
    for i in 0..8 {
        let v = x.regs[(x.top as usize + i) & 7];
        img[32 + 16 * i..42 + 16 * i].copy_from_slice(&v.to_le_bytes()[..10]);
    }
    for (i, xmm) in state.xmm.iter().enumerate() {
        img[160 + 16 * i..176 + 16 * i].copy_from_slice(&xmm.to_le_bytes());
    }
    img
}

/// fxrstor: loads what fxsave stored.
pub fn fxrstor(state: &mut CpuState, addr: u64) {
    let mut img = [0u8; 512];
    // SAFETY: see `read_mem`.
    unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, img.as_mut_ptr(), 512) };
    load_fxsave_image(state, &img);
}

/// Loads an FXSAVE image into `state` (fxrstor, rt_sigreturn).
pub fn load_fxsave_image(state: &mut CpuState, img: &[u8; 512]) {
    let word = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]);
    let x = &mut state.x87;
    x.control = word(0);
    let sw = word(2);
    x.top = ((sw >> 11) & 7) as u8;
    x.status = sw & !(7 << 11);
    x.valid = img[4];
    for i in 0..8 {
        let mut b = [0u8; 16];
        b[..10].copy_from_slice(&img[32 + 16 * i..42 + 16 * i]);
        x.regs[(x.top as usize + i) & 7] = u128::from_le_bytes(b);
    }
    state.mxcsr = u32::from_le_bytes([img[24], img[25], img[26], img[27]]) as u64;
    crate::host::set_rounding_from_mxcsr(state.mxcsr);
    for i in 0..16 {
        let mut b = [0u8; 16];
        b.copy_from_slice(&img[160 + 16 * i..176 + 16 * i]);
        state.xmm[i] = u128::from_le_bytes(b);
    }
}

fn write_mem_bytes(addr: u64, bytes: &[u8]) {
    // SAFETY: see `read_mem`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_root_is_correctly_rounded() {
        let two = F80::from_i128(2).value;
        assert_eq!(sqrt(two, Round::NearestTiesToEven).to_bits(), 0x3fff_b504_f333_f9de_6484);
        assert_eq!(sqrt(two, Round::TowardPositive).to_bits(), 0x3fff_b504_f333_f9de_6485);
        let four = F80::from_i128(4).value;
        assert_eq!(sqrt(four, Round::NearestTiesToEven).to_bits(), F80::from_i128(2).value.to_bits());
        // The smallest denormal, 2^-16445: its root is 2^-8222.5.
        let tiny = F80::from_bits(1);
        let r = sqrt(tiny, Round::TowardZero).to_bits();
        assert_eq!(r >> 64, (16383 - 8223) as u128);
    }
}
