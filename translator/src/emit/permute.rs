//! Permutes that VEX added: vpermilps/vpermilpd within each 128-bit lane
//! (immediate or per-element controls), and the lane-crossing
//! vperm2f128/vperm2i128, vpermq/vpermpd and vpermd/vpermps. SSE's
//! shuffles (pshufd, shufps...) are `sse`'s lane operations.

use super::aarch64::{Inst, VReg};
use super::vector::{pinned, vector_number, Lanes};
use super::{a64, EmitResult, Emitter, Flow, Reg, Unsupported};
#[allow(unused_imports)]
use dynasmrt::DynasmApi;
use iced_x86::{Instruction, OpKind};

/// vpermilps/vpermilpd (`double`) xmm1, xmm2/m, imm
/// (`vector::Lane::PermuteInLane`): vpermilps takes two bits per element,
/// the same for both halves (pshufd's rule); vpermilpd one bit per
/// element, bits 2 and 3 for the upper half.
pub(super) fn in_lane_by_immediate(e: &mut Emitter, insn: &Instruction, l: Lanes, double: bool) -> Result<(), Unsupported> {
    let imm = insn.immediate8() as u32;
    let t = e.vtmp();
    if !double {
        for i in 0..4u32 {
            a64!(e.ops; ins V(t).S[i], V(l.rm).S[(imm >> (2 * i)) & 3]);
        }
    } else {
        let imm = if l.upper { imm >> 2 } else { imm };
        a64!(e.ops; ins V(t).D[0], V(l.rm).D[imm & 1] ; ins V(t).D[1], V(l.rm).D[(imm >> 1) & 1]);
    }
    e.inst(Inst::VecMove { rd: VReg(l.rd), rn: VReg(t) });
    Ok(())
}

/// vpermilps xmm1, xmm2, xmm3/m: element i of the result is element
/// `control[i] & 3` of xmm2 (rn), the control in xmm3 (rm).
pub(super) fn singles_in_lane(e: &mut Emitter, l: Lanes) -> Result<(), Unsupported> {
    let index = e.vtmp();
    a64!(e.ops
        ; movi V(index).S4, 3
        ; and V(index).B16, V(l.rm).B16, V(index).B16
    );
    dword_byte_indices(e, index);
    a64!(e.ops; tbl V(l.rd).B16, {V(l.rn).B16 * 1}, V(index).B16);
    Ok(())
}

/// vpermilpd xmm1, xmm2, xmm3/m: element i of the result is element
/// `control[i] >> 1 & 1` of xmm2 (rn).
pub(super) fn doubles_in_lane(e: &mut Emitter, l: Lanes) -> Result<(), Unsupported> {
    let (select, low) = (e.vtmp(), e.vtmp());
    a64!(e.ops
        // All ones where bit 1 of the control is set.
        ; shl V(select).D2, V(l.rm).D2, 62
        ; sshr V(select).D2, V(select).D2, 63
        ; dup V(low).D2, V(l.rn).D[0]
        ; dup V(l.rd).D2, V(l.rn).D[1]
        ; bif V(l.rd).B16, V(low).B16, V(select).B16
    );
    Ok(())
}

/// Dword element numbers (each below 64) in `index` into the byte
/// indices `tbl` takes: 4n, 4n+1, 4n+2, 4n+3.
fn dword_byte_indices(e: &mut Emitter, index: Reg) {
    let (c, w) = (e.vtmp(), e.tmp());
    a64!(e.ops
        ; movi V(c).B16, 4
        // n * 0x04040404: 4n in every byte of the element.
        ; mul V(index).S4, V(index).S4, V(c).S4
        ; movz W(w), 0x0100
        ; movk W(w), 0x0302, lsl 16
        ; dup V(c).S4, W(w)
        ; add V(index).S4, V(index).S4, V(c).S4
    );
}

