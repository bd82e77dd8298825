//! The aarch64 instructions the emitters build as data.

use super::memory::{MemAddr, Width};
use super::operands::{Arrangement, VReg};

/// Element-wise operations of two vectors (the "three registers, same
/// type" and permute groups): `rd = rn op rm` lane by lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VecOp {
    Add,
    Sub,
    Mul,
    /// All ones where equal.
    CmpEq,
    /// All ones where rn > rm, signed.
    CmpGtSigned,
    /// All ones where rn > rm, unsigned.
    CmpGtUnsigned,
    MinSigned,
    MaxSigned,
    MinUnsigned,
    MaxUnsigned,
    AddSatSigned,
    AddSatUnsigned,
    SubSatSigned,
    SubSatUnsigned,
    /// (rn + rm + 1) >> 1, unsigned, without overflow.
    RoundingHalvingAddUnsigned,
    /// Bitwise; the arrangement only chooses the width.
    And,
    /// rn & !rm.
    AndNot,
    Or,
    Xor,
    /// Interleave the low halves: rn[0], rm[0], rn[1], rm[1], ...
    ZipLow,
    /// Interleave the high halves.
    ZipHigh,
    FAdd,
    FSub,
    FMul,
    FDiv,
}

impl VecOp {
    pub const ALL: [VecOp; 25] = [
        VecOp::Add,
        VecOp::Sub,
        VecOp::Mul,
        VecOp::CmpEq,
        VecOp::CmpGtSigned,
        VecOp::CmpGtUnsigned,
        VecOp::MinSigned,
        VecOp::MaxSigned,
        VecOp::MinUnsigned,
        VecOp::MaxUnsigned,
        VecOp::AddSatSigned,
        VecOp::AddSatUnsigned,
        VecOp::SubSatSigned,
        VecOp::SubSatUnsigned,
        VecOp::RoundingHalvingAddUnsigned,
        VecOp::And,
        VecOp::AndNot,
        VecOp::Or,
        VecOp::Xor,
        VecOp::ZipLow,
        VecOp::ZipHigh,
        VecOp::FAdd,
        VecOp::FSub,
        VecOp::FMul,
        VecOp::FDiv,
    ];
}

/// One aarch64 instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inst {
    /// `rd = rn op rm` on every lane of `arrangement`.
    Vec3 { op: VecOp, arrangement: Arrangement, rd: VReg, rn: VReg, rm: VReg },
    /// `mov rd, rn` of the whole register (`orr rd, rn, rn`).
    VecMove { rd: VReg, rn: VReg },
    /// A load (`load`) or store of `width` bytes of `rt` at `addr`.
    VecMem { load: bool, width: Width, rt: VReg, addr: MemAddr },
}
