//! The end-to-end harness. The x86_64 C and C++ programs in `tests/programs/`
//! are compiled for several libc, optimisation, linking and -march variants
//! and run under Transit; what they print and how they end is compared with
//! a reference. The host CPU is the oracle where it is x86_64; elsewhere the
//! reference is `tests/programs/expected/`, written by `cargo xtask bless` on
//! an x86_64 host.
//!
//! - [`binfmt_ns`]: a private binfmt_misc in a namespace of its own.
//! - [`catalog`]: which programs exist and how each is invoked.
//! - [`toolchain`]: compiling a program for a variant, cached by content.
//! - [`process`]: running one invocation into an [`outcome::Outcome`].
//! - [`transit`]: finding Transit (`TRANSIT_BIN`, `TRANSIT_RUNNER`).
//! - [`outcome`]: what a run produced, and how two runs differ.
//! - [`expected`]: the checked-in reference outcomes.
//! - [`fuzz`]: mutated programs and random syscalls, which must never
//!   break Transit itself.
//! - [`host_programs`]: the host's own amd64 programs, native against Transit.
//! - [`known_failures`]: runs that are allowed not to match yet.
//! - [`parallel`]: spreading the runs over the host's cores (`cargo xtask
//!   bless`; the programs suite leaves it to its test harness's threads).

pub mod binfmt_ns;
pub mod catalog;
pub mod expected;
pub mod fuzz;
pub mod host_programs;
pub mod known_failures;
pub mod outcome;
pub mod parallel;
pub mod process;
pub mod toolchain;
pub mod transit;

use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Where the harness keeps builds and run directories: under cargo's target
/// directory, so `cargo clean` removes them.
pub fn work_dir(what: &str) -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_root().join(dir),
        _ => workspace_root().join("target"),
    };
    target.join("transit-tests").join(what)
}

/// True where x86_64 programs run natively, so the host is the oracle.
pub fn host_runs_x86_64() -> bool {
    cfg!(target_arch = "x86_64")
}
