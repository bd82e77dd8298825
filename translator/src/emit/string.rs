//! String instructions. movs and stos (with or without rep) run inline when
//! DF is clear, which is how compilers and libcs use them; everything else
//! (DF set, cmps, scas, lods) goes to the interpreter. A rep movs or stos
//! moves 32 bytes a step while it can (glibc's memcpy and memset use rep
//! movsb and stosb from a few KiB up), then element by element.

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::{a64, regs, EmitResult, Emitter, Flow, Unsupported};
use crate::cpu::state::offsets;
use crate::exit::ExitReason;
use iced_x86::{Instruction, Mnemonic};

pub fn movs_stos(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if insn.memory_size().size() == 0 {
        return Err(Unsupported);
    }
    let size = insn.memory_size().size() as u32;
    // On movs/stos, F2 (repne) repeats exactly like F3 (rep).
    let rep = insn.has_rep_prefix() || insn.has_repne_prefix();
    let slow = e.label();
    let done = e.label();
    let df = e.tmp();
    a64!(e.ops; ldr X(df), [X(regs::STATE), offsets::DF] ; cbnz X(df), =>slow);
    let movs = matches!(insn.mnemonic(), Mnemonic::Movsb | Mnemonic::Movsw | Mnemonic::Movsd | Mnemonic::Movsq);
    let v = e.tmp();
    let top = e.label();
    if rep {
        chunks(e, movs, size, top);
        e.bind(top);
        a64!(e.ops; cbz X(regs::RCX), =>done);
    }
    let step = size as i32;
    if movs {
        match size {
            1 => a64!(e.ops; ldrb W(v), [X(regs::RSI)], step ; strb W(v), [X(regs::RDI)], step),
            2 => a64!(e.ops; ldrh W(v), [X(regs::RSI)], step ; strh W(v), [X(regs::RDI)], step),
            4 => a64!(e.ops; ldr W(v), [X(regs::RSI)], step ; str W(v), [X(regs::RDI)], step),
            _ => a64!(e.ops; ldr X(v), [X(regs::RSI)], step ; str X(v), [X(regs::RDI)], step),
        }
    } else {
        match size {
            1 => a64!(e.ops; strb W(regs::RAX), [X(regs::RDI)], step),
            2 => a64!(e.ops; strh W(regs::RAX), [X(regs::RDI)], step),
            4 => a64!(e.ops; str W(regs::RAX), [X(regs::RDI)], step),
            _ => a64!(e.ops; str X(regs::RAX), [X(regs::RDI)], step),
        }
    }
    if rep {
        a64!(e.ops; sub XSP(regs::RCX), XSP(regs::RCX), 1);
        e.jump(top);
    }
    e.jump(done);
    e.bind(slow);
    e.exit(ExitReason::Interpret, insn.ip());
    e.bind(done);
    Ok(Flow::Next)
}

/// The 32-byte steps of `rep movs`/`rep stos` (DF clear), before the
/// element loop at `elements` finishes the rest. Each step updates RSI,
/// RDI and RCX only after its store, so a fault inside one leaves them at
/// the step's start (where the instruction resumes). A movs whose
/// destination starts less than 32 bytes after its source copies
/// element by element: x86 copies forward one element at a time, so such
/// an overlap repeats the first bytes, which a 32-byte step would not.
fn chunks(e: &mut Emitter, movs: bool, size: u32, elements: dynasmrt::DynamicLabel) {
    const STEP: u32 = 32;
    let per_step = STEP / size;
    let step = e.label();
    let (a, b) = (e.vtmp(), e.vtmp());
    // No compare: the guest's flags live in NZCV across the instruction.
    let t = e.tmp();
    if movs {
        a64!(e.ops
            ; sub X(t), X(regs::RDI), X(regs::RSI)
            ; lsr X(t), X(t), STEP.trailing_zeros()
            ; cbz X(t), =>elements
        );
    } else {
        match size {
            1 => a64!(e.ops; dup V(a).B16, W(regs::RAX)),
            2 => a64!(e.ops; dup V(a).H8, W(regs::RAX)),
            4 => a64!(e.ops; dup V(a).S4, W(regs::RAX)),
            _ => a64!(e.ops; dup V(a).D2, X(regs::RAX)),
        }
    }
    e.bind(step);
    // RCX < per_step: the difference is negative (no count reaches 2^63).
    a64!(e.ops; sub XSP(t), XSP(regs::RCX), per_step ; tbnz X(t), 63, =>elements);
    if movs {
        a64!(e.ops
            ; ldp Q(a), Q(b), [X(regs::RSI)]
            ; stp Q(a), Q(b), [X(regs::RDI)]
            ; add XSP(regs::RSI), XSP(regs::RSI), STEP
        );
    } else {
        a64!(e.ops; stp Q(a), Q(a), [X(regs::RDI)]);
    }
    a64!(e.ops
        ; add XSP(regs::RDI), XSP(regs::RDI), STEP
        ; sub XSP(regs::RCX), XSP(regs::RCX), per_step
        ; b =>step
    );
}
