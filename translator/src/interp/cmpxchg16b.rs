//! cmpxchg16b m128, interpreted with a host 128-bit compare-and-swap that
//! is atomic against other guest threads' translated code (which uses
//! exclusive or LSE accesses): `caspal` with FEAT_LSE, else an
//! `ldaxp`/`stlxp` loop. Either way the result is the same whether or not
//! the guest wrote `lock` (a plain cmpxchg16b is allowed to be atomic).

use crate::cpu::state::gpr::{RAX, RBX, RCX, RDX};
use crate::cpu::state::{rflags, CpuState};
use crate::exit::GuestEvent;
use iced_x86::{Instruction, Mnemonic};

/// The operand must be 16-byte aligned, else #GP (SDM Vol. 2A,
/// CMPXCHG8B/CMPXCHG16B), which Linux delivers as SIGSEGV. Checked before
/// the page is probed, as the CPU does.
pub fn check_alignment(insn: &Instruction, addr: u64) -> Result<(), GuestEvent> {
    if insn.mnemonic() == Mnemonic::Cmpxchg16b && addr % 16 != 0 {
        return Err(GuestEvent::Fault { signal: libc::SIGSEGV, addr: 0 });
    }
    Ok(())
}

/// Runs cmpxchg16b on the (aligned, probed) operand at `addr`.
pub fn step(state: &mut CpuState, addr: u64) {
    let expected = (state.gpr[RDX] as u128) << 64 | state.gpr[RAX] as u128;
    let new = (state.gpr[RCX] as u128) << 64 | state.gpr[RBX] as u128;
    // SAFETY: `addr` is a 16-byte aligned guest address the interpreter
    // has probed for writing; other threads only touch it atomically or
    // racily as the guest itself would.
    let old = unsafe { compare_exchange(addr as *mut u128, expected, new) };
    let mut f = state.rflags() & !rflags::ZF;
    if old == expected {
        f |= rflags::ZF;
    } else {
        state.gpr[RAX] = old as u64;
        state.gpr[RDX] = (old >> 64) as u64;
    }
    state.set_rflags(f);
}

/// Atomically: if `*p == expected` then `*p = new`; returns the old value.
///
/// # Safety
/// `p` must be 16-byte aligned and valid for reads and writes.
#[cfg(target_arch = "aarch64")]
unsafe fn compare_exchange(p: *mut u128, expected: u128, new: u128) -> u128 {
    if std::arch::is_aarch64_feature_detected!("lse") {
        // SAFETY: the host has FEAT_LSE; the caller vouches for `p`.
        unsafe { compare_exchange_lse(p, expected, new) }
    } else {
        // SAFETY: the caller vouches for `p`.
        unsafe { compare_exchange_exclusive(p, expected, new) }
    }
}

/// # Safety
/// As `compare_exchange`, on a host with FEAT_LSE.
#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "lse")]
unsafe fn compare_exchange_lse(p: *mut u128, expected: u128, new: u128) -> u128 {
    let (mut lo, mut hi) = (expected as u64, (expected >> 64) as u64);
    // SAFETY: caspal on a valid aligned address; the pairs are even/odd
    // registers as the instruction requires. Little-endian: the first
    // register of a pair holds the lower address.
    unsafe {
        std::arch::asm!(
            "caspal x4, x5, x6, x7, [{p}]",
            p = in(reg) p,
            inout("x4") lo,
            inout("x5") hi,
            in("x6") new as u64,
            in("x7") (new >> 64) as u64,
            options(nostack),
        );
    }
    (hi as u128) << 64 | lo as u128
}

/// # Safety
/// As `compare_exchange`.
#[cfg(target_arch = "aarch64")]
unsafe fn compare_exchange_exclusive(p: *mut u128, expected: u128, new: u128) -> u128 {
    let (lo, hi): (u64, u64);
    // SAFETY: an exclusive pair on a valid aligned address. On a mismatch
    // the old value is stored back, so the read of both halves is atomic
    // (a successful stlxp proves no other write came between).
    unsafe {
        std::arch::asm!(
            "2:",
            "ldaxp {lo}, {hi}, [{p}]",
            "cmp {lo}, {elo}",
            "ccmp {hi}, {ehi}, #0, eq",
            "b.ne 3f",
            "stlxp {status:w}, {nlo}, {nhi}, [{p}]",
            "cbnz {status:w}, 2b",
            "b 4f",
            "3:",
            "stlxp {status:w}, {lo}, {hi}, [{p}]",
            "cbnz {status:w}, 2b",
            "4:",
            "dmb ish",
            p = in(reg) p,
            lo = out(reg) lo,
            hi = out(reg) hi,
            status = out(reg) _,
            elo = in(reg) expected as u64,
            ehi = in(reg) (expected >> 64) as u64,
            nlo = in(reg) new as u64,
            nhi = in(reg) (new >> 64) as u64,
            options(nostack),
        );
    }
    (hi as u128) << 64 | lo as u128
}

/// Non-aarch64 builds (tools, tests on the build machine) run no guest
/// threads concurrently with this.
///
/// # Safety
/// As `compare_exchange` above.
#[cfg(not(target_arch = "aarch64"))]
unsafe fn compare_exchange(p: *mut u128, expected: u128, new: u128) -> u128 {
    // SAFETY: the caller vouches for `p`.
    unsafe {
        let old = p.read();
        if old == expected {
            p.write(new);
        }
        old
    }
}

#[cfg(test)]
mod tests {
    use super::compare_exchange;

    #[test]
    fn swaps_only_on_a_match_and_returns_the_old_value() {
        #[repr(align(16))]
        struct Slot(u128);
        let mut slot = Slot(0x1111_2222_3333_4444_5555_6666_7777_8888);
        let p = &mut slot.0 as *mut u128;
        // SAFETY: `p` is aligned and valid.
        unsafe {
            assert_eq!(compare_exchange(p, 5, 6), 0x1111_2222_3333_4444_5555_6666_7777_8888);
            assert_eq!(*p, 0x1111_2222_3333_4444_5555_6666_7777_8888);
            assert_eq!(compare_exchange(p, *p, u128::MAX), 0x1111_2222_3333_4444_5555_6666_7777_8888);
            assert_eq!(*p, u128::MAX);
        }
    }

    #[cfg(target_arch = "aarch64")]
    #[test]
    fn the_exclusive_loop_agrees() {
        #[repr(align(16))]
        struct Slot(u128);
        let mut slot = Slot(1 << 64 | 2);
        let p = &mut slot.0 as *mut u128;
        // SAFETY: `p` is aligned and valid.
        unsafe {
            assert_eq!(super::compare_exchange_exclusive(p, 3, 4), 1 << 64 | 2);
            assert_eq!(super::compare_exchange_exclusive(p, 1 << 64 | 2, 7), 1 << 64 | 2);
            assert_eq!(*p, 7);
        }
    }
}
