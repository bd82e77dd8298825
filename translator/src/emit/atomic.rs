//! x86 locked read-modify-write instructions (`lock add [m], r`, `xchg
//! [m], r`, `lock cmpxchg`, ...) as load-exclusive/store-exclusive loops.
//!
//! The instruction's own emitter runs unchanged inside the loop: while
//! `Emitter::atomic` is set, its memory read becomes `ldaxr` and its memory
//! write `stlxr`, retrying the whole instruction when another thread wrote
//! in between. So an emitter used under `lock` must (and does) write its
//! memory operand before any guest register, and must read it only once.
//! A `dmb ish` after the loop makes the instruction a full barrier, as x86
//! locked instructions are. Exclusives need natural alignment: a misaligned
//! locked access raises SIGBUS where x86 would split the lock.

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::{a64, EmitResult, Emitter, Reg, NZCV};
use crate::frontend::flags::FlagSet;
use dynasmrt::DynamicLabel;
use iced_x86::{Code, Instruction, OpKind};

/// The loop of the locked instruction being emitted.
#[derive(Clone, Copy, Debug)]
pub struct AtomicLoop {
    retry: DynamicLabel,
    /// The incoming flags, restored before a retry when the instruction
    /// reads flags it also writes (adc, sbb).
    saved_nzcv: Option<Reg>,
    /// The address the exclusive load used, for the exclusive store.
    addr: Option<Reg>,
}

/// Whether `insn` must execute atomically: a lock prefix, or xchg with memory.
pub fn is_locked(insn: &Instruction) -> bool {
    // The codes, not the mnemonic (a table read): this runs for every
    // instruction translated.
    (insn.has_lock_prefix() || matches!(insn.code(), Code::Xchg_rm8_r8 | Code::Xchg_rm16_r16 | Code::Xchg_rm32_r32 | Code::Xchg_rm64_r64))
        && (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory)
}

/// Emits `insn` with handler `emit` inside an exclusive-access loop.
pub fn locked(e: &mut Emitter, insn: &Instruction, emit: super::Handler) -> EmitResult {
    let reads_flags = !FlagSet::from_iced(insn.rflags_read()).and(FlagSet::NZCV).is_empty();
    if reads_flags {
        // lock adc/sbb: the loop sets flags before its store, so a store
        // that faults must fault here first, before anything changes.
        rewrite_in_place(e, insn)?;
    }
    let saved_nzcv = reads_flags.then(|| {
        let t = e.tmp();
        a64!(e.ops; mrs X(t), NZCV);
        t
    });
    let retry = e.label();
    e.bind(retry);
    e.atomic = Some(AtomicLoop { retry, saved_nzcv, addr: None });
    let flow = emit(e, insn);
    e.atomic = None;
    a64!(e.ops; dmb ish);
    flow
}

/// Atomically writes `insn`'s memory operand back unchanged (an exclusive
/// pair, so no concurrent store is lost): faults as a write would.
fn rewrite_in_place(e: &mut Emitter, insn: &Instruction) -> Result<(), super::Unsupported> {
    let saved = e.scratch_in_use();
    let (base, off) = e.address(insn)?;
    let addr = e.address_register(base, off);
    let (v, status) = (e.tmp(), e.tmp());
    let again = e.label();
    e.bind(again);
    match insn.memory_size().size() {
        1 => a64!(e.ops; ldaxrb W(v), [X(addr)] ; stlxrb W(status), W(v), [X(addr)]),
        2 => a64!(e.ops; ldaxrh W(v), [X(addr)] ; stlxrh W(status), W(v), [X(addr)]),
        4 => a64!(e.ops; ldaxr W(v), [X(addr)] ; stlxr W(status), W(v), [X(addr)]),
        _ => a64!(e.ops; ldaxr X(v), [X(addr)] ; stlxr W(status), X(v), [X(addr)]),
    }
    a64!(e.ops; cbnz W(status), =>again);
    e.release_scratch_to(saved);
    Ok(())
}

impl Emitter {
    /// The exclusive load of a locked instruction's memory operand.
    pub(super) fn load_exclusive(&mut self, dst: Reg, base: Reg, off: i32, size: u8, signed: bool) {
        let addr = self.address_register(base, off);
        match size {
            1 => a64!(self.ops; ldaxrb W(dst), [X(addr)]),
            2 => a64!(self.ops; ldaxrh W(dst), [X(addr)]),
            4 => a64!(self.ops; ldaxr W(dst), [X(addr)]),
            _ => a64!(self.ops; ldaxr X(dst), [X(addr)]),
        }
        if signed && size < 8 {
            self.extend(dst, dst, size, true);
        }
        if let Some(a) = self.atomic.as_mut() {
            a.addr = Some(addr);
        }
    }

    /// The exclusive store; on failure the instruction starts over.
    pub(super) fn store_exclusive(&mut self, src: Reg, size: u8) {
        let a = self.atomic.expect("store_exclusive inside a locked instruction");
        let addr = a.addr.expect("a locked instruction reads its operand before writing it");
        let status = self.tmp();
        match size {
            1 => a64!(self.ops; stlxrb W(status), W(src), [X(addr)]),
            2 => a64!(self.ops; stlxrh W(status), W(src), [X(addr)]),
            4 => a64!(self.ops; stlxr W(status), W(src), [X(addr)]),
            _ => a64!(self.ops; stlxr W(status), X(src), [X(addr)]),
        }
        match a.saved_nzcv {
            None => a64!(self.ops; cbnz W(status), =>a.retry),
            Some(saved) => {
                let stored = self.label();
                a64!(self.ops
                    ; cbz W(status), =>stored
                    ; msr NZCV, X(saved)
                    ; b =>a.retry
                    ; =>stored
                );
            }
        }
    }
}
