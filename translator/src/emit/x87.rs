//! The x87 forms generated code runs itself; every other x87 instruction
//! leaves for the interpreter (`interp::x87`), which emulates the 80-bit
//! arithmetic. fnstcw only stores the control word, which only the
//! interpreter changes: glibc's fegetround runs it, and Perl formats each
//! number through it (6,000 round trips to the interpreter in the bench's
//! Perl run, at about a thousand instructions each).

use super::{a64, regs, EmitResult, Emitter, Flow};
use crate::cpu::state::offsets;
#[allow(unused_imports)]
use dynasmrt::DynasmApi;
use iced_x86::Instruction;

// ldrh's unsigned offset reaches 8190.
const _: () = assert!(offsets::X87_CONTROL < 8190 && offsets::X87_CONTROL % 2 == 0);

/// fnstcw m16 (the form without a wait: no pending exception to raise).
pub fn store_control(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (base, off) = e.address(insn)?;
    let t = e.tmp();
    a64!(e.ops; ldrh W(t), [X(regs::STATE), offsets::X87_CONTROL]);
    e.store(t, base, off, 2);
    Ok(Flow::Next)
}
