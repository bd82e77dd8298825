//! Pairs of guest instructions emitted as one host instruction, as an
//! aarch64 compiler would have written them: a bit-field extract
//! (`shr r, n; movzx r, r8` is `ubfx`), a zero-extended value shifted into
//! place (`movzx d, r8; shl d, n` is `ubfiz`), and a shifted register added
//! (`shl r, n; add r, s` is `add r, s, r, lsl n`), a copy shifted
//! (`mov d, s; shr d, n` is `lsr d, s, n`; `mov d, s; sub d, r` is `sub
//! d, s, r`), and a load or store at
//! `[base]` whose base steps next or one instruction later (`movsd xmm0,
//! [rdi]; add rsi, 8; add rdi, 8` is `ldr d16, [x7], #8; add x6, x6, #8`,
//! a post-indexed access). GCC writes them for bit
//! fields and table indexing (Lua's instruction decoding, Python's dict
//! lookups) and for x86's two-operand shifts of a value still needed.
//! Flags no host instruction computes must be dead: the shifts' (the add
//! overwrites the first's; a movzx none). One host instruction does both,
//! so no fault or signal sees the state between them.
//! `TRANSIT_TUNING=-fused-pairs` turns it off.

use super::operand::registers_and_immediates;
use super::alu::AluOp;
use super::{a64, regs, Emitter, Polarity, Reg};
use crate::frontend::flags::FlagSet;
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};

/// Emits `insns[0]` (a shift or movzx) and a later instruction as one host
/// instruction if they are such a pair, and returns the later one's
/// index: the next instruction, or for an extract or a shift into place
/// the one after, where the one between touches neither register and
/// cannot fault (compilers interleave them: Lua's `shr ebx, 7; and eax,
/// 0x7f; movzx ebx, bl`); it then runs after the pair's code, which only
/// a fault there or a side exit could tell. `first_flags_dead`: nothing
/// reads the flags `insns[0]` writes; `needed(j)`: the flags `insns[j]`
/// must leave correct.
pub fn pair_at(e: &mut Emitter, insns: &[Instruction], first_flags_dead: bool, needed: impl Fn(usize) -> FlagSet) -> Option<usize> {
    if !first_flags_dead || !crate::tuning::tuning().fused_pairs {
        return None;
    }
    let first = &insns[0];
    let next = insns.get(1)?;
    if pair(e, first, next, needed(1), false) {
        return Some(1);
    }
    let (between, second) = (next, insns.get(2)?);
    let touched = match zero_extension(first) {
        Some((dst, src, _)) => [dst, src],
        None => [first.op0_register(); 2],
    };
    (apart(between, &touched) && pair(e, first, second, needed(2), true)).then_some(2)
}

/// Emits `first` and `second` as one host instruction if they are such a
/// pair (`apart`: another instruction comes between them, so no shifted
/// add, whose flags would come before it); `second_needed`: the flags
/// `second` must leave correct. False: nothing was emitted.
fn pair(e: &mut Emitter, first: &Instruction, second: &Instruction, second_needed: FlagSet, apart: bool) -> bool {
    if first.op1_kind() == OpKind::Memory {
        return !apart && second_needed.is_empty() && load_then_step(e, first, second);
    }
    if let Some(shift) = shift_right(first) {
        return extract(e, shift, second);
    }
    if let Some(shift) = shift_left(first) {
        return !apart && shifted_add(e, shift, second, second_needed);
    }
    // The shift's flags: none of them read (ubfiz sets none).
    second_needed.is_empty() && zero_extend_then_shift(e, first, second)
}

/// Whether `insn` is integer work on general registers and immediates
/// (or lea's address) that touches none of `regs` and cannot fault or
/// leave the block.
fn apart(insn: &Instruction, regs: &[Register]) -> bool {
    use iced_x86::Mnemonic::*;
    let integer = matches!(
        insn.mnemonic(),
        Add | Sub | And | Or | Xor | Mov | Movzx | Movsx | Movsxd | Inc | Dec | Cmp | Test | Shl | Shr | Sar | Neg | Not | Lea
    );
    integer && registers_and_immediates(insn, regs)
}

