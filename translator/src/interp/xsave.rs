//! The XSAVE instructions, interpreted: xgetbv, xsave, xsaveopt, xsavec
//! and xrstor (each with its REX.W form, which stores FIP and FDP as
//! fxsave64 does), following the operations in SDM vol. 1 13.7-13.10.
//! The state components and their layout are `cpu::xstate`; the legacy
//! region is the FXSAVE image (`x87::env`). The signal frames use
//! `save` and `restore` on their own buffers.
//!
//! XINUSE is computed from the state: a component is "in use" unless it
//! holds its initial configuration. The SDM requires only that XINUSE[i]
//! = 0 implies the initial configuration, so this is as exact as a CPU
//! gets. MXCSR counts towards SSE (the CPU tracks XMM only, but XSAVEC
//! saves SSE state whenever MXCSR is not 1F80H, which this gives too).

use crate::cpu::features;
use crate::cpu::state::gpr::{RAX, RCX, RDX};
use crate::cpu::state::CpuState;
use crate::cpu::xstate::{self, Component, AVX, COMPACTED, EXTENDED_START, HEADER, SSE, X87};
use crate::exit::GuestEvent;
use crate::interp::guest_access::effective_address;
use crate::interp::x87::env;
use iced_x86::{Instruction, Mnemonic};

/// Bytes of the legacy region each component owns (SDM vol. 1 13.4.1):
/// x87 is bytes 0..24 and 32..160; SSE the XMM registers, 160..416, and
/// MXCSR with MXCSR_MASK, 24..32, which some forms treat apart.
const X87_BYTES: [std::ops::Range<usize>; 2] = [0..24, 32..160];
const XMM_BYTES: std::ops::Range<usize> = 160..416;
const MXCSR_BYTES: std::ops::Range<usize> = 24..32;
/// MXCSR_MASK as fxsave stores it: bits 16..31 are reserved (#GP if set).
const MXCSR_RESERVED: u32 = 0xffff_0000;
const MXCSR_INIT: u64 = 0x1f80;

/// Where an extended component lives in `CpuState`.
struct Registers {
    bit: u64,
    get: fn(&CpuState) -> &[u128],
    get_mut: fn(&mut CpuState) -> &mut [u128],
}

/// A row per `xstate::EXTENDED` row.
const REGISTERS: &[Registers] = &[Registers { bit: AVX, get: |s| &s.ymm_upper, get_mut: |s| &mut s.ymm_upper }];

fn registers_of(c: &Component) -> &'static Registers {
    REGISTERS.iter().find(|r| r.bit == c.bit).expect("a REGISTERS row for every component")
}

fn general_protection() -> GuestEvent {
    GuestEvent::Fault { signal: libc::SIGSEGV, addr: 0 }
}

/// The forms that save or restore an area, in the order their number
/// travels in `CpuState::exit_operands` (`emit::control::xsave_area`).
pub const AREA_FORMS: [Mnemonic; 8] = {
    use Mnemonic::*;
    [Xsave, Xsave64, Xsaveopt, Xsaveopt64, Xsavec, Xsavec64, Xrstor, Xrstor64]
};

pub fn handles(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(m, Xgetbv | Xsave | Xsave64 | Xsaveopt | Xsaveopt64 | Xsavec | Xsavec64 | Xrstor | Xrstor64)
}

/// XINUSE: the components not in their initial configuration (callers
/// keep the enabled ones).
pub fn in_use(state: &CpuState) -> u64 {
    let init = CpuState::default();
    let (x, i) = (&state.x87, &init.x87);
    let x87_init = x.regs == i.regs
        && x.valid == i.valid
        && x.top == i.top
        && x.control == i.control
        && x.status == i.status
        && x.last_opcode == i.last_opcode
        && x.last_ip == i.last_ip
        && x.last_data == i.last_data;
    let mut bits = if x87_init { 0 } else { X87 };
    if state.xmm.iter().any(|&r| r != 0) || state.mxcsr != MXCSR_INIT {
        bits |= SSE;
    }
    for c in xstate::EXTENDED {
        if (registers_of(c).get)(state).iter().any(|&r| r != 0) {
            bits |= c.bit;
        }
    }
    bits
}

