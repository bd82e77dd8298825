//! How Transit was started, and so what it must run. Three ways:
//!
//! - by hand or by a guest's execve: `transit [OPTIONS] PROGRAM [ARGS...]`
//!   (a guest's execve passes `--argv0`, `-L`, `--process-log`, `--cpu` and
//!   the `--ignored-signals` and `--blocked-signals` the kernel cannot carry: see
//!   `TransitCommand::argv` in the syscalls crate);
//! - by the kernel, through the binfmt_misc entry `transit binfmt install`
//!   registers: `transit PATH [ARGS...]`, or with the P flag
//!   `transit PATH ARGV0 [ARGS...]`. Nothing after Transit's own argv[0] is
//!   an option then: a guest's argv[0] may well be `-bash`. Transit's own
//!   auxiliary vector says how it was started (binfmt-misc.rst, fs/binfmt_misc.c);
//! - `transit binfmt ...`: the subcommand, only when the first argument is
//!   exactly `binfmt` (a guest program of that name in the current directory
//!   runs as `transit ./binfmt`).
//!
//! With AT_SECURE (the C flag on a setuid program, or any exec that changed
//! credentials) Transit is in secure mode, like ld.so: no environment
//! variable changes what it does, where it looks or what it logs.

use std::ffi::OsString;
use std::os::fd::RawFd;
use std::path::PathBuf;

use clap::Parser;
use transit_syscalls::signal::{parse_signal_list, InheritedSignals};
use transit_syscalls::strace::StraceOutput;
use transit_translator::cpu::features::CpuLevel;

/// Auxiliary vector keys and AT_FLAGS bits (include/uapi/linux/auxvec.h,
/// include/uapi/linux/binfmts.h).
mod at {
    pub const EXECFD: libc::c_ulong = 2;
    pub const FLAGS: libc::c_ulong = 8;
    pub const SECURE: libc::c_ulong = 23;
    /// binfmt_misc's P flag: argv[2] is the program's original argv[0].
    pub const FLAGS_PRESERVE_ARGV0: libc::c_ulong = 1;
}

/// What the kernel told Transit about its own start, in Transit's auxv.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelStart {
    /// binfmt_misc P flag.
    pub preserve_argv0: bool,
    /// binfmt_misc O (or C) flag: the program, opened by the kernel.
    pub exec_fd: Option<RawFd>,
    /// AT_SECURE.
    pub secure: bool,
}

impl KernelStart {
    /// Read from this process's auxiliary vector. Under qemu-user this is
    /// the vector qemu built for Transit: it passes AT_SECURE on but keeps
    /// AT_EXECFD for itself and sets AT_FLAGS to 0.
    pub fn of_this_process() -> KernelStart {
        // SAFETY: getauxval only reads the vector the kernel (or qemu) gave us.
        let flags = unsafe { libc::getauxval(at::FLAGS) };
        KernelStart {
            preserve_argv0: flags & at::FLAGS_PRESERVE_ARGV0 != 0,
            exec_fd: auxval(at::EXECFD).map(|fd| fd as RawFd),
            secure: auxval(at::SECURE).is_some_and(|v| v != 0),
        }
    }

    /// Whether binfmt_misc started us (with flags that say so: with only F,
    /// a kernel start looks exactly like `transit PATH ARGS...`).
    fn by_binfmt_misc(&self) -> bool {
        self.preserve_argv0 || self.exec_fd.is_some()
    }
}

/// getauxval, telling an absent key (errno ENOENT) from a zero value.
fn auxval(key: libc::c_ulong) -> Option<libc::c_ulong> {
    // SAFETY: errno is thread-local; getauxval only reads the vector.
    unsafe {
        *libc::__errno_location() = 0;
        let v = libc::getauxval(key);
        (v != 0 || *libc::__errno_location() != libc::ENOENT).then_some(v)
    }
}

