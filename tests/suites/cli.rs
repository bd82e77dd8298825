//! Transit's command line on inputs it must refuse, and on scripts. Exit
//! codes are the CLI's to choose; what holds for all refusals: a non-zero
//! exit that is not 101 (a Rust panic), no death by signal, and exactly
//! one line on stderr that names the file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use transit_tests::catalog;
use transit_tests::outcome::Termination;
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;
use transit_tests::{process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(60);
/// Enough for e_ident and most of the ELF header, but no program headers.
const TRUNCATED_LENGTH: usize = 100;

#[test]
fn rejects_a_file_that_is_not_elf() {
    let input = input_file("not-an-elf.txt", b"this is not an ELF file\n");
    assert_rejected("not-elf", &input);
}

#[test]
fn rejects_an_elf_for_another_architecture() {
    // Transit itself is an aarch64 program.
    let transit = transit();
    let image = std::fs::read(&transit.binary).expect("TRANSIT_BIN is readable");
    let input = input_file("aarch64-program", &image);
    assert_rejected("wrong-architecture", &input);
}

#[test]
fn rejects_a_truncated_elf() {
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let hello = programs
        .iter()
        .find(|program| program.name == "hello")
        .expect("tests/programs/demo/hello.c exists");
    let variant = toolchain
        .variants()
        .next()
        .expect("every host has a variant");
    let binary = toolchain
        .build(hello, variant)
        .unwrap_or_else(|e| panic!("{e}"));
    let image = std::fs::read(binary).expect("the build is readable");
    let input = input_file("truncated-x86_64-program", &image[..TRUNCATED_LENGTH]);
    assert_rejected("truncated", &input);
}

#[test]
fn rejects_a_missing_file() {
    let input = work_dir("cli-inputs").join("does-not-exist");
    let _ = std::fs::remove_file(&input);
    assert_rejected("missing", &input);
}

/// `transit SCRIPT ARGS` runs the script's interpreter as the kernel
/// would: `INTERP [ARG] SCRIPT ARGS`, the interpreter translated (the
/// process log names it), through a script whose interpreter is a script.
#[test]
fn runs_a_script_through_its_interpreter() {
    if !transit_tests::host_runs_x86_64() {
        eprintln!("skipped: the script's interpreter is the host's /bin/sh, which must be x86_64");
        return;
    }
    let inner = input_file("inner.sh", b"#!/bin/sh -e\necho \"$0 [$1] [$2]\"\ncat /proc/self/comm\n");
    let outer = input_file("outer", format!("#!{}\n", inner.display()).as_bytes());
    let args = ["one".to_string(), "two words".to_string()];
    let mut native = std::process::Command::new(&outer);
    native.args(&args);
    let native = process::run(native, b"", &work_dir("cli-runs").join("script-native"), TIMEOUT)
        .expect("can run the script natively");
    let log = work_dir("cli-runs").join("script-process-log");
    let _ = std::fs::remove_file(&log);
    let transit = transit();
    let options = [std::ffi::OsStr::new("--process-log"), log.as_os_str()];
    let translated = process::run(transit.command_with_options(&options, &outer, &args), b"", &work_dir("cli-runs").join("script-transit"), TIMEOUT)
        .expect("can start Transit");
    assert_eq!(translated.termination, native.termination, "stderr: {}", String::from_utf8_lossy(&translated.stderr));
    assert_eq!(String::from_utf8_lossy(&translated.stdout), String::from_utf8_lossy(&native.stdout));
    let logged = std::fs::read_to_string(&log).expect("the process log was written");
    assert!(logged.lines().any(|l| l.ends_with(" /bin/sh")), "the interpreter was not run by Transit: {logged}");
}

/// `-strace` (qemu-user's spelling) and `--strace-file`: the guest's
/// syscalls as strace prints them, with decoded paths, flags and errno
/// names, for the exec'd child too; the guest's own output is untouched.
#[test]
fn traces_syscalls_of_a_process_and_its_children() {
    if !transit_tests::host_runs_x86_64() {
        eprintln!("skipped: the traced shell is the host's /bin/sh, which must be x86_64");
        return;
    }
    let transit = transit();
    let script = ["-c".to_string(), "cat /nonexistent-strace-probe; echo done; exit 3".to_string()];
    let sh = Path::new("/bin/sh");
    let traced = process::run(transit.command_with_options(&[std::ffi::OsStr::new("-strace")], sh, &script), b"", &work_dir("cli-runs").join("strace-stderr"), TIMEOUT)
        .expect("can start Transit");
    assert_eq!(traced.termination, Termination::Exited(3));
    assert_eq!(String::from_utf8_lossy(&traced.stdout), "done\n");
    let stderr = String::from_utf8_lossy(&traced.stderr);
    assert!(stderr.contains("] write(1, \"done\\n\", 5) = 5\n"), "{stderr}");

    let file = work_dir("cli-runs").join("strace-file.txt");
    let _ = std::fs::remove_file(&file);
    let options = [std::ffi::OsStr::new("--strace-file"), file.as_os_str()];
    let traced = process::run(transit.command_with_options(&options, sh, &script), b"", &work_dir("cli-runs").join("strace-file"), TIMEOUT)
        .expect("can start Transit");
    assert_eq!(traced.termination, Termination::Exited(3));
    let trace = std::fs::read_to_string(&file).expect("the trace file was written");
    let probe = "openat(AT_FDCWD, \"/nonexistent-strace-probe\", O_RDONLY) = -1 ENOENT (No such file or directory)";
    let line_of = |needle: &str| trace.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no `{needle}` in:\n{trace}"));
    let pid = |line: &str| line.split(']').next().unwrap_or_default().to_string();
    let (cat, shell) = (line_of(probe), line_of("exit_group(3) = ?"));
    assert!(line_of("execve(\"/usr/bin/cat\"").starts_with("[pid "), "{trace}");
    assert_ne!(pid(cat), pid(shell), "cat runs in a child process: {trace}");
}

/// Plain translations until memory is shared, x86's store order after:
/// `--stats` names the order each process ended with (shared_counter maps
/// shared memory and forks; hello does neither, but `--x86-memory-order`
/// asks for x86's order from the start).
#[test]
fn shared_memory_keeps_x86_memory_order() {
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let variant = toolchain.variants().next().expect("every host has a variant");
    let transit = transit();
    for (name, option, order) in [("hello", None, "Relaxed"), ("shared_counter", None, "Tso"), ("hello", Some("--x86-memory-order"), "Tso")] {
        let program = programs.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("tests/programs has {name}"));
        let binary = toolchain.build(program, variant).unwrap_or_else(|e| panic!("{e}"));
        let mut options = vec![std::ffi::OsStr::new("--stats")];
        options.extend(option.map(std::ffi::OsStr::new));
        let run_name = format!("order-{name}{}", option.unwrap_or(""));
        let run = process::run(transit.command_with_options(&options, &binary, &[]), b"", &work_dir("cli-runs").join(run_name), TIMEOUT)
            .expect("can start Transit");
        assert_eq!(run.termination, Termination::Exited(0), "{name}");
        let stderr = String::from_utf8_lossy(&run.stderr);
        let word_after = |line: &'_ str, key: &str| line.split(key).nth(1).and_then(|rest| rest.split_whitespace().next()).map(str::to_owned);
        let orders: Vec<String> = stderr.lines().filter_map(|l| word_after(l, "memory_order=")).collect();
        assert!(stderr.lines().filter(|l| l.contains("memory_order=")).all(|l| word_after(l, "host=").is_some()), "{name}: the host features used:\n{stderr}");
        assert!(!orders.is_empty() && orders.iter().all(|o| *o == order), "{name}: expected {order} in every process:\n{stderr}");
    }
}

