//! The x87 FPU, interpreted with exact 80-bit arithmetic (rustc_apfloat's
//! X87DoubleExtended; astro-float for the transcendental functions). x87
//! code is rare in x86_64 programs (long double, fenv, musl's printf), so
//! every x87 instruction leaves translated code and runs here; `is_x87`
//! lists what is implemented.
//!
//! Modelled: the stack with its tags and stack faults, every exception
//! flag with the masked responses, C0-C3, unmasked exceptions (the
//! destination and stack stay for IE/DE/ZE, and the next waiting x87
//! instruction raises #MF: SIGFPE), FIP and the environment images.
//! Precision control (24/53/64-bit significands) applies to fadd, fsub,
//! fmul, fdiv and fsqrt, as on the hardware; an unmasked overflow or
//! underflow in those delivers the exponent-adjusted result. Partly
//! modelled: the other responses to unmasked exceptions (stores, loads
//! and the transcendentals deliver the masked response; the difftest
//! still finds sequences with unmasked exceptions that differ, so it does
//! not load random control words).
//!
//! Files: `value` (encodings, rounding), `status` (flags), `formats`
//! (memory operands), `exact` (fsqrt, fscale, fxtract, frndint, fprem),
//! `transcendental`, `bcd`, `env` (fnstenv, fnsave, fxsave images).

mod bcd;
pub(crate) mod env;
mod exact;
mod formats;
mod status;
mod transcendental;
mod value;

use crate::cpu::state::{rflags, CpuState, X87State};
use crate::exit::GuestEvent;
use formats::{read_bytes, read_mem, write_bytes};
use iced_x86::{Instruction, MemorySize, Mnemonic, OpKind};
use rustc_apfloat::ieee::X87DoubleExtended as F80;
use rustc_apfloat::{Float, Round, StatusAnd};
use status::*;
use transcendental::{Outcome, Trig};
use value::INDEFINITE;

/// The x87 instructions `step` implements.
pub fn is_x87(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Fld | Fild
            | Fbld
            | Fldz
            | Fld1
            | Fldpi
            | Fldl2e
            | Fldl2t
            | Fldlg2
            | Fldln2
            | Fst
            | Fstp
            | Fstpnce
            | Fist
            | Fistp
            | Fisttp
            | Fbstp
            | Fxch
            | Fadd
            | Faddp
            | Fiadd
            | Fsub
            | Fsubp
            | Fisub
            | Fsubr
            | Fsubrp
            | Fisubr
            | Fmul
            | Fmulp
            | Fimul
            | Fdiv
            | Fdivp
            | Fidiv
            | Fdivr
            | Fdivrp
            | Fidivr
            | Fcom
            | Fcomp
            | Fcompp
            | Ficom
            | Ficomp
            | Fucom
            | Fucomp
            | Fucompp
            | Fcomi
            | Fcomip
            | Fucomi
            | Fucomip
            | Ftst
            | Fxam
            | Fchs
            | Fabs
            | Fsqrt
            | Frndint
            | Fscale
            | Fxtract
            | Fprem
            | Fprem1
            | Fsin
            | Fcos
            | Fsincos
            | Fptan
            | Fpatan
            | F2xm1
            | Fyl2x
            | Fyl2xp1
            | Fnstcw
            | Fstcw
            | Fldcw
            | Fnstsw
            | Fstsw
            | Fnclex
            | Fclex
            | Fninit
            | Finit
            | Fnstenv
            | Fstenv
            | Fldenv
            | Fnsave
            | Fsave
            | Frstor
            | Wait
            | Ffree
            | Ffreep
            | Fincstp
            | Fdecstp
            | Fnop
            | Fneni
            | Feni
            | Fndisi
            | Fdisi
            | Fnsetpm
            | Fsetpm
            | Fcmovb
            | Fcmove
            | Fcmovbe
            | Fcmovu
            | Fcmovnb
            | Fcmovne
            | Fcmovnbe
            | Fcmovnu
    )
}

/// Instructions that do not first check for a pending unmasked exception
/// (SDM vol. 1 8.3.11, the "no-wait" forms).
fn no_wait(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(m, Fninit | Fnclex | Fnstcw | Fnstsw | Fnstenv | Fnsave | Fneni | Fndisi | Fnsetpm)
}

/// Control instructions leave FIP, FDP and FOP alone (SDM vol. 1 8.1.8).
/// fincstp, fdecstp, ffree and fnop, though listed as control
/// instructions in 5.2.4, do set FIP on an Intel Xeon.
fn is_control(m: Mnemonic) -> bool {
    use Mnemonic::*;
    no_wait(m)
        || matches!(
            m,
            Finit | Fclex | Fstcw | Fldcw | Fstsw | Fstenv | Fldenv | Fsave | Frstor | Wait | Feni | Fdisi | Fsetpm
        )
}

fn is_comparison(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Fcom | Fcomp | Fcompp | Fucom | Fucomp | Fucompp | Ficom | Ficomp | Ftst | Fcomi | Fcomip | Fucomi | Fucomip
    )
}

