//! The differential test: every program in `tests/programs/`, built in every
//! variant, must print the same stdout and stderr and end the same way
//! (exit code or signal) under Transit as on an x86_64 CPU. On x86_64 hosts
//! the CPU itself is the reference and the checked-in expected outputs are
//! checked too (so arm64 hosts never compare with stale ones); elsewhere the
//! expected outputs are the reference.
//!
//! The programs are found at run time, so this suite has its own test
//! harness (libtest-mimic): each program in each variant is one test named
//! `PROGRAM::VARIANT`, which libtest's filters, `--exact`, `--list`,
//! `--ignored` and `--test-threads` (default: `TRANSIT_TEST_JOBS`, else the
//! host's cores) apply to:
//!
//! ```text
//! cargo test -p transit-tests --test programs -- sha256::glibc-O2
//! cargo test -p transit-tests --test programs -- ::musl-O2
//! TRANSIT_TEST_PROGRAMS=fenv,libm cargo test -p transit-tests --test programs
//! ```
//!
//! A failing test reports the first differing lines. Runs listed in
//! `tests/programs/known_failures` pass while they fail (their mismatch is
//! printed); a listed run that now passes is reported so its line can go.
//! Variants that cannot pass yet (`runs_by_default` in the toolchain) are
//! ignored tests: `-- --include-ignored` runs them.

use std::process::{Command, ExitCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use transit_tests::catalog::{self, Program};
use transit_tests::known_failures::{known_failures_file, KnownFailures};
use transit_tests::outcome::Outcome;
use transit_tests::toolchain::{self, Toolchain, Variant};
use transit_tests::transit::Transit;
use transit_tests::{expected, host_runs_x86_64, parallel, process, work_dir};

/// Native runs take milliseconds; this only guards against a hung program.
const NATIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Transit may itself run under an emulator: generous, but bounded.
const TRANSIT_TIMEOUT: Duration = Duration::from_secs(60);

/// What every test shares.
struct Suite {
    transit: Transit,
    toolchain: Toolchain,
    known_failures: KnownFailures,
    /// Listed runs, as they finish: (test name, still failing).
    listed: Mutex<Vec<(String, bool)>>,
}

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    args.test_threads = args.test_threads.or(Some(parallel::jobs()));
    let programs = match catalog::discover() {
        Ok(programs) if programs.is_empty() => {
            return error(format!(
                "no test programs found in {}",
                catalog::programs_dir().display()
            ))
        }
        Ok(programs) => programs,
        Err(e) => return error(e),
    };
    let known_failures = match KnownFailures::load(&programs) {
        Ok(known_failures) => known_failures,
        Err(e) => return error(e),
    };
    // libtest takes one filter: TRANSIT_TEST_PROGRAMS=a,b names a set.
    let programs: Vec<Program> = match std::env::var("TRANSIT_TEST_PROGRAMS") {
        Ok(names) => {
            let names: Vec<&str> = names.split(',').map(str::trim).collect();
            programs.into_iter().filter(|p| names.contains(&p.name.as_str())).collect()
        }
        Err(_) => programs,
    };
    let cases: Vec<(Program, Variant)> = programs
        .iter()
        .flat_map(|program| {
            toolchain::variants_of(program).map(move |variant| (program.clone(), variant))
        })
        .collect();
    if args.list {
        // Listing needs neither Transit nor the compilers.
        let trials = cases
            .iter()
            .map(|(program, variant)| trial(program, *variant, &known_failures, || Ok(())))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }

    // Without Transit or a compiler nothing can run: that is a failure of
    // the whole suite, never a skip.
    let transit = match Transit::from_env() {
        Ok(transit) => transit,
        Err(e) => return error(e),
    };
    let toolchain = match Toolchain::for_host() {
        Ok(toolchain) => toolchain,
        Err(e) => return error(e),
    };
    println!("{}", transit.describe());
    println!(
        "reference: {}",
        if host_runs_x86_64() {
            "this x86_64 CPU (and tests/programs/expected/)"
        } else {
            "tests/programs/expected/"
        }
    );
    let suite = Arc::new(Suite {
        transit,
        toolchain,
        known_failures,
        listed: Mutex::new(Vec::new()),
    });
    let trials = cases
        .into_iter()
        .map(|(program, variant)| {
            let test_suite = Arc::clone(&suite);
            let test_program = program.clone();
            trial(&program, variant, &suite.known_failures, move || {
                run_case(&test_suite, &test_program, variant)
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    report_listed(&suite);
    conclusion.exit_code()
}

/// The test for `program` in `variant`: named `PROGRAM::VARIANT`, marked
/// `[known failure]` when listed, ignored when its variant is off.
fn trial(
    program: &Program,
    variant: Variant,
    known_failures: &KnownFailures,
    test: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    let listed = known_failures.contains(&program.name, variant.name);
    Trial::test(test_name(program, variant), test)
        .with_kind(if listed { "known failure" } else { "" })
        .with_ignored_flag(!variant.runs_by_default)
}

fn test_name(program: &Program, variant: Variant) -> String {
    format!("{}::{}", program.name, variant.name)
}

fn error(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Runs one test: a mismatch fails it unless the run is listed as a known
/// failure.
fn run_case(suite: &Suite, program: &Program, variant: Variant) -> Result<(), Failed> {
    let start = Instant::now();
    let problems = check(&suite.transit, &suite.toolchain, program, variant);
    let name = test_name(program, variant);
    let report = format!(
        "({:.1} s; run directory {})\n  {}",
        start.elapsed().as_secs_f64(),
        run_dir(program, variant).display(),
        problems.join("\n  ")
    );
    let listed = suite.known_failures.contains(&program.name, variant.name);
    if listed {
        if !problems.is_empty() {
            println!("known failure {name} {report}");
        }
        suite
            .listed
            .lock()
            .unwrap()
            .push((name, !problems.is_empty()));
        return Ok(());
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(report.into()),
    }
}

/// After the run: which listed runs still fail, and which now pass.
fn report_listed(suite: &Suite) {
    let mut listed = suite.listed.lock().unwrap();
    listed.sort();
    let failing: Vec<&str> = listed
        .iter()
        .filter(|(_, fails)| *fails)
        .map(|(name, _)| name.as_str())
        .collect();
    let fixed: Vec<&str> = listed
        .iter()
        .filter(|(_, fails)| !*fails)
        .map(|(name, _)| name.as_str())
        .collect();
    if !failing.is_empty() {
        println!(
            "known failures, listed in {}: {}",
            known_failures_file().display(),
            failing.join(", ")
        );
    }
    if !fixed.is_empty() {
        println!(
            "listed in {} but now passing, so remove them from the list: {}",
            known_failures_file().display(),
            fixed.join(", ")
        );
    }
}

fn run_dir(program: &Program, variant: Variant) -> std::path::PathBuf {
    work_dir("run").join(variant.name).join(&program.name)
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
    let run_dir = run_dir(program, variant);
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
        let native = match process::run_native(
            command,
            &program.stdin,
            &run_dir.join("native"),
            NATIVE_TIMEOUT,
        ) {
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

    let rootfs_options = match variant.rootfs {
        Some(rootfs) => vec!["-L".as_ref(), rootfs.as_ref()],
        None => Vec::new(),
    };
    match process::run(
        transit.command_with_options(&rootfs_options, &binary, &program.args),
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
