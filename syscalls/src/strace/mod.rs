//! `--strace`: every guest syscall as strace prints it, with the x86_64
//! name, decoded arguments (paths, flags, signals; structs as addresses),
//! the result or errno name, and the thread id:
//!
//! ```text
//! [pid 4242] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//! [pid 4242] read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1024
//! [pid 4242] openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
//! ```
//!
//! A process-wide switch, set once before guest code runs; each line goes
//! out in one write, to stderr or to the `--strace-file` (opened O_APPEND,
//! so exec'd children can share it).

mod flags;
mod signatures;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::guest_mem;
use crate::table::Entry;

pub use signatures::Ret;

/// How one argument prints.
#[derive(Clone, Copy, Debug)]
pub enum Arg {
    /// Signed decimal (an int).
    Int,
    /// Unsigned decimal (a size or count).
    Dec,
    /// An address or opaque word.
    Hex,
    /// A file descriptor.
    Fd,
    /// A directory descriptor: AT_FDCWD by name.
    DirFd,
    /// A NUL-terminated path.
    Path,
    /// A buffer the call reads, whose length is argument `.0`.
    InBuf(usize),
    /// A buffer the call fills, as long as its result.
    OutBuf,
    OpenFlags,
    /// A file mode, in octal, printed only when the open flags (argument
    /// `.0`) create a file.
    CreateMode(usize),
    /// access(2)-style mode bits, in octal.
    Octal,
    Prot,
    MapFlags,
    Signal,
    /// SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK.
    SigHow,
    /// SEEK_SET, SEEK_CUR, SEEK_END...
    Whence,
}

/// Where trace lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StraceOutput {
    /// File descriptor 2, whatever the guest made of it (as qemu-user's -strace).
    Stderr,
    /// Appended to this file, opened for each line: the guest may close or
    /// reuse any descriptor Transit would keep open.
    File(PathBuf),
}

/// Set once, before guest code runs; unset: tracing is off.
static OUTPUT: OnceLock<(StraceOutput, Option<CString>)> = OnceLock::new();

/// Strings print at most this many bytes, as strace's default `-s 32`.
const STRING_LIMIT: usize = 32;

/// Turns tracing on.
pub fn enable(output: StraceOutput) {
    let path = match &output {
        StraceOutput::File(path) => CString::new(path.as_os_str().as_bytes()).ok(),
        StraceOutput::Stderr => None,
    };
    let _ = OUTPUT.set((output, path));
}

pub fn enabled() -> bool {
    OUTPUT.get().is_some()
}

/// The line for `entry` called with `args` and its raw result (the value
/// left in RAX), or `None` for a call that does not return (exit, a
/// successful execve).
pub fn line(tid: i32, entry: &Entry, args: &[u64; 6], result: Option<u64>) -> String {
    let signature = signatures::of(entry.name);
    let mut out = format!("[pid {tid}] {}(", entry.name);
    let kinds: &[Arg] = signature.map_or(&[Arg::Hex; 6], |s| s.args);
    let result_len = result.filter(|&r| (r as i64) >= 0).map(|r| r as usize);
    let parts: Vec<String> = kinds.iter().enumerate().filter_map(|(i, kind)| argument(*kind, args, i, result_len)).collect();
    out.push_str(&parts.join(", "));
    out.push(')');
    match result {
        None => out.push_str(" = ?"),
        Some(r) if (-4095..0).contains(&(r as i64)) => {
            let errno = -(r as i64) as i32;
            let text = std::io::Error::from_raw_os_error(errno).to_string();
            let text = text.split(" (os error").next().unwrap_or_default();
            out.push_str(&format!(" = -1 {} ({text})", flags::errno_name(errno)));
        }
        Some(r) if signature.is_some_and(|s| s.ret == Ret::Hex) => out.push_str(&format!(" = {r:#x}")),
        Some(r) => out.push_str(&format!(" = {}", r as i64)),
    }
    out.push('\n');
    out
}

/// Writes `line` in one piece, if tracing is on.
pub fn emit(line: &str) {
    let Some((output, path)) = OUTPUT.get() else { return };
    // One write, so lines of different threads and processes do not mix.
    // SAFETY: valid buffers and a NUL-terminated path; failures only lose the line.
    unsafe {
        match (output, path) {
            (StraceOutput::File(_), Some(path)) => {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC, 0o644);
                if fd >= 0 {
                    libc::write(fd, line.as_ptr().cast(), line.len());
                    libc::close(fd);
                }
            }
            _ => {
                libc::write(2, line.as_ptr().cast(), line.len());
            }
        }
    }
}

