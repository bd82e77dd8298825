//! Control flow: jumps, calls, returns, conditional branches, and the
//! instructions that leave translated code (syscall, traps).
//!
//! Direct targets are linked block to block; indirect ones go through the
//! lookup table inline and only exit to the dispatcher on a miss.

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::data::push_reg;
use super::{Reg, a64, regs, EmitResult, Emitter, Flow, Polarity};
use crate::frontend::flags::FlagSet;
use crate::cache::lookup_table::{CARRY_ENTRY, INDEX_LSB, LOOKUP_BITS, TAG};
use crate::exit::ExitReason;
use crate::cpu::state::offsets;
use crate::interp::xsave::AREA_FORMS;
use iced_x86::{Instruction, OpKind, Register};

/// Continues at the guest address in `target` (any register but x16/x17);
/// a miss leaves with `miss_reason` (`Return`, `IndirectCall`, `IndirectJump`:
/// the dispatcher counts them apart).
pub fn indirect_exit(e: &mut Emitter, target: Reg, miss_reason: ExitReason) {
    // Host C in the carry form (`add rax, rdx; jmp rax` in a PIC switch,
    // `add rsp, N; ret`) goes to the target's entry for that form, which
    // is the block itself when it writes CF before reading it: turning C
    // around would take three instructions without FlagM. Only the way to
    // the runtime needs the borrow form.
    let carry_form = e.polarity == Polarity::Carry && e.live_after.has(FlagSet::CF) && crate::tuning::tuning().indirect_carry;
    if !carry_form {
        e.canonicalize_flags();
    }
    let entry = 17;
    let key = 16;
    let miss = e.label();
    // x29 holds the table's base with the last lookup's index in the
    // bits an index sets (the table is aligned to its size): inserting
    // this one's makes the entry's address in one instruction.
    a64!(e.ops; bfi X(regs::LOOKUP), X(target), INDEX_LSB, LOOKUP_BITS);
    // The tag and the entry in one load: the tag is all that another
    // thread rewrites (see `cache::lookup_table`).
    if carry_form {
        a64!(e.ops; ldp X(entry), X(key), [X(regs::LOOKUP), CARRY_ENTRY]);
    } else {
        a64!(e.ops; ldp X(key), X(entry), [X(regs::LOOKUP), TAG]);
    }
    a64!(e.ops
        ; eor X(key), X(key), X(target)
        ; cbnz X(key), =>miss
    );
    // Unlinking this block turns the `br` into a nop: it falls into the miss path.
    e.indirect_site = Some(e.offset());
    a64!(e.ops
        ; br X(entry)
        ; =>miss
    );
    // The scratch x16 and x17 are free here for the fix-up.
    e.canonicalize_flags();
    a64!(e.ops; mov X(regs::EXIT_RIP), X(target));
    e.b_exit_stub(miss_reason);
}

/// Reads a branch operand (register or memory) into a scratch register that
/// `indirect_exit` may use.
fn target_operand(e: &mut Emitter, insn: &Instruction) -> Result<Reg, super::Unsupported> {
    let loc = e.loc(insn, 0)?;
    let v = e.read(loc);
    // A loaded target is in a scratch register already, and a guest
    // register stays as it is until the exit, but RSP, which `call`'s
    // push moves (and x16/x17, which the lookup itself uses).
    if v != regs::RSP && !matches!(v, regs::EXIT_RIP | 17) {
        return Ok(v);
    }
    let t = e.tmp();
    a64!(e.ops; mov X(t), X(v));
    Ok(t)
}

pub fn jmp(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if insn.op0_kind() == OpKind::NearBranch64 {
        e.direct_exit(insn.near_branch64());
    } else {
        let t = target_operand(e, insn)?;
        indirect_exit(e, t, ExitReason::IndirectJump);
    }
    Ok(Flow::Ended)
}

pub fn call(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.ends_with_call = true;
    let ret = e.tmp();
    e.mov_guest_address(ret, insn.next_ip());
    if insn.op0_kind() == OpKind::NearBranch64 {
        push_reg(e, ret);
        e.direct_exit(insn.near_branch64());
    } else {
        // The operand is read before the push moves RSP.
        let t = target_operand(e, insn)?;
        push_reg(e, ret);
        indirect_exit(e, t, ExitReason::IndirectCall);
    }
    Ok(Flow::Ended)
}