/// The command line when Transit is started by hand or by a guest's execve.
#[derive(Parser, Debug)]
#[command(
    name = "transit",
    version,
    about = "Run x86_64 Linux programs on aarch64",
    after_help = "`transit binfmt install|uninstall|status` registers Transit with binfmt_misc \
                  (see `transit binfmt --help`). A program named binfmt in the current directory runs as `transit ./binfmt`."
)]
struct Cli {
    /// x86_64 root filesystem searched first for the dynamic loader and
    /// absolute paths (like qemu-user's -L) [env: TRANSIT_ROOTFS].
    #[arg(short = 'L', long = "rootfs", value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// Append "PID PROGRAM" to FILE when the program starts: a record of
    /// every program Transit ran, children included [env: TRANSIT_PROCESS_LOG].
    #[arg(long = "process-log", value_name = "FILE")]
    process_log: Option<PathBuf>,
    /// The program's argv[0], if not PROGRAM itself (like qemu-user's -0).
    /// A guest execve passes it: see `TransitCommand::argv` in the syscalls crate.
    #[arg(short = '0', long = "argv0", value_name = "ARG0")]
    argv0: Option<OsString>,
    /// The x86-64 level the program sees in CPUID: x86-64-v1, x86-64-v2 or
    /// x86-64-v3 (default; v2 and v3 with AES-NI and PCLMULQDQ) [env: TRANSIT_CPU].
    #[arg(long = "cpu", value_name = "LEVEL", value_parser = parse_cpu_level)]
    cpu: Option<CpuLevel>,
    /// At each thread's exit and at the process's, print to stderr what
    /// Transit did: dispatches, cache hits, blocks translated and the time
    /// it took, returns to the dispatcher by reason; exec'd children too
    /// [env: TRANSIT_STATS=1].
    #[arg(long = "stats")]
    stats: bool,
    /// Write perf's map of JIT code, /tmp/perf-PID.map: each translated
    /// block's host address and size, named by the guest function it is in
    /// (the ELF symbols of the program and its libraries) and its guest address, so that
    /// `perf report` attributes time to guest code; exec'd children too
    /// [env: TRANSIT_PERF_MAP=1].
    #[arg(long = "perf-map")]
    perf_map: bool,
    /// Keep x86's memory order (TSO: ordered loads and stores, atomic
    /// locked instructions) from the first instruction, not only once the
    /// program starts a second thread or maps shared memory: for a program
    /// whose memory another process writes without Transit's knowledge, or
    /// to measure the order's cost; exec'd children too
    /// [env: TRANSIT_MEMORY_ORDER=x86].
    #[arg(long = "x86-memory-order")]
    x86_memory_order: bool,
    /// Wait for gdb on TCP PORT (localhost) before the first instruction,
    /// and let it debug the program there (`target remote :PORT`), as
    /// qemu-user's -g does. Exec'd children are not debugged.
    #[arg(short = 'g', long = "gdb", value_name = "PORT")]
    gdb: Option<u16>,
    /// Print every guest syscall to stderr as strace does: the x86_64 name,
    /// decoded arguments, the result or errno, the thread id; exec'd
    /// children too (qemu-user's `-strace` works as well) [env: TRANSIT_STRACE=1].
    #[arg(long = "strace")]
    strace: bool,
    /// As --strace, but append the lines to FILE.
    #[arg(long = "strace-file", value_name = "FILE")]
    strace_file: Option<PathBuf>,
    /// Signals the program starts ignoring, besides those Transit inherited
    /// ignored: numbers separated by commas. A guest's execve passes those
    /// the kernel cannot carry for it (Transit keeps its own handler for them).
    #[arg(long = "ignored-signals", value_name = "LIST", value_parser = parse_signal_list)]
    ignored_signals: Option<u64>,
    /// Signals the program starts blocking, besides those Transit inherited
    /// blocked (as for --ignored-signals).
    #[arg(long = "blocked-signals", value_name = "LIST", value_parser = parse_signal_list)]
    blocked_signals: Option<u64>,
    /// The seccomp mode the program starts in: "strict", or filters (BPF
    /// instructions in hex, oldest first, separated by ','). A guest's
    /// execve passes its own (`transit_syscalls::seccomp`).
    #[arg(long = "seccomp", value_name = "FILTERS", hide = true)]
    seccomp: Option<String>,
    /// The x86_64 program to run, then its arguments. Everything from the
    /// program on belongs to the guest, options like --version included.
    #[arg(value_name = "PROGRAM [ARGS]", required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<OsString>,
}

