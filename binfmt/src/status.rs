//! Which binfmt_misc entries run x86_64 programs, and which one the kernel
//! picks. fs/binfmt_misc.c keeps entries in a list, adds each new entry at
//! its head and uses the first enabled entry that matches: the most recently
//! registered one wins. Pure: the caller reads the entries (in that order).

use std::fmt::Write as _;
use std::path::Path;

use crate::entry::{sample, Entry, ENTRY_NAME};

/// A kind of x86_64 program, by a header such programs start with.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub what: &'static str,
    pub header: fn() -> [u8; 64],
}

/// The kinds reported. Tagged files only matter when some entry is limited
/// to them (the tests' registration).
const KINDS: [Kind; 2] = [
    Kind { what: "x86_64 executables (ET_EXEC)", header: sample::exec },
    Kind { what: "x86_64 PIE executables and shared objects (ET_DYN)", header: sample::dyn_ },
];
const TAGGED_KINDS: [Kind; 2] = [
    Kind { what: "test-tagged x86_64 executables (ET_EXEC, e_ident[15] = 1)", header: sample::tagged_exec },
    Kind { what: "test-tagged x86_64 PIE executables (ET_DYN, e_ident[15] = 1)", header: sample::tagged_dyn },
];

/// Whether `entry` runs some x86_64 programs (Transit's own entry always counts).
pub fn handles_x86_64(entry: &Entry) -> bool {
    entry.name == ENTRY_NAME
        || [sample::exec, sample::dyn_, sample::gnu_exec, sample::tagged_exec, sample::tagged_dyn]
            .iter()
            .any(|h| entry.matches(&h()))
}

/// Who emulates x86_64 through an entry, guessed from its name and interpreter.
pub fn emulator_of(entry: &Entry) -> Option<&'static str> {
    if entry.name == ENTRY_NAME {
        return Some("Transit");
    }
    let text = format!("{} {}", entry.name, entry.interpreter.display()).to_ascii_lowercase();
    [("qemu", "QEMU user mode"), ("rosetta", "Rosetta"), ("fex", "FEX-Emu"), ("box64", "Box64"), ("transit", "Transit")]
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map(|(_, who)| *who)
}

/// What `transit binfmt status` reports.
#[derive(Debug, Clone)]
pub struct Report {
    /// The global switch (`status` file).
    pub enabled: bool,
    /// The x86_64 handlers, most recently registered first.
    pub handlers: Vec<Entry>,
    /// For each kind of program, the entry the kernel runs it through.
    pub winners: Vec<(Kind, Option<String>)>,
}

impl Report {
    /// `entries`: every entry, in the kernel's order (newest first).
    pub fn new(enabled: bool, entries: Vec<Entry>) -> Report {
        let handlers: Vec<Entry> = entries.into_iter().filter(handles_x86_64).collect();
        let tag_only = handlers.iter().any(|e| {
            TAGGED_KINDS.iter().any(|k| e.matches(&(k.header)())) && !KINDS.iter().any(|k| e.matches(&(k.header)()))
        });
        let kinds = KINDS.iter().chain(if tag_only { &TAGGED_KINDS[..] } else { &[] });
        let winners = kinds
            .map(|kind| {
                let first = handlers.iter().find(|e| enabled && e.enabled && e.matches(&(kind.header)()));
                (*kind, first.map(|e| e.name.clone()))
            })
            .collect();
        Report { enabled, handlers, winners }
    }

    pub fn transit(&self) -> Option<&Entry> {
        self.handlers.iter().find(|e| e.name == ENTRY_NAME)
    }

    /// Transit's entry exists, is enabled, and wins for every kind of
    /// program it matches (and it matches some).
    pub fn transit_in_use(&self) -> bool {
        let Some(transit) = self.transit() else { return false };
        let mine: Vec<_> = self.winners.iter().filter(|(k, _)| transit.matches(&(k.header)())).collect();
        !mine.is_empty() && mine.iter().all(|(_, w)| w.as_deref() == Some(ENTRY_NAME))
    }

    /// Enabled handlers other than Transit's that the kernel would use for
    /// some kind of program, or that would take over if Transit's went away.
    pub fn competitors(&self) -> impl Iterator<Item = &Entry> {
        self.handlers.iter().filter(|e| e.enabled && e.name != ENTRY_NAME)
    }