/// Argument `i` as it prints; `None` for one strace leaves out (the mode
/// of an open that creates nothing).
fn argument(kind: Arg, args: &[u64; 6], i: usize, result_len: Option<usize>) -> Option<String> {
    let value = args[i];
    let mut out = String::new();
    match kind {
        Arg::Int | Arg::Fd => out.push_str(&(value as i32).to_string()),
        Arg::Dec => out.push_str(&value.to_string()),
        Arg::Hex => hex(&mut out, value),
        Arg::DirFd if value as i32 == libc::AT_FDCWD => out.push_str("AT_FDCWD"),
        Arg::DirFd => out.push_str(&(value as i32).to_string()),
        Arg::Path => match guest_mem::read_cstr(value, 4096) {
            Ok(Some(bytes)) => quoted(&mut out, &bytes, false),
            _ => hex(&mut out, value),
        },
        Arg::InBuf(len_arg) => buffer(&mut out, value, args[len_arg] as usize),
        Arg::OutBuf => match result_len {
            Some(len) => buffer(&mut out, value, len),
            None => hex(&mut out, value),
        },
        Arg::OpenFlags => out.push_str(&flags::open_flags(value)),
        Arg::CreateMode(flags_arg) if !flags::creates(args[flags_arg]) => return None,
        Arg::CreateMode(_) | Arg::Octal => out.push_str(&octal(value as u32)),
        Arg::Prot => out.push_str(&flags::prot(value)),
        Arg::MapFlags => out.push_str(&flags::map_flags(value)),
        Arg::Signal => out.push_str(&flags::signal_name(value as i32)),
        Arg::SigHow => out.push_str(&flags::sig_how(value as i32)),
        Arg::Whence => out.push_str(&flags::whence(value as i32)),
    }
    Some(out)
}

/// C's notation: 0644, and 0 for zero.
fn octal(value: u32) -> String {
    if value == 0 {
        "0".into()
    } else {
        format!("0{value:o}")
    }
}

fn hex(out: &mut String, value: u64) {
    if value == 0 {
        out.push_str("NULL");
    } else {
        out.push_str(&format!("{value:#x}"));
    }
}

/// The first [`STRING_LIMIT`] bytes of a buffer, quoted; `...` when longer.
fn buffer(out: &mut String, addr: u64, len: usize) {
    let mut bytes = vec![0u8; len.min(STRING_LIMIT)];
    match guest_mem::read_partial(addr, &mut bytes) {
        Ok(n) if n == bytes.len() => quoted(out, &bytes, len > STRING_LIMIT),
        _ => hex(out, addr),
    }
}

fn quoted(out: &mut String, bytes: &[u8], truncated: bool) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:o}")),
        }
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;

    fn entry(name: &str) -> &'static Entry {
        table::TABLE.iter().find(|e| e.name == name).unwrap()
    }

    #[test]
    fn openat_prints_its_path_flags_and_result() {
        let path = b"/etc/passwd\0";
        let args = [libc::AT_FDCWD as u64, path.as_ptr() as u64, (libc::O_RDONLY | libc::O_CLOEXEC) as u64, 0, 0, 0];
        assert_eq!(
            line(7, entry("openat"), &args, Some(3)),
            "[pid 7] openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3\n"
        );
    }

    #[test]
    fn a_creating_open_prints_its_mode() {
        let path = b"new\0";
        let args = [path.as_ptr() as u64, 0o1101, 0o644, 0, 0, 0];
        assert_eq!(line(8, entry("open"), &args, Some(4)), "[pid 8] open(\"new\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4\n");
    }

    #[test]
    fn errors_print_their_name_and_text() {
        let path = b"/nope\0";
        let args = [path.as_ptr() as u64, 0, 0, 0, 0, 0];
        assert_eq!(
            line(1, entry("unlink"), &args, Some(-(libc::ENOENT as i64) as u64)),
            "[pid 1] unlink(\"/nope\") = -1 ENOENT (No such file or directory)\n"
        );
    }

    #[test]
    fn buffers_are_quoted_escaped_and_cut() {
        let text = b"line one\nline two, which goes on for a while\n";
        let args = [1, text.as_ptr() as u64, text.len() as u64, 0, 0, 0];
        assert_eq!(
            line(2, entry("write"), &args, Some(text.len() as u64)),
            "[pid 2] write(1, \"line one\\nline two, which goes on\"..., 45) = 45\n"
        );
    }

    #[test]
    fn mmap_decodes_protection_and_flags_and_prints_an_address() {
        let args = [0, 8192, 3, (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64, u64::MAX, 0];
        assert_eq!(
            line(3, entry("mmap"), &args, Some(0x7f00_0000_0000)),
            "[pid 3] mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, NULL) = 0x7f0000000000\n"
        );
    }

    #[test]
    fn calls_that_do_not_return_and_unlisted_ones() {
        assert_eq!(line(4, entry("exit_group"), &[1, 0, 0, 0, 0, 0], None), "[pid 4] exit_group(1) = ?\n");
        let sync = table::TABLE.iter().find(|e| signatures::of(e.name).is_none()).unwrap();
        assert!(line(5, sync, &[1, 2, 3, 4, 5, 6], Some(0)).ends_with("(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = 0\n"));
    }

    #[test]
    fn every_signature_names_a_syscall_of_the_table() {
        for s in signatures::SIGNATURES {
            assert!(table::TABLE.iter().any(|e| e.name == s.name), "{} is no x86_64 syscall", s.name);
            for arg in s.args {
                if let Arg::InBuf(i) = arg {
                    assert!(*i < s.args.len(), "{}: length argument {i}", s.name);
                }
            }
        }
    }
}
