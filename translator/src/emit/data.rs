//! Data movement: mov and its extending forms, lea, xchg, push/pop, cmov,
//! setcc, sign-extension of the accumulator, bswap, cmpxchg, xadd, and the
//! flag-only instructions (clc, stc, cmc, cld, std).

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::alu::{binary, AluOp};
use super::operand::{Addr, Loc};
use super::{Reg, a64, regs, EmitResult, Emitter, Flow, Polarity, Unsupported};
use crate::cpu::state::offsets;
use crate::frontend::flags::FlagSet;
use iced_x86::{Instruction, Register};

pub fn mov(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    match (dst, src) {
        (Loc::Reg { host, size: 8, .. }, Loc::Imm { value, .. }) => e.load_constant(host, value),
        (Loc::Reg { host, size: 4, .. }, Loc::Imm { value, .. }) => e.load_constant(host, value & 0xffff_ffff),
        (_, Loc::Imm { value: 0, .. }) => e.write(dst, 31),
        // A 32-bit load zero-extends, as a 32-bit register write must.
        (Loc::Reg { host, size: 4 | 8, .. }, Loc::Mem { addr, size }) if direct_results() => {
            e.load_from(host, addr, size, false)
        }
        _ => {
            let v = e.read(src);
            e.write(dst, v);
        }
    }
    Ok(Flow::Next)
}

/// movzx, movsx, movsxd.
pub fn mov_extend(e: &mut Emitter, insn: &Instruction, signed: bool) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    match (dst, src) {
        _ if !direct_results() => {
            let v = if signed { e.read_sx(src) } else { e.read_zx(src) };
            e.write(dst, v);
        }
        // Straight into the destination: a zero-extending load suits both
        // widths, a sign-extending one (to 64 bits) only the 64-bit one.
        (Loc::Reg { host, size: 8, .. }, Loc::Mem { addr, size }) => e.load_from(host, addr, size, signed),
        (Loc::Reg { host, size: 4, .. }, Loc::Mem { addr, size }) if !signed => e.load_from(host, addr, size, false),
        (Loc::Reg { host, size: 8, .. }, Loc::Reg { host: from, size, high8: false }) => e.extend(host, from, size, signed),
        (Loc::Reg { host, size: 4, .. }, Loc::Reg { host: from, size, high8: false }) => match (size, signed) {
            (1, true) => a64!(e.ops; sxtb W(host), W(from)),
            (2, true) => a64!(e.ops; sxth W(host), W(from)),
            _ => e.extend(host, from, size, false),
        },
        _ => {
            let v = if signed { e.read_sx(src) } else { e.read_zx(src) };
            e.write(dst, v);
        }
    }
    Ok(Flow::Next)
}

pub fn lea(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    if lea_direct(e, insn, dst)? {
        return Ok(Flow::Next);
    }
    let (reg, off) = e.address_no_segment(insn)?;
    let r = e.result_reg(dst);
    e.add_imm(r, reg, off as i64);
    e.write(dst, r);
    Ok(Flow::Next)
}

