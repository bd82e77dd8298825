//! execve and execveat. Transit runs the new program itself when it is an
//! x86_64 ELF, or a `#!` script whose interpreter (after any nesting) is one:
//! that becomes a host execve of Transit's own executable with the same
//! options. Anything else (a native program, a script for a native
//! interpreter, a file of no known format) is a plain host execve, and the
//! host kernel decides, errors (ENOEXEC...) included.
//!
//! When binfmt_misc started this Transit, x86_64 programs go back to the
//! kernel too: it runs them through the same entry, so a setuid program gets
//! its credentials (C flag) and Transit's own file need not exist where the
//! guest runs (F flag, in a chroot or a container), and children read
//! Transit's settings from the environment. Under `-L DIR` Transit still runs
//! them itself: the kernel would find a script's interpreter outside DIR, and
//! a child whose environment lost TRANSIT_ROOTFS would run without it.
//! The kernel's handler is Transit's entry unless a newer one was registered.
//! When Transit's own file is not there any more, the kernel decides too.
//!
//! Signals pass on as the kernel passes them: the host takes the guest's
//! ignoring and blocking of the signals Transit holds itself, and the
//! instances the runtime holds go back to the kernel's queue, which the
//! next program inherits (`SignalState::lend_to_host`). A failed execve
//! undoes that, so the guest goes on with an errno, as after the kernel's.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::signal::{signal_list, InheritedSignals};
use crate::{Args, Ctx, GuestProcess};

/// How this Transit was started: what a guest execve needs to run Transit
/// again on another program.
#[derive(Debug, Default, Clone)]
pub struct TransitCommand {
    /// Transit's own executable (`/proc/self/exe` at start-up). Empty: the
    /// new program cannot be run under Transit, and such execve fail.
    pub exe: PathBuf,
    /// `-L DIR`: the x86_64 root filesystem.
    pub rootfs: Option<PathBuf>,
    /// `--process-log FILE`.
    pub process_log: Option<PathBuf>,
    /// `--cpu LEVEL`, when it was chosen: children present the same CPU.
    pub cpu: Option<transit_translator::cpu::features::CpuLevel>,
    /// binfmt_misc started this Transit (it said so with the P, O or C
    /// flag): the kernel runs x86_64 programs through Transit by itself.
    pub by_binfmt_misc: bool,
    /// `--stats`: children report too.
    pub stats: bool,
    /// `--perf-map`: children write their maps too.
    pub perf_map: bool,
    /// `--strace` or `--strace-file FILE`: children are traced too.
    pub strace: Option<crate::strace::StraceOutput>,
    /// `--x86-memory-order`: children keep x86's memory order from their start too.
    pub x86_memory_order: bool,
}

impl TransitCommand {
    /// The host argv that runs `program` under Transit with guest argv
    /// `argv`, whose argv[0] is passed separately, and `signals` besides
    /// what the kernel carries: `transit [-L DIR] [--process-log FILE]
    /// [--cpu LEVEL] [--ignored-signals LIST] [--blocked-signals LIST]
    /// --argv0 ARGV0 -- PROGRAM ARGV[1..]`.
    pub fn argv(&self, program: &[u8], argv: &[Vec<u8>], signals: InheritedSignals) -> Vec<Vec<u8>> {
        let mut out = vec![self.exe.as_os_str().as_bytes().to_vec()];
        if let Some(rootfs) = &self.rootfs {
            out.extend([b"-L".to_vec(), rootfs.as_os_str().as_bytes().to_vec()]);
        }
        if let Some(log) = &self.process_log {
            out.extend([
                b"--process-log".to_vec(),
                log.as_os_str().as_bytes().to_vec(),
            ]);
        }
        if let Some(level) = self.cpu {
            out.extend([b"--cpu".to_vec(), level.name().as_bytes().to_vec()]);
        }
        if self.stats {
            out.push(b"--stats".to_vec());
        }
        if self.perf_map {
            out.push(b"--perf-map".to_vec());
        }
        if self.x86_memory_order {
            out.push(b"--x86-memory-order".to_vec());
        }
        match &self.strace {
            Some(crate::strace::StraceOutput::Stderr) => out.push(b"--strace".to_vec()),
            Some(crate::strace::StraceOutput::File(path)) => {
                out.extend([b"--strace-file".to_vec(), path.as_os_str().as_bytes().to_vec()]);
            }
            None => {}
        }
        if let Some(filters) = crate::seccomp::for_exec() {
            out.extend([b"--seccomp".to_vec(), filters.into_bytes()]);
        }
        for (option, set) in [(&b"--ignored-signals"[..], signals.ignored), (b"--blocked-signals", signals.blocked)] {
            if set != 0 {
                out.extend([option.to_vec(), signal_list(set).into_bytes()]);
            }
        }
        let argv0 = argv.first().cloned().unwrap_or_default();
        out.extend([b"--argv0".to_vec(), argv0, b"--".to_vec(), program.to_vec()]);
        out.extend(argv.iter().skip(1).cloned());
        out
    }
}