/// `--perf-map` writes perf's /tmp/perf-PID.map: one `START SIZE NAME`
/// line per translated block (as many as `--stats` counts), host ranges
/// that do not overlap, each named by the guest function it starts in and
/// its guest address (`main+0x1c [x86_64:0x401136]`), or by the address
/// alone where no symbol covers it.
#[test]
fn perf_map_lists_every_translated_block() {
    let binary = demo_hello();
    let map = perf_map(&binary, "perf-map");
    for name in ["main", "printf", "__libc_start_call_main"] {
        assert!(map.iter().any(|l| l.function.as_deref() == Some(name)), "a block of {name} in the static program:\n{}", map.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join("\n"));
    }
}

/// A dynamic program's blocks are named from its own symbols and from
/// those of the libraries ld.so mapped (libc's .dynsym); a stripped static
/// program has no symbols, and its blocks keep their addresses as names.
#[test]
fn perf_map_names_library_functions_and_falls_back_to_addresses() {
    if !transit_tests::host_runs_x86_64() {
        eprintln!("skipped: builds x86_64 programs with this host's own gcc and libc");
        return;
    }
    let dir = work_dir("cli-inputs");
    std::fs::create_dir_all(&dir).expect("can create the inputs directory");
    let source = transit_tests::workspace_root().join("tests/programs/demo/hello.c");
    let dynamic = dir.join("hello-dynamic");
    let built = std::process::Command::new("gcc").args(["-O2", "-o"]).arg(&dynamic).arg(&source).status().expect("gcc runs");
    assert!(built.success(), "gcc builds {}", source.display());
    let map = perf_map(&dynamic, "perf-map-dynamic");
    let names = || map.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join("\n");
    for name in ["main", "printf", "__libc_start_main"] {
        assert!(map.iter().any(|l| l.function.as_deref() == Some(name)), "a block of {name} in the dynamic program:\n{}", names());
    }

    let stripped = dir.join("hello-stripped");
    let status = std::process::Command::new("strip").arg("-o").arg(&stripped).arg(demo_hello()).status().expect("strip runs");
    assert!(status.success(), "strip");
    let map = perf_map(&stripped, "perf-map-stripped");
    assert!(map.iter().all(|l| l.function.is_none()), "no symbols, address names only:\n{}", map.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join("\n"));
}

