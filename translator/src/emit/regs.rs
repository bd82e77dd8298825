//! Host register assignment while guest code runs (the translator's central
//! invariant; ARCHITECTURE.md repeats it).
//!
//! | host        | holds                                                  |
//! |-------------|--------------------------------------------------------|
//! | x0..x15     | guest RAX..R15 in x86 encoding order (pinned)          |
//! | x16, x17    | scratch; x16 carries the guest RIP into exit stubs     |
//! | x18         | address of an ordered or exclusive memory access       |
//! | x19..x25    | scratch                                                |
//! | x26         | PF source: PF = even parity of its low byte            |
//! | x27         | AF source: AF = bit 4 of x27 ^ x26                     |
//! | x28         | `*mut CpuState`                                        |
//! | x29         | indirect-branch lookup table: its base, the last index |
//! | x30         | scratch (the trampolines saved the link register)      |
//! | sp          | host stack, never touched by translated code           |
//! | NZCV        | N=SF, Z=ZF, V=OF, C=CF or !CF (see `Polarity`)         |
//! | v0..v15     | vector scratch (`Emitter::vtmp`)                       |
//! | v16..v31    | guest XMM0..XMM15 (pinned)                             |

/// A host register number as dynasm-rs takes it.
pub type Reg = u8;

pub const PF_SRC: Reg = 26;
pub const AF_SRC: Reg = 27;
pub const STATE: Reg = 28;
pub const LOOKUP: Reg = 29;
/// The address of an ordered (TSO) or exclusive access, which take no
/// offset. Linux does not reserve x18, and it is caller-saved there.
pub const ACCESS_ADDR: Reg = 18;
/// Carries the guest RIP to exit stubs.
pub const EXIT_RIP: Reg = 16;
/// Scratch registers handed out per instruction, in order.
pub const SCRATCH: [Reg; 10] = [19, 20, 21, 22, 23, 24, 25, 30, 17, 16];
/// First host vector register holding guest XMM0.
pub const XMM_BASE: Reg = 16;

/// Host register pinned to guest GPR `n` (x86 encoding order).
pub const fn gpr(n: usize) -> Reg {
    n as Reg
}

pub const RAX: Reg = 0;
pub const RCX: Reg = 1;
pub const RDX: Reg = 2;
pub const RSP: Reg = 4;
pub const RSI: Reg = 6;
pub const RDI: Reg = 7;
