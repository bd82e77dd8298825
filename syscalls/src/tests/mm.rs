use super::*;

const PROT_RW: u64 = (libc::PROT_READ | libc::PROT_WRITE) as u64;
const MAP_PRIVATE_ANON: u64 = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64;
const X86_MAP_32BIT: u64 = 0x40;
const PAGE: u64 = 4096;

/// A free, 4 GiB-aligned-ish region of `len` bytes: map it, then give it back.
fn free_region(g: &mut Guest, len: u64) -> u64 {
    let addr = g.ok("mmap", &[0, len, 0, MAP_PRIVATE_ANON, u64::MAX, 0]);
    g.ok("munmap", &[addr, len]);
    addr
}

fn is_mapped(addr: u64) -> bool {
    let mut vec = [0u8; 1];
    // SAFETY: mincore only inspects the mapping and writes one byte to vec.
    unsafe { libc::mincore(addr as usize as *mut _, 1, vec.as_mut_ptr()) == 0 }
}

#[test]
fn brk_grows_shrinks_and_refuses_to_overlap() {
    let mut g = Guest::new();
    let start = free_region(&mut g, 64 * PAGE);
    g.process = GuestProcess::new("/g".into(), start);

    assert_eq!(g.ok("brk", &[0]), start);
    assert_eq!(g.ok("brk", &[start - 1]), start);
    let grown = start + 3 * PAGE + 100;
    assert_eq!(g.ok("brk", &[grown]), grown);
    // SAFETY: the break now covers [start, grown): mapped read-write.
    unsafe { std::ptr::write_bytes(start as usize as *mut u8, 0x5A, (grown - start) as usize) };
    assert!(is_mapped(start + 3 * PAGE));

    let shrunk = start + PAGE + 10;
    assert_eq!(g.ok("brk", &[shrunk]), shrunk);
    assert!(is_mapped(start + PAGE));
    assert!(
        !is_mapped(start + 2 * PAGE),
        "shrinking must unmap whole pages past the break"
    );
    // Regrown memory is zero again, as on Linux.
    assert_eq!(g.ok("brk", &[grown]), grown);
    // SAFETY: mapped by the brk above.
    assert_eq!(unsafe { *((start + 2 * PAGE) as usize as *const u8) }, 0);

    // Something else mapped in the way: brk fails by returning the old break.
    let blocker = start + 32 * PAGE;
    let flags = MAP_PRIVATE_ANON | libc::MAP_FIXED_NOREPLACE as u64;
    assert_eq!(
        g.ok("mmap", &[blocker, PAGE, PROT_RW, flags, u64::MAX, 0]),
        blocker
    );
    assert_eq!(g.ok("brk", &[start + 40 * PAGE]), grown);
    assert_eq!(*g.process.brk_current.lock().unwrap(), grown);
    g.ok("munmap", &[start, 64 * PAGE]);
}

#[test]
fn brk_without_a_heap_reports_zero() {
    let mut g = Guest::new();
    assert_eq!(g.ok("brk", &[0]), 0);
    assert_eq!(g.ok("brk", &[0x1000_0000]), 0);
}

#[test]
fn mmap_map_32bit_lands_in_the_low_2gib() {
    let mut g = Guest::new();
    let a = g.ok(
        "mmap",
        &[
            0,
            3 * PAGE,
            PROT_RW,
            MAP_PRIVATE_ANON | X86_MAP_32BIT,
            u64::MAX,
            0,
        ],
    );
    let b = g.ok(
        "mmap",
        &[
            0,
            PAGE,
            PROT_RW,
            MAP_PRIVATE_ANON | X86_MAP_32BIT,
            u64::MAX,
            0,
        ],
    );
    for addr in [a, b] {
        assert!(addr + PAGE <= 0x8000_0000 && addr != 0, "{addr:#x}");
        // SAFETY: just mapped read-write.
        unsafe { *(addr as usize as *mut u64) = 1 };
    }
    assert_ne!(a, b);
    g.ok("munmap", &[a, 3 * PAGE]);
    g.ok("munmap", &[b, PAGE]);
}

