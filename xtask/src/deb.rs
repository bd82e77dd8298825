//! `cargo xtask deb`: `target/debian/transit_VERSION_arm64.deb`, built with
//! dpkg-deb from a staging tree:
//!
//! - `/usr/bin/transit`, the aarch64 release build (debug info stripped);
//! - what Transit generates from its own definitions (`transit
//!   --package-files`, src/package_files.rs): the man pages (clap_mangen)
//!   and `/usr/lib/binfmt.d/transit-x86_64.conf`;
//! - the mirror's systemd unit (binfmt/systemd/, its ExecStart pointed at
//!   /usr/bin/transit; not enabled: a network service is the admin's
//!   choice), the runtimes' mirror configurations (binfmt/mirror-clients/)
//!   and the mirror's example configuration, as shipped in the repository;
//! - maintainer scripts: postinst registers the binfmt_misc entry through
//!   systemd-binfmt where systemd runs, else with `transit binfmt install`;
//!   prerm removes it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::host::Arch;
use crate::{build, setup, step};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const PACKAGE: &str = "transit";
const ARCH: &str = "arm64";

pub fn run() -> Result<()> {
    let arch = Arch::of_host()?;
    setup::ensure_prerequisites(arch)?;
    let transit = build::build_transit()?;
    step::header("Building the Debian package");
    let deb = build_package(&transit, &crate::target_dir().join("debian"))?;
    println!("    built {}", deb.display());
    Ok(())
}

/// Packages `transit` (an aarch64 build) as `OUT/transit_VERSION_arm64.deb`.
pub fn build_package(transit: &Path, out: &Path) -> Result<PathBuf> {
    let root = crate::workspace_root();
    let stage = out.join(format!("{PACKAGE}_{VERSION}_{ARCH}"));
    if stage.exists() {
        std::fs::remove_dir_all(&stage).with_context(|| format!("cannot empty {}", stage.display()))?;
    }
    let bin = stage.join("usr/bin/transit");
    create_parent(&bin)?;
    // Debug info stays in target/: the package is what runs.
    step::run(Command::new(strip_tool()?).args(["--strip-debug", "-o"]).arg(&bin).arg(transit))?;
    let mut generate = aarch64_command(&bin)?;
    step::run(generate.arg("--package-files").arg(&stage))?;
    for page in std::fs::read_dir(stage.join("usr/share/man/man1"))? {
        // Debian policy 12.1: manual pages are compressed, reproducibly (-n).
        step::run(Command::new("gzip").args(["-9", "-n"]).arg(page?.path()))?;
    }

    let unit = std::fs::read_to_string(root.join("binfmt/systemd/transit-mirror.service"))?;
    if !unit.contains("/usr/local/bin/transit mirror") {
        bail!("binfmt/systemd/transit-mirror.service no longer runs /usr/local/bin/transit mirror: update xtask/src/deb.rs");
    }
    write(&stage.join("usr/lib/systemd/system/transit-mirror.service"), &unit.replace("/usr/local/bin/transit", "/usr/bin/transit"))?;
    let clients = stage.join("usr/share/transit/mirror-clients");
    for file in std::fs::read_dir(root.join("binfmt/mirror-clients"))? {
        let file = file?;
        copy(&file.path(), &clients.join(file.file_name()))?;
    }
    let doc = stage.join("usr/share/doc/transit");
    copy(&root.join("binfmt/mirror.toml.example"), &doc.join("examples/mirror.toml"))?;
    write(&doc.join("copyright"), COPYRIGHT)?;

    let debian = stage.join("DEBIAN");
    write(&debian.join("control"), &control(installed_size_kib(&stage)?))?;
    for (name, text) in [("postinst", POSTINST), ("prerm", PRERM)] {
        let path = debian.join(name);
        write(&path, text)?;
        set_mode(&path, 0o755)?;
    }
    let deb = out.join(format!("{PACKAGE}_{VERSION}_{ARCH}.deb"));
    step::run(Command::new("dpkg-deb").args(["--root-owner-group", "-Zxz", "--build"]).arg(&stage).arg(&deb))?;
    Ok(deb)
}

