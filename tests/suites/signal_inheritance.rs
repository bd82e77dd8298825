//! Signal dispositions and masks are inherited exactly: by the guest from
//! Transit's parent, and across every execve of the guest. Each run is made
//! natively and under Transit from the same parent state (the harness sets
//! it between fork and exec), once with nothing ignored or blocked and once
//! with SIGPIPE and SIGSEGV ignored and SIGBUS blocked, as `nohup` or a
//! shell's `trap '' PIPE` would leave them; stdout, stderr and the exit
//! status must be identical, and the process log must name every program
//! that ran, so none of them ran natively.
//!
//! - `exec_signals` (tests/programs/process/) prints what it inherited, then
//!   ignores, blocks and catches signals, Transit's own fault signals among
//!   them, and executes itself twice; once more with its second execve
//!   running Transit's own executable as a native program, so that the
//!   kernel completes that execve, not Transit.
//! - `exec_pending` (tests/programs/process/) executes itself with signals
//!   pending, Transit's own SIGTRAP among them; once more through Transit's
//!   own executable as a native program.
//! - bash pipelines where SIGPIPE decides the result: `yes | head -1`
//!   (natively `yes` dies by SIGPIPE, status 141; with SIGPIPE ignored it
//!   reports EPIPE and exits 1).
//!
//! The native reference needs an x86_64 host (and Debian's bash, yes and
//! head); elsewhere the tests say they are skipped.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use transit_tests::catalog;
use transit_tests::outcome::Outcome;
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;
use transit_tests::{host_runs_x86_64, process, work_dir};

/// Native runs take milliseconds; Transit under qemu a few seconds.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The signal state a run starts with.
#[derive(Clone, Copy)]
struct ParentState {
    name: &'static str,
    ignored: &'static [i32],
    blocked: &'static [i32],
}

const NOTHING_SET: ParentState = ParentState { name: "default", ignored: &[], blocked: &[] };
const IGNORING: ParentState = ParentState {
    name: "ignoring",
    ignored: &[libc::SIGPIPE, libc::SIGSEGV],
    blocked: &[libc::SIGBUS],
};

impl ParentState {
    /// Makes `command`'s child start in this state. std resets SIGPIPE and
    /// the mask in the child before it runs `pre_exec` hooks.
    fn apply(self, command: &mut Command) {
        // SAFETY: between fork and exec only async-signal-safe calls run:
        // signal and sigprocmask are.
        unsafe {
            command.pre_exec(move || {
                for &sig in self.ignored {
                    if libc::signal(sig, libc::SIG_IGN) == libc::SIG_ERR {
                        return Err(io::Error::last_os_error());
                    }
                }
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                for &sig in self.blocked {
                    libc::sigaddset(&mut set, sig);
                }
                match libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) {
                    0 => Ok(()),
                    _ => Err(io::Error::last_os_error()),
                }
            });
        }
    }
}

#[test]
fn exec_signals_from_a_default_parent() {
    check_exec_signals(NOTHING_SET, "step 0, started: ignored -; caught -; blocked -");
}

#[test]
fn exec_signals_from_a_parent_ignoring_sigpipe_and_sigsegv() {
    check_exec_signals(IGNORING, "step 0, started: ignored 11 13; caught -; blocked 7");
}

#[test]
fn exec_signals_through_a_native_program() {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let launcher = ["0".to_string(), transit.binary.to_string_lossy().into_owned()];
    check_exec_signals_with(IGNORING, "step 0, started: ignored 11 13; caught -; blocked 7", &launcher);
}

#[test]
fn pending_signals_across_execve() {
    check_program(NOTHING_SET, ("exec_pending", 2), "fault signals blocked: pending", &[]);
}

#[test]
fn pending_signals_across_an_execve_the_kernel_completes() {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let launcher = [transit.binary.to_string_lossy().into_owned()];
    check_program(NOTHING_SET, ("exec_pending", 2), "fault signals blocked: pending", &launcher);
}

#[test]
fn bash_pipelines_from_a_default_parent() {
    check_pipelines(NOTHING_SET, "PIPESTATUS 141 0");
}

#[test]
fn bash_pipelines_from_a_parent_ignoring_sigpipe() {
    check_pipelines(IGNORING, "PIPESTATUS 1 0");
}

/// `exec_signals` natively and under Transit; the native run's first line
/// must be `first_line`, which proves the parent state reached it.
fn check_exec_signals(state: ParentState, first_line: &str) {
    check_exec_signals_with(state, first_line, &[]);
}

/// `check_exec_signals` with `transit_args` for the run under Transit.
fn check_exec_signals_with(state: ParentState, first_line: &str, transit_args: &[String]) {
    check_program(state, ("exec_signals", 3), first_line, transit_args);
}