#[test]
fn mmap_map_32bit_takes_a_free_hint_below_2gib() {
    let mut g = Guest::new();
    let hint = 0x5a30_0000;
    let flags = MAP_PRIVATE_ANON | X86_MAP_32BIT;
    let a = g.ok("mmap", &[hint, 2 * PAGE, PROT_RW, flags, u64::MAX, 0]);
    assert_eq!(a, hint);
    // Taken: the next one goes elsewhere, still low.
    let b = g.ok("mmap", &[hint, PAGE, PROT_RW, flags, u64::MAX, 0]);
    assert!(b != hint && b + PAGE <= 0x8000_0000, "{b:#x}");
    // A hint the mapping would not fit below 2 GiB under is not taken.
    let c = g.ok("mmap", &[0x7fff_f000, 2 * PAGE, PROT_RW, flags, u64::MAX, 0]);
    assert!(c + 2 * PAGE <= 0x8000_0000, "{c:#x}");
    for (addr, len) in [(a, 2 * PAGE), (b, PAGE), (c, 2 * PAGE)] {
        g.ok("munmap", &[addr, len]);
    }
}

#[test]
fn mmap_mprotect_reject_prot_bits_x86_64_lacks() {
    let mut g = Guest::new();
    // 0x10 is PROT_BTI on arm64 and invalid on x86_64.
    assert_eq!(
        g.sys(
            "mmap",
            &[0, PAGE, PROT_RW | 0x10, MAP_PRIVATE_ANON, u64::MAX, 0]
        ),
        neg(libc::EINVAL)
    );
    let a = g.ok("mmap", &[0, PAGE, PROT_RW, MAP_PRIVATE_ANON, u64::MAX, 0]);
    assert_eq!(g.sys("mprotect", &[a, PAGE, 0x10]), neg(libc::EINVAL));
    g.ok("mprotect", &[a, PAGE, libc::PROT_READ as u64]);
    g.ok("madvise", &[a, PAGE, libc::MADV_DONTNEED as u64]);
    g.ok("munmap", &[a, PAGE]);
    assert_eq!(
        g.sys("mmap", &[0, 0, PROT_RW, MAP_PRIVATE_ANON, u64::MAX, 0]),
        neg(libc::EINVAL)
    );
}

#[test]
fn shared_mappings_keep_x86_memory_order() {
    let mut g = Guest::new();
    let private = g.ok("mmap", &[0, PAGE, PROT_RW, MAP_PRIVATE_ANON, u64::MAX, 0]);
    assert!(!g.thread.x86_memory_order, "private memory is the process's own");
    let file = std::fs::File::open("/proc/self/exe").unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file) as u64;
    let read_only = g.ok("mmap", &[0, PAGE, libc::PROT_READ as u64, libc::MAP_SHARED as u64, fd, 0]);
    assert!(!g.thread.x86_memory_order, "a read-only file mapping is not written through");
    g.ok("munmap", &[read_only, PAGE]);
    let shared = (libc::MAP_SHARED | libc::MAP_ANONYMOUS) as u64;
    let addr = g.ok("mmap", &[0, PAGE, PROT_RW, shared, u64::MAX, 0]);
    assert!(g.thread.x86_memory_order, "a forked child would see this memory");
    g.ok("munmap", &[addr, PAGE]);
    g.ok("munmap", &[private, PAGE]);
}

/// Found by `cargo xtask fuzz-syscalls`: a range beyond x86_64's 2^47 is
/// where a wide host keeps Transit's own memory; munmap, mprotect and
/// madvise there fail as on x86_64 and never reach it.
#[test]
fn memory_calls_beyond_the_guest_space_fail_as_on_x86_64() {
    let mut g = Guest::new();
    let end = crate::guest_space::GUEST_END;
    assert_eq!(g.sys("munmap", &[1 << 47, PAGE]), neg(libc::EINVAL));
    assert_eq!(g.sys("munmap", &[end - PAGE, 2 * PAGE]), neg(libc::EINVAL));
    assert_eq!(g.sys("munmap", &[PAGE << 4, u64::MAX - PAGE]), neg(libc::EINVAL));
    assert_eq!(g.sys("mprotect", &[1 << 47, PAGE, libc::PROT_READ as u64]), neg(libc::ENOMEM));
    assert_eq!(g.sys("madvise", &[1 << 47, PAGE, libc::MADV_DONTNEED as u64]), neg(libc::ENOMEM));
    assert_eq!(g.sys("madvise", &[PAGE << 4, u64::MAX - PAGE, libc::MADV_DONTNEED as u64]), neg(libc::EINVAL));
}

