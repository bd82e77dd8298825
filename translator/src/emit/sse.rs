//! The SSE/SSE2 subset (filled in below); guest XMMn lives in host v(16+n).

use super::{EmitResult, Emitter};
use crate::translate::Handler;
use iced_x86::Instruction;

pub fn handler(_insn: &Instruction) -> Option<Handler> {
    None
}

#[allow(dead_code)]
fn placeholder(_e: &mut Emitter, _i: &Instruction) -> EmitResult {
    Err(super::Unsupported)
}
