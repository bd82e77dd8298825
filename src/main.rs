//! `transit [OPTIONS] PROGRAM [ARGS...]`: run an x86_64 Linux program
//! (also when the kernel starts Transit through binfmt_misc: `invocation`).
//! `transit binfmt install|uninstall|status`: the `transit-binfmt` crate.
// Off aarch64 Transit builds (for the benches) but runs no guest, so the
// signal machinery is left unused there.
#![cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]

mod error;
mod invocation;
mod loader;
mod memory;
mod rootfs;
mod runtime;
mod signals;
mod threads;
mod stack;

use error::LoadError;
use invocation::{Invocation, KernelStart, RunRequest};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
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
    let program = request.program;
    transit_translator::features::present(request.cpu.unwrap_or(transit_translator::features::CpuLevel::DEFAULT));
    let prog = loader::load(&program, request.exec_fd, request.rootfs.as_deref())?;
    // Absolute, so that a child started after a chdir finds the same files.
    let absolute = |path: Option<PathBuf>| path.map(|p| std::path::absolute(&p).unwrap_or(p));
    let transit = TransitCommand {
        exe: std::fs::read_link("/proc/self/exe").unwrap_or_default(),
        rootfs: absolute(request.rootfs),
        process_log: absolute(request.process_log),
        cpu: request.cpu,
        stats: request.stats,
        by_binfmt_misc: request.by_binfmt_misc,
    };
    if let Some(log) = &transit.process_log {
        record_start(log, &program);
    }
    let stack = memory::map_anywhere(stack::STACK_SIZE).map_err(|e| LoadError::Map { addr: 0, source: e })?;
    let argv0 = request.argv0.unwrap_or_else(|| program.clone().into_os_string());
    let mut argv: Vec<Vec<u8>> = vec![argv0.into_vec()];
    argv.extend(request.args.into_iter().map(OsStringExt::into_vec));
    let envp: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.into_vec();
            e.push(b'=');
            e.extend(v.into_vec());
            e
        })
        .collect();
    let process = stack::ProcessStart { argv: &argv, envp: &envp, execfn: program.as_os_str().as_bytes(), secure: request.secure };
    let rsp = stack::build(stack + stack::STACK_SIZE, &prog, &process);
    tracing::debug!(entry = format_args!("{:#x}", prog.start()), rsp = format_args!("{rsp:#x}"), "starting guest");
    let inherited = signals::inherited().union(request.signals);
    runtime::run(&prog, rsp, transit, inherited).map_err(|e| LoadError::Map { addr: 0, source: e })
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
