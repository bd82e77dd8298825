//! Reading and writing x86 operands: pinned registers (including the partial
//! 8/16-bit views), memory with every addressing form, immediates.

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::{a64, regs, Emitter, MemoryOrder, Reg, Unsupported};
use crate::cpu::state::offsets;
use crate::insn_mark::{InsnMark, Pad};
use iced_x86::{Instruction, OpKind, Register};

/// Where an operand lives, resolved once per instruction (memory addresses
/// are computed once even for read-modify-write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// A pinned guest register: `host` register, operand `size` in bytes,
    /// `high8` for AH/CH/DH/BH.
    Reg { host: Reg, size: u8, high8: bool },
    /// Memory of `size` bytes at `addr`.
    Mem { addr: Addr, size: u8 },
    Imm { value: u64, size: u8 },
}

/// A memory operand's host address in a form aarch64's loads and stores
/// take directly, so that common x86 addressing costs no extra instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// `base + off`: `off` in ldur/stur's signed 9-bit range, or (for an
    /// access of 1, 2, 4 or 8 bytes, or a vector one of 16) a multiple of
    /// the size in ldr/str's unsigned scaled 12-bit range.
    Offset { base: Reg, off: i32 },
    /// `base + (index << shift)`, `shift` 0 or log2 of the access size
    /// (aarch64's register-offset form).
    Indexed { base: Reg, index: Reg, shift: u8 },
}

impl Loc {
    pub fn size(self) -> u8 {
        match self {
            Loc::Reg { size, .. } | Loc::Mem { size, .. } | Loc::Imm { size, .. } => size,
        }
    }
    pub fn bits(self) -> u32 {
        self.size() as u32 * 8
    }
}

/// Host register and high-byte flag for an x86 general-purpose register.
/// Whether an access may address `insn`'s memory operand from its base and
/// index registers directly: 64-bit registers (or none), no FS or GS base
/// to add, and the addressing forms not turned off (`TRANSIT_TUNING`).
pub(super) fn registers_address(insn: &Instruction) -> bool {
    let (base, index) = (insn.memory_base(), insn.memory_index());
    crate::tuning::tuning().indexed_addressing
        && !matches!(insn.memory_segment(), Register::FS | Register::GS)
        && (base == Register::None || base.is_gpr64())
        && (index == Register::None || index.is_gpr64())
}

/// Whether every operand of `insn` is a general register (none of
/// `avoid`), an immediate, or lea's address (from registers not in
/// `avoid`): it touches no memory, so it cannot fault there.
pub(super) fn registers_and_immediates(insn: &Instruction, avoid: &[Register]) -> bool {
    let touches = |r: Register| r != Register::None && avoid.iter().any(|&a| a.full_register() == r.full_register());
    (0..insn.op_count()).all(|i| match insn.op_kind(i) {
        OpKind::Register => insn.op_register(i).is_gpr() && !touches(insn.op_register(i)),
        // lea computes an address without an access.
        OpKind::Memory => insn.mnemonic() == iced_x86::Mnemonic::Lea && !touches(insn.memory_base()) && !touches(insn.memory_index()),
        kind => matches!(
            kind,
            OpKind::Immediate8 | OpKind::Immediate16 | OpKind::Immediate32 | OpKind::Immediate8to32 | OpKind::Immediate8to64 | OpKind::Immediate32to64 | OpKind::Immediate64
        ),
    })
}

pub fn gpr_of(reg: Register) -> Result<(Reg, u8, bool), Unsupported> {
    let entry = GPRS.get(reg as usize).copied().unwrap_or(0);
    if entry & GPR == 0 {
        return Err(Unsupported);
    }
    Ok((regs::gpr(usize::from(entry & 15)), 1 << ((entry >> 4) & 3), entry & HIGH8 != 0))
}

