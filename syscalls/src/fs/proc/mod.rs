//! The guest's view of `/proc` where the host's would describe Transit or
//! an aarch64 CPU: `/proc/self/{auxv,cmdline,maps}` and `/proc/cpuinfo` are
//! generated and handed to the guest as a read-only descriptor of a memfd
//! holding the text. (`/proc/self/exe` is the guest executable through path
//! rewriting, see `fs::rootfs`, and readlink.) Everything else in `/proc` is
//! the host's, which is right for a process that is one host process.

mod cpuinfo;
pub(crate) mod maps;

use std::ffi::CStr;
use std::ops::Range;

use crate::abi::fcntl::X86_O_DIRECTORY;
use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::GuestProcess;

pub(crate) use cpuinfo::cpuinfo_text;

/// Auxiliary vector key ending the vector (include/uapi/linux/auxvec.h).
const AT_NULL: u64 = 0;
const AT_EXECFN: u64 = 31;
/// Longest argument string the kernel passes (MAX_ARG_STRLEN, 32 pages).
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Most auxiliary vector entries we read from an initial stack; the kernel
/// passes about 30.
const MAX_AUXV_ENTRIES: usize = 256;

/// What the kernel keeps from a process's execve for `/proc/self/auxv` and
/// `/proc/self/cmdline` (mm->saved_auxv, mm->arg_start..arg_end).
#[derive(Debug, Default, Clone)]
pub struct ProcessStart {
    /// The auxiliary vector as `(key, value)` words, AT_NULL included.
    pub(crate) auxv: Vec<u64>,
    /// Guest addresses of the argument strings, NULs included: the
    /// strings are contiguous on the initial stack.
    pub(crate) args: Range<u64>,
    /// End of the initial stack: AT_EXECFN's string is the first thing
    /// pushed below it.
    pub(crate) stack_top: u64,
}

impl ProcessStart {
    /// The value of auxiliary vector entry `key`, if present.
    pub(crate) fn aux(&self, key: u64) -> Option<u64> {
        self.auxv
            .chunks_exact(2)
            .find(|kv| kv[0] == key)
            .map(|kv| kv[1])
    }
}

impl GuestProcess {
    /// Records the auxiliary vector and the argument strings of the initial
    /// stack at `rsp` (argc, argv, envp, auxv, as the x86_64 kernel lays
    /// them out) for `/proc/self/auxv` and `/proc/self/cmdline`. Call it
    /// once the stack is built, before the guest runs.
    pub fn record_initial_stack(&mut self, rsp: u64) {
        self.start = read_initial_stack(rsp).unwrap_or_else(|e| {
            tracing::warn!("cannot read the guest's initial stack at {rsp:#x}: {e:?}");
            ProcessStart::default()
        });
    }
}

fn read_initial_stack(rsp: u64) -> Result<ProcessStart, Errno> {
    let word = |i: u64| guest_mem::read::<u64>(rsp + 8 * i);
    let argc = word(0)?;
    let args = match argc {
        0 => 0..0,
        _ => {
            let (first, last) = (word(1)?, word(argc)?);
            let last_len = guest_mem::read_cstr(last, MAX_ARG_STRLEN)?
                .ok_or(Errno::EINVAL)?
                .len();
            first..last + last_len as u64 + 1
        }
    };
    // argv's NULL, then envp up to its NULL, then the auxiliary vector.
    let mut i = argc + 2;
    while word(i)? != 0 {
        i += 1;
    }
    i += 1;
    let mut auxv = Vec::new();
    for _ in 0..MAX_AUXV_ENTRIES {
        let (key, value) = (word(i)?, word(i + 1)?);
        auxv.extend([key, value]);
        if key == AT_NULL {
            break;
        }
        i += 2;
    }
    let mut start = ProcessStart {
        auxv,
        args,
        stack_top: 0,
    };
    if let Some(execfn) = start.aux(AT_EXECFN) {
        let len = guest_mem::read_cstr(execfn, MAX_ARG_STRLEN)?.map_or(0, |s| s.len() as u64);
        start.stack_top = execfn + len + 1;
    }
    Ok(start)
}

/// `/proc/self/NAME`'s NAME, for the names of our own process directory:
/// `/proc/self`, `/proc/thread-self` (one thread) and `/proc/<our pid>`.
fn own_entry(path: &[u8]) -> Option<&[u8]> {
    let rest = path.strip_prefix(b"/proc/")?;
    let (dir, name) = rest.split_at(rest.iter().position(|&b| b == b'/')?);
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let own = dir == b"self" || dir == b"thread-self" || dir == pid.to_string().as_bytes();
    own.then_some(&name[1..])
}