/// The save instructions' forms.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SaveForm {
    /// XSAVE: every requested component, standard format.
    Standard,
    /// XSAVEOPT: skips components in their initial configuration (the
    /// init optimization; Transit never uses the modified optimization,
    /// which the SDM leaves to the implementation).
    Optimized,
    /// XSAVEC: the compacted format, with the init optimization.
    Compacted,
}

/// Saves the components of `rfbm` (already ANDed with XCR0) of `state`
/// into an area whose XSTATE_BV was `old_xstate_bv`, through `put(offset,
/// bytes)`: only the bytes the instruction writes.
pub fn save(state: &CpuState, form: SaveForm, rfbm: u64, rex_w: bool, old_xstate_bv: u64, put: &mut dyn FnMut(usize, &[u8])) {
    let xinuse = in_use(state);
    let saved = if form == SaveForm::Standard { rfbm } else { rfbm & xinuse };
    let legacy = env::fxsave_image(state, rex_w);
    if saved & X87 != 0 {
        for r in X87_BYTES {
            put(r.start, &legacy[r]);
        }
    }
    if saved & SSE != 0 {
        put(XMM_BYTES.start, &legacy[XMM_BYTES]);
    }
    // XSAVE and XSAVEOPT store MXCSR for SSE or AVX, whatever XINUSE says;
    // XSAVEC as part of SSE state.
    let mxcsr = match form {
        SaveForm::Compacted => saved & SSE != 0,
        _ => rfbm & (SSE | AVX) != 0,
    };
    if mxcsr {
        put(MXCSR_BYTES.start, &legacy[MXCSR_BYTES]);
    }
    let mut store = |c: &Component, offset: usize| {
        let bytes: Vec<u8> = (registers_of(c).get)(state).iter().flat_map(|r| r.to_le_bytes()).collect();
        put(offset, &bytes);
    };
    if form == SaveForm::Compacted {
        for (c, offset) in xstate::compacted_layout(rfbm).0 {
            if saved & c.bit != 0 {
                store(c, offset);
            }
        }
        put(HEADER, &saved.to_le_bytes());
        put(HEADER + 8, &(rfbm | COMPACTED).to_le_bytes());
    } else {
        for c in xstate::EXTENDED.iter().filter(|c| saved & c.bit != 0) {
            store(c, c.offset);
        }
        put(HEADER, &((old_xstate_bv & !rfbm) | (xinuse & rfbm)).to_le_bytes());
    }
}

/// How far into an area the components of `wanted` reach, in the
/// standard format or in the compacted format of `format`.
pub fn area_end(wanted: u64, compacted_format: Option<u64>) -> usize {
    match compacted_format {
        Some(format) => xstate::compacted_layout(format)
            .0
            .iter()
            .filter(|(c, _)| wanted & c.bit != 0)
            .map(|(c, offset)| offset + c.size)
            .fold(EXTENDED_START, usize::max),
        None => xstate::standard_size(wanted),
    }
}

