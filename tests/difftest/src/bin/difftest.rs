//! The differential tester's driver (x86_64 hosts): generates cases, runs
//! them on this CPU and through the translated runner at two block sizes,
//! compares, prints reproducers, and optionally writes the coverage table.
//!
//! difftest [--count N] [--seed S] [--runner "CMD ARGS"] [--coverage FILE] [--reports K]
//!          [--async-signals N]
//!
//! With `--async-signals N` (default 4; 0 turns it off) the runner takes an
//! asynchronous signal inside the translated code of one case in N
//! (`transit_difftest::async_signal`). The case's end state is compared as
//! always, and so is the state the first signal was handed, against this
//! CPU's state at the same instruction boundary.

#![cfg_attr(not(target_arch = "x86_64"), allow(unused))]

use anyhow::{bail, Context, Result};
use iced_x86::{Code, Decoder, DecoderOptions};
use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;
use transit_difftest::case::{Case, Outcome};
use transit_difftest::compare::{differences, handoff_prefix};
use transit_difftest::generate::{claimed_forms, fault_gap, random_sequence, targeted, FAULT_ONE_IN};
use transit_difftest::layout::CODE_ADDR;
#[cfg(target_arch = "x86_64")]
use transit_difftest::native::Native;
use transit_difftest::report::reproducer;
use transit_difftest::rng::Rng;
use transit_translator::cpu::features::CpuLevel;

/// Targeted cases per claimed form.
const PER_FORM: usize = 24;

struct Options {
    count: usize,
    seed: u64,
    runner: Vec<String>,
    coverage: Option<String>,
    reports: usize,
    /// The CPU whose forms are checked (`--level`).
    level: CpuLevel,
    /// One case in this many takes an asynchronous signal (0: none).
    async_signals: u64,
}

fn options() -> Result<Options> {
    let mut o = Options { count: 10_000, seed: 1, runner: Vec::new(), coverage: None, reports: 5, level: CpuLevel::HIGHEST, async_signals: 4 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--count" => o.count = value()?.parse()?,
            "--seed" => o.seed = value()?.parse()?,
            "--runner" => o.runner = value()?.split_whitespace().map(String::from).collect(),
            "--coverage" => o.coverage = Some(value()?),
            "--reports" => o.reports = value()?.parse()?,
            "--async-signals" => o.async_signals = value()?.parse()?,
            "--level" => {
                let name = value()?;
                o.level = transit_translator::cpu::features::CpuLevel::from_name(&name).with_context(|| format!("unknown level {name}"))?;
            }
            _ => bail!("unknown argument {a}"),
        }
    }
    if o.runner.is_empty() {
        bail!("--runner \"[qemu-aarch64-static] path/to/difftest-runner\" is required");
    }
    o.runner.extend(["--level".to_string(), o.level.name().to_string()]);
    o.runner.extend(["--async-signals".to_string(), o.async_signals.to_string()]);
    Ok(o)
}

