//! Syscall fuzzing from inside the guest: `tests/fuzz/syscall_fuzz.c`
//! (static x86_64) calls random syscalls with random arguments in batches,
//! one child process per batch, and exits 0 after the last. Run after run
//! under Transit, each with the next seed, until the time is up; a run
//! passes if Transit exits 0 as the program does and never reports a
//! failure of its own. How the batches ended (exits, signals, timeouts)
//! is the guest's business, summed up in the report.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{transit_failure, Rng};
use crate::outcome::Termination;
use crate::process;
use crate::transit::Transit;
use crate::work_dir;

/// Calls per run of the program: 32 batches of 64.
const CALLS_PER_RUN: u64 = 2048;
/// A run's limit: every batch at its deadline (3 s, syscall_fuzz.c) and more.
const RUN_TIMEOUT: Duration = Duration::from_secs(32 * 3 + 60);

#[derive(Default)]
pub struct Report {
    pub runs: usize,
    /// Syscalls started, over all runs (the program's own count).
    pub calls: u64,
    pub batches: u64,
    /// How batches ended, summed over the runs ("completed", "signal 11"...).
    pub batch_endings: BTreeMap<String, u64>,
    pub failures: Vec<String>,
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} runs, {} syscalls in {} batches, {:.1} s, {} failures",
            self.runs,
            self.calls,
            self.batches,
            self.elapsed.as_secs_f64(),
            self.failures.len()
        )?;
        for (ending, count) in &self.batch_endings {
            writeln!(f, "  {count:6} batches: {ending}")?;
        }
        for failure in &self.failures {
            writeln!(f, "FAILURE {failure}")?;
        }
        Ok(())
    }
}

/// Builds the fuzzer (static, so that no loader or libc of the host is
/// involved), cached by the source's hash.
pub fn build_program() -> Result<PathBuf, String> {
    use std::hash::{Hash, Hasher};
    let source = crate::workspace_root().join("tests/fuzz/syscall_fuzz.c");
    let text =
        std::fs::read(&source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let dir = work_dir("fuzz-syscalls")
        .join("bin")
        .join(format!("{:016x}", hasher.finish()));
    let binary = dir.join("syscall_fuzz");
    if binary.is_file() {
        return Ok(binary);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let partial = dir.join(format!("syscall_fuzz.partial-{}", std::process::id()));
    // No stack protector: a random arch_prctl(ARCH_SET_FS) must not make
    // every function return fault.
    let output = Command::new("gcc")
        .args(["-static", "-O1", "-Wall", "-fno-stack-protector", "-o"])
        .arg(&partial)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run gcc: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "gcc failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::rename(&partial, &binary)
        .map_err(|e| format!("cannot move the build into place: {e}"))?;
    Ok(binary)
}

/// Runs the fuzzer under Transit, run after run, until `duration` has
/// passed (at least one run). Run `r` uses the seed `Rng::for_input(seed, r)`.
pub fn run(transit: &Transit, seed: u64, duration: Duration) -> Report {
    let started = Instant::now();
    let program = build_program().unwrap_or_else(|e| panic!("{e}"));
    let root = work_dir("fuzz-syscalls");
    let mut report = Report::default();
    for index in 0.. {
        if index > 0 && started.elapsed() >= duration {
            break;
        }
        let run_seed = Rng::for_input(seed, index).next() >> 1;
        let run_dir = root.join("run");
        make_removable(&run_dir);
        let args = [run_seed.to_string(), CALLS_PER_RUN.to_string()];
        if index % 10 == 9 {
            eprintln!(
                "fuzz-syscalls: {} runs, {} calls, {} failures, {:.0} s",
                report.runs,
                report.calls,
                report.failures.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let env = [("TRANSIT_CACHE", OsStr::new("off"))];
        let outcome = process::run_with_env(
            transit.command(&program, &args),
            &env,
            b"",
            &run_dir,
            RUN_TIMEOUT,
        )
        .unwrap_or_else(|e| panic!("cannot start Transit: {e}"));
        report.runs += 1;
        let stdout = String::from_utf8_lossy(&outcome.stdout);
        let summary = stdout
            .lines()
            .find_map(|line| line.strip_prefix("summary: "));
        if let Some(summary) = summary {
            add_summary(&mut report, summary);
        }
        let problem = if let Some(line) = transit_failure(&outcome) {
            Some(format!("Transit failed itself: {line}"))
        } else if outcome.termination != Termination::Exited(0) || summary.is_none() {
            Some(format!(
                "the program ended with {} (expected exit 0 after its summary)",
                outcome.termination
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            let kept = root.join("failures").join(format!("seed{seed}-run{index}"));
            make_removable(&kept);
            let _ = std::fs::remove_dir_all(&kept);
            let _ = std::fs::create_dir_all(kept.parent().expect("has a parent"));
            let _ = std::fs::rename(&run_dir, &kept);
            report.failures.push(format!(
                "seed {seed} run {index}: {problem}\n  reproduce: {} {} {} (add a batch number to run that batch alone, each call printed)\n  last batches:\n{}\n  stderr (end):\n{}\n  kept in {}",
                transit.runner.iter().map(String::as_str).chain([transit.binary.to_str().unwrap_or("TRANSIT")]).collect::<Vec<_>>().join(" "),
                program.display(),
                args.join(" "),
                tail(&stdout, 6),
                tail(&String::from_utf8_lossy(&outcome.stderr), 12),
                kept.display()
            ));
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// Adds `calls N batches N completed N exited N timeouts N stopped N signals S:N...`.
fn add_summary(report: &mut Report, summary: &str) {
    let words: Vec<&str> = summary.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let number = |j: usize| {
            words
                .get(j)
                .and_then(|w| w.parse::<u64>().ok())
                .unwrap_or(0)
        };
        match words[i] {
            "calls" => report.calls += number(i + 1),
            "batches" => report.batches += number(i + 1),
            "signals" => {
                for pair in &words[i + 1..] {
                    if let Some((signal, count)) = pair.split_once(':') {
                        *report
                            .batch_endings
                            .entry(format!("signal {signal}"))
                            .or_default() += count.parse::<u64>().unwrap_or(0);
                    }
                }
                break;
            }
            ending => {
                *report.batch_endings.entry(ending.to_string()).or_default() += number(i + 1);
            }
        }
        i += 2;
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The guest may leave directories without permissions (chmod 0); the
/// owner can always restore them, and must before removing them.
fn make_removable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(metadata) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !metadata.is_dir() {
        return;
    }
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            make_removable(&entry.path());
        }
    }
}
