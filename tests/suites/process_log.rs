//! Children of a translated program run under Transit, not natively: with
//! `TRANSIT_PROCESS_LOG` set, every Transit process appends "PID PROGRAM"
//! to the log when it starts, so the log counts the translated programs.
//! An execve that ran an x86_64 child natively (possible on an x86_64 host)
//! would print the same output but leave a line out; an aarch64 program
//! must run directly, leaving no line. The programs' output itself is
//! checked against native runs by the `programs` suite.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use transit_tests::catalog::{self, Program};
use transit_tests::outcome::{Outcome, Termination};
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;
use transit_tests::{process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(120);

/// One line of the log.
#[derive(Debug)]
struct Started {
    pid: u32,
    program: PathBuf,
}

impl Started {
    fn name(&self) -> String {
        self.program
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned())
    }
}

/// Builds test program `name` and runs it under Transit with `args` and the
/// process log on; returns its outcome and the log.
fn run_logged(name: &str, args: &[String]) -> (PathBuf, Outcome, Vec<Started>) {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    transit.require_exec_self();
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let program: &Program = programs
        .iter()
        .find(|program| program.name == name)
        .unwrap_or_else(|| panic!("no test program {name}"));
    let variant = toolchain
        .variants()
        .next()
        .expect("every host has a variant");
    let binary = toolchain
        .build(program, variant)
        .unwrap_or_else(|e| panic!("{e}"));

    let run_dir = work_dir("process-log").join(name);
    let log = work_dir("process-log").join(format!("{name}.log"));
    std::fs::create_dir_all(log.parent().unwrap()).expect("can create the log directory");
    let _ = std::fs::remove_file(&log);
    let outcome = process::run_with_env(
        transit.command(&binary, args),
        &[("TRANSIT_PROCESS_LOG", log.as_os_str())],
        &program.stdin,
        &run_dir,
        TIMEOUT,
    )
    .expect("can start Transit");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines = text
        .lines()
        .map(|line| {
            let (pid, program) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("malformed log line `{line}`"));
            Started {
                pid: pid
                    .parse()
                    .unwrap_or_else(|_| panic!("malformed pid in `{line}`")),
                program: program.into(),
            }
        })
        .collect();
    assert_eq!(
        outcome.termination,
        Termination::Exited(0),
        "{name} under Transit; stderr:\n{}",
        String::from_utf8_lossy(&outcome.stderr)
    );
    (binary, outcome, lines)
}


/// How many lines name each program (by file name).
fn counts(lines: &[Started]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in lines {
        *counts.entry(line.name()).or_default() += 1;
    }
    counts
}

fn expect(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs
        .iter()
        .map(|&(name, n)| (name.to_string(), n))
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
}

#[test]
fn an_execve_chain_stays_in_one_translated_process() {
    let (binary, _, lines) = run_logged("exec_chain", &[]);
    // Steps 0..=4: by path, /proc/self/exe, fexecve, execveat.
    assert_eq!(lines.len(), 5, "one line per program started: {lines:?}");
    assert!(
        lines.iter().all(|line| line.pid == lines[0].pid),
        "execve keeps the pid: {lines:?}"
    );
    assert!(
        lines.iter().all(|line| same_file(&line.program, &binary)),
        "every step runs the test program: {lines:?}"
    );
}

#[test]
fn shells_and_commands_spawned_by_a_guest_are_translated() {
    let (_, _, lines) = run_logged("spawn_shell", &[]);
    // posix_spawn of echo; posix_spawnp, system, popen twice run sh; the
    // last popen's shell execs cat.
    assert_eq!(
        counts(&lines),
        expect(&[("spawn_shell", 1), ("echo", 1), ("sh", 4), ("cat", 1)]),
        "{lines:?}"
    );
}

#[test]
fn script_interpreters_are_translated() {
    let (_, _, lines) = run_logged("exec_script", &[]);
    // Two /bin/sh scripts; three runs with the program as interpreter.
    assert_eq!(
        counts(&lines),
        expect(&[("exec_script", 4), ("sh", 2)]),
        "{lines:?}"
    );
}

#[test]
fn forked_children_are_the_same_translated_program() {
    let (_, _, lines) = run_logged("fork_wait", &[]);
    assert_eq!(
        counts(&lines),
        expect(&[("fork_wait", 1)]),
        "fork starts no new program: {lines:?}"
    );
}

#[test]
fn an_aarch64_program_runs_directly() {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let args = [
        transit.binary.to_string_lossy().into_owned(),
        "--version".to_string(),
    ];
    let (_, outcome, lines) = run_logged("exec_argv", &args);
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    assert!(
        stdout.starts_with("transit "),
        "the aarch64 program ran and printed its version: {stdout}"
    );
    assert_eq!(
        counts(&lines),
        expect(&[("exec_argv", 1)]),
        "only the x86_64 program is translated: {lines:?}"
    );
}