/// The shift (shl, shr or sar) `code` is, if it shifts a whole 32/64-bit
/// register or memory operand by an immediate: one look at the code.
fn immediate_shift(code: Code) -> Option<Mnemonic> {
    use Code::*;
    match code {
        Shl_rm32_imm8 | Shl_rm64_imm8 | Shl_rm32_1 | Shl_rm64_1 => Some(Mnemonic::Shl),
        Shr_rm32_imm8 | Shr_rm64_imm8 | Shr_rm32_1 | Shr_rm64_1 => Some(Mnemonic::Shr),
        Sar_rm32_imm8 | Sar_rm64_imm8 | Sar_rm32_1 | Sar_rm64_1 => Some(Mnemonic::Sar),
        _ => None,
    }
}

/// `mov d, s` (32/64-bit registers) then `second`, a shift of d by an
/// immediate (`immediate_shift`) whose flags nothing reads: d = s
/// shifted, one host shift from s. Returns whether it emitted them. Not
/// `mov eax, eax` (a zero extension in place), nor a 64-bit shift after a
/// 32-bit copy (it would shift the zero-extended value).
fn copy_then_shift(e: &mut Emitter, copy: &Instruction, second: &Instruction) -> bool {
    let Some((dst, src)) = register_copy(copy) else { return false };
    let Some(shift) = register_shift(second) else { return false };
    if shift.reg.full_register() != dst.full_register() || shift.reg.size() > dst.size() {
        return false;
    }
    let (d, s, by) = (host(dst), host(src), shift.by);
    match (immediate_shift(second.code()), shift.reg.size() == 8) {
        (Some(Mnemonic::Shl), true) => a64!(e.ops; lsl X(d), X(s), by),
        (Some(Mnemonic::Shl), false) => a64!(e.ops; lsl W(d), W(s), by),
        (Some(Mnemonic::Shr), true) => a64!(e.ops; lsr X(d), X(s), by),
        (Some(Mnemonic::Shr), false) => a64!(e.ops; lsr W(d), W(s), by),
        (Some(Mnemonic::Sar), true) => a64!(e.ops; asr X(d), X(s), by),
        (Some(Mnemonic::Sar), false) => a64!(e.ops; asr W(d), W(s), by),
        _ => return false,
    }
    true
}

/// `insns[0]`, `mov d, s` (32/64-bit registers), and a later shift of d
/// by an immediate, or an and, or, xor, add or sub of d with an immediate
/// or a register, whose flags nothing reads (`needed(j)`: the flags
/// `insns[j]` must leave correct): one host instruction from s. The
/// operation is the next instruction, or the one after an instruction
/// `apart` from d, s and the operation's register (which then runs after
/// the pair's code, as for `pair_at`; x86's two operands make such copies,
/// and compilers schedule them early). Returns the operation's index; None:
/// nothing was emitted.
pub fn copy_then_operation_at(e: &mut Emitter, insns: &[Instruction], needed: impl Fn(usize) -> FlagSet) -> Option<usize> {
    let copy = &insns[0];
    let (dst, src) = register_copy(copy)?;
    let next = insns.get(1)?;
    if operates_on(next, dst) {
        return (needed(1).is_empty() && copy_then(e, copy, next)).then_some(1);
    }
    let second = insns.get(2)?;
    let touched = [dst, src, register_source(second)];
    (operates_on(second, dst) && needed(2).is_empty() && apart(next, &touched) && copy_then(e, copy, second)).then_some(2)
}