/// lea computed straight into a 32- or 64-bit destination register (false:
/// not this form, the general path computes it):
/// `base + (index << scale)` in one add, then the displacement; an index
/// alone without one (`lea r, [i*4]`), one shift. 64-bit
/// addressing only (a 32-bit lea of a 64-bit address truncates, which the
/// W form of the same adds does).
fn lea_direct(e: &mut Emitter, insn: &Instruction, dst: Loc) -> Result<bool, Unsupported> {
    let Loc::Reg { host: r, size: size @ (4 | 8), .. } = dst else { return Ok(false) };
    let (base, index) = (insn.memory_base(), insn.memory_index());
    if base == Register::RIP && size == 8 && direct_results() {
        // iced gives the absolute address.
        e.mov_guest_address(r, insn.memory_displacement64());
        return Ok(true);
    }
    if !direct_results() || !(index == Register::None || index.is_gpr64()) {
        return Ok(false);
    }
    if base == Register::None && index != Register::None && insn.memory_displacement64() == 0 {
        // `lea r, [i*4]` (table indexing): one shift.
        let i = super::operand::gpr_of(index)?.0;
        let shift = insn.memory_index_scale().trailing_zeros();
        match (size, shift) {
            (8, 0) => a64!(e.ops; mov X(r), X(i)),
            (8, _) => a64!(e.ops; lsl X(r), X(i), shift),
            (_, 0) => a64!(e.ops; mov W(r), W(i)),
            _ => a64!(e.ops; lsl W(r), W(i), shift),
        }
        return Ok(true);
    }
    if !base.is_gpr64() {
        return Ok(false);
    }
    let b = super::operand::gpr_of(base)?.0;
    let disp = insn.memory_displacement64() as i64;
    let shift = insn.memory_index_scale().trailing_zeros();
    let wide = size == 8;
    let from = if index == Register::None {
        b
    } else {
        let i = super::operand::gpr_of(index)?.0;
        // The displacement goes in after the index: r may be b or i.
        if wide {
            a64!(e.ops; add X(r), X(b), X(i), lsl shift);
        } else {
            a64!(e.ops; add W(r), W(b), W(i), lsl shift);
        }
        r
    };
    match (wide, disp) {
        (true, 0) if from != r => a64!(e.ops; mov X(r), X(from)),
        (true, 0) => {}
        (false, 0) if from != r => a64!(e.ops; mov W(r), W(from)),
        (false, 0) => {}
        (true, d) => e.add_imm(r, from, d),
        (false, d) if (0..4096).contains(&d) => a64!(e.ops; add WSP(r), WSP(from), d as u32),
        (false, d) if (-4095..0).contains(&d) => a64!(e.ops; sub WSP(r), WSP(from), (-d) as u32),
        (false, d) => {
            e.add_imm(r, from, d);
            a64!(e.ops; mov W(r), W(r));
        }
    }
    Ok(true)
}

fn direct_results() -> bool {
    crate::tuning::tuning().direct_results
}

pub fn xchg(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let a = e.loc(insn, 0)?;
    let b = e.loc(insn, 1)?;
    if a == b {
        // xchg r32, r32 still zero-extends; nop (xchg eax, eax) never reaches here.
        let v = e.read(a);
        e.write(a, v);
        return Ok(Flow::Next);
    }
    let va = e.read(a);
    let t = e.tmp();
    a64!(e.ops; mov X(t), X(va));
    let vb = e.read(b);
    // Memory first: under the implicit lock a failed store retries the
    // instruction, which must find its registers unchanged.
    if let Loc::Mem { .. } = b {
        e.write(b, t);
        e.write(a, vb);
    } else {
        e.write(a, vb);
        e.write(b, t);
    }
    Ok(Flow::Next)
}

/// Pushes the low 8 bytes of `v` (rsp -= 8).
pub fn push_reg(e: &mut Emitter, v: Reg) {
    if v == regs::RSP {
        // Writeback to the stored register is unpredictable on aarch64.
        let t = e.tmp();
        a64!(e.ops; sub XSP(t), XSP(regs::RSP), 8 ; str X(regs::RSP), [X(t)] ; mov X(regs::RSP), X(t));
    } else {
        a64!(e.ops; str X(v), [X(regs::RSP), -8]!);
    }
}

pub fn push(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let src = e.loc(insn, 0)?;
    if insn.stack_pointer_increment() != -8 {
        return Err(Unsupported);
    }
    let v = match src {
        Loc::Imm { value, .. } => {
            let t = e.tmp();
            e.load_constant(t, value);
            t
        }
        _ => e.read(src),
    };
    push_reg(e, v);
    Ok(Flow::Next)
}

pub fn pop(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if insn.stack_pointer_increment() != 8 {
        return Err(Unsupported);
    }
    match e.loc(insn, 0)? {
        Loc::Reg { host: regs::RSP, size: 8, .. } => a64!(e.ops; ldr X(regs::RSP), [X(regs::RSP)]),
        Loc::Reg { host, size: 8, .. } => a64!(e.ops; ldr X(host), [X(regs::RSP)], 8),
        _ => {
            // pop to memory: the address uses the incremented RSP, but a
            // fault on the store must find RSP as it was before the pop.
            let t = e.tmp();
            a64!(e.ops; ldr X(t), [X(regs::RSP)] ; add XSP(regs::RSP), XSP(regs::RSP), 8);
            let Loc::Mem { addr, size } = e.loc(insn, 0)? else { return Err(Unsupported) };
            let (base, off) = e.base_offset(addr);
            let at = e.tmp();
            e.add_imm(at, base, off as i64);
            a64!(e.ops; sub XSP(regs::RSP), XSP(regs::RSP), 8);
            e.write(Loc::Mem { addr: Addr::Offset { base: at, off: 0 }, size }, t);
            a64!(e.ops; add XSP(regs::RSP), XSP(regs::RSP), 8);
        }
    }
    Ok(Flow::Next)
}