#[test]
fn mprotect_growsdown_works_on_the_initial_stack_only() {
    const PROT_RWX_GROWSDOWN: u64 = 7 | 0x0100_0000;
    let mut g = Guest::new();
    let stack = g.ok("mmap", &[0, 8 * PAGE, PROT_RW, MAP_PRIVATE_ANON, u64::MAX, 0]);
    // Not the initial stack: the kernel's EINVAL, as for any mapping that
    // does not grow down.
    assert_eq!(g.sys("mprotect", &[stack + 6 * PAGE, PAGE, PROT_RWX_GROWSDOWN]), neg(libc::EINVAL));
    g.process.initial_stack = stack..stack + 8 * PAGE;
    g.ok("mprotect", &[stack + 6 * PAGE, PAGE, PROT_RWX_GROWSDOWN]);
    // (qemu-user's /proc/self/maps, where this runs, is too coarse to
    // show which pages changed: tests/programs/exec_stack.c runs code there.)
    g.ok("munmap", &[stack, 8 * PAGE]);
}

#[test]
fn memory_calls_leave_memory_the_guest_never_mapped_alone() {
    let mut g = Guest::new();
    // Transit's memory: mapped on the host, never by the guest.
    // SAFETY: a fresh anonymous mapping, written within its bounds.
    let own = unsafe { libc::mmap(std::ptr::null_mut(), 4 * PAGE as usize, PROT_RW as i32, MAP_PRIVATE_ANON as i32, -1, 0) };
    assert_ne!(own, libc::MAP_FAILED);
    let own = own as u64;
    unsafe { std::ptr::write_bytes(own as usize as *mut u8, 0x5A, 4 * PAGE as usize) };
    let fixed = MAP_PRIVATE_ANON | libc::MAP_FIXED as u64;
    assert_eq!(g.sys("mmap", &[own + PAGE, PAGE, PROT_RW, fixed, u64::MAX, 0]), neg(libc::EPERM));
    assert_eq!(g.ok("munmap", &[own, 4 * PAGE]), 0);
    assert_eq!(g.sys("mprotect", &[own, PAGE, 0]), neg(libc::ENOMEM));
    assert_eq!(g.sys("madvise", &[own, 4 * PAGE, libc::MADV_DONTNEED as u64]), neg(libc::ENOMEM));
    assert_eq!(g.sys("mremap", &[own, PAGE, 2 * PAGE, 1, 0]), neg(libc::EFAULT));
    // SAFETY: still mapped, as checked first.
    assert!(is_mapped(own + 3 * PAGE) && unsafe { *((own + 3 * PAGE) as usize as *const u8) } == 0x5A);

    // A guest mapping next to it, and one made over it by the guest, behave as ever.
    let guest = g.ok("mmap", &[0, 2 * PAGE, PROT_RW, MAP_PRIVATE_ANON, u64::MAX, 0]);
    assert_eq!(g.ok("mmap", &[guest + PAGE, PAGE, 0, fixed, u64::MAX, 0]), guest + PAGE);
    assert_eq!(g.ok("mprotect", &[guest, 2 * PAGE, libc::PROT_READ as u64]), 0);
    assert_eq!(g.ok("munmap", &[guest, 2 * PAGE]), 0);
    assert!(!is_mapped(guest) && !is_mapped(guest + PAGE));
    // SAFETY: the test's own mapping.
    unsafe { libc::munmap(own as usize as *mut _, 4 * PAGE as usize) };
}
