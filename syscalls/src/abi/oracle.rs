//! Test support: the host gcc as the x86_64 ABI oracle.
//!
//! The build machine is x86_64, so its gcc lays out structs exactly as the
//! guest's C library does. A spawned x86_64 program runs natively even while
//! the test itself runs under qemu-aarch64.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Compiles and runs `source` with an x86_64 gcc and returns its stdout, or
/// `None` (with a note on stderr) when there is no such compiler here.
pub(crate) fn run_x86_64_c(source: &str) -> Option<String> {
    compile_and_run("gcc", "x86_64", None, source)
}

/// The same for aarch64, with the cross compiler, run under qemu-user
/// if it is installed (else directly, as on an aarch64 machine).
pub(crate) fn run_aarch64_c(source: &str) -> Option<String> {
    compile_and_run(
        "aarch64-linux-gnu-gcc",
        "aarch64",
        Some("qemu-aarch64-static"),
        source,
    )
}

fn compile_and_run(
    gcc: &str,
    target: &str,
    emulator: Option<&str>,
    source: &str,
) -> Option<String> {
    let Some(machine) = Command::new(gcc).arg("-dumpmachine").output().ok() else {
        eprintln!("skipped: no {gcc}");
        return None;
    };
    if !String::from_utf8_lossy(&machine.stdout).starts_with(target) {
        eprintln!("skipped: {gcc} does not target {target}");
        return None;
    }
    // Tests run in parallel: one directory per call.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("transit-abi-oracle-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, exe) = (dir.join("oracle.c"), dir.join("oracle"));
    std::fs::write(&src, source).unwrap();
    let status = Command::new(gcc)
        .arg("-static")
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(status.success(), "{gcc} failed on:\n{source}");
    // Prefer the emulator when there is one: spawning a foreign binary
    // directly can "succeed" through a shell fallback with exit code 127.
    let out = match emulator.and_then(|e| Command::new(e).arg(&exe).output().ok()) {
        Some(out) => out,
        None => Command::new(&exe).output().unwrap(),
    };
    assert!(
        out.status.success(),
        "{} failed: {:?} {}",
        exe.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Some(String::from_utf8(out.stdout).unwrap())
}
