//! `transit [OPTIONS] PROGRAM [ARGS...]`: run an x86_64 Linux program
//! (also when the kernel starts Transit through binfmt_misc: `invocation`).
//! `transit binfmt install|uninstall|status`: the `transit-binfmt` crate.
// Off aarch64 Transit builds (for the benches) but runs no guest, so the
// signal machinery is left unused there.
#![cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]

mod error;
mod gdb;
mod guest_symbols;
mod invocation;
mod loader;
mod package_files;
mod memory;
mod perf_map;
mod persistent_cache;
mod startup_arena;
mod rootfs;
mod runtime;
mod signals;
mod standard_fds;
mod threads;
mod stack;

use error::LoadError;
use invocation::{Invocation, KernelStart, RunRequest};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use transit_syscalls::strace::StraceOutput;
use transit_syscalls::TransitCommand;

fn init_logging(secure: bool) {
    // TRANSIT_LOG=debug (or any tracing filter) explains what happens, on
    // stderr. Without it no subscriber is installed: start-up stays cheap.
    // Secure mode (AT_SECURE) logs nothing: the variable is the caller's.
    if secure {
        return;
    }
    let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("TRANSIT_LOG") else { return };
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

/// Ends Transit the way the guest ended: same status, or same signal.
pub(crate) fn die_by_signal(signal: i32) -> ! {
    // SAFETY: restoring the default action and re-raising is how a process
    // reports death by signal to its parent; nothing runs afterwards.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
        libc::_exit(128 + signal)
    }
}

fn run(request: RunRequest) -> Result<runtime::Ending, LoadError> {
    if !cfg!(target_arch = "aarch64") {
        return Err(LoadError::WrongHost);
    }
    let mut request = request;
    set_command_name(&request.program);
    follow_script_interpreters(&mut request);
    let program = request.program;
    transit_translator::cpu::features::present(request.cpu.unwrap_or(transit_translator::cpu::features::CpuLevel::DEFAULT));
    transit_translator::frontend::decode::set_table_builder(startup_arena::build_decoder_tables);
    persistent_cache::configure(request.secure);
    let prog = loader::load(&program, request.exec_fd, request.rootfs.as_deref())?;
    // Absolute, so that a child started after a chdir finds the same files.
    let absolute = |path: Option<PathBuf>| path.map(|p| std::path::absolute(&p).unwrap_or(p));
    let strace = request.strace.map(|output| match output {
        StraceOutput::File(path) => StraceOutput::File(std::path::absolute(&path).unwrap_or(path)),
        stderr => stderr,
    });
    if let Some(output) = &strace {
        transit_syscalls::strace::enable(output.clone());
    }
    if request.perf_map {
        perf_map::enable(&prog, request.rootfs.as_deref());
    }
    let transit = TransitCommand {
        exe: std::fs::read_link("/proc/self/exe").unwrap_or_default(),
        rootfs: absolute(request.rootfs),
        process_log: absolute(request.process_log),
        cpu: request.cpu,
        stats: request.stats,
        perf_map: request.perf_map,
        strace,
        by_binfmt_misc: request.by_binfmt_misc,
        x86_memory_order: request.x86_memory_order,
    };
    if let Some(log) = &transit.process_log {
        record_start(log, &program);
    }
    let guarded = memory::map_anywhere(stack::STACK_GUARD_GAP + stack::STACK_SIZE).map_err(|e| LoadError::Map { addr: 0, source: e })?;
    // No ELF permission bits: PROT_NONE.
    memory::protect(guarded, stack::STACK_GUARD_GAP, 0).map_err(|e| LoadError::Map { addr: guarded, source: e })?;
    let stack = guarded + stack::STACK_GUARD_GAP;
    let argv0 = request.argv0.unwrap_or_else(|| program.clone().into_os_string());
    let mut argv: Vec<Vec<u8>> = vec![argv0.into_vec()];
    argv.extend(request.args.into_iter().map(OsStringExt::into_vec));
    let envp: Vec<&[u8]> = environment()
        // How an exec through binfmt_misc passed the filters: not the program's.
        .filter(|e| e.strip_prefix(transit_syscalls::seccomp::ENV.as_bytes()).is_none_or(|rest| rest.first() != Some(&b'=')))
        .collect();
    let process = stack::ProcessStart { argv: &argv, envp: &envp, execfn: program.as_os_str().as_bytes(), secure: request.secure };
    let rsp = stack::build(stack + stack::STACK_SIZE, &prog, &process);
    tracing::debug!(entry = format_args!("{:#x}", prog.start()), rsp = format_args!("{rsp:#x}"), "starting guest");
    let inherited = signals::inherited().union(request.signals);
    if let Some(filters) = &request.seccomp {
        if let Err(e) = transit_syscalls::seccomp::inherit(filters) {
            // Never run the program unfiltered: a usage error (clap's status).
            eprintln!("transit: --seccomp: {e}");
            std::process::exit(2);
        }
    }
    if let Some(port) = request.gdb {
        if let Err(e) = gdb::wait_for_gdb(port) {
            eprintln!("transit: cannot wait for gdb on port {port}: {e}");
            // Next to LoadError's statuses (README): not the guest's doing.
            std::process::exit(119);
        }
    }
    runtime::run(&prog, stack..stack + stack::STACK_SIZE, rsp, transit, inherited).map_err(|e| LoadError::Map { addr: 0, source: e })
}

