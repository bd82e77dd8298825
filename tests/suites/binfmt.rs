//! `transit binfmt` and the kernel starting Transit through binfmt_misc,
//! tested without ever registering an x86_64 handler on the host: every
//! test runs in a private user and mount namespace (`unshare -Urm`), where
//! this kernel gives binfmt_misc its own, empty, instance. Without user
//! namespaces, or without binfmt_misc in them, the tests say so and skip.
//!
//! Two facts of an x86_64 host shape them (see issue 5):
//! - an entry for every x86_64 ELF would also catch the host's own programs
//!   (the shell, qemu-aarch64-static that runs Transit). So Transit is
//!   registered with its test-only magic (`--test-only-tagged`), which
//!   matches only x86_64 ELF files whose e_ident[15], a padding byte the
//!   kernel ignores, is 1; the tests tag copies of their programs;
//! - Transit is an aarch64 program: the namespace also registers
//!   qemu-aarch64-static (flag F) for aarch64, so the kernel goes x86_64
//!   program -> Transit -> qemu. Only flag F works across that second hop
//!   (the exec fd of O and C stops it, P's AT_FLAGS reaches qemu), so P, O
//!   and C are left to an arm64 machine, where Transit is the only hop.
//!
//! `TRANSIT_PROCESS_LOG` proves a program ran under Transit: every Transit
//! process appends "PID PROGRAM" to it.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use transit_tests::binfmt_ns::{unavailable, PRELUDE};
use transit_tests::catalog::{self, Program};
use transit_tests::outcome::{Outcome, Termination};
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;
use transit_tests::{host_runs_x86_64, process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(180);
/// e_ident[15]: the byte `--test-only-tagged` matches.
const TAG_OFFSET: u64 = 15;

/// A private binfmt_misc to test in, or `None` (with the reason printed)
/// where this host cannot make one.
struct Sandbox {
    transit: Transit,
    /// Holds the mount point, the programs and the logs.
    dir: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Option<Sandbox> {
        if let Some(reason) = unavailable() {
            eprintln!("SKIPPED binfmt test {name}: {reason}");
            return None;
        }
        let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
        let dir = work_dir("binfmt").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("mnt")).expect("can create the sandbox");
        Some(Sandbox { transit, dir })
    }

    /// Runs `script` (after PRELUDE) with `sh -eu` in a fresh private
    /// namespace, in `self.dir`.
    fn run(&self, script: &str) -> Outcome {
        let mut command = Command::new("unshare");
        command.args(["-Urm", "sh", "-eu", "-c"]).arg(format!("{PRELUDE}\ncd \"$W\"\n{script}"));
        let vars = [
            ("M", self.dir.join("mnt").into_os_string()),
            ("W", self.dir.clone().into_os_string()),
            ("T", self.transit.binary.clone().into_os_string()),
            ("RUNNER", self.transit.runner.join(" ").into()),
            ("LOG", self.log().into_os_string()),
            ("NATIVE_X86_64", if host_runs_x86_64() { "1" } else { "" }.into()),
        ];
        let env: Vec<(&str, &OsStr)> = vars.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        process::run_with_env(command, &env, b"", &self.dir.join("run"), TIMEOUT).expect("can start unshare")
    }

    /// Like `run`, and the script must succeed.
    fn ok(&self, script: &str) -> String {
        let outcome = self.run(script);
        let stdout = String::from_utf8_lossy(&outcome.stdout).into_owned();
        assert_eq!(
            outcome.termination,
            Termination::Exited(0),
            "script failed:\n{script}\nstdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&outcome.stderr)
        );
        stdout
    }

    fn log(&self) -> PathBuf {
        self.dir.join("process.log")
    }

    /// Programs named in the process log, by file name, with their counts.
    fn logged(&self) -> BTreeMap<String, usize> {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        let mut counts = BTreeMap::new();
        for line in text.lines() {
            let (_, program) = line.split_once(' ').unwrap_or_else(|| panic!("malformed log line `{line}`"));
            let name = Path::new(program).file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            *counts.entry(name).or_default() += 1;
        }
        counts
    }

    /// Copies `from` to `name` in the sandbox with e_ident[15] = 1.
    fn tagged_copy(&self, from: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::FileExt;
        let to = self.dir.join(name);
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
        let file = std::fs::OpenOptions::new().write(true).open(&to).expect("the copy is writable");
        file.write_all_at(&[1], TAG_OFFSET).expect("can tag the copy");
        to
    }

    /// Builds test program `name` and puts a tagged copy at `./NAME`.
    fn tagged_program(&self, name: &str) -> Program {
        let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
        let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
        let program = programs.into_iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no test program {name}"));
        let variant = toolchain.variants().next().expect("every host has a variant");
        let binary = toolchain.build(&program, variant).unwrap_or_else(|e| panic!("{e}"));
        self.tagged_copy(&binary, name);
        program
    }
}

