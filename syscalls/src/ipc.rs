//! System V IPC control calls. `struct ipc64_perm`, `shmid64_ds` and
//! `msqid64_ds` are laid out alike on x86_64 and aarch64 (64-bit longs, no
//! padding around the times), so shmctl and msgctl pass through;
//! `semid64_ds` differs: x86_64 keeps an unused word after each time.

use crate::guest_mem::{self, Plain};
use crate::host::{self, SysResult};
use crate::{Args, Ctx};

/// x86_64 `struct semid64_ds` (arch/x86/include/uapi/asm/sembuf.h); the
/// 48-byte `ipc64_perm` is copied as it is.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct X86SemidDs {
    pub perm: [u64; 6],
    pub otime: u64,
    pub unused1: u64,
    pub ctime: u64,
    pub unused2: u64,
    pub nsems: u64,
    pub unused3: u64,
    pub unused4: u64,
}

/// aarch64 (asm-generic) `struct semid64_ds`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
struct HostSemidDs {
    perm: [u64; 6],
    otime: u64,
    ctime: u64,
    nsems: u64,
    unused3: u64,
    unused4: u64,
}

// SAFETY: integers and byte arrays, no padding.
unsafe impl Plain for X86SemidDs {}

// semctl commands that carry a struct semid64_ds (include/uapi/linux/sem.h, ipc.h).
const IPC_SET: u64 = 1;
const IPC_STAT: u64 = 2;
const SEM_STAT: u64 = 18;
const SEM_STAT_ANY: u64 = 20;
/// glibc may or the command with IPC_64 (0x100); 64-bit kernels ignore it.
const IPC_64: u64 = 0x100;

/// semctl(semid, semnum, cmd, arg): converts semid64_ds for IPC_STAT,
/// SEM_STAT(_ANY) and IPC_SET; other commands (values, arrays of u16,
/// struct seminfo of ints) mean the same on both.
pub(crate) fn semctl(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let cmd = a[2] & !IPC_64;
    match cmd {
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let mut host_ds = HostSemidDs::default();
            let r = host::syscall(libc::SYS_semctl, &[a[0], a[1], a[2], host::ptr_mut(&mut host_ds)])?;
            let guest = X86SemidDs {
                perm: host_ds.perm,
                otime: host_ds.otime,
                ctime: host_ds.ctime,
                nsems: host_ds.nsems,
                ..X86SemidDs::default()
            };
            guest_mem::write(a[3], &guest)?;
            Ok(r)
        }
        IPC_SET => {
            let guest: X86SemidDs = guest_mem::read(a[3])?;
            let mut host_ds = HostSemidDs { perm: guest.perm, otime: guest.otime, ctime: guest.ctime, nsems: guest.nsems, ..Default::default() };
            host::syscall(libc::SYS_semctl, &[a[0], a[1], a[2], host::ptr_mut(&mut host_ds)])
        }
        _ => host::syscall(libc::SYS_semctl, &a[..4]),
    }
}

#[cfg(test)]
mod tests {
    use super::X86SemidDs;
    use std::mem::offset_of;

    #[test]
    fn semid_ds_matches_x86_64_gcc() {
        let c = "#include <stdio.h>\n#include <stddef.h>\n#include <sys/sem.h>\nint main(void) {\
                 printf(\"%zu %zu %zu %zu\\n\", sizeof(struct semid_ds), offsetof(struct semid_ds, sem_otime),\
                 offsetof(struct semid_ds, sem_ctime), offsetof(struct semid_ds, sem_nsems)); return 0; }";
        let Some(out) = crate::abi::oracle::run_x86_64_c(c) else { return };
        let ours = format!(
            "{} {} {} {}",
            size_of::<X86SemidDs>(),
            offset_of!(X86SemidDs, otime),
            offset_of!(X86SemidDs, ctime),
            offset_of!(X86SemidDs, nsems)
        );
        assert_eq!(out.trim(), ours);
    }
}
