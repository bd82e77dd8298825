//! Memory mappings. Guest and Transit share one address space, so guest
//! mappings are host mappings; what needs care is x86-only flags, brk, and
//! keeping the guest's calls off Transit's own memory (`guest_regions`).
//!
//! Guest pages are 4 KiB: on a host with larger pages, unaligned guest
//! requests fail with EINVAL from the host kernel.

use crate::host::{self, Errno, SysResult};
use crate::shared_mappings::{self, SharedObject};
use crate::guest_regions;
use crate::guest_space::{self, GUEST_END};
use crate::writable;
use crate::vfork_writes;
use crate::{Args, Ctx, GuestProcess};
use transit_translator::cache::code_watch;

const GUEST_PAGE: u64 = 4096;

/// x86_64's MAP_32BIT (arch/x86/include/uapi/asm/mman.h): place the mapping
/// in the low 2 GiB. The value is unused on aarch64, whose kernel ignores it.
const X86_MAP_32BIT: u64 = 0x40;
/// MAP_32BIT mappings live in [1 GiB, 2 GiB): below it sit non-PIE guest
/// images and their brk heap.
const LOW_WINDOW: std::ops::Range<u64> = 0x4000_0000..0x8000_0000;

/// PROT_* bits the x86_64 kernel accepts (asm-generic/mman-common.h:
/// READ, WRITE, EXEC, SEM, GROWSDOWN, GROWSUP). Anything else must fail as
/// it does on x86_64, not become an arm64 bit such as PROT_BTI (0x10).
const X86_PROT_VALID: u64 = 0x1 | 0x2 | 0x4 | 0x8 | PROT_GROWSDOWN | 0x0200_0000;
const PROT_GROWSDOWN: u64 = 0x0100_0000;

