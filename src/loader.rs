//! Loads an x86_64 ELF program (and its PT_INTERP dynamic loader) into this
//! process at the guest's addresses: guest addresses are host addresses.

use crate::error::LoadError;
use crate::memory::{map_fixed, protect, reserve, reserve_at};
use goblin::elf::{header, program_header as ph, Elf};
use std::os::fd::{FromRawFd, RawFd};
use std::path::{Path, PathBuf};

pub const PAGE: u64 = 4096;
/// Address space kept free after the main program for its brk heap.
const BRK_RESERVE: u64 = 1 << 30;

pub fn page_down(x: u64) -> u64 {
    x & !(PAGE - 1)
}
pub fn page_up(x: u64) -> u64 {
    (x + PAGE - 1) & !(PAGE - 1)
}

/// One ELF image placed in memory.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    /// Added to every address in the file (0 for ET_EXEC).
    pub bias: u64,
    pub entry: u64,
    /// Address of the program headers in memory.
    pub phdr: u64,
    pub phnum: u64,
    /// Page-aligned end of the highest segment: where brk starts.
    pub end: u64,
    /// End of the PROT_NONE reservation after `end` (== `end` if none).
    pub reserved_end: u64,
    /// PT_INTERP, if any.
    pub interp: Option<String>,
}

/// The program and, for dynamic programs, its loader.
#[derive(Debug, Clone)]
pub struct LoadedProgram {
    pub path: PathBuf,
    pub main: LoadedImage,
    pub interp: Option<LoadedImage>,
}

impl LoadedProgram {
    /// Where the guest starts: the loader's entry, or the program's.
    pub fn start(&self) -> u64 {
        self.interp.as_ref().map_or(self.main.entry, |i| i.entry)
    }
}

/// Reads a program or interpreter. Like execve, only a regular file runs
/// (fs/exec.c, do_open_execat: EACCES otherwise): reading /dev/zero would
/// never end, and opening a FIFO would wait for a writer (hence O_NONBLOCK,
/// which means nothing for a regular file).
pub fn read_program(path: &Path) -> Result<ProgramFile, LoadError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let unreadable = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound { path: path.into() },
        _ => LoadError::Unreadable { path: path.into(), source: e },
    };
    let mut file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(unreadable)?;
    if !file.metadata().map_err(unreadable)?.is_file() {
        return Err(unreadable(std::io::Error::from_raw_os_error(libc::EACCES)));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(unreadable)?;
    Ok(ProgramFile { file, bytes })
}

/// A program or interpreter file, open (its segments are mapped from it)
/// and read (its headers are parsed from the bytes).
#[derive(Debug)]
pub struct ProgramFile {
    pub file: std::fs::File,
    pub bytes: Vec<u8>,
}