fn round_mode(control: u16) -> Round {
    match (control >> 10) & 3 {
        0 => Round::NearestTiesToEven,
        1 => Round::TowardNegative,
        2 => Round::TowardPositive,
        _ => Round::TowardZero,
    }
}

impl X87State {
    fn phys(&self, i: usize) -> usize {
        (self.top as usize + i) & 7
    }
    fn st_bits(&self, i: usize) -> u128 {
        self.regs[self.phys(i)]
    }
    fn is_empty(&self, i: usize) -> bool {
        self.valid & (1 << self.phys(i)) == 0
    }
    fn set_st_bits(&mut self, i: usize, bits: u128) {
        let p = self.phys(i);
        self.regs[p] = bits;
        self.valid |= 1 << p;
    }
    fn pop(&mut self) {
        self.valid &= !(1 << self.top);
        self.top = (self.top + 1) & 7;
    }
    /// Status word as fnstsw stores it (TOP in bits 11..13).
    pub fn status_word(&self) -> u16 {
        (self.status & !(7 << 11)) | ((self.top as u16) << 11)
    }
}

/// One instruction's execution: works on a copy of the FPU, collects the
/// exceptions it raises and its memory store, and commits them at the end
/// unless an unmasked pre-computation exception forbids it.
struct Exec {
    x: X87State,
    raised: u16,
    /// New values of C0, C2, C3 (those in `cond_mask`) and of C1.
    cond: u16,
    cond_mask: u16,
    store: Option<(u64, Vec<u8>)>,
    round: Round,
}

impl Exec {
    fn raise(&mut self, flags: u16) {
        self.raised |= flags;
    }
    fn set_c1(&mut self, on: bool) {
        self.cond_mask |= C1;
        self.cond = (self.cond & !C1) | if on { C1 } else { 0 };
    }
    fn set_codes(&mut self, codes: u16, mask: u16) {
        self.cond_mask |= mask;
        self.cond = (self.cond & !mask) | (codes & mask);
    }
    /// ST(i), or None after a stack underflow (IE, SF, C1 = 0).
    fn read(&mut self, i: usize) -> Option<u128> {
        if self.x.is_empty(i) {
            self.raise(IE | SF);
            self.set_c1(false);
            return None;
        }
        Some(self.x.st_bits(i))
    }
    /// Pushes `bits`; on a full stack, a stack overflow (IE, SF, C1 = 1)
    /// whose masked response pushes the indefinite.
    fn push(&mut self, bits: u128) {
        let below = (self.x.top as usize + 7) & 7;
        let bits = if self.x.valid & (1 << below) != 0 {
            self.raise(IE | SF);
            self.set_c1(true);
            INDEFINITE
        } else {
            bits
        };
        self.x.top = below as u8;
        self.x.regs[below] = bits;
        self.x.valid |= 1 << below;
    }
    /// Pushes the indefinite of a stack underflow's masked response: the
    /// underflow is the one fault reported (C1 = 0), even on a full stack.
    fn push_after_underflow(&mut self) {
        self.x.top = (self.x.top + 7) & 7;
        self.x.set_st_bits(0, INDEFINITE);
    }
    /// Writes an outcome to ST(i) with its flags and C1.
    fn result(&mut self, i: usize, o: Outcome) {
        self.x.set_st_bits(i, o.bits);
        self.raise(o.flags);
        self.set_c1(o.up);
    }
    fn write(&mut self, addr: u64, size: usize, v: u128) {
        self.store = Some((addr, v.to_le_bytes()[..size].to_vec()));
    }
}

/// #MF: SIGFPE when an unmasked exception is pending, checked by every
/// x87 instruction but the no-wait ones, and by MMX instructions.
pub fn pending_exception(state: &CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    if !no_wait(insn.mnemonic()) && state.x87.status & ES != 0 {
        return Err(GuestEvent::Fault { signal: libc::SIGFPE, addr: insn.ip() });
    }
    Ok(())
}

