//! The guest thread's architectural state while it is *not* in host registers.
//!
//! Translated code keeps guest state pinned in host registers (see
//! `emit::regs`); the entry/exit trampolines move it between those registers
//! and this struct. The layout is `repr(C)` because generated code addresses
//! fields by the offsets below.

/// x86_64 RFLAGS bits.
pub mod rflags {
    pub const CF: u64 = 1 << 0;
    pub const PF: u64 = 1 << 2;
    pub const AF: u64 = 1 << 4;
    pub const ZF: u64 = 1 << 6;
    pub const SF: u64 = 1 << 7;
    pub const DF: u64 = 1 << 10;
    pub const OF: u64 = 1 << 11;
    /// Bit 1 always reads as one; IF is always set in user mode.
    pub const FIXED: u64 = (1 << 1) | (1 << 9);
    pub const TF: u64 = 1 << 8;
    pub const NT: u64 = 1 << 14;
    pub const AC: u64 = 1 << 18;
    pub const ID: u64 = 1 << 21;
    /// The system flags popf may change at CPL 3 with IOPL 0 (IF and IOPL
    /// stay as they are). Software toggles ID to learn that cpuid exists
    /// (HotSpot's CPU probe does, even in 64-bit mode) and AC to tell a 486
    /// from a 386. Transit keeps them as written; their effects (TF's
    /// single-step trap, AC's alignment checks) are not modelled.
    pub const USER_SYSTEM: u64 = TF | NT | AC | ID;
}

/// Indices into `CpuState::gpr` (x86 encoding order).
pub mod gpr {
    pub const RAX: usize = 0;
    pub const RCX: usize = 1;
    pub const RDX: usize = 2;
    pub const RBX: usize = 3;
    pub const RSP: usize = 4;
    pub const RBP: usize = 5;
    pub const RSI: usize = 6;
    pub const RDI: usize = 7;
    pub const R8: usize = 8;
    pub const R9: usize = 9;
    pub const R10: usize = 10;
    pub const R11: usize = 11;
}

/// aarch64 NZCV bits as `mrs x, nzcv` presents them.
pub mod nzcv {
    pub const N: u64 = 1 << 31;
    pub const Z: u64 = 1 << 30;
    pub const C: u64 = 1 << 29;
    pub const V: u64 = 1 << 28;
}

/// x86 PF: the low byte of `v` has an even number of set bits.
pub fn even_parity(v: u64) -> bool {
    (v as u8).count_ones().is_multiple_of(2)
}

#[repr(C, align(16))]
#[derive(Clone, Debug)]
pub struct CpuState {
    /// RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 (x86 encoding order).
    pub gpr: [u64; 16],
    pub rip: u64,
    /// SF/ZF/CF/OF in host NZCV form: N=SF, Z=ZF, C=!CF (borrow convention,
    /// what `subs` produces), V=OF.
    pub nzcv: u64,
    /// PF is the even parity of this value's low byte.
    pub pf_result: u64,
    /// AF is bit 4 of this value XOR `pf_result` (arithmetic leaves its
    /// operands' XOR here and its result in `pf_result`).
    pub af_aux: u64,
    /// Direction flag, 0 or 1.
    pub df: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    /// Why translated code last returned to the dispatcher (`ExitReason`).
    pub exit_reason: u64,
    /// Base of the indirect-branch lookup table (`cache::LookupTable`).
    pub lookup_table: u64,
    pub mxcsr: u64,
    /// Count of blocks entered through the dispatcher (statistics).
    pub dispatches: u64,
    /// Non-zero when a signal is waiting for the runtime: the dispatcher and
    /// the entry trampoline check it before running guest code. Set by the
    /// runtime's host signal handler.
    pub interrupt: u64,
    /// Bits 128..255 of YMM0..YMM15 (the low halves are `xmm`): legacy SSE
    /// leaves them alone, VEX.128 clears them, VEX.256 uses them. Before
    /// `xmm`, so that one `stp xzr, xzr` (offsets up to 504) clears any.
    pub ymm_upper: [u128; 16],
    pub xmm: [u128; 16],
    pub x87: X87State,
    /// Segment selectors (`Segment` order); generated code never reads
    /// them: every base but FS's and GS's is 0.
    pub selectors: [u16; 6],
    /// RFLAGS' `rflags::USER_SYSTEM` bits as the guest last wrote them.
    pub system_flags: u64,
    /// Constants generated code loads with one instruction: the weight of
    /// each lane's sign bit in a sign mask (pmovmskb, movmskps).
    pub sign_mask_weights: SignMaskWeights,
    /// What an exit that carries operands leaves the dispatcher
    /// (`ExitReason::XsaveArea`: the area's address, then the form with the
    /// instruction's length, `emit::control::xsave_area`).
    pub exit_operands: [u64; 2],
}