// Limits from include/uapi/linux/limits.h and binfmts.h.
const PATH_MAX: usize = 4096;
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// ARG_MAX, the least room every execve gets for its strings.
const ARG_MAX: u64 = 32 * 4096;
/// _STK_LIM / 4 * 3: the most room whatever the stack limit.
const ARG_ROOM_CAP: u64 = (8 << 20) / 4 * 3;
/// BINPRM_BUF_SIZE: how much of the file the kernel looks at.
const HEADER_SIZE: usize = 256;
/// Interpreter rewrites allowed before ELOOP (fs/exec.c, exec_binprm).
const MAX_SCRIPT_DEPTH: usize = 5;

const AT_FDCWD: u64 = libc::AT_FDCWD as i64 as u64;
const AT_EMPTY_PATH: u64 = libc::AT_EMPTY_PATH as u64;
const AT_SYMLINK_NOFOLLOW: u64 = libc::AT_SYMLINK_NOFOLLOW as u64;

/// execve(path, argv, envp).
pub(crate) fn execve(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.thread.before_exec();
    exec(ctx, AT_FDCWD, a[0], a[1], a[2], 0)
}

/// execveat(dirfd, path, argv, envp, flags).
pub(crate) fn execveat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    if a[4] & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    ctx.thread.before_exec();
    exec(ctx, a[0], a[1], a[2], a[3], a[4])
}

/// Which file execve was asked for, as the host names it.
struct ExecFile {
    dirfd: u64,
    /// Host path (after [`host_path`]), relative to `dirfd` unless absolute.
    path: Vec<u8>,
    flags: u64,
}

/// What to do with the request.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Run Transit on this x86_64 program (a host path) with this guest argv.
    Transit {
        program: Vec<u8>,
        argv: Vec<Vec<u8>>,
    },
    /// Let the host kernel execute the file the guest named.
    Host,
}