pub fn ret(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let t = e.tmp();
    a64!(e.ops; ldr X(t), [X(regs::RSP)], 8);
    if insn.op_count() == 1 {
        let n = insn.immediate16() as i64;
        e.add_imm(regs::RSP, regs::RSP, n);
    }
    indirect_exit(e, t, ExitReason::Return);
    Ok(Flow::Ended)
}

pub fn jcc(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    // Canonical flags first, so both exits leave them in the same form.
    e.canonicalize_flags();
    let cond = e.cond(insn.condition_code());
    if e.inside_block {
        // A side exit: the taken way leaves out of line, and the block
        // goes on. The exit is written at the block's end, with the flag
        // form and liveness of this point.
        // An SSE chain going on past the branch is written on the way
        // out, which the branch then always takes (no feeder to link).
        let chain = e.open_fp_chain();
        let (target, feeder) = (insn.near_branch64(), chain.is_none().then(|| e.offset()));
        let (polarity, live_after) = (e.polarity, e.live_after);
        e.cold_exit(
            |e, taken| e.branch_if(cond, taken),
            move |e| {
                let at_end = (e.polarity, e.live_after);
                (e.polarity, e.live_after) = (polarity, live_after);
                if let Some(chain) = chain {
                    e.write_chain_for_exit(chain);
                }
                e.direct_exit_fed(target, feeder);
                (e.polarity, e.live_after) = at_end;
            },
        );
        return Ok(Flow::Next);
    }
    // The way that leaves through the conditional branch alone (which the
    // cache links straight to its block) is the target of a backward
    // branch (a loop's) and the fall-through of a forward one.
    let (target, next) = (insn.near_branch64(), insn.next_ip());
    let (cond, by_branch, by_jump) = if target > insn.ip() && crate::tuning::tuning().forward_fall_through {
        (cond.negate(), next, target)
    } else {
        (cond, target, next)
    };
    let branch = e.label();
    let feeder = e.offset();
    e.branch_if(cond, branch);
    e.direct_exit(by_jump);
    e.bind(branch);
    e.direct_exit_fed(by_branch, Some(feeder));
    Ok(Flow::Ended)
}

/// The count register a jrcxz/loop form tests: RCX, or ECX with an
/// address-size prefix (loop writes it back as a 32-bit register).
fn counts_in_ecx(code: iced_x86::Code) -> bool {
    use iced_x86::Code::*;
    matches!(
        code,
        Jecxz_rel8_64 | Jecxz_rel8_16 | Loop_rel8_64_ECX | Loop_rel8_16_ECX | Loope_rel8_64_ECX | Loope_rel8_16_ECX
            | Loopne_rel8_64_ECX | Loopne_rel8_16_ECX
    )
}

/// jrcxz/jecxz, loop, loope and loopne: branch on the count register (and
/// ZF) without touching flags. The target iced computes is already cut to
/// 16 bits for the operand-size-prefixed forms.
pub fn count_branch(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    use iced_x86::Mnemonic::*;
    // Canonical flags first, so both exits leave them in the same form.
    e.canonicalize_flags();
    let taken = e.label();
    let not_taken = e.label();
    let ecx = counts_in_ecx(insn.code());
    let rcx = regs::RCX;
    if matches!(insn.mnemonic(), Loop | Loope | Loopne) {
        if ecx {
            a64!(e.ops; sub WSP(rcx), WSP(rcx), 1);
        } else {
            a64!(e.ops; sub XSP(rcx), XSP(rcx), 1);
        }
    }
    // Loope/loopne leave on a zero count first.
    if matches!(insn.mnemonic(), Loope | Loopne) {
        if ecx {
            a64!(e.ops; cbz W(rcx), =>not_taken);
        } else {
            a64!(e.ops; cbz X(rcx), =>not_taken);
        }
    }
    // The one branch to `taken`, which the cache may link straight to the target.
    let feeder = e.offset();
    match (insn.mnemonic(), ecx) {
        (Jrcxz, _) => a64!(e.ops; cbz X(rcx), =>taken),
        (Jecxz, _) => a64!(e.ops; cbz W(rcx), =>taken),
        (Loop, false) => a64!(e.ops; cbnz X(rcx), =>taken),
        (Loop, true) => a64!(e.ops; cbnz W(rcx), =>taken),
        // Canonical flags: host Z is ZF.
        (Loope, _) => a64!(e.ops; b.eq =>taken),
        (Loopne, _) => a64!(e.ops; b.ne =>taken),
        _ => return Err(super::Unsupported),
    }
    e.bind(not_taken);
    e.direct_exit(insn.next_ip());
    e.bind(taken);
    e.direct_exit_fed(insn.near_branch_target(), Some(feeder));
    Ok(Flow::Ended)
}

