//! The whole route on an arm64 node: an amd64-only image pulled through
//! the mirror, then run by runc, its amd64 program started by the kernel
//! through binfmt_misc and Transit.
//!
//! The binfmt_misc is a private one (`binfmt_ns`: `unshare -Urm`, never
//! the host's), with Transit registered by its test-only tag, as in
//! `binfmt.rs`; the image's program is a tagged copy of a test program,
//! so only Transit can have run it (the kernel would run an untagged copy
//! itself on an x86_64 host). runc runs as root of that user namespace,
//! the container sharing it. `TRANSIT_PROCESS_LOG`, set in the container,
//! proves Transit ran the program: Transit writes it from inside.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use transit_tests::binfmt_ns::{unavailable, PRELUDE};
use transit_tests::catalog;
use transit_tests::expected;
use transit_tests::outcome::Termination;
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;

use crate::images::Image;
use crate::services::{run, Mirror, Registry, Scratch};
use crate::skopeo::{copied, pull_arm64};

const RUN: Duration = Duration::from_secs(120);
/// A test program with fixed output and no arguments or input.
const PROGRAM: &str = "sha256";
/// e_ident[15]: the byte `--test-only-tagged` matches.
const TAG_OFFSET: usize = 15;

/// An OCI runtime configuration with only what the program needs: its
/// own PID, mount, IPC, UTS and network namespaces and /proc.
fn oci_config(program: &str) -> String {
    format!(
        r#"{{"ociVersion":"1.0.2",
"process":{{"terminal":false,"user":{{"uid":0,"gid":0}},"args":["/{program}"],
  "env":["PATH=/usr/bin:/bin","TRANSIT_PROCESS_LOG=/process.log"],"cwd":"/"}},
"root":{{"path":"rootfs"}},
"mounts":[{{"destination":"/proc","type":"proc","source":"proc"}}],
"linux":{{"namespaces":[{{"type":"pid"}},{{"type":"mount"}},{{"type":"ipc"}},{{"type":"uts"}},{{"type":"network"}}]}}}}"#
    )
}

/// In the private namespace: qemu for aarch64 with O as well as F on an
/// x86_64 host, since the container's root holds neither qemu nor Transit.
/// F opens both at registration, but the kernel hands Transit to qemu (the
/// second hop) by path, which the container cannot resolve; with O it
/// hands over an open file. On arm64 Transit is the only hop.
const SCRIPT: &str = r#"
mount_private
register_aarch64 OF
install_transit >/dev/null
exec runc --root "$W/runc" run --bundle "$W/bundle" transit-mirror-test
"#;

/// A tagged build of PROGRAM.
fn tagged_program() -> Vec<u8> {
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let program = programs.iter().find(|p| p.name == PROGRAM).unwrap_or_else(|| panic!("no test program {PROGRAM}"));
    assert!(program.args.is_empty() && program.stdin.is_empty(), "{PROGRAM} takes no arguments or input");
    let variant = toolchain.variants().next().expect("every host has a variant");
    let binary = toolchain.build(program, variant).unwrap_or_else(|e| panic!("{e}"));
    let mut bytes = std::fs::read(&binary).unwrap();
    bytes[TAG_OFFSET] = 1;
    bytes
}

#[test]
fn an_amd64_image_pulled_through_the_mirror_runs_under_transit_in_runc() {
    if let Some(reason) = unavailable() {
        eprintln!("SKIPPED runc test: {reason}");
        return;
    }
    let dir = Scratch::new("runc");
    let registry = Registry::start(&dir.0);
    let amd64 = Image::with_file("amd64", PROGRAM, 0o755, &tagged_program(), &[&format!("/{PROGRAM}")]);
    registry.push("amd64-program", "1", &[&amd64]);
    let mirror = Mirror::start(&dir.0, &registry, true);
    let pull = pull_arm64(&dir.0, &registry, Some(&mirror), "amd64-program", "1");
    assert!(pull.ok, "pull through the mirror failed:\n{}", pull.stderr);
    assert!(copied(&pull.layout, &amd64.config.digest()) == amd64.config.bytes, "the amd64 image's config");

    // The bundle: the pulled layer unpacked, and the configuration.
    let rootfs = dir.0.join("bundle/rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    let layer = pull.layout.join(amd64.layer.digest().trim_start_matches("sha256:"));
    let untar = Command::new("tar").arg("-xf").arg(&layer).arg("-C").arg(&rootfs).status().unwrap();
    assert!(untar.success(), "cannot unpack the pulled layer");
    std::fs::write(dir.0.join("bundle/config.json"), oci_config(PROGRAM)).unwrap();

    let ran = run(in_private_binfmt(&dir.0), RUN);
    let reference = expected::load(PROGRAM).unwrap_or_else(|e| panic!("{e}")).expect("a blessed reference");
    assert_eq!(reference.termination, Termination::Exited(0));
    assert!(ran.ok, "runc run failed:\n{}", ran.stderr);
    assert!(ran.stdout.as_bytes() == reference.stdout, "the program's output differs from the reference:\n{}", ran.stdout);
    let log = std::fs::read_to_string(rootfs.join("process.log")).unwrap_or_default();
    let programs: Vec<&str> = log.lines().filter_map(|line| line.split_once(' ').map(|(_, program)| program)).collect();
    assert_eq!(programs, [format!("/{PROGRAM}")], "Transit's process log from inside the container:\n{log}");
}

/// `unshare -Urm sh -eu -c SCRIPT` with the variables PRELUDE needs.
fn in_private_binfmt(dir: &Path) -> Command {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let mount_point = dir.join("binfmt_misc");
    std::fs::create_dir_all(&mount_point).unwrap();
    let mut command = Command::new("unshare");
    command
        .args(["-Urm", "sh", "-eu", "-c"])
        .arg(format!("{PRELUDE}\n{SCRIPT}"))
        .env("M", &mount_point)
        .env("W", dir)
        .env("T", &transit.binary)
        .env("RUNNER", OsStr::from_bytes(transit.runner.join(" ").as_bytes()));
    command
}