/// The text after each `--- NAME` line a script echoed, up to the next.
fn sections(out: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for part in out.split("--- ").skip(1) {
        let (name, text) = part.split_once('\n').unwrap_or((part, ""));
        map.insert(name.to_string(), text.to_string());
    }
    map
}

/// `'text'` for sh.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn quoted_args(program: &Program) -> String {
    program.args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

#[test]
fn install_mounts_registers_once_and_uninstall_removes() {
    let Some(sandbox) = Sandbox::new("install") else { return };
    let out = sandbox.ok(
        r#"
        # Transit mounts binfmt_misc itself (it runs through the host's
        # aarch64 handler until this namespace has its own binfmt_misc).
        $RUNNER "$T" binfmt install --root "$M" --flags F --test-only-tagged
        register_aarch64
        echo "--- entry"; cat "$M/transit-x86_64"
        echo "--- again"; install_transit
        echo "--- order"; ls -U "$M" | tr '\n' ' '; echo
        echo "--- persist"; install_transit --persist --binfmt-d "$W/binfmt.d"
        echo "--- conf"; cat "$W/binfmt.d/transit-x86_64.conf"
        echo "--- force"; install_transit --force; ls -U "$M" | tr '\n' ' '; echo
        echo "--- uninstall"; "$T" binfmt uninstall --root "$M" --binfmt-d "$W/binfmt.d"
        ls "$W/binfmt.d"
        echo "--- uninstall again"; "$T" binfmt uninstall --root "$M" --binfmt-d "$W/binfmt.d"
        echo "--- status"; "$T" binfmt status --root "$M" || echo "status exit $?"
        "#,
    );
    let sections = sections(&out);
    let section = |name: &str| sections.get(name).map_or("", String::as_str);
    assert!(out.starts_with("mounted binfmt_misc on "), "install mounts binfmt_misc:\n{out}");
    assert!(out.contains("registered transit-x86_64: "), "{out}");
    let transit = sandbox.transit.binary.display().to_string();
    assert_eq!(
        section("entry"),
        format!(
            "enabled\ninterpreter {transit}\nflags: F\noffset 0\n\
             magic 7f454c4602010100000000000000000102003e00\nmask ffffffffffffff0000000000000000fffeffffff\n"
        ),
        "the kernel's view of the test-only entry"
    );
    assert!(section("again").starts_with("transit-x86_64 is already registered as requested\n"), "idempotent:\n{out}");
    // Newest first: Transit's entry came before this namespace's qemu-aarch64,
    // and the second install left it alone.
    assert_eq!(section("order"), "qemu-aarch64 transit-x86_64 register status \n", "the second install changed nothing");
    assert!(section("persist").contains("is already registered"), "{out}");
    assert!(
        section("force").starts_with("registered transit-x86_64: ") && section("force").ends_with("transit-x86_64 qemu-aarch64 register status \n"),
        "--force registers again, so the entry is the newest:\n{out}"
    );
    let conf = section("conf");
    let line = conf.lines().find(|l| !l.starts_with('#')).unwrap_or_default();
    assert!(line.starts_with(":transit-x86_64:M:0:\\x7f\\x45\\x4c\\x46") && line.ends_with(&format!(":{transit}:F")), "{conf}");
    assert_eq!(
        section("uninstall"),
        format!(
            "removed transit-x86_64 from {}\nremoved {}\n",
            sandbox.dir.join("mnt").display(),
            sandbox.dir.join("binfmt.d/transit-x86_64.conf").display()
        )
    );
    assert_eq!(section("uninstall again"), "transit-x86_64 was not installed\n");
    let status = section("status");
    assert!(status.contains("no x86_64 handler is registered") && status.ends_with("status exit 3\n"), "{status}");
}