/// Whether `insns[i]` is `mov r32, r32` of one register (a zero extension
/// in place) right after an instruction that wrote that 32-bit register
/// (or after it and one instruction apart from the register),
/// which zero-extended it already (x86 clears bits 32..63 of every 32-bit
/// register result, cmov's even when it does not move): then it needs no
/// code (xz's `lea eax, [rax+rax]; mov eax, eax`).
#[inline(never)]
pub fn zero_extended_already(insns: &[Instruction], i: usize) -> bool {
    use Mnemonic::*;
    let insn = &insns[i];
    // Cheapest tests first: this runs for every mov translated.
    if !matches!(insn.code(), Code::Mov_r32_rm32 | Code::Mov_rm32_r32) || i == 0 {
        return false;
    }
    let reg = insn.op0_register();
    // A memory operand's op1_register is None.
    if insn.op1_register() != reg || insn.op0_kind() != OpKind::Register || !crate::tuning::tuning().fused_pairs {
        return false;
    }
    // The writer, or the one before an instruction that leaves the
    // register alone (`add eax, ecx; shl edx, 24; mov eax, eax`).
    let mut prev = &insns[i - 1];
    if i >= 2 && apart(prev, &[reg]) {
        prev = &insns[i - 2];
    }
    let writes_op0 = match prev.mnemonic() {
        Add | Sub | And | Or | Xor | Adc | Sbb | Mov | Movzx | Movsx | Lea | Shl | Shr | Sar | Rol | Ror | Not | Neg | Inc | Dec | Popcnt
        | Lzcnt | Tzcnt | Andn | Shlx | Shrx | Sarx | Rorx | Bzhi | Pext | Pdep | Cmova | Cmovae | Cmovb | Cmovbe | Cmove | Cmovne
        | Cmovg | Cmovge | Cmovl | Cmovle | Cmovs | Cmovns | Cmovo | Cmovno | Cmovp | Cmovnp => true,
        // One-operand imul writes EDX:EAX, not its operand.
        Imul => prev.op_count() >= 2,
        _ => false,
    };
    writes_op0 && prev.op0_kind() == OpKind::Register && prev.op0_register() == reg
}

/// Whether `insn` is an operation `copy_then` may fuse with a copy to
/// `dst`: a shift by an immediate, or an operation with an immediate or a
/// register, of a 32/64-bit register that is dst's (one look at the code
/// first: this runs for every register copy).
fn operates_on(insn: &Instruction, dst: Register) -> bool {
    let code = insn.code();
    let operation = immediate_shift(code).is_some() || immediate_operation(code).is_some() || register_operation(code).is_some();
    operation && insn.op0_kind() == OpKind::Register && insn.op0_register().full_register() == dst.full_register()
}

/// The register `insn` reads as its second operand, if any (None's
/// register otherwise).
fn register_source(insn: &Instruction) -> Register {
    if insn.op_count() > 1 && insn.op1_kind() == OpKind::Register {
        insn.op1_register()
    } else {
        Register::None
    }
}

/// `copy` then `second` (`operates_on` its destination) as one host
/// instruction, if the forms allow.
fn copy_then(e: &mut Emitter, copy: &Instruction, second: &Instruction) -> bool {
    if immediate_shift(second.code()).is_some() {
        copy_then_shift(e, copy, second)
    } else if immediate_operation(second.code()).is_some() {
        copy_then_operation(e, copy, second)
    } else {
        copy_then_register_operation(e, copy, second)
    }
}

/// The operation (and, or, xor, add or sub) `code` is, if it combines two
/// whole 32/64-bit registers (or a register with memory, which
/// `copy_then_register_operation` leaves).
fn register_operation(code: Code) -> Option<AluOp> {
    use Code::*;
    match code {
        And_rm32_r32 | And_rm64_r64 | And_r32_rm32 | And_r64_rm64 => Some(AluOp::And),
        Or_rm32_r32 | Or_rm64_r64 | Or_r32_rm32 | Or_r64_rm64 => Some(AluOp::Or),
        Xor_rm32_r32 | Xor_rm64_r64 | Xor_r32_rm32 | Xor_r64_rm64 => Some(AluOp::Xor),
        Add_rm32_r32 | Add_rm64_r64 | Add_r32_rm32 | Add_r64_rm64 => Some(AluOp::Add),
        Sub_rm32_r32 | Sub_rm64_r64 | Sub_r32_rm32 | Sub_r64_rm64 => Some(AluOp::Sub),
        _ => None,
    }
}