/// `gpr_of` by iced's register number: the guest register's number in
/// bits 0-3, log2 of the size in bits 4-5, then `HIGH8` and `GPR`. Asking
/// iced's register table for the class, size and full register took four
/// lookups for most operands translated. iced numbers the general
/// registers in groups by size, each in encoding order (AL..BL, AH..BH,
/// SPL..R15L; AX..R15W; EAX..R15D; RAX..R15); a test checks the table
/// against iced for every register.
const GPRS: [u8; 69] = gpr_table();
const GPR: u8 = 0x80;
const HIGH8: u8 = 0x40;

const fn gpr_table() -> [u8; 69] {
    let mut table = [0; 69];
    let mut r = 1;
    while r <= 68 {
        let (n, log2_size, high8) = match r {
            1..=4 => (r - 1, 0, 0),
            5..=8 => (r - 5, 0, HIGH8),
            9..=20 => (r - 5, 0, 0),
            21..=36 => (r - 21, 1, 0),
            37..=52 => (r - 37, 2, 0),
            _ => (r - 53, 3, 0),
        };
        table[r] = GPR | high8 | (log2_size << 4) | n as u8;
        r += 1;
    }
    table
}

/// Whether `insn`'s memory operand is addressed from zero: no FS or GS
/// base to add (`Emitter::address` adds it), so one host access takes it
/// as it is.
pub fn flat_segment(insn: &Instruction) -> bool {
    !matches!(insn.memory_segment(), Register::FS | Register::GS)
}

impl Emitter {
    /// Resolves operand `op` of `insn`.
    pub fn loc(&mut self, insn: &Instruction, op: u32) -> Result<Loc, Unsupported> {
        match insn.op_kind(op) {
            OpKind::Register => {
                let (host, size, high8) = gpr_of(insn.op_register(op))?;
                Ok(Loc::Reg { host, size, high8 })
            }
            OpKind::Memory => {
                let size = insn.memory_size().size() as u8;
                Ok(Loc::Mem { addr: self.memory_address(insn, size)?, size })
            }
            OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64 => {
                let size = crate::frontend::decode::operand_size(insn) as u8;
                Ok(Loc::Imm { value: insn.immediate(op), size })
            }
            _ => Err(Unsupported),
        }
    }

    /// Computes the effective address of `insn`'s memory operand (segment base
    /// included) as a register plus a small offset.
    pub fn address(&mut self, insn: &Instruction) -> Result<(Reg, i32), Unsupported> {
        let (reg, off) = self.address_no_segment(insn)?;
        let seg = insn.memory_segment();
        let seg_off = match seg {
            Register::FS => Some(offsets::FS_BASE),
            Register::GS => Some(offsets::GS_BASE),
            _ => None,
        };
        let Some(seg_off) = seg_off else { return Ok((reg, off)) };
        let t = self.tmp();
        a64!(self.ops; ldr X(t), [X(regs::STATE), seg_off]);
        a64!(self.ops; add X(t), X(t), X(reg));
        Ok((t, off))
    }

    /// The address of `insn`'s memory operand, accessed `size` bytes wide,
    /// in the cheapest form loads and stores of that size take: `[base,
    /// index]`, `[base, index, lsl log2(size)]` (a jump table's `[index*8 +
    /// table]` with the table's address in a scratch register, and `base +
    /// disp` in one when `disp` is past ldur's range), or `[base, #disp]`
    /// with the size-scaled 12-bit offset; otherwise (and for ordered or
    /// locked accesses) as `address` computes it.
    pub fn memory_address(&mut self, insn: &Instruction, size: u8) -> Result<Addr, Unsupported> {
        // Ordered and exclusive accesses take a bare register: computing
        // it once (`address`) serves both the load and the store.
        let plain = !self.ordered_accesses() && self.atomic.is_none() && matches!(size, 1 | 2 | 4 | 8);
        self.plain_access_address(insn, size, plain)
    }

