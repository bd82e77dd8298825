//! A qemu-aarch64 that models FEAT_AFP, for the tests of Transit's
//! FPCR.AH code paths: Debian bookworm's qemu 7.2 has no FEAT_AFP; its
//! backports' qemu-user 10 has it in `-cpu max`. The package is fetched
//! with apt and unpacked under target/ (nothing is installed system-wide
//! but the backports source, which apt needs to find it).

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

use crate::setup;

const SOURCE_LIST: &str = "/etc/apt/sources.list.d/transit-bookworm-backports.list";
const SOURCE: &str = "deb http://deb.debian.org/debian bookworm-backports main\n";
const PACKAGE: &str = "qemu-user/bookworm-backports";

/// The qemu-aarch64 binary of backports' qemu-user (a static PIE), fetched
/// and unpacked on first use.
pub fn qemu_aarch64() -> Result<PathBuf> {
    let dir = crate::target_dir().join("qemu-afp");
    let qemu = dir.join("root/usr/bin/qemu-aarch64");
    if qemu.exists() {
        return Ok(qemu);
    }
    let backports_known = std::fs::read_dir("/etc/apt/sources.list.d")
        .map(|entries| {
            entries.flatten().any(|e| std::fs::read_to_string(e.path()).is_ok_and(|s| s.contains("bookworm-backports")))
        })
        .unwrap_or(false);
    if !backports_known {
        let mut add = setup::privileged(&["tee", SOURCE_LIST])?;
        add.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::null());
        let mut child = add.spawn().context("cannot run tee")?;
        std::io::Write::write_all(&mut child.stdin.take().context("tee's stdin")?, SOURCE.as_bytes())?;
        if !child.wait()?.success() {
            bail!("cannot add bookworm-backports to apt's sources");
        }
        if !setup::privileged(&["apt-get", "update", "-q"])?.status()?.success() {
            bail!("apt-get update failed");
        }
    }
    std::fs::create_dir_all(&dir)?;
    let status = std::process::Command::new("apt-get").current_dir(&dir).args(["download", "-q", PACKAGE]).status()?;
    if !status.success() {
        bail!("apt-get download {PACKAGE} failed");
    }
    let deb = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .context("apt-get download left no .deb")?;
    let status = std::process::Command::new("dpkg-deb").arg("-x").arg(&deb).arg(dir.join("root")).status()?;
    if !status.success() || !qemu.exists() {
        bail!("cannot unpack {}", deb.display());
    }
    Ok(qemu)
}