/// Transit's options with qemu-user's single-dash spellings (`-strace`)
/// in their `--` form; the program and its arguments stay as they are.
fn qemu_spellings(args: Vec<OsString>) -> Vec<OsString> {
    const TAKES_VALUE: [&str; 12] = ["-L", "-g", "--gdb", "--rootfs", "--process-log", "-0", "--argv0", "--cpu", "--ignored-signals", "--blocked-signals", "--strace-file", "--seccomp"];
    let mut out = Vec::with_capacity(args.len());
    let mut options = true;
    let mut value_next = false;
    for (i, arg) in args.into_iter().enumerate() {
        if i > 0 && options && !value_next {
            if arg == "-strace" {
                out.push(OsString::from("--strace"));
                continue;
            }
            let text = arg.to_string_lossy();
            if text == "--" || !text.starts_with('-') {
                options = false;
            }
            value_next = TAKES_VALUE.contains(&text.as_ref());
        } else {
            value_next = false;
        }
        out.push(arg);
    }
    out
}

fn parse_cpu_level(name: &str) -> Result<CpuLevel, String> {
    CpuLevel::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = CpuLevel::ALL.iter().map(|l| l.name()).collect();
        format!("unknown x86-64 level `{name}` (known: {})", known.join(", "))
    })
}

/// What Transit was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Run an x86_64 program.
    Run(RunRequest),
    /// `transit binfmt ARGS`: the arguments after `binfmt`.
    Binfmt(Vec<OsString>),
    /// `transit mirror ARGS`: `mirror` and the arguments after it.
    Mirror(Vec<OsString>),
    /// `transit --package-files DIR` (hidden): `package_files`.
    PackageFiles(PathBuf),
    /// `transit cache ARGS`: the arguments after `cache` (`persistent_cache::command`).
    Cache(Vec<OsString>),
}

/// The command line's definition (for man pages: `package_files`).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// An x86_64 program to run, and how.
#[derive(Debug, PartialEq, Eq)]
pub struct RunRequest {
    /// As named to Transit (or to execve): the process log, AT_EXECFN and,
    /// unless `exec_fd` is given, where the program is read from.
    pub program: PathBuf,
    /// The guest's argv[0]; `None`: `program`.
    pub argv0: Option<OsString>,
    /// The guest's argv[1..].
    pub args: Vec<OsString>,
    pub rootfs: Option<PathBuf>,
    pub process_log: Option<PathBuf>,
    /// `--cpu` or TRANSIT_CPU; `None`: the default level.
    pub cpu: Option<CpuLevel>,
    /// The program as a file descriptor the kernel opened (O flag).
    pub exec_fd: Option<RawFd>,
    /// Secure mode: the environment was not consulted, and the guest gets AT_SECURE.
    pub secure: bool,
    /// The kernel started Transit through binfmt_misc (P, O or C flag).
    pub by_binfmt_misc: bool,
    /// `--ignored-signals` and `--blocked-signals`: added to what Transit inherited.
    pub signals: InheritedSignals,
    /// `--seccomp`: the seccomp mode the guest's execve passed on.
    pub seccomp: Option<String>,
    /// `--stats` or TRANSIT_STATS.
    pub stats: bool,
    /// `--perf-map` or TRANSIT_PERF_MAP.
    pub perf_map: bool,
    /// `-g PORT`: the port to wait for gdb on.
    pub gdb: Option<u16>,
    /// `--strace`, `--strace-file` or TRANSIT_STRACE.
    pub strace: Option<StraceOutput>,
    /// `--x86-memory-order` or TRANSIT_MEMORY_ORDER=x86.
    pub x86_memory_order: bool,
}

