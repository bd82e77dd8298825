//! Entering and leaving generated code: the two trampolines, and the loop
//! that runs guest code until something needs the runtime (a syscall or a
//! fault). This is the one boundary between Rust and generated code.

use crate::cache::image::SavedBlocks;
use crate::cache::block_map::BlockMap;
use crate::cache::{CacheStats, CodeCache};
use crate::emit::MemoryOrder;
use crate::paired_stack::PairedAccess;
use crate::cache::thread_code::{ThreadCode, ThreadStats};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use crate::cpu::state::offsets as off;
use crate::frontend::decode::{CodeSource, HostMemory};
use crate::emit::{a64, Stubs, NZCV};
use crate::exit::{ExitReason, GuestEvent};
use crate::cpu::host::HostFeatures;
use crate::interp;
use dynasmrt::aarch64::Aarch64Relocation;
use dynasmrt::{DynasmApi, DynasmLabelApi, VecAssembler};

pub use crate::cpu::state::CpuState;

/// Addresses in the trampolines that the runtime's signal handler needs.
#[derive(Clone, Copy, Debug, Default)]
struct EntryWindow {
    /// From this instruction up to and including `br`, an interrupt set by
    /// a signal handler would go unnoticed: the handler moves the PC to
    /// `abort` instead.
    check: u64,
    br: u64,
    abort: u64,
}

/// Where the runtime's handler should resume a thread that faulted in
/// generated code: at `pc` (the fault exit), with `x16` = guest RIP, and host
/// C inverted when `flip_carry` (the exit stores C = !CF). `pair`: the
/// faulting instruction did two pushes or pops (`paired_stack`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultRedirect {
    pub pc: u64,
    pub x16: u64,
    pub flip_carry: bool,
    pub pair: Option<PairedAccess>,
}

/// The translated code of a process, shared by the translators of all its
/// threads: the cache behind its lock, and what signal handlers and the
/// dispatch loop read without it.
pub struct SharedCode {
    cache: Mutex<CodeCache>,
    map: Arc<BlockMap>,
    #[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
    enter: u64,
    window: EntryWindow,
    stubs: Stubs,
    /// The process the cache belongs to (`after_fork_in_child`).
    pid: AtomicU32,
}

impl SharedCode {
    fn new(host: HostFeatures, order: MemoryOrder) -> std::io::Result<Arc<SharedCode>> {
        let mut cache = CodeCache::new(host)?;
        let (enter, window, stubs) = build_trampolines(&mut cache);
        cache.stubs = stubs;
        cache.reserve_installed();
        cache.set_initial_memory_order(order);
        let map = cache.block_map();
        Ok(Arc::new(SharedCode { cache: Mutex::new(cache), map, enter, window, stubs, pid: AtomicU32::new(std::process::id()) }))
    }

    fn lock(&self) -> MutexGuard<'_, CodeCache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The calling thread's own part, registered with the cache.
    fn register_calling_thread(&self) -> Arc<ThreadCode> {
        let thread = Arc::new(ThreadCode::default());
        // SAFETY: gettid has no preconditions.
        thread.tid.store(unsafe { libc::gettid() } as u64, std::sync::atomic::Ordering::Relaxed);
        self.lock().register(Arc::clone(&thread));
        thread
    }
}

/// One guest thread's way into the process's translated code.
pub struct Translator {
    shared: Arc<SharedCode>,
    thread: Arc<ThreadCode>,
    code: Box<dyn CodeSource>,
    /// Time translations (`--stats`).
    timed: bool,
    /// What the debugger asked this thread to do (`-g PORT`).
    debug: DebugRun,
}

/// How a thread the debugger stopped goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    Continue,
    /// Run one instruction, then `GuestEvent::DebugStop`.
    Step,
}

/// A thread's single step: one instruction in a block of its own, entered
/// unlinked (as for a signal), so that it returns to the dispatcher after it.
#[derive(Clone, Copy, Debug, Default)]
struct DebugRun {
    /// The address to run one instruction at, even if it is a breakpoint.
    step_at: Option<u64>,
    /// That instruction ran (or its syscall or interpretation did).
    stepped: bool,
    /// After the step, continue instead of stopping (resuming at a breakpoint).
    then_continue: bool,
}

