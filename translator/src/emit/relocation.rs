//! Where a translated block depends on where it and its guest code live,
//! so that a block can be moved: translated for a library loaded at one
//! address and reused where ASLR loads it next time, at another place in
//! the code buffer (the persistent code cache, issue 14).
//!
//! Everything else in a block is position-independent: branches within it
//! are relative, guest registers and state are reached through pinned host
//! registers, and a direct exit's patchable branch starts out pointing at
//! the instruction right behind it. The emitter records a relocation at
//! each of the other kinds of place (`Emitter::mov_guest_address`, which
//! puts most guest addresses in the literal pool, and
//! `Emitter::b_exit_stub`), and `relocate` rewrites them.

use super::Stubs;
use crate::exit::ExitReason;

/// One place in a block's code that names an absolute address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relocation {
    /// `words` movz/movn/movk at byte offset `at` put guest address
    /// `value` in a register (an exit's RIP, a call's return address, a
    /// RIP-relative operand's address).
    GuestAddress { at: u32, words: u8, value: u64 },
    /// A `b` at byte offset `at` to the exit stub of `reason`.
    ExitStub { at: u32, reason: ExitReason },
    /// The literal pool's 8 bytes at offset `at` hold guest address
    /// `value` (`literal`).
    GuestLiteral { at: u32, value: u64 },
}

/// The block cannot be moved as asked: a moved guest address needs more or
/// fewer instructions than the block has room for (one of its 16-bit
/// halves became or stopped being 0 or 0xffff), or a stub is out of
/// branch range. Translate the block afresh instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unrelocatable;

const MOVZ: u32 = 0xd280_0000;
const MOVN: u32 = 0x9280_0000;
const MOVK: u32 = 0xf280_0000;

/// The movz/movn/movk words that put `value` in register `rd`, fewest
/// first: movn when more halves are all ones than zero (`imm_layout`).
pub fn mov_imm_words(rd: u8, value: u64) -> ([u32; 4], usize) {
    let ((movn, written), n) = imm_layout(value);
    let mut words = [0u32; 4];
    let mut halves = written;
    for word in &mut words[..n] {
        let hw = halves.trailing_zeros();
        halves &= halves - 1;
        let half = ((value >> (16 * hw)) & 0xffff) as u32;
        *word = MOVK | (hw << 21) | (half << 5) | u32::from(rd);
    }
    // The first word starts from zeros (movz) or ones (movn, inverted immediate).
    words[0] = if movn { (words[0] & !MOVK) ^ (0xffff << 5) | MOVN } else { words[0] & !MOVK | MOVZ };
    (words, n)
}

/// Whether one movz or movn builds `value` (the cheap test callers make
/// before choosing between a mov and a literal load).
pub fn is_one_mov(value: u64) -> bool {
    // At most one 16-bit half differs from all zeros, or from all ones.
    let halves_not = |fill: u64| {
        let x = value ^ fill;
        (x & 0xffff != 0) as u32 + (x & 0xffff_0000 != 0) as u32 + (x & 0xffff_0000_0000 != 0) as u32 + (x >> 48 != 0) as u32
    };
    halves_not(0) <= 1 || halves_not(u64::MAX) <= 1
}

/// How `value` is built: whether it starts with movn (more halves all
/// ones than zero), the halves it writes (bit n: bits 16n..16n+15; the
/// ones the first instruction already gives are skipped), and how many
/// words.
fn imm_layout(value: u64) -> ((bool, u8), usize) {
    let halves = [value as u16, (value >> 16) as u16, (value >> 32) as u16, (value >> 48) as u16];
    let ones = halves.iter().filter(|&&h| h == 0xffff).count();
    let zeros = halves.iter().filter(|&&h| h == 0).count();
    let (movn, skip) = if ones > zeros { (true, 0xffff) } else { (false, 0) };
    let written = (0..4).filter(|&i| halves[i] != skip).fold(0u8, |m, i| m | 1 << i);
    // All halves skipped: one word writing half 0.
    let written = if written == 0 { 1 } else { written };
    ((movn, written), written.count_ones() as usize)
}

/// Moves `code` (its relocations `relocations`) to host address `host`,
/// with every guest address it names moved by `guest_delta` (wrapping),
/// and its exit stubs at `stubs`.
pub fn relocate(code: &mut [u8], relocations: &[Relocation], guest_delta: u64, host: u64, stubs: &Stubs) -> Result<(), Unrelocatable> {
    relocations.iter().try_for_each(|&r| relocate_one(code, r, guest_delta, host, stubs))
}

