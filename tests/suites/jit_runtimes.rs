//! Language runtimes that generate machine code at run time, natively and
//! under Transit (`transit_tests::host_programs`: stdout, stderr, exit
//! status and the process log must match): HotSpot (java), Erlang's BEAM
//! JIT (erl), V8 (node) and LuaJIT, each with its JIT on, as installed by
//! Debian (`cargo xtask test` installs them). Their programs are in
//! tests/programs/runtimes/ and print only deterministic results.
//!
//! These are the slowest tests in CI: every write to JIT-generated code
//! invalidates translations. A runtime that does not run correctly under
//! Transit yet has its test ignored, with the reason.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use transit_tests::host_programs::{Comparison, Run};
use transit_tests::{host_runs_x86_64, work_dir, workspace_root};

const SUITE: Comparison = Comparison {
    work_dir: "jit-runtimes",
    // A JVM start natively is under a second, erl's shutdown a few.
    native_timeout: Duration::from_secs(60),
    // node's test takes about 4 minutes under Transit under qemu today.
    transit_timeout: Duration::from_secs(600),
};

fn source(name: &str) -> PathBuf {
    workspace_root().join("tests/programs/runtimes").join(name)
}

fn source_arg(name: &str) -> String {
    source(name).to_string_lossy().into_owned()
}

#[test]
fn java_version() {
    SUITE.check("java -version", &[Run::new("/usr/bin/java", &["-version"])]);
}

/// Workload.java: threads, collections and streams, NullPointerException,
/// ArrayIndexOutOfBoundsException and ArithmeticException thrown from
/// compiled code (HotSpot turns SIGSEGV and SIGFPE into them), and about
/// 120 MB of allocation through a 64 MB heap.
#[test]
fn java_workload() {
    let Some(classes) = java_classes() else { return };
    let classes = classes.to_string_lossy();
    SUITE.check(
        "java Workload",
        &[Run::new("/usr/bin/java", &["-Xmx64m", "-cp", &classes, "Workload"])],
    );
}

/// ThreadedJit.java: compiled code patched while other threads run it
/// (inline caches, their stubs, deoptimisation). `cargo xtask jit-stress`
/// runs it many times: the races it caught hit one run in five.
#[test]
fn java_threaded_jit() {
    let Some(classes) = java_classes() else { return };
    let classes = classes.to_string_lossy();
    SUITE.check(
        "java ThreadedJit",
        &[Run::new("/usr/bin/java", &["-cp", &classes, "ThreadedJit", "200"])],
    );
}

/// Workload.java and ThreadedJit.java compiled once, natively (javac is itself a Java program:
/// running it under Transit too would only double the time). `None` where
/// there is no native reference to compare with.
fn java_classes() -> Option<PathBuf> {
    if !host_runs_x86_64() {
        println!("java Workload: skipped, the native reference needs an x86_64 host");
        return None;
    }
    static CLASSES: OnceLock<PathBuf> = OnceLock::new();
    let classes = CLASSES.get_or_init(|| {
        let dir = work_dir("jit-runtimes").join("classes");
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let status = Command::new("/usr/bin/javac")
            .arg("-d")
            .arg(&dir)
            .arg(source("Workload.java"))
            .arg(source("ThreadedJit.java"))
            .status()
            .unwrap_or_else(|e| panic!("cannot run javac (Debian package openjdk-17-jdk-headless): {e}"));
        assert!(status.success(), "javac Workload.java ThreadedJit.java failed");
        dir
    });
    Some(classes.clone())
}

/// `erl -noshell -eval EXPR -s init stop` with the default (JIT) emulator:
/// 5000 processes answering a message each, a ring of 2000 processes, ets,
/// maps, a caught badarith, bignums. erl is a shell script: its commands
/// (and the port programs the emulator starts) must all be translated.
#[test]
fn erlang_processes() {
    let expr = std::fs::read_to_string(source("processes.erl-expr"))
        .unwrap_or_else(|e| panic!("cannot read processes.erl-expr: {e}"));
    SUITE.check(
        "erl",
        &[Run::new("/bin/sh", &["/usr/bin/erl", "-noshell", "-eval", &expr, "-s", "init", "stop"])
            .translated(&[
                ("sh", 1),
                ("dirname", 1),
                ("basename", 1),
                ("erlexec", 1),
                ("beam.smp", 1),
                ("erl_child_setup", 1),
                ("inet_gethost", 1),
            ])],
    );
}

/// workers_wasm.js: V8's optimising compiler on hot loops, three
/// worker_threads (each an isolate with its own code), and a hand-written
/// WebAssembly module (Liftoff, then TurboFan).
#[test]
fn node_workers_and_wasm() {
    SUITE.check(
        "node",
        &[Run::new("/usr/bin/node", &[&source_arg("workers_wasm.js")])],
    );
}

/// trace_ffi.lua: loops the trace compiler compiles, and the FFI (strlen,
/// snprintf, qsort calling back into Lua, cdata structs).
#[test]
fn luajit_traces_and_ffi() {
    SUITE.check(
        "luajit",
        &[Run::new("/usr/bin/luajit", &[&source_arg("trace_ffi.lua")])],
    );
}
