//! `cargo xtask difftest [--count N] [--seed S] [--coverage] [--level L] [--afp] [--async-signals N]`:
//! the differential tester (tests/difftest): instruction sequences on this
//! CPU against the translator. `--coverage` rewrites
//! tests/difftest/COVERAGE.md; `--level x86-64-v3` checks the forms of the
//! level being built (the default is the most capable one presented);
//! `--afp` runs the translator on a FEAT_AFP host (`qemu_afp`);
//! `--async-signals N` gives one case in N an asynchronous signal (the
//! driver's default when absent; 0: none).

use anyhow::{bail, Context, Result};

use crate::build::cargo;
use crate::host::{Arch, TRANSIT_TARGET};
use crate::{setup, step};

/// What `cargo xtask test` (and so CI) runs: about 4 minutes on 2 cores.
/// Longer runs (`--count 1000000`) are by command, with other seeds.
pub const CI_COUNT: usize = 30_000;
pub const CI_SEED: u64 = 1;
/// CI's run on a FEAT_AFP host, for the FPCR.AH code paths.
pub const CI_AFP_COUNT: usize = 10_000;

/// One run of the differential tester.
#[derive(Clone, Copy)]
pub struct Differential<'a> {
    pub count: usize,
    pub seed: u64,
    /// Rewrite tests/difftest/COVERAGE.md.
    pub coverage: bool,
    pub level: Option<&'a str>,
    /// Runs the translator under this command instead of the host's usual runner.
    pub emulator: Option<&'a str>,
    /// One case in this many takes an asynchronous signal (None: the driver's default).
    pub async_signals: Option<u64>,
}

/// What `cargo xtask test` (and so CI) runs, on the host's usual runner:
/// asynchronous signals in one case in 8 (about 3,700 of the 60,000
/// runs), which costs the run about a third more time.
pub const CI: Differential<'static> =
    Differential { count: CI_COUNT, seed: CI_SEED, coverage: false, level: None, emulator: None, async_signals: Some(8) };

pub fn run(args: &[String]) -> Result<()> {
    let mut run = Differential { async_signals: None, ..CI };
    let (mut level, mut afp) = (None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--count" => run.count = it.next().context("--count N")?.parse()?,
            "--seed" => run.seed = it.next().context("--seed S")?.parse()?,
            "--coverage" => run.coverage = true,
            "--level" => level = Some(it.next().context("--level x86-64-vN")?.clone()),
            "--afp" => afp = true,
            "--async-signals" => run.async_signals = Some(it.next().context("--async-signals N")?.parse()?),
            other => bail!("unknown difftest argument `{other}`"),
        }
    }
    let arch = Arch::of_host()?;
    setup::ensure_prerequisites(arch)?;
    let emulator = if afp { Some(afp_emulator(arch)?) } else { None };
    let run = Differential { level: level.as_deref(), emulator: emulator.as_deref(), ..run };
    if !differential(arch, &run)? {
        bail!("differential tests found mismatches");
    }
    Ok(())
}

/// The command that runs an aarch64 program on a FEAT_AFP host here.
pub fn afp_emulator(arch: Arch) -> Result<String> {
    if arch.aarch64_runner().is_none() {
        bail!("--afp emulates a FEAT_AFP host; on an arm64 host the tests run on the host's own CPU");
    }
    Ok(format!("{} -cpu max", crate::qemu_afp::qemu_aarch64()?.display()))
}

/// Builds both halves and runs them, the translator under `emulator` if
/// given (else the host's usual runner); Ok(false) when sequences mismatch.
pub fn differential(arch: Arch, run: &Differential) -> Result<bool> {
    let Differential { count, seed, coverage, level, emulator, async_signals } = *run;
    let on = emulator.map_or(String::new(), |e| format!(", under {e}"));
    step::header(format!("Differential tests: {count} sequences, seed {seed}{on}"));
    if arch != Arch::X86_64 {
        println!("    skipped: the reference is the host CPU, and this host is not x86_64");
        return Ok(true);
    }
    let root = crate::workspace_root();
    step::run(cargo().current_dir(&root).args([
        "build", "--release", "--target", TRANSIT_TARGET, "-p", "transit-difftest", "--bin", "difftest-runner",
    ]))?;
    step::run(cargo().current_dir(&root).args(["build", "--release", "-p", "transit-difftest", "--bin", "difftest"]))?;
    let target = crate::target_dir();
    let runner = target.join(TRANSIT_TARGET).join("release/difftest-runner");
    let runner = match emulator.or(arch.aarch64_runner()) {
        Some(qemu) => format!("{qemu} {}", runner.display()),
        None => runner.display().to_string(),
    };
    let mut driver = std::process::Command::new(target.join("release/difftest"));
    driver.args(["--count", &count.to_string(), "--seed", &seed.to_string(), "--runner", &runner]);
    if let Some(level) = level {
        driver.args(["--level", level]);
    }
    if let Some(n) = async_signals {
        driver.args(["--async-signals", &n.to_string()]);
    }
    if coverage {
        driver.args(["--coverage", &root.join("tests/difftest/COVERAGE.md").display().to_string()]);
    }
    Ok(step::status(&mut driver)?.success())
}