fn check_prot(prot: u64) -> Result<(), Errno> {
    if prot & !X86_PROT_VALID != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The host protection for a guest's: x86 page tables have no
/// execute-only or write-only pages, so whatever can be executed or
/// written can be read (programs rely on it, and Transit reads guest code
/// to translate it), while an arm64 kernel makes PROT_EXEC alone
/// execute-only on CPUs with FEAT_EPAN.
fn host_prot(prot: u64) -> u64 {
    if prot & (libc::PROT_EXEC | libc::PROT_WRITE) as u64 != 0 {
        prot | libc::PROT_READ as u64
    } else {
        prot
    }
}

fn page_up(addr: u64) -> u64 {
    addr.saturating_add(GUEST_PAGE - 1) & !(GUEST_PAGE - 1)
}

/// mmap(addr, len, prot, flags, fd, offset): same argument order and MAP_*
/// values on both (asm-generic/mman*.h), except MAP_32BIT.
pub(crate) fn mmap(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    check_prot(a[2])?;
    let prot = host_prot(a[2]);
    let flags = a[3];
    let fixed = flags & (libc::MAP_FIXED | libc::MAP_FIXED_NOREPLACE) as u64 != 0;
    if fixed && a[0].saturating_add(a[1]) > GUEST_END {
        // Beyond x86_64's address space (where a wide host keeps Transit).
        return Err(Errno::ENOMEM);
    }
    let mut regions = guest_regions::lock();
    let addr = if fixed {
        vfork_writes::before_mapping_change(a[0], a[1], true);
        let mut held = regions.hold_gaps(flags & libc::MAP_FIXED_NOREPLACE as u64 == 0, a[0], a[1])?;
        // With MAP_FIXED the kernel ignores MAP_32BIT on x86_64 too.
        host::syscall(libc::SYS_mmap, &[a[0], a[1], prot, flags & !X86_MAP_32BIT, a[4], a[5]]).inspect_err(|_| held.release())?
    } else if flags & X86_MAP_32BIT != 0 {
        mmap_low(a[0], a[1], prot, flags & !X86_MAP_32BIT, a[4], a[5])?
    } else {
        guest_space::map(a[0], a[1], prot, flags, a[4], a[5])?
    };
    regions.mapped(addr, a[1]);
    // The thread's own locks come before the record's (process::fork).
    drop(regions);
    shared_range_replaced(addr, a[1]);
    if let Some(object) = shared_object(flags, a[4] as i32) {
        // Another process may write what it reads through this mapping, or
        // read what it writes. A read-only file mapping (glibc maps its
        // gconv cache so) leaves the translations alone.
        if a[2] & libc::PROT_WRITE as u64 != 0 || matches!(object, SharedObject::Anonymous { .. }) {
            ctx.thread.keep_x86_memory_order();
        }
        shared_mappings::record(addr, a[1], object, a[5]);
    }
    mapped(addr, a[1], a[2]);
    ctx.thread.code_unmapped(addr, a[1]);
    if a[2] & libc::PROT_EXEC as u64 != 0 && flags & libc::MAP_ANONYMOUS as u64 == 0 {
        ctx.thread.code_file_mapped(a[4] as i32, addr, a[1], a[5]);
    }
    Ok(addr)
}

/// What a new mapping maps, when other mappings may alias it: a file or
/// memfd mapped MAP_SHARED (identified by device and inode), or shared
/// anonymous memory (which only mremap can alias).
fn shared_object(flags: u64, fd: i32) -> Option<SharedObject> {
    const MAP_TYPE: u64 = 0x0f;
    let shared = matches!(flags & MAP_TYPE, f if f == libc::MAP_SHARED as u64 || f == libc::MAP_SHARED_VALIDATE as u64);
    if !shared {
        return None;
    }
    if flags & libc::MAP_ANONYMOUS as u64 != 0 {
        return Some(SharedObject::new_anonymous());
    }
    SharedObject::file_of(fd)
}

/// `[start, start + len)` stops mapping what it mapped. Code translated
/// from an alias of it may have been changed through it, and those
/// changes can no longer be traced back once the range is forgotten.
fn shared_range_replaced(start: u64, len: u64) {
    for (a, b) in shared_mappings::aliases(start, start.saturating_add(len)) {
        code_watch::code_changed(a, b - a);
    }
    shared_mappings::forget(start, len);
}

/// Bookkeeping after the guest got `[addr, addr + len)` with `prot`: it
/// may replace code that was translated.
fn mapped(addr: u64, len: u64, prot: u64) {
    writable::mark(addr, len, prot & libc::PROT_WRITE as u64 != 0);
    code_watch::mapping_changed(addr, len);
}

/// Whether `[start, start + len)` reaches beyond x86_64's address space,
/// where a wide host keeps Transit's own memory (guest_space): no guest
/// call may unmap or change it. A range that wraps around reaches beyond.
fn beyond_guest_space(start: u64, len: u64) -> bool {
    start > GUEST_END || len > GUEST_END - start
}

/// munmap: translated code in the range is gone. Beyond TASK_SIZE x86_64
/// says EINVAL (mm/mmap.c, do_vmi_munmap). Only the guest's own mappings
/// in the range go; Transit's memory there stays.
pub(crate) fn munmap(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    if beyond_guest_space(a[0], a[1]) {
        return Err(Errno::EINVAL);
    }
    if a[0] % GUEST_PAGE != 0 || a[1] == 0 {
        return host::syscall(libc::SYS_munmap, &a[..2]);
    }
    vfork_writes::before_mapping_change(a[0], a[1], true);
    let mut regions = guest_regions::lock();
    for (start, end) in regions.pieces(a[0], a[1]) {
        host::syscall(libc::SYS_munmap, &[start, end - start])?;
        regions.unmapped(start, end - start);
    }
    drop(regions);
    unmapped(a[0], a[1]);
    ctx.thread.code_unmapped(a[0], a[1]);
    Ok(0)
}

/// Bookkeeping after `[addr, addr + len)` stopped being mapped.
fn unmapped(addr: u64, len: u64) {
    shared_range_replaced(addr, len);
    writable::mark(addr, len, false);
    code_watch::mapping_changed(addr, len);
}

/// mremap(old, old_len, new_len, flags, new_addr): MREMAP_* are generic.
pub(crate) fn mremap(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let mut regions = guest_regions::lock();
    // The old range must be a mapping of the guest's (the kernel's EFAULT
    // where there is none); an old size of 0 needs only its first page.
    if a[0] % GUEST_PAGE == 0 && !regions.covers(a[0], a[1].max(1)) {
        return Err(Errno::EFAULT);
    }
    let mut held = regions.hold_gaps(a[3] & MREMAP_FIXED != 0, a[4], a[2])?;
    let was_writable = writable::any_writable(a[0], a[1]);
    // With an old size of 0 the kernel maps the same shared pages again.
    let carried = shared_mappings::pieces(a[0], if a[1] == 0 { a[2] } else { a[1] });
    vfork_writes::before_mapping_change(a[0], a[1], true);
    if a[3] & MREMAP_FIXED != 0 {
        vfork_writes::before_mapping_change(a[4], a[2], true);
    }
    let new = mremap_in_guest_space(a).inspect_err(|_| held.release())?;
    if a[3] & MREMAP_DONTUNMAP == 0 && a[1] != 0 {
        regions.unmapped(a[0], a[1]);
        shared_range_replaced(a[0], a[1]);
        writable::mark(a[0], a[1], false);
    }
    regions.mapped(new, a[2]);
    shared_range_replaced(new, a[2]);
    if let Some(&(_, _, object, offset)) = carried.first() {
        // A shared mapping moves or grows as one piece of its object.
        shared_mappings::record(new, a[2], object, offset);
    }
    code_watch::mapping_changed(a[0], a[1]);
    writable::mark(new, a[2], was_writable);
    code_watch::mapping_changed(new, a[2]);
    Ok(new)
}

const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;
const MREMAP_DONTUNMAP: u64 = 4;

/// The host's mremap, kept inside x86_64's address space: a fixed target
/// beyond it fails as on x86_64, and on a wide host a mapping that must
/// move goes where [`guest_space`] places guest memory (the kernel would
/// move it above 2^47).
fn mremap_in_guest_space(a: &Args) -> SysResult {
    let (flags, new_len, target) = (a[3], a[2], a[4]);
    if flags & MREMAP_FIXED != 0 {
        if target.saturating_add(new_len) > GUEST_END {
            return Err(Errno::EINVAL);
        }
        return host::syscall(libc::SYS_mremap, &a[..5]);
    }
    if flags & MREMAP_MAYMOVE == 0 || !guest_space::host_is_wide() {
        return host::syscall(libc::SYS_mremap, &a[..5]);
    }
    // Where it is, if it can grow there.
    if a[1] != 0 {
        if let Ok(same) = host::syscall(libc::SYS_mremap, &[a[0], a[1], new_len, flags & !(MREMAP_MAYMOVE | MREMAP_DONTUNMAP), 0]) {
            return Ok(same);
        }
    }
    let claimed = guest_space::claim(new_len, 1)?;
    let moved = host::syscall(libc::SYS_mremap, &[a[0], a[1], new_len, flags | MREMAP_FIXED, claimed]);
    if moved.is_err() {
        let _ = host::syscall(libc::SYS_munmap, &[claimed, new_len]);
    }
    moved
}

/// MAP_32BIT: the host has no such placement, so try fixed-no-replace
/// addresses in the low window until one is free.
fn mmap_low(hint: u64, len: u64, prot: u64, flags: u64, fd: u64, offset: u64) -> SysResult {
    let len_pages = page_up(len);
    if len_pages == 0 || len_pages > LOW_WINDOW.end - LOW_WINDOW.start {
        return Err(Errno::ENOMEM);
    }
    let try_at = |addr: u64| -> Result<Option<u64>, Errno> {
        let want = flags | libc::MAP_FIXED_NOREPLACE as u64;
        match host::syscall(libc::SYS_mmap, &[addr, len, prot, want, fd, offset]) {
            Ok(got) if got == addr => Ok(Some(got)),
            // A kernel without MAP_FIXED_NOREPLACE treats it as a hint.
            Ok(got) => host::syscall(libc::SYS_munmap, &[got, len]).map(|_| None),
            Err(e) if e.0 == libc::EEXIST => Ok(None),
            Err(e) => Err(e),
        }
    };
    // A hint is taken where the mapping would end below 2 GiB and the room
    // is free, as x86_64's arch_get_unmapped_area does (SBCL asks for its
    // spaces at fixed low addresses so).
    let hint = page_up(hint);
    if hint >= guest_space::GUEST_LOW && hint.saturating_add(len_pages) <= LOW_WINDOW.end {
        if let Some(got) = try_at(hint)? {
            return Ok(got);
        }
    }
    let step = len_pages.max(1 << 20);
    let mut addr = LOW_WINDOW.start;
    while addr + len_pages <= LOW_WINDOW.end {
        if let Some(got) = try_at(addr)? {
            return Ok(got);
        }
        addr += step;
    }
    Err(Errno::ENOMEM)
}

pub(crate) fn mprotect(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    check_prot(a[2])?;
    if a[1] != 0 && beyond_guest_space(a[0], a[1]) {
        // Nothing of the guest's is mapped there (mm/mprotect.c: ENOMEM).
        return Err(Errno::ENOMEM);
    }
    let regions = guest_regions::lock();
    // As at a hole, the kernel changes what is mapped up to Transit's
    // memory and fails there with ENOMEM.
    let mapped_len = if a[0] % GUEST_PAGE == 0 { regions.mapped_prefix(a[0], a[1]) } else { a[1] };
    if mapped_len == 0 && a[1] != 0 {
        return Err(Errno::ENOMEM);
    }
    vfork_writes::before_mapping_change(a[0], mapped_len, false);
    let (start, len) = match host::syscall(libc::SYS_mprotect, &[a[0], mapped_len, host_prot(a[2])]) {
        Ok(_) => (a[0], mapped_len),
        Err(e) if e == Errno::EINVAL && a[2] & PROT_GROWSDOWN != 0 => {
            let start = grows_down_from(ctx.process, a[0], mapped_len).ok_or(e)?;
            let len = a[0] + mapped_len - start;
            host::syscall(libc::SYS_mprotect, &[start, len, host_prot(a[2] & !PROT_GROWSDOWN)])?;
            (start, len)
        }
        Err(e) => return Err(e),
    };
    drop(regions);
    if a[2] & libc::PROT_WRITE as u64 != 0 && !shared_mappings::pieces(start, len).is_empty() {
        // Shared memory made writable (see mmap).
        ctx.thread.keep_x86_memory_order();
    }
    // Also drops a write protection Transit had set on translated code.
    mapped(start, len, a[2]);
    if mapped_len < a[1] {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

/// PROT_GROWSDOWN: the change reaches down to the start of the grows-down
/// mapping holding the range. The x86_64 kernel's initial stack is one (glibc
/// makes it executable so, for a library marked PT_GNU_STACK RWX), while
/// the one Transit maps for the guest is not, to the host: where the range
/// lies in it, that is where the change starts. None: the kernel's EINVAL.
fn grows_down_from(process: &GuestProcess, start: u64, len: u64) -> Option<u64> {
    let stack = &process.initial_stack;
    (stack.start <= start && start.checked_add(len)? <= stack.end).then_some(stack.start)
}

/// brk, emulated over anonymous mappings: aarch64's own brk heap belongs to
/// Transit. Like Linux, returns the (unchanged) current break on failure or
/// for requests below the start, which is how brk(0) queries it.
///
/// Invariant: `[brk_start, page_up(brk_current))` is mapped; the page holding
/// an unaligned `brk_start` is the loader's bss page. Up to
/// `brk_reserved_end` the range above is the loader's PROT_NONE reservation,
/// which brk maps over and restores when it shrinks, so no other mapping
/// can take the heap's room (the kernel would place static-PIE images and
/// mmaps right next to each other).
pub(crate) fn brk(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let p = ctx.process;
    let mut current = p.brk_current.lock().unwrap_or_else(|e| e.into_inner());
    let mut regions = guest_regions::lock();
    let requested = a[0];
    if p.brk_start == 0 || requested < p.brk_start {
        return Ok(*current);
    }
    let (mapped_end, new_end) = (page_up(*current), page_up(requested));
    // The reservation is still whole unless the guest unmapped some of it
    // (where Transit's memory may lie now).
    let reserved = new_end <= p.brk_reserved_end && regions.covers(mapped_end, new_end.saturating_sub(mapped_end));
    if new_end > mapped_end {
        let len = new_end - mapped_end;
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        // Over our own reservation MAP_FIXED is safe; elsewhere never clobber.
        let fixed = if reserved { libc::MAP_FIXED } else { libc::MAP_FIXED_NOREPLACE };
        let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | fixed) as u64;
        match host::syscall(libc::SYS_mmap, &[mapped_end, len, prot, flags, u64::MAX, 0]) {
            Ok(got) if got == mapped_end => {
                regions.mapped(got, len);
                mapped(got, len, prot);
            }
            Ok(got) => {
                // Old kernel: the hint was not honoured; give the memory back.
                let _ = host::syscall(libc::SYS_munmap, &[got, len]);
                return Ok(*current);
            }
            Err(_) => return Ok(*current),
        }
    } else if new_end < mapped_end {
        // Dropping the pages also zeroes them for a later regrow, as Linux
        // does; inside the reservation they go back to PROT_NONE.
        let len = mapped_end - new_end;
        vfork_writes::before_mapping_change(new_end, len, true);
        let dropped = if mapped_end <= p.brk_reserved_end {
            let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE) as u64;
            host::syscall(libc::SYS_mmap, &[new_end, len, libc::PROT_NONE as u64, flags, u64::MAX, 0])
        } else {
            host::syscall(libc::SYS_munmap, &[new_end, len])
        };
        if dropped.is_err() {
            return Ok(*current);
        }
        if mapped_end > p.brk_reserved_end {
            regions.unmapped(new_end, len);
        }
        mapped(new_end, len, 0);
    }
    *current = requested;
    Ok(requested)
}

/// shmat: a System V segment is shared memory like a MAP_SHARED file:
/// writable unless SHM_RDONLY, and aliased by every other attachment.
pub(crate) fn shmat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    // SAFETY: IPC_STAT fills the zeroed struct we pass.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    let len = if unsafe { libc::shmctl(a[0] as i32, libc::IPC_STAT, &mut ds) } == 0 { ds.shm_segsz as u64 } else { 0 };
    let mut regions = guest_regions::lock();
    if a[2] & libc::SHM_REMAP as u64 != 0 {
        vfork_writes::before_mapping_change(a[1], len, true);
    }
    let mut held = regions.hold_gaps(a[2] & libc::SHM_REMAP as u64 != 0, a[1], len)?;
    let addr = if a[1] == 0 && len != 0 && guest_space::host_is_wide() {
        // Over a claim of our own where guest memory goes (SHM_REMAP).
        const SHMLBA: u64 = 1 << 16;
        let claimed = guest_space::claim(len, SHMLBA)?;
        let attached = host::syscall(libc::SYS_shmat, &[a[0], claimed, a[2] | libc::SHM_REMAP as u64]);
        if attached.is_err() {
            let _ = host::syscall(libc::SYS_munmap, &[claimed, len]);
        }
        attached?
    } else {
        host::syscall(libc::SYS_shmat, &a[..3]).inspect_err(|_| held.release())?
    };
    regions.mapped(addr, len);
    drop(regions);
    ctx.thread.keep_x86_memory_order();
    shared_range_replaced(addr, len);
    shared_mappings::record(addr, len, SharedObject::SysV { shmid: a[0] }, 0);
    let prot = if a[2] & libc::SHM_RDONLY as u64 != 0 { libc::PROT_READ } else { libc::PROT_READ | libc::PROT_WRITE };
    mapped(addr, len, prot as u64);
    Ok(addr)
}