/// tests/programs/demo/hello.c, static, in this host's first variant.
fn demo_hello() -> PathBuf {
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let variant = toolchain.variants().next().expect("every host has a variant");
    let program = programs.iter().find(|p| p.name == "hello").expect("tests/programs has hello");
    toolchain.build(program, variant).unwrap_or_else(|e| panic!("{e}"))
}

/// One line of a perf map, checked for its format.
struct MapLine {
    name: String,
    /// The symbol of a `SYMBOL[+0xOFFSET] [x86_64:0xADDRESS]` name.
    function: Option<String>,
}

/// Runs `binary` under `--perf-map --stats` and returns its map's lines,
/// after checking them against `--stats` and each other.
fn perf_map(binary: &Path, run_name: &str) -> Vec<MapLine> {
    let options = [std::ffi::OsStr::new("--perf-map"), std::ffi::OsStr::new("--stats")];
    let run = process::run(transit().command_with_options(&options, binary, &[]), b"", &work_dir("cli-runs").join(run_name), TIMEOUT)
        .expect("can start Transit");
    assert_eq!(run.termination, Termination::Exited(0));
    let stderr = String::from_utf8_lossy(&run.stderr);
    let process_line = stderr.lines().find(|l| l.contains(": process: ")).unwrap_or_else(|| panic!("--stats prints the process line:\n{stderr}"));
    let field = |name: &str| process_line.split(name).nth(1).and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()).map(str::to_owned);
    let pid = process_line.split('[').nth(1).and_then(|r| r.split(']').next()).expect("transit-stats[PID]");
    let blocks: usize = field("blocks=").and_then(|b| b.parse().ok()).expect("blocks=N");
    let path = format!("/tmp/perf-{pid}.map");
    let map = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let _ = std::fs::remove_file(&path);
    let is_hex = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit());
    let mut ranges = Vec::new();
    let lines: Vec<MapLine> = map
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let (start, size, name) = (parts.next().unwrap(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let start = u64::from_str_radix(start, 16).unwrap_or_else(|_| panic!("hex start: {line}"));
            ranges.push((start, start + u64::from_str_radix(size, 16).unwrap_or_else(|_| panic!("hex size: {line}"))));
            let function = match name.strip_prefix("x86_64:0x") {
                Some(address) => {
                    assert!(is_hex(address), "x86_64:0xADDRESS: {line}");
                    None
                }
                None => {
                    let (symbol, address) = name.split_once(" [x86_64:0x").unwrap_or_else(|| panic!("SYMBOL [x86_64:0xADDRESS]: {line}"));
                    assert!(address.strip_suffix(']').is_some_and(is_hex), "the guest address in brackets: {line}");
                    let (function, offset) = symbol.split_once("+0x").unwrap_or((symbol, "1"));
                    assert!(!function.is_empty() && !function.contains(' ') && is_hex(offset), "SYMBOL[+0xOFFSET]: {line}");
                    Some(function.to_owned())
                }
            };
            MapLine { name: name.to_owned(), function }
        })
        .collect();
    assert_eq!(lines.len(), blocks, "one line per translated block");
    ranges.sort();
    assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0), "host ranges do not overlap");
    lines
}

fn transit() -> Transit {
    Transit::from_env().unwrap_or_else(|e| panic!("{e}"))
}

/// An executable file with these contents, so permissions are never why
/// Transit refuses it.
fn input_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = work_dir("cli-inputs");
    std::fs::create_dir_all(&dir).expect("can create the inputs directory");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("can write an input");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("can chmod an input");
    path
}

fn assert_rejected(case: &str, input: &Path) {
    let transit = transit();
    let outcome = process::run(
        transit.command(input, &[]),
        b"",
        &work_dir("cli-runs").join(case),
        TIMEOUT,
    )
    .expect("can start Transit");
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    let context = format!(
        "transit {} ended with {}; stderr:\n{stderr}",
        input.display(),
        outcome.termination
    );
    match outcome.termination {
        Termination::Exited(0) => panic!("expected a failure: {context}"),
        Termination::Exited(101) => panic!("101 is a Rust panic, not an error report: {context}"),
        Termination::Exited(_) => {}
        _ => panic!("expected a plain non-zero exit: {context}"),
    }
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one line on stderr: {context}"
    );
    assert!(
        lines[0].contains(&*input.to_string_lossy()),
        "the error line should name the file: {context}"
    );
}