/// Host registers the trampolines save and restore around generated code.
const SAVED_PAIRS: [(u8, u8); 5] = [(19, 20), (21, 22), (23, 24), (25, 26), (27, 28)];

impl Translator {
    /// A translator for guest code in this process's memory, with a new
    /// code cache (the process's first thread).
    pub fn new() -> std::io::Result<Translator> {
        Self::with_memory_order(MemoryOrder::Relaxed)
    }

    /// A translator for a new process whose code starts in memory order
    /// `order` (x86's from the start: `--x86-memory-order`).
    pub fn with_memory_order(order: MemoryOrder) -> std::io::Result<Translator> {
        Ok(Self::join(SharedCode::new(HostFeatures::detect(), order)?, Box::new(HostMemory)))
    }

    pub fn with_source(host: HostFeatures, code: Box<dyn CodeSource>) -> std::io::Result<Translator> {
        Ok(Self::join(SharedCode::new(host, MemoryOrder::Relaxed)?, code))
    }

    fn join(shared: Arc<SharedCode>, code: Box<dyn CodeSource>) -> Translator {
        // Translations for FEAT_AFP hosts leave NaNs to FPCR.AH.
        crate::cpu::host::enable_x86_nan_handling(shared.lock().host);
        let thread = shared.register_calling_thread();
        Translator { shared, thread, code, timed: false, debug: DebugRun::default() }
    }

    /// The process's code cache, for a new thread of it (`for_thread`).
    pub fn shared_code(&self) -> Arc<SharedCode> {
        Arc::clone(&self.shared)
    }

    /// A translator for another thread of the same process: it runs the
    /// translations the process already has.
    pub fn for_thread(shared: Arc<SharedCode>) -> Translator {
        Self::join(shared, Box::new(HostMemory))
    }

    /// Call in the child after a fork. Where no other thread of the parent
    /// had the cache at the fork, the child keeps it: its memory, the code
    /// buffer included, is a copy of the parent's, so the parent's
    /// translations run here as they did there (a shell's child runs its
    /// code up to the next execve without translating or installing a
    /// block). Only this thread goes on using it. Otherwise the child gets
    /// a code cache of its own, and the parent's stays untouched: its lock
    /// is held by a thread the child does not have.
    pub fn after_fork_in_child(&mut self) -> std::io::Result<()> {
        let child = std::process::id();
        if self.shared.pid.load(Ordering::Relaxed) == child {
            return Ok(());
        }
        if let Ok(mut cache) = self.shared.cache.try_lock() {
            cache.keep_only_thread(&self.thread);
            cache.leave_recorded_blocks_to_parent();
            // SAFETY: gettid has no preconditions.
            self.thread.tid.store(unsafe { libc::gettid() } as u64, Ordering::Relaxed);
            self.thread.stats.reset();
            drop(cache);
            self.shared.pid.store(child, Ordering::Relaxed);
            return Ok(());
        }
        // A parent thread held the lock, so the parent had threads: x86
        // memory order, which memory shared with it still needs.
        let fresh = SharedCode::new(HostFeatures::detect(), MemoryOrder::Tso)?;
        // Never dropped here: its lock is held by a thread the child does
        // not have, and its buffer is the parent's copy-on-write.
        std::mem::forget(std::mem::replace(&mut self.shared, fresh));
        self.thread = self.shared.register_calling_thread();
        Ok(())
    }

    /// For the runtime's handler of an asynchronous signal that interrupted
    /// this thread at host `pc`, after it set `CpuState::interrupt`: makes
    /// generated code return to the dispatcher soon. Returns the PC to
    /// resume at instead of `pc`, if it must change. Async-signal-safe.
    pub fn interrupt_at(&self, pc: u64) -> Option<u64> {
        let w = self.shared.window;
        if (w.check..=w.br).contains(&pc) {
            return Some(w.abort);
        }
        crate::cache::unlink_for_signal(&self.shared.map, pc, &self.thread);
        None
    }

