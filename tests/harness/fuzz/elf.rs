//! Black-box ELF fuzzing: mutated copies of real x86_64 programs
//! (`tests/fuzz/elf_seed.c` linked static, static-PIE and dynamic) run
//! under Transit with unusual arguments and environments. Covers the
//! loader's checks, the mapping of images (`map_image`), the search for and
//! loading of PT_INTERP (itself sometimes mutated), and the initial stack
//! and auxiliary vector, which the seed program reads back.
//!
//! Input `i` of the run seeded `s` is a function of `(s, i)` alone; a
//! failing input is kept under `target/transit-tests/fuzz-elf/failures/`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{transit_failure, Rng};
use crate::outcome::{Outcome, Termination};
use crate::process;
use crate::transit::Transit;
use crate::work_dir;

/// Each run's limit. The seed program ends at once; a mutant that neither
/// runs nor is refused within this has hung, unless it hangs natively too.
const TIMEOUT: Duration = Duration::from_secs(10);
/// sizeof(Elf64_Phdr) and the offsets of the fields used here (System V
/// gABI, "Program Header").
const PHENT: usize = 56;
const P_TYPE: usize = 0;
const P_FLAGS: usize = 4;
const P_OFFSET: usize = 8;
const P_VADDR: usize = 16;
const P_FILESZ: usize = 32;
const P_MEMSZ: usize = 40;
const P_ALIGN: usize = 48;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const PT_PHDR: u32 = 6;
const PT_TLS: u32 = 7;
const PT_GNU_STACK: u32 = 0x6474_e551;
/// Header fields: (offset, width in bytes).
const HEADER_FIELDS: &[(usize, usize)] = &[
    (16, 2), // e_type
    (20, 4), // e_version
    (24, 8), // e_entry
    (32, 8), // e_phoff
    (40, 8), // e_shoff
    (48, 4), // e_flags
    (52, 2), // e_ehsize
    (54, 2), // e_phentsize
    (56, 2), // e_phnum
    (58, 2), // e_shentsize
    (60, 2), // e_shnum
    (62, 2), // e_shstrndx
];
const E_ENTRY: usize = 24;
const E_PHOFF: usize = 32;
const E_PHNUM: usize = 56;
/// Program header fields: (offset, width).
const PHDR_FIELDS: &[(usize, usize)] = &[
    (P_TYPE, 4),
    (P_FLAGS, 4),
    (P_OFFSET, 8),
    (P_VADDR, 8),
    (24, 8), // p_paddr
    (P_FILESZ, 8),
    (P_MEMSZ, 8),
    (P_ALIGN, 8),
];
const EDGES_64: &[u64] = &[
    0,
    1,
    2,
    0x40,
    0xfff,
    0x1000,
    0x1001,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    // The top of the x86_64 user address space (47 bits) and past it.
    0x7fff_ffff_e000,
    0x7fff_ffff_f000,
    0x8000_0000_0000,
    0xffff_8000_0000_0000,
    u64::MAX / 2,
    u64::MAX - 0xfff,
    u64::MAX - 1,
    u64::MAX,
];
const EDGES_32: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x6474_e550,
    0x6474_e551,
    0x6474_e552,
    0x6474_e553,
];
const EDGES_16: &[u64] = &[0, 1, 2, 3, 4, 55, 56, 57, 64, 0xff, 0x7fff, 0xffff];

