//! `--perf-map`: perf's map of JIT code, `/tmp/perf-PID.map`, one line per
//! translated block (`START SIZE NAME`, hex, as perf reads it), so that
//! `perf report` on the host attributes samples in the code cache to guest
//! code, and `benches/hotblocks` can name the hot blocks. Names are the
//! guest address, `x86_64:0x401234`. A forked child writes its own file.

use std::io::Write;
use std::sync::Mutex;

struct MapFile {
    pid: u32,
    file: std::fs::File,
}

static MAP: Mutex<Option<MapFile>> = Mutex::new(None);

/// Starts recording every block translated from now on.
pub fn enable() {
    transit_translator::block_listener::listen(record);
}

fn record(guest_rip: u64, host: u64, host_len: usize) {
    let pid = std::process::id();
    let mut map = MAP.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if map.as_ref().is_none_or(|m| m.pid != pid) {
        let path = format!("/tmp/perf-{pid}.map");
        match std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&path) {
            Ok(file) => *map = Some(MapFile { pid, file }),
            Err(e) => {
                tracing::warn!(path, error = %e, "--perf-map: cannot write the map");
                return;
            }
        }
    }
    if let Some(m) = map.as_mut() {
        // Unbuffered: the process may end in exit_group at any moment, and
        // perf reads the file afterwards.
        let mut line = [0u8; 80];
        let mut len = 0;
        for (value, before) in [(host, ""), (host_len as u64, " "), (guest_rip, " x86_64:0x")] {
            line[len..len + before.len()].copy_from_slice(before.as_bytes());
            len += before.len();
            len += hex(value, &mut line[len..]);
        }
        line[len] = b'\n';
        let _ = m.file.write_all(&line[..=len]);
    }
}

/// Writes `value` in lower-case hex without leading zeros; returns the
/// length (format! showed in profiles of runs with --perf-map).
fn hex(value: u64, out: &mut [u8]) -> usize {
    let digits = (64 - value.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in 0..digits {
        let nibble = (value >> (4 * (digits - 1 - i))) & 0xf;
        out[i] = b"0123456789abcdef"[nibble as usize];
    }
    digits
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_has_no_leading_zeros() {
        let mut buf = [0u8; 16];
        for (value, text) in [(0u64, "0"), (0x401234, "401234"), (u64::MAX, "ffffffffffffffff"), (0x10, "10")] {
            let n = super::hex(value, &mut buf);
            assert_eq!(&buf[..n], text.as_bytes());
        }
    }
}