/// shmdt: the attachment at `addr` goes, however long it was.
pub(crate) fn shmdt(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let mut regions = guest_regions::lock();
    let len = shared_mappings::length_at(a[0]);
    let r = host::syscall(libc::SYS_shmdt, &a[..1])?;
    if let Some(len) = len {
        regions.unmapped(a[0], len);
        unmapped(a[0], len);
    }
    Ok(r)
}

/// madvise: MADV_* are generic, but only the guest's own mappings take
/// the advice (MADV_DONTNEED would zero Transit's memory). Where the range
/// holds none, beyond TASK_SIZE or on Transit's memory, x86_64 applies the
/// advice to what is mapped and reports the hole with ENOMEM (mm/madvise.c).
pub(crate) fn madvise(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    if a[0].checked_add(a[1]).is_none() {
        return Err(Errno::EINVAL);
    }
    if a[0] % GUEST_PAGE != 0 || a[1] == 0 {
        return host::syscall(libc::SYS_madvise, &a[..3]);
    }
    let regions = guest_regions::lock();
    // Saved first: MADV_DONTNEED zeroes a vfork child's pages, which its
    // parent then sees.
    vfork_writes::before_mapping_change(a[0], a[1], false);
    for (start, end) in regions.pieces(a[0], a[1]) {
        host::syscall(libc::SYS_madvise, &[start, end - start, a[2]])?;
    }
    if !regions.covers(a[0], a[1]) {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

/// mseal: only the guest's own mappings can be sealed; the kernel fails
/// a range holding anything else (Transit's memory) with ENOMEM, as one
/// with a hole.
pub(crate) fn mseal(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let regions = guest_regions::lock();
    if a[0] % GUEST_PAGE == 0 && a[1] != 0 && !regions.covers(a[0], a[1]) {
        return Err(Errno::ENOMEM);
    }
    host::syscall(libc::SYS_mseal, &a[..3])
}