/// Checks that `bytes` is an x86_64 ELF executable we can run.
pub fn check_elf<'a>(path: &Path, bytes: &'a [u8]) -> Result<Elf<'a>, LoadError> {
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err(LoadError::NotElf { path: path.into() });
    }
    let malformed = |why: String| LoadError::Malformed { path: path.into(), why };
    if bytes.len() < 64 {
        return Err(malformed(format!("{} bytes, shorter than an ELF header", bytes.len())));
    }
    let wrong = |what: String| LoadError::WrongArchitecture { path: path.into(), what };
    if bytes[header::EI_CLASS] != header::ELFCLASS64 {
        return Err(wrong("32-bit ELF".into()));
    }
    if bytes[header::EI_DATA] != header::ELFDATA2LSB {
        return Err(wrong("big-endian ELF".into()));
    }
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    if machine != header::EM_X86_64 {
        return Err(wrong(format!("machine {}", header::machine_to_str(machine))));
    }
    // Only the header, program headers and PT_INTERP: symbol and section
    // tables are not needed to run a program, and parsing them is slow.
    let header = Elf::parse_header(bytes).map_err(|e| malformed(e.to_string()))?;
    let mut elf = Elf::lazy_parse(header).map_err(|e| malformed(e.to_string()))?;
    elf.program_headers = ph::ProgramHeader::parse(bytes, header.e_phoff as usize, header.e_phnum as usize, goblin::container::Ctx::new(goblin::container::Container::Big, goblin::container::Endian::Little))
        .map_err(|e| malformed(e.to_string()))?;
    if let Some(p) = elf.program_headers.iter().find(|p| p.p_type == ph::PT_INTERP) {
        let (start, len) = (p.p_offset as usize, p.p_filesz as usize);
        let raw = bytes.get(start..start.saturating_add(len)).ok_or_else(|| malformed("PT_INTERP past the end of the file".into()))?;
        let name = raw.split(|&b| b == 0).next().unwrap_or_default();
        elf.interpreter = Some(std::str::from_utf8(name).map_err(|_| malformed("PT_INTERP is not a path".into()))?);
    }
    if !matches!(elf.header.e_type, header::ET_EXEC | header::ET_DYN) {
        return Err(malformed(format!("ELF type {} is not an executable", elf.header.e_type)));
    }
    for p in elf.program_headers.iter().filter(|p| p.p_type == ph::PT_LOAD) {
        let end = p.p_offset.checked_add(p.p_filesz);
        if end.is_none_or(|e| e > bytes.len() as u64) {
            return Err(malformed(format!("segment at file offset {:#x} runs past the end of the file", p.p_offset)));
        }
        if p.p_filesz > p.p_memsz {
            return Err(malformed("segment file size exceeds its memory size".into()));
        }
    }
    if !elf.program_headers.iter().any(|p| p.p_type == ph::PT_LOAD) {
        return Err(malformed("no loadable segments".into()));
    }
    Ok(elf)
}

/// Maps every PT_LOAD of `elf` (read from `file`) and returns where it went.
pub fn map_image(path: &Path, file: &std::fs::File, bytes: &[u8], elf: &Elf, heap: u64) -> Result<LoadedImage, LoadError> {
    let loads: Vec<_> = elf.program_headers.iter().filter(|p| p.p_type == ph::PT_LOAD).collect();
    let lo = page_down(loads.iter().map(|p| p.p_vaddr).min().unwrap_or(0));
    let hi = page_up(loads.iter().map(|p| p.p_vaddr + p.p_memsz).max().unwrap_or(0));
    let bias = if elf.header.e_type == header::ET_DYN {
        // Position-independent: let the kernel pick a free range for the whole span.
        let at = reserve(hi - lo + heap).map_err(|e| LoadError::Map { addr: 0, source: e })?;
        at - lo
    } else {
        0
    };
    // Room for the heap right after the image (part of the reservation above
    // for ET_DYN); without it brk still works until another mapping is hit.
    let reserved_end = if heap == 0 {
        hi + bias
    } else if bias != 0 || reserve_at(hi, heap).is_ok() {
        hi + bias + heap
    } else {
        hi
    };
    let replace = elf.header.e_type == header::ET_DYN;
    for p in &loads {
        map_segment(file, bytes, p, bias, replace)?;
    }
    // Permissions after every copy: segments may share a page.
    for p in &loads {
        let start = page_down(p.p_vaddr + bias);
        let end = page_up(p.p_vaddr + bias + p.p_memsz);
        protect(start, end - start, p.p_flags).map_err(|e| LoadError::Map { addr: start, source: e })?;
    }
    let phdr = match elf.program_headers.iter().find(|p| p.p_type == ph::PT_PHDR) {
        Some(p) => p.p_vaddr + bias,
        None => {
            // The headers sit in the first segment's file image.
            let first = loads.iter().find(|p| p.p_offset == 0).ok_or_else(|| LoadError::Malformed {
                path: path.into(),
                why: "program headers are not mapped".into(),
            })?;
            first.p_vaddr + bias + elf.header.e_phoff
        }
    };
    Ok(LoadedImage {
        bias,
        entry: elf.entry + bias,
        phdr,
        phnum: elf.program_headers.len() as u64,
        end: hi + bias,
        reserved_end,
        interp: elf.interpreter.map(str::to_owned),
    })
}