/// XRSTOR of the components of `rfbm` (ANDed with `xcr0`) from `area`
/// (`area_end` bytes at least); a reserved bit in the header or MXCSR is
/// a #GP, before any state changes.
pub fn restore(state: &mut CpuState, area: &[u8], rfbm: u64, xcr0: u64, rex_w: bool) -> Result<(), GuestEvent> {
    let qword = |o: usize| u64::from_le_bytes(area[o..o + 8].try_into().unwrap());
    let (xstate_bv, xcomp_bv) = (qword(HEADER), qword(HEADER + 8));
    let compacted = xcomp_bv & COMPACTED != 0;
    let header_ok = if compacted {
        // 13.8.2: XCOMP_BV within XCR0, XSTATE_BV within XCOMP_BV, bytes 63:16 zero.
        let format = xcomp_bv & !COMPACTED;
        format & !xcr0 == 0 && xstate_bv & !xcomp_bv == 0 && area[HEADER + 16..EXTENDED_START].iter().all(|&b| b == 0)
    } else {
        // 13.8.1: XSTATE_BV within XCR0, bytes 23:8 (XCOMP_BV too) zero.
        xstate_bv & !xcr0 == 0 && area[HEADER + 8..HEADER + 24].iter().all(|&b| b == 0)
    };
    // (Every level with XSAVE has XSAVEC, which the compacted form needs.)
    if !header_ok {
        return Err(general_protection());
    }
    let format = if compacted { xcomp_bv & !COMPACTED } else { xcr0 };
    let restored = rfbm & format & xstate_bv;
    let initialized = rfbm & !restored;
    // The standard form loads MXCSR for SSE or AVX whatever XSTATE_BV says;
    // the compacted form with the rest of SSE state.
    let mxcsr_from_area = if compacted { restored & SSE != 0 } else { rfbm & (SSE | AVX) != 0 };
    let area_mxcsr = u32::from_le_bytes(area[MXCSR_BYTES.start..MXCSR_BYTES.start + 4].try_into().unwrap());
    if mxcsr_from_area && area_mxcsr & MXCSR_RESERVED != 0 {
        return Err(general_protection());
    }

    // The legacy region: start from the current image, overlay each
    // component from the area or from the initial state, load it once.
    let mut legacy = env::fxsave_image(state, rex_w);
    let init = env::fxsave_image(&CpuState::default(), rex_w);
    let x87_before = state.x87.clone();
    for (bit, ranges) in [(X87, &X87_BYTES[..]), (SSE, std::slice::from_ref(&XMM_BYTES))] {
        for r in ranges {
            if restored & bit != 0 {
                legacy[r.clone()].copy_from_slice(&area[r.clone()]);
            } else if initialized & bit != 0 {
                legacy[r.clone()].copy_from_slice(&init[r.clone()]);
            }
        }
    }
    if mxcsr_from_area {
        legacy[MXCSR_BYTES].copy_from_slice(&area[MXCSR_BYTES]);
    } else if compacted && initialized & SSE != 0 {
        legacy[MXCSR_BYTES].copy_from_slice(&init[MXCSR_BYTES]);
    }
    env::load_fxsave_image(state, &legacy, rex_w);
    if (restored | initialized) & X87 == 0 {
        // Untouched: keep FIP/FDP whole (the REX.W=0 image holds 32 bits).
        state.x87 = x87_before;
    }

    let offsets: Vec<(&Component, usize)> = if compacted {
        xstate::compacted_layout(format).0
    } else {
        xstate::EXTENDED.iter().map(|c| (c, c.offset)).collect()
    };
    for (c, offset) in offsets {
        let registers = (registers_of(c).get_mut)(state);
        if restored & c.bit != 0 {
            for (i, r) in registers.iter_mut().enumerate() {
                *r = u128::from_le_bytes(area[offset + 16 * i..offset + 16 * i + 16].try_into().unwrap());
            }
        } else if initialized & c.bit != 0 {
            registers.fill(0);
        }
    }
    Ok(())
}

/// Puts the components of `mask` in their initial configuration, as a
/// compacted-form XRSTOR of an area whose XSTATE_BV is 0 does (MXCSR only
/// with SSE): what Linux gives components a signal frame leaves out.
pub fn initialize(state: &mut CpuState, mask: u64, xcr0: u64) {
    if mask & xcr0 == 0 {
        return;
    }
    let mut area = vec![0u8; EXTENDED_START];
    area[HEADER + 8..HEADER + 16].copy_from_slice(&(COMPACTED | xcr0).to_le_bytes());
    restore(state, &area, mask & xcr0, xcr0, true).expect("an empty compacted header is valid");
}

/// The requested-feature bitmap: EDX:EAX (their low halves) AND XCR0.
fn rfbm(state: &CpuState) -> u64 {
    ((state.gpr[RDX] << 32) | (state.gpr[RAX] & 0xffff_ffff)) & features::xcr0()
}

fn probe(addr: u64, len: usize, write: bool) -> Result<(), GuestEvent> {
    crate::frontend::probe::check(addr, len as u64, write).map_err(|f| GuestEvent::PageFault { addr: f.addr, code: f.code })
}

/// xgetbv: XCR0 (ECX 0) or the components in use (ECX 1); any other
/// register is a #GP.
pub fn xgetbv(state: &mut CpuState) -> Result<(), GuestEvent> {
    let value = match state.gpr[RCX] as u32 {
        0 => features::xcr0(),
        1 => in_use(state) & features::xcr0(),
        _ => return Err(general_protection()),
    };
    state.gpr[RAX] = value & 0xffff_ffff;
    state.gpr[RDX] = value >> 32;
    Ok(())
}