    /// `memory_address` for an access of `size` bytes that is `plain`
    /// (an ldr/str of that size takes every form, as the vector accesses
    /// of `vector_memory` do under any memory order).
    pub(super) fn plain_access_address(&mut self, insn: &Instruction, size: u8, plain: bool) -> Result<Addr, Unsupported> {
        let (base, index) = (insn.memory_base(), insn.memory_index());
        if plain && registers_address(insn) {
            let disp = insn.memory_displacement64() as i64;
            let scale = insn.memory_index_scale();
            let shift = scale.trailing_zeros() as u8;
            let scaled = scale == 1 || scale == size as u32;
            match (base, index) {
                (Register::None, Register::None) => {}
                (Register::None, index) if scaled => {
                    let index = gpr_of(index)?.0;
                    let table = self.tmp();
                    self.load_constant(table, disp as u64);
                    return Ok(Addr::Indexed { base: table, index, shift });
                }
                (base, Register::None) if disp >= 256 && disp % size as i64 == 0 && disp / (size as i64) < 4096 => {
                    return Ok(Addr::Offset { base: gpr_of(base)?.0, off: disp as i32 });
                }
                (base, index) if index != Register::None && base != Register::None && disp == 0 && scaled => {
                    return Ok(Addr::Indexed { base: gpr_of(base)?.0, index: gpr_of(index)?.0, shift });
                }
                // Past ldur's reach: `base + disp` (one add) indexes the
                // access, rather than `base + index` and then `+ disp`.
                (base, index) if index != Register::None && base != Register::None && scaled
                    && !(-256..256).contains(&disp) && disp.unsigned_abs() < 4096 =>
                {
                    let t = self.tmp();
                    self.add_imm(t, gpr_of(base)?.0, disp);
                    return Ok(Addr::Indexed { base: t, index: gpr_of(index)?.0, shift });
                }
                _ => {}
            }
            // Past both offsets' reach (`[rbx+r15+0xC9B8]`): the 4 KiB-aligned
            // part of `disp` added with one `add #n, lsl 12`, the rest in the
            // access itself, scaled or unscaled.
            let (high, low) = (disp.div_euclid(4096) * 4096, disp.rem_euclid(4096));
            // (Nearer, one add or sub of `disp` serves as well.)
            let reach = disp.unsigned_abs() >= 4096;
            let low_fits = low < 256 || low % size as i64 == 0;
            if base != Register::None && (index == Register::None || scaled) && reach && low_fits && high.unsigned_abs() < 1 << 24 {
                let t = self.tmp();
                match index {
                    Register::None => self.add_imm(t, gpr_of(base)?.0, high),
                    index => {
                        let (b, i) = (gpr_of(base)?.0, gpr_of(index)?.0);
                        a64!(self.ops; add X(t), X(b), X(i), lsl shift as u32);
                        self.add_imm(t, t, high);
                    }
                }
                return Ok(Addr::Offset { base: t, off: low as i32 });
            }
        }
        // `[base + index * scale + disp]`: the sum may be the one the
        // instruction before left (`index_sum`).
        let sum = if plain { super::index_sum::index_sum_operand(insn) } else { None };
        if let Some((b, i, shift, disp)) = sum {
            if let Some(t) = self.reuse_index_sum(b, i, shift) {
                return Ok(Addr::Offset { base: t, off: disp });
            }
        }
        let (base, off) = self.address(insn)?;
        if let Some((b, i, shift, _)) = sum {
            self.note_index_sum(base, b, i, shift);
        }
        Ok(Addr::Offset { base, off })
    }

    /// `addr` as a register plus an offset in ldur/stur's range (for the
    /// accesses that take no other form).
    pub fn base_offset(&mut self, addr: Addr) -> (Reg, i32) {
        match addr {
            Addr::Offset { base, off } if (-256..256).contains(&off) => (base, off),
            Addr::Offset { base, off } => {
                let t = self.tmp();
                self.add_imm(t, base, off as i64);
                (t, 0)
            }
            Addr::Indexed { base, index, shift } => {
                let t = self.tmp();
                a64!(self.ops; add X(t), X(base), X(index), lsl shift as u32);
                (t, 0)
            }
        }
    }