fn exec(ctx: &mut Ctx<'_>, dirfd: u64, path: u64, argv: u64, envp: u64, flags: u64) -> SysResult {
    let process = ctx.process;
    let guest_path = read_path(path)?;
    if guest_path.is_empty() && flags & AT_EMPTY_PATH == 0 {
        return Err(Errno(libc::ENOENT));
    }
    let file = ExecFile {
        dirfd,
        path: host_path(process, &guest_path),
        flags,
    };
    // The kernel opens the file before it reads argv and envp: its errors come first.
    let header = read_header(&file)?;
    let args = read_strings(argv)?;
    check_room(&args, envp)?;
    // Like the kernel (since 5.18): an empty argv gets "" as argv[0].
    let args = if args.is_empty() {
        vec![Vec::new()]
    } else {
        args
    };
    let plan = match header {
        Some(header) => plan(process, &file, header, &guest_path, args)?,
        None => Plan::Host,
    };
    tracing::debug!(path = %String::from_utf8_lossy(&guest_path), ?plan, "execve");
    // Locked throughout: no other thread changes a disposition meanwhile.
    let mut signals = process.signals();
    // A vfork parent sees them once the exec closes its pipe.
    super::vfork_writes::send_to_parent();
    signals.lend_to_host();
    ctx.thread.return_held_signals_to_kernel(crate::signal::guest_mask());
    let result = match plan {
        Plan::Host => kernel_exec(&file, argv, envp),
        // Not under -L DIR: the kernel knows nothing of DIR (a script's
        // interpreter, a child whose environment lost TRANSIT_ROOTFS).
        Plan::Transit { .. } if process.transit.by_binfmt_misc && process.transit.rootfs.is_none() => {
            match crate::seccomp::for_exec() {
                // The Transit binfmt_misc starts takes them from its environment.
                Some(filters) => with_seccomp_env(&filters, envp).and_then(|env| kernel_exec(&file, argv, env.pointers())),
                None => kernel_exec(&file, argv, envp),
            }
        }
        Plan::Transit { program, argv: guest_argv } => {
            let held = signals.held_for_exec();
            transit_exec(process, held, &file, &program, &guest_argv, argv, envp)
        }
    };
    signals.take_back_from_host();
    result
}

/// Starts Transit again on x86_64 `program`, unless Transit's own file is
/// unknown or gone: then the kernel decides (`file`, `argv`, `envp` are
/// the guest's request).
fn transit_exec(
    process: &GuestProcess,
    held: InheritedSignals,
    file: &ExecFile,
    program: &[u8],
    guest_argv: &[Vec<u8>],
    argv: u64,
    envp: u64,
) -> SysResult {
    if process.transit.exe.as_os_str().is_empty() {
        tracing::warn!("execve: Transit's own executable is unknown: the kernel's binfmt_misc decides");
        return kernel_exec(file, argv, envp);
    }
    let argv_strings = Strings::new(process.transit.argv(program, guest_argv, held));
    let result = host::syscall(libc::SYS_execve, &[argv_strings.first(), argv_strings.pointers(), envp]);
    // Not in this chroot or container: a binfmt_misc entry with the F flag
    // may still run it (else ENOEXEC, as without Transit). Only when the
    // file itself is missing: ENOENT also means a missing interpreter for
    // Transit (qemu on x86_64 hosts), and there the kernel would run the
    // x86_64 program natively.
    let gone = matches!(result, Err(Errno::ENOENT | Errno::ENOTDIR)) && std::fs::symlink_metadata(&process.transit.exe).is_err();
    if gone {
        tracing::warn!("execve: Transit ({}) is not here: the kernel's binfmt_misc decides", process.transit.exe.display());
        return kernel_exec(file, argv, envp);
    }
    if let Err(e) = result {
        tracing::warn!(
            "execve: cannot start Transit ({}) again: {e:?}; on a host that is not aarch64 this needs a \
             binfmt_misc handler for aarch64 programs (cargo xtask test registers one)",
            process.transit.exe.display()
        );
    }
    result
}

/// The guest's environment with `TRANSIT_SECCOMP` set to `filters`.
fn with_seccomp_env(filters: &str, envp: u64) -> Result<Strings, Errno> {
    let prefix = format!("{}=", crate::seccomp::ENV).into_bytes();
    let mut env: Vec<Vec<u8>> = read_strings(envp)?.into_iter().filter(|e| !e.starts_with(&prefix)).collect();
    env.push([prefix, filters.as_bytes().to_vec()].concat());
    Ok(Strings::new(env))
}

/// NUL-terminated strings and the null-terminated array of pointers to
/// them that execve takes.
struct Strings {
    _strings: Vec<Vec<u8>>,
    pointers: Vec<u64>,
}

impl Strings {
    fn new(strings: Vec<Vec<u8>>) -> Strings {
        let strings: Vec<Vec<u8>> = strings.into_iter().map(cstring).collect();
        let mut pointers: Vec<u64> = strings.iter().map(|s| host::ptr(s.as_ptr())).collect();
        pointers.push(0);
        Strings { _strings: strings, pointers }
    }