/// Runs an instruction `handles` accepts; the caller advances RIP.
pub fn step(state: &mut CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    use Mnemonic::*;
    let m = insn.mnemonic();
    if m == Xgetbv {
        return xgetbv(state);
    }
    save_or_restore(state, m, effective_address(state, insn))
}

/// One of `AREA_FORMS`, `m`, with its area at `addr`.
pub fn save_or_restore(state: &mut CpuState, m: Mnemonic, addr: u64) -> Result<(), GuestEvent> {
    use Mnemonic::*;
    // The area must be 64-byte aligned (#GP), checked before any access.
    if addr % 64 != 0 {
        return Err(general_protection());
    }
    let rex_w = matches!(m, Xsave64 | Xsaveopt64 | Xsavec64 | Xrstor64);
    let rfbm = rfbm(state);
    let read = |len: usize| -> Result<Vec<u8>, GuestEvent> {
        probe(addr, len, false)?;
        let mut bytes = vec![0u8; len];
        // SAFETY: guest memory the probe found readable; a concurrent
        // unmap faults as the guest's own access would.
        unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, bytes.as_mut_ptr(), len) };
        Ok(bytes)
    };
    match m {
        Xrstor | Xrstor64 => {
            let header = read(EXTENDED_START)?;
            let xcomp_bv = u64::from_le_bytes(header[HEADER + 8..HEADER + 16].try_into().unwrap());
            // The compacted layout follows XCOMP_BV (a bit outside XCR0 is a #GP).
            let format = (xcomp_bv & COMPACTED != 0).then_some(xcomp_bv & !COMPACTED & features::xcr0());
            let area = read(area_end(rfbm, format))?;
            restore(state, &area, rfbm, features::xcr0(), rex_w)
        }
        _ => {
            let form = match m {
                Xsavec | Xsavec64 => SaveForm::Compacted,
                Xsaveopt | Xsaveopt64 => SaveForm::Optimized,
                _ => SaveForm::Standard,
            };
            let len = area_end(rfbm, (form == SaveForm::Compacted).then_some(rfbm));
            probe(addr, len, true)?;
            // SAFETY: probed for writing above.
            let old_xstate_bv = unsafe { (addr as *const u64).byte_add(HEADER).read_unaligned() };
            save(state, form, rfbm, rex_w, old_xstate_bv, &mut |offset, bytes| {
                // SAFETY: inside the probed area (`area_size`).
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), (addr as *mut u8).add(offset), bytes.len()) };
            });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area_of(state: &CpuState, form: SaveForm, rfbm: u64, fill: u8) -> Vec<u8> {
        let mut area = vec![fill; 1024];
        area[HEADER..EXTENDED_START].fill(0);
        save(state, form, rfbm, true, 0, &mut |o, b| area[o..o + b.len()].copy_from_slice(b));
        area
    }

    fn busy_state() -> CpuState {
        let mut s = CpuState::default();
        s.xmm[3] = 0x0123_4567_89ab_cdef_0011_2233_4455_6677;
        s.mxcsr = 0x9fc0;
        s.x87.top = 7;
        s.x87.valid = 0x80;
        s.x87.regs[7] = 0x3fff_8000_0000_0000_0000;
        s
    }

    #[test]
    fn in_use_is_clear_only_in_the_initial_configuration() {
        assert_eq!(in_use(&CpuState::default()), 0);
        assert_eq!(in_use(&busy_state()), X87 | SSE);
        let mut s = CpuState::default();
        s.mxcsr = 0x1fc0;
        assert_eq!(in_use(&s), SSE);
    }

    /// xsave writes the legacy region as fxsave64 does, but not bytes
    /// 416..511; XSTATE_BV keeps bits outside RFBM.
    #[test]
    fn standard_save_matches_fxsave_and_keeps_the_rest() {
        let s = busy_state();
        let mut area = vec![0xa5u8; 576];
        area[HEADER..EXTENDED_START].fill(0);
        let old = 1u64 << 40;
        save(&s, SaveForm::Standard, X87 | SSE, true, old, &mut |o, b| area[o..o + b.len()].copy_from_slice(b));
        let fx = env::fxsave_image(&s, true);
        assert_eq!(area[..416], fx[..416]);
        assert!(area[416..512].iter().all(|&b| b == 0xa5));
        assert_eq!(u64::from_le_bytes(area[512..520].try_into().unwrap()), old | X87 | SSE);
        // SSE alone: no x87 bytes, MXCSR yes.
        let area = area_of(&s, SaveForm::Standard, SSE, 0xa5);
        assert!(area[..24].iter().all(|&b| b == 0xa5));
        assert_eq!(area[24..28], 0x9fc0u32.to_le_bytes());
    }

    #[test]
    fn compacted_save_skips_components_in_their_initial_configuration() {
        let mut s = CpuState::default();
        s.xmm[0] = 1;
        let area = area_of(&s, SaveForm::Compacted, X87 | SSE, 0xa5);
        assert!(area[..24].iter().all(|&b| b == 0xa5), "x87 not saved");
        assert_eq!(area[160], 1);
        assert_eq!(u64::from_le_bytes(area[512..520].try_into().unwrap()), SSE);
        assert_eq!(u64::from_le_bytes(area[520..528].try_into().unwrap()), COMPACTED | X87 | SSE);
    }

    #[test]
    fn restore_round_trips_and_initializes_what_xstate_bv_leaves_out() {
        let s = busy_state();
        for form in [SaveForm::Standard, SaveForm::Compacted] {
            let area = area_of(&s, form, X87 | SSE, 0);
            let mut t = CpuState::default();
            restore(&mut t, &area, X87 | SSE, X87 | SSE, true).unwrap();
            assert_eq!((t.xmm, t.mxcsr, t.x87.regs, t.x87.top, t.x87.valid), (s.xmm, s.mxcsr, s.x87.regs, 7, 0x80));
        }
        let mut area = area_of(&s, SaveForm::Standard, X87 | SSE, 0);
        area[512] = 0;
        let mut t = busy_state();
        restore(&mut t, &area, X87 | SSE, X87 | SSE, true).unwrap();
        assert_eq!(in_use(&t), SSE, "x87 and XMM initialized; standard form loads MXCSR");
        assert_eq!(t.mxcsr, 0x9fc0);
        let mut area = area_of(&s, SaveForm::Compacted, X87 | SSE, 0);
        area[512] = 0;
        let mut t = busy_state();
        restore(&mut t, &area, X87 | SSE, X87 | SSE, true).unwrap();
        assert_eq!(in_use(&t), 0, "the compacted form initializes MXCSR too");
    }

    #[test]
    fn restore_faults_on_reserved_header_bits_and_mxcsr() {
        let good = area_of(&busy_state(), SaveForm::Standard, X87 | SSE, 0);
        for (offset, byte) in [(512, 4u8), (520, 1), (530, 1), (26, 1)] {
            let mut area = good.clone();
            area[offset] |= byte;
            let mut t = CpuState::default();
            assert_eq!(restore(&mut t, &area, X87 | SSE, X87 | SSE, true), Err(general_protection()), "{offset}");
            assert_eq!(in_use(&t), 0, "nothing changed");
        }
        // Bytes 24..63 of the header are ignored by the standard form,
        // checked by the compacted one.
        let mut area = good.clone();
        area[HEADER + 40] = 1;
        restore(&mut CpuState::default(), &area, X87 | SSE, X87 | SSE, true).unwrap();
        let mut area = area_of(&busy_state(), SaveForm::Compacted, X87 | SSE, 0);
        area[HEADER + 40] = 1;
        assert!(restore(&mut CpuState::default(), &area, X87 | SSE, X87 | SSE, true).is_err());
    }

    #[test]
    fn avx_state_is_a_row_of_the_extended_region() {
        let mut s = CpuState::default();
        s.ymm_upper[15] = 0xfeed;
        assert_eq!(in_use(&s), AVX);
        let area = area_of(&s, SaveForm::Standard, X87 | SSE | AVX, 0);
        assert_eq!(area[576 + 15 * 16], 0xed);
        let mut t = CpuState::default();
        restore(&mut t, &area, X87 | SSE | AVX, X87 | SSE | AVX, true).unwrap();
        assert_eq!(t.ymm_upper, s.ymm_upper);
        let area = area_of(&s, SaveForm::Compacted, AVX, 0);
        assert_eq!(u64::from_le_bytes(area[512..520].try_into().unwrap()), AVX);
    }
}