pub fn syscall(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.exit(ExitReason::Syscall, insn.next_ip());
    Ok(Flow::Ended)
}

/// cpuid and xgetbv: the dispatcher answers them without decoding, so a
/// start whose blocks all come from the persistent code cache never builds
/// the decoder's tables (about 0.8M host instructions; glibc's start-up
/// runs a few dozen cpuid). An xgetbv with prefixes goes through the
/// interpreter: the #GP it may raise must name its first byte.
pub fn cpuid(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.exit(ExitReason::Cpuid, insn.next_ip());
    Ok(Flow::Ended)
}

pub fn xgetbv(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if insn.len() != XGETBV_LEN {
        return interpret(e, insn);
    }
    e.exit(ExitReason::Xgetbv, insn.next_ip());
    Ok(Flow::Ended)
}

/// The length of `xgetbv` without prefixes (0F 01 D0).
pub const XGETBV_LEN: usize = 3;

/// xsave, xsaveopt, xsavec and xrstor (and their REX.W forms): the
/// dispatcher runs `interp::xsave::save_or_restore` on the area's address
/// computed here, without decoding (ld.so's lazy-binding trampoline runs
/// xsavec and xrstor at every first call of a function, so a warm start
/// would otherwise build the decoder's tables for them).
pub fn xsave_area(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let form = AREA_FORMS.iter().position(|&m| m == insn.mnemonic());
    let Some(form) = form.filter(|_| insn.memory_base() != Register::EIP) else { return interpret(e, insn) };
    let (reg, off) = e.address(insn)?;
    let t = e.tmp();
    e.add_imm(t, reg, i64::from(off));
    a64!(e.ops; str X(t), [X(regs::STATE), offsets::EXIT_OPERANDS]);
    e.mov_imm(t, form as u64 | (insn.len() as u64) << 8);
    a64!(e.ops; str X(t), [X(regs::STATE), offsets::EXIT_OPERANDS + 8]);
    e.exit(ExitReason::XsaveArea, insn.ip());
    Ok(Flow::Ended)
}

/// Instructions the slow-path interpreter runs (rcl/rcr, fxsave, ...).
pub fn interpret(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.exit(ExitReason::Interpret, insn.ip());
    Ok(Flow::Ended)
}

pub fn int3(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.exit(ExitReason::Breakpoint, insn.next_ip());
    Ok(Flow::Ended)
}

/// `int n`. Linux's x86_64 IDT lets user mode reach vector 3 (a
/// breakpoint, like int3) and 0x80 (the i386 syscall entry); any other
/// vector is a #GP, SIGSEGV.
pub fn int_n(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    match insn.immediate8() {
        3 => int3(e, insn),
        0x80 => {
            e.exit(ExitReason::CompatSyscall, insn.next_ip());
            Ok(Flow::Ended)
        }
        _ => privileged(e, insn),
    }
}

/// hlt and other privileged instructions: #GP, SIGSEGV in user mode.
pub fn privileged(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.exit(ExitReason::GeneralProtection, insn.ip());
    Ok(Flow::Ended)
}

pub fn ud(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.illegal(insn)
}

/// rdtsc: EDX:EAX = the host's virtual counter (monotonic, like a TSC).
pub fn rdtsc(e: &mut Emitter, _insn: &Instruction) -> EmitResult {
    let t = e.tmp();
    // mrs t, cntvct_el0
    e.raw(0xd53b_e040 | t as u32);
    a64!(e.ops
        ; mov W(regs::RAX), W(t)
        ; lsr X(regs::RDX), X(t), 32
    );
    Ok(Flow::Next)
}