/// Executes x87 instruction `insn`; `addr` is its memory operand's address.
pub fn step(state: &mut CpuState, insn: &Instruction, addr: u64) -> Result<(), GuestEvent> {
    let m = insn.mnemonic();
    pending_exception(state, insn)?;
    let ill = GuestEvent::Fault { signal: libc::SIGILL, addr: insn.ip() };
    let mut e = Exec {
        x: state.x87.clone(),
        raised: 0,
        cond: 0,
        cond_mask: 0,
        store: None,
        round: round_mode(state.x87.control),
    };
    let mut out = Outside::default();
    execute(&mut e, state, insn, addr, &mut out).ok_or(ill)?;
    // Exception priority (SDM vol. 1 8.7): a stack fault hides every
    // other exception, an invalid operation or division by zero hides the
    // denormal operand.
    if e.raised & SF != 0 {
        e.raised &= IE | SF;
    } else if e.raised & (IE | ZE) != 0 {
        e.raised &= !DE;
    }
    let control = state.x87.control;
    let stopped = unmasked(e.raised & PRE_COMPUTATION, control) != 0;
    let old_status = state.x87.status;
    if stopped {
        // The destination and TOP stay; only the flags change (SDM vol. 1
        // 8.5.1): nothing is computed, so no result flags and no C1 but a
        // stack fault's.
        e.raised &= PRE_COMPUTATION | SF;
        // Comparisons still report (unordered: seen on an Intel Xeon).
        if !is_comparison(m) {
            e.cond_mask = if e.raised & SF != 0 { e.cond_mask & C1 } else { 0 };
        }
        e.x.regs = state.x87.regs;
        e.x.valid = state.x87.valid;
        e.x.top = state.x87.top;
        e.store = None;
    }
    let mut x = e.x;
    if !is_control(m) {
        x.last_ip = insn.ip();
        if unmasked(e.raised, x.control) != 0 {
            x.last_opcode = opcode(insn);
            x.last_data = if insn.op_count() > 0 && insn.op0_kind() == OpKind::Memory { addr } else { 0 };
        }
    }
    // Status: the instruction's own changes to x.status (control
    // instructions) plus the flags raised and the condition codes.
    let status = if x.status != old_status { x.status } else { old_status };
    let status = (status | e.raised) & !e.cond_mask | (e.cond & e.cond_mask);
    x.status = with_summary(status, x.control);
    if let Some((a, bytes)) = e.store.take() {
        write_bytes(a, &bytes);
    }
    state.x87 = x;
    if !stopped || is_comparison(m) {
        if let Some(f) = out.rflags {
            state.set_rflags(f);
        }
    }
    if let Some(sw) = out.ax {
        state.gpr[0] = (state.gpr[0] & !0xffff) | sw as u64;
    }
    Ok(())
}

/// The state after fninit: the registers keep their contents (now empty).
fn initialized(x: &X87State) -> X87State {
    X87State { regs: x.regs, ..X87State::default() }
}

/// FOP: the low three bits of the first opcode byte, then the ModRM byte.
fn opcode(insn: &Instruction) -> u16 {
    let mut enc = iced_x86::Encoder::new(64);
    if enc.encode(insn, insn.ip()).is_err() {
        return 0;
    }
    let bytes = enc.take_buffer();
    let Some(i) = bytes.iter().position(|b| (0xd8..=0xdf).contains(b)) else {
        return 0;
    };
    ((bytes[i] as u16 & 7) << 8) | bytes.get(i + 1).copied().unwrap_or(0) as u16
}

fn st_operand(insn: &Instruction, n: u32) -> usize {
    insn.op_register(n).number()
}

fn is_mem(insn: &Instruction) -> bool {
    insn.op_count() > 0 && insn.op0_kind() == OpKind::Memory
}

/// The instruction's effect on `e` (None: an unhandled form, SIGILL).
/// What an x87 instruction changes outside the FPU.
#[derive(Default)]
struct Outside {
    /// fcomi and friends: the new RFLAGS.
    rflags: Option<u64>,
    /// fnstsw ax: the new AX.
    ax: Option<u16>,
}