/// A program the mutants are made from.
pub struct Seed {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

/// How elf_seed.c is linked for each seed: the loader's three paths
/// (ET_EXEC, ET_DYN without and with PT_INTERP).
const SEED_LINKS: &[(&str, &[&str])] = &[
    ("static", &["-static"]),
    ("static-pie", &["-static-pie"]),
    ("dynamic", &["-pie"]),
];

/// Builds the seeds (cached under `target/transit-tests/fuzz-elf/seeds/`
/// by the source's hash).
pub fn build_seeds() -> Result<Vec<Seed>, String> {
    use std::hash::{Hash, Hasher};
    let source = crate::workspace_root().join("tests/fuzz/elf_seed.c");
    let text =
        std::fs::read(&source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (&text, SEED_LINKS).hash(&mut hasher);
    let dir = work_dir("fuzz-elf")
        .join("seeds")
        .join(format!("{:016x}", hasher.finish()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut seeds = Vec::new();
    for (name, flags) in SEED_LINKS {
        let binary = dir.join(name);
        if !binary.is_file() {
            let partial = dir.join(format!("{name}.partial-{}", std::process::id()));
            let output = Command::new("gcc")
                .args(["-O1", "-g0"])
                .args(*flags)
                .arg("-o")
                .arg(&partial)
                .arg(&source)
                .output()
                .map_err(|e| format!("cannot run gcc: {e}"))?;
            if !output.status.success() {
                return Err(format!(
                    "gcc {flags:?} failed:\n{}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            std::fs::rename(&partial, &binary)
                .map_err(|e| format!("cannot move the seed into place: {e}"))?;
        }
        let bytes =
            std::fs::read(&binary).map_err(|e| format!("cannot read {}: {e}", binary.display()))?;
        seeds.push(Seed { name, bytes });
    }
    Ok(seeds)
}

/// What a run of the fuzzer found.
#[derive(Default)]
pub struct Report {
    pub inputs: usize,
    /// How the runs ended ("exit 123", "signal 11"...), counted.
    pub endings: BTreeMap<String, usize>,
    /// One paragraph per failing input: reproducer and what went wrong.
    pub failures: Vec<String>,
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ELF inputs in {:.1} s, {} failures",
            self.inputs,
            self.elapsed.as_secs_f64(),
            self.failures.len()
        )?;
        for (ending, count) in &self.endings {
            writeln!(f, "  {count:6}  {ending}")?;
        }
        for failure in &self.failures {
            writeln!(f, "FAILURE {failure}")?;
        }
        Ok(())
    }
}

/// One mutated program and how to start it.
struct Input {
    /// What was done to it, for the report.
    mutations: Vec<String>,
    bytes: Vec<u8>,
    /// A mutated copy of the host's dynamic loader, named by PT_INTERP.
    interpreter: Option<Vec<u8>>,
    args: Vec<OsString>,
    env: Vec<(String, OsString)>,
    /// Transit's `--argv0`.
    argv0: Option<OsString>,
}

/// Runs `count` mutants of the seeds, inputs `first..first + count` of the
/// run seeded `seed`.
pub fn run(transit: &Transit, seeds: &[Seed], seed: u64, first: u64, count: u64) -> Report {
    let started = Instant::now();
    let root = work_dir("fuzz-elf");
    let inputs = root.join("inputs");
    std::fs::create_dir_all(&inputs).expect("can create the fuzzer's input directory");
    let program = inputs.join("mutant");
    let interpreter = inputs.join("interp");
    let host_interpreter = std::fs::read("/lib64/ld-linux-x86-64.so.2").ok();
    let mut report = Report::default();
    for index in first..first + count {
        let mut rng = Rng::for_input(seed, index);
        let input = make_input(&mut rng, seeds, &interpreter, host_interpreter.as_deref());
        write_executable(&program, &input.bytes);
        if let Some(bytes) = &input.interpreter {
            write_executable(&interpreter, bytes);
        }
        report.inputs += 1;
        if report.inputs % 500 == 0 {
            eprintln!(
                "fuzz-elf: {} of {count} inputs, {} failures, {:.0} s",
                report.inputs,
                report.failures.len(),
                started.elapsed().as_secs_f64()
            );
        }
        let verdict = judge(transit, &program, &input, &root.join("run"));
        let ending = match &verdict {
            Ok(ending) | Err((ending, _)) => ending.clone(),
        };
        *report.endings.entry(ending).or_default() += 1;
        if let Err((_, why)) = verdict {
            let kept = keep_failure(
                &root,
                seed,
                index,
                &program,
                input.interpreter.is_some().then_some(&interpreter),
            );
            report.failures.push(format!(
                "seed {seed} input {index}: {why}\n  mutations: {}\n  args: {} ({} env additions{})\n  kept in {}",
                input.mutations.join("; "),
                describe_args(&input.args),
                input.env.len(),
                input.argv0.as_ref().map_or(String::new(), |a| format!(", --argv0 of {} bytes", a.len())),
                kept.display()
            ));
        }
    }
    report.elapsed = started.elapsed();
    report
}

fn describe_args(args: &[OsString]) -> String {
    let total: usize = args.iter().map(|a| a.len()).sum();
    match args.len() {
        0..=3 if total < 64 => format!("{args:?}"),
        n => format!("{n} arguments, {total} bytes"),
    }
}

fn write_executable(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .expect("can make the input executable");
}

/// Copies a failing input where it stays, named by seed and index.
fn keep_failure(
    root: &Path,
    seed: u64,
    index: u64,
    program: &Path,
    interpreter: Option<&PathBuf>,
) -> PathBuf {
    let dir = root
        .join("failures")
        .join(format!("seed{seed}-input{index}"));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::copy(program, dir.join("mutant"));
    if let Some(interpreter) = interpreter {
        let _ = std::fs::copy(interpreter, dir.join("interp"));
    }
    dir
}

/// Ok(how it ended), or Err((how it ended, why that is Transit's failure)).
fn judge(
    transit: &Transit,
    program: &Path,
    input: &Input,
    run_dir: &Path,
) -> Result<String, (String, String)> {
    let mut options: Vec<&OsStr> = Vec::new();
    if let Some(argv0) = &input.argv0 {
        options.extend([OsStr::new("--argv0"), argv0.as_os_str()]);
    }
    let mut command = transit.bare_command();
    command.args(&options).arg(program).args(&input.args);
    let env: Vec<(&str, &OsStr)> = input
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_os_str()))
        .collect();
    let translated = match run_with_cache_off(command, &env, run_dir) {
        Ok(outcome) => outcome,
        // The kernel refused the arguments (E2BIG): nothing ran.
        Err(e) if e.raw_os_error() == Some(libc::E2BIG) => {
            return Ok("arguments refused by the host (E2BIG)".into())
        }
        Err(e) => return Err(("not started".into(), format!("cannot start Transit: {e}"))),
    };
    let ending = translated.termination.to_string();
    if let Some(line) = transit_failure(&translated) {
        return Err((ending, format!("Transit failed itself: {line}")));
    }
    // An abort or a hang is the guest's only if the program does the same natively.
    let suspicious = matches!(
        translated.termination,
        Termination::Signaled(libc::SIGABRT)
            | Termination::TimedOut
            | Termination::OutputLimitExceeded
    );
    if suspicious {
        let mut native = Command::new(program);
        native.args(&input.args);
        if let Some(argv0) = &input.argv0 {
            std::os::unix::process::CommandExt::arg0(&mut native, argv0);
        }
        let native = run_with_cache_off(native, &env, &run_dir.with_extension("native"));
        let same = native
            .as_ref()
            .is_ok_and(|n| n.termination == translated.termination);
        if !same {
            let native = native.map_or_else(
                |e| format!("does not start ({e})"),
                |n| n.termination.to_string(),
            );
            return Err((
                ending.clone(),
                format!(
                    "{ending} under Transit, natively {native}; stderr: {}",
                    String::from_utf8_lossy(&translated.stderr).trim_end()
                ),
            ));
        }
    }
    Ok(ending)
}

fn run_with_cache_off(
    command: Command,
    env: &[(&str, &OsStr)],
    run_dir: &Path,
) -> std::io::Result<Outcome> {
    // Mutants are new every time: caching their translations only fills the disk.
    let mut env = env.to_vec();
    env.push(("TRANSIT_CACHE", OsStr::new("off")));
    process::run_with_env(command, &env, b"", run_dir, TIMEOUT)
}

fn make_input(
    rng: &mut Rng,
    seeds: &[Seed],
    interpreter_path: &Path,
    host_interpreter: Option<&[u8]>,
) -> Input {
    let seed = &seeds[rng.below(seeds.len() as u64) as usize];
    let mut input = Input {
        mutations: vec![format!("seed {}", seed.name)],
        bytes: seed.bytes.clone(),
        interpreter: None,
        args: vec!["a".into(), "b".into()],
        env: Vec::new(),
        argv0: None,
    };
    // One input in 8 keeps the program whole and varies only its stack.
    let mutations = if rng.one_in(8) { 0 } else { 1 + rng.below(3) };
    for _ in 0..mutations {
        mutate(rng, &mut input, interpreter_path, host_interpreter);
    }
    if rng.one_in(3) {
        vary_stack(rng, &mut input);
    }
    input
}

/// Arguments and environment for the stack builder: empty, many, long.
fn vary_stack(rng: &mut Rng, input: &mut Input) {
    let repeated = |n: usize, s: &str| (0..n).map(|_| OsString::from(s)).collect::<Vec<_>>();
    let long = |n: usize| OsString::from("x".repeat(n));
    let what = match rng.below(9) {
        0 => {
            input.args = Vec::new();
            "no arguments".to_string()
        }
        1 => {
            let n = rng.pick(&[1_000, 30_000, 100_000]);
            input.args = repeated(n, "x");
            format!("{n} arguments")
        }
        2 => {
            // MAX_ARG_STRLEN is 32 pages, the terminating NUL included.
            let n = rng.pick(&[4096, 100_000, 131_071]);
            input.args = vec![long(n)];
            format!("one argument of {n} bytes")
        }
        3 => {
            let n = rng.pick(&[1_000, 30_000]);
            input.env = (0..n)
                .map(|i| (format!("FUZZ{i}"), OsString::from("1")))
                .collect();
            format!("{n} environment variables")
        }
        4 => {
            input.env = vec![("FUZZ".into(), long(131_000))];
            "an environment variable of 131 kB".into()
        }
        5 => {
            // Close to the kernel's 2 MiB for arguments and environment (a quarter of an 8 MiB stack limit).
            input.args = (0..15).map(|_| long(131_000)).collect();
            "15 arguments of 131 kB".into()
        }
        6 => {
            input.argv0 = Some(OsString::new());
            "an empty argv[0]".into()
        }
        7 => {
            input.argv0 = Some(long(100_000));
            "an argv[0] of 100 kB".into()
        }
        _ => {
            // The seed execs itself with no arguments and no environment.
            input.args = vec!["reexec".into()];
            "re-exec with argc 0".into()
        }
    };
    input.mutations.push(what);
}

fn mutate(
    rng: &mut Rng,
    input: &mut Input,
    interpreter_path: &Path,
    host_interpreter: Option<&[u8]>,
) {
    let what = match rng.below(12) {
        0 => interp(rng, input, interpreter_path, host_interpreter),
        kind => mutate_image(rng, &mut input.bytes, kind),
    };
    input.mutations.push(what);
}

/// One mutation of an image other than its PT_INTERP (`kind` in 1..12).
fn mutate_image(rng: &mut Rng, bytes: &mut Vec<u8>, kind: u64) -> String {
    let phoff = read(bytes, E_PHOFF, 8).unwrap_or(0) as usize;
    let phnum = read(bytes, E_PHNUM, 2).unwrap_or(0) as usize;
    let phdr = |i: usize| phoff.saturating_add(i.saturating_mul(PHENT));
    let of_type = |bytes: &[u8], p_type: u32| {
        (0..phnum)
            .filter(|&i| read(bytes, phdr(i) + P_TYPE, 4) == Some(p_type as u64))
            .collect::<Vec<_>>()
    };
    match kind {
        1 => {
            let (offset, width) = rng.pick(HEADER_FIELDS);
            let value = edge(rng, width, bytes.len());
            write(bytes, offset, width, value);
            format!("header field at {offset} = {value:#x}")
        }
        2 | 3 => {
            // A field of any program header, now and then one past the table.
            let index = rng.below(phnum as u64 + 2) as usize;
            let (field, width) = rng.pick(PHDR_FIELDS);
            let original = read(bytes, phdr(index) + field, width).unwrap_or(0);
            let value = match rng.below(4) {
                0 => original
                    .wrapping_add(rng.below(0x2000))
                    .wrapping_sub(0x1000),
                1 if field == P_FILESZ => read(bytes, phdr(index) + P_MEMSZ, 8)
                    .unwrap_or(0)
                    .wrapping_add(1 + rng.below(0x1000)),
                _ => edge(rng, width, bytes.len()),
            };
            write(bytes, phdr(index) + field, width, value);
            format!("phdr {index} field at {field} = {value:#x}")
        }
        4 => {
            let index = rng.below(phnum.max(1) as u64) as usize;
            let p_type = rng.pick(&[
                0,
                PT_LOAD,
                2,
                PT_INTERP,
                PT_NOTE,
                PT_PHDR,
                PT_TLS,
                PT_GNU_STACK,
                0x6474_e550,
                0x6474_e552,
                0x7000_0000,
                0xffff_ffff,
            ]);
            write(bytes, phdr(index) + P_TYPE, 4, p_type as u64);
            format!("phdr {index} type = {p_type:#x}")
        }
        5 => {
            // Two PT_LOADs overlapping: one moved into the other, or a copy.
            let loads = of_type(bytes, PT_LOAD);
            if loads.len() < 2 {
                return "no overlap (fewer than two PT_LOADs)".into();
            }
            let (a, b) = (rng.pick(&loads), rng.pick(&loads));
            if rng.one_in(2) {
                let entry = bytes.get(phdr(a)..phdr(a) + PHENT).map(<[u8]>::to_vec);
                match (entry, bytes.get_mut(phdr(b)..phdr(b) + PHENT)) {
                    (Some(entry), Some(target)) => target.copy_from_slice(&entry),
                    _ => return "no overlap (a PT_LOAD is cut off)".into(),
                }
                format!("phdr {b} = copy of phdr {a}")
            } else {
                let vaddr = read(bytes, phdr(a) + P_VADDR, 8).unwrap_or(0);
                let memsz = read(bytes, phdr(a) + P_MEMSZ, 8).unwrap_or(0);
                let at = vaddr.wrapping_add(rng.below(memsz.max(1)));
                write(bytes, phdr(b) + P_VADDR, 8, at);
                format!("phdr {b} moved to {at:#x}, inside phdr {a}")
            }
        }
        6 => {
            // A PT_LOAD far away: at 0, at the top of user space, beyond it.
            let loads = of_type(bytes, PT_LOAD);
            let Some(&index) = loads.get(rng.below(loads.len().max(1) as u64) as usize) else {
                return "no PT_LOAD to move".into();
            };
            let memsz = read(bytes, phdr(index) + P_MEMSZ, 8).unwrap_or(0);
            let at = rng.pick(&[
                0,
                0x1000,
                0x7fff_ffff_f000u64.saturating_sub(memsz & !0xfff),
                0x7fff_ffff_f000,
                0x8000_0000_0000,
                0xffff_ffff_ffff_f000,
            ]);
            write(bytes, phdr(index) + P_VADDR, 8, at);
            format!("phdr {index} at {at:#x}")
        }
        7 => {
            // Many program headers: a new table at the end of the file.
            let n = rng.pick(&[0usize, 1, 100, 1000, 0xffff]);
            let table_at = bytes.len();
            let table: Vec<u8> = (0..n)
                .flat_map(|i| {
                    let from = if phnum == 0 { 0 } else { i % phnum };
                    let mut entry = bytes
                        .get(phdr(from)..phdr(from) + PHENT)
                        .map_or(vec![0; PHENT], <[u8]>::to_vec);
                    if i >= phnum {
                        entry[P_TYPE..P_TYPE + 4].copy_from_slice(&[0, 0, 0, 0]);
                    }
                    entry
                })
                .collect();
            bytes.extend(table);
            write(bytes, E_PHOFF, 8, table_at as u64);
            write(bytes, E_PHNUM, 2, n as u64);
            format!("{n} program headers at the end of the file")
        }
        8 => {
            let value = rng.pick(&[
                0,
                1,
                0x1000,
                0x40_0000,
                0x7fff_ffff_f000,
                0x8000_0000_0000,
                u64::MAX,
            ]);
            let value = if rng.one_in(2) {
                read(bytes, E_ENTRY, 8)
                    .unwrap_or(0)
                    .wrapping_add(rng.below(0x10_0000))
            } else {
                value
            };
            write(bytes, E_ENTRY, 8, value);
            format!("e_entry = {value:#x}")
        }
        9 => {
            // PT_GNU_STACK's flags or PT_TLS's sizes and alignment.
            let (p_type, field, values): (u32, usize, &[u64]) = match rng.below(4) {
                0 => (PT_GNU_STACK, P_FLAGS, &[0, 1, 7, 0xffff_ffff]),
                1 => (PT_TLS, P_MEMSZ, &[0, 1, 0x1000_0000, u64::MAX]),
                2 => (PT_TLS, P_FILESZ, &[0, 0x1000_0000, u64::MAX]),
                _ => (PT_TLS, P_ALIGN, &[0, 3, 0x1_0000_0000, 1 << 63]),
            };
            let Some(&index) = of_type(bytes, p_type).first() else {
                return format!("no phdr of type {p_type:#x}");
            };
            let value = rng.pick(values);
            write(
                bytes,
                phdr(index) + field,
                if field == P_FLAGS { 4 } else { 8 },
                value,
            );
            format!("phdr {index} (type {p_type:#x}) field at {field} = {value:#x}")
        }
        10 => {
            let n = 1 + rng.below(16);
            let window = if rng.one_in(2) {
                bytes.len().min(4096)
            } else {
                bytes.len()
            };
            for _ in 0..n {
                let at = rng.below(window.max(1) as u64) as usize;
                if let Some(byte) = bytes.get_mut(at) {
                    *byte = rng.next() as u8;
                }
            }
            format!("{n} random bytes")
        }
        _ => {
            let phdr_end = phdr(phnum);
            let len = match rng.below(3) {
                0 => rng.below(bytes.len() as u64 + 1) as usize,
                1 => phdr_end.saturating_sub(rng.below(2) as usize),
                _ => bytes.len().saturating_sub(1 + rng.below(0x2000) as usize),
            };
            bytes.truncate(len);
            format!("truncated to {len} bytes")
        }
    }
}

/// PT_INTERP names something else: garbage, nothing, an over-long or
/// unterminated path, a device, or a mutated copy of the host's loader.
/// The path goes at the end of the file; a program without PT_INTERP gets
/// one in place of its PT_NOTE.
fn interp(
    rng: &mut Rng,
    input: &mut Input,
    interpreter_path: &Path,
    host_interpreter: Option<&[u8]>,
) -> String {
    let bytes = &mut input.bytes;
    let phoff = read(bytes, E_PHOFF, 8).unwrap_or(0) as usize;
    let phnum = read(bytes, E_PHNUM, 2).unwrap_or(0) as usize;
    let find = |bytes: &[u8], p_type: u32| {
        (0..phnum)
            .map(|i| phoff + i * PHENT)
            .find(|&at| read(bytes, at + P_TYPE, 4) == Some(p_type as u64))
    };
    let Some(at) = find(bytes, PT_INTERP).or_else(|| find(bytes, PT_NOTE)) else {
        return "no PT_INTERP or PT_NOTE to point elsewhere".into();
    };
    write(bytes, at + P_TYPE, 4, PT_INTERP as u64);
    let mut terminated = true;
    let (path, what): (Vec<u8>, String) = match rng.below(12) {
        0 => {
            let n = rng.below(300) as usize;
            (
                (0..n).map(|_| rng.next() as u8).collect(),
                format!("{n} random bytes"),
            )
        }
        1 => (
            b"/nonexistent/ld-linux-x86-64.so.2".to_vec(),
            "a missing file".into(),
        ),
        2 => {
            let path = format!("/tmp/{}", "a".repeat(rng.pick(&[255usize, 256, 5000])));
            let n = path.len();
            (path.into_bytes(), format!("a path of {n} bytes"))
        }
        3 => (
            format!("/tmp{}", "/a".repeat(3000)).into_bytes(),
            "a path longer than PATH_MAX".into(),
        ),
        4 => {
            terminated = false;
            (
                b"/lib64/ld-linux-x86-64.so.2".to_vec(),
                "the host's loader, unterminated at the end of the file".into(),
            )
        }
        5 => (Vec::new(), "an empty path".into()),
        6 => {
            let path = rng.pick(&[
                "/dev/zero",
                "/dev/null",
                "/",
                "/proc/self/exe",
                "/proc/self/mem",
                "ld.so",
                ".",
            ]);
            (path.as_bytes().to_vec(), path.into())
        }
        7 => {
            // PT_INTERP itself outside the file.
            let offset = rng.pick(&[bytes.len() as u64, u64::MAX - 4, 1 << 40]);
            write(bytes, at + P_OFFSET, 8, offset);
            write(bytes, at + P_FILESZ, 8, rng.pick(&[0, 1, 28, u64::MAX]));
            return format!("PT_INTERP at file offset {offset:#x}");
        }
        _ => match host_interpreter {
            Some(loader) => {
                let mut copy = Input {
                    mutations: Vec::new(),
                    bytes: loader.to_vec(),
                    interpreter: None,
                    args: Vec::new(),
                    env: Vec::new(),
                    argv0: None,
                };
                let n = 1 + rng.below(3);
                for _ in 0..n {
                    let kind = 1 + rng.below(11);
                    let what = mutate_image(rng, &mut copy.bytes, kind);
                    copy.mutations.push(what);
                }
                input.interpreter = Some(copy.bytes);
                let path = interpreter_path.as_os_str().as_encoded_bytes().to_vec();
                (
                    path,
                    format!("a mutated loader ({})", copy.mutations.join("; ")),
                )
            }
            None => (
                b"/nonexistent".to_vec(),
                "a missing file (the host has no x86_64 loader)".into(),
            ),
        },
    };
    let bytes = &mut input.bytes;
    let offset = bytes.len();
    bytes.extend(&path);
    if terminated {
        bytes.push(0);
    }
    write(bytes, at + P_OFFSET, 8, offset as u64);
    let filesz = (bytes.len() - offset) as u64;
    write(bytes, at + P_FILESZ, 8, filesz);
    format!("PT_INTERP: {what}")
}

/// An edge value for a field `width` bytes wide in a file of `len` bytes.
fn edge(rng: &mut Rng, width: usize, len: usize) -> u64 {
    match width {
        2 => rng.pick(EDGES_16),
        4 => rng.pick(EDGES_32),
        _ if rng.one_in(6) => len as u64 + rng.below(2),
        _ => rng.pick(EDGES_64),
    }
}

fn read(bytes: &[u8], offset: usize, width: usize) -> Option<u64> {
    let field = bytes.get(offset..offset.checked_add(width)?)?;
    let mut value = [0u8; 8];
    value[..width].copy_from_slice(field);
    Some(u64::from_le_bytes(value))
}

/// Writes the low `width` bytes of `value`, if the field is in the file.
fn write(bytes: &mut [u8], offset: usize, width: usize, value: u64) {
    let Some(end) = offset.checked_add(width) else {
        return;
    };
    if let Some(field) = bytes.get_mut(offset..end) {
        field.copy_from_slice(&value.to_le_bytes()[..width]);
    }
}
