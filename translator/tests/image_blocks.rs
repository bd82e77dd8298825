//! Blocks saved for an image in one translator are installed, not
//! translated, by another that finds the same code at another address (a
//! later process, where ASLR put the library elsewhere), and run as the
//! translated ones did. Changed code and damaged saved blocks are
//! translated afresh.
#![cfg(target_arch = "aarch64")]

use iced_x86::code_asm::*;
use std::borrow::Cow;
use transit_translator::cache::image::SavedBlocks;
use transit_translator::{CpuState, GuestEvent, Translator};

/// Position-independent code: a loop calling a local function that reads
/// a constant RIP-relative, a conditional branch, then `syscall`.
fn program() -> impl Fn(u64) -> Vec<u8> {
    |base| {
        let mut a = CodeAssembler::new(64).unwrap();
        let (mut top, mut add, mut data, mut odd) = (a.create_label(), a.create_label(), a.create_label(), a.create_label());
        a.xor(eax, eax).unwrap();
        a.mov(ecx, 11).unwrap();
        a.set_label(&mut top).unwrap();
        a.call(add).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
        a.test(al, 1).unwrap();
        a.jnz(odd).unwrap();
        a.lea(rdx, ptr(data)).unwrap();
        a.syscall().unwrap();
        a.set_label(&mut odd).unwrap();
        a.mov(edx, 1).unwrap();
        a.syscall().unwrap();
        a.set_label(&mut add).unwrap();
        a.add(rax, qword_ptr(data)).unwrap();
        a.add(rax, rcx).unwrap();
        a.ret().unwrap();
        a.set_label(&mut data).unwrap();
        a.dq(&[1000]).unwrap();
        a.assemble(base).unwrap()
    }
}

/// The program placed in fresh memory; its address and length.
fn place(code: &dyn Fn(u64) -> Vec<u8>) -> (u64, usize, &'static mut [u8]) {
    let buf: &'static mut [u8] = Box::leak(vec![0u8; 8192].into_boxed_slice());
    // Page-aligned inside the buffer, as a loaded image is.
    let base = (buf.as_ptr() as u64 + 4095) & !4095;
    let bytes = code(base);
    let off = (base - buf.as_ptr() as u64) as usize;
    buf[off..off + bytes.len()].copy_from_slice(&bytes);
    (base, bytes.len(), &mut buf[off..off + bytes.len()])
}

fn run(t: &mut Translator, base: u64) -> CpuState {
    let stack: &'static mut [u64] = Box::leak(vec![0u64; 1024].into_boxed_slice());
    let mut state = CpuState::default();
    state.rip = base;
    state.gpr[4] = stack.as_ptr() as u64 + 8 * 1000;
    assert_eq!(t.run(&mut state), GuestEvent::Syscall);
    state
}

/// Runs the program once with its image registered; returns the result
/// registers and the saved blocks.
fn first_run() -> ((u64, u64), Vec<u8>, u64) {
    let (base, len, _) = place(&program());
    let mut t = Translator::new().unwrap();
    t.add_image(base, base + len as u64, None);
    let s = run(&mut t, base);
    let saved = t.images_to_save();
    assert_eq!(saved.len(), 1, "one image with new blocks");
    assert_eq!((saved[0].0, saved[0].1), (base, base + len as u64));
    ((s.gpr[0], s.gpr[2].wrapping_sub(base)), saved[0].2.clone(), t.stats().blocks)
}

#[test]
fn saved_blocks_run_elsewhere_without_translation() {
    let (expected, saved, blocks) = first_run();
    let (base, len, _) = place(&program());
    let mut t = Translator::new().unwrap();
    t.add_image(base, base + len as u64, SavedBlocks::new(Cow::Owned(saved)));
    let s = run(&mut t, base);
    // 11 * 1000 + 66 (even: rdx = the data's address in this copy).
    assert_eq!(expected.0, 11_066);
    assert_eq!((s.gpr[0], s.gpr[2].wrapping_sub(base)), expected);
    let stats = t.stats();
    assert_eq!((stats.restored, stats.blocks), (blocks, blocks), "every block restored, none translated");
    assert!(t.images_to_save().is_empty(), "nothing new to save");
}

#[test]
fn changed_code_is_translated_again() {
    let (_, saved, blocks) = first_run();
    let (base, len, code) = place(&program());
    // `mov ecx, 11` -> `mov ecx, 4`: the first block's bytes differ.
    let at = code.windows(5).position(|w| w == [0xb9, 11, 0, 0, 0]).unwrap();
    code[at + 1] = 4;
    let mut t = Translator::new().unwrap();
    t.add_image(base, base + len as u64, SavedBlocks::new(Cow::Owned(saved)));
    let s = run(&mut t, base);
    assert_eq!((s.gpr[0], s.gpr[2]), (4 * 1000 + 10, base + len as u64 - 8));
    let stats = t.stats();
    // The program is one chunk: installed whole or not at all.
    assert_eq!((stats.restored, stats.blocks), (0, blocks), "the chunk with the changed block translated");
    assert_eq!(t.images_to_save().len(), 1, "the new translation is kept");
}

#[test]
fn damaged_saved_blocks_are_never_run() {
    let (expected, saved, _) = first_run();
    // Single-byte changes all over, and truncations: every damaged record
    // fails its checksum (or the structure fails to parse) and is
    // translated instead, so the program computes the same.
    let mut variants: Vec<Vec<u8>> = (0..saved.len()).step_by(7).map(|i| {
        let mut v = saved.clone();
        v[i] ^= 0x5a;
        v
    }).collect();
    variants.extend((0..saved.len()).step_by(13).map(|n| saved[..n].to_vec()));
    for v in variants {
        let (base, len, _) = place(&program());
        let mut t = Translator::new().unwrap();
        let damaged = SavedBlocks::new(Cow::Owned(v));
        t.add_image(base, base + len as u64, damaged);
        let s = run(&mut t, base);
        assert_eq!((s.gpr[0], s.gpr[2].wrapping_sub(base)), expected);
    }
}
