//! Fault robustness (transit_tests::fuzz): mutated programs and random
//! syscalls must never make Transit panic, abort or fault itself, nor
//! hang. CI runs a fixed seed and a bounded number of inputs; `cargo xtask
//! fuzz-elf` and `cargo xtask fuzz-syscalls` run more, setting
//! TRANSIT_FUZZ_SEED, TRANSIT_FUZZ_FIRST, TRANSIT_FUZZ_COUNT and
//! TRANSIT_FUZZ_SECONDS.

use std::time::Duration;

use transit_tests::fuzz::{elf, setting, syscalls};
use transit_tests::transit::Transit;

/// CI's ELF mutants: about 35 s under qemu-user (0.35 s each).
const CI_ELF_INPUTS: u64 = 100;
/// CI's syscall fuzzing: runs of the guest program until this has passed.
const CI_SYSCALL_SECONDS: u64 = 20;
const CI_SEED: u64 = 1;

fn transit() -> Transit {
    Transit::from_env().unwrap_or_else(|e| panic!("{e}"))
}

/// The seeds and the fuzzer are x86_64 programs built with the host's gcc,
/// and a suspicious verdict is checked against a native run.
fn host_is_x86_64() -> bool {
    if !transit_tests::host_runs_x86_64() {
        eprintln!("skipped: the fuzzers build and run x86_64 programs natively");
    }
    transit_tests::host_runs_x86_64()
}

#[test]
fn mutated_programs_never_break_transit() {
    if !host_is_x86_64() {
        return;
    }
    let transit = transit();
    eprintln!("{}", transit.describe());
    let seeds = elf::build_seeds().unwrap_or_else(|e| panic!("{e}"));
    let seed = setting("TRANSIT_FUZZ_SEED", CI_SEED);
    let first = setting("TRANSIT_FUZZ_FIRST", 0);
    let count = setting("TRANSIT_FUZZ_COUNT", CI_ELF_INPUTS);
    let report = elf::run(&transit, &seeds, seed, first, count);
    eprintln!("{report}");
    assert!(
        report.failures.is_empty(),
        "{} of {} inputs broke Transit (above)",
        report.failures.len(),
        report.inputs
    );
}

#[test]
fn random_syscalls_never_break_transit() {
    if !host_is_x86_64() {
        return;
    }
    let transit = transit();
    eprintln!("{}", transit.describe());
    let seed = setting("TRANSIT_FUZZ_SEED", CI_SEED);
    let seconds = setting("TRANSIT_FUZZ_SECONDS", CI_SYSCALL_SECONDS);
    let report = syscalls::run(&transit, seed, Duration::from_secs(seconds));
    eprintln!("{report}");
    assert!(
        report.failures.is_empty(),
        "{} of {} runs broke Transit (above)",
        report.failures.len(),
        report.runs
    );
}
