//! `cargo xtask bless`: regenerates tests/programs/expected/, the reference
//! outputs that arm64 hosts (which cannot run x86_64 natively) compare with.
//! The work is done by the harness's own `transit-bless` binary so that
//! compiling and running programs is written once.

use anyhow::{bail, Result};

use crate::build::cargo;
use crate::host::Arch;
use crate::{setup, step};

pub fn run() -> Result<()> {
    let arch = Arch::of_host()?;
    if arch != Arch::X86_64 {
        bail!("bless runs the test programs natively, so it needs an x86_64 host");
    }
    setup::ensure_prerequisites(arch)?;
    step::header("Running the test programs natively and writing tests/programs/expected/");
    step::run(cargo().current_dir(crate::workspace_root()).args([
        "run",
        "--quiet",
        "-p",
        "transit-tests",
        "--bin",
        "transit-bless",
    ]))
}
