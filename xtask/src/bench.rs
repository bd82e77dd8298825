//! `cargo xtask bench [--qemu] [--cold-only] [--label NAME] [WORKLOAD...]`:
//! the shared benchmark suite (`../shared/bench`, dynamic aarch64
//! instruction counts under a QEMU plugin) with this build of Transit, in
//! one table: native, Transit with the persistent code cache off (every
//! block translated), Transit with a warm cache (a first pass fills a fresh
//! cache directory, the second is counted), and with `--qemu` QEMU's own
//! qemu-x86_64. Prints the table and saves it with every count as
//! benches/results/transit-DATE-NAME.{md,json} (benches/bench_table.py
//! joins the passes).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::build::build_transit;
use crate::host::Arch;
use crate::{setup, step};

struct Options {
    qemu: bool,
    warm: bool,
    label: String,
    workloads: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options { qemu: false, warm: true, label: "bench".to_string(), workloads: Vec::new() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--qemu" => o.qemu = true,
            "--cold-only" => o.warm = false,
            "--label" => o.label = it.next().context("--label NAME")?.clone(),
            w if !w.starts_with('-') => o.workloads.push(w.to_string()),
            other => bail!("unknown bench argument `{other}` (usage: cargo xtask bench [--qemu] [--cold-only] [--label NAME] [WORKLOAD...])"),
        }
    }
    if o.label.is_empty() || o.label.contains(['/', ' ']) {
        bail!("--label wants a file-name word, got `{}`", o.label);
    }
    Ok(o)
}

pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    setup::ensure_prerequisites(Arch::of_host()?)?;
    let harness = crate::workspace_root().join("../shared/bench");
    if !harness.join("run.sh").exists() {
        bail!("no benchmark harness at {} (the shared bench directory next to this repository)", harness.display());
    }
    let work = crate::target_dir().join("bench");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    // A copy: a build during the run must not change what is measured.
    let transit = work.join("transit");
    std::fs::copy(build_transit()?, &transit).context("cannot copy the Transit binary")?;
    if !set_up(&options)? {
        step::header("Setting up ../shared/bench (packages, sysroots, plugin; once per machine)");
        step::run(Command::new("bash").arg(harness.join("setup.sh")))?;
    }

    let mut passes = Vec::new();
    step::header("Pass 1: Transit with the code cache off (every block translated)");
    let cold = work.join("cache-off.json");
    harness_pass(&harness, &options, &transit, options.qemu, &cold, "TRANSIT_CACHE=off")?;
    passes.push(("cache off", cold));
    if options.warm {
        let cache = work.join("code-cache");
        let _ = std::fs::remove_dir_all(&cache);
        let cache_env = format!("TRANSIT_CACHE_DIR={}", cache.display());
        step::header("Pass 2: Transit filling an empty code cache (not counted)");
        harness_pass(&harness, &options, &transit, false, &work.join("cache-fill.json"), &cache_env)?;
        step::header("Pass 3: Transit with that warm code cache");
        let warm = work.join("cache-warm.json");
        harness_pass(&harness, &options, &transit, false, &warm, &cache_env)?;
        passes.push(("warm cache", warm));
    }

    let date = step::probe(Command::new("date").arg("-u").arg("+%Y-%m-%d")).context("date")?;
    let stem = crate::workspace_root().join(format!("benches/results/transit-{}-{}", date.trim(), options.label));
    let mut table = Command::new("python3");
    table.arg(crate::workspace_root().join("benches/bench_table.py"));
    for (name, json) in &passes {
        table.arg(format!("{name}={}", json.display()));
    }
    table.arg("--markdown").arg(stem.with_extension("md")).arg("--json").arg(stem.with_extension("json"));
    step::run(&mut table)?;
    println!("    saved {}.{{md,json}}", stem.display());
    Ok(())
}

/// Whether `setup.sh` has made what the harness needs (its own list).
fn set_up(options: &Options) -> Result<bool> {
    let cache = match std::env::var_os("BENCH_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME")?).join(".cache/transit-bench"),
    };
    let mut needed = vec![
        "plugin/libinsncount.so",
        "sysroot-arm64/.stamp",
        "sysroot-amd64/.stamp",
        "bin/arm64/hello",
        "data/corpus-64.txt",
        "shim/lib/aarch64-linux-gnu/libfixedtime.so",
    ];
    if options.qemu {
        needed.push("qemu-tcg/qemu-x86_64-static");
    }
    Ok(needed.iter().all(|n| cache.join(n).exists()))
}

/// One run of the harness: counts only (instruction counts are exact; wall
/// time under qemu-user says little), results in `json`. The harness gives
/// every program a fixed environment, so Transit's `setting` (VAR=VALUE)
/// reaches it through qemu-aarch64's own `-E`, which the emulator prefix
/// can carry because the harness puts it right after qemu's options.
fn harness_pass(harness: &Path, options: &Options, transit: &Path, qemu: bool, json: &Path, setting: &str) -> Result<()> {
    let mut run = Command::new("bash");
    run.arg(harness.join("run.sh"))
        .arg("--emulator")
        .arg(format!("transit=-E {setting} {} -L {{sysroot_amd64}}", transit.display()))
        .args(["--time-runs", "0", "--json"])
        .arg(json)
        .args(&options.workloads);
    if !qemu {
        run.arg("--no-qemu-tcg");
    }
    step::run(&mut run)
}