/// Maps one PT_LOAD read-write (`map_image` then sets its permissions), as
/// the kernel does: its file part mapped privately from the file, so that
/// /proc/self/maps names the file (V8 remaps its own text only if it is
/// file-backed, valgrind and sanitizers find modules by their file), the
/// rest of the last file page zeroed where memory runs on, and anonymous
/// zero pages after it. A segment whose address and offset differ modulo
/// the page is copied into anonymous memory instead.
fn map_segment(file: &std::fs::File, bytes: &[u8], p: &ph::ProgramHeader, bias: u64, replace: bool) -> Result<(), LoadError> {
    use std::os::fd::AsRawFd;
    let vaddr = p.p_vaddr + bias;
    let (start, end) = (page_down(vaddr), page_up(vaddr + p.p_memsz));
    let map_error = |addr: u64| move |e| LoadError::Map { addr, source: e };
    if (vaddr - p.p_offset) % PAGE != 0 || p.p_filesz == 0 {
        map_fixed(start, end - start, replace).map_err(map_error(start))?;
        let data = &bytes[p.p_offset as usize..(p.p_offset + p.p_filesz) as usize];
        // SAFETY: [vaddr, +filesz) lies inside the fresh RW mapping above.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), vaddr as *mut u8, data.len()) };
        return Ok(());
    }
    let file_end = page_up(vaddr + p.p_filesz);
    crate::memory::map_file_fixed(start, file_end - start, file.as_raw_fd(), page_down(p.p_offset), replace)
        .map_err(map_error(start))?;
    if p.p_memsz > p.p_filesz {
        let tail = vaddr + p.p_filesz;
        // SAFETY: [tail, file_end) is the end of the private RW mapping above.
        unsafe { std::ptr::write_bytes(tail as *mut u8, 0, (file_end - tail) as usize) };
        if end > file_end {
            map_fixed(file_end, end - file_end, replace).map_err(map_error(file_end))?;
        }
    }
    Ok(())
}

/// Reads the program the kernel opened for binfmt_misc's O flag
/// (AT_EXECFD), from its start, and closes the descriptor: the program
/// would not have it had it run natively. The caller may have execute
/// permission only: the kernel opened it for execution, which allows reading.
fn read_exec_fd(path: &Path, fd: RawFd) -> Result<ProgramFile, LoadError> {
    use std::io::{Read, Seek};
    // SAFETY: the kernel gave this descriptor to us alone; we own it from here.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    let mut bytes = Vec::new();
    file.rewind().and_then(|_| file.read_to_end(&mut bytes)).map_err(|e| LoadError::Unreadable { path: path.into(), source: e })?;
    Ok(ProgramFile { file, bytes })
}