    /// For the runtime's handler of a write fault at guest `addr` that
    /// `code_watch::watches`, raised at host `pc`: lets the write through,
    /// and when the write comes from generated code (so this thread holds
    /// no lock), drops the translations of the written page from every
    /// thread before it lands (`CodeCache::drop_before_write`). Returns
    /// false when the fault is not Transit's after all (the guest's own
    /// protection). Runs in the signal handler.
    pub fn on_code_write_fault(&self, pc: u64, addr: u64) -> bool {
        if self.shared.map.guest_point(pc).is_some() {
            if let Some(mut cache) = self.lock_in_handler() {
                ThreadStats::add(&self.thread.stats.code_writes_ordered, 1);
                return cache.drop_before_write(addr);
            }
            ThreadStats::add(&self.thread.stats.code_writes_unordered, 1);
        }
        // Other threads drop the old translations at this thread's next dispatch.
        crate::cache::code_watch::on_write_fault(addr)
    }

    /// The cache lock, for a signal handler that interrupted this thread in
    /// generated code. None when a full flush holding it waits for this
    /// thread to leave generated code, or after a second: another holder
    /// only translates or links, which takes far less.
    fn lock_in_handler(&self) -> Option<MutexGuard<'_, CodeCache>> {
        let started = std::time::Instant::now();
        loop {
            match self.shared.cache.try_lock() {
                Ok(cache) => return Some(cache),
                Err(std::sync::TryLockError::Poisoned(e)) => return Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
            if self.thread.awaited() || started.elapsed() > std::time::Duration::from_secs(1) {
                return None;
            }
            std::thread::yield_now();
        }
    }

    /// For the runtime's handler of a synchronous fault at host `pc`: where
    /// to resume so that the fault reaches the dispatcher as
    /// `GuestEvent::HostFault` (through the instruction's fault pad, if it
    /// has one), or `None` when `pc` is not in a translated block (the
    /// fault is Transit's own). Async-signal-safe.
    pub fn fault_redirect(&self, pc: u64) -> Option<FaultRedirect> {
        let point = self.shared.map.guest_point(pc)?;
        // SAFETY: `pc` is in a translated block (the map found it), in the
        // code cache, which stays mapped and readable.
        let word = unsafe { (pc as *const u32).read() };
        let pair = PairedAccess::at(word, || self.shared.map.next_guest_rip(pc));
        Some(FaultRedirect {
            pc: self.shared.map.fault_pad(pc).unwrap_or(self.shared.stubs.exit[ExitReason::HostFault as usize]),
            x16: point.rip,
            flip_carry: point.carry,
            pair,
        })
    }

    /// For the runtime's handler of an alignment fault (SIGBUS,
    /// BUS_ADRALN) at host `pc`: if `pc` is an ordered access with a plain
    /// fallback (`Pad::Misaligned`), points the access at it for good (a
    /// branch written as links are; x86 code that is misaligned once
    /// usually stays so) and returns where to resume. Async-signal-safe.
    pub fn misaligned_redirect(&self, pc: u64) -> Option<u64> {
        let pad = self.shared.map.misaligned_pad(pc)?;
        crate::cache::branch_instead(pc, pad);
        Some(pad)
    }

    /// Relinks the blocks `interrupt_at` unlinked; call once the pending
    /// signals are delivered.
    pub fn relink(&mut self) {
        self.shared.lock().relink_for_signal(&self.thread);
    }

    /// Prepares `state` to run in this translator.
    pub fn attach(&self, state: &mut CpuState) {
        state.lookup_table = self.thread.lookup.addr();
    }

    /// Forgets every translation of the process.
    pub fn flush(&mut self) {
        self.shared.lock().flush(&self.thread);
    }

    /// The host features translations use.
    pub fn host_features(&self) -> HostFeatures {
        self.shared.lock().host
    }

    pub fn memory_order(&self) -> MemoryOrder {
        self.shared.lock().memory_order()
    }

    /// How the process's translations order memory accesses (Tso once it
    /// has a second thread); translations made the other way are dropped.
    pub fn set_memory_order(&mut self, order: MemoryOrder) {
        self.shared.lock().set_memory_order(order, &self.thread);
    }

    /// Longest block to translate (tests: 1 checks the state hand-off at
    /// every instruction boundary); drops existing translations.
    pub fn set_max_block_insns(&mut self, n: usize) {
        let mut cache = self.shared.lock();
        cache.max_block_insns = n;
        cache.flush(&self.thread);
    }