/// Whether `first` and `second` are two pushes or two pops of 64-bit
/// registers, for `stack_pair`.
#[inline]
pub fn same_stack_access(first: &Instruction, second: &Instruction) -> bool {
    use iced_x86::Code::{Pop_r64, Push_r64};
    matches!(first.code(), Push_r64 | Pop_r64) && second.code() == first.code()
}

/// `push a; push b` or `pop a; pop b` of 64-bit registers other than RSP
/// (distinct ones for pops) as one stp/ldp, as aarch64 compilers pair
/// saves and restores; returns whether it emitted them. `first` and
/// `second` pass `same_stack_access`. The access is the
/// first instruction's code, so a fault finds the state before the pair;
/// run again from there, the pair does the same.
pub fn stack_pair(e: &mut Emitter, first: &Instruction, second: &Instruction) -> bool {
    use iced_x86::Code::Push_r64;
    let code = first.code();
    if !crate::tuning::tuning().paired_stack {
        return false;
    }
    let host = |r: Register| regs::gpr(r.full_register() as usize - Register::RAX as usize);
    let (a, b) = (host(first.op0_register()), host(second.op0_register()));
    if a == regs::RSP || b == regs::RSP {
        return false;
    }
    if code == Push_r64 {
        // b is pushed last: it lands below a.
        a64!(e.ops; stp X(b), X(a), [X(regs::RSP), -16]!);
    } else if a != b {
        a64!(e.ops; ldp X(a), X(b), [X(regs::RSP)], 16);
    } else {
        return false;
    }
    true
}

pub fn leave(e: &mut Emitter, _insn: &Instruction) -> EmitResult {
    const RBP: Reg = 5;
    a64!(e.ops; mov X(regs::RSP), X(RBP) ; ldr X(RBP), [X(regs::RSP)], 8);
    Ok(Flow::Next)
}

pub fn cmov(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    let v = e.read(src);
    let cond = e.cond(insn.condition_code());
    match dst {
        Loc::Reg { host, size: 8, .. } => e.select(host, v, host, cond, true),
        // 32-bit cmov zero-extends the destination whether or not it moves.
        Loc::Reg { host, size: 4, .. } => e.select(host, v, host, cond, false),
        _ => {
            let cur = e.read(dst);
            let t = e.tmp();
            e.select(t, v, cur, cond, true);
            e.write(dst, t);
        }
    }
    Ok(Flow::Next)
}

pub fn setcc(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let cond = e.cond(insn.condition_code());
    let t = e.tmp();
    e.set_if(t, cond);
    e.write(dst, t);
    Ok(Flow::Next)
}

/// cbw, cwde, cdqe: sign-extend the low half of the accumulator in place.
pub fn extend_acc(e: &mut Emitter, from: u8) -> EmitResult {
    // cdqe and cwde write all of their register: one sign extension in place.
    match from {
        4 => a64!(e.ops; sxtw X(regs::RAX), W(regs::RAX)),
        2 => a64!(e.ops; sxth W(regs::RAX), W(regs::RAX)),
        _ => {}
    }
    if from >= 2 {
        return Ok(Flow::Next);
    }
    let t = e.tmp();
    e.extend(t, regs::RAX, from, true);
    e.write(Loc::Reg { host: regs::RAX, size: from * 2, high8: false }, t);
    Ok(Flow::Next)
}

/// cwd, cdq, cqo: rDX = sign of rAX.
pub fn sign_to_dx(e: &mut Emitter, size: u8) -> EmitResult {
    // cdq and cqo write all of rDX (cdq zeroes its upper half, as a 32-bit
    // `asr` does): one shift of rAX's sign.
    match size {
        8 => a64!(e.ops; asr X(regs::RDX), X(regs::RAX), 63),
        4 => a64!(e.ops; asr W(regs::RDX), W(regs::RAX), 31),
        _ => {}
    }
    if size >= 4 {
        return Ok(Flow::Next);
    }
    let t = e.tmp();
    e.extend(t, regs::RAX, size, true);
    a64!(e.ops; asr X(t), X(t), 63);
    e.write(Loc::Reg { host: regs::RDX, size, high8: false }, t);
    Ok(Flow::Next)
}

