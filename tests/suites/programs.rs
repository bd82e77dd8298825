//! The differential test: every program in `tests/programs/`, built in every
//! variant, must print the same stdout and stderr and end the same way
//! (exit code or signal) under Transit as on an x86_64 CPU. On x86_64 hosts
//! the CPU itself is the reference and the checked-in expected outputs are
//! checked too (so arm64 hosts never compare with stale ones); elsewhere the
//! expected outputs are the reference.
//!
//! One test runs everything in parallel and lists every mismatch before
//! failing: the program, the variant, and the first differing lines. Runs
//! listed in `tests/programs/known_failures` are reported without failing.

use std::process::Command;
use std::time::{Duration, Instant};

use transit_tests::catalog::{self, Program};
use transit_tests::known_failures::{known_failures_file, KnownFailures};
use transit_tests::outcome::Outcome;
use transit_tests::toolchain::{Toolchain, Variant};
use transit_tests::transit::Transit;
use transit_tests::{expected, host_runs_x86_64, parallel, process, work_dir};

/// Native runs take milliseconds; this only guards against a hung program.
const NATIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Transit may itself run under an emulator: generous, but bounded.
const TRANSIT_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn programs_behave_under_transit_as_on_x86_64() {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !programs.is_empty(),
        "no test programs found in {}",
        catalog::programs_dir().display()
    );
    let known_failures = KnownFailures::load(&programs).unwrap_or_else(|e| panic!("{e}"));

    println!("{}", transit.describe());
    println!(
        "reference: {}",
        if host_runs_x86_64() {
            "this x86_64 CPU (and tests/programs/expected/)"
        } else {
            "tests/programs/expected/"
        }
    );
    let cases: Vec<(&Program, Variant)> = programs
        .iter()
        .flat_map(|program| toolchain.variants().map(move |variant| (program, variant)))
        .collect();
    let problems = parallel::map(&cases, |&(program, variant)| {
        let start = Instant::now();
        let problems = check(&transit, &toolchain, program, variant);
        let known = known_failures.contains(&program.name, variant.name);
        let verdict = match (problems.is_empty(), known) {
            (true, false) => "ok",
            (true, true) => "FIXED",
            (false, true) => "known",
            (false, false) => "FAIL",
        };
        println!(
            "{verdict:5} {:8} {} ({:.1} s)",
            variant.name,
            program.name,
            start.elapsed().as_secs_f64()
        );
        problems
    });

    let mut failures = Vec::new();
    let mut known = Vec::new();
    let mut fixed = Vec::new();
    for ((program, variant), problems) in cases.iter().zip(&problems) {
        let listed = known_failures.contains(&program.name, variant.name);
        let report = format!(
            "{} [{}]\n  {}",
            program.name,
            variant.name,
            problems.join("\n  ")
        );
        match (problems.is_empty(), listed) {
            (true, false) => {}
            (true, true) => fixed.push(format!("{} [{}]", program.name, variant.name)),
            (false, true) => known.push(report),
            (false, false) => failures.push(report),
        }
    }
    if !known.is_empty() {
        println!(
            "\nknown failures, listed in {}:\n\n{}\n",
            known_failures_file().display(),
            known.join("\n\n")
        );
    }
    if !fixed.is_empty() {
        println!(
            "\nlisted in {} but now passing, so remove them from the list: {}\n",
            known_failures_file().display(),
            fixed.join(", ")
        );
    }
    println!(
        "programs: {} passed, {} failed, {} known failures",
        cases.len() - failures.len() - known.len(),
        failures.len(),
        known.len()
    );
    if !failures.is_empty() {
        panic!(
            "{} of {} program runs did not match (run directories: {}):\n\n{}",
            failures.len(),
            cases.len(),
            work_dir("run").display(),
            failures.join("\n\n")
        );
    }
}

/// Everything wrong with one program in one variant; empty when it passes.
fn check(
    transit: &Transit,
    toolchain: &Toolchain,
    program: &Program,
    variant: Variant,
) -> Vec<String> {
    let binary = match toolchain.build(program, variant) {
        Ok(binary) => binary,
        Err(error) => return vec![format!("build failed: {error}")],
    };
    let run_dir = work_dir("run").join(variant.name).join(&program.name);
    let mut problems = Vec::new();

    let expected = match expected::load(&program.name) {
        Ok(expected) => expected,
        Err(error) => {
            problems.push(error);
            None
        }
    };
    let (reference, reference_name) = if host_runs_x86_64() {
        let mut command = Command::new(&binary);
        command.args(&program.args);
        let native = match process::run_native(command, &program.stdin, &run_dir.join("native"), NATIVE_TIMEOUT) {
            Ok(native) => native,
            Err(problem) => return vec![problem],
        };
        match &expected {
            Some(expected) => {
                let stale = native.differences(expected, "expected", "native");
                if !stale.is_empty() {
                    problems.push(format!(
                        "tests/programs/expected/{}.* is stale: run `cargo xtask bless`\n    {}",
                        program.name,
                        stale.join("\n    ")
                    ));
                }
            }
            None => problems.push(format!(
                "tests/programs/expected/{}.* is missing: run `cargo xtask bless` and commit it",
                program.name
            )),
        }
        (native, "native")
    } else {
        match expected {
            Some(expected) => (expected, "expected"),
            None => {
                problems.push(format!(
                    "no reference: tests/programs/expected/{}.* is missing (bless it on an x86_64 host)",
                    program.name
                ));
                return problems;
            }
        }
    };

    match process::run(
        transit.command(&binary, &program.args),
        &program.stdin,
        &run_dir.join("transit"),
        TRANSIT_TIMEOUT,
    ) {
        Ok(outcome) => {
            let outcome = Outcome {
                stderr: transit.strip_runner_messages(outcome.stderr),
                ..outcome
            };
            problems.extend(outcome.differences(&reference, reference_name, "transit"));
        }
        Err(error) => problems.push(format!("cannot run Transit: {error}")),
    }
    problems
}
