//! The process runtime: runs the guest thread and services what translated
//! code hands back (syscalls, faults).

use crate::loader::LoadedProgram;
use crate::signals::{self, SignalThread};
use transit_syscalls::{GuestProcess, GuestThread, SyscallOutcome, TransitCommand};
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
    fn stack_pointer(&self) -> u64 {
        self.0.gpr[RSP]
    }
    fn set_stack_pointer(&mut self, value: u64) {
        self.0.gpr[RSP] = value;
    }
}

/// How the guest ended.
pub enum Ending {
    Exit(i32),
    Signal(i32),
}

use transit_translator::cpu_state::gpr::{R10, R11, R8, R9, RAX, RCX, RDI, RDX, RSI, RSP};

/// x86_64 rt_sigreturn: restores the whole CPU state, so the runtime runs it.
const SYS_RT_SIGRETURN: u64 = 15;
const EINTR: u64 = (-libc::EINTR) as u64;

pub fn run(prog: &LoadedProgram, rsp: u64, transit: TransitCommand) -> std::io::Result<Ending> {
    let mut translator = Translator::new()?;
    let mut state = CpuState { rip: prog.start(), ..CpuState::default() };
    state.gpr[RSP] = rsp;
    let mut process = GuestProcess::new(prog.path.clone(), prog.main.end);
    process.brk_reserved_end = prog.main.reserved_end;
    process.set_rootfs(transit.rootfs.clone());
    process.record_initial_stack(rsp);
    process.transit = transit;
    let signals = SignalThread::attach(&mut state, &translator);
    process.signals.host_handler = Some(signals::on_host_signal);
    process.signals.install_fault_handlers();
    loop {
        let mut interrupted_syscall = None;
        let ending = match translator.run(&mut state) {
            GuestEvent::Syscall if state.gpr[RAX] == SYS_RT_SIGRETURN => signals.sigreturn(&mut state, &mut process),
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
                        if v == EINTR {
                            interrupted_syscall = Some(nr);
                        }
                        None
                    }
                    SyscallOutcome::Exit { status, .. } => Some(Ending::Exit(status)),
                }
            }
            GuestEvent::Fault { signal, addr } => {
                tracing::info!(signal, addr = format_args!("{addr:#x}"), rip = format_args!("{:#x}", state.rip), "guest fault");
                let (info, trap) = signals::fault_info(signal, state.rip);
                signals.deliver_fault(&mut state, &mut process, &info, trap)
            }
            GuestEvent::HostFault => {
                let info = signals.take_fault();
                tracing::info!(rip = format_args!("{:#x}", state.rip), "guest memory fault");
                signals.deliver_fault(&mut state, &mut process, &info, signals::host_fault_trap(&info))
            }
            GuestEvent::Interrupted => None,
        };
        let ending = ending.or_else(|| {
            if state.interrupt != 0 || interrupted_syscall.is_some() {
                let e = signals.deliver_pending(&mut state, &mut process, interrupted_syscall);
                translator.relink();
                e
            } else {
                None
            }
        });
        if let Some(ending) = ending {
            log_stats(&translator, &state);
            return Ok(ending);
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
