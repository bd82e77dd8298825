//! Races show up over many runs; CI runs each of these tests once.
//! - `cargo xtask signal-stress [--runs N]`: the signal programs of
//!   tests/programs (those named `signal_*` and `threads_signals`), every
//!   variant, natively and under Transit, N times over (default 20).
//! - `cargo xtask jit-stress [--runs N]`: the Java tests of the JIT
//!   runtimes suite (threads, inline caches and code patched while other
//!   threads run it), N times over (default 10).

use anyhow::{bail, Context, Result};

use crate::build::{build_transit, cargo};
use crate::host::Arch;
use crate::{setup, step};

/// A set of suite tests to run again and again.
pub struct Stress {
    /// What the runs are called in the output.
    pub label: &'static str,
    /// The suite (`cargo test --test SUITE`).
    pub suite: &'static str,
    /// Test name filters; each is one `cargo test` run.
    pub filters: &'static [&'static str],
    pub default_runs: usize,
}

pub const SIGNALS: Stress = Stress { label: "Signal programs", suite: "programs", filters: &["signal_", "threads_signals"], default_runs: 20 };

pub const JIT: Stress = Stress { label: "JIT runtime tests", suite: "jit_runtimes", filters: &["java_"], default_runs: 10 };

pub fn run(stress: &Stress, args: &[String]) -> Result<()> {
    let mut runs = stress.default_runs;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            other => bail!("unknown argument `{other}`"),
        }
    }
    let arch = Arch::of_host()?;
    setup::ensure_prerequisites(arch)?;
    let transit = build_transit()?;
    let mut failed_runs = 0;
    for run in 1..=runs {
        for filter in stress.filters {
            step::header(format!("{} `{filter}`, run {run} of {runs}", stress.label));
            let mut suite = cargo();
            suite
                .current_dir(crate::workspace_root())
                .args(["test", "-p", "transit-tests", "--test", stress.suite, "--", filter])
                .env("TRANSIT_BIN", &transit)
                .env("TRANSIT_RUNNER", arch.aarch64_runner().unwrap_or(""));
            if !step::status(&mut suite)?.success() {
                failed_runs += 1;
            }
        }
    }
    step::header(format!("{failed_runs} of {} suite runs failed", runs * stress.filters.len()));
    if failed_runs > 0 {
        bail!("{} failed in {failed_runs} runs", stress.label);
    }
    Ok(())
}