    fn pointers(&self) -> u64 {
        host::ptr(self.pointers.as_ptr())
    }

    /// The first string (0 when there is none).
    fn first(&self) -> u64 {
        self.pointers[0]
    }
}

/// The host kernel runs the file, with the guest's own argv and envp and
/// the guest's signal state (`exec` lends it to the host first).
fn kernel_exec(file: &ExecFile, argv: u64, envp: u64) -> SysResult {
    if file.dirfd != AT_FDCWD || file.flags != 0 {
        let path = cstring(file.path.clone());
        match host::syscall(
            libc::SYS_execveat,
            &[file.dirfd, host::ptr(path.as_ptr()), argv, envp, file.flags],
        ) {
            // qemu-user before 8.0 lacks execveat: name the file another way.
            Err(e) if e == Errno::ENOSYS => {}
            result => return result,
        }
    }
    let path = cstring(program_path(file)?);
    host::syscall(libc::SYS_execve, &[host::ptr(path.as_ptr()), argv, envp])
}

/// The host path for a guest path: the fs layer's redirection (the guest's
/// `/proc/self/exe` is its own program; with `-L DIR`, absolute paths are
/// looked up there first).
fn host_path(process: &GuestProcess, guest: &[u8]) -> Vec<u8> {
    process.host_path(std::path::Path::new(OsStr::from_bytes(guest))).into_os_string().into_encoded_bytes()
}

/// Decides, following `#!` interpreters like binfmt_script, what runs.
/// `header` is the start of `file`, which the guest called `guest_name`.
fn plan(
    process: &GuestProcess,
    file: &ExecFile,
    mut header: [u8; HEADER_SIZE],
    guest_name: &[u8],
    mut argv: Vec<Vec<u8>>,
) -> Result<Plan, Errno> {
    let mut current = ExecFile {
        dirfd: file.dirfd,
        path: file.path.clone(),
        flags: file.flags,
    };
    let mut name = script_name(file, guest_name);
    for _ in 0..=MAX_SCRIPT_DEPTH {
        match classify(&header) {
            Kind::X86_64Elf => {
                let program = program_path(&current)?;
                return Ok(Plan::Transit { program, argv });
            }
            Kind::Other => return Ok(Plan::Host),
            Kind::Script => {
                let (interp, arg) = parse_shebang(&header).ok_or(Errno(libc::ENOEXEC))?;
                // argv becomes: interpreter, its argument, the script, argv[1..].
                let mut rewritten = vec![interp.to_vec()];
                rewritten.extend(arg.map(<[u8]>::to_vec));
                rewritten.push(name);
                rewritten.extend(argv.into_iter().skip(1));
                argv = rewritten;
                name = interp.to_vec();
                current = ExecFile {
                    dirfd: AT_FDCWD,
                    path: host_path(process, interp),
                    flags: 0,
                };
                header = match read_header(&current)? {
                    Some(header) => header,
                    // An execute-only interpreter: the kernel runs the script.
                    None => return Ok(Plan::Host),
                };
            }
        }
    }
    Err(Errno(libc::ELOOP))
}

/// The name an interpreter gets for the script: the path as the guest gave
/// it, or `/dev/fd/N[/PATH]` for a descriptor-relative one, as the kernel does.
fn script_name(file: &ExecFile, guest_name: &[u8]) -> Vec<u8> {
    if file.dirfd == AT_FDCWD || guest_name.starts_with(b"/") {
        return guest_name.to_vec();
    }
    let mut name = format!("/dev/fd/{}", file.dirfd as i32).into_bytes();
    if !guest_name.is_empty() {
        name.push(b'/');
        name.extend_from_slice(guest_name);
    }
    name
}