    /// Effective address without segment base (lea).
    pub fn address_no_segment(&mut self, insn: &Instruction) -> Result<(Reg, i32), Unsupported> {
        if insn.memory_base() == Register::EIP {
            return Err(Unsupported);
        }
        let addr32 = matches!(insn.memory_base().size(), 4) || matches!(insn.memory_index().size(), 4);
        let disp = insn.memory_displacement64() as i64;
        let base = insn.memory_base();
        let index = insn.memory_index();
        if base == Register::RIP {
            let t = self.tmp();
            // iced gives RIP-relative operands their absolute address.
            self.mov_guest_address(t, disp as u64);
            self.constant_address = Some((t, disp as u64));
            return Ok((t, 0));
        }
        let base_host = if base == Register::None { None } else { Some(gpr_of(base)?.0) };
        let index_host = if index == Register::None { None } else { Some(gpr_of(index)?.0) };
        let shift = insn.memory_index_scale().trailing_zeros();
        let disp = if addr32 { disp as u32 as i32 as i64 } else { disp };
        let small = (-256..256).contains(&disp);
        let (reg, off) = match (base_host, index_host) {
            (Some(b), None) if small && !addr32 => (b, disp as i32),
            (Some(b), None) => {
                let t = self.tmp();
                self.add_imm(t, b, disp);
                (t, 0)
            }
            (b, Some(i)) => {
                let t = self.tmp();
                match b {
                    Some(b) => a64!(self.ops; add X(t), X(b), X(i), lsl shift),
                    None => a64!(self.ops; lsl X(t), X(i), shift),
                }
                if small && !addr32 {
                    (t, disp as i32)
                } else {
                    self.add_imm(t, t, disp);
                    (t, 0)
                }
            }
            (None, None) => {
                let t = self.tmp();
                self.load_constant(t, disp as u64);
                if !addr32 {
                    self.constant_address = Some((t, disp as u64));
                }
                (t, 0)
            }
        };
        if addr32 {
            // Every path above computed a 32-bit address into a scratch register.
            a64!(self.ops; mov W(reg), W(reg));
        }
        Ok((reg, off))
    }

    /// A register holding the operand's value in its low bits; bits above
    /// the operand size are unspecified.
    pub fn read(&mut self, loc: Loc) -> Reg {
        match loc {
            Loc::Reg { host, high8: false, .. } => host,
            Loc::Reg { host, high8: true, .. } => {
                let t = self.tmp();
                a64!(self.ops; ubfx X(t), X(host), 8, 8);
                t
            }
            Loc::Mem { addr, size } => {
                let t = self.tmp();
                self.load_from(t, addr, size, false);
                t
            }
            Loc::Imm { value, .. } => {
                let t = self.tmp();
                self.load_constant(t, value);
                t
            }
        }
    }

    /// A register holding the operand zero-extended to 64 bits.
    pub fn read_zx(&mut self, loc: Loc) -> Reg {
        match loc {
            Loc::Reg { host, size, high8: false } if self.known_narrow.zero_extended(host, size) => host,
            Loc::Reg { host, size, high8: false } if size < 8 => {
                let t = self.tmp();
                self.extend(t, host, size, false);
                t
            }
            Loc::Imm { value, size } => {
                let t = self.tmp();
                self.load_constant(t, truncate(value, size));
                t
            }
            _ => self.read(loc),
        }
    }

    /// A register holding the operand sign-extended to 64 bits.
    pub fn read_sx(&mut self, loc: Loc) -> Reg {
        match loc {
            Loc::Mem { addr, size } => {
                let t = self.tmp();
                self.load_from(t, addr, size, true);
                t
            }
            Loc::Imm { value, size } => {
                let t = self.tmp();
                self.load_constant(t, sign_extend(value, size));
                t
            }
            _ => {
                let r = self.read(loc);
                if loc.size() == 8 {
                    return r;
                }
                let t = self.tmp();
                self.extend(t, r, loc.size(), true);
                t
            }
        }
    }

