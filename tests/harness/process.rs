//! Running one invocation of a program: fixed environment, a fresh current
//! directory, stdin from bytes, stdout and stderr captured to files (no pipe
//! can fill up and stall the child), and a deadline.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::catalog::GUEST_ENV;
use crate::outcome::{Outcome, Termination};

/// A program that prints more than this is stopped: it has gone wrong, and
/// the disk should not pay for it.
const OUTPUT_LIMIT_BYTES: u64 = 64 << 20;

/// Runs `command` inside `run_dir` (wiped first; left behind for
/// inspection), with the guest environment and `stdin` as standard input.
pub fn run(
    command: Command,
    stdin: &[u8],
    run_dir: &Path,
    timeout: Duration,
) -> io::Result<Outcome> {
    run_with_env(command, &[], stdin, run_dir, timeout)
}

/// `run` for the native reference run, which must end by itself (an exit
/// or a signal; not a timeout or an output overflow). The error is the
/// one-line problem to report.
pub fn run_native(
    command: Command,
    stdin: &[u8],
    run_dir: &Path,
    timeout: Duration,
) -> Result<Outcome, String> {
    let native = run(command, stdin, run_dir, timeout).map_err(|error| format!("cannot run natively: {error}"))?;
    match native.termination {
        Termination::Exited(_) | Termination::Signaled(_) => Ok(native),
        other => Err(format!("the native run itself failed: {other}")),
    }
}

/// `run` with variables added to the guest environment.
pub fn run_with_env(
    mut command: Command,
    extra_env: &[(&str, &OsStr)],
    stdin: &[u8],
    run_dir: &Path,
    timeout: Duration,
) -> io::Result<Outcome> {
    match std::fs::remove_dir_all(run_dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let cwd = run_dir.join("cwd");
    std::fs::create_dir_all(&cwd)?;
    let (stdin_path, stdout_path, stderr_path) = (
        run_dir.join("stdin"),
        run_dir.join("stdout"),
        run_dir.join("stderr"),
    );
    std::fs::write(&stdin_path, stdin)?;

    command
        .env_clear()
        .envs(GUEST_ENV.iter().copied())
        .envs(extra_env.iter().copied())
        .current_dir(&cwd)
        .stdin(File::open(&stdin_path)?)
        .stdout(File::create(&stdout_path)?)
        .stderr(File::create(&stderr_path)?);
    disable_core_dumps(&mut command);

    let mut child = command.spawn()?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let termination = loop {
        if let Some(status) = child.try_wait()? {
            break termination_of(status);
        }
        let output_size =
            std::fs::metadata(&stdout_path)?.len() + std::fs::metadata(&stderr_path)?.len();
        let verdict = if output_size > OUTPUT_LIMIT_BYTES {
            Some(Termination::OutputLimitExceeded)
        } else if Instant::now() >= deadline {
            Some(Termination::TimedOut)
        } else {
            None
        };
        if let Some(verdict) = verdict {
            child.kill()?;
            child.wait()?;
            break verdict;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    };
    Ok(Outcome {
        termination,
        stdout: std::fs::read(&stdout_path)?,
        stderr: std::fs::read(&stderr_path)?,
    })
}

fn termination_of(status: ExitStatus) -> Termination {
    match (status.code(), status.signal()) {
        (Some(code), _) => Termination::Exited(code),
        (None, Some(signal)) => Termination::Signaled(signal),
        (None, None) => {
            unreachable!("a waited-for process either exited or was killed by a signal")
        }
    }
}

/// Programs that die by a signal would otherwise leave core files in their
/// run directory, natively and under Transit alike.
fn disable_core_dumps(command: &mut Command) {
    // SAFETY: the closure runs between fork and exec, where only
    // async-signal-safe functions may be called; setrlimit is one.
    unsafe {
        command.pre_exec(|| {
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::setrlimit(libc::RLIMIT_CORE, &none) == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
    }
}