/// vpermd/vpermps ymm1, ymm2, ymm3/m256: dword i of the result is dword
/// `ymm2[i] & 7` of ymm3.
pub(super) fn permute_dwords(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let n = vector_number(insn.op1_register()).ok_or(Unsupported)?;
    // The table: ymm3's halves in two consecutive registers (`tbl`'s list).
    let (table, _) = copy_256(e, insn, 2)?;
    let seven = e.vtmp();
    a64!(e.ops; movi V(seven).S4, 7);
    // The high half first: the low half's result may overwrite ymm2's low half.
    let high = e.vtmp();
    e.load_upper(high, n);
    for (index, out) in [(high, high), (pinned(n), pinned(d))] {
        let t = e.vtmp();
        a64!(e.ops; and V(t).B16, V(index).B16, V(seven).B16);
        dword_byte_indices(e, t);
        a64!(e.ops; tbl V(out).B16, {V(table).B16 * 2}, V(t).B16);
    }
    e.store_upper(high, d);
    Ok(Flow::Next)
}

/// The four 128-bit halves of a VEX.256 form's two sources, in x86's
/// order (src1 low, src1 high, src2 low, src2 high), in registers that
/// writing the destination does not change.
fn halves_of_sources(e: &mut Emitter, insn: &Instruction) -> Result<[Reg; 4], Unsupported> {
    let n = vector_number(insn.op1_register()).ok_or(Unsupported)?;
    let mut halves = [0; 4];
    match insn.op2_kind() {
        OpKind::Register => {
            let m = vector_number(insn.op2_register()).ok_or(Unsupported)?;
            for (i, (reg, upper)) in [(n, false), (n, true), (m, false), (m, true)].into_iter().enumerate() {
                let t = e.vtmp();
                if upper {
                    e.load_upper(t, reg);
                } else {
                    e.inst(Inst::VecMove { rd: VReg(t), rn: VReg(pinned(reg)) });
                }
                halves[i] = t;
            }
        }
        OpKind::Memory => {
            let (lo, hi) = (e.vtmp(), e.vtmp());
            e.load_pair_operand(lo, hi, insn)?;
            let (n_lo, n_hi) = (e.vtmp(), e.vtmp());
            e.inst(Inst::VecMove { rd: VReg(n_lo), rn: VReg(pinned(n)) });
            e.load_upper(n_hi, n);
            halves = [n_lo, n_hi, lo, hi];
        }
        _ => return Err(Unsupported),
    }
    Ok(halves)
}

/// vperm2f128/vperm2i128: each half of the result is one of the sources'
/// four halves (imm bits 0-1 and 4-5), or zero (bits 3 and 7).
pub(super) fn permute_halves(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let halves = halves_of_sources(e, insn)?;
    let imm = insn.immediate8();
    let pick = |e: &mut Emitter, control: u8, out: Reg| {
        if control & 8 != 0 {
            a64!(e.ops; movi V(out).D2, 0);
        } else {
            e.inst(Inst::VecMove { rd: VReg(out), rn: VReg(halves[(control & 3) as usize]) });
        }
    };
    let high = e.vtmp();
    pick(e, imm >> 4, high);
    pick(e, imm & 15, pinned(d));
    e.store_upper(high, d);
    Ok(Flow::Next)
}

/// vpermq/vpermpd ymm1, ymm2/m256, imm: quadword i of the result is
/// quadword imm[2i+1:2i] of the source.
pub(super) fn permute_quads(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let (lo, hi) = copy_256(e, insn, 1)?;
    let imm = insn.immediate8() as u32;
    let out_high = e.vtmp();
    for i in 0..4u32 {
        let sel = imm >> (2 * i) & 3;
        let from = if sel < 2 { lo } else { hi };
        let out = if i < 2 { pinned(d) } else { out_high };
        a64!(e.ops; ins V(out).D[i & 1], V(from).D[sel & 1]);
    }
    e.store_upper(out_high, d);
    Ok(Flow::Next)
}


/// A copy of 256-bit operand `op` (a YMM register or memory) in two
/// consecutive temporaries, low half first.
fn copy_256(e: &mut Emitter, insn: &Instruction, op: u32) -> Result<(Reg, Reg), Unsupported> {
    let (low, high) = (e.vtmp(), e.vtmp());
    match insn.op_kind(op) {
        OpKind::Register => {
            let n = vector_number(insn.op_register(op)).ok_or(Unsupported)?;
            e.inst(Inst::VecMove { rd: VReg(low), rn: VReg(pinned(n)) });
            e.load_upper(high, n);
        }
        OpKind::Memory => e.load_pair_operand(low, high, insn)?,
        _ => return Err(Unsupported),
    }
    Ok((low, high))
}