fn control(installed_size: u64) -> String {
    format!(
        "Package: {PACKAGE}\n\
         Version: {VERSION}\n\
         Architecture: {ARCH}\n\
         Maintainer: Transit developers <transit@invalid>\n\
         Installed-Size: {installed_size}\n\
         Section: utils\n\
         Priority: optional\n\
         Description: run x86_64 Linux programs and containers on arm64\n \
         Transit translates x86_64 machine code into arm64 code as it runs and\n \
         emulates the x86_64 Linux system calls. It registers itself with the\n \
         kernel's binfmt_misc, so amd64 programs and container images run as if\n \
         native. `transit mirror` serves amd64 images where a registry has none\n \
         for arm64 (transit-mirror.service, not enabled by default).\n"
    )
}

/// systemd-binfmt registers every binfmt.d file at start (its stop
/// unregisters them, so a restart picks up a changed line). Without
/// systemd (containers, other inits) Transit registers itself. A host where
/// binfmt_misc cannot be written still gets the package installed.
const POSTINST: &str = r#"#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
        systemctl restart systemd-binfmt.service ||
            echo "transit: systemd-binfmt failed; register with: transit binfmt install" >&2
    else
        /usr/bin/transit binfmt install ||
            echo "transit: not registered with binfmt_misc; run: transit binfmt install" >&2
    fi
fi
exit 0
"#;

/// Unregisters at removal and before an upgrade (postinst registers the
/// new binary: with the F flag the kernel would keep running the old one).
/// Only the package's binfmt.d file is named: one an admin wrote in
/// /etc/binfmt.d stays.
const PRERM: &str = r#"#!/bin/sh
set -e
case "$1" in
remove|upgrade|deconfigure)
    if [ -d /run/systemd/system ]; then
        systemctl stop transit-mirror.service 2>/dev/null || true
    fi
    /usr/bin/transit binfmt uninstall --binfmt-d /usr/lib/binfmt.d ||
        echo "transit: could not remove the binfmt_misc entry; run: transit binfmt uninstall" >&2
    ;;
esac
exit 0
"#;

const COPYRIGHT: &str = "\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: transit

Files: *
License: MIT or Apache-2.0
";

/// A command that runs the aarch64 program `program` on this host.
fn aarch64_command(program: &Path) -> Result<Command> {
    Ok(match Arch::of_host()?.aarch64_runner() {
        Some(runner) => {
            let mut command = Command::new(runner);
            command.arg(program);
            command
        }
        None => Command::new(program),
    })
}

/// A strip that reads aarch64 ELF files, on either host.
fn strip_tool() -> Result<&'static str> {
    let candidates = match Arch::of_host()? {
        Arch::X86_64 => ["aarch64-linux-gnu-strip", "llvm-strip"],
        Arch::Aarch64 => ["strip", "llvm-strip"],
    };
    candidates
        .into_iter()
        .find(|tool| step::probe(Command::new(tool).arg("--version")).is_some())
        .context("no strip for aarch64 files (binutils-aarch64-linux-gnu or llvm)")
}

/// dpkg's Installed-Size: KiB, each file rounded up (deb-control(5) allows an estimate).
fn installed_size_kib(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if entry.file_name() == "DEBIAN" {
            continue;
        }
        total += if kind.is_dir() { installed_size_kib(&entry.path())? } else { entry.metadata()?.len().div_ceil(1024) };
    }
    Ok(total)
}