/// `mov d, s` then `second`, `op d, r` of two registers (and, or, xor, add,
/// sub), flags dead: `op d, s, r` (r as s where it is d), emitted as the
/// ALU emits the operation with no flag needed (the copy's own, none, are
/// the emitter's now). Not a 64-bit operation after a 32-bit copy.
fn copy_then_register_operation(e: &mut Emitter, copy: &Instruction, second: &Instruction) -> bool {
    let Some((dst, src)) = register_copy(copy) else { return false };
    let Some(op) = register_operation(second.code()) else { return false };
    let reg = second.op0_register();
    if second.op1_kind() != OpKind::Register || reg.full_register() != dst.full_register() || reg.size() > dst.size() || dst.size() < 4 {
        return false;
    }
    let other = second.op1_register().full_register();
    let r = if other == dst.full_register() { host(src) } else { host(other) };
    debug_assert!(e.needed.is_empty(), "a copy defines no flag");
    super::alu::binary(e, op, reg.size() as u8, host(src), r, host(dst));
    true
}

/// The operation (and, or, xor, add or sub) `code` is, if it combines a
/// whole 32/64-bit register or memory operand with an immediate: one look
/// at the code.
fn immediate_operation(code: Code) -> Option<Mnemonic> {
    use Code::*;
    match code {
        And_rm32_imm32 | And_rm64_imm32 | And_rm32_imm8 | And_rm64_imm8 | And_EAX_imm32 | And_RAX_imm32 => Some(Mnemonic::And),
        Or_rm32_imm32 | Or_rm64_imm32 | Or_rm32_imm8 | Or_rm64_imm8 | Or_EAX_imm32 | Or_RAX_imm32 => Some(Mnemonic::Or),
        Xor_rm32_imm32 | Xor_rm64_imm32 | Xor_rm32_imm8 | Xor_rm64_imm8 | Xor_EAX_imm32 | Xor_RAX_imm32 => Some(Mnemonic::Xor),
        Add_rm32_imm32 | Add_rm64_imm32 | Add_rm32_imm8 | Add_rm64_imm8 | Add_EAX_imm32 | Add_RAX_imm32 => Some(Mnemonic::Add),
        Sub_rm32_imm32 | Sub_rm64_imm32 | Sub_rm32_imm8 | Sub_rm64_imm8 | Sub_EAX_imm32 | Sub_RAX_imm32 => Some(Mnemonic::Sub),
        _ => None,
    }
}

/// `mov d, s` (32/64-bit registers) then `second`, an and, or, xor, add or
/// sub of d with an immediate the host instruction encodes, whose flags
/// nothing reads: one host instruction from s (`mov eax, edi; and eax,
/// 0x7f`: x86's two operands make the copy). Returns whether it emitted
/// them. Not a 64-bit operation after a 32-bit copy.
fn copy_then_operation(e: &mut Emitter, copy: &Instruction, second: &Instruction) -> bool {
    use dynasmrt::aarch64::{encode_logical_immediate_32bit, encode_logical_immediate_64bit};
    let Some((dst, src)) = register_copy(copy) else { return false };
    let Some(op) = immediate_operation(second.code()) else { return false };
    let reg = second.op0_register();
    if second.op0_kind() != OpKind::Register || reg.full_register() != dst.full_register() || reg.size() > dst.size() {
        return false;
    }
    let (d, s, x) = (host(dst), host(src), reg.size() == 8);
    // iced's immediate is sign-extended to the operation's width.
    let value = if x { second.immediate(1) } else { second.immediate(1) & 0xffff_ffff };
    let signed = if x { value as i64 } else { i64::from(value as u32 as i32) };
    match (op, x) {
        (Mnemonic::And | Mnemonic::Or | Mnemonic::Xor, true) if encode_logical_immediate_64bit(value).is_some() => match op {
            Mnemonic::And => a64!(e.ops; and XSP(d), X(s), value),
            Mnemonic::Or => a64!(e.ops; orr XSP(d), X(s), value),
            _ => a64!(e.ops; eor XSP(d), X(s), value),
        },
        (Mnemonic::And | Mnemonic::Or | Mnemonic::Xor, false) if encode_logical_immediate_32bit(value as u32).is_some() => match op {
            Mnemonic::And => a64!(e.ops; and WSP(d), W(s), value as u32),
            Mnemonic::Or => a64!(e.ops; orr WSP(d), W(s), value as u32),
            _ => a64!(e.ops; eor WSP(d), W(s), value as u32),
        },
        (Mnemonic::Add | Mnemonic::Sub, _) => {
            // add d, s, #n or sub d, s, #n, n a 12-bit immediate.
            let n = if op == Mnemonic::Sub { signed.wrapping_neg() } else { signed };
            match (n, x) {
                (0..=4095, true) => a64!(e.ops; add XSP(d), XSP(s), n as u32),
                (0..=4095, false) => a64!(e.ops; add WSP(d), WSP(s), n as u32),
                (-4095..=-1, true) => a64!(e.ops; sub XSP(d), XSP(s), (-n) as u32),
                (-4095..=-1, false) => a64!(e.ops; sub WSP(d), WSP(s), (-n) as u32),
                _ => return false,
            }
        }
        _ => return false,
    }
    true
}

