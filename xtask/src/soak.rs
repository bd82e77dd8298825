//! `cargo xtask soak [--minutes N] [--max-growth-mib M]`: tests/soak/thread_churn.c
//! under Transit for N minutes (default 10): rounds of 16 short-lived
//! threads with atomics, a mutex, condition variables, allocations, signals
//! and forks, every round checking that nothing was lost. Transit runs with
//! `--stats`, whose line at each thread's end gives Transit's own heap in
//! use; every 5 seconds the process's mappings and resident memory are
//! sampled. After the first fifth of the run (warm-up: code translated,
//! arenas grown), Transit's heap may grow by at most M MiB (default 4) and
//! the mappings by at most 64, or threads leak. Resident memory must stay
//! within M MiB too on an arm64 host; under qemu-user it is only shown,
//! as qemu-user 7.2 itself keeps about 300 KiB per thread that ever ran (a
//! plain aarch64 build of the same program grows as fast): there the soak
//! is ended early (SIGUSR2, after the current round) once the process
//! holds half the memory that was available when it started.
//! Too long for CI; its result goes in the closing notes.

use std::io::{BufRead, Read};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::build::build_transit;
use crate::host::Arch;
use crate::{setup, step};

const SAMPLE_EVERY: Duration = Duration::from_secs(5);

pub fn run(args: &[String]) -> Result<()> {
    let (mut minutes, mut max_growth_mib) = (10.0f64, 4u64);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minutes" => minutes = it.next().context("--minutes N")?.parse()?,
            "--max-growth-mib" => max_growth_mib = it.next().context("--max-growth-mib M")?.parse()?,
            other => bail!("unknown soak argument `{other}`"),
        }
    }
    let arch = Arch::of_host()?;
    setup::ensure_prerequisites(arch)?;
    let transit = build_transit()?;
    let dir = crate::target_dir().join("soak");
    std::fs::create_dir_all(&dir)?;
    let program = dir.join("thread_churn");
    let source = crate::workspace_root().join("tests/soak/thread_churn.c");
    step::run(std::process::Command::new(arch.x86_64_cc()).args(["-O2", "-static", "-pthread", "-o"]).arg(&program).arg(&source))?;

    let seconds = minutes * 60.0;
    step::header(format!("Soak: thread churn under Transit for {minutes} minutes, resident memory every {SAMPLE_EVERY:?}"));
    let mut command = match arch.aarch64_runner() {
        Some(runner) => {
            let mut c = std::process::Command::new(runner);
            c.arg(&transit);
            c
        }
        None => std::process::Command::new(&transit),
    };
    command.arg("--stats").arg(&program).arg(seconds.to_string());
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    println!("    $ {}", step::describe(&command));
    let mut child = command.spawn().context("cannot start the soak")?;
    let started = Instant::now();
    // Transit's heap at each thread's end, from `--stats` on stderr.
    let heap: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let stderr = child.stderr.take().context("the soak's stderr")?;
    let reader = {
        let heap = Arc::clone(&heap);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                match line.split(" heap=").nth(1).and_then(|n| n.trim().parse::<u64>().ok()) {
                    Some(bytes) if line.contains(" exits: ") => {
                        heap.lock().unwrap().push(Sample { at: started.elapsed().as_secs_f64(), value: bytes / 1024 })
                    }
                    // The rest of `--stats`, forked children's included.
                    _ if line.starts_with("transit-stats[") => {}
                    _ => eprintln!("{line}"),
                }
            }
        })
    };
    let (mut resident, mut mappings) = (Vec::new(), Vec::new());
    let memory_budget_kib = arch.aarch64_runner().and(available_kib()).map(|kib| kib / 2);
    let mut stopped_early = None;
    println!("    {:>6}  {:>12}  {:>8}  {:>12}", "time", "resident", "mappings", "Transit heap");
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let at = started.elapsed().as_secs_f64();
        if let (Some(kib), Some(maps)) = (resident_kib(child.id()), mapping_count(child.id())) {
            let heap_kib = heap.lock().unwrap().last().map_or(0, |s| s.value);
            println!("    {at:5.0}s  {:8.1} MiB  {maps:>8}  {:8.1} MiB", kib as f64 / 1024.0, heap_kib as f64 / 1024.0);
            resident.push(Sample { at, value: kib });
            mappings.push(Sample { at, value: maps });
            if stopped_early.is_none() && memory_budget_kib.is_some_and(|budget| kib > budget) {
                let _ = std::process::Command::new("kill").args(["-USR2", &child.id().to_string()]).status();
                stopped_early = Some(at);
            }
        }
        std::thread::sleep(SAMPLE_EVERY);
    };
    let _ = reader.join();
    let mut output = String::new();
    child.stdout.take().context("the soak's stdout")?.read_to_string(&mut output)?;
    print!("{output}");
    if !status.success() || !output.contains("nothing lost") {
        bail!("the soak failed ({status})");
    }
    if let Some(at) = stopped_early {
        step::header(format!("Ended early, after {at:.0} s: qemu-user's own memory reached half of what was available"));
    }
    let warm_up = seconds / 5.0;
    let heap = heap.lock().unwrap();
    let max_kib = max_growth_mib * 1024;
    let mut failures = Vec::new();
    for (what, samples, limit, unit) in [
        ("Transit's heap", &heap[..], Some(max_kib), " KiB"),
        ("mappings", &mappings[..], Some(64), ""),
        ("resident memory", &resident[..], arch.aarch64_runner().is_none().then_some(max_kib), " KiB"),
    ] {
        let Some(growth) = growth_after(samples, warm_up) else {
            bail!("too few samples of {what}: run the soak longer");
        };
        let verdict = match limit {
            Some(limit) if growth > limit => {
                failures.push(what);
                format!("more than the {limit}{unit} allowed")
            }
            Some(limit) => format!("at most {limit}{unit} allowed"),
            None => "not checked under qemu-user".to_string(),
        };
        step::header(format!("{what} after warm-up grew by {growth}{unit} ({verdict})"));
    }
    if !failures.is_empty() {
        bail!("grew during the soak: {}", failures.join(", "));
    }
    Ok(())
}

struct Sample {
    /// Seconds since the soak started.
    at: f64,
    value: u64,
}

/// How far the samples after `warm_up` seconds rose above the first of them.
fn growth_after(samples: &[Sample], warm_up: f64) -> Option<u64> {
    let mut after = samples.iter().filter(|s| s.at >= warm_up);
    let first = after.next()?.value;
    Some(after.map(|s| s.value).max().unwrap_or(first).saturating_sub(first))
}

/// MemAvailable of this machine, in KiB.
fn available_kib() -> Option<u64> {
    kib_field("/proc/meminfo", "MemAvailable:")
}

/// How many mappings process `pid` has.
fn mapping_count(pid: u32) -> Option<u64> {
    Some(std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?.lines().count() as u64)
}

/// VmRSS of process `pid`, in KiB.
fn resident_kib(pid: u32) -> Option<u64> {
    kib_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// The number on the `key` line of a /proc file of `Key:   N kB` lines.
fn kib_field(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse().ok()
}