pub fn bswap(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    match e.loc(insn, 0)? {
        Loc::Reg { host, size: 8, .. } => a64!(e.ops; rev X(host), X(host)),
        Loc::Reg { host, size: 4, .. } => a64!(e.ops; rev W(host), W(host)),
        // The SDM leaves a 16-bit bswap undefined; Intel CPUs clear the
        // register's low 16 bits, and so does Transit.
        Loc::Reg { host, size: 2, .. } => a64!(e.ops; and XSP(host), X(host), 0xffff_ffff_ffff_0000u64),
        _ => return Err(Unsupported),
    }
    Ok(Flow::Next)
}

pub fn nop(_e: &mut Emitter, _insn: &Instruction) -> EmitResult {
    Ok(Flow::Next)
}

/// clflush, clflushopt, clwb: x86 keeps caches coherent with code and
/// devices a user program can reach, so only the access check is left: a
/// line the guest cannot read faults (SDM: #PF), as a byte load does.
pub fn cache_line_hint(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (base, off) = e.address(insn)?;
    a64!(e.ops; ldurb wzr, [X(base), off]);
    Ok(Flow::Next)
}

/// mfence: the one x86 ordering TSO code does not already keep (a store
/// before a later load) needs a full barrier once other threads look.
/// lfence and sfence order nothing TSO code does not.
pub fn mfence(e: &mut Emitter, _insn: &Instruction) -> EmitResult {
    if e.order == super::MemoryOrder::Tso {
        a64!(e.ops; dmb ish);
    }
    Ok(Flow::Next)
}

/// clc, stc, cmc.
pub fn carry_flag(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if !e.needed.has(FlagSet::CF) {
        return Ok(Flow::Next);
    }
    match insn.mnemonic() {
        iced_x86::Mnemonic::Cmc => {
            // Flipping the polarity flips CF without touching the host flags.
            e.polarity = if e.polarity == Polarity::Borrow { Polarity::Carry } else { Polarity::Borrow };
        }
        m => {
            let t = e.tmp();
            let cf = u64::from(m == iced_x86::Mnemonic::Stc);
            a64!(e.ops; movz X(t), cf as u32);
            e.insert_c(t);
        }
    }
    Ok(Flow::Next)
}

/// cld, std.
pub fn direction_flag(e: &mut Emitter, set: bool) -> EmitResult {
    let t = e.tmp();
    a64!(e.ops; movz X(t), set as u32 ; str X(t), [X(regs::STATE), offsets::DF]);
    Ok(Flow::Next)
}

/// cmpxchg r/m, r: compare the accumulator with the destination.
pub fn cmpxchg(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    let size = dst.size();
    let acc = Loc::Reg { host: regs::RAX, size, high8: false };
    let old = e.read(dst);
    let old_copy = e.tmp();
    a64!(e.ops; mov X(old_copy), X(old));
    let a = e.read(acc);
    let saved_needed = e.needed;
    // Equality decides the outcome, so the comparison always sets Z.
    e.needed = e.needed.union(FlagSet::ZF);
    let scratch = e.tmp();
    binary(e, AluOp::Cmp, size, a, old_copy, scratch);
    e.needed = saved_needed;
    let differ = e.label();
    let done = e.label();
    a64!(e.ops; b.ne =>differ);
    let v = e.read(src);
    e.write(dst, v);
    e.jump(done);
    e.bind(differ);
    if let Loc::Mem { .. } = dst {
        // The processor writes the destination back even on failure.
        e.write(dst, old_copy);
    }
    e.write(acc, old_copy);
    e.bind(done);
    Ok(Flow::Next)
}

/// xadd r/m, r: exchange, then add.
pub fn xadd(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    let old = e.read(dst);
    let old_copy = e.tmp();
    a64!(e.ops; mov X(old_copy), X(old));
    let b = e.read(src);
    let r = e.tmp();
    binary(e, AluOp::Add, dst.size(), old_copy, b, r);
    if let Loc::Mem { .. } = dst {
        // Memory first: a failed exclusive store (lock xadd) retries the
        // instruction, which must find the source register unchanged.
        e.write(dst, r);
        e.write(src, old_copy);
    } else {
        // xadd r, r with one register for both ends up holding the sum.
        e.write(src, old_copy);
        e.write(dst, r);
    }
    Ok(Flow::Next)
}