/// The installer image runs each command in a fresh privileged container,
/// where binfmt_misc is not mounted: status and uninstall mount it too.
#[test]
fn status_and_uninstall_mount_binfmt_misc_like_install() {
    let Some(sandbox) = Sandbox::new("mount") else { return };
    let out = sandbox.ok(
        r#"
        echo "--- status"; $RUNNER "$T" binfmt status --root "$M" || echo "status exit $?"
        $RUNNER "$T" binfmt install --root "$M" --flags F --test-only-tagged > /dev/null
        # Another mount point of this namespace's binfmt_misc, not mounted
        # yet (an unmount would end the namespace's instance, entries and all).
        mkdir -p "$W/mnt2"
        echo "--- uninstall"; $RUNNER "$T" binfmt uninstall --root "$W/mnt2" --binfmt-d "$W/binfmt.d"
        echo "--- left"; ls "$M"
        "#,
    );
    let sections = sections(&out);
    let section = |name: &str| sections.get(name).map_or("", String::as_str);
    let mounted = format!("mounted binfmt_misc on {}\n", sandbox.dir.join("mnt").display());
    assert!(section("status").starts_with(&mounted), "status mounts binfmt_misc:\n{out}");
    assert!(section("status").ends_with("status exit 3\n"), "nothing registered yet:\n{out}");
    let mnt2 = sandbox.dir.join("mnt2").display().to_string();
    assert_eq!(
        section("uninstall"),
        format!("mounted binfmt_misc on {mnt2}\nremoved transit-x86_64 from {mnt2}\n"),
        "uninstall mounts binfmt_misc and finds the entry"
    );
    assert_eq!(section("left"), "register\nstatus\n");
}

#[test]
fn status_says_the_newest_handler_wins_and_install_takes_over() {
    let Some(sandbox) = Sandbox::new("status") else { return };
    // A competing handler for the same tagged files, registered after
    // Transit: the kernel would run them through /bin/false.
    let out = sandbox.ok(
        r#"
        mount_private; register_aarch64; install_transit >/dev/null
        echo "--- ours"; "$T" binfmt status --root "$M"
        printf '%s' ':fake-qemu-x86_64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x3e\x00:\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe\xff\xff\xff:/bin/false:F' > "$M/register"
        echo "--- shadowed"; "$T" binfmt status --root "$M" || echo "status exit $?"
        echo "--- reinstall"; install_transit
        echo "--- disabled"; echo 0 > "$M/transit-x86_64"; "$T" binfmt status --root "$M" || echo "status exit $?"
        "#,
    );
    let sections = sections(&out);
    let section = |name: &str| sections.get(name).cloned().unwrap_or_default();
    let ours = section("ours");
    assert!(ours.contains("test-tagged x86_64 executables (ET_EXEC, e_ident[15] = 1) run through: transit-x86_64"), "{ours}");
    assert!(!ours.contains("disable the other handlers"), "{ours}");
    let shadowed = section("shadowed");
    assert!(shadowed.contains("run through: fake-qemu-x86_64"), "the newest entry wins:\n{shadowed}");
    let fake_line = shadowed.lines().position(|l| l.trim_start().starts_with("fake-qemu-x86_64"));
    let ours_line = shadowed.lines().position(|l| l.trim_start().starts_with("transit-x86_64"));
    assert!(fake_line < ours_line && fake_line.is_some(), "newest first:\n{shadowed}");
    assert!(shadowed.contains(&format!("`echo 0 > {}/fake-qemu-x86_64`", sandbox.dir.join("mnt").display())), "{shadowed}");
    assert!(shadowed.contains("(QEMU user mode)") && shadowed.ends_with("status exit 3\n"), "{shadowed}");
    let reinstall = section("reinstall");
    assert!(reinstall.starts_with("registered transit-x86_64"), "re-registered to win:\n{reinstall}");
    assert!(reinstall.contains("e_ident[15] = 1) run through: transit-x86_64"), "{reinstall}");
    let disabled = section("disabled");
    assert!(disabled.contains("transit-x86_64       disabled") && disabled.contains("run through: fake-qemu-x86_64"), "{disabled}");
}

