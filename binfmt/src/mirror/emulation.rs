//! Whether this host runs x86_64 programs through binfmt_misc: only then
//! may the mirror hand out amd64 images in place of missing arm64 ones.
//!
//! The kernel's own view is read, not Transit's configuration: any enabled
//! entry whose magic and mask accept an x86_64 ELF header counts (Transit's,
//! or another emulator's). It is read again for every substitution, so
//! registering Transit while the mirror runs takes effect at once.

use std::path::{Path, PathBuf};

/// The first bytes of an x86_64 ELF executable (`ET_EXEC`) and of a PIE or
/// shared object (`ET_DYN`): e_ident, e_type, e_machine (EM_X86_64 = 62),
/// e_version. A registration must accept both to run amd64 containers.
const X86_64_HEADERS: [[u8; 24]; 2] = [x86_64_header(2), x86_64_header(3)];

const fn x86_64_header(e_type: u8) -> [u8; 24] {
    [
        0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, e_type, 0, 62, 0, 1, 0, 0, 0,
    ]
}

/// A binfmt_misc directory: `/proc/sys/fs/binfmt_misc`, or a stand-in.
#[derive(Clone, Debug)]
pub struct BinfmtMisc {
    dir: PathBuf,
}

/// An enabled registration that runs x86_64 programs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X86_64Entry {
    pub name: String,
    pub interpreter: String,
}

impl BinfmtMisc {
    pub const KERNEL_DIR: &'static str = "/proc/sys/fs/binfmt_misc";

    pub fn new(dir: impl Into<PathBuf>) -> BinfmtMisc {
        BinfmtMisc { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The enabled entry that runs x86_64 ELF files, if binfmt_misc is
    /// enabled (its `status` file, when there is one, says so) and has one.
    pub fn x86_64_entry(&self) -> Option<X86_64Entry> {
        if let Ok(status) = std::fs::read_to_string(self.dir.join("status")) {
            if status.trim() != "enabled" {
                return None;
            }
        }
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .ok()?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name != "status" && name != "register")
            .collect();
        names.sort();
        names.into_iter().find_map(|name| {
            let text = std::fs::read_to_string(self.dir.join(&name)).ok()?;
            let interpreter = runs_x86_64(&text)?;
            Some(X86_64Entry { name, interpreter })
        })
    }
}

/// The interpreter of one entry (the text of its file, see the kernel's
/// Documentation/admin-guide/binfmt-misc.rst) if it is enabled and its magic
/// matches every x86_64 ELF header.
fn runs_x86_64(entry: &str) -> Option<String> {
    let mut lines = entry.lines();
    if lines.next()?.trim() != "enabled" {
        return None;
    }
    let (mut interpreter, mut offset, mut magic, mut mask) = (None, 0usize, None, None);
    for line in lines {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "interpreter" => interpreter = Some(value.trim().to_string()),
            "offset" => offset = value.trim().parse().ok()?,
            "magic" => magic = Some(hex(value.trim())?),
            "mask" => mask = Some(hex(value.trim())?),
            _ => {}
        }
    }
    // Extension entries (`E`) have no magic: they never match by content.
    let magic = magic?;
    let mask = mask.unwrap_or_else(|| vec![0xff; magic.len()]);
    let accepts = |header: &[u8; 24]| {
        let Some(bytes) = header.get(offset..offset + magic.len()) else { return false };
        bytes.iter().zip(&magic).zip(mask.iter().chain(std::iter::repeat(&0xff))).all(|((b, m), k)| b & k == m & k)
    };
    X86_64_HEADERS.iter().all(accepts).then(|| interpreter.unwrap_or_default())
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // As the kernel prints the registrations of FEX-style installers and qemu.
    const X86_64: &str = "enabled\ninterpreter /usr/bin/transit\nflags: POCF\noffset 0\n\
        magic 7f454c4602010100000000000000000002003e00\nmask fffffffffffefe00fffffffffffffffffeffffff\n";
    const AARCH64: &str = "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\noffset 0\n\
        magic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n";

    #[test]
    fn recognises_x86_64_entries() {
        assert_eq!(runs_x86_64(X86_64).as_deref(), Some("/usr/bin/transit"));
        assert_eq!(runs_x86_64(AARCH64), None);
        assert_eq!(runs_x86_64(&X86_64.replacen("enabled", "disabled", 1)), None);
        // Only ET_EXEC (no 0xfe in e_type's mask): static PIEs would not run.
        assert_eq!(runs_x86_64(&X86_64.replace("fffffffffffffffffeffffff", "ffffffffffffffffffffffff")), None);
        assert_eq!(runs_x86_64("enabled\ninterpreter /x\nflags: \nextension .exe\n"), None);
    }

    #[test]
    fn reads_a_directory() {
        let dir = std::env::temp_dir().join(format!("transit-binfmt-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("status"), "enabled\n").unwrap();
        std::fs::write(dir.join("qemu-aarch64"), AARCH64).unwrap();
        let binfmt = BinfmtMisc::new(&dir);
        assert_eq!(binfmt.x86_64_entry(), None);
        std::fs::write(dir.join("transit-x86_64"), X86_64).unwrap();
        assert_eq!(binfmt.x86_64_entry().map(|e| e.name), Some("transit-x86_64".to_string()));
        std::fs::write(dir.join("status"), "disabled\n").unwrap();
        assert_eq!(binfmt.x86_64_entry(), None);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(binfmt.x86_64_entry(), None);
    }
}