/// `relocate` for one relocation.
pub fn relocate_one(code: &mut [u8], r: Relocation, guest_delta: u64, host: u64, stubs: &Stubs) -> Result<(), Unrelocatable> {
    let word_at = |code: &[u8], at: usize| u32::from_le_bytes(code[at..at + 4].try_into().expect("4 bytes"));
    match r {
        Relocation::GuestAddress { at, words, value } => {
            let at = at as usize;
            let new = value.wrapping_add(guest_delta);
            let words = usize::from(words);
            if at + 4 * words > code.len() {
                return Err(Unrelocatable);
            }
            // The words stay the ones `mov_imm_words` would choose for
            // the new value (same first opcode, same halves written):
            // only their 16-bit immediates change.
            let (layout, n) = imm_layout(new);
            if n != words || (word_at(code, at) & 0xff80_0000 == MOVN) != layout.0 {
                return Err(Unrelocatable);
            }
            for i in 0..words {
                let w = word_at(code, at + 4 * i);
                let hw = (w >> 21) & 3;
                if layout.1 & (1 << hw) == 0 {
                    return Err(Unrelocatable);
                }
                let half = ((new >> (16 * hw)) & 0xffff) as u32;
                let imm = if i == 0 && layout.0 { half ^ 0xffff } else { half };
                let w = (w & !(0xffff << 5)) | (imm << 5);
                code[at + 4 * i..at + 4 * i + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
        Relocation::GuestLiteral { at, value } => put_literal(code, at, value.wrapping_add(guest_delta))?,
        Relocation::ExitStub { at, reason } => branch_to(code, at, host, stubs.exit[reason as usize])?,
    }
    Ok(())
}

/// Writes the literal pool's 8 bytes at offset `at` (a `GuestLiteral`
/// relocation, moved).
pub fn put_literal(code: &mut [u8], at: u32, value: u64) -> Result<(), Unrelocatable> {
    let entry = code.get_mut(at as usize..at as usize + 8).ok_or(Unrelocatable)?;
    entry.copy_from_slice(&value.to_le_bytes());
    Ok(())
}

/// Points the `b` at byte offset `at` of `code`, placed at `host`, at `to`
/// (an `ExitStub` relocation, whose stub its caller looked up).
pub fn branch_to(code: &mut [u8], at: u32, host: u64, to: u64) -> Result<(), Unrelocatable> {
    let word = super::encode_b(host + u64::from(at), to).ok_or(Unrelocatable)?;
    code.get_mut(at as usize..at as usize + 4).ok_or(Unrelocatable)?.copy_from_slice(&word.to_le_bytes());
    Ok(())
}

/// A relocation's guest address moved by `guest_delta` (tests compare a
/// moved block's relocations with those of a block translated in place).
pub fn moved(relocation: Relocation, guest_delta: u64) -> Relocation {
    match relocation {
        Relocation::GuestAddress { at, words, value } => {
            Relocation::GuestAddress { at, words, value: value.wrapping_add(guest_delta) }
        }
        Relocation::GuestLiteral { at, value } => Relocation::GuestLiteral { at, value: value.wrapping_add(guest_delta) },
        stub => stub,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_one_mov_agrees_with_the_words_mov_imm_chooses() {
        for value in [0, 1, 0xffff, 0x1_0000, 0x1_0001, 0x401234, u64::MAX, !0xffff, !0x1_0000, 0xffff_0000_ffff_ffff, 0x8000_0000_0000_0000, 0x5555_0000_1234] {
            assert_eq!(is_one_mov(value), mov_imm_words(0, value).1 == 1, "{value:#x}");
        }
    }

    #[test]
    fn a_guest_address_moves_in_place_when_it_keeps_its_length() {
        let (words, n) = mov_imm_words(3, 0x7f12_3456_7890);
        let mut code: Vec<u8> = words[..n].iter().flat_map(|w| w.to_le_bytes()).collect();
        let r = [Relocation::GuestAddress { at: 0, words: n as u8, value: 0x7f12_3456_7890 }];
        relocate(&mut code, &r, 0x1000_0000, 0, &Stubs::default()).unwrap();
        let (expected, m) = mov_imm_words(3, 0x7f12_4456_7890);
        assert_eq!(code, expected[..m].iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>());
        // 0x7f12_0000_7890 needs one word fewer: refused.
        let mut code: Vec<u8> = words[..n].iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(relocate(&mut code, &r, 0u64.wrapping_sub(0x3456_0000), 0, &Stubs::default()), Err(Unrelocatable));
    }

    #[test]
    fn an_exit_stub_branch_is_re_encoded_from_its_new_place() {
        let mut stubs = Stubs::default();
        stubs.exit[ExitReason::Syscall as usize] = 0x1000;
        let mut code = vec![0; 8];
        relocate(&mut code, &[Relocation::ExitStub { at: 4, reason: ExitReason::Syscall }], 0, 0x2000, &stubs).unwrap();
        let word = u32::from_le_bytes(code[4..8].try_into().unwrap());
        assert_eq!(word, super::super::encode_b(0x2004, 0x1000).unwrap());
    }
}
