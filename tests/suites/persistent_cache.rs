//! The persistent code cache: a second start installs the saved
//! translations instead of translating (`--stats` counts them as
//! `restored=`), and runs as the first did; a changed program, damaged
//! cache files and racing writers never change what a program does;
//! TRANSIT_CACHE=off writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use transit_tests::catalog;
use transit_tests::outcome::Termination;
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;
use transit_tests::{process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(120);

/// What one run printed, and its `--stats` process counts.
struct Run {
    stdout: Vec<u8>,
    blocks: u64,
    restored: u64,
}

fn run(binary: &Path, cache: &Path, name: &str, extra_env: &[(&str, &str)]) -> Run {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let command = transit.command_with_options(&[std::ffi::OsStr::new("--stats")], binary, &[]);
    let mut env: Vec<(&str, &std::ffi::OsStr)> = vec![("TRANSIT_CACHE_DIR", cache.as_os_str())];
    env.extend(extra_env.iter().map(|(k, v)| (*k, std::ffi::OsStr::new(*v))));
    let out = process::run_with_env(command, &env, b"", &work_dir("cache-runs").join(name), TIMEOUT).expect("can start Transit");
    assert_eq!(out.termination, Termination::Exited(0), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.contains(": process: ")).unwrap_or_else(|| panic!("--stats prints the process line:\n{stderr}"));
    let field = |name: &str| -> u64 {
        line.split(name).nth(1).and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{name}N in {line}"))
    };
    Run { stdout: out.stdout, blocks: field("blocks="), restored: field("restored=") }
}

/// An empty cache directory of its own for one test.
fn fresh_cache(name: &str) -> PathBuf {
    let dir = work_dir("cache-dirs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cache_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default()
}

/// tests/programs/demo/hello.c built static, and (on x86_64 hosts) with
/// this host's gcc, dynamic, so that libc and ld.so are images too. Built
/// once: the tests run in parallel.
fn programs() -> Vec<(String, PathBuf)> {
    static BUILT: std::sync::OnceLock<Vec<(String, PathBuf)>> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_programs).clone()
}

fn build_programs() -> Vec<(String, PathBuf)> {
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let catalog = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let variant = toolchain.variants().next().expect("every host has a variant");
    let hello = catalog.iter().find(|p| p.name == "hello").expect("tests/programs has hello");
    let mut programs = vec![("static".to_string(), toolchain.build(hello, variant).unwrap_or_else(|e| panic!("{e}")))];
    if transit_tests::host_runs_x86_64() {
        let dir = work_dir("cache-inputs");
        std::fs::create_dir_all(&dir).expect("can create the inputs directory");
        let dynamic = dir.join("hello-dynamic");
        let source = transit_tests::workspace_root().join("tests/programs/demo/hello.c");
        let built = Command::new("gcc").args(["-O2", "-o"]).arg(&dynamic).arg(&source).status().expect("gcc runs");
        assert!(built.success(), "gcc builds {}", source.display());
        programs.push(("dynamic".to_string(), dynamic));
    }
    programs
}

#[test]
fn a_second_start_restores_its_translations_and_runs_the_same() {
    for (kind, binary) in programs() {
        let cache = fresh_cache(&format!("warm-{kind}"));
        let cold = run(&binary, &cache, &format!("cold-{kind}"), &[]);
        assert_eq!(cold.restored, 0, "{kind}: nothing saved yet");
        assert!(!cache_files(&cache).is_empty(), "{kind}: the first run saved its blocks");
        let warm = run(&binary, &cache, &format!("warm-{kind}"), &[]);
        assert_eq!(warm.stdout, cold.stdout, "{kind}");
        // Every one: a single block translated again makes the start build
        // the decoder's tables (ld.so's start-up code names its image's
        // end, `_end`, which must not keep that block out).
        assert_eq!(warm.restored, warm.blocks, "{kind}: every block restored");
    }
}

#[test]
fn faults_in_restored_code_reach_handlers_as_in_translated_code() {
    // signal_faults faults at known instructions and prints what its
    // handlers saw (the faulting RIP, resuming past it): in a warm run the
    // faults happen in restored blocks, whose instruction boundaries the
    // block map reads from their saved records.
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let catalog = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let variant = toolchain.variants().next().expect("every host has a variant");
    let program = catalog.iter().find(|p| p.name == "signal_faults").expect("tests/programs has signal_faults");
    let binary = toolchain.build(program, variant).unwrap_or_else(|e| panic!("{e}"));
    let cache = fresh_cache("faults");
    let cold = run(&binary, &cache, "faults-cold", &[]);
    let warm = run(&binary, &cache, "faults-warm", &[]);
    assert!(warm.restored * 10 >= warm.blocks * 9, "restored {} of {} blocks", warm.restored, warm.blocks);
    assert_eq!(String::from_utf8_lossy(&warm.stdout), String::from_utf8_lossy(&cold.stdout));
}

#[test]
fn a_changed_program_is_translated_again() {
    let (_, original) = programs().remove(0);
    let cache = fresh_cache("changed");
    let binary = work_dir("cache-inputs").join("hello-changed");
    std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
    std::fs::copy(&original, &binary).unwrap();
    let first = run(&binary, &cache, "changed-1", &[]);
    assert!(run(&binary, &cache, "changed-2", &[]).restored > 0);
    // Same bytes, a new modification time: the file's identity changed.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&binary, std::fs::read(&original).unwrap()).unwrap();
    let after = run(&binary, &cache, "changed-3", &[]);
    assert_eq!((after.restored, after.stdout), (0, first.stdout), "a static program is one image: nothing restored");
}

#[test]
fn off_saves_nothing() {
    let (_, binary) = programs().remove(0);
    let cache = fresh_cache("off");
    for i in 0..2 {
        let r = run(&binary, &cache, &format!("off-{i}"), &[("TRANSIT_CACHE", "off")]);
        assert_eq!(r.restored, 0);
    }
    assert!(cache_files(&cache).is_empty(), "no cache directory contents: {:?}", cache_files(&cache));
}

#[test]
fn damaged_cache_files_change_nothing() {
    for (kind, binary) in programs() {
        let cache = fresh_cache(&format!("damaged-{kind}"));
        let cold = run(&binary, &cache, &format!("damaged-cold-{kind}"), &[]);
        for (i, file) in cache_files(&cache).iter().enumerate() {
            let mut bytes = std::fs::read(file).unwrap();
            let half = bytes.len() / 2;
            match (i + 2) % 3 {
                // Every 97th byte flipped: header, index and records alike.
                0 => bytes.iter_mut().step_by(97).for_each(|b| *b ^= 0x41),
                1 => bytes.truncate(half),
                _ => bytes.iter_mut().skip(half).step_by(13).for_each(|b| *b = !*b),
            }
            std::fs::write(file, bytes).unwrap();
        }
        let after = run(&binary, &cache, &format!("damaged-warm-{kind}"), &[]);
        assert_eq!(after.stdout, cold.stdout, "{kind}");
    }
}

#[test]
fn racing_first_starts_leave_whole_files() {
    for (kind, binary) in programs() {
        let cache = fresh_cache(&format!("race-{kind}"));
        let runs: Vec<_> = (0..4)
            .map(|i| {
                let (binary, cache) = (binary.clone(), cache.clone());
                let name = format!("race-{kind}-{i}");
                std::thread::spawn(move || run(&binary, &cache, &name, &[]).stdout)
            })
            .collect();
        let outputs: Vec<Vec<u8>> = runs.into_iter().map(|t| t.join().expect("a run")).collect();
        assert!(outputs.windows(2).all(|w| w[0] == w[1]), "{kind}: every run prints the same");
        assert!(cache_files(&cache).iter().all(|f| !f.file_name().unwrap().to_string_lossy().ends_with(".tmp")), "{kind}: no temporary files left");
        let warm = run(&binary, &cache, &format!("race-{kind}-warm"), &[]);
        assert_eq!(warm.stdout, outputs[0], "{kind}");
        assert!(warm.restored * 100 >= warm.blocks * 95, "{kind}: the files written last are whole: {} of {}", warm.restored, warm.blocks);
    }
}

#[test]
fn cache_stats_counts_the_files_and_clear_removes_them() {
    let (_, binary) = programs().remove(0);
    let cache = fresh_cache("command");
    run(&binary, &cache, "command-fill", &[]);
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let command = |args: &[&str], name: &str| {
        let mut c = transit.bare_command();
        c.arg("cache").args(args);
        let out = process::run_with_env(c, &[("TRANSIT_CACHE_DIR", cache.as_os_str())], b"", &work_dir("cache-runs").join(name), TIMEOUT).expect("can start Transit");
        (out.termination, String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let files = cache_files(&cache).iter().filter(|p| p.extension().is_some_and(|x| x == "blocks")).count();
    let (status, stats) = command(&["stats"], "command-stats");
    assert_eq!(status, Termination::Exited(0));
    assert!(stats.contains(&format!("files: {files} (")), "{stats}");
    assert_eq!(command(&["clear"], "command-clear").0, Termination::Exited(0));
    assert!(cache_files(&cache).is_empty());
    assert_eq!(command(&["wrong"], "command-wrong").0, Termination::Exited(2));
}

/// `transit cache warm --system PROGRAM` fills the system-wide cache, and a
/// user whose own cache is empty starts warm from it.
#[test]
fn cache_warm_fills_the_system_cache_that_others_start_from() {
    let (_, binary) = programs().remove(0);
    let system = fresh_cache("system");
    let user = fresh_cache("system-user");
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let mut c = transit.bare_command();
    c.arg("cache").arg("warm").arg("--system").arg(&binary);
    let env = [("TRANSIT_SYSTEM_CACHE_DIR", system.as_os_str()), ("TRANSIT_CACHE_DIR", user.as_os_str())];
    let out = process::run_with_env(c, &env, b"", &work_dir("cache-runs").join("warm-system"), TIMEOUT).expect("can start Transit");
    assert_eq!(out.termination, Termination::Exited(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!cache_files(&system).is_empty() && cache_files(&user).is_empty(), "warm --system writes the system cache only");
    let r = run(&binary, &user, "warm-system-user", &[("TRANSIT_SYSTEM_CACHE_DIR", system.to_str().unwrap())]);
    assert!(r.restored * 100 >= r.blocks * 95, "{} of {} blocks restored from the system cache", r.restored, r.blocks);
    assert_eq!(r.stdout, out.stdout);
}

/// Beyond TRANSIT_CACHE_MAX_MB the least recently written files go, down
/// to three quarters of the limit; a save soon after a walk does not walk
/// the directory again (each walk stats every file).
#[test]
fn a_full_cache_drops_its_oldest_files_walking_at_most_once_a_minute() {
    let (_, original) = programs().remove(0);
    let cache = fresh_cache("evict");
    std::fs::create_dir_all(&cache).unwrap();
    // Sparse 30 MB files, written long ago: the oldest first.
    let old_file = |name: &str, age_days: u64| {
        let path = cache.join(format!("{name}.blocks"));
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(30 << 20).unwrap();
        file.set_modified(std::time::SystemTime::now() - Duration::from_secs(age_days * 86_400)).unwrap();
        path
    };
    let (oldest, older, old) = (old_file("oldest", 3), old_file("older", 2), old_file("old", 1));
    let limit = [("TRANSIT_CACHE_MAX_MB", "64")];
    run(&original, &cache, "evict-1", &limit);
    // 90 MB and the new file: down to 48 MB takes the two oldest.
    assert!(!oldest.exists() && !older.exists(), "the two oldest files went");
    assert!(old.exists(), "the third stayed");
    assert!(cache_files(&cache).iter().any(|p| p.extension().is_some_and(|x| x == "blocks") && *p != old), "the run's own file stayed");
    // Over the limit again, but the directory was walked a moment ago: a
    // small save (a program with a new identity) leaves it as it is.
    let (again, again2) = (old_file("again", 5), old_file("again2", 4));
    let binary = work_dir("cache-inputs").join("hello-evict");
    std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
    std::fs::copy(&original, &binary).unwrap();
    let files_before = cache_files(&cache).len();
    run(&binary, &cache, "evict-2", &limit);
    assert!(again.exists() && again2.exists(), "no walk within the interval");
    assert_eq!(cache_files(&cache).len(), files_before + 1, "the new program's file was written");
}

/// A forked child that translates only its way to a failing exec (a
/// shell's or a subprocess module's child) does not write its parent's
/// libraries' sets again: a warm run leaves libc's and ld.so's files as
/// they were (the program's own few blocks are cheaper to write again
/// than to translate).
#[test]
fn forked_children_leave_the_saved_sets_alone() {
    if !transit_tests::host_runs_x86_64() {
        return;
    }
    let dir = work_dir("cache-inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("fork_exec_fails.c");
    std::fs::write(
        &source,
        r#"#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    for (int i = 0; i < 3; i++) {
        pid_t child = fork();
        if (child == 0) {
            char *argv[] = {"/nonexistent/transit-cache-test", 0};
            execv(argv[0], argv);
            _exit(7);
        }
        int status;
        waitpid(child, &status, 0);
        printf("child %d: %d\n", i, WEXITSTATUS(status));
    }
    return 0;
}
"#,
    )
    .unwrap();
    let binary = dir.join("fork_exec_fails");
    let built = Command::new("gcc").args(["-O2", "-o"]).arg(&binary).arg(&source).status().expect("gcc runs");
    assert!(built.success());
    let cache = fresh_cache("forked");
    let files = || -> Vec<(PathBuf, u64, std::time::SystemTime)> {
        use std::os::unix::fs::MetadataExt;
        let large = |m: &std::fs::Metadata| m.len() > 64 << 10;
        let mut v: Vec<_> = cache_files(&cache).into_iter().filter_map(|p| std::fs::metadata(&p).ok().filter(large).map(|m| (p, m.ino(), m.modified().unwrap()))).collect();
        v.sort();
        v
    };
    let cold = run(&binary, &cache, "forked-cold", &[]);
    assert_eq!(String::from_utf8_lossy(&cold.stdout), "child 0: 7\nchild 1: 7\nchild 2: 7\n");
    let after_cold = files();
    assert!(after_cold.len() >= 2, "libc's and ld.so's sets: {after_cold:?}");
    let warm = run(&binary, &cache, "forked-warm", &[]);
    assert_eq!(warm.stdout, cold.stdout);
    assert_eq!(files(), after_cold, "no library's set written again");
}
