//! `cargo xtask`: the project's developer and CI entry points (see README.md).
//!
//! Each command lives in its own module; `setup` is the step they share:
//! bring this host up to the prerequisites Transit needs to build and be tested.

mod arm64_vm;
mod bench;
mod binfmt;
mod bless;
mod build;
mod codegen_listing;
mod compat;
mod cpython_tests;
mod deb;
mod demo;
mod difftest;
mod fuzz;
mod host;
mod qemu_afp;
mod setup;
mod soak;
mod stress;
mod step;
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  demo    install prerequisites, build Transit, run an example x86_64 program through it
  test    install prerequisites, build Transit, run the unit and end-to-end tests
  build   install prerequisites and build Transit (release, aarch64)
  deb     build Transit and package it: target/debian/transit_VERSION_arm64.deb
  difftest [--count N] [--seed S] [--coverage] [--level L] [--afp] [--async-signals N]
          differential tests: instruction sequences on this x86_64 CPU and translated
          (--afp: on qemu 10's FEAT_AFP CPU; one case in N takes an asynchronous signal, default 4)
  arm64-vm
          build (cached) and boot an emulated arm64 Debian VM and run the tests that need a
          real arm64 userland: binfmt_misc F/P/O/C, podman amd64 containers, transit mirror
  codegen-listing [--check]
          regenerate benches/results/codegen-listing.md, the aarch64 code of each x86 form
          (--check: fail if it is stale)
  bench [--qemu] [--cold-only] [--label NAME] [WORKLOAD...]
          ../shared/bench with this build: native, Transit with the code cache off and warm
          (and QEMU with --qemu) in one table, saved as benches/results/transit-DATE-NAME.{md,json}
  bless   regenerate tests/programs/expected/ by running the test programs natively (x86_64 hosts)
  signal-stress [--runs N]
          the signal programs of tests/programs, natively and under Transit, N times (default 20)
  jit-stress [--runs N]
          the Java tests of the JIT runtimes suite, natively and under Transit, N times (default 10)
  cpython-tests [--runs N] [MODULE...]
          CPython's regression tests natively and N times under Transit, compared test by test
          (default: test_signal test_threading test_subprocess)
  compat [NAME...]
          real Debian programs (tests/compat/cases.txt) natively and under Transit, compared
  soak [--minutes N] [--max-growth-mib M]
          thread churn under Transit for N minutes (default 10), resident memory watched
  fuzz-elf [--count N] [--seed S] [--first I]
          N mutated x86_64 programs under Transit (default 10000): no panic, fault or hang of its own
  fuzz-syscalls [--seconds N] [--seed S]
          a guest calling random syscalls under Transit for N seconds (default 600)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(),
        Some("test") => test::run(),
        Some("build") => build::run(),
        Some("deb") => deb::run(),
        Some("bless") => bless::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("codegen-listing") => codegen_listing::run(&args[1..]),
        Some("arm64-vm") => arm64_vm::run(),
        Some("difftest") => difftest::run(&args[1..]),
        Some("signal-stress") => stress::run(&stress::SIGNALS, &args[1..]),
        Some("jit-stress") => stress::run(&stress::JIT, &args[1..]),
        Some("cpython-tests") => cpython_tests::run(&args[1..]),
        Some("compat") => compat::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("fuzz-elf") => fuzz::elf(&args[1..]),
        Some("fuzz-syscalls") => fuzz::syscalls(&args[1..]),
        Some("help" | "-h" | "--help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask's manifest lives one level below it.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is a workspace member, so its manifest dir has a parent")
        .to_path_buf()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` like cargo does.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}