/// Loads the program at `path` (or from `exec_fd`, the same file opened by
/// the kernel) and its dynamic loader (found under `rootfs` first when
/// given, then on the host).
pub fn load(path: &Path, exec_fd: Option<RawFd>, rootfs: Option<&Path>) -> Result<LoadedProgram, LoadError> {
    // The descriptor names the file even where `path` does not (an execveat
    // of a close-on-exec descriptor passes /dev/fd/N): what the guest's
    // /proc/self/exe shows.
    let fd_target = exec_fd.and_then(|fd| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok());
    // The files close once mapped (the descriptor from the kernel too).
    let program = match exec_fd {
        Some(fd) => read_exec_fd(path, fd)?,
        None => read_program(path)?,
    };
    let elf = check_elf(path, &program.bytes)?;
    let main = map_image(path, &program.file, &program.bytes, &elf, BRK_RESERVE)?;
    let interp = match &main.interp {
        None => None,
        Some(name) => {
            let found = crate::rootfs::resolve(rootfs, name).ok_or_else(|| LoadError::MissingInterpreter {
                path: path.into(),
                interp: name.clone(),
                hint: match rootfs {
                    Some(r) => format!(" under {} or on the host", r.display()),
                    None => " (name an x86_64 root filesystem with -L DIR or TRANSIT_ROOTFS)".into(),
                },
            })?;
            let interp = read_program(&found)?;
            let ielf = check_elf(&found, &interp.bytes)?;
            Some(map_image(&found, &interp.file, &interp.bytes, &ielf, 0)?)
        }
    };
    let path = fd_target.unwrap_or_else(|| std::fs::canonicalize(path).unwrap_or_else(|_| path.into()));
    Ok(LoadedProgram { path, main, interp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;

    /// A seeded mutation fuzz of `check_elf` over a real program: header
    /// and program-header fields set to edge values, random bytes, and
    /// truncations never panic (unit tests keep overflow checks on); every
    /// input is either refused with a LoadError or accepted with its
    /// PT_LOAD segments inside the file.
    #[test]
    fn check_elf_never_panics_on_mutated_programs() {
        let Ok(original) = std::fs::read("/usr/bin/true") else { return };
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let phoff = u64::from_le_bytes(original[32..40].try_into().unwrap()) as usize;
        let edges = [0u64, 1, 0x40, 0xfff, 0x1000, original.len() as u64, original.len() as u64 + 1, u32::MAX as u64, u64::MAX, u64::MAX / 2];
        for i in 0..20_000 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 4 {
                let r = next();
                match r % 4 {
                    // A header or program-header field (8 bytes) to an edge value.
                    0 | 1 => {
                        let field = if r % 4 == 0 { (next() % 8) as usize * 8 } else { phoff + (next() % 13 * 56 + next() % 7 * 8) as usize };
                        let value = edges[(next() % edges.len() as u64) as usize];
                        if let Some(dst) = bytes.get_mut(field..field + 8) {
                            dst.copy_from_slice(&value.to_le_bytes());
                        }
                    }
                    // A random byte among the first 4 KiB.
                    2 => {
                        let at = (next() % 4096) as usize % bytes.len();
                        bytes[at] = next() as u8;
                    }
                    _ => bytes.truncate((next() % (original.len() as u64 + 1)) as usize),
                }
            }
            let outcome = std::panic::catch_unwind(|| check_elf(Path::new("fuzzed"), &bytes).map(|elf| elf.program_headers.clone()));
            let Ok(result) = outcome else { panic!("check_elf panicked on mutation {i}") };
            if let Ok(headers) = result {
                for p in headers.iter().filter(|p| p.p_type == ph::PT_LOAD) {
                    assert!(p.p_offset.checked_add(p.p_filesz).is_some_and(|e| e <= bytes.len() as u64), "mutation {i}: an accepted segment lies outside the file");
                }
            }
        }
    }

    /// Found by `cargo xtask fuzz-elf` (PT_INTERP naming /dev/zero): only
    /// regular files are read, so a device or FIFO cannot hang the loader.
    #[test]
    fn only_a_regular_file_is_read_as_a_program() {
        for path in ["/dev/zero", "/dev/null", "/"] {
            let error = read_program(Path::new(path)).expect_err(path);
            assert!(matches!(error, LoadError::Unreadable { .. }), "{path}: {error}");
        }
        let fifo = std::env::temp_dir().join(format!("transit-fifo-{}", std::process::id()));
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // Would block in open (no writer) without O_NONBLOCK.
        assert!(matches!(read_program(&fifo), Err(LoadError::Unreadable { .. })));
        std::fs::remove_file(&fifo).unwrap();
    }

    #[test]
    fn an_exec_fd_is_read_from_its_start_and_closed() {
        use std::io::{Seek, SeekFrom, Write};
        let path = std::env::temp_dir().join(format!("transit-execfd-{}", std::process::id()));
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(b"\x7fELF and the rest").unwrap();
        drop(file);
        let mut file = std::fs::File::open(&path).unwrap();
        file.seek(SeekFrom::Start(4)).unwrap(); // wherever the kernel left it
        // Far above what the other tests (threads of this process) open, so
        // that none can reuse the number once it is closed.
        let low = file.into_raw_fd();
        // SAFETY: plain descriptor calls on a descriptor we own.
        let fd = unsafe { libc::fcntl(low, libc::F_DUPFD, 900) };
        unsafe { libc::close(low) };
        assert_eq!(read_exec_fd(&path, fd).unwrap().bytes, b"\x7fELF and the rest");
        // SAFETY: fcntl on a closed descriptor only reports EBADF.
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_GETFD) }, -1, "the guest does not inherit it");
        std::fs::remove_file(&path).unwrap();
    }
}