fn execute(e: &mut Exec, state: &CpuState, insn: &Instruction, addr: u64, out: &mut Outside) -> Option<()> {
    use Mnemonic::*;
    let m = insn.mnemonic();
    let mem = is_mem(insn);
    let round = e.round;
    match m {
        Fld | Fild | Fbld => {
            e.set_c1(false);
            let bits = if mem {
                Some(if m == Fbld {
                    bcd::load(read_mem(addr, 10))
                } else {
                    let l = formats::load(insn.memory_size(), addr)?;
                    // A signalling NaN from a 32/64-bit format is delivered
                    // quieted, with IE; 80-bit loads copy the bits as they are.
                    let snan = insn.memory_size() != MemorySize::Float80 && value::is_snan(l.bits);
                    e.raise(l.flags | if snan { IE } else { 0 });
                    if snan {
                        value::quiet(l.bits)
                    } else {
                        l.bits
                    }
                })
            } else {
                e.read(st_operand(insn, 0))
            };
            match bits {
                Some(bits) => e.push(bits),
                // An empty source register is the one fault reported, even
                // on a full stack (seen on an Intel Xeon: C1 = 0).
                None => e.push_after_underflow(),
            }
        }
        Fldz | Fld1 | Fldpi | Fldl2e | Fldl2t | Fldlg2 | Fldln2 => {
            e.set_c1(false);
            let bits = match m {
                Fldz => 0,
                Fld1 => 0x3fff_8000_0000_0000_0000,
                _ => constant(m, round),
            };
            e.push(bits);
        }
        Fst | Fstp | Fstpnce | Fist | Fistp | Fisttp | Fbstp => {
            e.set_c1(false);
            let round = if m == Fisttp { Round::TowardZero } else { round };
            if m == Fstpnce {
                // The undocumented D9 D8+i: fstp st(i) that checks nothing.
                // An empty ST(0) raises no stack fault and leaves ST(i) as it
                // was, tag and bits (seen on an Intel Xeon); then the pop.
                if !e.x.is_empty(0) {
                    let bits = e.x.st_bits(0);
                    e.x.set_st_bits(st_operand(insn, 0), bits);
                }
            } else if mem {
                let size = if m == Fbstp { MemorySize::Bcd } else { insn.memory_size() };
                let (len, format_indefinite) = formats::indefinite(size)?;
                let o = match e.read(0) {
                    Some(v) if m == Fbstp => bcd::store(v, round),
                    Some(v) => formats::store(size, v, round)?,
                    None => Outcome { bits: format_indefinite, flags: 0, up: false },
                };
                e.raise(o.flags);
                e.set_c1(o.up && e.raised & SF == 0);
                e.write(addr, len, o.bits);
            } else {
                let v = e.read(0).unwrap_or(INDEFINITE);
                e.x.set_st_bits(st_operand(insn, 0), v);
            }
            if matches!(m, Fstp | Fstpnce | Fistp | Fisttp | Fbstp) {
                e.x.pop();
            }
        }
        Fxch => {
            e.set_c1(false);
            let i = if insn.op_count() > 1 { st_operand(insn, 1) } else { 1 };
            let a = e.read(0).unwrap_or(INDEFINITE);
            let b = e.read(i).unwrap_or(INDEFINITE);
            e.x.set_st_bits(0, b);
            e.x.set_st_bits(i, a);
        }
        Fadd | Faddp | Fiadd | Fsub | Fsubp | Fisub | Fsubr | Fsubrp | Fisubr | Fmul | Fmulp | Fimul | Fdiv | Fdivp
        | Fidiv | Fdivr | Fdivrp | Fidivr => {
            let (dst, a, b) = if mem {
                let l = formats::load(insn.memory_size(), addr)?;
                let a = e.read(0);
                // A NaN operand outranks the denormal one (SDM vol. 1 8.7).
                if !a.is_some_and(value::is_nan) {
                    e.raise(l.flags);
                }
                (0, a, Some(l.bits))
            } else if insn.op_count() == 2 {
                let d = st_operand(insn, 0);
                (d, e.read(d), e.read(st_operand(insn, 1)))
            } else {
                (1, e.read(1), e.read(0))
            };
            let o = match (a, b) {
                (Some(a), Some(b)) => arithmetic(m, a, b, round, e.x.control),
                _ => Outcome { bits: INDEFINITE, flags: 0, up: false },
            };
            e.x.set_st_bits(dst, o.bits);
            e.raise(o.flags);
            if e.raised & SF == 0 {
                e.set_c1(o.up);
            }
            if matches!(m, Faddp | Fsubp | Fsubrp | Fmulp | Fdivp | Fdivrp) {
                e.x.pop();
            }
        }
        Fcom | Fcomp | Fcompp | Fucom | Fucomp | Fucompp | Ficom | Ficomp | Ftst | Fcomi | Fcomip | Fucomi
        | Fucomip => {
            // fcomi and friends leave C1 alone unless the stack underflows.
            if !matches!(m, Fcomi | Fcomip | Fucomi | Fucomip) {
                e.set_c1(false);
            }
            let a = e.read(0);
            let b = if m == Ftst {
                Some(0)
            } else if mem {
                let l = formats::load(insn.memory_size(), addr)?;
                if !a.is_some_and(value::is_nan) {
                    e.raise(l.flags);
                }
                Some(l.bits)
            } else if insn.op_count() == 2 {
                e.read(st_operand(insn, 1))
            } else {
                e.read(1)
            };
            let codes = match (a, b) {
                (Some(a), Some(b)) => {
                    let ordered = !matches!(m, Fucom | Fucomp | Fucompp | Fucomi | Fucomip);
                    let nan = value::is_nan(a) || value::is_nan(b);
                    if value::invalid_operand(&[a, b]) || (ordered && nan) {
                        e.raise(IE);
                    }
                    if !nan && (value::is_denormal(a) || value::is_denormal(b)) {
                        e.raise(DE);
                    }
                    if value::unsupported(a) || value::unsupported(b) {
                        C3 | C2 | C0
                    } else {
                        value::compare_codes(F80::from_bits(a).partial_cmp(&F80::from_bits(b)))
                    }
                }
                _ => C3 | C2 | C0,
            };
            if matches!(m, Fcomi | Fcomip | Fucomi | Fucomip) {
                // ZF, PF, CF = C3, C2, C0; OF, SF, AF cleared.
                let mut f =
                    state.rflags() & !(rflags::CF | rflags::PF | rflags::AF | rflags::ZF | rflags::SF | rflags::OF);
                for (c, flag) in [(C3, rflags::ZF), (C2, rflags::PF), (C0, rflags::CF)] {
                    if codes & c != 0 {
                        f |= flag;
                    }
                }
                out.rflags = Some(f);
            } else {
                e.set_codes(codes, C0 | C2 | C3);
            }
            let pops = match m {
                Fcomp | Fucomp | Ficomp | Fcomip | Fucomip => 1,
                Fcompp | Fucompp => 2,
                _ => 0,
            };
            for _ in 0..pops {
                e.x.pop();
            }
        }
        Fxam => {
            let codes = value::examine(e.x.st_bits(0), e.x.is_empty(0));
            e.set_codes(codes, C0 | C1 | C2 | C3);
        }
        // Sign changes work on the bits, whatever the encoding.
        Fchs | Fabs => {
            e.set_c1(false);
            if let Some(v) = e.read(0) {
                e.x.set_st_bits(0, if m == Fchs { v ^ value::SIGN } else { v & !value::SIGN });
            } else {
                e.x.set_st_bits(0, INDEFINITE);
            }
        }
        Fsqrt | Frndint | Fsin | Fcos | F2xm1 => {
            let Some(v) = e.read(0) else {
                e.x.set_st_bits(0, INDEFINITE);
                if matches!(m, Fsin | Fcos) {
                    e.set_codes(0, C2);
                }
                return Some(());
            };
            let o = match m {
                Fsqrt => exact::sqrt(v, round, precision(e.x.control)),
                Frndint => exact::round_to_integer(v, round),
                F2xm1 => transcendental::exp2m1(v, round),
                _ => {
                    let f = if m == Fsin { Trig::Sin } else { Trig::Cos };
                    let Some(o) = transcendental::trig(f, v, round) else {
                        // Out of range: C2 = 1, the operand stays.
                        e.set_codes(C2, C2);
                        return Some(());
                    };
                    e.set_codes(0, C2);
                    o
                }
            };
            e.result(0, o);
        }
        Fsincos | Fptan => {
            let Some(v) = e.read(0) else {
                e.x.set_st_bits(0, INDEFINITE);
                e.set_codes(0, C2);
                e.push_after_underflow();
                return Some(());
            };
            if !e.x.is_empty(7) {
                // Stack overflow: the masked response leaves the indefinite
                // in ST(0) and pushes another.
                e.x.set_st_bits(0, INDEFINITE);
                e.set_codes(0, C2);
                e.push(INDEFINITE);
                return Some(());
            }
            let first = transcendental::trig(if m == Fsincos { Trig::Sin } else { Trig::Tan }, v, round);
            let Some(first) = first else {
                e.set_codes(C2, C2);
                return Some(());
            };
            e.set_codes(0, C2);
            let second = if m == Fptan || value::is_nan(first.bits) {
                // fptan pushes 1.0; a NaN operand gives the NaN twice.
                Outcome {
                    bits: if m == Fptan && !value::is_nan(first.bits) {
                        0x3fff_8000_0000_0000_0000
                    } else {
                        first.bits
                    },
                    flags: 0,
                    up: false,
                }
            } else {
                transcendental::trig(Trig::Cos, v, round)?
            };
            e.result(0, first);
            let up = first.up || second.up;
            e.push(second.bits);
            e.raise(second.flags);
            e.set_c1(up);
        }
        Fpatan | Fyl2x | Fyl2xp1 | Fscale | Fprem | Fprem1 => {
            let (a, b) = (e.read(0), e.read(1));
            let (Some(a), Some(b)) = (a, b) else {
                if matches!(m, Fprem | Fprem1) {
                    // C0 and C3 stay, C2 clears (seen on an Intel Xeon).
                    e.set_codes(0, C2);
                }
                let dst = if matches!(m, Fscale | Fprem | Fprem1) { 0 } else { 1 };
                e.x.set_st_bits(dst, INDEFINITE);
                if dst == 1 {
                    e.x.pop();
                }
                return Some(());
            };
            match m {
                Fpatan => e.result(1, transcendental::atan2(b, a, round)),
                Fyl2x => e.result(1, transcendental::y_log2(b, a, false, round)),
                Fyl2xp1 => e.result(1, transcendental::y_log2(b, a, true, round)),
                Fscale => e.result(0, exact::scale(a, b, round)),
                _ => {
                    let (o, codes) = exact::remainder(a, b, m == Fprem1);
                    e.x.set_st_bits(0, o.bits);
                    e.raise(o.flags);
                    // No quotient for an invalid operand or a NaN: the
                    // condition codes stay (seen on an Intel Xeon).
                    if o.flags & IE == 0 && !value::is_nan(o.bits) {
                        e.set_codes(codes, C0 | C1 | C2 | C3);
                    } else {
                        e.set_codes(0, C1 | C2);
                    }
                }
            }
            if matches!(m, Fpatan | Fyl2x | Fyl2xp1) {
                e.x.pop();
            }
        }
        Fxtract => {
            let Some(v) = e.read(0) else {
                e.x.set_st_bits(0, INDEFINITE);
                e.push_after_underflow();
                return Some(());
            };
            if !e.x.is_empty(7) {
                // Stack overflow: indefinite in ST(0), and another pushed.
                e.x.set_st_bits(0, INDEFINITE);
                e.push(INDEFINITE);
                return Some(());
            }
            let (exponent, significand) = exact::extract(v);
            e.set_c1(false);
            e.x.set_st_bits(0, exponent.bits);
            e.raise(exponent.flags);
            e.push(significand.bits);
        }
        Fcmovb | Fcmove | Fcmovbe | Fcmovu | Fcmovnb | Fcmovne | Fcmovnbe | Fcmovnu => {
            // C1 changes only on a stack underflow (SDM vol. 2 FCMOVcc).
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
            let (a, b) = (e.read(0), e.read(st_operand(insn, 1)));
            match (a, b) {
                (Some(_), Some(b)) if take => e.x.set_st_bits(0, b),
                (Some(_), Some(_)) => {}
                _ => e.x.set_st_bits(0, INDEFINITE),
            }
        }
        Fnstcw | Fstcw => e.write(addr, 2, e.x.control as u128),
        Fldcw => e.x.control = control_word(read_mem(addr, 2) as u16),
        Fnstsw | Fstsw => {
            let sw = e.x.status_word();
            if mem {
                e.write(addr, 2, sw as u128);
            } else {
                out.ax = Some(sw);
            }
        }
        Fnclex | Fclex => e.x.status &= !(EXCEPTIONS | SF | ES | B),
        Fninit | Finit => e.x = initialized(&e.x),
        Fnstenv | Fstenv => {
            let wide = insn.memory_size() == MemorySize::FpuEnv28;
            e.store = Some((addr, env::store_environment(&e.x, wide)));
            // Then every exception is masked (SDM vol. 2 FSTENV).
            e.x.control |= EXCEPTIONS;
        }
        Fldenv => {
            let wide = insn.memory_size() == MemorySize::FpuEnv28;
            let img = read_bytes(addr, if wide { 28 } else { 14 });
            env::load_environment(&mut e.x, &img, wide);
        }
        Fnsave | Fsave => {
            let wide = insn.memory_size() == MemorySize::FpuState108;
            e.store = Some((addr, env::store_state(&e.x, wide)));
            e.x = initialized(&e.x);
        }
        Frstor => {
            let wide = insn.memory_size() == MemorySize::FpuState108;
            let img = read_bytes(addr, if wide { 108 } else { 94 });
            env::load_state(&mut e.x, &img, wide);
        }
        Ffree | Ffreep => {
            // The SDM leaves C0-C3 undefined; an Intel Xeon clears C1 and
            // keeps the others (fnsave and fnstenv store them).
            e.set_c1(false);
            let p = e.x.phys(st_operand(insn, 0));
            e.x.valid &= !(1 << p);
            if m == Ffreep {
                e.x.pop();
            }
        }
        Fincstp | Fdecstp => {
            e.set_c1(false);
            e.x.top = if m == Fincstp { (e.x.top + 1) & 7 } else { (e.x.top + 7) & 7 };
        }
        // feni/fdisi (8087) and fsetpm (287) do nothing on a 387 or later.
        Wait | Fnop | Fneni | Feni | Fndisi | Fdisi | Fnsetpm | Fsetpm => {}
        _ => return None,
    }
    Some(())
}

