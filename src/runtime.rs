//! The process runtime: runs the guest thread and services what translated
//! code hands back (syscalls, faults).

use crate::loader::LoadedProgram;
use transit_syscalls::{GuestProcess, GuestThread, SyscallOutcome};
use transit_translator::{CpuState, GuestEvent, Translator};

/// The syscall layer's view of a guest thread.
struct Thread<'a>(&'a mut CpuState);

impl GuestThread for Thread<'_> {
    fn fs_base(&self) -> u64 {
        self.0.fs_base
    }
    fn set_fs_base(&mut self, value: u64) {
        self.0.fs_base = value;
    }
    fn gs_base(&self) -> u64 {
        self.0.gs_base
    }
    fn set_gs_base(&mut self, value: u64) {
        self.0.gs_base = value;
    }
}

/// How the guest ended.
pub enum Ending {
    Exit(i32),
    Signal(i32),
}

use transit_translator::cpu_state::gpr::{R10, R11, R8, R9, RAX, RCX, RDI, RDX, RSI, RSP};

pub fn run(prog: &LoadedProgram, rsp: u64, rootfs: Option<std::path::PathBuf>) -> std::io::Result<Ending> {
    let mut translator = Translator::new()?;
    let mut state = CpuState { rip: prog.start(), ..CpuState::default() };
    state.gpr[RSP] = rsp;
    let mut process = GuestProcess::new(prog.path.clone(), prog.main.end);
    process.brk_reserved_end = prog.main.reserved_end;
    process.set_rootfs(rootfs);
    process.record_initial_stack(rsp);
    loop {
        match translator.run(&mut state) {
            GuestEvent::Syscall => {
                let g = &state.gpr;
                let nr = g[RAX];
                let args = [g[RDI], g[RSI], g[RDX], g[R10], g[R8], g[R9]];
                match transit_syscalls::dispatch(&mut process, &mut Thread(&mut state), nr, args) {
                    SyscallOutcome::Return(v) => {
                        // The syscall instruction clobbers RCX (return address) and R11 (RFLAGS).
                        state.gpr[RAX] = v;
                        state.gpr[RCX] = state.rip;
                        state.gpr[R11] = state.rflags();
                    }
                    SyscallOutcome::Exit { status, .. } => {
                        log_stats(&translator, &state);
                        return Ok(Ending::Exit(status));
                    }
                }
            }
            GuestEvent::Fault { signal, addr } => {
                tracing::info!(signal, addr = format_args!("{addr:#x}"), rip = format_args!("{:#x}", state.rip), "guest fault");
                log_stats(&translator, &state);
                return Ok(Ending::Signal(signal));
            }
        }
    }
}

fn log_stats(t: &Translator, state: &CpuState) {
    let s = t.cache.stats;
    tracing::debug!(
        blocks = s.blocks,
        guest_insns = s.guest_insns,
        host_bytes = s.host_bytes,
        flushes = s.flushes,
        dispatches = state.dispatches,
        "translation statistics"
    );
}
