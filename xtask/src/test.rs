//! `cargo xtask test`: everything CI checks. Runs every step even after a
//! failure, so one run shows all that is broken.

use std::time::Instant;

use anyhow::{bail, Result};

use crate::build::{build_transit, cargo};
use crate::host::{Arch, TRANSIT_TARGET};
use crate::{setup, step};

pub fn run() -> Result<()> {
    let start = Instant::now();
    let arch = Arch::of_host()?;
    setup::ensure_prerequisites(arch)?;
    let transit = build_transit()?;

    let mut failed = Vec::new();

    step::header(format!(
        "Unit tests ({TRANSIT_TARGET}{})",
        match arch.aarch64_runner() {
            Some(runner) => format!(", under {runner}"),
            None => String::new(),
        }
    ));
    let mut unit = cargo();
    unit.current_dir(crate::workspace_root()).args([
        "test",
        "--no-fail-fast",
        "--workspace",
        "--exclude",
        "transit-tests",
        "--exclude",
        "xtask",
        "--target",
        TRANSIT_TARGET,
        // Benches and examples too, so that they keep building (criterion
        // runs each bench once under `cargo test`).
        "--all-targets",
    ]);
    if arch.aarch64_runner().is_none() {
        // .cargo/config.toml names qemu as the runner, and cargo rejects an
        // empty one: env(1) with no assignments simply execs the test binary.
        unit.env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER", "env");
    }
    if !step::status(&mut unit)?.success() {
        failed.push("unit tests");
    }

    step::header("End-to-end tests (host: x86_64 programs natively and under Transit)");
    let mut end_to_end = cargo();
    end_to_end
        .current_dir(crate::workspace_root())
        .args([
            "test",
            "--no-fail-fast",
            "-p",
            "transit-tests",
            "--",
            "--nocapture",
        ])
        .env("TRANSIT_BIN", &transit)
        .env("TRANSIT_RUNNER", arch.aarch64_runner().unwrap_or(""));
    if !step::status(&mut end_to_end)?.success() {
        failed.push("end-to-end tests");
    }

    // xtask's own tests: the Debian package of the Transit just built.
    step::header("xtask tests (cargo xtask deb's package)");
    if !step::status(cargo().current_dir(crate::workspace_root()).args(["test", "--no-fail-fast", "-p", "xtask"]))?.success() {
        failed.push("xtask tests");
    }

    if let Some(runner) = arch.aarch64_runner() {
        // Emulated hosts let us try the code paths for older cores too:
        // no LSE, LRCPC or FlagM, as on a Raspberry Pi 4 (Cortex-A72).
        step::header("End-to-end test programs on a Cortex-A72 (no LSE, LRCPC, FlagM)");
        let mut older = cargo();
        older
            .current_dir(crate::workspace_root())
            .args(["test", "--no-fail-fast", "-p", "transit-tests", "--test", "programs", "--", "--nocapture"])
            .env("TRANSIT_BIN", &transit)
            .env("TRANSIT_RUNNER", format!("{runner} -cpu cortex-a72"));
        if !step::status(&mut older)?.success() {
            failed.push("end-to-end tests on a Cortex-A72");
        }
    }

    match crate::difftest::differential(arch, &crate::difftest::CI) {
        Ok(true) => {}
        Ok(false) => failed.push("differential tests"),
        Err(e) => {
            eprintln!("error: {e:#}");
            failed.push("differential tests");
        }
    }

    // Under a second on any host once the difftest's crate is built.
    if let Err(e) = crate::codegen_listing::check() {
        eprintln!("error: {e:#}");
        failed.push("codegen listing");
    }

    if arch.aarch64_runner().is_some() {
        // FEAT_AFP hosts leave x86's NaN rules to FPCR.AH: the floating-point
        // programs and the difftest again, on qemu 10's `-cpu max`.
        if let Err(e) = afp_host_tests(arch, &transit) {
            eprintln!("error: {e:#}");
            failed.push("tests on a FEAT_AFP host");
        }
    }

    let elapsed = start.elapsed();
    step::header(format!("Total time: {:.1} s", elapsed.as_secs_f64()));
    if !failed.is_empty() {
        bail!("failed: {}", failed.join(", "));
    }
    Ok(())
}

/// The test programs that compute in floating point.
const FLOAT_PROGRAMS: [&str; 14] = [
    "avx2_intrinsics",
    "f16c_convert",
    "fenv",
    "float_arith",
    "legacy_forms",
    "libm",
    "long_double",
    "matrix",
    "mmx_sse_convert",
    "mxcsr_modes",
    "printf_formats",
    "sse2",
    "sse41_intrinsics",
    "xsave_state",
];

fn afp_host_tests(arch: Arch, transit: &std::path::Path) -> Result<()> {
    let emulator = crate::difftest::afp_emulator(arch)?;
    step::header(format!("Floating-point test programs on a FEAT_AFP host ({emulator})"));
    let mut programs = cargo();
    programs
        .current_dir(crate::workspace_root())
        .args(["test", "--no-fail-fast", "-p", "transit-tests", "--test", "programs", "--", "--nocapture"])
        .env("TRANSIT_TEST_PROGRAMS", FLOAT_PROGRAMS.join(","))
        .env("TRANSIT_BIN", transit)
        .env("TRANSIT_RUNNER", &emulator);
    if !step::status(&mut programs)?.success() {
        bail!("floating-point test programs differ on a FEAT_AFP host");
    }
    let (count, seed) = (crate::difftest::CI_AFP_COUNT, crate::difftest::CI_SEED);
    if !crate::difftest::differential(arch, &crate::difftest::Differential { count, seed, emulator: Some(&emulator), ..crate::difftest::CI })? {
        bail!("differential tests found mismatches on a FEAT_AFP host");
    }
    Ok(())
}
