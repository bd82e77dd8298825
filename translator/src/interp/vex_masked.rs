//! AVX/AVX2 memory accesses element by element, interpreted: the masked
//! loads and stores (vmaskmovps/pd, vpmaskmovd/q, vmaskmovdqu) and the
//! gathers (vgather*, vpgather*), whose masks decide which elements touch
//! memory at all (SDM vol. 2, VMASKMOV, VPMASKMOV, VGATHERDPS...).
//!
//! - A masked-out element is never accessed: no fault even on an unmapped
//!   page. A masked load zeroes it; a masked store leaves its bytes alone.
//! - A masked load or store that faults on a selected element changes
//!   nothing: every selected element is checked before the first write.
//! - A gather loads its selected elements in order, clearing each one's
//!   mask element as it completes; at a fault the completed elements stay
//!   written and cleared (a restart continues from there). Measured on an
//!   Intel CPU (the SDM's pseudo-code has the first part): the mask
//!   register's elements not yet processed (in vgatherqps xmm also the two
//!   past the gathered ones) are normalized at once to all-ones or zero by
//!   their sign bits and an XMM mask has bits 128..255 cleared, even if
//!   the first element faults; an XMM destination has them cleared once an
//!   element is loaded (a fault before that leaves it whole), and its
//!   bits past the gathered elements when the gather completes.

use crate::cpu::state::CpuState;
use crate::exit::GuestEvent;
use crate::interp::guest_access::{read_guest, write_guest};
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

/// Element size in bytes of each masked move (the mask and data element).
const MASKED_MOVES: &[(Mnemonic, u32)] = &[
    (Mnemonic::Vmaskmovps, 4),
    (Mnemonic::Vpmaskmovd, 4),
    (Mnemonic::Vmaskmovpd, 8),
    (Mnemonic::Vpmaskmovq, 8),
    (Mnemonic::Vmaskmovdqu, 1),
];