/// A path the new Transit can open: descriptor-relative names are resolved
/// through /proc/thread-self/fd, as the descriptor may not survive the exec
/// (/proc/self's descriptors are the first thread's, gone once it exited).
fn program_path(file: &ExecFile) -> Result<Vec<u8>, Errno> {
    if file.dirfd == AT_FDCWD || file.path.starts_with(b"/") {
        return Ok(file.path.clone());
    }
    let link = format!("/proc/thread-self/fd/{}", file.dirfd as i32);
    let mut base = std::fs::read_link(&link)
        .map_err(|_| Errno(libc::ENOENT))?
        .into_os_string()
        .into_encoded_bytes();
    if !file.path.is_empty() {
        base.push(b'/');
        base.extend_from_slice(&file.path);
    }
    Ok(base)
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    X86_64Elf,
    Script,
    Other,
}

/// ELF identification (System V gABI): 64-bit, little-endian, e_machine.
const EM_X86_64: u16 = 62;

fn classify(header: &[u8; HEADER_SIZE]) -> Kind {
    if header.starts_with(b"\x7fELF")
        && header[4] == 2 // ELFCLASS64
        && header[5] == 1 // ELFDATA2LSB
        && u16::from_le_bytes([header[18], header[19]]) == EM_X86_64
    {
        Kind::X86_64Elf
    } else if header.starts_with(b"#!") {
        Kind::Script
    } else {
        Kind::Other
    }
}

/// The checks open_exec makes (a regular file the caller may execute), then
/// the first bytes, zero-padded like the kernel's buffer.
/// The start of the file, after the kernel's checks (a regular file the
/// caller may execute); `None` when it may be executed but not read.
fn read_header(file: &ExecFile) -> Result<Option<[u8; HEADER_SIZE]>, Errno> {
    let path = cstring(file.path.clone());
    let at = |extra: u64| (file.flags & AT_SYMLINK_NOFOLLOW) | (file.flags & AT_EMPTY_PATH) | extra;
    // SAFETY: stat is plain data; all-zero is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    host::syscall(
        libc::SYS_newfstatat,
        &[
            file.dirfd,
            host::ptr(path.as_ptr()),
            host::ptr_mut(&mut st),
            at(0),
        ],
    )?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Errno(libc::EACCES));
    }
    // AT_EACCESS: the kernel checks execute permission with the effective ids.
    let access = host::syscall(
        libc::SYS_faccessat2,
        &[
            file.dirfd,
            host::ptr(path.as_ptr()),
            libc::X_OK as u64,
            at(libc::AT_EACCESS as u64),
        ],
    );
    match access {
        Err(e) if e == Errno::ENOSYS => host::syscall(
            libc::SYS_faccessat,
            &[file.dirfd, host::ptr(path.as_ptr()), libc::X_OK as u64],
        )?,
        other => other?,
    };
    let fd = if file.path.is_empty() {
        None
    } else {
        let nofollow = if file.flags & AT_SYMLINK_NOFOLLOW != 0 {
            libc::O_NOFOLLOW
        } else {
            0
        };
        let open_flags = (libc::O_RDONLY | libc::O_CLOEXEC | nofollow) as u64;
        match host::syscall(libc::SYS_openat, &[file.dirfd, host::ptr(path.as_ptr()), open_flags]) {
            Ok(fd) => Some(fd),
            // Executable but not readable (mode --x): only the kernel can
            // start it, through a binfmt_misc entry with the O flag.
            Err(e) if e == Errno(libc::EACCES) => return Ok(None),
            Err(e) => return Err(e),
        }
    };
    let mut header = [0u8; HEADER_SIZE];
    let read = host::syscall(
        libc::SYS_pread64,
        &[
            fd.unwrap_or(file.dirfd),
            host::ptr_mut(header.as_mut_ptr()),
            HEADER_SIZE as u64,
            0,
        ],
    );
    if let Some(fd) = fd {
        let _ = host::syscall(libc::SYS_close, &[fd]);
    }
    read?;
    Ok(Some(header))
}