/// `first`, a load of a whole register from `[base]` (movzx from a byte
/// or word, a 32/64-bit mov), then `second`, which steps base by a small
/// immediate (add, sub, inc, dec, lea [base+n]) with its flags dead: one
/// post-indexed load (`movzx r8d, byte [rcx]; add rcx, 1` is `ldrb w8,
/// [x1], #1`, a string loop's). Not with x86's memory order (ordered
/// loads take no writeback), nor into the base register itself. A fault
/// leaves the base register as it was (aarch64 restarts such loads), as
/// x86 faults before the step. Returns whether it emitted them.
fn load_then_step(e: &mut Emitter, first: &Instruction, second: &Instruction) -> bool {
    use Code::*;
    let size = match first.code() {
        Movzx_r32_rm8 | Movzx_r64_rm8 => 1,
        Movzx_r32_rm16 | Movzx_r64_rm16 => 2,
        Mov_r32_rm32 => 4,
        Mov_r64_rm64 => 8,
        _ => return false,
    };
    let Some((d, b, step)) = post_indexed(e, first, 1, first.op0_register(), second) else { return false };
    e.mark_access();
    match size {
        1 => a64!(e.ops; ldrb W(d), [X(b)], step),
        2 => a64!(e.ops; ldrh W(d), [X(b)], step),
        4 => a64!(e.ops; ldr W(d), [X(b)], step),
        _ => a64!(e.ops; ldr X(d), [X(b)], step),
    }
    true
}

/// A store `mov [base], r` of 1, 2, 4 or 8 bytes then a step of base, as
/// `load_then_step` (`strb w0, [x7], #1`; not a store of the base
/// itself, nor of AH..BH).
fn store_then_step(e: &mut Emitter, first: &Instruction, second: &Instruction) -> bool {
    use Code::*;
    let size = match first.code() {
        Mov_rm8_r8 if !matches!(first.op1_register(), Register::AH | Register::CH | Register::DH | Register::BH) => 1,
        Mov_rm16_r16 => 2,
        Mov_rm32_r32 => 4,
        Mov_rm64_r64 => 8,
        _ => return false,
    };
    let Some((v, b, step)) = post_indexed(e, first, 0, first.op1_register(), second) else { return false };
    e.mark_access();
    match size {
        1 => a64!(e.ops; strb W(v), [X(b)], step),
        2 => a64!(e.ops; strh W(v), [X(b)], step),
        4 => a64!(e.ops; str W(v), [X(b)], step),
        _ => a64!(e.ops; str X(v), [X(b)], step),
    }
    true
}

