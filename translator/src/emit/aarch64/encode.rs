//! The one place that knows aarch64 bit layouts (Arm ARM, "Advanced SIMD
//! three same" and "Advanced SIMD permute").

use super::inst::{Inst, VecOp};
use super::operands::{Arrangement, ElementSize};

/// How a `VecOp` is encoded.
enum Form {
    /// Three same, integer: U, opcode, and the element sizes it has.
    Integer { u: u32, opcode: u32, sizes: &'static [ElementSize] },
    /// Three same, logical: U and the size field (which selects the operation).
    Logical { u: u32, size: u32 },
    /// Three same, floating point: U, opcode, and bit 23.
    Float { u: u32, opcode: u32, a: u32 },
    /// Permute: opcode bits 14:12.
    Permute { opcode: u32 },
}

use ElementSize::{B, D, H, S};
const BHSD: &[ElementSize] = &[B, H, S, D];
const BHS: &[ElementSize] = &[B, H, S];

fn form(op: VecOp) -> Form {
    use Form::*;
    match op {
        VecOp::Add => Integer { u: 0, opcode: 0b10000, sizes: BHSD },
        VecOp::Sub => Integer { u: 1, opcode: 0b10000, sizes: BHSD },
        VecOp::Mul => Integer { u: 0, opcode: 0b10011, sizes: BHS },
        VecOp::CmpEq => Integer { u: 1, opcode: 0b10001, sizes: BHSD },
        VecOp::CmpGtSigned => Integer { u: 0, opcode: 0b00110, sizes: BHSD },
        VecOp::CmpGtUnsigned => Integer { u: 1, opcode: 0b00110, sizes: BHSD },
        VecOp::MaxSigned => Integer { u: 0, opcode: 0b01100, sizes: BHS },
        VecOp::MinSigned => Integer { u: 0, opcode: 0b01101, sizes: BHS },
        VecOp::MaxUnsigned => Integer { u: 1, opcode: 0b01100, sizes: BHS },
        VecOp::MinUnsigned => Integer { u: 1, opcode: 0b01101, sizes: BHS },
        VecOp::AddSatSigned => Integer { u: 0, opcode: 0b00001, sizes: BHSD },
        VecOp::AddSatUnsigned => Integer { u: 1, opcode: 0b00001, sizes: BHSD },
        VecOp::SubSatSigned => Integer { u: 0, opcode: 0b00101, sizes: BHSD },
        VecOp::SubSatUnsigned => Integer { u: 1, opcode: 0b00101, sizes: BHSD },
        VecOp::RoundingHalvingAddUnsigned => Integer { u: 1, opcode: 0b00010, sizes: BHS },
        VecOp::And => Logical { u: 0, size: 0b00 },
        VecOp::AndNot => Logical { u: 0, size: 0b01 },
        VecOp::Or => Logical { u: 0, size: 0b10 },
        VecOp::Xor => Logical { u: 1, size: 0b00 },
        VecOp::ZipLow => Permute { opcode: 0b011 },
        VecOp::ZipHigh => Permute { opcode: 0b111 },
        VecOp::FAdd => Float { u: 0, opcode: 0b11010, a: 0 },
        VecOp::FSub => Float { u: 0, opcode: 0b11010, a: 1 },
        VecOp::FMul => Float { u: 1, opcode: 0b11011, a: 0 },
        VecOp::FDiv => Float { u: 1, opcode: 0b11111, a: 0 },
    }
}

/// Whether `op` exists for `arrangement`. One 64-bit element (MMX's paddq)
/// is the scalar form of the integer operations; floating point has 32-
/// and 64-bit elements, 64-bit ones in a full register.
pub fn encodable(op: VecOp, arrangement: Arrangement) -> bool {
    let element = arrangement.element;
    match form(op) {
        Form::Integer { sizes, .. } => sizes.contains(&element),
        Form::Logical { .. } => true,
        Form::Permute { .. } | Form::Float { .. } if element == D && !arrangement.full => false,
        Form::Permute { .. } => true,
        Form::Float { .. } => matches!(element, S | D),
    }
}

/// The instruction word of `inst`. Panics on an operation the arrangement
/// does not have (`encodable`): a translator bug the tables' tests catch.
pub fn encode(inst: Inst) -> u32 {
    match inst {
        Inst::Vec3 { op, arrangement, rd, rn, rm } => {
            assert!(encodable(op, arrangement), "{op:?} has no {arrangement:?} form");
            let q = arrangement.full as u32;
            let size = arrangement.element as u32;
            let regs = (rm.0 as u32) << 16 | (rn.0 as u32) << 5 | rd.0 as u32;
            const THREE_SAME: u32 = 0x0e20_0400;
            /// "Advanced SIMD scalar three same": one element in the low lanes.
            const SCALAR_THREE_SAME: u32 = 0x5e20_0400;
            const PERMUTE: u32 = 0x0e00_0800;
            let fields = match form(op) {
                Form::Integer { u, opcode, .. } if arrangement == Arrangement::D1 => {
                    return SCALAR_THREE_SAME | u << 29 | size << 22 | opcode << 11 | regs;
                }
                Form::Integer { u, opcode, .. } => THREE_SAME | u << 29 | size << 22 | opcode << 11,
                Form::Logical { u, size } => THREE_SAME | u << 29 | size << 22 | 0b00011 << 11,
                Form::Float { u, opcode, a } => THREE_SAME | u << 29 | a << 23 | ((size == 3) as u32) << 22 | opcode << 11,
                Form::Permute { opcode } => PERMUTE | size << 22 | opcode << 12,
            };
            fields | q << 30 | regs
        }
        Inst::VecMove { rd, rn } => encode(Inst::Vec3 { op: VecOp::Or, arrangement: Arrangement::B16, rd, rn, rm: rn }),
        Inst::VecMem { load, width, rt, addr } => super::memory::encode_vec_mem(load, width, rt, addr),
    }
}

#[cfg(test)]
mod tests {
    use super::super::operands::VReg;
    use super::*;
    use dynasmrt::{dynasm, DynasmApi};