/// binfmt_script's parse of the `#!` line: the interpreter and its optional
/// single argument (the rest of the line, inner blanks kept). `None` is
/// ENOEXEC: no interpreter, or one that may be cut off by the buffer's end.
fn parse_shebang(buf: &[u8; HEADER_SIZE]) -> Option<(&[u8], Option<&[u8]>)> {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let end = match buf.iter().position(|&b| b == b'\n') {
        Some(newline) => newline,
        None => {
            // Without a newline the interpreter must end within the buffer.
            let start = buf[2..].iter().position(|b| !blank(b))? + 2;
            buf[start..].iter().position(|b| blank(b) || *b == 0)?;
            HEADER_SIZE - 1
        }
    };
    let mut line = &buf[2..end];
    if let Some(nul) = line.iter().position(|&b| b == 0) {
        line = &line[..nul];
    }
    while let [rest @ .., last] = line {
        if !blank(last) {
            break;
        }
        line = rest;
    }
    let line = &line[line.iter().position(|b| !blank(b))?..];
    let name_end = line.iter().position(blank).unwrap_or(line.len());
    let (interp, rest) = line.split_at(name_end);
    let arg = rest
        .iter()
        .position(|b| !blank(b))
        .map(|start| &rest[start..]);
    Some((interp, arg))
}

/// The interpreter and its optional argument of a file starting with `#!`,
/// as binfmt_script reads them from the first 256 bytes (`start`); None
/// when it is not a script or the line is malformed.
pub fn script_interpreter(start: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    if !start.starts_with(b"#!") {
        return None;
    }
    let mut header = [0u8; HEADER_SIZE];
    let n = start.len().min(HEADER_SIZE);
    header[..n].copy_from_slice(&start[..n]);
    let (interp, arg) = parse_shebang(&header)?;
    Some((interp.to_vec(), arg.map(<[u8]>::to_vec)))
}

/// The path argument: at most PATH_MAX bytes with its NUL.
fn read_path(addr: u64) -> Result<Vec<u8>, Errno> {
    guest_mem::read_cstr(addr, PATH_MAX - 1)?.ok_or(Errno(libc::ENAMETOOLONG))
}

/// A NULL-terminated array of strings (argv or envp); a NULL array is empty.
fn read_strings(addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0u64;
    loop {
        let pointer: u64 = guest_mem::read(addr + 8 * out.len() as u64)?;
        if pointer == 0 {
            return Ok(out);
        }
        let s = guest_mem::read_cstr(pointer, MAX_ARG_STRLEN - 1)?.ok_or(Errno(libc::E2BIG))?;
        total += s.len() as u64 + 1 + 8;
        if total > ARG_ROOM_CAP {
            return Err(Errno(libc::E2BIG));
        }
        out.push(s);
    }
}

/// bprm_stack_limits (fs/exec.c): strings and pointers of argv and envp
/// must fit in a quarter of the stack limit (at least ARG_MAX, at most
/// 6 MiB). The host kernel checks Transit's own execve again.
fn check_room(argv: &[Vec<u8>], envp: u64) -> Result<(), Errno> {
    let envp = read_strings(envp)?;
    let mut limit = [0u64; 2];
    host::syscall(
        libc::SYS_prlimit64,
        &[
            0,
            libc::RLIMIT_STACK as u64,
            0,
            host::ptr_mut(limit.as_mut_ptr()),
        ],
    )?;
    let room = (limit[0] / 4).min(ARG_ROOM_CAP).max(ARG_MAX);
    let pointers = (argv.len().max(1) + envp.len()) as u64 * 8;
    let strings: u64 = argv.iter().chain(&envp).map(|s| s.len() as u64 + 1).sum();
    if pointers + strings > room {
        return Err(Errno(libc::E2BIG));
    }
    Ok(())
}