/// `insns[0]`, a load or store of a whole general register at `[base]`
/// (`load_then_step`, `store_then_step`), and a later step of base as one
/// post-indexed access: the step's index, 1, or 2 past an instruction
/// that touches neither base nor memory (`apart`: it then runs after the
/// step, which only it could tell, and it does not read base). `needed(j)`:
/// the flags `insns[j]` must leave correct. None: nothing was emitted.
pub fn access_then_step(e: &mut Emitter, insns: &[Instruction], needed: impl Fn(usize) -> FlagSet) -> Option<usize> {
    let first = &insns[0];
    let load = first.op1_kind() == OpKind::Memory;
    // Most accesses have a displacement or an index: that test first
    // (this runs for every mov with a memory operand).
    if !at_base(first, if load { 1 } else { 0 }) {
        return None;
    }
    let k = step_index(insns, needed)?;
    let emitted = if load { load_then_step(e, first, &insns[k]) } else { store_then_step(e, first, &insns[k]) };
    emitted.then_some(k)
}

/// A step a vector access at `[base]` takes as its post-index
/// (`Emitter::post_step`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostStep {
    /// The host register of the guest base.
    pub base: Reg,
    pub step: i32,
    /// The stepping instruction's index after the access's (1 or 2).
    pub second: usize,
    /// Set by the access that took it.
    pub taken: bool,
}

/// The codes of the moves between an XMM register's low 4 or 8 bytes or
/// all 16 and memory that `vector_step` takes, as a pattern (`translate`
/// matches them when it looks at each instruction's code once).
macro_rules! vector_move_codes {
    () => {
        iced_x86::Code::Movsd_xmm_xmmm64
            | iced_x86::Code::Movsd_xmmm64_xmm
            | iced_x86::Code::Movss_xmm_xmmm32
            | iced_x86::Code::Movss_xmmm32_xmm
            | iced_x86::Code::Movups_xmm_xmmm128
            | iced_x86::Code::Movups_xmmm128_xmm
            | iced_x86::Code::Movupd_xmm_xmmm128
            | iced_x86::Code::Movupd_xmmm128_xmm
            | iced_x86::Code::Movaps_xmm_xmmm128
            | iced_x86::Code::Movaps_xmmm128_xmm
            | iced_x86::Code::Movapd_xmm_xmmm128
            | iced_x86::Code::Movapd_xmmm128_xmm
            | iced_x86::Code::Movdqu_xmm_xmmm128
            | iced_x86::Code::Movdqu_xmmm128_xmm
            | iced_x86::Code::Movdqa_xmm_xmmm128
            | iced_x86::Code::Movdqa_xmmm128_xmm
            | iced_x86::Code::Movq_xmm_xmmm64
            | iced_x86::Code::Movq_xmmm64_xmm
            | iced_x86::Code::VEX_Vmovsd_xmm_m64
            | iced_x86::Code::VEX_Vmovsd_m64_xmm
            | iced_x86::Code::VEX_Vmovss_xmm_m32
            | iced_x86::Code::VEX_Vmovss_m32_xmm
            | iced_x86::Code::VEX_Vmovups_xmm_xmmm128
            | iced_x86::Code::VEX_Vmovups_xmmm128_xmm
            | iced_x86::Code::VEX_Vmovupd_xmm_xmmm128
            | iced_x86::Code::VEX_Vmovupd_xmmm128_xmm
            | iced_x86::Code::VEX_Vmovdqu_xmm_xmmm128
            | iced_x86::Code::VEX_Vmovdqu_xmmm128_xmm
    };
}
pub(crate) use vector_move_codes;

/// Whether `insn` moves an XMM register's low 4 or 8 bytes or all 16 to
/// or from memory and nothing else: its code's one memory access is the
/// whole of it, so a post-index taken there is taken once.
fn vector_move(insn: &Instruction) -> bool {
    matches!(insn.code(), vector_move_codes!())
}

/// For `insns[0]`, a vector move at `[base]` (`vector_move`) and a later
/// step of base (`step_index`): the post-index for the access
/// (`Emitter::post_step`), with the step's index. Vector accesses are plain under
/// every memory order. A fault leaves the base as it was, as for
/// `load_then_step`.
pub fn vector_step(insns: &[Instruction], needed: impl Fn(usize) -> FlagSet) -> Option<PostStep> {
    let first = &insns[0];
    let mem = if first.op0_kind() == OpKind::Memory { 0 } else { 1 };
    if !at_base(first, mem) || !vector_move(first) || !crate::tuning::tuning().fused_pairs {
        return None;
    }
    let base = first.memory_base();
    let second = step_index(insns, needed)?;
    Some(PostStep { base: host(base), step: base_step(&insns[second], base)?, second, taken: false })
}

