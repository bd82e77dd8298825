//! `cargo xtask signal-stress [--runs N]`: the signal programs of
//! tests/programs (those named `signal_*` and `threads_signals`), every
//! variant, natively and under Transit, N times over (default 20). CI runs
//! them once; races show up over many runs.

use anyhow::{bail, Context, Result};

use crate::build::{build_transit, cargo};
use crate::host::Arch;
use crate::{setup, step};

const DEFAULT_RUNS: usize = 20;
/// The programs suite's filters that select the signal programs.
const FILTERS: [&str; 2] = ["signal_", "threads_signals"];

pub fn run(args: &[String]) -> Result<()> {
    let mut runs = DEFAULT_RUNS;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            other => bail!("unknown signal-stress argument `{other}`"),
        }
    }
    let arch = Arch::of_host()?;
    setup::ensure_prerequisites(arch)?;
    let transit = build_transit()?;
    let mut failed_runs = 0;
    for run in 1..=runs {
        for filter in FILTERS {
            step::header(format!("Signal programs `{filter}`, run {run} of {runs}"));
            let mut suite = cargo();
            suite
                .current_dir(crate::workspace_root())
                .args(["test", "-p", "transit-tests", "--test", "programs", "--", filter])
                .env("TRANSIT_BIN", &transit)
                .env("TRANSIT_RUNNER", arch.aarch64_runner().unwrap_or(""));
            if !step::status(&mut suite)?.success() {
                failed_runs += 1;
            }
        }
    }
    step::header(format!("{failed_runs} of {} suite runs failed", runs * FILTERS.len()));
    if failed_runs > 0 {
        bail!("signal programs failed in {failed_runs} runs");
    }
    Ok(())
}