/// Runs `cases` through the translated runner; restarts it after a crash.
#[cfg(target_arch = "x86_64")]
fn run_translated(runner: &[String], block_size: usize, cases: &[Case]) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(cases.len());
    while outcomes.len() < cases.len() {
        let start = outcomes.len();
        let mut child = Command::new(&runner[0])
            .args(&runner[1..])
            .args(["--block-size", &block_size.to_string()])
            // One-instruction blocks also check the TSO-ordered accesses.
            .args(if block_size == 1 { &["--tso"][..] } else { &[] })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {runner:?}"))?;
        let mut stdin = child.stdin.take().unwrap();
        let feed: Vec<Case> = cases[start..].to_vec();
        let writer = std::thread::spawn(move || {
            let mut w = std::io::BufWriter::new(&mut stdin);
            for c in &feed {
                if c.write_to(&mut w).is_err() {
                    break;
                }
            }
            let _ = w.flush();
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        while outcomes.len() < cases.len() {
            match Outcome::read_from(&mut out) {
                Ok(o) => outcomes.push(o),
                Err(_) => break,
            }
        }
        let _ = writer.join();
        let _ = child.wait();
        if outcomes.len() < cases.len() {
            outcomes.push(Outcome::crashed());
        }
    }
    Ok(outcomes)
}

/// The shortest prefix of a failing case that still fails (prefixes end at
/// instruction boundaries no branch jumps past), with its differences.
#[cfg(target_arch = "x86_64")]
fn minimize(runner: &[String], block_size: usize, case: &Case) -> Option<(Case, Vec<String>)> {
    let insns: Vec<_> = Decoder::with_ip(64, &case.code, CODE_ADDR, DecoderOptions::NONE).into_iter().collect();
    let mut candidates = Vec::new();
    for n in 1..insns.len() {
        let end = insns[n].ip();
        let branches_inside = insns[..n].iter().all(|i| i.op0_kind() != iced_x86::OpKind::NearBranch64 || i.near_branch64() <= end);
        if branches_inside {
            let len = (end - CODE_ADDR) as usize;
            candidates.push(Case { code: case.code[..len].to_vec(), ..case.clone() });
        }
    }
    let native = Native::new_in_process().run_all(&candidates);
    let translated = run_translated(runner, block_size, &candidates).ok()?;
    candidates.iter().enumerate().find_map(|(i, c)| {
        let d = differences(c, &native[i], &translated[i]);
        (!d.is_empty()).then(|| (c.clone(), d))
    })
}

/// How often a form was tested.
#[derive(Clone, Copy, Default)]
struct Tested {
    /// Sequences containing it.
    cases: usize,
    /// Of those, mismatching at either block size.
    failing: usize,
    /// Sequences that ended with it raising SIGSEGV on the CPU.
    faulting: usize,
}

/// The form of the instruction at which `case` raised SIGSEGV, if it did.
fn faulting_form(case: &Case, outcome: &Outcome) -> Option<Code> {
    if outcome.signal != libc::SIGSEGV as u64 {
        return None;
    }
    Decoder::with_ip(64, &case.code, CODE_ADDR, DecoderOptions::NONE)
        .into_iter()
        .find(|i| i.ip() == outcome.rip)
        .map(|i| i.code())
}

/// The forms in a case's code.
fn forms_in(case: &Case) -> Vec<Code> {
    Decoder::with_ip(64, &case.code, CODE_ADDR, DecoderOptions::NONE).into_iter().map(|i| i.code()).collect()
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("difftest: the reference is the host CPU, which must be x86_64");
    std::process::exit(2);
}

#[cfg(target_arch = "x86_64")]
fn main() -> Result<()> {
    let o = options()?;
    // The oracle: flags either vendor leaves undefined are masked, but a
    // mismatch seen on one vendor only is easier to trace with this line.
    println!("difftest: reference CPU {}", transit_difftest::vendor_flags::host_cpu_description());
    let started = Instant::now();
    let (claimed, missed) = claimed_forms(o.level);
    let mut rng = Rng::new(o.seed);
    let mut cases = Vec::with_capacity(o.count);
    'targeted: for _ in 0..PER_FORM {
        for &code in &claimed {
            if cases.len() >= o.count / 2 {
                break 'targeted;
            }
            if let Some(c) = targeted(&mut rng, code) {
                cases.push(c);
            }
        }
    }
    while cases.len() < o.count {
        cases.push(random_sequence(&mut rng, &claimed));
    }
    let generated = started.elapsed();

    let native = Native::new().run_all(&cases);
    let mut failures = 0;
    let mut reported = 0;
    let mut tested: BTreeMap<Code, Tested> = BTreeMap::new();
    let mut faulting = 0;
    for (case, outcome) in cases.iter().zip(&native) {
        for code in forms_in(case) {
            tested.entry(code).or_default().cases += 1;
        }
        if let Some(code) = faulting_form(case, outcome) {
            tested.entry(code).or_default().faulting += 1;
            faulting += 1;
        }
    }
    // Both block sizes at once: one runner per core.
    let runs: Vec<(usize, Result<Vec<Outcome>>)> = std::thread::scope(|s| {
        let handles: Vec<_> = [1, 0]
            .into_iter()
            .map(|block_size| {
                let (runner, cases) = (&o.runner, &cases);
                s.spawn(move || (block_size, run_translated(runner, block_size, cases)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("runner thread")).collect()
    });
    let runs: Vec<(usize, Vec<Outcome>)> = runs.into_iter().map(|(b, r)| r.map(|r| (b, r))).collect::<Result<_>>()?;
    for (block_size, translated) in &runs {
        for (i, case) in cases.iter().enumerate() {
            let diffs = differences(case, &native[i], &translated[i]);
            if diffs.is_empty() {
                continue;
            }
            failures += 1;
            for code in forms_in(case) {
                tested.entry(code).or_default().failing += 1;
            }
            if reported < o.reports {
                reported += 1;
                let (small, small_diffs) = minimize(&o.runner, *block_size, case).unwrap_or((case.clone(), diffs));
                println!("MISMATCH case {i} (seed {}):\n{}", o.seed, reproducer(&small, &small_diffs, *block_size));
            }
        }
    }
    let handoffs = check_handoffs(&cases, &runs);
    for mismatch in &handoffs.failures {
        failures += 1;
        if reported < o.reports {
            reported += 1;
            println!(
                "MISMATCH at an asynchronous signal's hand-off at {:#x}, case {} (seed {}):\n{}",
                mismatch.rip,
                mismatch.case,
                o.seed,
                reproducer(&cases[mismatch.case], &mismatch.diffs, mismatch.block_size)
            );
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &o.coverage {
        std::fs::write(path, coverage_table(&claimed, &missed, &tested, o.count, o.seed))?;
    }
    println!(
        "difftest: {} sequences (seed {}) x 2 block sizes, {} claimed forms ({} not generated), {:.1} s ({:.0} sequences/s; generation {:.1} s)",
        cases.len(),
        o.seed,
        claimed.len(),
        missed.len(),
        elapsed,
        2.0 * cases.len() as f64 / elapsed,
        generated.as_secs_f64()
    );
    println!(
        "{} passed, {} failed; {faulting} sequences end in a memory fault on the CPU",
        2 * cases.len() - failures.min(2 * cases.len()),
        failures
    );
    println!(
        "asynchronous signals (one case in {}): {} taken in {} runs of a case; {} hand-off states compared with the CPU",
        o.async_signals, handoffs.signals, handoffs.runs_with_signals, handoffs.compared
    );
    if o.async_signals > 0 && handoffs.compared == 0 {
        println!("no asynchronous signal was handed off where the CPU's state could be compared: the injection is broken");
        failures += 1;
    }
    if failures > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// What the asynchronous signals of both runs came to.
#[derive(Default)]
struct Handoffs {
    signals: u64,
    runs_with_signals: usize,
    compared: usize,
    failures: Vec<HandoffMismatch>,
}

struct HandoffMismatch {
    case: usize,
    block_size: usize,
    rip: u64,
    diffs: Vec<String>,
}

/// Compares each first hand-off state with this CPU's state at the same
/// instruction boundary: the end state of the code before it, where that
/// prefix runs the same path (`handoff_prefix`).
#[cfg(target_arch = "x86_64")]
fn check_handoffs(cases: &[Case], runs: &[(usize, Vec<Outcome>)]) -> Handoffs {
    let mut h = Handoffs::default();
    let mut checked = Vec::new();
    for (block_size, outcomes) in runs {
        for (i, outcome) in outcomes.iter().enumerate() {
            h.signals += outcome.signals;
            h.runs_with_signals += usize::from(outcome.signals > 0);
            let Some(handoff) = outcome.handoff else { continue };
            if let Some(prefix) = handoff_prefix(&cases[i], handoff.rip) {
                checked.push((i, *block_size, handoff, prefix));
            }
        }
    }
    let prefixes: Vec<Case> = checked.iter().map(|c| c.3.clone()).collect();
    let native = Native::new_in_process().run_all(&prefixes);
    h.compared = checked.len();
    for ((case, block_size, handoff, _), expected) in checked.into_iter().zip(native) {
        let at_handoff = Outcome::new(0, handoff.rip, handoff.state, 0, handoff.mem_hash);
        let diffs = differences(&cases[case], &expected, &at_handoff);
        if !diffs.is_empty() {
            h.failures.push(HandoffMismatch { case, block_size, rip: handoff.rip, diffs });
        }
    }
    h
}

fn coverage_table(
    claimed: &[Code],
    missed: &[Code],
    tested: &BTreeMap<Code, Tested>,
    count: usize,
    seed: u64,
) -> String {
    let mut s = format!(
        "# Differential-test coverage\n\nGenerated by `cargo xtask difftest --count {count} --seed {seed} --coverage` \
         (do not edit). A form is an iced `Code`: one encoding of one instruction form. \
         Claimed: the translator translates it. Cases: sequences containing it (both block sizes count once). \
         Failing: of those, how many mismatched at either block size. \
         Faulting: sequences that ended with it raising SIGSEGV on the CPU (one case in {} moves a memory \
         operand into a guard page or a read-only page; forms kept out of that are listed at the end).\n\n\
         {} forms claimed; {} forms of supported mnemonics the generator cannot build yet (listed at the end).\n\n\
         | form | cases | failing | faulting |\n|---|---:|---:|---:|\n",
        FAULT_ONE_IN,
        claimed.len(),
        missed.len()
    );
    for code in claimed {
        let t = tested.get(code).copied().unwrap_or_default();
        s.push_str(&format!("| {code:?} | {} | {} | {} |\n", t.cases, t.failing, t.faulting));
    }
    let mut gaps: BTreeMap<&str, Vec<Code>> = BTreeMap::new();
    for &code in claimed {
        if let Some(reason) = fault_gap(code) {
            gaps.entry(reason).or_default().push(code);
        }
    }
    if !gaps.is_empty() {
        s.push_str("\n## Faults kept out of the tests (translator gaps)\n");
        for (reason, codes) in gaps {
            s.push_str(&format!("\n{reason}:\n\n"));
            for code in codes {
                s.push_str(&format!("- {code:?}\n"));
            }
        }
    }
    if !missed.is_empty() {
        s.push_str("\n## Supported but not generated\n\n");
        for code in missed {
            s.push_str(&format!("- {code:?}\n"));
        }
    }
    s
}