/// Where the base of `insns[0]`'s memory operand steps (`base_step`) with
/// its flags dead: 1, the next instruction, or 2, past one `apart` from
/// the base.
fn step_index(insns: &[Instruction], needed: impl Fn(usize) -> FlagSet) -> Option<usize> {
    let base = insns[0].memory_base();
    let next = insns.get(1)?;
    if base_step(next, base).is_some() {
        return needed(1).is_empty().then_some(1);
    }
    let second = insns.get(2)?;
    (base_step(second, base).is_some() && needed(2).is_empty() && apart(next, &[base])).then_some(2)
}

/// Whether `insn`'s operand `mem` is `[base]`: a 64-bit general register
/// alone, in a segment with no base.
fn at_base(insn: &Instruction, mem: u32) -> bool {
    insn.op_kind(mem) == OpKind::Memory
        && insn.memory_base().is_gpr64()
        && insn.memory_index() == Register::None
        && insn.memory_displacement64() == 0
        && super::operand::flat_segment(insn)
}

/// For an access whose operand `mem` (its index) is `[base]` and whose
/// register operand is `reg` (not base), then `second`, a step of base:
/// the host registers of reg and base, and the step. None where x86's
/// memory order orders the access (ordered ones take no writeback).
fn post_indexed(e: &Emitter, first: &Instruction, mem: u32, reg: Register, second: &Instruction) -> Option<(Reg, Reg, i32)> {
    let base = first.memory_base();
    if !at_base(first, mem) || reg.full_register() == base || e.ordered_accesses() || !crate::tuning::tuning().fused_pairs {
        return None;
    }
    let step = base_step(second, base)?;
    Some((host(reg), host(base), step))
}

/// What `insn` adds to the 64-bit register `base`, if it only steps it by
/// a nonzero immediate a post-indexed access takes (-256..255).
fn base_step(insn: &Instruction, base: Register) -> Option<i32> {
    use Code::*;
    if insn.op0_kind() != OpKind::Register || insn.op0_register() != base {
        return None;
    }
    let step = match insn.code() {
        Add_rm64_imm8 | Add_rm64_imm32 => insn.immediate(1) as i64,
        Sub_rm64_imm8 | Sub_rm64_imm32 => (insn.immediate(1) as i64).wrapping_neg(),
        Inc_rm64 => 1,
        Dec_rm64 => -1,
        Lea_r64_m if insn.memory_base() == base && insn.memory_index() == Register::None => insn.memory_displacement64() as i64,
        _ => return None,
    };
    ((-256..256).contains(&step) && step != 0).then_some(step as i32)
}

/// The destination and source of `copy`, a mov between two registers
/// (not `mov eax, eax`, a zero extension in place), where pairs are on.
fn register_copy(copy: &Instruction) -> Option<(Register, Register)> {
    let (dst, src) = (copy.op0_register(), copy.op1_register());
    let registers = copy.op0_kind() == OpKind::Register && copy.op1_kind() == OpKind::Register && dst != src;
    (registers && crate::tuning::tuning().fused_pairs).then_some((dst, src))
}

/// A shift of a whole 32/64-bit register by an immediate.
#[derive(Clone, Copy)]
struct Shift {
    reg: Register,
    by: u32,
}

fn shift_right(insn: &Instruction) -> Option<Shift> {
    (immediate_shift(insn.code()) == Some(Mnemonic::Shr)).then_some(())?;
    register_shift(insn)
}

fn shift_left(insn: &Instruction) -> Option<Shift> {
    (immediate_shift(insn.code()) == Some(Mnemonic::Shl)).then_some(())?;
    register_shift(insn)
}

