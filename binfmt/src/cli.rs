//! `transit binfmt install|uninstall|status`.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::entry::{Flags, Magic, Registration, DEFAULT_FLAGS, ENTRY_NAME};
use crate::misc_fs::{BinfmtMisc, DEFAULT_ROOT};
use crate::persist;
use crate::status::Report;

#[derive(Parser, Debug)]
#[command(
    name = "transit binfmt",
    about = "Make the kernel run every x86_64 program through Transit (binfmt_misc)",
    after_help = "Exit status: 0 done (status: Transit runs x86_64 programs), 1 error, \
                  3 (status only) Transit's entry is missing, disabled or shadowed by another handler."
)]
struct BinfmtCli {
    #[command(subcommand)]
    command: Command,
    /// The binfmt_misc mount to operate on.
    #[arg(long, global = true, env = "TRANSIT_BINFMT_ROOT", value_name = "DIR", default_value = DEFAULT_ROOT)]
    root: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Register Transit (this executable) for 64-bit x86_64 ELF programs.
    /// Mounts binfmt_misc if needed; does nothing if already registered
    /// the same way and in use.
    Install {
        /// binfmt_misc flags: P (keep argv[0]), O (pass the program as an
        /// open file: execute-only programs work), C (setuid and
        /// capabilities from the program; implies O), F (open Transit now:
        /// works in containers and chroots that lack it).
        #[arg(long, default_value = DEFAULT_FLAGS, value_name = "LETTERS")]
        flags: String,
        /// Also write binfmt.d/transit-x86_64.conf so systemd-binfmt registers
        /// Transit at every boot (in /usr/lib/binfmt.d, or /etc/binfmt.d if
        /// that does not exist).
        #[arg(long)]
        persist: bool,
        /// Where --persist writes instead.
        #[arg(long, value_name = "DIR", requires = "persist")]
        binfmt_d: Option<PathBuf>,
        /// Register again even if the entry is already as requested: after
        /// replacing the Transit binary, as with F the kernel keeps using
        /// the file it opened at registration.
        #[arg(long)]
        force: bool,
        /// TEST ONLY: match only x86_64 ELF files whose e_ident[15] (an ELF
        /// padding byte the kernel ignores) is 1, so that a test on an
        /// x86_64 host does not route the host's own programs through
        /// Transit. Never useful on a real system.
        #[arg(long, hide = true)]
        test_only_tagged: bool,
    },
    /// Remove Transit's entry and its binfmt.d file.
    Uninstall {
        /// The binfmt.d directory to clean (default: /usr/lib/binfmt.d and /etc/binfmt.d).
        #[arg(long, value_name = "DIR")]
        binfmt_d: Option<PathBuf>,
    },
    /// Show every x86_64 handler, which one the kernel uses, and how to
    /// disable the others.
    Status,
}

/// The command line's definition (for man pages: `transit --package-files`).
pub fn command() -> clap::Command {
    <BinfmtCli as clap::CommandFactory>::command()
}

/// Runs `transit binfmt ARGS`; returns the exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match BinfmtCli::try_parse_from(std::iter::once(OsString::from("transit binfmt")).chain(args)) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let fs = BinfmtMisc::at(&cli.root);
    let result = match cli.command {
        Command::Install { flags, persist, binfmt_d, force, test_only_tagged } => install(
            &fs,
            &flags,
            persist.then(|| binfmt_d.unwrap_or_else(persist::default_dir)),
            force,
            test_only_tagged,
        ),
        Command::Uninstall { binfmt_d } => uninstall(&fs, binfmt_d),
        Command::Status => status(&fs),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("transit binfmt: {message}");
            1
        }
    }
}

