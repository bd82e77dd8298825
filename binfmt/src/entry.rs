//! A binfmt_misc entry: what the kernel matches (offset, magic, mask), what
//! it runs (the interpreter) and how (flags). Building the registration line
//! and reading an entry back are pure, so they are unit-tested without root.
//!
//! The formats are the kernel's: Documentation/admin-guide/binfmt-misc.rst
//! for the line written to `register`, fs/binfmt_misc.c (`entry_status`) for
//! the text of `/proc/sys/fs/binfmt_misc/NAME`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Name of Transit's binfmt_misc entry.
pub const ENTRY_NAME: &str = "transit-x86_64";

/// ELF identification and header fields the magic looks at (System V gABI).
mod elf {
    pub const MAGIC: [u8; 4] = *b"\x7fELF";
    pub const CLASS64: u8 = 2;
    pub const DATA_LE: u8 = 1;
    pub const VERSION_CURRENT: u8 = 1;
    /// e_ident[EI_OSABI].
    pub const OSABI: usize = 7;
    /// e_ident[15], the last padding byte; Linux's ELF loader never reads it.
    pub const PAD_LAST: usize = 15;
    /// e_type, 16 bits at offset 16.
    pub const TYPE: usize = 16;
    pub const ET_EXEC: u16 = 2;
    pub const ET_DYN: u16 = 3;
    /// e_machine, 16 bits at offset 18.
    pub const MACHINE: usize = 18;
    pub const EM_X86_64: u16 = 62;
    /// Bytes up to the end of e_machine: what the magic covers.
    pub const PREFIX: usize = 20;
}

/// What an entry matches: `mask & file[offset..] == magic & mask`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Magic {
    pub offset: usize,
    pub magic: Vec<u8>,
    /// Same length as `magic`; `None` means all ones (an entry without mask).
    pub mask: Option<Vec<u8>>,
}

impl Magic {
    /// 64-bit little-endian ELF for EM_X86_64, ET_EXEC or ET_DYN (the mask
    /// clears e_type's low bit: 2 and 3), any OSABI (Linux runs SYSV and GNU
    /// alike), any ABI version and padding (Linux's ELF loader reads neither:
    /// an entry stricter than the kernel would leave some programs out).
    pub fn x86_64_elf() -> Magic {
        let mut magic = vec![0u8; elf::PREFIX];
        let mut mask = vec![0u8; elf::PREFIX];
        magic[..4].copy_from_slice(&elf::MAGIC);
        magic[4] = elf::CLASS64;
        magic[5] = elf::DATA_LE;
        magic[6] = elf::VERSION_CURRENT;
        mask[..7].fill(0xff);
        magic[elf::TYPE..elf::TYPE + 2].copy_from_slice(&elf::ET_EXEC.to_le_bytes());
        mask[elf::TYPE..elf::TYPE + 2].copy_from_slice(&(!1u16).to_le_bytes());
        magic[elf::MACHINE..elf::MACHINE + 2].copy_from_slice(&elf::EM_X86_64.to_le_bytes());
        mask[elf::MACHINE..elf::MACHINE + 2].fill(0xff);
        Magic { offset: 0, magic, mask: Some(mask) }
    }

    /// TEST ONLY: [`Magic::x86_64_elf`] restricted to files whose last
    /// e_ident padding byte is [`TEST_TAG`]. On an x86_64 host an entry for
    /// every x86_64 ELF would also catch the host's own programs (the shell,
    /// qemu-aarch64-static that runs Transit): the tests tag copies of
    /// their guest programs instead, a byte the kernel's ELF loader ignores.
    pub fn tagged_x86_64_elf() -> Magic {
        let mut m = Magic::x86_64_elf();
        m.magic[elf::PAD_LAST] = TEST_TAG;
        m.mask.as_mut().expect("x86_64_elf has a mask")[elf::PAD_LAST] = 0xff;
        m
    }

    /// Whether the kernel would pick this entry for a file starting with `head`.
    pub fn matches(&self, head: &[u8]) -> bool {
        let Some(window) = head.get(self.offset..self.offset + self.magic.len()) else { return false };
        window.iter().zip(&self.magic).enumerate().all(|(i, (byte, magic))| {
            let mask = self.mask.as_ref().map_or(0xff, |m| m[i]);
            (byte ^ magic) & mask == 0
        })
    }

    /// Same set of matched files (the kernel may print the magic unmasked).
    pub fn same_as(&self, other: &Magic) -> bool {
        let masked = |m: &Magic| -> Vec<(u8, u8)> {
            m.magic.iter().enumerate().map(|(i, b)| {
                let mask = m.mask.as_ref().map_or(0xff, |k| k[i]);
                (b & mask, mask)
            }).collect()
        };
        self.offset == other.offset && masked(self) == masked(other)
    }
}