fn register_shift(insn: &Instruction) -> Option<Shift> {
    if insn.op0_kind() != OpKind::Register {
        return None;
    }
    let reg = insn.op0_register();
    let bits = 8 * reg.size() as u32;
    let by = match insn.op1_kind() {
        OpKind::Immediate8 => u32::from(insn.immediate8()),
        _ => 1,
    } & (bits - 1);
    (by > 0).then_some(Shift { reg, by })
}

/// `movzx r32, r8/r16` from a general register's low byte or word (not
/// AH..BH): (destination, source, source bits).
fn zero_extension(insn: &Instruction) -> Option<(Register, Register, u32)> {
    use Code::*;
    let bits = match insn.code() {
        Movzx_r32_rm8 | Movzx_r64_rm8 => 8,
        Movzx_r32_rm16 | Movzx_r64_rm16 => 16,
        _ => return None,
    };
    let src = insn.op1_register();
    let high8 = matches!(src, Register::AH | Register::CH | Register::DH | Register::BH);
    (insn.op1_kind() == OpKind::Register && !high8).then_some((insn.op0_register(), src, bits))
}

fn host(reg: Register) -> Reg {
    regs::gpr(reg.full_register() as usize - Register::RAX as usize)
}

/// `shr r, n; movzx r, r8/r16` of the same register: bits n.. of r,
/// zero-extended (what the shift brought down, as wide as the movzx
/// takes and the register has).
fn extract(e: &mut Emitter, shift: Shift, second: &Instruction) -> bool {
    let Some((dst, src, bits)) = zero_extension(second) else { return false };
    if src.full_register() != shift.reg.full_register() || dst.full_register() != shift.reg.full_register() {
        return false;
    }
    let r = host(shift.reg);
    let width = bits.min(8 * shift.reg.size() as u32 - shift.by);
    a64!(e.ops; ubfx X(r), X(r), shift.by, width);
    true
}

/// `movzx d, r8/r16; shl d, n`: the zero-extended value shifted into
/// place (bits shifted past the top of a 32-bit register are gone).
fn zero_extend_then_shift(e: &mut Emitter, first: &Instruction, second: &Instruction) -> bool {
    let Some((dst, src, bits)) = zero_extension(first) else { return false };
    let Some(shift) = shift_left(second) else { return false };
    if shift.reg.full_register() != dst.full_register() {
        return false;
    }
    let size = 8 * shift.reg.size() as u32;
    let (d, s, width) = (host(dst), host(src), bits.min(size - shift.by));
    if size == 64 {
        a64!(e.ops; ubfiz X(d), X(s), shift.by, width);
    } else {
        a64!(e.ops; ubfiz W(d), W(s), shift.by, width);
    }
    true
}

/// `shl r, n; add r, s` (s another register of r's size): r = s + (r <<
/// n), with N, Z, C and V from `adds` if the add's are needed (not PF or
/// AF: their sources need the shifted value apart).
fn shifted_add(e: &mut Emitter, shift: Shift, second: &Instruction, needed: FlagSet) -> bool {
    use Code::*;
    if !matches!(second.code(), Add_rm32_r32 | Add_rm64_r64 | Add_r32_rm32 | Add_r64_rm64)
        || second.op0_kind() != OpKind::Register
        || second.op1_kind() != OpKind::Register
        || second.op0_register() != shift.reg
        || second.op1_register().full_register() == shift.reg.full_register()
        || needed.has(FlagSet::PF)
        || needed.has(FlagSet::AF)
    {
        return false;
    }
    let (r, s) = (host(shift.reg), host(second.op1_register()));
    let nzcv = !needed.and(FlagSet::NZCV).is_empty();
    match (shift.reg.size() == 8, nzcv) {
        (true, true) => a64!(e.ops; adds X(r), X(s), X(r), lsl shift.by),
        (true, false) => a64!(e.ops; add X(r), X(s), X(r), lsl shift.by),
        (false, true) => a64!(e.ops; adds W(r), W(s), W(r), lsl shift.by),
        (false, false) => a64!(e.ops; add W(r), W(s), W(r), lsl shift.by),
    }
    if nzcv {
        e.polarity = Polarity::Carry;
    }
    true
}
