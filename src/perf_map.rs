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
        let _ = m.file.write_all(format!("{host:x} {host_len:x} x86_64:{guest_rip:#x}\n").as_bytes());
    }
}
