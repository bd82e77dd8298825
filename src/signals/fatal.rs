//! What the log says when a fault kills the guest: the signal, the address,
//! the instruction bytes at RIP and the mappings both fall in, so that a
//! crash in JIT-generated code can be read without a debugger.

use transit_translator::CpuState;

/// Logs (at `info`) why the guest dies of `info`'s signal.
pub fn log_fatal_fault(state: &CpuState, info: &[u8; 128]) {
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let sig = i32::from_ne_bytes(info[0..4].try_into().unwrap());
    let code = i32::from_ne_bytes(info[8..12].try_into().unwrap());
    let addr = u64::from_ne_bytes(info[16..24].try_into().unwrap());
    let bytes = read_own_memory(state.rip, 16)
        .map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unreadable".into());
    tracing::info!(
        sig,
        code,
        addr = format_args!("{addr:#x}"),
        rip = format_args!("{:#x}", state.rip),
        bytes,
        rip_mapping = mapping_of(state.rip).as_deref().unwrap_or("none"),
        addr_mapping = mapping_of(addr).as_deref().unwrap_or("none"),
        gpr = format_args!("{:x?}", state.gpr),
        "fatal guest fault"
    );
}

/// `len` bytes at `addr` through /proc/self/mem, which fails instead of
/// faulting on an unmapped address.
fn read_own_memory(addr: u64, len: usize) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mem = std::fs::File::open("/proc/self/mem").ok()?;
    let mut buf = vec![0; len];
    let n = mem.read_at(&mut buf, addr).ok()?;
    buf.truncate(n);
    (n > 0).then_some(buf)
}

/// The /proc/self/maps line of the mapping holding `addr`.
fn mapping_of(addr: u64) -> Option<String> {
    let maps = transit_syscalls::own_maps().ok()?;
    maps.lines()
        .find(|line| {
            let range = line.split(' ').next().unwrap_or("");
            let Some((lo, hi)) = range.split_once('-') else { return false };
            let (Ok(lo), Ok(hi)) = (u64::from_str_radix(lo, 16), u64::from_str_radix(hi, 16)) else { return false };
            (lo..hi).contains(&addr)
        })
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
}
