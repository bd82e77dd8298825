//! The code cache filling up while threads run translated code: with a
//! 64 KiB buffer (`TRANSIT_CODE_CACHE_KB=64`) the threaded and JIT test
//! programs flush the shared cache many times, each flush waiting for
//! every thread to leave old code. Their output must still be what the
//! program gives natively (`tests/programs/expected/`), and `--stats` must
//! show that flushes happened, so the test cannot pass without exercising
//! them.

use std::ffi::OsStr;
use std::time::Duration;

use transit_tests::catalog::{self, Program};
use transit_tests::outcome::Outcome;
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;
use transit_tests::{expected, process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(300);

/// Programs whose threads run translated code while others translate,
/// and JITs whose code changes under running threads.
const PROGRAMS: [&str; 6] = ["threads_basic", "threads_signals", "threads_cx16", "jit_dual_mapping", "jit_rewrite", "jit_self_loop"];

fn program(name: &str) -> Program {
    let all = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    all.into_iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no test program {name}"))
}

fn flushes_in(stderr: &[u8]) -> u64 {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| l.split("flushes=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
}

#[test]
fn threads_and_jits_survive_full_flushes_of_a_tiny_cache() {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let variant = toolchain.variants().next().expect("every host has a variant");
    let mut problems = Vec::new();
    for name in PROGRAMS {
        let program = program(name);
        let binary = toolchain.build(&program, variant).unwrap_or_else(|e| panic!("{e}"));
        let reference = expected::load(name).unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("{name} was never blessed"));
        let command = transit.command_with_options(&[OsStr::new("--stats")], &binary, &program.args);
        let env = [("TRANSIT_CODE_CACHE_KB", OsStr::new("64"))];
        let run_dir = work_dir("cache-pressure").join(name);
        let outcome = process::run_with_env(command, &env, &program.stdin, &run_dir, TIMEOUT).expect("can start Transit");
        let flushes = flushes_in(&outcome.stderr);
        // The statistics go to stderr after the program's own lines.
        let stderr: Vec<u8> = String::from_utf8_lossy(&transit.strip_runner_messages(outcome.stderr))
            .lines()
            .filter(|l| !l.starts_with("transit-stats["))
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect();
        let outcome = Outcome { stderr, ..outcome };
        let differences = outcome.differences(&reference, "expected", "transit");
        if !differences.is_empty() {
            problems.push(format!("{name}:\n{}", differences.join("\n")));
        }
        eprintln!("{name}: {flushes} flushes");
        if flushes == 0 {
            problems.push(format!("{name}: no flush happened; the test exercised nothing"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