    /// The human-readable report. `root` is the binfmt_misc directory;
    /// `persistent_hint(name)` says how to keep an entry disabled across
    /// reboots (it depends on what registered it).
    pub fn render(&self, root: &Path, persistent_hint: impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "binfmt_misc at {}: {}",
            root.display(),
            if self.enabled { "enabled" } else { "disabled (no entry is used; `echo 1 > status` turns it on)" }
        );
        if self.handlers.is_empty() {
            let _ = writeln!(out, "no x86_64 handler is registered");
        } else {
            let _ = writeln!(out, "x86_64 handlers, most recently registered first (the kernel uses the first enabled one that matches):");
            for e in &self.handlers {
                let flags = e.flags.letters();
                let _ = writeln!(
                    out,
                    "  {:<20} {:<8} flags {:<4}  {}{}",
                    e.name,
                    if e.enabled { "enabled" } else { "disabled" },
                    if flags.is_empty() { "-" } else { &flags },
                    e.interpreter.display(),
                    emulator_of(e).map(|who| format!("  ({who})")).unwrap_or_default()
                );
            }
        }
        for (kind, winner) in &self.winners {
            let _ = writeln!(out, "{} run through: {}", kind.what, winner.as_deref().unwrap_or("no binfmt_misc entry (the kernel runs them itself if it can, else execve fails with ENOEXEC)"));
        }
        let competitors: Vec<_> = self.competitors().collect();
        if !competitors.is_empty() {
            let _ = writeln!(out, "to leave x86_64 programs to Transit, disable the other handlers:");
            for e in competitors {
                let _ = writeln!(
                    out,
                    "  {0}: `echo 0 > {1}` (until reboot; `echo -1 > {1}` removes it){2}",
                    e.name,
                    root.join(&e.name).display(),
                    persistent_hint(&e.name).map(|h| format!("; for good: {h}")).unwrap_or_default()
                );
            }
            if self.transit().is_some() && !self.transit_in_use() {
                let _ = writeln!(out, "  or run `transit binfmt install` again: it re-registers Transit's entry, which makes it the newest");
            }
        }
        if self.transit().is_none() {
            let _ = writeln!(out, "Transit's entry ({ENTRY_NAME}) is not registered: `transit binfmt install` registers it");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, enabled: bool, interpreter: &str, flags: &str, magic: &str, mask: &str) -> Entry {
        let text = format!(
            "{}\ninterpreter {interpreter}\nflags: {flags}\noffset 0\nmagic {magic}\nmask {mask}\n",
            if enabled { "enabled" } else { "disabled" }
        );
        Entry::parse(name, &text).unwrap()
    }
    const X86: &str = "7f454c4602010100000000000000000002003e00";
    const X86_MASK: &str = "ffffffffffffff000000000000000000feffffff";
    const QEMU_MASK: &str = "fffffffffffefe00fffffffffffffffffeffffff";
    const TAGGED: &str = "7f454c4602010100000000000000000102003e00";
    const TAGGED_MASK: &str = "ffffffffffffff0000000000000000fffeffffff";
    const AARCH64: &str = "7f454c460201010000000000000000000200b700";

    fn transit(enabled: bool) -> Entry {
        entry(ENTRY_NAME, enabled, "/usr/bin/transit", "POCF", X86, X86_MASK)
    }
    fn qemu(enabled: bool) -> Entry {
        entry("qemu-x86_64", enabled, "/usr/bin/qemu-x86_64-static", "F", X86, QEMU_MASK)
    }
    fn qemu_aarch64() -> Entry {
        entry("qemu-aarch64", true, "/usr/bin/qemu-aarch64-static", "F", AARCH64, QEMU_MASK)
    }

    fn winners(r: &Report) -> Vec<Option<&str>> {
        r.winners.iter().map(|(_, w)| w.as_deref()).collect()
    }

    #[test]
    fn the_newest_enabled_matching_entry_wins() {
        let r = Report::new(true, vec![qemu(true), transit(true), qemu_aarch64()]);
        assert_eq!(r.handlers.len(), 2, "qemu-aarch64 is not an x86_64 handler");
        assert_eq!(winners(&r), [Some("qemu-x86_64"), Some("qemu-x86_64")]);
        assert!(!r.transit_in_use());
        let text = r.render(Path::new("/b"), |_| Some("ln -s /dev/null /etc/binfmt.d/qemu-x86_64.conf".into()));
        assert!(text.contains("`echo 0 > /b/qemu-x86_64`"), "{text}");
        assert!(text.contains("for good: ln -s /dev/null"), "{text}");
        assert!(text.contains("run `transit binfmt install` again"), "{text}");

        let r = Report::new(true, vec![transit(true), qemu(true)]);
        assert_eq!(winners(&r), [Some(ENTRY_NAME), Some(ENTRY_NAME)]);
        assert!(r.transit_in_use());
    }

    #[test]
    fn disabled_entries_and_a_disabled_binfmt_misc_are_skipped() {
        let r = Report::new(true, vec![qemu(false), transit(true)]);
        assert!(r.transit_in_use());
        assert_eq!(r.competitors().count(), 0);
        let r = Report::new(false, vec![transit(true)]);
        assert_eq!(winners(&r), [None, None]);
        assert!(!r.transit_in_use());
        let r = Report::new(true, vec![transit(false)]);
        assert!(!r.transit_in_use());
        assert!(r.render(Path::new("/b"), |_| None).contains("no binfmt_misc entry"));
    }

    #[test]
    fn a_test_only_entry_is_reported_for_tagged_programs() {
        let tagged_transit = entry(ENTRY_NAME, true, "/t/transit", "F", TAGGED, TAGGED_MASK);
        let r = Report::new(true, vec![tagged_transit, qemu_aarch64()]);
        assert_eq!(winners(&r), [None, None, Some(ENTRY_NAME), Some(ENTRY_NAME)]);
        assert!(r.transit_in_use());
        let fake = entry("fake-x86_64", true, "/bin/false", "", TAGGED, TAGGED_MASK);
        let r = Report::new(true, vec![fake, entry(ENTRY_NAME, true, "/t/transit", "F", TAGGED, TAGGED_MASK)]);
        assert_eq!(r.winners[2].1.as_deref(), Some("fake-x86_64"));
        assert!(!r.transit_in_use());
    }

    #[test]
    fn emulators_are_named() {
        assert_eq!(emulator_of(&qemu(true)), Some("QEMU user mode"));
        let rosetta = entry("rosetta", true, "/mnt/lima-rosetta/rosetta", "OCF", X86, QEMU_MASK);
        assert_eq!(emulator_of(&rosetta), Some("Rosetta"));
        let fex = entry("FEX-x86_64", true, "/usr/bin/FEXInterpreter", "POCF", X86, QEMU_MASK);
        assert_eq!(emulator_of(&fex), Some("FEX-Emu"));
        assert_eq!(emulator_of(&transit(true)), Some("Transit"));
        assert_eq!(emulator_of(&entry("x", true, "/usr/bin/blink", "", X86, X86_MASK)), None);
    }
}
