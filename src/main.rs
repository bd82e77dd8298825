//! `transit [OPTIONS] PROGRAM [ARGS...]`: run an x86_64 Linux program.

mod error;
mod loader;
mod memory;
mod rootfs;
mod runtime;
mod signals;
mod threads;
mod stack;

use clap::Parser;
use error::LoadError;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use transit_syscalls::TransitCommand;

#[derive(Parser, Debug)]
#[command(name = "transit", version, about = "Run x86_64 Linux programs on aarch64")]
struct Cli {
    /// x86_64 root filesystem searched first for the dynamic loader and
    /// absolute paths (like qemu-user's -L).
    #[arg(short = 'L', long = "rootfs", env = "TRANSIT_ROOTFS", value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// Append "PID PROGRAM" to FILE when the program starts: a record of
    /// every program Transit ran, children included.
    #[arg(long = "process-log", env = "TRANSIT_PROCESS_LOG", value_name = "FILE")]
    process_log: Option<PathBuf>,
    /// The program's argv[0], if not PROGRAM itself (like qemu-user's -0).
    /// A guest execve passes it: see `TransitCommand::argv` in the syscalls crate.
    #[arg(short = '0', long = "argv0", value_name = "ARG0")]
    argv0: Option<OsString>,
    /// The x86_64 program to run, then its arguments. Everything from the
    /// program on belongs to the guest, options like --version included.
    #[arg(value_name = "PROGRAM [ARGS]", required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<OsString>,
}

fn init_logging() {
    // TRANSIT_LOG=debug (or any tracing filter) explains what happens, on
    // stderr. Without it no subscriber is installed: start-up stays cheap.
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

fn run(cli: Cli) -> Result<runtime::Ending, LoadError> {
    if !cfg!(target_arch = "aarch64") {
        return Err(LoadError::WrongHost);
    }
    let mut command = cli.command.into_iter();
    let program = PathBuf::from(command.next().expect("clap requires the program"));
    let prog = loader::load(&program, cli.rootfs.as_deref())?;
    // Absolute, so that a child started after a chdir finds the same files.
    let absolute = |path: Option<PathBuf>| path.map(|p| std::path::absolute(&p).unwrap_or(p));
    let transit = TransitCommand {
        exe: std::fs::read_link("/proc/self/exe").unwrap_or_default(),
        rootfs: absolute(cli.rootfs),
        process_log: absolute(cli.process_log),
    };
    if let Some(log) = &transit.process_log {
        record_start(log, &program);
    }
    let stack = memory::map_anywhere(stack::STACK_SIZE).map_err(|e| LoadError::Map { addr: 0, source: e })?;
    let argv0 = cli.argv0.unwrap_or_else(|| program.clone().into_os_string());
    let mut argv: Vec<Vec<u8>> = vec![argv0.into_vec()];
    argv.extend(command.map(OsStringExt::into_vec));
    let envp: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.into_vec();
            e.push(b'=');
            e.extend(v.into_vec());
            e
        })
        .collect();
    let rsp = stack::build(stack + stack::STACK_SIZE, &prog, &argv, &envp, program.as_os_str().as_bytes());
    tracing::debug!(entry = format_args!("{:#x}", prog.start()), rsp = format_args!("{rsp:#x}"), "starting guest");
    runtime::run(&prog, rsp, transit).map_err(|e| LoadError::Map { addr: 0, source: e })
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
    // `transit mirror ...` is a command of its own (binfmt/src/mirror/).
    if std::env::args_os().nth(1).is_some_and(|arg| arg == "mirror") {
        std::process::exit(transit_binfmt::mirror::main(std::env::args_os().skip(1)));
    }
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(runtime::Ending::Exit(status)) => std::process::exit(status),
        Ok(runtime::Ending::Signal(sig)) => die_by_signal(sig),
        Err(e) => {
            eprintln!("transit: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
