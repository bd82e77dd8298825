//! The literal pool: 64-bit constants a block loads with one pc-relative
//! `ldr` instead of building them with two to four movz/movk. Guest
//! addresses are most of them (a call's return address, RIP-relative
//! operands, `jmp [rip+GOT]` in every PLT stub): in a PIE or a library
//! each took three instructions.
//!
//! The pool follows the block's last instruction (cold code included),
//! 8-byte aligned (blocks start 16-byte aligned in the code cache), one
//! entry per distinct value. A pool entry holding a guest address is a
//! `Relocation::GuestLiteral`, which `relocate` rewrites in place.

use super::assembler::BlockAssembler;
use dynasmrt::DynasmApi;
use super::relocation::Relocation;

/// `ldr Xt, <label>` with a zero offset; `place_pool` fills in imm19.
pub const LDR_LITERAL_X: u32 = 0x5800_0000;
/// `nop`, to align the pool.
const NOP: u32 = 0xd503_201f;

/// One `ldr` from the pool: its byte offset in the block, the value it
/// loads, and whether that is a guest address (moved with the block).
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub site: u32,
    pub value: u64,
    pub guest: bool,
}

/// Appends the pool to `ops` and points each load at its entry: entries
/// in first-use order, one per distinct (value, guest) — a constant equal
/// to a guest address must not move with the image. Blocks load a handful
/// at most, so the search is quadratic and allocates nothing (this runs
/// for most blocks).
pub fn place_pool(ops: &mut BlockAssembler, loads: &[Load], relocations: &mut Vec<Relocation>) {
    if ops.offset().0 % 8 != 0 {
        ops.push_u32(NOP);
    }
    let key = |l: &Load| (l.value, l.guest);
    for (i, load) in loads.iter().enumerate() {
        if loads[..i].iter().any(|l| key(l) == key(load)) {
            continue; // placed with its first load
        }
        let entry = ops.offset().0;
        if load.guest {
            relocations.push(Relocation::GuestLiteral { at: entry as u32, value: load.value });
        }
        ops.push_u32(load.value as u32);
        ops.push_u32((load.value >> 32) as u32);
        for same in loads[i..].iter().filter(|l| key(l) == key(load)) {
            let words = (entry - same.site as usize) / 4;
            debug_assert!(words < 1 << 18, "a block is far smaller than ldr's 1 MiB reach");
            ops.patch_u32(same.site as usize, |w| w | ((words as u32) << 5));
        }
    }
}

/// Where a finished block's instructions end and its pool begins (the
/// code's length without one), for listings.
pub fn instructions_end(code: &[u8]) -> usize {
    let mut end = code.len();
    let mut at = 0;
    // Every load comes before the pool: the lowest entry a load names
    // is the pool's start, and the walk stops before reaching it.
    while at + 4 <= end {
        let word = u32::from_le_bytes(code[at..at + 4].try_into().expect("4 bytes"));
        if word & 0xff00_0000 == LDR_LITERAL_X {
            end = end.min(at + 4 * ((word >> 5) & 0x7ffff) as usize);
        }
        at += 4;
    }
    // The alignment nop belongs to the pool.
    if end < code.len() && end >= 4 && code[end - 4..end] == NOP.to_le_bytes() {
        end -= 4;
    }
    end
}

/// The value the `ldr` at byte offset `at` loads from the pool.
pub fn loaded_value(code: &[u8], at: usize) -> Option<u64> {
    let word = u32::from_le_bytes(code.get(at..at + 4)?.try_into().ok()?);
    if word & 0xff00_0000 != LDR_LITERAL_X {
        return None;
    }
    let entry = at + 4 * ((word >> 5) & 0x7ffff) as usize;
    Some(u64::from_le_bytes(code.get(entry..entry + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::host::HostFeatures;
    use crate::emit::{Emitter, Stubs};

    #[test]
    fn loads_share_one_entry_per_value_and_guest_addresses_are_relocated() {
        let mut e = Emitter::new(0, HostFeatures::BASELINE, Stubs::default());
        e.mov_guest_address(3, 0x5555_0000_1234);
        e.load_constant(4, 0x5555_0000_1234);
        e.mov_guest_address(5, 0x5555_0000_1234);
        e.load_constant(6, 7);
        let t = e.finish(0);
        // Three loads and a mov (already 8-byte aligned), two entries.
        assert_eq!(t.code.len(), 4 * 4 + 16);
        assert_eq!(instructions_end(&t.code), 16);
        assert_eq!([0, 4, 8].map(|at| loaded_value(&t.code, at)), [Some(0x5555_0000_1234); 3]);
        let entry = |at: usize| {
            let word = u32::from_le_bytes(t.code[at..at + 4].try_into().unwrap());
            at + 4 * ((word >> 5) & 0x7ffff) as usize
        };
        assert_eq!((entry(0), entry(4), entry(8)), (16, 24, 16), "the constant has an entry of its own");
        let literals: Vec<_> = t.relocations.iter().filter(|r| matches!(r, Relocation::GuestLiteral { .. })).collect();
        assert_eq!(literals, [&Relocation::GuestLiteral { at: 16, value: 0x5555_0000_1234 }]);
        // With an odd number of instructions a nop aligns the pool.
        let mut e = Emitter::new(0, HostFeatures::BASELINE, Stubs::default());
        e.load_constant(4, 0x1234_5678);
        let t = e.finish(0);
        assert_eq!((t.code.len(), instructions_end(&t.code), loaded_value(&t.code, 0)), (16, 4, Some(0x1234_5678)));
    }
}
