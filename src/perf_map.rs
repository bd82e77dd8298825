//! `--perf-map`: perf's map of JIT code, `/tmp/perf-PID.map`, one line per
//! translated block (`START SIZE NAME`, hex, as perf reads it), so that
//! `perf report` on the host attributes samples in the code cache to guest
//! code, and `benches/hotblocks` can name the hot blocks. A block is named
//! by the guest function it starts in and its guest address,
//! `main+0x1c [x86_64:0x401150]` (`guest_symbols`: the ELF symbols of the
//! program and its libraries), or by the address alone, `x86_64:0x401150`,
//! where no symbol covers it (stripped files, JIT code). A forked child
//! writes its own file.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use crate::guest_symbols::GuestSymbols;
use crate::loader::LoadedProgram;

struct MapFile {
    pid: u32,
    file: std::fs::File,
}

struct PerfMap {
    file: Option<MapFile>,
    symbols: GuestSymbols,
    /// One line, reused (format! showed in profiles of runs with --perf-map).
    line: Vec<u8>,
}

static MAP: Mutex<Option<PerfMap>> = Mutex::new(None);

/// Holds the map until the guard drops (across a host fork).
pub fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(MAP.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
}

/// Starts recording every block translated from now on; `program` (and
/// its ld.so, found as the loader found it) are the images Transit mapped.
pub fn enable(program: &LoadedProgram, rootfs: Option<&Path>) {
    let mut symbols = GuestSymbols::default();
    symbols.add_image(&program.path, program.main.bias);
    if let (Some(name), Some(interp)) = (&program.main.interp, &program.interp) {
        if let Some(path) = crate::rootfs::resolve(rootfs, name) {
            symbols.add_image(&path, interp.bias);
        }
    }
    *MAP.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(PerfMap { file: None, symbols, line: Vec::with_capacity(128) });
    transit_translator::block_listener::listen(record);
}

fn record(guest_rip: u64, host: u64, host_len: usize) {
    let pid = std::process::id();
    let mut map = MAP.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(map) = map.as_mut() else { return };
    if map.file.as_ref().is_none_or(|m| m.pid != pid) {
        let path = format!("/tmp/perf-{pid}.map");
        match std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&path) {
            Ok(file) => map.file = Some(MapFile { pid, file }),
            Err(e) => {
                tracing::warn!(path, error = %e, "--perf-map: cannot write the map");
                return;
            }
        }
    }
    let line = &mut map.line;
    line.clear();
    hex(host, line);
    line.push(b' ');
    hex(host_len as u64, line);
    line.push(b' ');
    match map.symbols.lookup(guest_rip) {
        Some((name, offset)) => {
            line.extend_from_slice(name.as_bytes());
            if offset != 0 {
                line.extend_from_slice(b"+0x");
                hex(offset, line);
            }
            line.extend_from_slice(b" [x86_64:0x");
            hex(guest_rip, line);
            line.push(b']');
        }
        None => {
            line.extend_from_slice(b"x86_64:0x");
            hex(guest_rip, line);
        }
    }
    line.push(b'\n');
    if let Some(m) = map.file.as_mut() {
        // Unbuffered: the process may end in exit_group at any moment, and
        // perf reads the file afterwards.
        let _ = m.file.write_all(line);
    }
}

/// Appends `value` in lower-case hex without leading zeros.
fn hex(value: u64, out: &mut Vec<u8>) {
    let digits = (64 - value.leading_zeros()).div_ceil(4).max(1);
    out.extend((0..digits).rev().map(|i| b"0123456789abcdef"[((value >> (4 * i)) & 0xf) as usize]));
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_has_no_leading_zeros() {
        for (value, text) in [(0u64, "0"), (0x401234, "401234"), (u64::MAX, "ffffffffffffffff"), (0x10, "10")] {
            let mut buf = Vec::new();
            super::hex(value, &mut buf);
            assert_eq!(buf, text.as_bytes());
        }
    }
}