    pub fn stats(&self) -> CacheStats {
        self.shared.lock().stats
    }

    /// Measure the time spent translating (`--stats`).
    pub fn time_translations(&mut self) {
        self.timed = true;
    }

    /// This thread's counters, one line (`ThreadStats::summary`).
    pub fn thread_summary(&self) -> String {
        self.thread.stats.summary()
    }

    /// Every thread still using the process's code: (tid, summary).
    pub fn all_thread_summaries(&self) -> Vec<(u64, String)> {
        self.shared.lock().thread_summaries()
    }

    /// Registers guest `[start, end)` as an image mapped from a file whose
    /// code is never written, with the blocks an earlier process saved for
    /// it (`cache::image`).
    pub fn add_image(&self, start: u64, end: u64, saved: Option<SavedBlocks>) {
        self.shared.lock().add_image(start, end, saved);
    }

    /// The guest unmapped `[start, end)`: images there are gone.
    pub fn remove_images(&self, start: u64, end: u64) {
        self.shared.lock().remove_images(start, end);
    }

    /// Everything besides guest bytes that decides what code a block gets:
    /// saved blocks are reused only where this is the same.
    pub fn code_fingerprint(&self) -> String {
        let cache = self.shared.lock();
        format!(
            "{:?} {:?} {:?} {:?} max-block={}",
            crate::cpu::features::presented(),
            cache.host,
            cache.memory_order(),
            crate::tuning::tuning(),
            cache.max_block_insns
        )
    }

    /// Each image with blocks to save: its start, end and saved blocks
    /// (old and new together, `image::Image::encode`).
    pub fn images_to_save(&self) -> Vec<(u64, u64, Vec<u8>)> {
        self.shared.lock().images_to_save()
    }

    /// Translates the block at `rip` (if not cached) without running it;
    /// returns its host address. For benches and tests.
    pub fn translate_only(&mut self, rip: u64) -> u64 {
        crate::pipeline::translation(&mut self.shared.lock(), self.code.as_ref(), rip, &self.thread, false, &[])
    }

    /// Adds a debugger breakpoint (`exit::debug_stops`); translations that
    /// start at it or run through it are dropped.
    pub fn insert_breakpoint(&mut self, addr: u64) {
        if crate::exit::debug_stops::insert(addr) {
            self.shared.lock().invalidate_range(addr, addr + 1);
        }
    }

    /// Removes a debugger breakpoint. Blocks that end before it stay: they
    /// are correct, only shorter.
    pub fn remove_breakpoint(&mut self, addr: u64) {
        crate::exit::debug_stops::remove(addr);
    }

    /// How to go on after `GuestEvent::DebugStop` (or any event the
    /// debugger saw), from `state.rip`. Continuing from a breakpoint's
    /// address runs its instruction first.
    pub fn resume(&mut self, how: Resume, rip: u64) {
        let at_breakpoint = crate::exit::debug_stops::contains(rip);
        self.debug = match how {
            Resume::Step => DebugRun { step_at: Some(rip), stepped: false, then_continue: false },
            Resume::Continue if at_breakpoint => DebugRun { step_at: Some(rip), stepped: false, then_continue: true },
            Resume::Continue => DebugRun::default(),
        };
    }

    /// With a debugger attached, at each dispatch: the stop it must see, if any.
    fn debug_stop(&mut self, state: &CpuState) -> Option<GuestEvent> {
        // Done, or cut short: a signal's handler frame was entered first.
        if let Some(at) = self.debug.step_at.filter(|&at| self.debug.stepped || state.rip != at) {
            let then_continue = self.debug.then_continue;
            let ran = self.debug.stepped;
            self.debug = DebugRun::default();
            if ran && crate::exit::debug_stops::contains(at) {
                // The one-instruction block starting at a breakpoint: other
                // blocks would link straight into it.
                self.shared.lock().invalidate_range(at, at + 1);
            }
            if !then_continue {
                return Some(GuestEvent::DebugStop);
            }
        }
        (self.debug.step_at.is_none() && crate::exit::debug_stops::contains(state.rip)).then_some(GuestEvent::DebugStop)
    }