/// The byte [`Magic::tagged_x86_64_elf`] expects at e_ident[15].
pub const TEST_TAG: u8 = 1;

/// Headers of typical x86_64 programs, to find which entries would run them.
pub mod sample {
    use super::elf;

    /// The first bytes of a 64-bit little-endian x86_64 ELF of type `e_type`
    /// with OSABI `osabi` and e_ident[15] = `tag`.
    pub fn x86_64_header(e_type: u16, osabi: u8, tag: u8) -> [u8; 64] {
        let mut h = [0u8; 64];
        h[..4].copy_from_slice(&elf::MAGIC);
        h[4] = elf::CLASS64;
        h[5] = elf::DATA_LE;
        h[6] = elf::VERSION_CURRENT;
        h[elf::OSABI] = osabi;
        h[elf::PAD_LAST] = tag;
        h[elf::TYPE..elf::TYPE + 2].copy_from_slice(&e_type.to_le_bytes());
        h[elf::MACHINE..elf::MACHINE + 2].copy_from_slice(&elf::EM_X86_64.to_le_bytes());
        h
    }

    /// A static, non-PIE program.
    pub fn exec() -> [u8; 64] {
        x86_64_header(elf::ET_EXEC, 0, 0)
    }
    /// A PIE (or anything linked as a shared object).
    pub fn dyn_() -> [u8; 64] {
        x86_64_header(elf::ET_DYN, 0, 0)
    }
    /// GNU OSABI, as binaries using IFUNC or unique symbols are marked.
    pub fn gnu_exec() -> [u8; 64] {
        x86_64_header(elf::ET_EXEC, 3, 0)
    }
    /// A program tagged for the tests' registration.
    pub fn tagged_exec() -> [u8; 64] {
        x86_64_header(elf::ET_EXEC, 0, super::TEST_TAG)
    }
    pub fn tagged_dyn() -> [u8; 64] {
        x86_64_header(elf::ET_DYN, 0, super::TEST_TAG)
    }
}

/// The flags letters (binfmt-misc.rst, "flags").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// P: keep the original argv[0]; the interpreter gets argv[1] = path,
    /// argv[2] = argv[0], and AT_FLAGS_PRESERVE_ARGV0 in AT_FLAGS.
    pub preserve_argv0: bool,
    /// O: the kernel opens the program and passes it as AT_EXECFD, so
    /// programs the caller may execute but not read work.
    pub open_binary: bool,
    /// C: credentials (setuid, file capabilities) come from the program, not
    /// the interpreter. Implies O.
    pub credentials: bool,
    /// F: the kernel opens the interpreter at registration, so it need not
    /// exist in the mount namespace (chroot, container) of the program.
    pub fix_binary: bool,
}

/// Transit's default: all four (what FEX registers too).
pub const DEFAULT_FLAGS: &str = "POCF";

impl Flags {
    /// Parses letters as the kernel does (case-sensitive, any order); C
    /// implies O, as in the kernel.
    pub fn parse(letters: &str) -> Result<Flags, String> {
        let mut f = Flags::default();
        for c in letters.chars() {
            match c {
                'P' => f.preserve_argv0 = true,
                'O' => f.open_binary = true,
                'C' => {
                    f.credentials = true;
                    f.open_binary = true;
                }
                'F' => f.fix_binary = true,
                _ => return Err(format!("unknown binfmt_misc flag `{c}` (known: P, O, C, F)")),
            }
        }
        Ok(f)
    }

    /// The letters in the kernel's order (the order `flags:` lists them).
    pub fn letters(&self) -> String {
        [(self.preserve_argv0, 'P'), (self.open_binary, 'O'), (self.credentials, 'C'), (self.fix_binary, 'F')]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, c)| *c)
            .collect()
    }
}

/// An entry to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: String,
    pub magic: Magic,
    pub interpreter: PathBuf,
    pub flags: Flags,
}

impl Registration {
    /// Transit's entry: every x86_64 executable, run by `interpreter`.
    pub fn transit(interpreter: &Path, flags: Flags) -> Registration {
        Registration { name: ENTRY_NAME.into(), magic: Magic::x86_64_elf(), interpreter: interpreter.into(), flags }
    }

