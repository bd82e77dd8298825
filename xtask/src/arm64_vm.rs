//! `cargo xtask arm64-vm`: the end-to-end tests that need a real arm64
//! userland (binfmt_misc's F, P, O and C flags, podman running amd64
//! images, `transit mirror` for an amd64-only index, `cargo xtask deb`'s
//! package installed and removed, a pod run through containerd's CRI
//! plugin). They run in an
//! emulated arm64 Debian VM that tests/arm64-vm/vm.sh builds (cached) and
//! boots; tests/arm64-vm/guest-tests.sh is what runs inside.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::host::{Arch, Package, TRANSIT_TARGET};
use crate::{build, setup, step};

pub fn run() -> Result<()> {
    let arch = Arch::of_host()?;
    if arch != Arch::X86_64 {
        anyhow::bail!("the arm64 VM tests run on x86_64 Debian hosts (tests/arm64-vm/vm.sh)");
    }
    setup::ensure_prerequisites(arch)?;
    // The CRI client's build script (k8s-cri) compiles protobuf definitions.
    setup::install_missing_packages(&[Package { name: "protobuf-compiler", provides: "/usr/bin/protoc" }])?;
    let transit = build::build_transit()?;
    let dir = crate::workspace_root().join("tests/arm64-vm");
    let payload = crate::target_dir().join("arm64-vm");
    // Only what is built below goes to the VM.
    if payload.exists() {
        std::fs::remove_dir_all(&payload).with_context(|| format!("cannot empty {}", payload.display()))?;
    }
    build_program(arch, &dir.join("probe.c"), &payload.join("probe"), &[])?;
    build_program(arch, &dir.join("level_probe.S"), &payload.join("level_probe"), &["-nostdlib"])?;
    // SIGBUS sent to the process while threads end: qemu-user itself loses
    // one that reaches an exiting thread now and then, so it runs here only.
    let fault_signals = dir.join("fault_signals_around_thread_exits.c");
    build_program(arch, &fault_signals, &payload.join("fault_signals_around_thread_exits"), &["-pthread"])?;
    step::run(Command::new("musl-gcc").args(["-O2", "-static", "-o"]).arg(payload.join("fault_signals_around_thread_exits_musl")).arg(&fault_signals))?;
    // A signalfd reading SIGSEGV and SIGBUS sent while blocked: qemu-user
    // keeps those two for itself. Its output on x86_64 Linux is beside it.
    build_program(arch, &dir.join("signalfd_segv_bus.c"), &payload.join("signalfd_segv_bus"), &[])?;
    std::fs::copy(dir.join("signalfd_segv_bus.expected"), payload.join("signalfd_segv_bus.expected"))
        .context("cannot copy signalfd_segv_bus.expected")?;
    // Test programs whose point only a real arm64 kernel shows: on the VM's
    // 48-bit kernel the host's space is wider than x86_64's; qemu-user
    // takes a fault signal a process queues to itself for its own fault,
    // and keeps a signal for the process that an exiting thread caught.
    let root_programs = crate::workspace_root().join("tests/programs");
    let programs = [
        ("address_space.c", "address_space"),
        ("signals/self_queued_faults.c", "self_queued_faults"),
        ("signals/exiting_thread_signals.c", "exiting_thread_signals"),
        // Threads on a real kernel's timing (a thread create and join
        // crashed there alone: cache::CodeCache::set_memory_order).
        ("threads/threads_basic.c", "threads_basic"),
        ("threads/thread_signal_storm.c", "thread_signal_storm"),
        ("threads/tso_misaligned.c", "tso_misaligned"),
        // A thread running on after the first one exited: the kernel finds
        // no memory behind the process id (qemu-user hides it).
        ("threads/leader_exited.c", "leader_exited"),
        // A vfork child's writes carried back through mprotect, write
        // faults and process_vm_writev as a real kernel does them.
        ("process/vfork_shared_writes.c", "vfork_shared_writes"),
        // seccomp filters across an exec that binfmt_misc serves.
        ("process/seccomp_filters.c", "seccomp_filters"),
    ];
    for (source, name) in programs {
        build_program(arch, &root_programs.join(source), &payload.join(name), &["-pthread"])?;
        std::fs::copy(root_programs.join(format!("expected/{name}.stdout")), payload.join(format!("{name}.expected")))
            .with_context(|| format!("cannot copy the expected output of {name}"))?;
    }
    // The soak (run only when CHECKS names soak-thread-churn; SOAK_SECONDS
    // long, 10 minutes by default).
    build_program(arch, &root_programs.join("../soak/thread_churn.c"), &payload.join("thread_churn"), &["-pthread"])?;
    // The installer image is built in the VM from the Transit under test,
    // and the runtimes use the mirror through the shipped configurations.
    let root = crate::workspace_root();
    let clients = ["containerd-hosts.toml", "containers-registries.conf", "docker-daemon.json"];
    let shipped = std::iter::once(root.join("binfmt/Dockerfile"))
        .chain(clients.iter().map(|name| root.join("binfmt/mirror-clients").join(name)));
    for file in shipped {
        let name = file.file_name().expect("a file name");
        std::fs::copy(&file, payload.join(name)).with_context(|| format!("cannot copy {}", file.display()))?;
    }
    // The Debian package of the same Transit, which the guest installs and
    // removes (vm.sh copies the payload's files, not directories: the
    // package is built beside it).
    // The kubelet stand-in that drives containerd's CRI plugin.
    let client = build_cri_client(&dir.join("cri-client/Cargo.toml"))?;
    std::fs::copy(&client, payload.join("cri-client")).with_context(|| format!("cannot copy {}", client.display()))?;
    let deb = crate::deb::build_package(&transit, &crate::target_dir().join("arm64-vm-deb"))?;
    std::fs::copy(&deb, payload.join("transit.deb")).with_context(|| format!("cannot copy {}", deb.display()))?;
    step::header("Running the arm64 VM tests (tests/arm64-vm/vm.sh)");
    let script = dir.join("vm.sh");
    let mut argv = vec![
        "env".to_string(),
        format!("TRANSIT={}", transit.display()),
        format!("PAYLOAD={}", payload.display()),
    ];
    // Passed through explicitly: sudo would drop them.
    for name in ["W", "CPU", "SUITE", "MIRROR", "VM_TIMEOUT", "CHECKS", "SOAK_SECONDS"] {
        if let Ok(value) = std::env::var(name) {
            argv.push(format!("{name}={value}"));
        }
    }
    argv.extend(["bash".to_string(), script.display().to_string()]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    step::run(&mut setup::privileged(&argv)?)
}

/// An x86_64 program the guest tests run: static, so that a chroot or a
/// container needs nothing else.
fn build_program(arch: Arch, source: &Path, output: &Path, flags: &[&str]) -> Result<()> {
    std::fs::create_dir_all(output.parent().expect("a file in a directory"))
        .with_context(|| format!("cannot create {}", output.display()))?;
    step::run(
        Command::new(arch.x86_64_cc())
            .args(["-O2", "-static"])
            .args(flags)
            .arg("-o")
            .arg(output)
            .arg(source),
    )
}

/// tests/arm64-vm/cri-client, an aarch64 program (static, as Transit is:
/// the workspace's .cargo/config.toml applies) in a workspace and target
/// directory of its own, so that tonic and prost stay out of Transit's.
fn build_cri_client(manifest: &Path) -> Result<std::path::PathBuf> {
    step::header("Building the CRI client (tests/arm64-vm/cri-client)");
    let target_dir = crate::target_dir().join("cri-client");
    step::run(
        build::cargo()
            .current_dir(crate::workspace_root())
            .args(["build", "--release", "--locked", "--target", TRANSIT_TARGET, "--manifest-path"])
            .arg(manifest)
            .arg("--target-dir")
            .arg(&target_dir),
    )?;
    Ok(target_dir.join(TRANSIT_TARGET).join("release/cri-client"))
}