    const ARRANGEMENTS: [Arrangement; 8] = [
        Arrangement::D1,
        Arrangement::B8,
        Arrangement::B16,
        Arrangement::H4,
        Arrangement::H8,
        Arrangement::S2,
        Arrangement::S4,
        Arrangement::D2,
    ];

    /// dynasm-rs's encoding of `op` on `arrangement` with v3, v17, v30.
    fn reference(op: VecOp, a: Arrangement) -> u32 {
        let mut ops = dynasmrt::VecAssembler::<dynasmrt::aarch64::Aarch64Relocation>::new(0);
        let (d, n, m) = (3u8, 17u8, 30u8);
        // dynasm-rs checks each form when it compiles: one macro per set
        // of arrangements an instruction has.
        macro_rules! bhsd {
            ($ins:ident) => {
                match (a.element, a.full) {
                    (B, false) => dynasm!(ops; .arch aarch64; $ins V(d).B8, V(n).B8, V(m).B8),
                    (B, true) => dynasm!(ops; .arch aarch64; $ins V(d).B16, V(n).B16, V(m).B16),
                    (H, false) => dynasm!(ops; .arch aarch64; $ins V(d).H4, V(n).H4, V(m).H4),
                    (H, true) => dynasm!(ops; .arch aarch64; $ins V(d).H8, V(n).H8, V(m).H8),
                    (S, false) => dynasm!(ops; .arch aarch64; $ins V(d).S2, V(n).S2, V(m).S2),
                    (S, true) => dynasm!(ops; .arch aarch64; $ins V(d).S4, V(n).S4, V(m).S4),
                    (D, true) => dynasm!(ops; .arch aarch64; $ins V(d).D2, V(n).D2, V(m).D2),
                    (D, false) => dynasm!(ops; .arch aarch64; $ins D(d), D(n), D(m)),
                }
            };
        }
        macro_rules! vector_bhsd {
            ($ins:ident) => {
                match (a.element, a.full) {
                    (B, false) => dynasm!(ops; .arch aarch64; $ins V(d).B8, V(n).B8, V(m).B8),
                    (B, true) => dynasm!(ops; .arch aarch64; $ins V(d).B16, V(n).B16, V(m).B16),
                    (H, false) => dynasm!(ops; .arch aarch64; $ins V(d).H4, V(n).H4, V(m).H4),
                    (H, true) => dynasm!(ops; .arch aarch64; $ins V(d).H8, V(n).H8, V(m).H8),
                    (S, false) => dynasm!(ops; .arch aarch64; $ins V(d).S2, V(n).S2, V(m).S2),
                    (S, true) => dynasm!(ops; .arch aarch64; $ins V(d).S4, V(n).S4, V(m).S4),
                    (D, true) => dynasm!(ops; .arch aarch64; $ins V(d).D2, V(n).D2, V(m).D2),
                    (D, false) => unreachable!(),
                }
            };
        }
        macro_rules! bhs {
            ($ins:ident) => {
                match (a.element, a.full) {
                    (B, false) => dynasm!(ops; .arch aarch64; $ins V(d).B8, V(n).B8, V(m).B8),
                    (B, true) => dynasm!(ops; .arch aarch64; $ins V(d).B16, V(n).B16, V(m).B16),
                    (H, false) => dynasm!(ops; .arch aarch64; $ins V(d).H4, V(n).H4, V(m).H4),
                    (H, true) => dynasm!(ops; .arch aarch64; $ins V(d).H8, V(n).H8, V(m).H8),
                    (S, false) => dynasm!(ops; .arch aarch64; $ins V(d).S2, V(n).S2, V(m).S2),
                    (S, true) => dynasm!(ops; .arch aarch64; $ins V(d).S4, V(n).S4, V(m).S4),
                    (D, _) => unreachable!(),
                }
            };
        }
        macro_rules! sd {
            ($ins:ident) => {
                match (a.element, a.full) {
                    (S, false) => dynasm!(ops; .arch aarch64; $ins V(d).S2, V(n).S2, V(m).S2),
                    (S, true) => dynasm!(ops; .arch aarch64; $ins V(d).S4, V(n).S4, V(m).S4),
                    (D, true) => dynasm!(ops; .arch aarch64; $ins V(d).D2, V(n).D2, V(m).D2),
                    _ => unreachable!(),
                }
            };
        }
        // The logical operations take only byte arrangements in assembly.
        macro_rules! bytes {
            ($ins:ident) => {
                if a.full {
                    dynasm!(ops; .arch aarch64; $ins V(d).B16, V(n).B16, V(m).B16)
                } else {
                    dynasm!(ops; .arch aarch64; $ins V(d).B8, V(n).B8, V(m).B8)
                }
            };
        }
        match op {
            VecOp::Add => bhsd!(add),
            VecOp::Sub => bhsd!(sub),
            VecOp::Mul => bhs!(mul),
            VecOp::CmpEq => bhsd!(cmeq),
            VecOp::CmpGtSigned => bhsd!(cmgt),
            VecOp::CmpGtUnsigned => bhsd!(cmhi),
            VecOp::MinSigned => bhs!(smin),
            VecOp::MaxSigned => bhs!(smax),
            VecOp::MinUnsigned => bhs!(umin),
            VecOp::MaxUnsigned => bhs!(umax),
            VecOp::AddSatSigned => bhsd!(sqadd),
            VecOp::AddSatUnsigned => bhsd!(uqadd),
            VecOp::SubSatSigned => bhsd!(sqsub),
            VecOp::SubSatUnsigned => bhsd!(uqsub),
            VecOp::RoundingHalvingAddUnsigned => bhs!(urhadd),
            VecOp::And => bytes!(and),
            VecOp::AndNot => bytes!(bic),
            VecOp::Or => bytes!(orr),
            VecOp::Xor => bytes!(eor),
            VecOp::ZipLow => vector_bhsd!(zip1),
            VecOp::ZipHigh => vector_bhsd!(zip2),
            VecOp::FAdd => sd!(fadd),
            VecOp::FSub => sd!(fsub),
            VecOp::FMul => sd!(fmul),
            VecOp::FDiv => sd!(fdiv),
        }
        let code = ops.finalize().unwrap();
        u32::from_le_bytes(code[..4].try_into().unwrap())
    }

