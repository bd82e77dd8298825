//! `transit [OPTIONS] PROGRAM [ARGS...]`: run an x86_64 Linux program.

mod error;
mod loader;
mod memory;
mod rootfs;
mod runtime;
mod stack;

use clap::Parser;
use error::LoadError;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "transit", version, about = "Run x86_64 Linux programs on aarch64")]
struct Cli {
    /// x86_64 root filesystem searched first for the dynamic loader and
    /// absolute paths (like qemu-user's -L).
    #[arg(short = 'L', long = "rootfs", env = "TRANSIT_ROOTFS", value_name = "DIR")]
    rootfs: Option<PathBuf>,
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
fn die_by_signal(signal: i32) -> ! {
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
    let stack = memory::map_anywhere(stack::STACK_SIZE).map_err(|e| LoadError::Map { addr: 0, source: e })?;
    let mut argv: Vec<Vec<u8>> = vec![program.as_os_str().as_bytes().to_vec()];
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
    runtime::run(&prog, rsp, cli.rootfs).map_err(|e| LoadError::Map { addr: 0, source: e })
}

fn main() {
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
