//! `-L DIR`: absolute paths the guest opens are looked up in the x86_64 root
//! filesystem first, then on the host; without `-L` they are the host's.
//! A fake root filesystem is built under the target directory, and
//! `rootfs_guest.c` (next to this file) reports what the guest reads.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use transit_tests::outcome::Termination;
use transit_tests::transit::Transit;
use transit_tests::{process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(60);
const MARKER: &str = "/etc/transit-rootfs-marker";

/// The host directory `host` and the root filesystem `root`, which holds:
/// - `MARKER`, which the host does not have;
/// - a copy of `host/both` with other contents;
/// - `host/link`, an absolute link to `MARKER` (inside the root filesystem);
/// - `host/sub/`, a directory only it has;
/// - a fake `/proc/version`, which must not be read.
struct Trees {
    host: PathBuf,
    root: PathBuf,
}

fn trees() -> Trees {
    let base = work_dir("rootfs-suite");
    let _ = std::fs::remove_dir_all(&base);
    let (host, root) = (base.join("host"), base.join("root"));
    let mirror = root.join(host.strip_prefix("/").expect("work_dir is absolute"));
    for dir in [&host, &mirror.join("sub"), &root.join("etc"), &root.join("proc")] {
        std::fs::create_dir_all(dir).expect("can create the trees");
    }
    let write = |path: &Path, text: &str| std::fs::write(path, text).expect("can write the trees");
    write(&root.join(MARKER.trim_start_matches('/')), "from the rootfs\n");
    write(&host.join("both"), "host copy\n");
    write(&mirror.join("both"), "rootfs copy\n");
    write(&root.join("proc/version"), "fake\n");
    std::os::unix::fs::symlink(MARKER, mirror.join("link")).expect("can create a link");
    Trees { host, root }
}

/// Built once: the tests run in parallel, and the toolchain's build cache
/// is not meant for two builds of one program by the same process.
fn guest_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| transit_tests::toolchain::build_suite_program("rootfs_guest"))
}

/// Runs the guest with `commands`, with `-L root` if given; returns stdout.
fn run(case: &str, root: Option<&Path>, commands: &[String]) -> String {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let options: Vec<&std::ffi::OsStr> = match root {
        Some(root) => vec!["-L".as_ref(), root.as_os_str()],
        None => Vec::new(),
    };
    let command = transit.command_with_options(&options, guest_binary(), commands);
    let outcome = process::run(command, b"", &work_dir("rootfs-runs").join(case), TIMEOUT)
        .expect("can start Transit");
    let stdout = String::from_utf8_lossy(&outcome.stdout).into_owned();
    assert!(
        matches!(outcome.termination, Termination::Exited(0)),
        "the guest ended with {}; stdout:\n{stdout}\nstderr:\n{}",
        outcome.termination,
        String::from_utf8_lossy(&outcome.stderr)
    );
    stdout
}

fn commands(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn absolute_paths_are_looked_up_in_the_rootfs_first() {
    let t = trees();
    let h = t.host.to_str().expect("UTF-8 work dir");
    let (both, link, sub, new) = (format!("{h}/both"), format!("{h}/link"), format!("{h}/sub"), format!("{h}/new"));
    let stdout = run(
        "with-rootfs",
        Some(&t.root),
        &commands(&[
            "read", MARKER, "read", &both, "read", &link, "starts", "/proc/version", "Linux",
            "create", &new, "read", &new, "cd", &sub, "read", "../both",
        ]),
    );
    let expected = format!(
        "read {MARKER}: from the rootfs\n\
         read {both}: rootfs copy\n\
         read {link}: from the rootfs\n\
         starts /proc/version Linux: yes\n\
         create {new}: ok\n\
         read {new}: created\n\
         cd {sub}: {sub}\n\
         read ../both: rootfs copy\n"
    );
    assert_eq!(stdout, expected);
    // The new file went to the host, as the root filesystem lacked it.
    assert!(t.host.join("new").is_file());
    assert!(!t.root.join(t.host.strip_prefix("/").unwrap()).join("new").exists());
}

#[test]
fn without_a_rootfs_paths_are_the_hosts() {
    let t = trees_for_plain_run();
    let h = t.host.to_str().expect("UTF-8 work dir");
    let (both, link) = (format!("{h}/both"), format!("{h}/link"));
    let stdout = run("without-rootfs", None, &commands(&["read", MARKER, "read", &both, "read", &link]));
    assert_eq!(stdout, format!("read {MARKER}: ENOENT\nread {both}: host copy\nread {link}: ENOENT\n"));
}

/// Trees for the second test, in their own place so both tests can run at once.
fn trees_for_plain_run() -> Trees {
    let base = work_dir("rootfs-suite-plain");
    let _ = std::fs::remove_dir_all(&base);
    let host = base.join("host");
    std::fs::create_dir_all(&host).expect("can create the host tree");
    std::fs::write(host.join("both"), "host copy\n").expect("can write the host tree");
    Trees { root: base.join("root"), host }
}