    /// Zero- or sign-extends the low `size` bytes of `src` into `dst`.
    pub fn extend(&mut self, dst: Reg, src: Reg, size: u8, signed: bool) {
        match (size, signed) {
            (1, false) => a64!(self.ops; uxtb W(dst), W(src)),
            (2, false) => a64!(self.ops; uxth W(dst), W(src)),
            (4, false) => a64!(self.ops; mov W(dst), W(src)),
            (1, true) => a64!(self.ops; sxtb X(dst), W(src)),
            (2, true) => a64!(self.ops; sxth X(dst), W(src)),
            (4, true) => a64!(self.ops; sxtw X(dst), W(src)),
            _ => {
                if dst != src {
                    a64!(self.ops; mov X(dst), X(src));
                }
            }
        }
    }

    /// Whether the current instruction's accesses keep x86's order
    /// (`ldapr`/`stlr`): with that order, all but those addressed from RSP
    /// (`stack_operand`).
    pub(super) fn ordered_accesses(&self) -> bool {
        self.order == MemoryOrder::Tso && !self.stack_operand
    }

    pub fn load(&mut self, dst: Reg, base: Reg, off: i32, size: u8, signed: bool) {
        self.mark_access();
        if self.atomic.is_some() {
            return self.load_exclusive(dst, base, off, size, signed);
        }
        if self.ordered_accesses() {
            return self.load_acquire(dst, base, off, size, signed);
        }
        self.load_plain(dst, base, off, size, signed);
    }

    /// Loads `size` bytes at `addr` into `dst`, zero- or sign-extended.
    pub fn load_from(&mut self, dst: Reg, addr: Addr, size: u8, signed: bool) {
        match addr {
            Addr::Offset { base, off } if (-256..256).contains(&off) => self.load(dst, base, off, size, signed),
            _ if self.atomic.is_some() || self.ordered_accesses() => {
                let (base, off) = self.base_offset(addr);
                self.load(dst, base, off, size, signed);
            }
            Addr::Offset { base, off } => {
                self.mark_access();
                let off = off as u32;
                match (size, signed) {
                    (1, false) => a64!(self.ops; ldrb W(dst), [X(base), off]),
                    (2, false) => a64!(self.ops; ldrh W(dst), [X(base), off]),
                    (4, false) => a64!(self.ops; ldr W(dst), [X(base), off]),
                    (1, true) => a64!(self.ops; ldrsb X(dst), [X(base), off]),
                    (2, true) => a64!(self.ops; ldrsh X(dst), [X(base), off]),
                    (4, true) => a64!(self.ops; ldrsw X(dst), [X(base), off]),
                    _ => a64!(self.ops; ldr X(dst), [X(base), off]),
                }
            }
            Addr::Indexed { base, index, shift } => {
                self.mark_access();
                let sh = shift as u32;
                match (size, signed) {
                    (1, false) => a64!(self.ops; ldrb W(dst), [X(base), X(index)]),
                    (2, false) => a64!(self.ops; ldrh W(dst), [X(base), X(index), lsl sh]),
                    (4, false) => a64!(self.ops; ldr W(dst), [X(base), X(index), lsl sh]),
                    (1, true) => a64!(self.ops; ldrsb X(dst), [X(base), X(index)]),
                    (2, true) => a64!(self.ops; ldrsh X(dst), [X(base), X(index), lsl sh]),
                    (4, true) => a64!(self.ops; ldrsw X(dst), [X(base), X(index), lsl sh]),
                    _ => a64!(self.ops; ldr X(dst), [X(base), X(index), lsl sh]),
                }
            }
        }
    }

    /// Stores the low `size` bytes of `src` at `addr`.
    pub fn store_to(&mut self, src: Reg, addr: Addr, size: u8) {
        match addr {
            Addr::Offset { base, off } if (-256..256).contains(&off) => self.store(src, base, off, size),
            _ if self.atomic.is_some() || self.ordered_accesses() => {
                let (base, off) = self.base_offset(addr);
                self.store(src, base, off, size);
            }
            Addr::Offset { base, off } => {
                self.mark_access();
                let off = off as u32;
                match size {
                    1 => a64!(self.ops; strb W(src), [X(base), off]),
                    2 => a64!(self.ops; strh W(src), [X(base), off]),
                    4 => a64!(self.ops; str W(src), [X(base), off]),
                    _ => a64!(self.ops; str X(src), [X(base), off]),
                }
            }
            Addr::Indexed { base, index, shift } => {
                self.mark_access();
                let sh = shift as u32;
                match size {
                    1 => a64!(self.ops; strb W(src), [X(base), X(index)]),
                    2 => a64!(self.ops; strh W(src), [X(base), X(index), lsl sh]),
                    4 => a64!(self.ops; str W(src), [X(base), X(index), lsl sh]),
                    _ => a64!(self.ops; str X(src), [X(base), X(index), lsl sh]),
                }
            }
        }
    }

