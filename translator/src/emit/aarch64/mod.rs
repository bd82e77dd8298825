//! A typed aarch64 instruction layer under the x86 semantics: registers as
//! newtypes, operand size and vector arrangement as data, one encoder.
//!
//! An x86 operation names *what* to compute (`VecOp`) and on which lanes
//! (`Arrangement`); the same definition then serves every width (a 64-bit
//! MMX operation, 128-bit SSE, the two halves of a 256-bit AVX operation)
//! without a copy per arrangement. Emitters build `Inst` values and hand
//! them to `Emitter::inst`; `encode` (with `memory` for loads and
//! stores) is the only place that knows bit layouts, and their tests check
//! every form against dynasm-rs.

mod encode;
mod inst;
mod memory;
mod operands;

pub use encode::{encodable, encode};
pub use inst::{Inst, VecOp};
pub use memory::{MemAddr, Width};
pub use operands::{Arrangement, ElementSize, VReg, XReg};