/// Lane `i`'s weight `1 << i` (bytes: `1 << (i % 8)`), so that masking the
/// sign-extended lanes with it and adding them up gives the x86 mask.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignMaskWeights {
    pub bytes: u128,
    pub singles: u128,
}

impl Default for SignMaskWeights {
    fn default() -> Self {
        SignMaskWeights {
            bytes: u128::from_le_bytes([1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128]),
            singles: 1 | 2 << 32 | 4 << 64 | 8 << 96,
        }
    }
}

/// The x87 FPU, run by the slow-path interpreter (`crate::interp::x87`).
#[repr(C)]
#[derive(Clone, Debug)]
pub struct X87State {
    /// Physical registers R0..R7, 80-bit values in the low bits.
    pub regs: [u128; 8],
    /// Which physical registers hold a value (tag word, valid/empty only).
    pub valid: u8,
    /// Stack top: ST(i) is physical register (top + i) % 8.
    pub top: u8,
    pub control: u16,
    /// Status word without the TOP field.
    pub status: u16,
    /// FOP: the 11-bit opcode of the last non-control instruction that
    /// raised an unmasked exception (Intel's default, SDM vol. 1 8.1.9.1).
    pub last_opcode: u16,
    /// FIP: address of the last non-control x87 instruction.
    pub last_ip: u64,
    /// FDP: its memory operand's address, kept only on an unmasked
    /// exception (CPUID.7.EBX[6] FDP_EXCPTN_ONLY).
    pub last_data: u64,
}

/// The segment registers, in x86 encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    Es,
    Cs,
    Ss,
    Ds,
    Fs,
    Gs,
}

impl Default for X87State {
    fn default() -> Self {
        // FNINIT state: all exceptions masked, 64-bit precision, round to nearest.
        X87State { regs: [0; 8], valid: 0, top: 0, control: 0x037f, status: 0, last_opcode: 0, last_ip: 0, last_data: 0 }
    }
}

impl Default for CpuState {
    fn default() -> Self {
        CpuState {
            gpr: [0; 16],
            rip: 0,
            // ZF=0, CF=0 (C=1 in borrow convention), SF=0, OF=0.
            nzcv: nzcv::C,
            pf_result: 0,
            af_aux: 0,
            df: 0,
            fs_base: 0,
            gs_base: 0,
            exit_reason: 0,
            lookup_table: 0,
            mxcsr: 0x1f80,
            dispatches: 0,
            interrupt: 0,
            xmm: [0; 16],
            ymm_upper: [0; 16],
            x87: X87State::default(),
            selectors: INITIAL_SELECTORS,
            system_flags: 0,
            sign_mask_weights: SignMaskWeights::default(),
            exit_operands: [0; 2],
        }
    }
}

/// What Linux's execve leaves in ES, CS, SS, DS, FS and GS.
const INITIAL_SELECTORS: [u16; 6] = [0, 0x33, 0x2b, 0, 0, 0];

