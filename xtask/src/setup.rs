//! The step every command starts with: install what is missing, and nothing
//! else, so that a second run is quiet.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::host::{Arch, Package, TRANSIT_TARGET};
use crate::{binfmt, step};

/// Installs missing Debian packages and the aarch64 Rust target; on x86_64
/// hosts, makes the kernel run aarch64 programs (Transit execs itself).
pub fn ensure_prerequisites(arch: Arch) -> Result<()> {
    install_missing_packages(arch.packages())?;
    if let Some(runner) = arch.aarch64_runner() {
        let interpreter =
            binfmt::find_in_path(runner).unwrap_or_else(|| Path::new("/usr/bin").join(runner));
        binfmt::ensure_aarch64_handler(&interpreter)?;
    }
    ensure_rust_target()
}

pub fn install_missing_packages(packages: &[Package]) -> Result<()> {
    let names: Vec<&str> = packages.iter().map(|package| package.name).collect();
    step::header(format!("Checking packages: {}", names.join(" ")));
    let has_dpkg = step::probe(Command::new("dpkg").arg("--version")).is_some();
    let missing: Vec<&Package> = packages
        .iter()
        // What a package provides may come from elsewhere: NodeSource's
        // nodejs brings npm, which Debian's npm package conflicts with.
        .filter(|package| !Path::new(package.provides).exists() && !(has_dpkg && dpkg_installed(package.name)))
        .collect();
    if missing.is_empty() {
        println!("    all present");
        return Ok(());
    }
    let missing: Vec<&str> = missing.iter().map(|package| package.name).collect();
    if !has_dpkg || step::probe(Command::new("apt-get").arg("--version")).is_none() {
        bail!(
            "missing prerequisites and this is not a Debian/Ubuntu host: install the equivalents of {}",
            missing.join(" ")
        );
    }
    step::header(format!("Installing packages: {}", missing.join(" ")));
    step::run(&mut privileged(&["apt-get", "update"])?)?;
    let mut install = privileged(&["apt-get", "install", "-y", "--no-install-recommends"])?;
    step::run(install.args(&missing))
}

/// `dpkg -s` succeeds for removed packages whose configuration remains, so
/// the status line is what tells.
fn dpkg_installed(package: &str) -> bool {
    step::probe(Command::new("dpkg").args(["-s", package])).is_some_and(|status| {
        status
            .lines()
            .any(|line| line.trim() == "Status: install ok installed")
    })
}

/// `argv` as root: directly when we are root, through sudo otherwise.
pub fn privileged(argv: &[&str]) -> Result<Command> {
    let is_root = step::probe(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    let mut command = if is_root {
        Command::new(argv[0])
    } else if step::probe(Command::new("sudo").arg("--version")).is_some() {
        let mut sudo = Command::new("sudo");
        sudo.args(["env", "DEBIAN_FRONTEND=noninteractive", argv[0]]);
        sudo
    } else {
        bail!(
            "`{}` needs root: run as root or install sudo",
            argv.join(" ")
        );
    };
    command
        .args(&argv[1..])
        .env("DEBIAN_FRONTEND", "noninteractive");
    Ok(command)
}

fn ensure_rust_target() -> Result<()> {
    step::header(format!("Checking Rust target {TRANSIT_TARGET}"));
    if let Some(installed) =
        step::probe(Command::new("rustup").args(["target", "list", "--installed"]))
    {
        if installed.lines().any(|line| line.trim() == TRANSIT_TARGET) {
            println!("    present");
            return Ok(());
        }
        return step::run(Command::new("rustup").args(["target", "add", TRANSIT_TARGET]));
    }
    // No rustup: the toolchain came from elsewhere, so look in its sysroot.
    let sysroot = step::probe(Command::new("rustc").args(["--print", "sysroot"]))
        .context("neither rustup nor rustc found")?;
    if Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(TRANSIT_TARGET)
        .is_dir()
    {
        println!("    present");
        Ok(())
    } else {
        bail!("the Rust standard library for {TRANSIT_TARGET} is missing and rustup is not available to add it")
    }
}
