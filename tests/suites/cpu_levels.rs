//! The x86-64 level Transit presents (`--cpu`, `TRANSIT_CPU`): every way a
//! program asks (CPUID, glibc's `__builtin_cpu_supports`, AT_HWCAP,
//! /proc/cpuinfo) gives the same answer, a child inherits it, and an
//! instruction above the level raises SIGILL. `cpu_level_probe.c` (next
//! to this file) reports what it sees.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use transit_tests::outcome::{Outcome, Termination};
use transit_tests::transit::Transit;
use transit_tests::{process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(60);

/// x86-64-v3 with AES/PCLMUL: AVX, AVX2, FMA, F16C, and XSAVE with the
/// YMM component in XCR0 (7): what the default level reports.
const V3: [&str; 5] = [
    "cpuid1.ecx sse3 1 ssse3 1 sse4.1 1 sse4.2 1 popcnt 1 aes 1 pclmul 1 cx16 1 avx 1 fma 1 f16c 1",
    "builtin sse3 1 ssse3 1 sse4.1 1 sse4.2 1 popcnt 1 aes 1 pclmul 1 avx 1 avx2 1 bmi 1",
    // FPU TSC CX8 CMOV CLFSH MMX FXSR SSE SSE2.
    "hwcap 0x7888111",
    "cpuinfo pni 1 ssse3 1 sse4_2 1 popcnt 1 aes 1 avx 1",
    "xsave cpuid 1 osxsave 1 xcr0 7 leaf_d 7 xsavec 1 cpuinfo 1 1",
];

/// x86-64-v2 and AES/PCLMUL, the scalar v3 extensions (BMI1...) and XSAVE
/// for x87 and SSE, without AVX.
const V2: [&str; 5] = [
    "cpuid1.ecx sse3 1 ssse3 1 sse4.1 1 sse4.2 1 popcnt 1 aes 1 pclmul 1 cx16 1 avx 0 fma 0 f16c 0",
    "builtin sse3 1 ssse3 1 sse4.1 1 sse4.2 1 popcnt 1 aes 1 pclmul 1 avx 0 avx2 0 bmi 1",
    // FPU TSC CX8 CMOV CLFSH MMX FXSR SSE SSE2.
    "hwcap 0x7888111",
    "cpuinfo pni 1 ssse3 1 sse4_2 1 popcnt 1 aes 1 avx 0",
    "xsave cpuid 1 osxsave 1 xcr0 3 leaf_d 3 xsavec 1 cpuinfo 1 1",
];

const V1: [&str; 5] = [
    "cpuid1.ecx sse3 0 ssse3 0 sse4.1 0 sse4.2 0 popcnt 0 aes 0 pclmul 0 cx16 0 avx 0 fma 0 f16c 0",
    "builtin sse3 0 ssse3 0 sse4.1 0 sse4.2 0 popcnt 0 aes 0 pclmul 0 avx 0 avx2 0 bmi 0",
    "hwcap 0x7888111",
    "cpuinfo pni 0 ssse3 0 sse4_2 0 popcnt 0 aes 0 avx 0",
    "xsave cpuid 0 osxsave 0 xcr0 0 leaf_d 0 xsavec 0 cpuinfo 0 0",
];

fn probe() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| transit_tests::toolchain::build_suite_program("cpu_level_probe"))
}

fn run(case: &str, options: &[&str], env: &[(&str, &str)], args: &[&str]) -> Outcome {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let options: Vec<&OsStr> = options.iter().map(OsStr::new).collect();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let command = transit.command_with_options(&options, probe(), &args);
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, OsStr::new(*v))).collect();
    process::run_with_env(command, &env, b"", &work_dir("cpu-levels").join(case), TIMEOUT).expect("can start Transit")
}

fn report(outcome: &Outcome) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    assert!(
        matches!(outcome.termination, Termination::Exited(0)),
        "the probe ended with {}; stdout:\n{stdout}\nstderr:\n{}",
        outcome.termination,
        String::from_utf8_lossy(&outcome.stderr)
    );
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn the_default_level_is_x86_64_v3_with_aes_and_pclmul() {
    assert_eq!(report(&run("default", &[], &[], &[])), V3);
    assert_eq!(report(&run("v3-option", &["--cpu", "x86-64-v3"], &[], &[])), V3);
}

#[test]
fn lower_levels_are_reported_everywhere_and_inherited() {
    assert_eq!(report(&run("v1-option", &["--cpu", "x86-64-v1"], &[], &[])), V1);
    assert_eq!(report(&run("v1-env", &[], &[("TRANSIT_CPU", "x86-64-v1")], &[])), V1);
    // The child is a new Transit: the option must reach it.
    assert_eq!(report(&run("v1-child", &["--cpu", "x86-64-v1"], &[], &["exec"])), V1);
    assert_eq!(report(&run("v2-env", &[], &[("TRANSIT_CPU", "x86-64-v2")], &[])), V2);
    assert_eq!(report(&run("v2-child", &["--cpu", "x86-64-v2"], &[], &["exec"])), V2);
}

#[test]
fn an_instruction_above_the_level_raises_sigill() {
    let default = run("popcnt-default", &[], &[], &["popcnt"]);
    assert_eq!(report(&default), ["popcnt 8"]);
    let v1 = run("popcnt-v1", &["--cpu", "x86-64-v1"], &[], &["popcnt"]);
    assert!(matches!(v1.termination, Termination::Signaled(libc::SIGILL)), "popcnt on x86-64-v1 ended with {}", v1.termination);
    assert_eq!(report(&run("avx2-v3", &[], &[], &["avx2"])), ["avx2 15"]);
    let v2 = run("avx2-v2", &["--cpu", "x86-64-v2"], &[], &["avx2"]);
    assert!(matches!(v2.termination, Termination::Signaled(libc::SIGILL)), "AVX2 on x86-64-v2 ended with {}", v2.termination);
}

#[test]
fn an_unknown_level_is_refused_before_the_program_runs() {
    let outcome = run("unknown", &[], &[("TRANSIT_CPU", "x86-64-v9")], &[]);
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    assert!(matches!(outcome.termination, Termination::Exited(2)), "ended with {}; stderr:\n{stderr}", outcome.termination);
    assert!(stderr.contains("x86-64-v9") && stderr.contains("x86-64-v1"), "stderr:\n{stderr}");
    assert!(outcome.stdout.is_empty());
}