/// The significand width precision control selects (control bits 8-9:
/// 00 24 bits, 10 53 bits, 11 64 bits; 01 is reserved, taken as 64).
fn precision(control: u16) -> i64 {
    match (control >> 8) & 3 {
        0 => 24,
        2 => 53,
        _ => 64,
    }
}

/// add, sub, mul, div and their reversed forms on two register values,
/// rounded to `precision` bits.
fn arithmetic(m: Mnemonic, a: u128, b: u128, round: Round, control: u16) -> Outcome {
    let o = masked_arithmetic(m, a, b, round, precision(control));
    // Unmasked overflow or underflow: the result with its exponent moved
    // by 24576 back into range (SDM vol. 1 8.5.4, 8.5.5).
    let (fa, fb) = (F80::from_bits(a), F80::from_bits(b));
    let finite =
        fa.is_finite() && fb.is_finite() && !value::is_nan(o.bits) && !value::unsupported(a) && !value::unsupported(b);
    if finite && o.flags & OE != 0 && unmasked(OE, control) != 0 {
        let r = reduced_precision(m, fa, fb, round, precision(control), -24576).outcome;
        return Outcome { flags: r.flags & !UE | OE | (o.flags & DE), ..r };
    }
    if finite && unmasked(UE, control) != 0 && o.flags & (IE | ZE) == 0 {
        let r = reduced_precision(m, fa, fb, round, precision(control), 24576);
        if r.tiny {
            // Tiny: underflow whether or not the result is exact.
            return Outcome {
                bits: r.outcome.bits,
                flags: r.outcome.flags & !OE | UE | (o.flags & DE),
                up: r.outcome.up,
            };
        }
    }
    o
}

