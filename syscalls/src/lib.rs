//! The x86_64 Linux syscall ABI, mapped onto the host (aarch64) kernel.
//!
//! The runtime calls [`dispatch`] when guest code executes `syscall`:
//! `nr` is guest RAX, `args` are guest RDI, RSI, RDX, R10, R8, R9.
//! The returned value goes back into guest RAX (negative errno on failure,
//! exactly as the x86_64 kernel returns it).

/// What the syscall layer may read or change in the calling guest thread.
pub trait GuestThread {
    fn fs_base(&self) -> u64;
    fn set_fs_base(&mut self, value: u64);
    fn gs_base(&self) -> u64;
    fn set_gs_base(&mut self, value: u64);
}

/// Result of one guest syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallOutcome {
    /// Continue the guest with this value in RAX.
    Return(u64),
    /// The guest called exit (thread) or exit_group (process) with this status.
    Exit { status: i32, group: bool },
}

/// Per-process state the syscall layer keeps for the guest.
#[derive(Debug, Default)]
pub struct GuestProcess {
    /// Start of the brk heap (page-aligned end of the highest PT_LOAD).
    pub brk_start: u64,
    /// Current program break.
    pub brk_current: u64,
    /// Absolute host path of the guest executable: what `/proc/self/exe` reads as.
    pub exe_path: std::path::PathBuf,
}

pub fn dispatch(
    _process: &mut GuestProcess,
    _thread: &mut dyn GuestThread,
    _nr: u64,
    _args: [u64; 6],
) -> SyscallOutcome {
    SyscallOutcome::Return((-(libc::ENOSYS as i64)) as u64)
}