fn install(
    fs: &BinfmtMisc,
    flags: &str,
    persist_to: Option<PathBuf>,
    force: bool,
    test_only_tagged: bool,
) -> Result<i32, String> {
    let flags = Flags::parse(flags)?;
    let interpreter = std::env::current_exe().map_err(|e| format!("cannot find Transit's own path (/proc/self/exe): {e}"))?;
    let magic = if test_only_tagged { Magic::tagged_x86_64_elf() } else { Magic::x86_64_elf() };
    let wanted = Registration { magic, ..Registration::transit(&interpreter, flags) };
    let line = wanted.line()?;
    mount_if_needed(fs)?;
    let entries = fs.entries().map_err(|e| explain(e, &format!("cannot read {}", fs.root.display())))?;
    let current = entries.iter().find(|e| e.name == ENTRY_NAME).cloned();
    // Decided as if the global switch were on: that switch is the admin's.
    let in_use = Report::new(true, entries).transit_in_use();
    match current {
        Some(entry) if !force && entry.enabled && wanted.is_registered_as(&entry) && in_use => {
            println!("{ENTRY_NAME} is already registered as requested");
        }
        current => {
            if current.is_some() {
                // Re-registering also makes the entry the newest, so it wins
                // over handlers registered after it.
                fs.remove(ENTRY_NAME).map_err(|e| explain(e, &format!("cannot remove the old {ENTRY_NAME}")))?;
            }
            fs.register(&line).map_err(|e| explain(e, &format!("cannot register `{line}`")))?;
            match fs.entry(ENTRY_NAME) {
                Ok(Some(entry)) if wanted.is_registered_as(&entry) => {}
                other => return Err(format!("the kernel accepted `{line}` but shows {other:?}")),
            }
            println!(
                "registered {ENTRY_NAME}: {} runs {}x86_64 ELF programs, flags {}",
                interpreter.display(),
                if test_only_tagged { "test-tagged " } else { "" },
                wanted.flags.letters()
            );
        }
    }
    if !flags.fix_binary {
        println!("note: without F the kernel opens {} in the program's own mount namespace: chroots and containers need it at that path", interpreter.display());
    }
    if let Some(dir) = persist_to {
        let path = dir.join(persist::conf_file_name());
        let text = persist::conf_text(&wanted)?;
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| explain(e, &format!("cannot write {}", path.display())))?;
        println!("wrote {} (systemd-binfmt registers it at boot)", path.display());
    }
    print!("{}", report(fs)?.render(&fs.root, persist::keep_disabled_hint));
    Ok(0)
}

fn uninstall(fs: &BinfmtMisc, binfmt_d: Option<PathBuf>) -> Result<i32, String> {
    let mut did = false;
    let mounted = mount_if_needed(fs);
    if mounted.is_ok() && fs.entry(ENTRY_NAME).map_err(|e| explain(e, "cannot read the entry"))?.is_some() {
        fs.remove(ENTRY_NAME).map_err(|e| explain(e, &format!("cannot remove {ENTRY_NAME}")))?;
        println!("removed {ENTRY_NAME} from {}", fs.root.display());
        did = true;
    }
    let dirs = match binfmt_d {
        Some(dir) => vec![dir],
        None => persist::CONF_DIRS.iter().map(PathBuf::from).collect(),
    };
    for dir in dirs {
        let path = dir.join(persist::conf_file_name());
        match std::fs::remove_file(&path) {
            Ok(()) => {
                println!("removed {}", path.display());
                did = true;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(explain(e, &format!("cannot remove {}", path.display()))),
        }
    }
    if !did {
        // Unmounted and not mountable (no privilege): the entry may well
        // exist, and this is no success.
        mounted?;
        println!("{ENTRY_NAME} was not installed");
    }
    Ok(0)
}

fn status(fs: &BinfmtMisc) -> Result<i32, String> {
    if let Err(why) = mount_if_needed(fs) {
        println!("binfmt_misc is not mounted, and {why}");
        return Ok(3);
    }
    let report = report(fs)?;
    print!("{}", report.render(&fs.root, persist::keep_disabled_hint));
    Ok(if report.transit_in_use() { 0 } else { 3 })
}

/// Every command mounts binfmt_misc where it is not yet: a privileged
/// container (the installer image) starts without it, and the registrations
/// it shows are the kernel's (of the user namespace). Err says why not.
fn mount_if_needed(fs: &BinfmtMisc) -> Result<(), String> {
    if !fs.is_mounted() {
        fs.mount().map_err(|e| explain(e, &format!("cannot mount binfmt_misc on {}", fs.root.display())))?;
        println!("mounted binfmt_misc on {}", fs.root.display());
    }
    Ok(())
}

fn report(fs: &BinfmtMisc) -> Result<Report, String> {
    let read = |e| explain(e, &format!("cannot read {}", fs.root.display()));
    Ok(Report::new(fs.enabled().map_err(read)?, fs.entries().map_err(read)?))
}

/// One line saying what went wrong and, for the usual causes, what to do.
fn explain(e: io::Error, what: &str) -> String {
    let hint = match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => {
            "; registering binfmt_misc handlers needs root (CAP_SYS_ADMIN): run it with sudo, \
             or from a container started with --privileged"
        }
        Some(libc::EROFS) => "; binfmt_misc is read-only here (a container without --privileged?)",
        Some(libc::EINVAL) => "; the kernel rejected it (is the interpreter missing, or the line malformed?)",
        Some(libc::ENOENT) if what.contains("register") => "; is this a binfmt_misc mount?",
        _ => "",
    };
    format!("{what}: {e}{hint}")
}