/// Test program `name`, which executes itself (through the launcher its
/// arguments name, if any) to run `runs` times in all, natively with no
/// arguments and under Transit with `transit_args`; the native run's first
/// line must be `first_line`.
fn check_program(state: ParentState, (name, runs): (&str, usize), first_line: &str, transit_args: &[String]) {
    if !host_runs_x86_64() {
        println!("{name}: skipped, the native reference needs an x86_64 host");
        return;
    }
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let program = programs.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no test program {name}"));
    let variant = toolchain.variants().next().expect("every host has a variant");
    let binary = toolchain.build(program, variant).unwrap_or_else(|e| panic!("{e}"));
    let run_name = format!("{name}-{}{}", state.name, if transit_args.is_empty() { "" } else { "-launched" });
    let native = compare(&run_name, state, &binary, &[], transit_args, &[(name, runs)]);
    let stdout = String::from_utf8_lossy(&native.stdout);
    assert_eq!(stdout.lines().next(), Some(first_line), "the native run did not start in the parent state");
}

/// Shell pipelines whose outcome SIGPIPE decides, and what their status is.
const PIPELINES: &[&str] = &[
    "yes | head -1",
    "set -o pipefail; yes | head -1; echo \"pipefail status $?\"",
    "yes | head -1; echo \"PIPESTATUS ${PIPESTATUS[*]}\"",
    // The writer sees EPIPE, reports it and exits 1.
    "trap '' PIPE; yes | head -1; echo \"PIPESTATUS ${PIPESTATUS[*]}\"",
    // A signal ignored on entry to a non-interactive shell stays ignored.
    "trap - PIPE; yes | head -1; echo \"PIPESTATUS ${PIPESTATUS[*]}\"; trap -p",
];

/// Every pipeline natively and under Transit; the native PIPESTATUS line
/// must be `native_status`, which proves the parent state reached it.
fn check_pipelines(state: ParentState, native_status: &str) {
    let bash = Path::new("/usr/bin/bash");
    if !host_runs_x86_64() || !bash.is_file() {
        println!("bash pipelines: skipped, the native reference needs an x86_64 host with Debian's bash");
        return;
    }
    for (index, script) in PIPELINES.iter().enumerate() {
        let name = format!("bash-{}-{index}", state.name);
        let args = ["-c".to_string(), script.to_string()];
        let native = compare(&name, state, bash, &args, &args, &[("bash", 1), ("yes", 1), ("head", 1)]);
        if index == 2 {
            let stdout = String::from_utf8_lossy(&native.stdout);
            assert!(stdout.contains(native_status), "{script} natively: {stdout}");
        }
    }
}

/// Runs `program` natively with `args` and under Transit with
/// `transit_args`, from `state`; panics with the differences, or when the
/// process log does not count `translated`. Returns the native outcome.
fn compare(name: &str, state: ParentState, program: &Path, args: &[String], transit_args: &[String], translated: &[(&str, usize)]) -> Outcome {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    transit.require_exec_self();
    let run_dir = work_dir("signal-inheritance").join(name);
    let mut command = Command::new(program);
    command.args(args);
    state.apply(&mut command);
    let native = process::run_native(command, &[], &run_dir.join("native"), TIMEOUT).unwrap_or_else(|e| panic!("{name}: {e}"));

    let log = run_dir.join("process.log");
    let _ = std::fs::remove_file(&log);
    let mut command = transit.command(program, transit_args);
    state.apply(&mut command);
    let outcome = process::run_with_env(command, &[("TRANSIT_PROCESS_LOG", log.as_os_str())], &[], &run_dir.join("transit"), TIMEOUT)
        .unwrap_or_else(|e| panic!("{name}: cannot run Transit: {e}"));
    let outcome = Outcome { stderr: transit.strip_runner_messages(outcome.stderr), ..outcome };
    let mut problems = outcome.differences(&native, "native", "transit");
    let expected: BTreeMap<String, usize> = translated.iter().map(|&(p, n)| (p.to_string(), n)).collect();
    let started = programs_in_log(&log);
    if started != expected {
        problems.push(format!("process log: expected {expected:?}, found {started:?}"));
    }
    assert!(problems.is_empty(), "{name}: {} {}\n  {}", program.display(), transit_args.join(" "), problems.join("\n  "));
    native
}

/// How many lines of the process log name each program (by file name).
fn programs_in_log(log: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let program = PathBuf::from(line.split_once(' ').map_or("", |(_pid, program)| program));
        let name = program.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        *counts.entry(name).or_default() += 1;
    }
    counts
}
