//! Why control leaves generated code: `ExitReason`, what translated code
//! tells the dispatcher, and `GuestEvent`, what the translator (generated
//! code or the interpreter) hands the runtime.
//!
//! Every exit stores the guest RIP the reason refers to in `CpuState::rip`
//! and the reason in `CpuState::exit_reason`.

#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// Continue at `rip`: a direct branch whose target has no translation
    /// linked yet (or its block was unlinked for a signal).
    Lookup = 0,
    /// `syscall` executed; `rip` is the next instruction.
    Syscall = 1,
    /// The instruction at `rip` is run by the slow-path interpreter.
    Interpret = 2,
    /// Invalid or unimplemented instruction at `rip`: SIGILL.
    IllegalInstruction = 3,
    /// #DE divide error at `rip`: SIGFPE.
    DivideError = 4,
    /// #GP (hlt, privileged instruction) at `rip`: SIGSEGV.
    GeneralProtection = 5,
    /// int3 executed; `rip` is the next instruction: SIGTRAP.
    Breakpoint = 6,
    /// A host fault (SIGSEGV, SIGBUS...) in generated code, redirected here
    /// by the runtime's signal handler; `rip` is the faulting instruction.
    HostFault = 7,
    /// `int 0x80` executed; `rip` is the next instruction: the i386 syscall
    /// entry, which x86_64 Linux keeps for 64-bit programs too.
    CompatSyscall = 8,
    /// Continue at `rip`: a `ret` whose target was not in the lookup table.
    Return = 9,
    /// Continue at `rip`: a `call` through a register or memory whose
    /// target was not in the lookup table.
    IndirectCall = 10,
    /// Continue at `rip`: a `jmp` through a register or memory whose target
    /// was not in the lookup table.
    IndirectJump = 11,
    /// `cpuid` executed; `rip` is the next instruction. The dispatcher
    /// answers it without decoding (see `emit::control::cpuid`).
    Cpuid = 12,
    /// `xgetbv` (its 3-byte form) executed; `rip` is the next instruction.
    Xgetbv = 13,
    /// xsave, xsaveopt, xsavec or xrstor (or a REX.W form) at `rip`, its
    /// area's address and form in `CpuState::exit_operands`.
    XsaveArea = 14,
}

impl ExitReason {
    pub const ALL: [ExitReason; 15] = [
        ExitReason::Lookup,
        ExitReason::Syscall,
        ExitReason::Interpret,
        ExitReason::IllegalInstruction,
        ExitReason::DivideError,
        ExitReason::GeneralProtection,
        ExitReason::Breakpoint,
        ExitReason::HostFault,
        ExitReason::CompatSyscall,
        ExitReason::Return,
        ExitReason::IndirectCall,
        ExitReason::IndirectJump,
        ExitReason::Cpuid,
        ExitReason::Xgetbv,
        ExitReason::XsaveArea,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            ExitReason::Lookup => "direct",
            ExitReason::Syscall => "syscall",
            ExitReason::Interpret => "interpret",
            ExitReason::IllegalInstruction => "sigill",
            ExitReason::DivideError => "divide_error",
            ExitReason::GeneralProtection => "general_protection",
            ExitReason::Breakpoint => "breakpoint",
            ExitReason::HostFault => "host_fault",
            ExitReason::CompatSyscall => "int80",
            ExitReason::Return => "ret",
            ExitReason::IndirectCall => "call_indirect",
            ExitReason::IndirectJump => "jmp_indirect",
            ExitReason::Cpuid => "cpuid",
            ExitReason::Xgetbv => "xgetbv",
            ExitReason::XsaveArea => "xsave_area",
        }
    }

    pub fn from_raw(raw: u64) -> Option<ExitReason> {
        Self::ALL.get(raw as usize).copied()
    }
}

/// Why `Translator::run` returned to the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestEvent {
    /// The guest executed `syscall`; `rip` is already past it.
    Syscall,
    /// The guest executed `int 0x80`, the i386 syscall entry (numbers and
    /// arguments in EAX, EBX, ECX, EDX, ESI, EDI, EBP); `rip` is past it.
    CompatSyscall,
    /// A synchronous fault: deliver host signal number `signal` (SIGILL,
    /// SIGFPE, SIGSEGV, SIGTRAP) at guest address `addr`.
    Fault { signal: i32, addr: u64 },
    /// A host fault in generated code, which the runtime's signal handler
    /// recorded; `rip` is the guest instruction that faulted.
    HostFault,
    /// `CpuState::interrupt` is set: a signal waits for delivery. `rip` is
    /// the next instruction to run.
    Interrupted,
    /// The interpreter found the instruction at `rip` would fault on guest
    /// memory at `addr` (SIGSEGV with si_code `code`); nothing changed.
    PageFault { addr: u64, code: i32 },
    /// The debugger's stop (`-g PORT`): `rip` is a breakpoint's address, or
    /// the instruction the requested single step ran is done.
    DebugStop,
}

/// The debugger's breakpoints (`-g PORT`): guest addresses no translation
/// runs through. Blocks end before them (`decode_block_until`) and the
/// dispatcher stops when RIP reaches one. Without a debugger nothing here
/// is read but `attached`, once per dispatch.
pub mod debug_stops {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::RwLock;

    static ATTACHED: AtomicBool = AtomicBool::new(false);
    /// Sorted: decoding looks every instruction's address up.
    static BREAKPOINTS: RwLock<Vec<u64>> = RwLock::new(Vec::new());

    pub fn attached() -> bool {
        ATTACHED.load(Ordering::Relaxed)
    }

    /// A debugger is (true) or is no longer (false) attached.
    pub fn set_attached(on: bool) {
        ATTACHED.store(on, Ordering::Relaxed);
    }

    /// Adds `addr`; false when it was there already.
    pub fn insert(addr: u64) -> bool {
        let mut set = BREAKPOINTS.write().unwrap_or_else(|e| e.into_inner());
        match set.binary_search(&addr) {
            Ok(_) => false,
            Err(at) => {
                set.insert(at, addr);
                true
            }
        }
    }

    /// Removes `addr`; false when it was not there.
    pub fn remove(addr: u64) -> bool {
        let mut set = BREAKPOINTS.write().unwrap_or_else(|e| e.into_inner());
        set.binary_search(&addr).map(|at| set.remove(at)).is_ok()
    }

    pub fn clear() {
        BREAKPOINTS.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Keeps the breakpoints from changing until the guard drops (across a
    /// host fork, see `code_watch::hold_for_fork`).
    pub fn hold_for_fork() -> Box<dyn std::any::Any> {
        Box::new(BREAKPOINTS.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn contains(addr: u64) -> bool {
        attached() && BREAKPOINTS.read().unwrap_or_else(|e| e.into_inner()).binary_search(&addr).is_ok()
    }

    /// The breakpoints now, sorted (empty without a debugger).
    pub fn snapshot() -> Vec<u64> {
        if !attached() {
            return Vec::new();
        }
        BREAKPOINTS.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