    fn load_plain(&mut self, dst: Reg, base: Reg, off: i32, size: u8, signed: bool) {
        match (size, signed) {
            (1, false) => a64!(self.ops; ldurb W(dst), [X(base), off]),
            (2, false) => a64!(self.ops; ldurh W(dst), [X(base), off]),
            (4, false) => a64!(self.ops; ldur W(dst), [X(base), off]),
            (1, true) => a64!(self.ops; ldursb X(dst), [X(base), off]),
            (2, true) => a64!(self.ops; ldursh X(dst), [X(base), off]),
            (4, true) => a64!(self.ops; ldursw X(dst), [X(base), off]),
            _ => a64!(self.ops; ldur X(dst), [X(base), off]),
        }
    }

    pub fn store(&mut self, src: Reg, base: Reg, off: i32, size: u8) {
        self.mark_access();
        if self.atomic.is_some() {
            return self.store_exclusive(src, size);
        }
        if self.ordered_accesses() {
            return self.store_release(src, base, off, size);
        }
        self.store_plain(src, base, off, size);
    }

    fn store_plain(&mut self, src: Reg, base: Reg, off: i32, size: u8) {
        match size {
            1 => a64!(self.ops; sturb W(src), [X(base), off]),
            2 => a64!(self.ops; sturh W(src), [X(base), off]),
            4 => a64!(self.ops; stur W(src), [X(base), off]),
            _ => a64!(self.ops; stur X(src), [X(base), off]),
        }
    }

    /// A load ordered after earlier loads and before later ones (x86 TSO).
    /// `ldapr`/`ldar` need natural alignment, which x86 code does not
    /// promise: a misaligned address takes a plain load and a barrier.
    fn load_acquire(&mut self, dst: Reg, base: Reg, off: i32, size: u8, signed: bool) {
        let (at, at_off) = self.ordered_address(base, off, size);
        let fallback = self.misaligned_fallback(Unordered::Load(dst), base, off, (at, at_off), size);
        if !matches!(fallback, Fallback::Taken) {
            let sz = size.trailing_zeros();
            let op = match at_off {
                // ldapr{b,h,,} (LRCPC) or ldar{b,h,,}: size bits 31:30, Rn, Rt.
                0 if self.host.lrcpc => 0x38bf_c000,
                0 => 0x08df_fc00,
                // ldapur{b,h,,} (LRCPC2): size bits 31:30, imm9, Rn, Rt.
                off => 0x1940_0000 | imm9(off),
            };
            self.raw(op | (sz << 30) | ((at as u32) << 5) | dst as u32);
        }
        if let Fallback::OutOfLine(done) = fallback {
            self.bind(done);
        }
        if signed && size < 8 {
            self.extend(dst, dst, size, true);
        }
    }

    /// A store ordered after every earlier load and store (x86 TSO).
    fn store_release(&mut self, src: Reg, base: Reg, off: i32, size: u8) {
        let (at, at_off) = self.ordered_address(base, off, size);
        let fallback = self.misaligned_fallback(Unordered::Store(src), base, off, (at, at_off), size);
        if !matches!(fallback, Fallback::Taken) {
            let sz = size.trailing_zeros();
            let op = match at_off {
                // stlr{b,h,,}: size bits 31:30, Rn, Rt.
                0 => 0x089f_fc00,
                // stlur{b,h,,} (LRCPC2): size bits 31:30, imm9, Rn, Rt.
                off => 0x1900_0000 | imm9(off),
            };
            self.raw(op | (sz << 30) | ((at as u32) << 5) | src as u32);
        }
        if let Fallback::OutOfLine(done) = fallback {
            self.bind(done);
        }
    }

