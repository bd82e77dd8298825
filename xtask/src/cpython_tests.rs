//! `cargo xtask cpython-tests [--runs N] [MODULE...]`: CPython's own
//! regression tests (Debian's python3 and libpython3.11-testsuite), natively
//! and N times under Transit (default 1), compared test case by test case
//! (tests/cpython/compare_regrtest.py). The default modules are the
//! signal-heavy ones: test_signal, test_threading and test_subprocess.

use anyhow::{bail, Context, Result};

use crate::build::build_transit;
use crate::host::{Arch, Package};
use crate::{setup, step};

const DEFAULT_MODULES: [&str; 3] = ["test_signal", "test_threading", "test_subprocess"];
const TESTSUITE: Package = Package { name: "libpython3.11-testsuite", provides: "/usr/lib/python3.11/test/test_signal.py" };

pub fn run(args: &[String]) -> Result<()> {
    let mut runs = 1usize;
    let mut modules = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            module if !module.starts_with('-') => modules.push(module.to_string()),
            other => bail!("unknown cpython-tests argument `{other}`"),
        }
    }
    if modules.is_empty() {
        modules = DEFAULT_MODULES.map(String::from).to_vec();
    }
    let arch = Arch::of_host()?;
    if arch != Arch::X86_64 {
        bail!("the reference is the native amd64 python3: this needs an x86_64 host");
    }
    setup::ensure_prerequisites(arch)?;
    setup::install_missing_packages(&[TESTSUITE])?;
    let transit = build_transit()?;
    let runner = arch.aarch64_runner().unwrap_or("");
    step::header(format!("CPython regression tests {}: native, then {runs} run(s) under Transit", modules.join(" ")));
    let script = crate::workspace_root().join("tests/cpython/compare_regrtest.py");
    let logs = crate::target_dir().join("cpython-tests");
    let mut compare = std::process::Command::new("python3");
    compare
        .arg(script)
        .args(["--transit", &format!("{runner} {}", transit.display())])
        .args(["--runs", &runs.to_string()])
        .arg("--logs")
        .arg(&logs)
        .args(&modules)
        // Transit is static. With a prefix, qemu-user would look every path
        // Transit opens up under it first (a guest listing / saw its files).
        .env_remove("QEMU_LD_PREFIX");
    if !step::status(&mut compare)?.success() {
        bail!("CPython's tests do not give the same results under Transit (logs in {})", logs.display());
    }
    Ok(())
}