impl Invocation {
    /// Decides from Transit's argv (argv[0] included), its auxv and its
    /// environment (`env(NAME)`, never consulted in secure mode).
    pub fn parse(args: Vec<OsString>, start: KernelStart, env: impl Fn(&str) -> Option<OsString>) -> Result<Invocation, clap::Error> {
        let env = |name: &str| if start.secure { None } else { env(name).filter(|v| !v.is_empty()) };
        let from_env = |name: &str| env(name).map(PathBuf::from);
        let mut request = if start.by_binfmt_misc() {
            let mut rest = args.into_iter().skip(1);
            let program = PathBuf::from(rest.next().unwrap_or_default());
            let argv0 = if start.preserve_argv0 { rest.next() } else { None };
            RunRequest { program, argv0, args: rest.collect(), rootfs: None, process_log: None, cpu: None, exec_fd: start.exec_fd, secure: false, by_binfmt_misc: true, signals: InheritedSignals::default(), seccomp: None, stats: false, perf_map: false, gdb: None, strace: None, x86_memory_order: false }
        } else if args.get(1).is_some_and(|a| a == "binfmt") {
            return Ok(Invocation::Binfmt(args.into_iter().skip(2).collect()));
        } else if args.get(1).is_some_and(|a| a == "cache") {
            return Ok(Invocation::Cache(args.into_iter().skip(2).collect()));
        } else if args.get(1).is_some_and(|a| a == "mirror") {
            return Ok(Invocation::Mirror(args.into_iter().skip(1).collect()));
        } else if args.len() == 3 && args[1] == "--package-files" {
            return Ok(Invocation::PackageFiles(PathBuf::from(&args[2])));
        } else {
            let cli = Cli::try_parse_from(qemu_spellings(args))?;
            let mut command = cli.command.into_iter();
            let program = PathBuf::from(command.next().expect("clap requires the program"));
            RunRequest {
                program,
                argv0: cli.argv0,
                args: command.collect(),
                rootfs: cli.rootfs,
                process_log: cli.process_log,
                cpu: cli.cpu,
                exec_fd: None,
                secure: false,
                by_binfmt_misc: false,
                signals: InheritedSignals { ignored: cli.ignored_signals.unwrap_or(0), blocked: cli.blocked_signals.unwrap_or(0) },
                seccomp: cli.seccomp,
                stats: cli.stats,
                x86_memory_order: cli.x86_memory_order,
                perf_map: cli.perf_map,
                gdb: cli.gdb,
                strace: match (cli.strace_file, cli.strace) {
                    (Some(file), _) => Some(StraceOutput::File(file)),
                    (None, true) => Some(StraceOutput::Stderr),
                    (None, false) => None,
                },
            }
        };
        request.rootfs = request.rootfs.or_else(|| from_env("TRANSIT_ROOTFS"));
        request.process_log = request.process_log.or_else(|| from_env("TRANSIT_PROCESS_LOG"));
        if request.cpu.is_none() {
            if let Some(name) = env("TRANSIT_CPU") {
                let name = name.to_string_lossy();
                let level = parse_cpu_level(&name)
                    .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("TRANSIT_CPU: {e}\n")))?;
                request.cpu = Some(level);
            }
        }
        // Not in secure mode (`env` says nothing there): a filter could make a
        // setuid program's setuid() "succeed" without dropping anything.
        request.seccomp = request.seccomp.or_else(|| env(transit_syscalls::seccomp::ENV).map(|v| v.to_string_lossy().into_owned()));
        request.stats |= env("TRANSIT_STATS").is_some_and(|v| v != "0");
        request.perf_map |= env("TRANSIT_PERF_MAP").is_some_and(|v| v != "0");
        request.x86_memory_order |= env("TRANSIT_MEMORY_ORDER").is_some_and(|v| v == "x86");
        if request.strace.is_none() && env("TRANSIT_STRACE").is_some_and(|v| v != "0") {
            request.strace = Some(StraceOutput::Stderr);
        }
        request.secure = start.secure;
        Ok(Invocation::Run(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }
    fn no_env(_: &str) -> Option<OsString> {
        None
    }
    fn some_env(name: &str) -> Option<OsString> {
        match name {
            "TRANSIT_ROOTFS" => Some("/env/root".into()),
            "TRANSIT_PROCESS_LOG" => Some("/env/log".into()),
            _ => None,
        }
    }
    fn run(invocation: Invocation) -> RunRequest {
        match invocation {
            Invocation::Run(r) => r,
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn by_hand_options_come_before_the_program_and_the_rest_is_the_guests() {
        let r = run(Invocation::parse(args(&["transit", "-L", "/r", "./prog", "-L", "x", "--version"]), KernelStart::default(), no_env).unwrap());
        assert_eq!(r.program, PathBuf::from("./prog"));
        assert_eq!(r.rootfs, Some("/r".into()));
        assert_eq!(r.argv0, None);
        assert_eq!(r.args, args(&["-L", "x", "--version"]));
        assert!(!r.by_binfmt_misc);
    }

    #[test]
    fn gdb_port_has_qemus_short_spelling_and_a_long_one() {
        let r = run(Invocation::parse(args(&["transit", "-g", "1234", "p", "-g", "5"]), KernelStart::default(), no_env).unwrap());
        assert_eq!((r.gdb, r.args), (Some(1234), args(&["-g", "5"])), "after the program, the guest's");
        let r = run(Invocation::parse(args(&["transit", "--gdb", "4321", "p"]), KernelStart::default(), no_env).unwrap());
        assert_eq!(r.gdb, Some(4321));
        assert_eq!(run(Invocation::parse(args(&["transit", "p"]), KernelStart::default(), no_env).unwrap()).gdb, None);
        assert!(Invocation::parse(args(&["transit", "-g", "port", "p"]), KernelStart::default(), no_env).is_err());
    }

    #[test]
    fn the_environment_fills_in_unless_secure() {
        let r = run(Invocation::parse(args(&["transit", "--process-log", "/l", "p"]), KernelStart::default(), some_env).unwrap());
        assert_eq!((r.rootfs, r.process_log, r.secure), (Some("/env/root".into()), Some("/l".into()), false));
        let secure = KernelStart { secure: true, ..KernelStart::default() };
        let r = run(Invocation::parse(args(&["transit", "p"]), secure, some_env).unwrap());
        assert_eq!((r.rootfs, r.process_log, r.secure), (None, None, true));
    }

    #[test]
    fn the_cpu_level_comes_from_the_option_then_the_environment() {
        let r = run(Invocation::parse(args(&["transit", "--cpu", "x86-64-v1", "p"]), KernelStart::default(), no_env).unwrap());
        assert_eq!(r.cpu, Some(CpuLevel::V1));
        let env = |name: &str| (name == "TRANSIT_CPU").then(|| OsString::from("x86-64-v2"));
        let r = run(Invocation::parse(args(&["transit", "p"]), KernelStart::default(), env).unwrap());
        assert_eq!(r.cpu, Some(CpuLevel::V2));
        let r = run(Invocation::parse(args(&["transit", "--cpu", "v1", "p"]), KernelStart::default(), env).unwrap());
        assert_eq!(r.cpu, Some(CpuLevel::V1), "the option wins");
        let bad = |name: &str| (name == "TRANSIT_CPU").then(|| OsString::from("x86-64-v9"));
        assert!(Invocation::parse(args(&["transit", "p"]), KernelStart::default(), bad).is_err());
        assert!(Invocation::parse(args(&["transit", "--cpu", "pentium", "p"]), KernelStart::default(), no_env).is_err());
    }

    #[test]
    fn strace_has_qemus_spelling_a_file_form_and_an_environment_variable() {
        let r = run(Invocation::parse(args(&["transit", "-L", "/r", "-strace", "p", "-strace"]), KernelStart::default(), no_env).unwrap());
        assert_eq!((r.strace, r.args), (Some(StraceOutput::Stderr), args(&["-strace"])), "after the program, the guest's");
        let r = run(Invocation::parse(args(&["transit", "--strace-file", "-strace", "p"]), KernelStart::default(), no_env).unwrap());
        assert_eq!(r.strace, Some(StraceOutput::File("-strace".into())), "an option's value stays");
        let env = |name: &str| (name == "TRANSIT_STRACE").then(|| OsString::from("1"));
        assert_eq!(run(Invocation::parse(args(&["transit", "p"]), KernelStart::default(), env).unwrap()).strace, Some(StraceOutput::Stderr));
        assert_eq!(run(Invocation::parse(args(&["transit", "p"]), KernelStart::default(), no_env).unwrap()).strace, None);
    }

    #[test]
    fn signal_options_list_signal_numbers() {
        let r = run(Invocation::parse(args(&["transit", "--ignored-signals", "11,13", "--blocked-signals", "7", "p"]), KernelStart::default(), no_env).unwrap());
        assert_eq!(r.signals, InheritedSignals { ignored: (1 << 10) | (1 << 12), blocked: 1 << 6 });
        let r = run(Invocation::parse(args(&["transit", "p", "--ignored-signals", "11"]), KernelStart::default(), no_env).unwrap());
        assert_eq!(r.signals, InheritedSignals::default(), "after the program, the guest's");
        assert!(Invocation::parse(args(&["transit", "--blocked-signals", "9", "p"]), KernelStart::default(), no_env).is_err());
    }

    #[test]
    fn binfmt_is_a_subcommand_only_as_the_first_argument() {
        assert_eq!(
            Invocation::parse(args(&["transit", "binfmt", "status", "--root", "/b"]), KernelStart::default(), no_env).unwrap(),
            Invocation::Binfmt(args(&["status", "--root", "/b"]))
        );
        let r = run(Invocation::parse(args(&["transit", "./binfmt", "status"]), KernelStart::default(), no_env).unwrap());
        assert_eq!(r.program, PathBuf::from("./binfmt"));
        let r = run(Invocation::parse(args(&["transit", "-L", "/r", "binfmt"]), KernelStart::default(), no_env).unwrap());
        assert_eq!(r.program, PathBuf::from("binfmt"));
    }

    #[test]
    fn package_files_is_an_option_only_by_hand_and_alone() {
        assert_eq!(
            Invocation::parse(args(&["transit", "--package-files", "/stage"]), KernelStart::default(), no_env).unwrap(),
            Invocation::PackageFiles("/stage".into())
        );
        let more = Invocation::parse(args(&["transit", "--package-files", "/stage", "x"]), KernelStart::default(), no_env);
        assert!(!matches!(more, Ok(Invocation::PackageFiles(_))));
        // Through binfmt_misc nothing is an option: a program's argv[0].
        let p = KernelStart { preserve_argv0: true, ..KernelStart::default() };
        let r = run(Invocation::parse(args(&["/usr/bin/transit", "/bin/prog", "--package-files", "/stage"]), p, no_env).unwrap());
        assert_eq!(r.argv0, Some("--package-files".into()));
    }

    #[test]
    fn the_p_flag_passes_path_then_the_original_argv0_and_no_options() {
        let p = KernelStart { preserve_argv0: true, ..KernelStart::default() };
        let r = run(Invocation::parse(args(&["/usr/bin/transit", "/bin/bash", "-bash", "-L", "binfmt"]), p, some_env).unwrap());
        assert_eq!(r.program, PathBuf::from("/bin/bash"));
        assert_eq!(r.argv0, Some("-bash".into()));
        assert_eq!(r.args, args(&["-L", "binfmt"]));
        assert_eq!(r.rootfs, Some("/env/root".into()), "the environment still counts");
        // Even a program named binfmt is a program then.
        let r = run(Invocation::parse(args(&["/usr/bin/transit", "binfmt", "binfmt", "status"]), p, no_env).unwrap());
        assert_eq!((r.program, r.argv0, r.args), (PathBuf::from("binfmt"), Some("binfmt".into()), args(&["status"])));
    }

    #[test]
    fn the_o_flag_passes_the_program_as_a_descriptor() {
        let o = KernelStart { exec_fd: Some(3), ..KernelStart::default() };
        let r = run(Invocation::parse(args(&["/usr/bin/transit", "./x-only", "--help"]), o, no_env).unwrap());
        assert_eq!((r.program, r.argv0, r.exec_fd), (PathBuf::from("./x-only"), None, Some(3)));
        assert_eq!(r.args, args(&["--help"]), "the guest's, not Transit's");
        assert!(r.by_binfmt_misc, "its guests' x86_64 children go back to the kernel");
    }

    #[test]
    fn the_c_flag_means_o_and_secure_mode() {
        let c = KernelStart { preserve_argv0: true, exec_fd: Some(3), secure: true };
        let r = run(Invocation::parse(args(&["/usr/bin/transit", "/usr/bin/su", "su", "-"]), c, some_env).unwrap());
        assert_eq!(r.program, PathBuf::from("/usr/bin/su"));
        assert_eq!((r.argv0, r.args), (Some("su".into()), args(&["-"])));
        assert_eq!((r.exec_fd, r.secure, r.rootfs, r.process_log), (Some(3), true, None, None));
    }

    #[test]
    fn this_process_was_not_started_by_binfmt_misc() {
        // The unit tests run directly (or under qemu, which hides AT_EXECFD).
        let start = KernelStart::of_this_process();
        assert_eq!(start.exec_fd, None);
        assert!(!start.preserve_argv0);
    }
}
