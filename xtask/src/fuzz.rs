//! The fault-robustness fuzzers (tests/suites/fuzz.rs), run longer than CI
//! runs them:
//! - `cargo xtask fuzz-elf [--count N] [--seed S] [--first I]`: N mutated
//!   x86_64 programs (default 10,000; CI runs 300 of seed 1), inputs
//!   I..I+N of seed S.
//! - `cargo xtask fuzz-syscalls [--seconds N] [--seed S]`: a guest calling
//!   random syscalls for N seconds (default 600; CI runs 20 s of seed 1).
//!
//! Transit must never panic, fault itself or hang; failing inputs are kept
//! under target/transit-tests/fuzz-elf/failures/ and
//! target/transit-tests/fuzz-syscalls/failures/.

use anyhow::{bail, Context, Result};

use crate::build::{build_transit, cargo};
use crate::host::Arch;
use crate::{setup, step};

pub fn elf(args: &[String]) -> Result<()> {
    let (mut count, mut seed, mut first) = (10_000u64, 1u64, 0u64);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--count" => count = it.next().context("--count N")?.parse()?,
            "--seed" => seed = it.next().context("--seed S")?.parse()?,
            "--first" => first = it.next().context("--first I")?.parse()?,
            other => bail!("unknown fuzz-elf argument `{other}`"),
        }
    }
    let header = format!("ELF fuzzing: {count} mutated programs, seed {seed}, from input {first}");
    let env = [
        ("TRANSIT_FUZZ_COUNT", count),
        ("TRANSIT_FUZZ_SEED", seed),
        ("TRANSIT_FUZZ_FIRST", first),
    ];
    run_test(&header, "mutated_programs_never_break_transit", &env)
}

pub fn syscalls(args: &[String]) -> Result<()> {
    let (mut seconds, mut seed) = (600u64, 1u64);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => seconds = it.next().context("--seconds N")?.parse()?,
            "--seed" => seed = it.next().context("--seed S")?.parse()?,
            other => bail!("unknown fuzz-syscalls argument `{other}`"),
        }
    }
    let header = format!("Syscall fuzzing: {seconds} s, seed {seed}");
    let env = [
        ("TRANSIT_FUZZ_SECONDS", seconds),
        ("TRANSIT_FUZZ_SEED", seed),
    ];
    run_test(&header, "random_syscalls_never_break_transit", &env)
}

/// Runs one test of the fuzz suite with its settings.
fn run_test(header: &str, test: &str, env: &[(&str, u64)]) -> Result<()> {
    let arch = Arch::of_host()?;
    if arch != Arch::X86_64 {
        bail!("the fuzzers compile x86_64 programs and check some verdicts natively: this needs an x86_64 host");
    }
    setup::ensure_prerequisites(arch)?;
    let transit = build_transit()?;
    step::header(header);
    let mut suite = cargo();
    suite
        .current_dir(crate::workspace_root())
        .args([
            "test",
            "-p",
            "transit-tests",
            "--test",
            "fuzz",
            "--",
            test,
            "--exact",
            "--nocapture",
        ])
        .env("TRANSIT_BIN", &transit)
        .env("TRANSIT_RUNNER", arch.aarch64_runner().unwrap_or(""));
    for (name, value) in env {
        suite.env(name, value.to_string());
    }
    if !step::status(&mut suite)?.success() {
        bail!("the fuzzer found inputs that break Transit (above)");
    }
    Ok(())
}