/// The operation of an x87 add/sub/subr/mul/div/divr form on `a` (ST(0)
/// or the destination) and `b`, at whatever width `F` is.
fn apply<F: Float>(m: Mnemonic, a: F, b: F, round: Round) -> StatusAnd<F> {
    use Mnemonic::*;
    match m {
        Fadd | Faddp | Fiadd => a.add_r(b, round),
        Fsub | Fsubp | Fisub => a.sub_r(b, round),
        Fsubr | Fsubrp | Fisubr => b.sub_r(a, round),
        Fmul | Fmulp | Fimul => a.mul_r(b, round),
        Fdiv | Fdivp | Fidiv => a.div_r(b, round),
        _ => b.div_r(a, round),
    }
}

/// `arithmetic` with overflow and underflow masked.
fn masked_arithmetic(m: Mnemonic, a: u128, b: u128, round: Round, precision: i64) -> Outcome {
    let de = if value::is_denormal(a) || value::is_denormal(b) { DE } else { 0 };
    if let Some(r) = value::special_result(&[a, b]) {
        // A NaN operand outranks a denormal one.
        let flags = if value::invalid_operand(&[a, b]) { IE } else { 0 };
        return Outcome { bits: r, flags, up: false };
    }
    let (fa, fb) = (F80::from_bits(a), F80::from_bits(b));
    let op = |round: Round| -> StatusAnd<F80> { apply(m, fa, fb, round) };
    let r = op(round);
    if precision < 64 && r.value.is_finite() && !r.value.is_zero() && !r.value.is_nan() {
        return reduced_precision(m, fa, fb, round, precision, 0).outcome.with_flags(de);
    }
    let mut flags = from_apfloat(r.status);
    // rustc_apfloat does not always report an overflow that rounds to the
    // largest finite value (toward zero); rounding to nearest shows it
    // (up to the half-ulp window just above that value).
    if r.value.is_finite()
        && flags & PE != 0
        && r.value.abs() == F80::largest()
        && op(Round::NearestTiesToEven).value.is_infinite()
    {
        flags |= OE;
    }
    let up = flags & PE != 0 && value::rounded_up(r.value, op(Round::TowardZero).value);
    // An invalid operation's NaN is the indefinite; ZE's infinity is exact.
    Outcome { bits: value::x87_nan(r.value), flags: flags | de, up }
}

