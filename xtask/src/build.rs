//! `cargo xtask build`: prerequisites, then Transit in release mode.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::host::{Arch, TRANSIT_TARGET};
use crate::{setup, step};

pub fn run() -> Result<()> {
    let arch = Arch::of_host()?;
    setup::ensure_prerequisites(arch)?;
    let transit = build_transit()?;
    println!("    built {}", transit.display());
    Ok(())
}

/// Builds the release Transit binary and returns its absolute path.
pub fn build_transit() -> Result<PathBuf> {
    step::header(format!("Building Transit (release, {TRANSIT_TARGET})"));
    step::run(cargo().current_dir(crate::workspace_root()).args([
        "build",
        "--release",
        "--target",
        TRANSIT_TARGET,
        "-p",
        "transit",
    ]))?;
    Ok(crate::target_dir()
        .join(TRANSIT_TARGET)
        .join("release/transit"))
}

/// The cargo that started xtask, so the same toolchain builds everything.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}
