//! A forked child keeps its parent's translations when no other thread
//! had the code cache at the fork: code the parent ran runs in the child
//! without being translated again, and new code is translated there as
//! usual; the blocks the parent recorded for the persistent cache are
//! the parent's to save. (Its own test binary: the fork happens with one
//! thread running.)
#![cfg(target_arch = "aarch64")]

use iced_x86::code_asm::*;
use transit_translator::{CpuState, GuestEvent, Translator};

/// `mov eax, 1; jmp next; next: add eax, 2; syscall` in a leaked buffer
/// (guest addresses are host addresses); its address.
fn place() -> u64 {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut next = a.create_label();
    a.mov(eax, 1).unwrap();
    a.jmp(next).unwrap();
    a.set_label(&mut next).unwrap();
    a.add(eax, 2).unwrap();
    a.syscall().unwrap();
    let buf: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    let bytes = a.assemble(buf.as_ptr() as u64).unwrap();
    buf[..bytes.len()].copy_from_slice(&bytes);
    buf.as_ptr() as u64
}

fn run(t: &mut Translator, rip: u64) -> u64 {
    let mut state = CpuState::default();
    state.rip = rip;
    assert_eq!(t.run(&mut state), GuestEvent::Syscall);
    state.gpr[0]
}

#[test]
fn a_forked_child_runs_its_parents_translations() {
    let (code, other) = (place(), place());
    let mut t = Translator::new().unwrap();
    // The first code as a file's image: its blocks are recorded.
    t.add_image(code, code + 4096, None);
    assert_eq!(run(&mut t, code), 3);
    assert_eq!(t.images_to_save().len(), 1);
    let translated = t.stats().blocks;
    // SAFETY: the child only runs the translator and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // Exit statuses: 0 as expected, 1 the parent's code translated
        // again, 2 new code not translated, 3 wrong results, 4 the
        // parent's recorded blocks to be saved again.
        let status = (|| {
            t.after_fork_in_child().unwrap();
            if !t.images_to_save().is_empty() {
                return 4;
            }
            if run(&mut t, code) != 3 {
                return 3;
            }
            if t.stats().blocks != translated {
                return 1;
            }
            if run(&mut t, other) != 3 {
                return 3;
            }
            if t.stats().blocks != translated + 2 {
                return 2;
            }
            0
        })();
        // SAFETY: ends the child without running the test harness's exit.
        unsafe { libc::_exit(status) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child ended by a signal: {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "1: the parent's code was translated again; 2: new code was not; 3: wrong result; 4: the parent's blocks saved by the child");
    // The parent's cache is its own.
    assert_eq!(run(&mut t, code), 3);
    assert_eq!(t.stats().blocks, translated);
    assert_eq!(t.images_to_save().len(), 1, "the parent still saves its blocks");
}
