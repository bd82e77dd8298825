//! String instructions. movs and stos (with or without rep) run inline when
//! DF is clear, which is how compilers and libcs use them; everything else
//! (DF set, cmps, scas, lods) goes to the interpreter.

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
    let v = e.tmp();
    let top = e.label();
    if rep {
        e.bind(top);
        a64!(e.ops; cbz X(regs::RCX), =>done);
    }
    let step = size as i32;
    match insn.mnemonic() {
        Mnemonic::Movsb | Mnemonic::Movsw | Mnemonic::Movsd | Mnemonic::Movsq => match size {
            1 => a64!(e.ops; ldrb W(v), [X(regs::RSI)], step ; strb W(v), [X(regs::RDI)], step),
            2 => a64!(e.ops; ldrh W(v), [X(regs::RSI)], step ; strh W(v), [X(regs::RDI)], step),
            4 => a64!(e.ops; ldr W(v), [X(regs::RSI)], step ; str W(v), [X(regs::RDI)], step),
            _ => a64!(e.ops; ldr X(v), [X(regs::RSI)], step ; str X(v), [X(regs::RDI)], step),
        },
        _ => match size {
            1 => a64!(e.ops; strb W(regs::RAX), [X(regs::RDI)], step),
            2 => a64!(e.ops; strh W(regs::RAX), [X(regs::RDI)], step),
            4 => a64!(e.ops; str W(regs::RAX), [X(regs::RDI)], step),
            _ => a64!(e.ops; str X(regs::RAX), [X(regs::RDI)], step),
        },
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