    /// Runs guest code from `state.rip` until a syscall or a fault.
    pub fn run(&mut self, state: &mut CpuState) -> GuestEvent {
        // A debugger attaches or detaches only while the runtime has the
        // thread; without one, the loop is compiled without its checks.
        if crate::exit::debug_stops::attached() {
            self.run_loop::<true>(state)
        } else {
            self.run_loop::<false>(state)
        }
    }

    fn run_loop<const DEBUGGING: bool>(&mut self, state: &mut CpuState) -> GuestEvent {
        self.attach(state);
        // The indirect branch that missed in the lookup table, if the last
        // exit was one (`--stats` counts why).
        let mut missed: Option<ExitReason> = None;
        loop {
            if state.interrupt != 0 {
                return GuestEvent::Interrupted;
            }
            if DEBUGGING {
                if let Some(stop) = self.debug_stop(state) {
                    return stop;
                }
            }
            let stepping = DEBUGGING && self.debug.step_at == Some(state.rip);
            let host = {
                let mut cache = self.shared.lock();
                cache.apply_code_changes(&self.thread);
                if stepping {
                    // Its translation must be a block of one instruction.
                    cache.invalidate_range(state.rip, state.rip + 1);
                }
                let stats = &self.thread.stats;
                // The thread's lookup table first: after an interpreted
                // instruction or a syscall the next block is mostly one this
                // thread entered before, and the cache's own search (a hash
                // map, then each installed image's index) costs more.
                let found = self.thread.lookup.entries(state.rip).or_else(|| cache.entries(state.rip));
                if let Some(reason) = missed.take() {
                    // Only a translated target can have been in the table.
                    stats.count_indirect_miss(reason, found.map(|_| self.thread.lookup.slot(state.rip)));
                }
                let (host, carry_entry) = match found {
                    Some(entries) => {
                        ThreadStats::add(&stats.cache_hits, 1);
                        entries
                    }
                    None => {
                        if let Some(fault) = fetch_fault(state.rip) {
                            return fault;
                        }
                        // Timed only for --stats: reading the clock costs
                        // more than a small block's bookkeeping.
                        let started = self.timed.then(std::time::Instant::now);
                        // Under the lock: breakpoints inserted meanwhile are in.
                        let stops = if DEBUGGING { crate::exit::debug_stops::snapshot() } else { Vec::new() };
                        let host = crate::pipeline::translation(&mut cache, self.code.as_ref(), state.rip, &self.thread, stepping, &stops);
                        ThreadStats::add(&stats.translated, 1);
                        if let Some(started) = started {
                            ThreadStats::add(&stats.translate_ns, started.elapsed().as_nanos() as u64);
                        }
                        (host, cache.carry_entry(state.rip).unwrap_or(host))
                    }
                };
                self.thread.lookup.remember(state.rip, host, carry_entry);
                if stepping {
                    // Its exits return to the dispatcher, not into the next block.
                    crate::cache::unlink_for_signal(&self.shared.map, host, &self.thread);
                }
                // Before the lock goes: a flush must wait for this thread.
                self.thread.entering();
                host
            };
            state.dispatches += 1;
            let reason = self.enter(state, host);
            self.thread.left();
            if stepping {
                self.debug.stepped = true;
                self.relink();
            }
            ThreadStats::add(&self.thread.stats.dispatches, 1);
            ThreadStats::add(&self.thread.stats.exits[reason as usize], 1);
            match reason {
                ExitReason::Lookup => {}
                ExitReason::Return | ExitReason::IndirectCall | ExitReason::IndirectJump => missed = Some(reason),
                ExitReason::Syscall => return GuestEvent::Syscall,
                ExitReason::CompatSyscall => return GuestEvent::CompatSyscall,
                ExitReason::Interpret => {
                    if let Err(fault) = interp::step(state, self.code.as_ref()) {
                        return fault;
                    }
                    // x87 comes in runs (fld, fmul, fstp): each one after
                    // the first without a dispatch (a debugger's stops
                    // need the dispatcher's).
                    while !DEBUGGING && state.interrupt == 0 && interp::x87_next(self.code.as_ref(), state.rip) {
                        if let Err(fault) = interp::step(state, self.code.as_ref()) {
                            return fault;
                        }
                    }
                }
                ExitReason::Cpuid => interp::cpuid(state),
                ExitReason::Xgetbv => {
                    if let Err(fault) = interp::xsave::xgetbv(state) {
                        state.rip -= crate::emit::control::XGETBV_LEN as u64;
                        return fault;
                    }
                }
                ExitReason::XsaveArea => {
                    let [addr, form] = state.exit_operands;
                    let run = match interp::xsave::AREA_FORMS.get((form & 0xff) as usize) {
                        Some(&m) => interp::xsave::save_or_restore(state, m, addr).map(|()| state.rip += form >> 8),
                        // Not a form generated code names: decode it.
                        None => interp::step(state, self.code.as_ref()),
                    };
                    if let Err(fault) = run {
                        return fault;
                    }
                }
                ExitReason::IllegalInstruction => {
                    return fetch_fault(state.rip).unwrap_or(fault(libc::SIGILL, state.rip));
                }
                ExitReason::DivideError => return fault(libc::SIGFPE, state.rip),
                ExitReason::GeneralProtection => return fault(libc::SIGSEGV, 0),
                ExitReason::Breakpoint => return fault(libc::SIGTRAP, state.rip),
                ExitReason::HostFault => return GuestEvent::HostFault,
            }
        }
    }