/// An operation under 24- or 53-bit precision control: computed in IEEE
/// quad precision truncated (113 bits: exact for add and sub of 64-bit
/// operands within 49 binades, otherwise with a sticky bit, which is all
/// a rounding to 53 bits needs), then rounded once to `precision` bits
/// with the 80-bit exponent range.
fn reduced_precision(m: Mnemonic, a: F80, b: F80, round: Round, precision: i64, adjust: i64) -> Wide {
    use rustc_apfloat::ieee::Quad;
    use rustc_apfloat::FloatConvert;
    use Mnemonic::*;
    let (ba, bb) = (a.to_bits(), b.to_bits());
    let finite_nonzero = |x: u128| !value::is_zero(x) && a.is_finite() && b.is_finite();
    if matches!(m, Fmul | Fmulp | Fimul | Fdiv | Fdivp | Fidiv | Fdivr | Fdivrp | Fidivr)
        && finite_nonzero(ba)
        && finite_nonzero(bb)
    {
        // Exactly in integers: a 128-bit product, or a quotient of 64 or
        // more bits with the remainder as sticky bit (quad's exponent
        // range is too small for the exponent-adjusted results).
        let normalized = |x: u128| {
            let (negative, m, lsb) = value::parts(x);
            let z = m.leading_zeros() as i64;
            (negative, (m as u128) << z, lsb - z)
        };
        let (na, ma, la) = normalized(ba);
        let (nb, mb, lb) = normalized(bb);
        let (n, lsb, sticky) = match m {
            Fmul | Fmulp | Fimul => (ma * mb, la + lb, false),
            Fdiv | Fdivp | Fidiv => ((ma << 64) / mb, la - lb - 64, (ma << 64) % mb != 0),
            _ => ((mb << 64) / ma, lb - la - 64, (mb << 64) % ma != 0),
        };
        let tiny = lsb + (127 - n.leading_zeros() as i64) < 1 - value::BIAS;
        let o = value::round_to_precision(na != nb, n, lsb + adjust, sticky, round, precision);
        return Wide { outcome: Outcome { bits: o.bits, flags: o.flags, up: o.up }, tiny };
    }
    let mut loses = false;
    let (qa, qb): (Quad, Quad) = (a.convert(&mut loses).value, b.convert(&mut loses).value);
    let z = Round::TowardZero;
    let r = apply(m, qa, qb, z);
    let bits = r.value.to_bits();
    let (negative, exponent, fraction) = (bits >> 127 != 0, ((bits >> 112) & 0x7fff) as i64, bits & ((1 << 112) - 1));
    // A quad denormal (exponent 0) has no integer bit, and exponent 1's scale.
    let n = if exponent == 0 { fraction } else { fraction | 1 << 112 };
    let lsb = exponent.max(1) - 16383 - 112;
    let sticky = r.status.contains(rustc_apfloat::Status::INEXACT);
    // Below quad's range: a tiny inexact value, far below the 80-bit one.
    if n == 0 && !sticky {
        // An exact zero (x - x).
        let bits = if negative { value::SIGN } else { 0 };
        return Wide { outcome: Outcome { bits, flags: 0, up: false }, tiny: false };
    }
    let (n, lsb) = if n == 0 { (1, -(1 << 20)) } else { (n, lsb) };
    let tiny = lsb + (127 - n.leading_zeros() as i64) < 1 - value::BIAS;
    let o = value::round_to_precision(negative, n, lsb + adjust, sticky, round, precision);
    Wide { outcome: Outcome { bits: o.bits, flags: o.flags, up: o.up }, tiny }
}