    /// The (register, offset) an ordered access of `size` bytes at
    /// `base + off` names: `base` and `off` in the instruction (LRCPC2's
    /// ldapur/stlur, for an offset in their range that keeps `base`'s
    /// alignment, so that an alignment test can look at `base`), else
    /// `base + off` in a register and no offset.
    fn ordered_address(&mut self, base: Reg, off: i32, size: u8) -> (Reg, i32) {
        if self.host.lrcpc2 && (-256..256).contains(&off) && off % i32::from(size) == 0 {
            (base, off)
        } else {
            (self.address_register(base, off), 0)
        }
    }

    /// For an ordered access of `size` bytes at `base + off`, addressed as
    /// `at` (`ordered_address`): its plain form with a barrier where the address is
    /// misaligned, which ldapr/ldar/stlr refuse. Inline when the alignment
    /// is known (`Taken`: no ordered instruction follows; `None`:
    /// aligned), else behind an alignment test, out of line (`cold`: x86
    /// code rarely makes one), with its fault marked as the instruction's.
    fn misaligned_fallback(&mut self, access: Unordered, base: Reg, off: i32, at: (Reg, i32), size: u8) -> Fallback {
        // The plain access is addressed as the ordered one; `plain_base`'s
        // low bits are the address's.
        let (plain_base, plain_off) = at;
        match self.known_alignment(base, off, size) {
            _ if size == 1 => Fallback::None,
            Some(true) => Fallback::None,
            Some(false) => {
                self.unordered(access, plain_base, plain_off, size);
                Fallback::Taken
            }
            None if crate::tuning::tuning().alignment_traps => {
                // No test: a misaligned access traps, and the runtime's
                // handler points it at this pad for good (`misaligned_pad`:
                // the access, next, is marked, and its pad).
                let mark = self.access_mark();
                self.marks.push(InsnMark { host_off: self.offset() as u32, pad: Pad::OrderedAccess, ..mark });
                Fallback::OutOfLine(self.cold_instead(
                    |_, _| {},
                    move |e| {
                        e.marks.push(InsnMark { host_off: e.offset() as u32, pad: Pad::Misaligned, ..mark });
                        e.unordered(access, plain_base, plain_off, size);
                    },
                ))
            }
            None => {
                let mark = self.access_mark();
                Fallback::OutOfLine(self.cold_instead(
                    |e, misaligned| e.misaligned_branch(plain_base, size, misaligned),
                    move |e| {
                        e.mark_cold_access(mark);
                        e.unordered(access, plain_base, plain_off, size);
                    },
                ))
            }
        }
    }

    /// `access` (at `base + off`) as a plain one, with the barrier that
    /// orders it as x86 does.
    fn unordered(&mut self, access: Unordered, base: Reg, off: i32, size: u8) {
        match access {
            Unordered::Load(dst) => {
                self.load_plain(dst, base, off, size, false);
                a64!(self.ops; dmb ishld);
            }
            Unordered::Store(src) => {
                a64!(self.ops; dmb ish);
                self.store_plain(src, base, off, size);
            }
        }
    }

    /// `base + off`'s alignment to `size` when translating: known for a
    /// constant operand address (`constant_address`).
    fn known_alignment(&self, base: Reg, off: i32, size: u8) -> Option<bool> {
        let (reg, addr) = self.constant_address?;
        (reg == base).then(|| addr.wrapping_add(off as i64 as u64) % u64::from(size) == 0)
    }

    /// Branches to `misaligned` when `addr` is not `size`-aligned, with
    /// the flags untouched: one `tbnz` per low bit, or for 8 bytes `and`
    /// into a scratch register and `cbnz` (two instructions, not three).
    /// The misaligned access is out of line (`cold`): x86 code rarely
    /// makes one.
    fn misaligned_branch(&mut self, addr: Reg, size: u8, misaligned: dynasmrt::DynamicLabel) {
        if size == 8 && self.scratch_in_use() < regs::SCRATCH.len() {
            let t = self.tmp();
            a64!(self.ops; and XSP(t), X(addr), 7u64 ; cbnz X(t), =>misaligned);
            return;
        }
        for bit in 0..size.trailing_zeros() {
            a64!(self.ops; tbnz X(addr), bit, =>misaligned);
        }
    }

