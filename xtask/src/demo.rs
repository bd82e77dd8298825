//! `cargo xtask demo`: from a fresh machine to an x86_64 program running
//! through Transit, one visible step at a time.

use std::process::Command;

use anyhow::{bail, Result};

use crate::host::Arch;
use crate::{build, setup, step};

/// Bundled with the end-to-end test programs so the harness keeps it honest.
const DEMO_SOURCE: &str = "tests/programs/demo/hello.c";
const DEMO_ARGS: &[&str] = &["Transit"];

pub fn run() -> Result<()> {
    let arch = Arch::of_host()?;
    setup::ensure_prerequisites(arch)?;
    let transit = build::build_transit()?;

    let out_dir = crate::target_dir().join("xtask/demo");
    std::fs::create_dir_all(&out_dir)?;
    let program = out_dir.join("hello");
    step::header(format!(
        "Compiling {DEMO_SOURCE} for x86_64 (static, glibc)"
    ));
    step::run(
        Command::new(arch.x86_64_cc())
            .current_dir(crate::workspace_root())
            .args(["-static", "-O2", "-o"])
            .arg(&program)
            .arg(DEMO_SOURCE),
    )?;

    if arch == Arch::X86_64 {
        step::header("Running it natively, for reference");
        let status = step::status(Command::new(&program).args(DEMO_ARGS))?;
        println!(
            "    exit status: {}",
            status.code().map_or(status.to_string(), |c| c.to_string())
        );
    }

    step::header("Running it through Transit");
    let mut command = match arch.aarch64_runner() {
        Some(runner) => {
            let mut command = Command::new(runner);
            command.arg(&transit);
            command
        }
        None => Command::new(&transit),
    };
    let status = step::status(command.arg(&program).args(DEMO_ARGS))?;
    match status.code() {
        Some(code) => println!("    exit status: {code}"),
        None => println!("    {status}"),
    }
    if !status.success() {
        bail!("the demo program did not exit 0 under Transit ({status})");
    }
    Ok(())
}