/// A result computed through quad precision, and whether it is tiny
/// (below the smallest normal before rounding).
struct Wide {
    outcome: Outcome,
    tiny: bool,
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

/// fxsave: the 512-byte FXSAVE image (x87 state, MXCSR, XMM0-15);
/// `rex_w` for fxsave64's 64-bit FIP and FDP.
pub fn fxsave(state: &CpuState, addr: u64, rex_w: bool) {
    write_bytes(addr, &env::fxsave_image(state, rex_w));
}

/// The FXSAVE image of `state` as x86_64 signal frames hold it (64-bit).
pub fn fxsave_image(state: &CpuState) -> [u8; 512] {
    env::fxsave_image(state, true)
}

/// fxrstor: loads what fxsave stored.
pub fn fxrstor(state: &mut CpuState, addr: u64, rex_w: bool) {
    let mut img = [0u8; 512];
    img.copy_from_slice(&read_bytes(addr, 512));
    env::load_fxsave_image(state, &img, rex_w);
}

/// Loads a signal frame's FXSAVE image into `state` (rt_sigreturn).
pub fn load_fxsave_image(state: &mut CpuState, img: &[u8; 512]) {
    env::load_fxsave_image(state, img, true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions};

    fn run(state: &mut CpuState, bytes: &[u8], addr: u64) -> Result<(), GuestEvent> {
        let insn = Decoder::with_ip(64, bytes, 0x1000, DecoderOptions::NONE).decode();
        step(state, &insn, addr)
    }

    #[test]
    fn unmasked_exception_leaves_the_stack_and_faults_at_the_next_waiting_instruction() {
        let mut s = CpuState::default();
        let cw: u16 = 0x037b; // ZE unmasked
        run(&mut s, &[0xd9, 0x28], &cw as *const u16 as u64).unwrap(); // fldcw [rax]
        run(&mut s, &[0xd9, 0xe8], 0).unwrap(); // fld1
        run(&mut s, &[0xd9, 0xee], 0).unwrap(); // fldz
        run(&mut s, &[0xdc, 0xf9], 0).unwrap(); // fdiv st(1), st: 1/0
        assert_eq!(s.x87.st_bits(1), 0x3fff_8000_0000_0000_0000, "destination kept");
        assert_eq!(s.x87.status & (ZE | ES | B), ZE | ES | B);
        let fault = GuestEvent::Fault { signal: libc::SIGFPE, addr: 0x1000 };
        assert_eq!(run(&mut s, &[0xd9, 0xe8], 0), Err(fault)); // fld1 waits: #MF
        run(&mut s, &[0xdb, 0xe2], 0).unwrap(); // fnclex does not wait
        run(&mut s, &[0xd9, 0xe8], 0).unwrap();
    }

    /// Precision control 53 bits (control word 0x027f): 1/3 is the double.
    #[test]
    fn precision_control_rounds_the_significand() {
        let mut s = CpuState::default();
        let cw: u16 = 0x027f;
        run(&mut s, &[0xd9, 0x28], &cw as *const u16 as u64).unwrap(); // fldcw [rax]
        let three: u32 = 3;
        run(&mut s, &[0xd9, 0xe8], 0).unwrap(); // fld1
        run(&mut s, &[0xda, 0x30], &three as *const u32 as u64).unwrap(); // fidiv dword [rax]
        assert_eq!(s.x87.st_bits(0), 0x3ffd_aaaa_aaaa_aaaa_a800);
        assert_eq!(s.x87.status & PE, PE);
    }

    /// Stack faults after fninit: an underflow is IE|SF with C1 = 0 and
    /// the indefinite in the destination, an overflow IE|SF with C1 = 1
    /// (an Intel Xeon's fnstsw: 0x0041 after fsin, fchs or fxch on an
    /// empty stack, 0x3a41 after a ninth push).
    #[test]
    fn stack_faults_have_the_masked_responses() {
        let mut s = CpuState::default();
        run(&mut s, &[0xd8, 0xc1], 0).unwrap();
        assert_eq!(s.x87.status_word(), 0x0041);
        assert_eq!(s.x87.st_bits(0), INDEFINITE);
        let mut s = CpuState::default();
        for _ in 0..9 {
            run(&mut s, &[0xd9, 0xe8], 0).unwrap();
        }
        assert_eq!(s.x87.status_word(), 0x3a41);
    }
}