    #[test]
    fn every_encodable_form_matches_dynasm() {
        let mut checked = 0;
        for op in VecOp::ALL {
            for a in ARRANGEMENTS {
                if !encodable(op, a) {
                    continue;
                }
                let inst = Inst::Vec3 { op, arrangement: a, rd: VReg(3), rn: VReg(17), rm: VReg(30) };
                assert_eq!(encode(inst), reference(op, a), "{op:?} {a:?}: {:#010x} vs dynasm {:#010x}", encode(inst), reference(op, a));
                checked += 1;
            }
        }
        assert!(checked > 130, "{checked} forms");
    }

    #[test]
    fn move_is_orr_of_the_register_with_itself() {
        let mut ops = dynasmrt::VecAssembler::<dynasmrt::aarch64::Aarch64Relocation>::new(0);
        dynasm!(ops; .arch aarch64; mov V(20).B16, V(5).B16);
        let want = u32::from_le_bytes(ops.finalize().unwrap()[..4].try_into().unwrap());
        assert_eq!(encode(Inst::VecMove { rd: VReg(20), rn: VReg(5) }), want);
    }

    #[test]
    fn one_sixty_four_bit_element_is_the_scalar_form() {
        assert!(encodable(VecOp::Add, Arrangement::D1), "the scalar form");
        assert!(!encodable(VecOp::ZipLow, Arrangement::D1));
        assert!(!encodable(VecOp::Mul, Arrangement::D2));
        assert!(!encodable(VecOp::FAdd, Arrangement::H8));
    }
}