/// Whether `path` is `/proc/self/NAME` under any of its names.
pub(crate) fn names_own(path: &[u8], name: &[u8]) -> bool {
    own_entry(path) == Some(name)
}

/// Opens a generated `/proc` file if `path` names one; `None` for any other
/// path, which the caller opens as usual.
pub(crate) fn open(process: &GuestProcess, path: &[u8], guest_flags: u64) -> Option<SysResult> {
    let contents = match (path, own_entry(path)) {
        (b"/proc/cpuinfo", _) => {
            cpuinfo_text(transit_translator::cpu::features::cpuid, &cpuinfo::online_cpus(), &cpuinfo::HostFacts::of_host()).into_bytes()
        }
        (_, Some(b"auxv")) => process
            .start
            .auxv
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect(),
        (_, Some(b"cmdline")) => read_args(&process.start.args),
        (_, Some(b"maps")) => maps::guest_maps(process).into_bytes(),
        _ => return None,
    };
    tracing::debug!(path = %String::from_utf8_lossy(path), "generated /proc file");
    Some(serve(&contents, guest_flags))
}

/// The argument strings as the guest's memory holds them now (the kernel
/// reads `/proc/self/cmdline` from the process's memory too).
fn read_args(args: &Range<u64>) -> Vec<u8> {
    let mut bytes = vec![0u8; (args.end - args.start) as usize];
    match guest_mem::read_partial(args.start, &mut bytes) {
        Ok(n) => bytes.truncate(n),
        Err(_) => bytes.clear(),
    }
    bytes
}

/// A read-only descriptor for `contents`, opened with the guest's flags
/// (O_CLOEXEC and friends); like `/proc`, it cannot be opened for writing
/// nor as a directory.
fn serve(contents: &[u8], guest_flags: u64) -> SysResult {
    if guest_flags & libc::O_ACCMODE as u64 != libc::O_RDONLY as u64 {
        return Err(Errno(libc::EACCES));
    }
    if guest_flags & X86_O_DIRECTORY != 0 {
        return Err(Errno(libc::ENOTDIR));
    }
    const NAME: &CStr = c"transit-proc";
    let memfd = host::syscall(
        libc::SYS_memfd_create,
        &[host::ptr(NAME.as_ptr()), libc::MFD_CLOEXEC as u64],
    )?;
    let close = |fd| host::syscall(libc::SYS_close, &[fd]);
    if let Err(e) = fill(memfd, contents) {
        let _ = close(memfd);
        return Err(e);
    }
    match reopen_read_only(memfd, guest_flags) {
        Ok(fd) => {
            let _ = close(memfd);
            Ok(fd)
        }
        // Without /proc/self/fd the guest gets the memfd itself (writable).
        Err(_) => {
            if guest_flags & libc::O_CLOEXEC as u64 == 0 {
                host::syscall(libc::SYS_fcntl, &[memfd, libc::F_SETFD as u64, 0])?;
            }
            Ok(memfd)
        }
    }
}

fn fill(fd: u64, contents: &[u8]) -> Result<(), Errno> {
    let mut done = 0;
    while done < contents.len() {
        let rest = &contents[done..];
        let n = host::syscall(
            libc::SYS_pwrite64,
            &[fd, host::ptr(rest.as_ptr()), rest.len() as u64, done as u64],
        )?;
        if n == 0 {
            return Err(Errno(libc::EIO));
        }
        done += n as usize;
    }
    Ok(())
}

/// A new, read-only open file description of `memfd` with the guest's
/// O_CLOEXEC/O_NONBLOCK, through its `/proc/thread-self/fd` link (the
/// calling thread's: /proc/self's are gone once the first thread exited).
fn reopen_read_only(memfd: u64, guest_flags: u64) -> SysResult {
    let link =
        std::ffi::CString::new(format!("/proc/thread-self/fd/{memfd}")).expect("no NUL in a number");
    let keep = (libc::O_CLOEXEC | libc::O_NONBLOCK) as u64;
    host::syscall(
        libc::SYS_openat,
        &[
            libc::AT_FDCWD as i64 as u64,
            host::ptr(link.as_ptr()),
            libc::O_RDONLY as u64 | (guest_flags & keep),
        ],
    )
}