/// The kernel names a process after the file it executed (its comm: what
/// /proc/PID/comm, ps and top show); for Transit's execve that was Transit.
/// Like execve, the name is the file name's last component, cut to 15 bytes.
/// Transit's environment as the C library holds it ("NAME=value" each;
/// entries without a name, or without '=', skipped as `std::env::vars_os`
/// does), borrowed: copying each variable twice cost a start-up about 80 K
/// instructions in the allocator.
fn environment() -> impl Iterator<Item = &'static [u8]> {
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    // SAFETY: environ is a null-terminated array of C strings; nothing
    // changes the environment while the guest's start is built.
    let mut at = unsafe { environ };
    std::iter::from_fn(move || {
        if at.is_null() {
            return None;
        }
        // SAFETY: `at` points into the array, before or at its terminator.
        let entry = unsafe { *at };
        if entry.is_null() {
            return None;
        }
        // SAFETY: as above.
        at = unsafe { at.add(1) };
        // SAFETY: a C string of the environment, which lives as long as the process.
        Some(unsafe { std::ffi::CStr::from_ptr(entry) }.to_bytes())
    })
    .filter(|e| e.iter().skip(1).any(|&b| b == b'='))
}

fn set_command_name(program: &std::path::Path) {
    let Some(name) = program.file_name() else { return };
    let mut comm = [0u8; 16];
    let bytes = name.as_bytes();
    let n = bytes.len().min(15);
    comm[..n].copy_from_slice(&bytes[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, comm.as_ptr()) };
}

/// `transit SCRIPT ARGS` runs the script's `#!` interpreter as the kernel
/// would (binfmt_script): `INTERP [ARG] SCRIPT ARGS`, the interpreter found
/// in the root filesystem first, up to the kernel's five levels. Anything
/// else is left to the loader, which says what is wrong with the file.
fn follow_script_interpreters(request: &mut RunRequest) {
    const MAX_DEPTH: usize = 5;
    if request.exec_fd.is_some() {
        return;
    }
    for _ in 0..MAX_DEPTH {
        let host = transit_syscalls::guest_path_to_host(request.rootfs.as_deref(), &request.program);
        let mut start = [0u8; 256];
        let Ok(n) = std::fs::File::open(&host).and_then(|mut f| std::io::Read::read(&mut f, &mut start)) else { return };
        let Some((interp, arg)) = transit_syscalls::script_interpreter(&start[..n]) else { return };
        let script = std::mem::replace(&mut request.program, PathBuf::from(std::ffi::OsString::from_vec(interp.clone())));
        let mut args: Vec<std::ffi::OsString> = arg.into_iter().map(std::ffi::OsString::from_vec).collect();
        args.push(script.into_os_string());
        args.append(&mut request.args);
        request.args = args;
        request.argv0 = Some(std::ffi::OsString::from_vec(interp));
    }
}

/// Appends "PID PROGRAM" to the process log in one write, so that lines of
/// concurrent processes never interleave. Failing to log does not stop the guest.
fn record_start(log: &std::path::Path, program: &std::path::Path) {
    use std::io::Write;
    let mut line = format!("{} ", std::process::id()).into_bytes();
    line.extend_from_slice(program.as_os_str().as_bytes());
    line.push(b'\n');
    let written = std::fs::OpenOptions::new().append(true).create(true).open(log).and_then(|mut f| f.write_all(&line));
    if let Err(e) = written {
        tracing::warn!("cannot append to the process log {}: {e}", log.display());
    }
}

fn main() {
    let start = KernelStart::of_this_process();
    let request = match Invocation::parse(std::env::args_os().collect(), start, |name: &str| std::env::var_os(name)) {
        Ok(Invocation::Run(request)) => request,
        Ok(Invocation::Binfmt(args)) => std::process::exit(transit_binfmt::cli::main(args)),
        // `transit mirror ...` is a command of its own (binfmt/src/mirror/).
        Ok(Invocation::Mirror(args)) => std::process::exit(transit_binfmt::mirror::main(args)),
        Ok(Invocation::Cache(args)) => std::process::exit(persistent_cache::command(&args, start.secure)),
        Ok(Invocation::PackageFiles(root)) => std::process::exit(match package_files::write(&root) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("transit --package-files: {e}");
                1
            }
        }),
        Err(e) => e.exit(),
    };
    init_logging(request.secure);
    match run(request) {
        // At once, as exit_group does: other guest threads may still be
        // running, and must not watch libc's exit handlers tear down what
        // they use.
        // SAFETY: ends the process; nothing is left to flush.
        Ok(runtime::Ending::Exit(status)) => unsafe { libc::_exit(status) },
        Ok(runtime::Ending::Signal(sig)) => die_by_signal(sig),
        Err(e) => {
            eprintln!("transit: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