fn create_parent(path: &Path) -> Result<()> {
    let parent = path.parent().expect("a file in a directory");
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    create_parent(path)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    set_mode(path, 0o644)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    create_parent(to)?;
    std::fs::copy(from, to).with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    set_mode(to, 0o644)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).with_context(|| format!("cannot chmod {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::TRANSIT_TARGET;

    fn dpkg_deb(args: &[&str], deb: &Path) -> String {
        let output = Command::new("dpkg-deb").args(args).arg(deb).output().expect("dpkg-deb runs");
        assert!(output.status.success(), "dpkg-deb {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8")
    }

    /// Packages the release build `cargo xtask build` (or `test`) made, and
    /// reads the package back as dpkg sees it.
    #[test]
    fn the_package_holds_transit_its_registration_man_pages_and_the_mirror_files() {
        let transit = crate::target_dir().join(TRANSIT_TARGET).join("release/transit");
        assert!(transit.is_file(), "{} is missing: run `cargo xtask build` first", transit.display());
        let out = crate::target_dir().join("debian-test");
        let deb = build_package(&transit, &out).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(deb.file_name().unwrap().to_str().unwrap(), format!("transit_{VERSION}_arm64.deb"));

        for (field, value) in [("Package", "transit"), ("Version", VERSION), ("Architecture", "arm64")] {
            assert_eq!(dpkg_deb(&["-f"], &deb).lines().find_map(|l| l.strip_prefix(&format!("{field}: "))), Some(value), "{field}");
        }
        let listing = dpkg_deb(&["-c"], &deb);
        let files: Vec<(&str, &str)> = listing
            .lines()
            .filter_map(|l| {
                let mut parts = l.split_whitespace();
                let mode = parts.next()?;
                Some((mode, parts.nth(4)?.trim_start_matches('.')))
            })
            .collect();
        let mode_of = |path: &str| files.iter().find(|(_, p)| *p == path).map(|(m, _)| *m);
        assert_eq!(mode_of("/usr/bin/transit"), Some("-rwxr-xr-x"), "{listing}");
        for path in [
            "/usr/lib/binfmt.d/transit-x86_64.conf",
            "/usr/lib/systemd/system/transit-mirror.service",
            "/usr/share/man/man1/transit.1.gz",
            "/usr/share/man/man1/transit-binfmt.1.gz",
            "/usr/share/man/man1/transit-binfmt-install.1.gz",
            "/usr/share/man/man1/transit-mirror.1.gz",
            "/usr/share/transit/mirror-clients/containerd-hosts.toml",
            "/usr/share/transit/mirror-clients/containers-registries.conf",
            "/usr/share/transit/mirror-clients/docker-daemon.json",
            "/usr/share/transit/mirror-clients/k3s-registries.yaml",
            "/usr/share/doc/transit/examples/mirror.toml",
            "/usr/share/doc/transit/copyright",
        ] {
            assert_eq!(mode_of(path), Some("-rw-r--r--"), "{path} in:\n{listing}");
        }
        assert!(listing.lines().all(|l| l.contains(" root/root ")), "owned by root:\n{listing}");

        // The staging tree is what dpkg-deb packed.
        let stage = out.join(format!("transit_{VERSION}_arm64"));
        let conf = std::fs::read_to_string(stage.join("usr/lib/binfmt.d/transit-x86_64.conf")).unwrap();
        let line = conf.lines().find(|l| !l.starts_with('#')).unwrap();
        assert!(line.starts_with(":transit-x86_64:M:0:\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01"), "{line}");
        assert!(line.ends_with(":/usr/bin/transit:POCF"), "{line}");
        let unit = std::fs::read_to_string(stage.join("usr/lib/systemd/system/transit-mirror.service")).unwrap();
        assert!(unit.contains("\nExecStart=/usr/bin/transit mirror "), "{unit}");
        let scripts = dpkg_deb(&["-I"], &deb);
        assert!(scripts.contains(" postinst") && scripts.contains(" prerm"), "{scripts}");

        // The packaged binary is the one built, and says which version it is.
        let version = aarch64_command(&stage.join("usr/bin/transit")).unwrap().arg("--version").output().unwrap();
        assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("transit {VERSION}"));
        let man = Command::new("gzip").arg("-dc").arg(stage.join("usr/share/man/man1/transit.1.gz")).output().unwrap();
        let man = String::from_utf8_lossy(&man.stdout);
        for option in ["perf\\-map", "strace", "rootfs"] {
            assert!(man.contains(option), "transit.1 documents --{option}:\n{man}");
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}
