//! Where test sequences and their data live, identically in the native
//! executor and in the translated runner (so RIP-relative and absolute
//! addresses mean the same on both sides).

/// Test code is placed here, followed by the side's terminator.
pub const CODE_ADDR: u64 = 0x3000_0000;
pub const CODE_SIZE: usize = 64 << 10;
/// Scratch memory every memory operand points into.
pub const MEM_ADDR: u64 = 0x3100_0000;
pub const MEM_SIZE: usize = 4096;
/// The page below the scratch page: no access (PROT_NONE rather than
/// unmapped, so nothing else can be mapped there). Any access faults.
pub const GUARD_ADDR: u64 = MEM_ADDR - 4096;
/// The page above the scratch page: readable, with fixed contents
/// (`case::readonly_memory`); stores to it fault.
pub const READONLY_ADDR: u64 = MEM_ADDR + MEM_SIZE as u64;
pub const PAGE_SIZE: usize = 4096;

/// Registers with fixed roles, never written by generated instructions:
/// R15 points at the middle of the scratch page (memory operands are R15
/// plus a displacement, optionally plus R14 scaled: R14 holds a small
/// index), RSP points into its upper part for push/pop/call.
pub const BASE_REG: usize = 15;
pub const INDEX_REG: usize = 14;
pub const RSP: usize = 4;
pub const BASE_VALUE: u64 = MEM_ADDR + 1024;
pub const STACK_VALUE: u64 = MEM_ADDR + 3584;
/// Largest value the index register holds (times 8 stays in the page).
pub const INDEX_MAX: u64 = 32;
/// The index register holds a non-zero multiple of this, so that an
/// indexed operand keeps its displacement's 16-byte alignment (legacy
/// SSE's 128-bit operands fault without it) and the index always counts.
pub const INDEX_STEP: u64 = 16;
/// Every generated memory operand (R15 + [-1024, 1024) + R14 * 8 + at
/// most 512 bytes accessed) lies inside the scratch page, so moving it by
/// this many bytes either way puts it wholly inside the guard page or the
/// read-only page, with its alignment kept.
pub const FAULT_SHIFT: i64 = 4096;

/// Maps one fixed harness range; MAP_FIXED_NOREPLACE fails instead of
/// clobbering anything already there.
pub fn map(addr: u64, len: usize, prot: i32) {
    // SAFETY: fixed addresses reserved for the harness; NOREPLACE refuses
    // to replace an existing mapping.
    let p = unsafe {
        libc::mmap(addr as *mut _, len, prot, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE, -1, 0)
    };
    assert_eq!(p as u64, addr, "cannot map the harness page at {addr:#x}");
}

/// Maps the code, scratch, guard and read-only pages, alike for both
/// executors; `code_prot` is what the code page needs on that side.
pub fn map_layout(code_prot: i32) {
    map(CODE_ADDR, CODE_SIZE, code_prot);
    map(MEM_ADDR, MEM_SIZE, libc::PROT_READ | libc::PROT_WRITE);
    map(GUARD_ADDR, PAGE_SIZE, libc::PROT_NONE);
    map(READONLY_ADDR, PAGE_SIZE, libc::PROT_READ | libc::PROT_WRITE);
    // SAFETY: the page was just mapped, writable, and is ours alone.
    unsafe {
        std::ptr::copy_nonoverlapping(crate::case::readonly_memory().as_ptr(), READONLY_ADDR as *mut u8, PAGE_SIZE);
        assert_eq!(libc::mprotect(READONLY_ADDR as *mut _, PAGE_SIZE, libc::PROT_READ), 0);
    }
}