    /// The line written to `register`: `:name:M:offset:magic:mask:interpreter:flags`.
    /// Every magic and mask byte is written as `\xHH`, so that none can be
    /// read as the `:` separator.
    pub fn line(&self) -> Result<String, String> {
        if self.name.is_empty() || self.name.contains(['/', ':']) || self.name == "." || self.name == ".." {
            return Err(format!("`{}` cannot name a binfmt_misc entry", self.name));
        }
        let interpreter = self.interpreter.to_str().ok_or("the interpreter path is not UTF-8")?;
        if !self.interpreter.is_absolute() {
            return Err(format!("the interpreter must be an absolute path: {interpreter}"));
        }
        if interpreter.contains([':', '\n']) {
            return Err(format!("binfmt_misc cannot register an interpreter whose path has `:` or a newline: {interpreter}"));
        }
        let hex = |bytes: &[u8]| bytes.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "\\x{b:02x}");
            s
        });
        let mask = self.magic.mask.as_deref().map(hex).unwrap_or_default();
        Ok(format!(
            ":{}:M:{}:{}:{}:{}:{}",
            self.name,
            self.magic.offset,
            hex(&self.magic.magic),
            mask,
            interpreter,
            self.flags.letters()
        ))
    }

    /// Whether the kernel's `entry` is this registration, enabled or not.
    pub fn is_registered_as(&self, entry: &Entry) -> bool {
        entry.name == self.name
            && entry.interpreter == self.interpreter
            && entry.flags == self.flags
            && entry.magic.as_ref().is_some_and(|m| m.same_as(&self.magic))
    }
}

/// An entry as the kernel shows it in `/proc/sys/fs/binfmt_misc/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub enabled: bool,
    pub interpreter: PathBuf,
    pub flags: Flags,
    /// `None` for an entry that matches a file name extension instead.
    pub magic: Option<Magic>,
}