    #[cfg(target_arch = "aarch64")]
    fn enter(&mut self, state: &mut CpuState, host: u64) -> ExitReason {
        type Enter = unsafe extern "C" fn(*mut CpuState, u64);
        // SAFETY: `self.enter` is the trampoline built by `build_trampolines`
        // with this signature; it saves and restores every callee-saved host
        // register and returns once generated code exits through a stub.
        unsafe {
            let f: Enter = std::mem::transmute(self.shared.enter as usize);
            f(state, host);
        }
        ExitReason::from_raw(state.exit_reason).expect("exit stubs store valid reasons")
    }

    #[cfg(not(target_arch = "aarch64"))]
    fn enter(&mut self, _state: &mut CpuState, _host: u64) -> ExitReason {
        panic!("generated aarch64 code can only run on an aarch64 host");
    }
}

/// The guest's SIGSEGV when fetching the instruction at `rip` (up to 15
/// bytes, as far as it decodes) touches memory it cannot read: it jumped
/// somewhere unmapped, or the instruction crosses into an unmapped page.
/// Only asked on the way to translating `rip` or to raising SIGILL there.
fn fetch_fault(rip: u64) -> Option<GuestEvent> {
    let page_end = (rip | 0xfff) + 1;
    if let Err(f) = crate::frontend::probe::check(rip, 1, false) {
        return Some(GuestEvent::PageFault { addr: f.addr, code: f.code });
    }
    if page_end - rip >= 15 {
        return None;
    }
    let err = crate::frontend::probe::check(page_end, 1, false).err()?;
    // Only if the bytes before the page end leave the instruction unfinished.
    // SAFETY: [rip, page_end) was just probed.
    let bytes = unsafe { std::slice::from_raw_parts(rip as *const u8, (page_end - rip) as usize) };
    let mut decoder = crate::frontend::decode::decoder(bytes, rip);
    let _ = decoder.decode();
    (decoder.last_error() == iced_x86::DecoderError::NoMoreBytes).then_some(GuestEvent::PageFault { addr: err.addr, code: err.code })
}

impl Drop for Translator {
    fn drop(&mut self) {
        self.shared.lock().unregister(&self.thread);
    }
}

fn fault(signal: i32, addr: u64) -> GuestEvent {
    GuestEvent::Fault { signal, addr }
}