fn cstring(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.push(0);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &[u8]) -> [u8; HEADER_SIZE] {
        let mut buf = [0u8; HEADER_SIZE];
        buf[..text.len()].copy_from_slice(text);
        buf
    }

    #[test]
    fn shebang_lines_parse_like_binfmt_script() {
        let parse = |text: &[u8]| {
            parse_shebang(&header(text)).map(|(i, a)| (i.to_vec(), a.map(<[u8]>::to_vec)))
        };
        assert_eq!(parse(b"#!/bin/sh\necho"), Some((b"/bin/sh".to_vec(), None)));
        assert_eq!(
            parse(b"#! \t/bin/sh  \t\n"),
            Some((b"/bin/sh".to_vec(), None))
        );
        assert_eq!(
            parse(b"#!/usr/bin/env  python3 -u \n"),
            Some((b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec())))
        );
        assert_eq!(
            parse(b"#!/bin/sh"),
            Some((b"/bin/sh".to_vec(), None)),
            "end of file ends the line"
        );
        assert_eq!(parse(b"#!\n"), None);
        assert_eq!(parse(b"#!   \n/bin/sh"), None);
        let mut long = b"#!/".to_vec();
        long.resize(HEADER_SIZE, b'x');
        assert_eq!(parse(&long), None, "an interpreter cut off by the buffer");
        let mut long_arg = b"#!/bin/sh ".to_vec();
        long_arg.resize(HEADER_SIZE, b'a');
        let (interp, arg) = parse(&long_arg).unwrap();
        assert_eq!(
            (interp.as_slice(), arg.unwrap().len()),
            (&b"/bin/sh"[..], HEADER_SIZE - 1 - 10)
        );
    }

    #[test]
    fn transit_command_line_repeats_options_and_passes_argv0() {
        let command = TransitCommand {
            exe: "/opt/transit".into(),
            rootfs: Some("/srv/amd64".into()),
            process_log: None,
            cpu: Some(transit_translator::cpu::features::CpuLevel::V1),
            by_binfmt_misc: false,
            stats: true,
            perf_map: true,
            strace: Some(crate::strace::StraceOutput::File("/tmp/trace".into())),
            x86_memory_order: true,
        };
        // SIGSEGV (11) ignored; SIGBUS (7) and SIGSEGV blocked.
        let signals = InheritedSignals { ignored: 1 << 10, blocked: (1 << 6) | (1 << 10) };
        let argv = command.argv(b"/bin/prog", &[b"name".to_vec(), b"-x".to_vec()], signals);
        let argv: Vec<&str> = argv
            .iter()
            .map(|s| std::str::from_utf8(s).unwrap())
            .collect();
        assert_eq!(
            argv,
            [
                "/opt/transit",
                "-L",
                "/srv/amd64",
                "--cpu",
                "x86-64-v1",
                "--stats",
                "--perf-map",
                "--x86-memory-order",
                "--strace-file",
                "/tmp/trace",
                "--ignored-signals",
                "11",
                "--blocked-signals",
                "7,11",
                "--argv0",
                "name",
                "--",
                "/bin/prog",
                "-x"
            ]
        );
    }

    #[test]
    fn descriptor_relative_scripts_are_named_through_dev_fd() {
        let file = |dirfd: u64| ExecFile {
            dirfd,
            path: Vec::new(),
            flags: 0,
        };
        assert_eq!(script_name(&file(AT_FDCWD), b"./s"), b"./s");
        assert_eq!(script_name(&file(5), b"s"), b"/dev/fd/5/s");
        assert_eq!(script_name(&file(5), b""), b"/dev/fd/5");
        assert_eq!(script_name(&file(5), b"/abs"), b"/abs");
    }

    #[test]
    fn elf_classes() {
        let mut elf = header(b"\x7fELF\x02\x01\x01");
        elf[18] = 62;
        assert_eq!(classify(&elf), Kind::X86_64Elf);
        elf[18] = 183; // EM_AARCH64
        assert_eq!(classify(&elf), Kind::Other);
        assert_eq!(classify(&header(b"#!/bin/sh\n")), Kind::Script);
        assert_eq!(classify(&header(b"hello")), Kind::Other);
    }
}