impl Entry {
    /// Parses the kernel's text:
    /// ```text
    /// enabled
    /// interpreter /usr/bin/qemu-x86_64-static
    /// flags: OCF
    /// offset 0
    /// magic 7f454c46...
    /// mask fffffffff...
    /// ```
    /// (`extension .EXT` replaces offset/magic/mask for extension entries.)
    pub fn parse(name: &str, text: &str) -> Result<Entry, String> {
        let bad = |why: &str| format!("binfmt_misc entry {name}: {why}");
        let mut lines = text.lines();
        let enabled = match lines.next() {
            Some("enabled") => true,
            Some("disabled") => false,
            other => return Err(bad(&format!("unexpected first line {other:?}"))),
        };
        let (mut interpreter, mut flags, mut offset, mut magic, mut mask) = (None, None, 0, None, None);
        let mut extension = false;
        for line in lines {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "interpreter" => interpreter = Some(PathBuf::from(value)),
                "flags:" => flags = Some(Flags::parse(value.trim()).map_err(|e| bad(&e))?),
                "offset" => offset = value.trim().parse().map_err(|_| bad("offset is not a number"))?,
                "magic" => magic = Some(unhex(value).ok_or_else(|| bad("magic is not hex"))?),
                "mask" => mask = Some(unhex(value).ok_or_else(|| bad("mask is not hex"))?),
                "extension" => extension = true,
                _ => {} // Newer kernels may add lines.
            }
        }
        let magic = match (magic, extension) {
            (Some(magic), false) => {
                if mask.as_ref().is_some_and(|m: &Vec<u8>| m.len() != magic.len()) {
                    return Err(bad("mask and magic differ in length"));
                }
                Some(Magic { offset, magic, mask })
            }
            (None, true) => None,
            _ => return Err(bad("neither a magic nor an extension")),
        };
        Ok(Entry {
            name: name.into(),
            enabled,
            interpreter: interpreter.ok_or_else(|| bad("no interpreter line"))?,
            flags: flags.ok_or_else(|| bad("no flags line"))?,
            magic,
        })
    }

    /// Whether the kernel would run a file starting with `head` through this
    /// entry (if it is enabled and no earlier entry matches).
    pub fn matches(&self, head: &[u8]) -> bool {
        self.magic.as_ref().is_some_and(|m| m.matches(head))
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the kernel prints for Transit's default registration.
    fn transit_entry_text() -> String {
        concat!(
            "enabled\ninterpreter /usr/bin/transit\nflags: POCF\noffset 0\n",
            "magic 7f454c4602010100000000000000000002003e00\n",
            "mask ffffffffffffff000000000000000000feffffff\n",
        )
        .into()
    }

    #[test]
    fn the_default_line_matches_x86_64_elf_exec_and_dyn_of_any_osabi() {
        let r = Registration::transit(Path::new("/usr/bin/transit"), Flags::parse(DEFAULT_FLAGS).unwrap());
        assert_eq!(
            r.line().unwrap(),
            ":transit-x86_64:M:0:\
             \\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x3e\\x00:\
             \\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xfe\\xff\\xff\\xff:\
             /usr/bin/transit:POCF"
        );
        let m = &r.magic;
        assert!(m.matches(&sample::exec()) && m.matches(&sample::dyn_()) && m.matches(&sample::gnu_exec()));
        assert!(m.matches(&sample::tagged_exec()), "padding is ignored, as the kernel's ELF loader ignores it");
        let mut aarch64 = sample::exec();
        aarch64[18] = 183;
        assert!(!m.matches(&aarch64));
        let mut core = sample::exec();
        core[16] = 4; // ET_CORE
        assert!(!m.matches(&core));
        let mut rel = sample::exec();
        rel[16] = 1; // ET_REL
        assert!(!m.matches(&rel));
        let mut elf32 = sample::exec();
        elf32[4] = 1;
        assert!(!m.matches(&elf32));
        assert!(!m.matches(b"#!/bin/sh\n"), "short or foreign files do not match");
    }

    #[test]
    fn the_test_magic_matches_only_tagged_files() {
        let m = Magic::tagged_x86_64_elf();
        assert!(m.matches(&sample::tagged_exec()) && m.matches(&sample::tagged_dyn()));
        assert!(!m.matches(&sample::exec()) && !m.matches(&sample::dyn_()));
        let r = Registration { magic: m, ..Registration::transit(Path::new("/t"), Flags::parse("F").unwrap()) };
        assert!(r.line().unwrap().contains(":\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x02"));
    }

    #[test]
    fn flags_parse_like_the_kernel() {
        assert_eq!(Flags::parse("C").unwrap().letters(), "OC", "C implies O");
        assert_eq!(Flags::parse("FCP").unwrap().letters(), "POCF");
        assert_eq!(Flags::parse("").unwrap().letters(), "");
        assert!(Flags::parse("X").is_err());
        assert!(Flags::parse("p").is_err(), "letters are case-sensitive");
    }

    #[test]
    fn bad_names_and_interpreters_are_refused() {
        let ok = Registration::transit(Path::new("/usr/bin/transit"), Flags::default());
        assert!(Registration { interpreter: "transit".into(), ..ok.clone() }.line().is_err());
        assert!(Registration { interpreter: "/a:b/transit".into(), ..ok.clone() }.line().is_err());
        assert!(Registration { name: "a/b".into(), ..ok.clone() }.line().is_err());
        assert!(Registration { name: "..".into(), ..ok }.line().is_err());
    }

    #[test]
    fn an_entry_reads_back_as_the_registration() {
        let e = Entry::parse(ENTRY_NAME, &transit_entry_text()).unwrap();
        assert!(e.enabled);
        assert_eq!(e.interpreter, Path::new("/usr/bin/transit"));
        assert_eq!(e.flags.letters(), "POCF");
        let r = Registration::transit(Path::new("/usr/bin/transit"), Flags::parse("POCF").unwrap());
        assert!(r.is_registered_as(&e));
        let other_flags = Registration { flags: Flags::parse("F").unwrap(), ..r.clone() };
        assert!(!other_flags.is_registered_as(&e));
        let tagged = Registration { magic: Magic::tagged_x86_64_elf(), ..r.clone() };
        assert!(!tagged.is_registered_as(&e));
        let moved = Registration { interpreter: "/opt/transit".into(), ..r };
        assert!(!moved.is_registered_as(&e));
    }

    #[test]
    fn a_magic_printed_unmasked_is_the_same_magic() {
        let mut unmasked = Magic::x86_64_elf();
        unmasked.magic[7] = 3; // OSABI bits the mask clears
        unmasked.magic[16] = 3; // ET_DYN's low bit, cleared by the mask
        assert!(unmasked.same_as(&Magic::x86_64_elf()));
        assert!(!Magic::tagged_x86_64_elf().same_as(&Magic::x86_64_elf()));
    }

    #[test]
    fn entries_of_other_emulators_parse() {
        // Debian's qemu-user-static (binfmt-support), an extension entry, a maskless entry.
        let qemu = Entry::parse(
            "qemu-x86_64",
            "enabled\ninterpreter /usr/libexec/qemu-binfmt/x86_64-binfmt-P\nflags: POCF\noffset 0\n\
             magic 7f454c4602010100000000000000000002003e00\nmask fffffffffffefe00fffffffffffffffffeffffff\n",
        )
        .unwrap();
        assert!(qemu.matches(&sample::exec()) && qemu.matches(&sample::dyn_()));
        let ext = Entry::parse("DOSWin", "disabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n").unwrap();
        assert!(!ext.enabled && ext.magic.is_none() && !ext.matches(&sample::exec()));
        let nomask = Entry::parse("elf", "enabled\ninterpreter /x\nflags: F\noffset 0\nmagic 7f454c46\n").unwrap();
        assert!(nomask.matches(&sample::exec()));
        assert!(Entry::parse("x", "enabled\nflags: F\noffset 0\nmagic 7f\n").is_err(), "no interpreter");
        assert!(Entry::parse("x", "enabled\ninterpreter /x\nflags: F\noffset 0\nmagic 7f\nmask ffff\n").is_err());
    }
}
