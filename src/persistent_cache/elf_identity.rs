//! What the persistent cache needs to know of an x86_64 ELF file it keeps
//! translations for: its identity (device, inode, size, modification time
//! and GNU build-id: a changed or replaced file never matches) and where
//! its whole image lies once one executable segment is mapped. Read with
//! a few `pread`s of the headers; nothing here trusts the file.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PF_X: u32 = 1;
const NT_GNU_BUILD_ID: u32 = 3;
const PAGE: u64 = 4096;

/// A file's identity: two files with equal identities have equal bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub build_id: Vec<u8>,
}

impl FileIdentity {
    pub fn describe(&self) -> String {
        let id: String = self.build_id.iter().map(|b| format!("{b:02x}")).collect();
        format!("dev={} ino={} size={} mtime={} build-id={id}", self.dev, self.ino, self.size, self.mtime_ns)
    }
}

/// An x86_64 ELF file's identity and the layout of its loadable segments.
#[derive(Debug, Clone)]
pub struct ElfFile {
    pub identity: FileIdentity,
    /// (vaddr, memsz, offset, flags) of each PT_LOAD.
    loads: Vec<(u64, u64, u64, u32)>,
}

impl ElfFile {
    /// `file` if it is an x86_64 ELF program or library with a build-id
    /// (without one, nothing proves that its contents did not change).
    pub fn read(file: &File) -> Option<ElfFile> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        let mut header = [0u8; 64];
        file.read_exact_at(&mut header, 0).ok()?;
        let u16_at = |b: &[u8], o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap());
        let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        // ELF64, little-endian, x86_64 (62), ET_EXEC or ET_DYN.
        if &header[..6] != b"\x7fELF\x02\x01" || u16_at(&header, 18) != 62 || !matches!(u16_at(&header, 16), 2 | 3) {
            return None;
        }
        let (phoff, phentsize, phnum) = (u64_at(&header, 32), u16_at(&header, 54) as usize, u16_at(&header, 56) as usize);
        if phentsize < 56 || phnum == 0 || phnum > 64 {
            return None;
        }
        let mut phdrs = vec![0u8; phentsize * phnum];
        file.read_exact_at(&mut phdrs, phoff).ok()?;
        let mut loads = Vec::new();
        let mut build_id = None;
        for ph in phdrs.chunks(phentsize) {
            let (p_type, p_flags, p_offset, p_vaddr) = (u32_at(ph, 0), u32_at(ph, 4), u64_at(ph, 8), u64_at(ph, 16));
            let (p_filesz, p_memsz) = (u64_at(ph, 32), u64_at(ph, 40));
            match p_type {
                PT_LOAD => loads.push((p_vaddr, p_memsz, p_offset, p_flags)),
                PT_NOTE if build_id.is_none() && p_filesz <= 4096 => build_id = gnu_build_id(file, p_offset, p_filesz),
                _ => {}
            }
        }
        let identity = FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            build_id: build_id?,
        };
        (!loads.is_empty()).then_some(ElfFile { identity, loads })
    }

    /// The whole image's guest range when the executable segment at file
    /// offset `offset` is mapped at `addr`, or None if no executable
    /// segment starts at that offset's page.
    pub fn image_range(&self, addr: u64, offset: u64) -> Option<(u64, u64)> {
        let &(vaddr, ..) = self.loads.iter().find(|l| l.3 & PF_X != 0 && l.2 & !(PAGE - 1) == offset & !(PAGE - 1))?;
        let bias = (addr & !(PAGE - 1)).wrapping_sub(vaddr & !(PAGE - 1));
        let low = self.loads.iter().map(|l| l.0 & !(PAGE - 1)).min()?;
        let high = self.loads.iter().map(|l| l.0.saturating_add(l.1)).max()?;
        Some((bias.wrapping_add(low), bias.wrapping_add(high)))
    }

    /// The executable segments as (page-aligned file offset, page-aligned
    /// vaddr) (for an image the loader placed with `bias`).
    pub fn executable_segments(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.loads.iter().filter(|l| l.3 & PF_X != 0).map(|l| (l.2 & !(PAGE - 1), l.0 & !(PAGE - 1)))
    }
}

/// The GNU build-id in the note segment at `offset`.
fn gnu_build_id(file: &File, offset: u64, size: u64) -> Option<Vec<u8>> {
    let mut notes = vec![0u8; size as usize];
    file.read_exact_at(&mut notes, offset).ok()?;
    let mut at = 0usize;
    while at + 12 <= notes.len() {
        let word = |o: usize| u32::from_le_bytes(notes[o..o + 4].try_into().unwrap()) as usize;
        let (namesz, descsz, kind) = (word(at), word(at + 4), word(at + 8) as u32);
        let name_at = at + 12;
        let desc_at = name_at + namesz.next_multiple_of(4);
        let end = desc_at.checked_add(descsz.next_multiple_of(4))?;
        if end > notes.len() {
            return None;
        }
        if kind == NT_GNU_BUILD_ID && &notes[name_at..name_at + namesz] == b"GNU\0" && (1..=64).contains(&descsz) {
            return Some(notes[desc_at..desc_at + descsz].to_vec());
        }
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_library_has_an_identity_and_its_image_spans_every_segment() {
        let Ok(file) = File::open("/lib/x86_64-linux-gnu/libc.so.6") else { return };
        let elf = ElfFile::read(&file).expect("Debian's libc has a build-id");
        assert!(!elf.identity.build_id.is_empty());
        let (offset, vaddr) = elf.executable_segments().next().unwrap();
        let (start, end) = elf.image_range(0x7f00_0000_0000 + vaddr, offset).unwrap();
        assert_eq!(start, 0x7f00_0000_0000, "libc's first segment is at vaddr 0");
        assert!(end - start > 1 << 20);
        assert_eq!(elf.image_range(0x7f00_0000_0000, offset + 4096 * 1000), None, "no executable segment there");
    }

    #[test]
    fn other_files_have_none() {
        for path in ["/etc/passwd", "/dev/null", "/"] {
            if let Ok(file) = File::open(path) {
                assert!(ElfFile::read(&file).is_none(), "{path}");
            }
        }
    }
}