/// Each gather's index and data element sizes in bytes.
const GATHERS: &[(Mnemonic, Gather)] = &[
    (Mnemonic::Vgatherdps, Gather { index: 4, data: 4 }),
    (Mnemonic::Vpgatherdd, Gather { index: 4, data: 4 }),
    (Mnemonic::Vgatherdpd, Gather { index: 4, data: 8 }),
    (Mnemonic::Vpgatherdq, Gather { index: 4, data: 8 }),
    (Mnemonic::Vgatherqps, Gather { index: 8, data: 4 }),
    (Mnemonic::Vpgatherqd, Gather { index: 8, data: 4 }),
    (Mnemonic::Vgatherqpd, Gather { index: 8, data: 8 }),
    (Mnemonic::Vpgatherqq, Gather { index: 8, data: 8 }),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Gather {
    index: u32,
    data: u32,
}

impl Gather {
    /// How many elements a gather of `vector_bytes` (16 or 32: VEX.L)
    /// loads: as many as the wider of its index and data vectors holds,
    /// so the other vector is an XMM register in a VEX.256 form.
    fn elements(self, vector_bytes: u32) -> u32 {
        vector_bytes / self.index.max(self.data)
    }
}

/// Whether `step` runs instructions with mnemonic `m`.
pub fn handles(m: Mnemonic) -> bool {
    MASKED_MOVES.iter().any(|&(x, _)| x == m) || GATHERS.iter().any(|&(x, _)| x == m)
}

/// A YMM register as 32 little-endian bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Vector([u8; 32]);

impl Vector {
    fn of(state: &CpuState, reg: Register) -> Vector {
        let n = reg.number();
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(&state.xmm[n].to_le_bytes());
        b[16..].copy_from_slice(&state.ymm_upper[n].to_le_bytes());
        Vector(b)
    }

    /// Stores the whole register (a VEX.128 result has zeroed its upper half).
    fn store(self, state: &mut CpuState, reg: Register) {
        let n = reg.number();
        state.xmm[n] = u128::from_le_bytes(self.0[..16].try_into().expect("16 bytes"));
        state.ymm_upper[n] = u128::from_le_bytes(self.0[16..].try_into().expect("16 bytes"));
    }

    fn element(&self, i: u32, size: u32) -> u64 {
        let at = (i * size) as usize;
        let mut b = [0u8; 8];
        b[..size as usize].copy_from_slice(&self.0[at..at + size as usize]);
        u64::from_le_bytes(b)
    }

    fn set_element(&mut self, i: u32, size: u32, v: u64) {
        let at = (i * size) as usize;
        self.0[at..at + size as usize].copy_from_slice(&v.to_le_bytes()[..size as usize]);
    }

    /// Whether element `i`'s sign bit (the mask bit) is set.
    fn selects(&self, i: u32, size: u32) -> bool {
        self.0[((i + 1) * size - 1) as usize] & 0x80 != 0
    }

    fn clear_from(&mut self, byte: u32) {
        self.0[byte as usize..].fill(0);
    }
}

/// Guest memory as these instructions use it: each access checked first.
trait ElementMemory {
    fn check(&mut self, addr: u64, size: u32, write: bool) -> Result<(), GuestEvent>;
    fn read(&mut self, addr: u64, size: u32) -> u64;
    fn write(&mut self, addr: u64, size: u32, v: u64);
}

/// The guest's own memory, probed so that a bad address is the guest's fault.
struct Guest;

impl ElementMemory for Guest {
    fn check(&mut self, addr: u64, size: u32, write: bool) -> Result<(), GuestEvent> {
        super::probe_access(addr, size as u64, write)
    }

    fn read(&mut self, addr: u64, size: u32) -> u64 {
        read_guest(addr, size)
    }

    fn write(&mut self, addr: u64, size: u32, v: u64) {
        write_guest(addr, size, v)
    }
}

/// Runs a masked move or a gather at `state.rip` (RIP is the caller's).
pub fn step(state: &mut CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    let m = insn.mnemonic();
    if let Some(&(_, elem)) = MASKED_MOVES.iter().find(|&&(x, _)| x == m) {
        return masked_move(state, insn, elem, &mut Guest);
    }
    match GATHERS.iter().find(|&&(x, _)| x == m) {
        Some(&(_, shape)) => gather_step(state, insn, shape, &mut Guest),
        None => Err(GuestEvent::Fault { signal: libc::SIGILL, addr: state.rip }),
    }
}

/// 16 or 32: whether any register operand is a YMM register (VEX.L).
fn vector_bytes(insn: &Instruction) -> u32 {
    let ymm = (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Register && insn.op_register(i).is_ymm())
        || insn.memory_index().is_ymm();
    if ymm {
        32
    } else {
        16
    }
}

/// Address arithmetic at the instruction's address size (a 0x67 prefix
/// truncates to 32 bits), plus the FS or GS base.
fn linear(insn: &Instruction, state: &CpuState, offset: u64) -> u64 {
    let a32 = insn.memory_base().size() == 4 || insn.op0_kind() == OpKind::MemorySegEDI;
    let offset = if a32 { offset & 0xffff_ffff } else { offset };
    match insn.memory_segment() {
        Register::FS => offset.wrapping_add(state.fs_base),
        Register::GS => offset.wrapping_add(state.gs_base),
        _ => offset,
    }
}

/// vmaskmovps/pd, vpmaskmovd/q (loads: op0 = register, op1 = mask, op2 =
/// memory; stores: op0 = memory, op1 = mask, op2 = data) and vmaskmovdqu
/// (op0 = [rDI], op1 = data, op2 = mask).
fn masked_move(state: &mut CpuState, insn: &Instruction, elem: u32, mem: &mut impl ElementMemory) -> Result<(), GuestEvent> {
    let bytes = vector_bytes(insn);
    if insn.mnemonic() == Mnemonic::Vmaskmovdqu {
        let rdi = state.gpr[crate::cpu::state::gpr::RDI];
        let addr = linear(insn, state, rdi);
        let (data, mask) = (Vector::of(state, insn.op1_register()), Vector::of(state, insn.op2_register()));
        return masked_store(mem, addr, &data, &mask, elem, bytes);
    }
    let mask = Vector::of(state, insn.op1_register());
    if insn.op0_kind() == OpKind::Memory {
        let addr = super::guest_access::effective_address(state, insn);
        let data = Vector::of(state, insn.op2_register());
        masked_store(mem, addr, &data, &mask, elem, bytes)
    } else {
        let addr = super::guest_access::effective_address(state, insn);
        let loaded = masked_load(mem, addr, &mask, elem, bytes)?;
        loaded.store(state, insn.op0_register());
        Ok(())
    }
}

/// The selected elements of `bytes` bytes at `addr`, the others zero (and
/// bits from `bytes` on zero: a VEX.128 load clears the upper half).
fn masked_load(mem: &mut impl ElementMemory, addr: u64, mask: &Vector, elem: u32, bytes: u32) -> Result<Vector, GuestEvent> {
    let selected = || (0..bytes / elem).filter(|&i| mask.selects(i, elem));
    for i in selected() {
        mem.check(element_address(addr, i, elem), elem, false)?;
    }
    let mut out = Vector([0; 32]);
    for i in selected() {
        out.set_element(i, elem, mem.read(element_address(addr, i, elem), elem));
    }
    Ok(out)
}

/// Writes the selected elements of `data` at `addr`, once every selected
/// element is known to be writable.
fn masked_store(
    mem: &mut impl ElementMemory,
    addr: u64,
    data: &Vector,
    mask: &Vector,
    elem: u32,
    bytes: u32,
) -> Result<(), GuestEvent> {
    let selected = || (0..bytes / elem).filter(|&i| mask.selects(i, elem));
    for i in selected() {
        mem.check(element_address(addr, i, elem), elem, true)?;
    }
    for i in selected() {
        mem.write(element_address(addr, i, elem), elem, data.element(i, elem));
    }
    Ok(())
}

fn element_address(addr: u64, i: u32, elem: u32) -> u64 {
    addr.wrapping_add((i * elem) as u64)
}

/// A gather: op0 = destination, op1 = the VSIB operand, op2 = mask.
fn gather_step(state: &mut CpuState, insn: &Instruction, shape: Gather, mem: &mut impl ElementMemory) -> Result<(), GuestEvent> {
    let (dest_reg, index_reg, mask_reg) = (insn.op0_register(), insn.memory_index(), insn.op2_register());
    if dest_reg.number() == index_reg.number() || dest_reg.number() == mask_reg.number() || index_reg.number() == mask_reg.number() {
        // #UD (iced's decoder already rejects these encodings).
        return Err(GuestEvent::Fault { signal: libc::SIGILL, addr: state.rip });
    }
    let mut base = insn.memory_displacement64();
    if insn.memory_base() != Register::None {
        base = base.wrapping_add(state.gpr[insn.memory_base().full_register().number()]);
    }
    let scale = insn.memory_index_scale() as u64;
    let index = Vector::of(state, index_reg);
    let address = |i: u32| {
        let x = index.element(i, shape.index);
        let x = if shape.index == 4 { x as u32 as i32 as i64 as u64 } else { x };
        linear(insn, state, base.wrapping_add(x.wrapping_mul(scale)))
    };
    let (mut dest, mut mask) = (Vector::of(state, dest_reg), Vector::of(state, mask_reg));
    let result = gather(mem, shape, vector_bytes(insn), address, &mut dest, &mut mask);
    dest.store(state, dest_reg);
    mask.store(state, mask_reg);
    result
}

/// The gather proper on `dest` and `mask` (written back by the caller
/// whether it faults or not); `address(i)` is element i's address.
fn gather(
    mem: &mut impl ElementMemory,
    shape: Gather,
    vector_bytes: u32,
    address: impl Fn(u32) -> u64,
    dest: &mut Vector,
    mask: &mut Vector,
) -> Result<(), GuestEvent> {
    let (n, size) = (shape.elements(vector_bytes), shape.data);
    // The destination and mask registers: XMM or YMM.
    let register_bytes = (n * size).max(16);
    for i in 0..register_bytes / size {
        let all = if mask.selects(i, size) { u64::MAX } else { 0 };
        mask.set_element(i, size, all);
    }
    mask.clear_from(register_bytes);
    for i in 0..n {
        if mask.selects(i, size) {
            let addr = address(i);
            mem.check(addr, size, false)?;
            dest.set_element(i, size, mem.read(addr, size));
            dest.clear_from(register_bytes);
        }
        mask.set_element(i, size, 0);
    }
    dest.clear_from(n * size);
    mask.clear_from(0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Code, Decoder, DecoderOptions};

    /// Memory of 4 pages at 0x10000..0x14000; addresses from `unmapped`
    /// on fault. Records writes in order.
    struct FakeMemory {
        bytes: Vec<u8>,
        unmapped: u64,
        writes: Vec<u64>,
    }

    const START: u64 = 0x10000;

    impl FakeMemory {
        fn new(unmapped: u64) -> FakeMemory {
            FakeMemory { bytes: (0..0x4000u32).map(|i| i as u8).collect(), unmapped, writes: Vec::new() }
        }
    }

    impl ElementMemory for FakeMemory {
        fn check(&mut self, addr: u64, size: u32, _write: bool) -> Result<(), GuestEvent> {
            for a in [addr, addr + size as u64 - 1] {
                if !(START..self.unmapped).contains(&a) {
                    return Err(GuestEvent::PageFault { addr: a, code: 1 });
                }
            }
            Ok(())
        }

        fn read(&mut self, addr: u64, size: u32) -> u64 {
            let at = (addr - START) as usize;
            let mut b = [0u8; 8];
            b[..size as usize].copy_from_slice(&self.bytes[at..at + size as usize]);
            u64::from_le_bytes(b)
        }

        fn write(&mut self, addr: u64, size: u32, v: u64) {
            assert!((START..self.unmapped).contains(&addr), "write to an unchecked address {addr:#x}");
            let at = (addr - START) as usize;
            self.bytes[at..at + size as usize].copy_from_slice(&v.to_le_bytes()[..size as usize]);
            self.writes.push(addr);
        }
    }

    fn dwords(v: [u32; 8]) -> Vector {
        let mut out = Vector([0; 32]);
        for (i, x) in v.iter().enumerate() {
            out.set_element(i as u32, 4, *x as u64);
        }
        out
    }

    const ON: u32 = 0x8000_0000;

    #[test]
    fn masked_out_elements_on_an_unmapped_page_do_not_fault() {
        // Elements 2 and 3 of 4 lie past the mapping, masked out.
        let mut mem = FakeMemory::new(0x12000);
        let addr = 0x12000 - 8;
        let mask = dwords([ON, 0xffff_ffff, 0x7fff_ffff, 0, ON, ON, ON, ON]);
        let v = masked_load(&mut mem, addr, &mask, 4, 16).unwrap();
        assert_eq!(v, dwords([0xfbfaf9f8, 0xfffefdfc, 0, 0, 0, 0, 0, 0]));
        masked_store(&mut mem, addr, &dwords([1, 2, 3, 4, 5, 6, 7, 8]), &mask, 4, 16).unwrap();
        assert_eq!(mem.read(addr, 8), 0x2_0000_0001);
    }

    #[test]
    fn a_fault_on_a_selected_element_changes_nothing() {
        let mut mem = FakeMemory::new(0x12000);
        let addr = 0x12000 - 8;
        let mask = dwords([ON, 0, ON, 0, 0, 0, 0, 0]);
        let fault = GuestEvent::PageFault { addr: 0x12000, code: 1 };
        assert_eq!(masked_store(&mut mem, addr, &dwords([1; 8]), &mask, 4, 16), Err(fault));
        assert!(mem.writes.is_empty(), "element 0 written before the fault");
        assert_eq!(masked_load(&mut mem, addr, &mask, 4, 16), Err(fault));
    }

    #[test]
    fn stores_write_only_selected_qwords_of_a_ymm() {
        let mut mem = FakeMemory::new(0x14000);
        let mut mask = Vector([0; 32]);
        mask.set_element(1, 8, 1 << 63);
        mask.set_element(3, 8, u64::MAX);
        mask.set_element(0, 8, 0x7fff_ffff_ffff_ffff);
        let data = Vector(std::array::from_fn(|i| 0xa0 + i as u8));
        masked_store(&mut mem, 0x10100, &data, &mask, 8, 32).unwrap();
        assert_eq!(mem.writes, [0x10108, 0x10118]);
        assert_eq!(mem.read(0x10100, 8), 0x0706_0504_0302_0100);
        assert_eq!(mem.read(0x10108, 8), 0xafae_adac_abaa_a9a8);
    }

    #[test]
    fn byte_masked_store_for_vmaskmovdqu() {
        let mut mem = FakeMemory::new(0x11000);
        let mut mask = Vector([0; 32]);
        mask.0[0] = 0x80;
        mask.0[15] = 0xff;
        let data = Vector([0x55; 32]);
        // Bytes 1..15 lie past the mapping, but only byte 15 is selected.
        assert!(masked_store(&mut mem, 0x11000 - 1, &data, &mask, 1, 16).is_err());
        assert!(mem.writes.is_empty());
        mask.0[15] = 0;
        masked_store(&mut mem, 0x11000 - 1, &data, &mask, 1, 16).unwrap();
        assert_eq!(mem.writes, [0x10fff]);
    }

    #[test]
    fn gather_fault_keeps_completed_elements_and_normalizes_the_rest() {
        // As measured natively: vgatherdps ymm, element 2 on an unmapped page.
        let mut mem = FakeMemory::new(0x12000);
        let shape = Gather { index: 4, data: 4 };
        let addresses = [0x10000, 0x10004, 0x12000, 0x1000c, 0x10010, 0x10014, 0x10018, 0x1001c];
        let mut dest = dwords([0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7]);
        let mut mask = dwords([0xffff_ffff, ON, ON, ON | 1, 0x7fff_ffff, ON, ON, 0x1234_5678]);
        let r = gather(&mut mem, shape, 32, |i| addresses[i as usize], &mut dest, &mut mask);
        assert_eq!(r, Err(GuestEvent::PageFault { addr: 0x12000, code: 1 }));
        assert_eq!(dest, dwords([0x03020100, 0x07060504, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7]));
        assert_eq!(mask, dwords([0, 0, !0, !0, 0, !0, !0, 0]));
        // The restart continues at element 2.
        let mut mem = FakeMemory::new(0x14000);
        let r = gather(&mut mem, shape, 32, |i| addresses[i as usize], &mut dest, &mut mask);
        assert_eq!(r, Ok(()));
        assert_eq!(mask, Vector([0; 32]));
        assert_eq!(dest.element(2, 4), 0x03020100);
        assert_eq!(dest.element(3, 4), 0x0f0e0d0c);
        assert_eq!(dest.element(4, 4), 0xd4);
        assert_eq!(dest.element(5, 4), 0x17161514);
    }

    #[test]
    fn xmm_gathers_clear_the_upper_mask_at_once_and_the_upper_destination_at_the_first_load() {
        // vgatherqps xmm, [vm64y], xmm: 4 elements, an XMM destination.
        let shape = Gather { index: 8, data: 4 };
        let mut mem = FakeMemory::new(0x11000);
        let (mut dest, mut mask) = (dwords([1; 8]), dwords([0, ON, ON, ON, ON, ON, ON, ON]));
        let r = gather(&mut mem, shape, 32, |_| 0x20000, &mut dest, &mut mask);
        assert!(r.is_err());
        assert_eq!(dest, dwords([1; 8]), "nothing loaded: the destination is whole");
        assert_eq!(mask, dwords([0, !0, !0, !0, 0, 0, 0, 0]));
        let (mut dest, mut mask) = (dwords([1; 8]), dwords([ON; 8]));
        let r = gather(&mut mem, shape, 32, |i| if i == 0 { 0x10000 } else { 0x20000 }, &mut dest, &mut mask);
        assert!(r.is_err());
        assert_eq!(dest, dwords([0x03020100, 1, 1, 1, 0, 0, 0, 0]));
        assert_eq!(mask, dwords([0, !0, !0, !0, 0, 0, 0, 0]));
        let (mut dest, mut mask) = (dwords([1; 8]), dwords([0; 8]));
        gather(&mut mem, shape, 32, |_| 0x20000, &mut dest, &mut mask).unwrap();
        assert_eq!(dest, dwords([1, 1, 1, 1, 0, 0, 0, 0]), "nothing selected: completes, upper cleared");
    }

    #[test]
    fn vex128_vgatherqps_normalizes_the_mask_lanes_past_its_two_elements() {
        // As measured natively: the lanes are normalized at a fault, and
        // they and the destination's bits 64..255 are zero at the end.
        let shape = Gather { index: 8, data: 4 };
        let mut mem = FakeMemory::new(0x11000);
        let (mut dest, mut mask) = (dwords([0xd0, 0xd1, 0xd2, 0xd3, 4, 5, 6, 7]), dwords([ON, ON, ON | 1, 0x1234_5678, ON, 1, 2, 3]));
        let r = gather(&mut mem, shape, 16, |i| 0x10000 + 0x1000 * i as u64, &mut dest, &mut mask);
        assert_eq!(r, Err(GuestEvent::PageFault { addr: 0x11000, code: 1 }));
        assert_eq!(dest, dwords([0x03020100, 0xd1, 0xd2, 0xd3, 0, 0, 0, 0]));
        assert_eq!(mask, dwords([0, !0, !0, 0, 0, 0, 0, 0]));
        let mut mem = FakeMemory::new(0x12000);
        gather(&mut mem, shape, 16, |i| 0x10000 + 0x1000 * i as u64, &mut dest, &mut mask).unwrap();
        assert_eq!(dest, dwords([0x03020100, 0x03020100, 0, 0, 0, 0, 0, 0]));
        assert_eq!(mask, Vector([0; 32]));
    }

    #[test]
    fn element_counts_follow_the_wider_vector() {
        let count = |index, data, bytes| Gather { index, data }.elements(bytes);
        assert_eq!([count(4, 4, 32), count(4, 8, 32), count(8, 4, 32), count(8, 8, 32)], [8, 4, 4, 4]);
        assert_eq!([count(4, 4, 16), count(4, 8, 16), count(8, 4, 16), count(8, 8, 16)], [4, 2, 2, 2]);
    }

    #[test]
    fn every_gather_and_masked_move_mnemonic_is_handled() {
        let gathers = [
            Code::VEX_Vgatherdps_xmm_vm32x_xmm, Code::VEX_Vgatherdps_ymm_vm32y_ymm, Code::VEX_Vgatherdpd_xmm_vm32x_xmm,
            Code::VEX_Vgatherdpd_ymm_vm32x_ymm, Code::VEX_Vgatherqps_xmm_vm64x_xmm, Code::VEX_Vgatherqps_xmm_vm64y_xmm,
            Code::VEX_Vgatherqpd_xmm_vm64x_xmm, Code::VEX_Vgatherqpd_ymm_vm64y_ymm, Code::VEX_Vpgatherdd_xmm_vm32x_xmm,
            Code::VEX_Vpgatherdd_ymm_vm32y_ymm, Code::VEX_Vpgatherdq_xmm_vm32x_xmm, Code::VEX_Vpgatherdq_ymm_vm32x_ymm,
            Code::VEX_Vpgatherqd_xmm_vm64x_xmm, Code::VEX_Vpgatherqd_xmm_vm64y_xmm, Code::VEX_Vpgatherqq_xmm_vm64x_xmm,
            Code::VEX_Vpgatherqq_ymm_vm64y_ymm,
        ];
        assert!(gathers.iter().all(|c| handles(c.mnemonic())));
        assert!(handles(Mnemonic::Vmaskmovdqu) && handles(Mnemonic::Vpmaskmovq) && !handles(Mnemonic::Vmovdqu));
    }

    /// The CPU's #UD for a register named twice is the decoder's
    /// invalid instruction, so it never reaches `step`.
    #[test]
    fn a_gather_naming_a_register_twice_does_not_decode() {
        // vgatherdps xmm1, [rax+xmm2*1], xmm3 with ModRM.reg, VSIB index or
        // vvvv made equal to another: C4 E2 vvvv=3 (0x61), 92, ModRM, SIB.
        let decode = |vvvv: u8, reg: u8, index: u8| {
            let bytes = [0xc4, 0xe2, 0x01 | (!vvvv & 15) << 3, 0x92, 0x04 | reg << 3, index << 3];
            Decoder::with_ip(64, &bytes, 0, DecoderOptions::NONE).decode().code()
        };
        assert_eq!(decode(3, 1, 2), Code::VEX_Vgatherdps_xmm_vm32x_xmm);
        assert_eq!(decode(3, 1, 1), Code::INVALID);
        assert_eq!(decode(3, 3, 2), Code::INVALID);
        assert_eq!(decode(2, 1, 2), Code::INVALID);
    }
}
