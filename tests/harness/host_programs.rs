//! Host programs (Debian's amd64 packages, language runtimes) run natively
//! and under Transit with the same arguments and stdin; stdout, stderr and
//! the exit status must be identical. Needs an x86_64 host: the program and
//! the native reference are the host's own.
//!
//! Every Transit run also writes the process log (`TRANSIT_PROCESS_LOG`),
//! and the programs it names are counted: a program that ran one of its
//! children natively would print the same output but leave a line out.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::outcome::Outcome;
use crate::process;
use crate::transit::Transit;
use crate::{host_runs_x86_64, work_dir};

/// Progress lines show this much of each command (failures show all of it).
const SUMMARY_CHARS: usize = 100;

/// One invocation: a program, its arguments and stdin, and how many times
/// each program (by file name) must appear in the process log. With an
/// inputs directory, `{in}` in an argument stands for it. The program runs
/// in a fresh directory of its own (process::run), where it may write.
pub struct Run {
    pub program: PathBuf,
    args: Vec<String>,
    inputs: Option<PathBuf>,
    stdin: Vec<u8>,
    translated: BTreeMap<String, usize>,
}

impl Run {
    /// A run whose only translated program is `program` itself.
    pub fn new(program: &str, args: &[&str]) -> Run {
        let program = PathBuf::from(program);
        Run {
            translated: BTreeMap::from([(file_name(&program), 1)]),
            program,
            args: args.iter().map(|arg| arg.to_string()).collect(),
            inputs: None,
            stdin: Vec::new(),
        }
    }

    /// `{in}` in the arguments, and `stdin_file`'s names, refer to `dir`.
    pub fn inputs(mut self, dir: &Path) -> Run {
        self.inputs = Some(dir.to_path_buf());
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> Run {
        self.stdin = bytes.to_vec();
        self
    }

    /// Standard input from one of the files in the inputs directory.
    pub fn stdin_file(self, name: &str) -> Run {
        let dir = self.inputs.as_ref().expect("stdin_file needs Run::inputs");
        let path = dir.join(name);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("cannot read input {}: {e}", path.display()));
        self.stdin(&bytes)
    }

    /// The programs the process log must name, each with its count.
    pub fn translated(mut self, counts: &[(&str, usize)]) -> Run {
        self.translated = counts
            .iter()
            .map(|&(name, count)| (name.to_string(), count))
            .collect();
        self
    }

    /// The arguments, with `{in}` replaced.
    fn args(&self) -> Vec<String> {
        match &self.inputs {
            Some(dir) => {
                let dir = dir.to_string_lossy();
                self.args.iter().map(|arg| arg.replace("{in}", &dir)).collect()
            }
            None => self.args.clone(),
        }
    }

    /// The command, quoted well enough for a person to paste into a shell.
    fn command_line(&self) -> String {
        quoted_command(&self.program, &self.args(), self.stdin.len())
    }

    /// The command on one line of at most `SUMMARY_CHARS`, with `{in}` for
    /// the inputs directory: for the progress lines.
    fn summary(&self) -> String {
        let line = quoted_command(&self.program, &self.args, self.stdin.len());
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        match line.char_indices().nth(SUMMARY_CHARS) {
            Some((end, _)) => format!("{}...", &line[..end]),
            None => line,
        }
    }

    fn native_command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(self.args());
        command
    }
}

fn quoted_command(program: &Path, args: &[String], stdin_len: usize) -> String {
    let mut line = program.display().to_string();
    for arg in args {
        if !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./,=@+%:".contains(c))
        {
            write!(line, " {arg}").unwrap();
        } else {
            write!(line, " '{}'", arg.replace('\'', "'\\''")).unwrap();
        }
    }
    if stdin_len > 0 {
        write!(line, " < ({stdin_len} bytes of stdin)").unwrap();
    }
    line
}

/// Where a suite's runs go and how long they may take.
pub struct Comparison {
    /// The suite's folder under `work_dir`.
    pub work_dir: &'static str,
    /// Only guards against a hang: native runs take seconds at most.
    pub native_timeout: Duration,
    /// Transit may itself run under an emulator: generous, but bounded.
    pub transit_timeout: Duration,
}

impl Comparison {
    /// Runs every invocation natively and under Transit and fails with
    /// every difference found. Skips, saying so, on hosts that are not
    /// x86_64 (there is no native reference there).
    pub fn check(&self, what: &str, runs: &[Run]) {
        if !host_runs_x86_64() {
            println!(
                "{what}: skipped, the host's amd64 programs and the native reference need an x86_64 host"
            );
            return;
        }
        let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
        transit.require_exec_self();
        let mut failures = Vec::new();
        for (index, run) in runs.iter().enumerate() {
            let start = Instant::now();
            let problems = self.compare(&transit, what, index, run);
            println!(
                "{:4} {what}: {} ({:.1} s)",
                if problems.is_empty() { "ok" } else { "FAIL" },
                run.summary(),
                start.elapsed().as_secs_f64()
            );
            if !problems.is_empty() {
                failures.push(format!(
                    "{} (run {index} of {what})\n  $ {}\n  {}",
                    run.program.display(),
                    run.command_line(),
                    problems.join("\n  ")
                ));
            }
        }
        if !failures.is_empty() {
            panic!(
                "{} of {} {what} runs did not match (run directories: {}):\n\n{}",
                failures.len(),
                runs.len(),
                work_dir(self.work_dir).display(),
                failures.join("\n\n")
            );
        }
    }

    /// Everything that differs between the native and the translated run;
    /// empty when they match.
    fn compare(&self, transit: &Transit, what: &str, index: usize, run: &Run) -> Vec<String> {
        if !run.program.is_file() {
            return vec![format!(
                "{} is not installed (`cargo xtask test` installs the Debian packages the suite needs)",
                run.program.display()
            )];
        }
        let run_dir = work_dir(self.work_dir)
            .join(what.replace(|c: char| !c.is_ascii_alphanumeric(), "-"))
            .join(index.to_string());
        let native = match process::run_native(
            run.native_command(),
            &run.stdin,
            &run_dir.join("native"),
            self.native_timeout,
        ) {
            Ok(native) => native,
            Err(problem) => return vec![problem],
        };

        let log = run_dir.join("process.log");
        let translated_dir = run_dir.join("transit");
        // process::run empties the run directory it is given, not its parent.
        let _ = std::fs::remove_file(&log);
        let translated = match process::run_with_env(
            transit.command(&run.program, &run.args()),
            &[("TRANSIT_PROCESS_LOG", log.as_os_str())],
            &run.stdin,
            &translated_dir,
            self.transit_timeout,
        ) {
            Ok(outcome) => Outcome {
                stderr: transit.strip_runner_messages(outcome.stderr),
                ..outcome
            },
            Err(error) => return vec![format!("cannot run Transit: {error}")],
        };
        let mut problems = translated.differences(&native, "native", "transit");
        let started = programs_in_log(&log);
        if started != run.translated {
            problems.push(format!(
                "process log {}: expected {:?}, found {:?}",
                log.display(),
                run.translated,
                started
            ));
        }
        problems
    }
}

/// How many lines of the process log name each program (by file name).
fn programs_in_log(log: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let program = line.split_once(' ').map_or("", |(_pid, program)| program);
        *counts.entry(file_name(Path::new(program))).or_default() += 1;
    }
    counts
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned())
}