impl CpuState {
    pub fn selector(&self, seg: Segment) -> u16 {
        self.selectors[seg as usize]
    }

    pub fn set_selector(&mut self, seg: Segment, selector: u16) {
        self.selectors[seg as usize] = selector;
    }
}

macro_rules! offset_consts {
    ($($name:ident => $($field:ident).+),* $(,)?) => {
        /// Byte offsets of `CpuState` fields, for generated code.
        pub mod offsets {
            $(pub const $name: u32 = core::mem::offset_of!(super::CpuState, $($field).+) as u32;)*
        }
    };
}
offset_consts! {
    GPR => gpr, RIP => rip, NZCV => nzcv, PF_RESULT => pf_result, AF_AUX => af_aux,
    DF => df, FS_BASE => fs_base, GS_BASE => gs_base, EXIT_REASON => exit_reason,
    LOOKUP_TABLE => lookup_table, MXCSR => mxcsr, DISPATCHES => dispatches, INTERRUPT => interrupt,
    XMM => xmm, YMM_UPPER => ymm_upper, X87_REGS => x87.regs, X87_VALID => x87.valid, X87_TOP => x87.top, X87_CONTROL => x87.control,
    BYTE_SIGN_WEIGHTS => sign_mask_weights.bytes, SINGLE_SIGN_WEIGHTS => sign_mask_weights.singles,
    EXIT_OPERANDS => exit_operands,
}

impl CpuState {
    /// The architectural RFLAGS value the guest would see (pushf, signal frames).
    pub fn rflags(&self) -> u64 {
        let mut f = rflags::FIXED | self.system_flags;
        if self.nzcv & nzcv::C == 0 {
            f |= rflags::CF;
        }
        if self.nzcv & nzcv::Z != 0 {
            f |= rflags::ZF;
        }
        if self.nzcv & nzcv::N != 0 {
            f |= rflags::SF;
        }
        if self.nzcv & nzcv::V != 0 {
            f |= rflags::OF;
        }
        if even_parity(self.pf_result) {
            f |= rflags::PF;
        }
        if (self.af_aux ^ self.pf_result) & 0x10 != 0 {
            f |= rflags::AF;
        }
        if self.df != 0 {
            f |= rflags::DF;
        }
        f
    }

    /// Loads the arithmetic flags, DF and the user-writable system flags
    /// from an RFLAGS value (popf, sigreturn).
    pub fn set_rflags(&mut self, f: u64) {
        self.system_flags = f & rflags::USER_SYSTEM;
        let mut n = 0;
        if f & rflags::CF == 0 {
            n |= nzcv::C;
        }
        if f & rflags::ZF != 0 {
            n |= nzcv::Z;
        }
        if f & rflags::SF != 0 {
            n |= nzcv::N;
        }
        if f & rflags::OF != 0 {
            n |= nzcv::V;
        }
        self.nzcv = n;
        // Parity of 0 is even (PF=1); of 1 odd (PF=0).
        self.pf_result = if f & rflags::PF != 0 { 0 } else { 1 };
        self.af_aux = self.pf_result ^ if f & rflags::AF != 0 { 0x10 } else { 0 };
        self.df = u64::from(f & rflags::DF != 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rflags_round_trip() {
        let mut s = CpuState::default();
        for bits in 0..512u64 {
            let mut f = rflags::FIXED;
            for (i, b) in [rflags::CF, rflags::PF, rflags::AF, rflags::ZF, rflags::SF, rflags::OF, rflags::DF, rflags::ID, rflags::AC]
                .iter()
                .enumerate()
            {
                if bits & (1 << i) != 0 {
                    f |= b;
                }
            }
            s.set_rflags(f);
            assert_eq!(s.rflags(), f, "bits {bits:#x}");
        }
    }

    #[test]
    fn xmm_is_16_byte_aligned() {
        assert_eq!(offsets::XMM % 16, 0);
    }
}