#[test]
fn install_without_privilege_refuses_in_one_line() {
    let Some(sandbox) = Sandbox::new("refuse") else { return };
    // A nested user namespace with no mapping runs as nobody, with no
    // capability over the outer namespace: it may not mount binfmt_misc.
    // It keeps root's kernel uid, though (these tests run as root), so
    // `register`, which only root may write, is made unwritable first: a
    // stand-in for an ordinary user's view of it.
    let out = sandbox.ok(
        r#"
        mount_private; register_aarch64
        chmod 0 "$M/register"
        mkdir -p "$W/unmounted"
        for root in "$M" "$W/unmounted"; do
            if unshare -U $RUNNER "$T" binfmt install --root "$root" --flags F --test-only-tagged 2>"$W/err"; then
                echo "installed as nobody at $root"
            else
                echo "exit $?"; cat "$W/err"
            fi
        done
        # uninstall, where it cannot mount binfmt_misc, says so: an entry may be there.
        if unshare -U $RUNNER "$T" binfmt uninstall --root "$W/unmounted" --binfmt-d "$W/binfmt.d" 2>"$W/err"; then
            echo "uninstall succeeded as nobody"
        else
            echo "exit $?"; cat "$W/err"
        fi
        ls "$M" | tr '\n' ' '
        "#,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert_eq!((lines[0], lines[2]), ("exit 1", "exit 1"), "{out}");
    assert!(lines[1].starts_with("transit binfmt: cannot register") && lines[1].contains("needs root"), "{out}");
    assert!(lines[3].starts_with("transit binfmt: cannot mount binfmt_misc") && lines[3].contains("needs root"), "{out}");
    assert_eq!(lines[4], "exit 1", "{out}");
    assert!(lines[5].starts_with("transit binfmt: cannot mount binfmt_misc") && lines[5].contains("needs root"), "{out}");
    assert_eq!(lines[6], "qemu-aarch64 register status ", "nothing was registered");
}

/// Runs test program `name` (tagged) through binfmt_misc and directly
/// under Transit in the same namespace: the guest must see the same
/// process (argv, environment, auxv, /proc/self) either way.
fn same_with_and_without_binfmt(name: &str) {
    same_with_and_without_binfmt_starting(name, 1);
}

/// As `same_with_and_without_binfmt`, for a program that execs itself:
/// Transit starts `starts` times a run.
fn same_with_and_without_binfmt_starting(name: &str, starts: usize) {
    let Some(sandbox) = Sandbox::new(name) else { return };
    let program = sandbox.tagged_program(name);
    let args = quoted_args(&program);
    let out = sandbox.ok(&format!(
        r#"
        mount_private; register_aarch64; install_transit >/dev/null
        export TRANSIT_PROCESS_LOG="$LOG"
        set +e
        ./{name} {args} >binfmt.out 2>&1; echo "binfmt exit $?"
        "$T" ./{name} {args} >direct.out 2>&1; echo "direct exit $?"
        "#
    ));
    let read = |file: &str| std::fs::read_to_string(sandbox.dir.join(file)).unwrap_or_default();
    let (binfmt, direct) = (read("binfmt.out"), read("direct.out"));
    let statuses: Vec<&str> = out.lines().collect();
    assert_eq!(statuses[0].strip_prefix("binfmt "), statuses[1].strip_prefix("direct "), "{out}");
    assert_eq!(binfmt, direct, "{name}: output through binfmt_misc differs from a direct run");
    assert_eq!(sandbox.logged(), BTreeMap::from([(name.to_string(), 2 * starts)]), "both runs were Transit's");
}

#[test]
fn seccomp_filters_survive_an_exec_through_binfmt_misc() {
    // The program execs itself, which binfmt_misc starts: the filters go
    // along in the environment (not --seccomp), and the program sees no
    // trace of them there.
    same_with_and_without_binfmt_starting("seccomp_filters", 2);
}

#[test]
fn a_tagged_program_sees_the_same_argv_and_environment() {
    same_with_and_without_binfmt("args_env");
}

#[test]
fn a_tagged_program_sees_the_same_auxv() {
    same_with_and_without_binfmt("auxv");
}

#[test]
fn a_tagged_program_sees_the_same_proc_self() {
    same_with_and_without_binfmt("proc_self");
}

#[test]
fn tagged_programs_in_a_pipeline_run_under_transit_and_untagged_ones_do_not() {
    let Some(sandbox) = Sandbox::new("pipeline") else { return };
    sandbox.tagged_program("args_env");
    let out = sandbox.ok(
        r#"
        mount_private; register_aarch64; install_transit >/dev/null
        export TRANSIT_PROCESS_LOG="$LOG"
        ./args_env one | ./args_env two | grep -c '^argv'
        ( ./args_env three ) | head -n 1
        "$T" binfmt uninstall --root "$M" >/dev/null
        # An x86_64 host now runs the tagged program natively (the kernel
        # ignores the tag); elsewhere it cannot run at all.
        if [ "$NATIVE_X86_64" ]; then ./args_env four | head -n 1; else echo "argc 2"; fi
        "#,
    );
    assert_eq!(out, "3\nargc 2\nargc 2\n", "outputs");
    // Not the run after uninstall.
    assert_eq!(sandbox.logged(), BTreeMap::from([("args_env".to_string(), 3)]));
}

#[test]
fn a_tagged_guest_shell_runs_a_script_whose_commands_run_under_transit() {
    let Some(sandbox) = Sandbox::new("script") else { return };
    if !host_runs_x86_64() {
        eprintln!("SKIPPED: needs the host's x86_64 /bin/bash (an x86_64 host)");
        return;
    }
    sandbox.tagged_program("args_env");
    let bash = sandbox.tagged_copy(Path::new("/bin/bash"), "bash");
    let script = sandbox.dir.join("script.sh");
    std::fs::write(
        &script,
        format!(
            "#!{}\n\
             ./args_env one | ./args_env two | grep -c '^argv'\n\
             ( ./args_env sub ) | head -n 2 | tail -n 1\n\
             ./args_env background >bg.out & wait\n\
             grep -c background bg.out\n\
             echo \"$(./args_env subst | sed -n 3p)\"\n\
             exit 3\n",
            bash.display()
        ),
    )
    .expect("can write the script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    assert!(bash.as_os_str().as_bytes().len() < 127, "a #! line holds at most 127 bytes: {}", bash.display());
    let out = sandbox.ok(
        r#"
        mount_private; register_aarch64; install_transit >/dev/null
        export TRANSIT_PROCESS_LOG="$LOG"
        ./script.sh a b || echo "script exit $?"
        "#,
    );
    assert_eq!(
        out,
        "3\nargv[0] ends with \"args_env\"\n1\nargv[1] = \"subst\" (5 bytes)\nscript exit 3\n",
        "the script's output"
    );
    // The shell reached Transit through binfmt_misc; its children through
    // Transit's own execve (each an x86_64 program, tagged or not).
    assert_eq!(
        sandbox.logged(),
        BTreeMap::from([
            ("args_env".to_string(), 5),
            ("bash".to_string(), 1),
            ("grep".to_string(), 2),
            ("head".to_string(), 1),
            ("tail".to_string(), 1),
            ("sed".to_string(), 1),
        ])
    );
}