    /// `base + off` in a register (acquire/release and exclusive accesses
    /// take no offset): `base` itself, or `regs::ACCESS_ADDR`.
    pub(super) fn address_register(&mut self, base: Reg, off: i32) -> Reg {
        if off == 0 {
            return base;
        }
        let t = regs::ACCESS_ADDR;
        let mag = off.unsigned_abs();
        if off >= 0 {
            a64!(self.ops; add XSP(t), XSP(base), mag);
        } else {
            a64!(self.ops; sub XSP(t), XSP(base), mag);
        }
        t
    }

    /// Writes the low `size` bytes of `src` to the operand with x86 rules:
    /// 32-bit register writes zero the upper half, 8/16-bit writes merge.
    pub fn write(&mut self, loc: Loc, src: Reg) {
        match loc {
            Loc::Reg { host, size: 8, .. } => {
                if host != src {
                    a64!(self.ops; mov X(host), X(src));
                }
            }
            Loc::Reg { host, size: 4, .. } => a64!(self.ops; mov W(host), W(src)),
            Loc::Reg { host, size: 2, .. } => a64!(self.ops; bfi X(host), X(src), 0, 16),
            Loc::Reg { host, high8: true, .. } => a64!(self.ops; bfi X(host), X(src), 8, 8),
            Loc::Reg { host, .. } => a64!(self.ops; bfi X(host), X(src), 0, 8),
            Loc::Mem { addr, size } => self.store_to(src, addr, size),
            Loc::Imm { .. } => unreachable!("x86 has no immediate destinations"),
        }
    }

    /// Writes an ALU result computed by `result_reg`: a 32-bit operation into
    /// the pinned register has already zero-extended it.
    pub fn write_result(&mut self, dst: Loc, r: Reg) {
        match dst {
            Loc::Reg { host, size: 4, .. } if host == r => {}
            _ => self.write(dst, r),
        }
    }

    /// The register an ALU result for `dst` can be computed into directly:
    /// the pinned register itself for 32/64-bit register destinations.
    pub fn result_reg(&mut self, dst: Loc) -> Reg {
        match dst {
            Loc::Reg { host, size: 4 | 8, .. } => host,
            _ => self.tmp(),
        }
    }
}

/// An ordered access made plain (`Emitter::misaligned_fallback`): its register.
#[derive(Clone, Copy)]
enum Unordered {
    Load(Reg),
    Store(Reg),
}

/// A 9-bit signed offset in bits 20:12 of a load or store.
fn imm9(off: i32) -> u32 {
    ((off as u32) & 0x1ff) << 12
}

/// Where an ordered access's misaligned case went.
enum Fallback {
    /// Nowhere: the address is aligned (or a byte's).
    None,
    /// Inline, instead of the ordered access: the address is misaligned.
    Taken,
    /// Out of line, behind the alignment test; it resumes at this label,
    /// after the ordered access.
    OutOfLine(dynasmrt::DynamicLabel),
}

pub fn truncate(value: u64, size: u8) -> u64 {
    if size >= 8 {
        value
    } else {
        value & ((1u64 << (size * 8)) - 1)
    }
}

pub fn sign_extend(value: u64, size: u8) -> u64 {
    if size >= 8 {
        return value;
    }
    let sh = 64 - size as u32 * 8;
    (((value << sh) as i64) >> sh) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_registers_map_as_iced_describes_them() {
        for reg in Register::values() {
            let expected = reg.is_gpr().then(|| {
                let high8 = matches!(reg, Register::AH | Register::CH | Register::DH | Register::BH);
                (regs::gpr(reg.full_register().number()), reg.size() as u8, high8)
            });
            assert_eq!(gpr_of(reg).ok(), expected, "{reg:?}");
        }
    }
}
