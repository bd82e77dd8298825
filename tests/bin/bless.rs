//! Writes `tests/programs/expected/` from native runs of every program in
//! every variant (x86_64 hosts only), after checking that all variants of a
//! program agree. Run through `cargo xtask bless`.

use std::process::{Command, ExitCode};
use std::time::Duration;

use transit_tests::catalog::{self, Program};
use transit_tests::outcome::{Outcome, Termination};
use transit_tests::toolchain::{self, Toolchain, Variant};
use transit_tests::{expected, host_runs_x86_64, parallel, process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    match bless() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn bless() -> Result<(), String> {
    if !host_runs_x86_64() {
        return Err("blessing runs the programs natively, so it needs an x86_64 host".into());
    }
    let toolchain = Toolchain::for_host()?;
    let programs = catalog::discover()?;
    // Every variant a program has, including those whose Transit runs are
    // off: all must agree natively.
    let cases: Vec<(&Program, Variant)> = programs
        .iter()
        .flat_map(|program| toolchain::variants_of(program).map(move |variant| (program, variant)))
        .collect();
    let outcomes = parallel::map(&cases, |&(program, variant)| -> Result<Outcome, String> {
        let binary = toolchain.build(program, variant)?;
        let mut command = Command::new(binary);
        command.args(&program.args);
        let run_dir = work_dir("bless").join(variant.name).join(&program.name);
        let outcome = process::run(command, &program.stdin, &run_dir, TIMEOUT)
            .map_err(|e| format!("{} [{}]: cannot run: {e}", program.name, variant.name))?;
        match outcome.termination {
            Termination::Exited(_) | Termination::Signaled(_) => Ok(outcome),
            other => Err(format!("{} [{}]: {other}", program.name, variant.name)),
        }
    });

    let mut errors = Vec::new();
    for program in &programs {
        let mut runs = cases
            .iter()
            .zip(&outcomes)
            .filter(|((case, _), _)| case.name == program.name)
            .map(|((_, variant), outcome)| (variant, outcome));
        let (first_variant, reference) = match runs.next().expect("every program has a variant") {
            (variant, Ok(outcome)) => (variant, outcome),
            (_, Err(error)) => {
                errors.push(error.clone());
                continue;
            }
        };
        let mut agree = true;
        for (variant, run) in runs {
            let differences = match run {
                Ok(outcome) => outcome.differences(reference, first_variant.name, variant.name),
                Err(error) => vec![error.clone()],
            };
            if !differences.is_empty() {
                agree = false;
                errors.push(format!(
                    "{}: variants disagree, so one expected output cannot hold:\n  {}",
                    program.name,
                    differences.join("\n  ")
                ));
            }
        }
        if agree {
            expected::store(&program.name, reference)
                .map_err(|e| format!("cannot write {}: {e}", program.name))?;
            println!("blessed {} ({})", program.name, reference.termination);
        }
    }
    let names: Vec<&str> = programs
        .iter()
        .map(|program| program.name.as_str())
        .collect();
    for removed in
        expected::remove_stale(&names).map_err(|e| format!("cannot clean expected/: {e}"))?
    {
        println!("removed {removed} (no such program)");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}