/// Emits the entry trampoline and the exit stubs into the cache.
fn build_trampolines(cache: &mut CodeCache) -> (u64, EntryWindow, Stubs) {
    let base = cache.next_addr();
    let mut ops = VecAssembler::<Aarch64Relocation>::new(base as usize);
    let common = ops.new_dynamic_label();

    // enter(state: x0, code: x1)
    let enter_off = ops.offset().0;
    a64!(ops; stp x29, x30, [sp, -96]!);
    for (i, (a, b)) in SAVED_PAIRS.iter().enumerate() {
        let o = 16 + 16 * i as i32;
        a64!(ops; stp X(*a), X(*b), [sp, o]);
    }
    a64!(ops
        ; sub sp, sp, 64
        ; stp d8, d9, [sp]
        ; stp d10, d11, [sp, 16]
        ; stp d12, d13, [sp, 32]
        ; stp d14, d15, [sp, 48]
        ; mov x28, x0
        ; mov x16, x1
        ; ldr x29, [x28, off::LOOKUP_TABLE]
        ; ldr x17, [x28, off::NZCV]
        ; msr NZCV, x17
        ; ldp x26, x27, [x28, off::PF_RESULT as i32]
        ; add x17, x28, off::XMM
    );
    for i in 0..8u8 {
        a64!(ops; ldp Q(16 + 2 * i), Q(17 + 2 * i), [x17, 32 * i as i32]);
    }
    // MXCSR's sticky exception flags accumulate in the host FPSR while
    // guest code runs (see `cumulative_flags_to_mxcsr`); start clean, so
    // what Transit's own code raised is not the guest's.
    a64!(ops; msr crate::emit::sse::FPSR, xzr);
    for i in 0..8u8 {
        a64!(ops; ldp X(2 * i), X(2 * i + 1), [x28, (off::GPR + 16 * i as u32) as i32]);
    }
    // Last chance to see an interrupt before guest code may loop for long.
    let check_off = ops.offset().0;
    let abort = ops.new_dynamic_label();
    a64!(ops
        ; ldr x17, [x28, off::INTERRUPT]
        ; cbnz x17, =>abort
    );
    let br_off = ops.offset().0;
    a64!(ops; br x16);
    // Nothing ran: leave through the common exit with the state unchanged.
    let abort_off = ops.offset().0;
    let lookup = ExitReason::Lookup as u32;
    a64!(ops
        ; =>abort
        ; ldr x16, [x28, off::RIP]
        ; movz x17, lookup
        ; b =>common
    );

    // One stub per exit reason: x17 = reason, then the common exit.
    let mut stub_offsets = [0usize; ExitReason::ALL.len()];
    for reason in ExitReason::ALL {
        stub_offsets[reason as usize] = ops.offset().0;
        let r = reason as u32;
        a64!(ops; movz x17, r ; b =>common);
    }

    a64!(ops
        ; =>common
        ; str x17, [x28, off::EXIT_REASON]
        ; str x16, [x28, off::RIP]
    );
    for i in 0..8u8 {
        a64!(ops; stp X(2 * i), X(2 * i + 1), [x28, (off::GPR + 16 * i as u32) as i32]);
    }
    a64!(ops
        ; mrs x17, NZCV
        ; str x17, [x28, off::NZCV]
    );
    crate::emit::sse::fold_fpsr_into_mxcsr(&mut ops, 16, 17);
    a64!(ops
        ; stp x26, x27, [x28, off::PF_RESULT as i32]
        ; add x17, x28, off::XMM
    );
    for i in 0..8u8 {
        a64!(ops; stp Q(16 + 2 * i), Q(17 + 2 * i), [x17, 32 * i as i32]);
    }
    a64!(ops
        ; ldp d8, d9, [sp]
        ; ldp d10, d11, [sp, 16]
        ; ldp d12, d13, [sp, 32]
        ; ldp d14, d15, [sp, 48]
        ; add sp, sp, 64
    );
    for (i, (a, b)) in SAVED_PAIRS.iter().enumerate() {
        let o = 16 + 16 * i as i32;
        a64!(ops; ldp X(*a), X(*b), [sp, o]);
    }
    a64!(ops
        ; ldp x29, x30, [sp], 96
        ; ret
    );

    let code = ops.finalize().expect("trampoline labels are bound");
    let at = cache.install(&code).expect("empty cache has room");
    assert_eq!(at, base);
    let mut stubs = Stubs::default();
    for (i, o) in stub_offsets.iter().enumerate() {
        stubs.exit[i] = base + *o as u64;
    }
    let window = EntryWindow {
        check: base + check_off as u64,
        br: base + br_off as u64,
        abort: base + abort_off as u64,
    };
    (base + enter_off as u64, window, stubs)
}
