//! Every x86_64 syscall number: its name and how Transit handles it.
//!
//! `pass(SYS_x)` forwards the six guest argument registers unchanged to the
//! host syscall `SYS_x` (the host's own number, from libc). That is sound
//! only when the arguments are integers, flags with equal values, buffers,
//! strings, or structs whose layout both ABIs share (see `abi` and its
//! `identical_layouts` test); a line comment names the struct when there is
//! one. `pass_same_nr(N)` is `pass` for syscalls numbered from 424 on, which
//! have the same number on every architecture (see the kernel's
//! scripts/syscall.tbl) and for which libc has no constant yet.
//! `pass_paths(SYS_x, ...)` is `pass` with path arguments rewritten for the
//! root filesystem (`fs::rootfs`): `follows(i)` for argument `i` when the
//! lookup follows a symbolic link in the last component, `no_follow(i)`
//! when it does not, `at(i, f)` when flags argument `f` may say
//! `AT_SYMLINK_NOFOLLOW`, `at_follow(i, f)` when it may say
//! `AT_SYMLINK_FOLLOW`. Syscalls that act on the host's mounts and devices
//! (mount, chroot, swapon, ...) keep host paths.
//! `emulate(f)` calls a handler that converts or reimplements.
//! Entries without a handler fail with ENOSYS and a warning naming them.

use crate::fs::rootfs::PathArg;
use crate::host::SysResult;
use crate::{fs, ioctl, ipc, mm, process, seccomp, signal, time, Args, Ctx};

/// An x86_64 syscall number (guest RAX), never to be confused with the
/// host's `libc::SYS_*` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct X86Nr(pub u64);

pub(crate) type HandlerFn = fn(&mut Ctx<'_>, &Args) -> SysResult;

#[derive(Clone, Copy)]
pub(crate) enum Handler {
    /// Same arguments, same meaning: call this host syscall.
    Pass(libc::c_long),
    /// `Pass`, with these path arguments looked up in the root filesystem.
    PassPaths(libc::c_long, &'static [PathArg]),
    /// Convert or reimplement.
    Emulate(HandlerFn),
    /// exit (`group: false`) or exit_group: the runtime ends the thread or process.
    Exit { group: bool },
    /// Not supported yet: -ENOSYS with a warning.
    Missing,
}

pub struct Entry {
    pub nr: X86Nr,
    pub name: &'static str,
    pub(crate) handler: Handler,
}

impl Entry {
    /// Whether Transit does anything for this syscall beyond -ENOSYS.
    pub fn is_implemented(&self) -> bool {
        !matches!(self.handler, Handler::Missing)
    }
}

macro_rules! syscall_table {
    ($( $nr:literal $name:ident $(=> $kind:ident ($($how:tt)*))? ,)*) => {
        /// All x86_64 syscalls, ordered by number.
        pub static TABLE: &[Entry] = &[$(
            Entry { nr: X86Nr($nr), name: stringify!($name), handler: syscall_table!(@how $($kind $($how)*)?) },
        )*];
    };
    (@how) => { Handler::Missing };
    (@how pass $sys:ident) => { Handler::Pass(libc::$sys) };
    (@how pass_same_nr $nr:literal) => { Handler::Pass($nr) };
    (@how pass_paths $sys:ident, $($f:ident($($i:literal),+)),+) => {
        Handler::PassPaths(libc::$sys, &[$(PathArg::$f($($i),+)),+])
    };
    (@how pass_paths_same_nr $nr:literal, $($f:ident($($i:literal),+)),+) => {
        Handler::PassPaths($nr, &[$(PathArg::$f($($i),+)),+])
    };
    (@how emulate $f:path) => { Handler::Emulate($f) };
    (@how exit thread) => { Handler::Exit { group: false } };
    (@how exit group) => { Handler::Exit { group: true } };
}

syscall_table! {
    0 read => pass(SYS_read),
    1 write => emulate(fs::file_writes::write),
    2 open => emulate(fs::open::open),
    3 close => pass(SYS_close),
    4 stat => emulate(fs::stat::stat),
    5 fstat => emulate(fs::stat::fstat),
    6 lstat => emulate(fs::stat::lstat),
    7 poll => emulate(fs::poll::poll),
    8 lseek => pass(SYS_lseek),
    9 mmap => emulate(mm::mmap),
    10 mprotect => emulate(mm::mprotect),
    11 munmap => emulate(mm::munmap),
    12 brk => emulate(mm::brk),
    13 rt_sigaction => emulate(signal::rt_sigaction),
    14 rt_sigprocmask => emulate(signal::rt_sigprocmask), // the host thread's mask, but for the fault signals
    15 rt_sigreturn, // run by the runtime: it restores the whole CPU state
    16 ioctl => emulate(ioctl::ioctl),
    17 pread64 => pass(SYS_pread64),
    18 pwrite64 => emulate(fs::file_writes::pwrite64),
    19 readv => pass(SYS_readv), // struct iovec
    20 writev => emulate(fs::file_writes::writev), // struct iovec
    21 access => emulate(fs::path::access),
    22 pipe => emulate(fs::fd::pipe),
    23 select => emulate(fs::poll::select),
    24 sched_yield => pass(SYS_sched_yield),
    25 mremap => emulate(mm::mremap),
    26 msync => pass(SYS_msync),
    27 mincore => pass(SYS_mincore),
    28 madvise => emulate(mm::madvise), // MADV_* are generic on both
    29 shmget => pass(SYS_shmget),
    30 shmat => emulate(mm::shmat),
    31 shmctl => pass(SYS_shmctl), // shmid64_ds and ipc64_perm agree
    32 dup => pass(SYS_dup),
    33 dup2 => emulate(fs::fd::dup2),
    34 pause => emulate(process::pause),
    35 nanosleep => pass(SYS_nanosleep), // struct timespec
    36 getitimer => pass(SYS_getitimer), // struct itimerval
    37 alarm => emulate(time::alarm),
    38 setitimer => pass(SYS_setitimer), // struct itimerval
    39 getpid => pass(SYS_getpid),
    40 sendfile => pass(SYS_sendfile),
    41 socket => pass(SYS_socket), // SOCK_* and AF_* are generic
    42 connect => pass(SYS_connect), // struct sockaddr
    43 accept => pass(SYS_accept),
    44 sendto => pass(SYS_sendto),
    45 recvfrom => pass(SYS_recvfrom),
    46 sendmsg => pass(SYS_sendmsg), // struct msghdr, cmsghdr
    47 recvmsg => pass(SYS_recvmsg), // struct msghdr, cmsghdr
    48 shutdown => pass(SYS_shutdown),
    49 bind => pass(SYS_bind),
    50 listen => pass(SYS_listen),
    51 getsockname => pass(SYS_getsockname),
    52 getpeername => pass(SYS_getpeername),
    53 socketpair => pass(SYS_socketpair),
    54 setsockopt => pass(SYS_setsockopt), // SOL_SOCKET options: asm-generic/socket.h on both
    55 getsockopt => pass(SYS_getsockopt),
    56 clone => emulate(process::clone), // processes only: threads are ENOSYS
    57 fork => emulate(process::fork),
    58 vfork => emulate(process::vfork),
    59 execve => emulate(process::execve), // x86_64 programs re-enter Transit
    60 exit => exit(thread),
    61 wait4 => pass(SYS_wait4), // struct rusage
    62 kill => pass(SYS_kill), // signal numbers agree
    63 uname => emulate(process::uname),
    64 semget => pass(SYS_semget),
    65 semop => pass(SYS_semop), // struct sembuf
    66 semctl => emulate(ipc::semctl),
    67 shmdt => emulate(mm::shmdt),
    68 msgget => pass(SYS_msgget),
    69 msgsnd => pass(SYS_msgsnd),
    70 msgrcv => pass(SYS_msgrcv),
    71 msgctl => pass(SYS_msgctl), // msqid64_ds and ipc64_perm agree
    72 fcntl => emulate(fs::fd::fcntl),
    73 flock => pass(SYS_flock),
    74 fsync => pass(SYS_fsync),
    75 fdatasync => pass(SYS_fdatasync),
    76 truncate => pass_paths(SYS_truncate, follows(0)),
    77 ftruncate => pass(SYS_ftruncate),
    78 getdents => emulate(fs::dir::getdents),
    79 getcwd => emulate(fs::path::getcwd),
    80 chdir => pass_paths(SYS_chdir, follows(0)),
    81 fchdir => pass(SYS_fchdir),
    82 rename => emulate(fs::path::rename),
    83 mkdir => emulate(fs::path::mkdir),
    84 rmdir => emulate(fs::path::rmdir),
    85 creat => emulate(fs::open::creat),
    86 link => emulate(fs::path::link),
    87 unlink => emulate(fs::path::unlink),
    88 symlink => emulate(fs::path::symlink),
    89 readlink => emulate(fs::path::readlink),
    90 chmod => emulate(fs::path::chmod),
    91 fchmod => pass(SYS_fchmod),
    92 chown => emulate(fs::path::chown),
    93 fchown => pass(SYS_fchown),
    94 lchown => emulate(fs::path::lchown),
    95 umask => pass(SYS_umask),
    96 gettimeofday => pass(SYS_gettimeofday), // struct timeval, timezone
    97 getrlimit => emulate(process::getrlimit),
    98 getrusage => pass(SYS_getrusage), // struct rusage
    99 sysinfo => pass(SYS_sysinfo), // struct sysinfo
    100 times => pass(SYS_times), // struct tms
    101 ptrace,
    102 getuid => pass(SYS_getuid),
    103 syslog => pass(SYS_syslog),
    104 getgid => pass(SYS_getgid),
    105 setuid => pass(SYS_setuid),
    106 setgid => pass(SYS_setgid),
    107 geteuid => pass(SYS_geteuid),
    108 getegid => pass(SYS_getegid),
    109 setpgid => pass(SYS_setpgid),
    110 getppid => pass(SYS_getppid),
    111 getpgrp => emulate(process::getpgrp),
    112 setsid => pass(SYS_setsid),
    113 setreuid => pass(SYS_setreuid),
    114 setregid => pass(SYS_setregid),
    115 getgroups => pass(SYS_getgroups),
    116 setgroups => pass(SYS_setgroups),
    117 setresuid => pass(SYS_setresuid),
    118 getresuid => pass(SYS_getresuid),
    119 setresgid => pass(SYS_setresgid),
    120 getresgid => pass(SYS_getresgid),
    121 getpgid => pass(SYS_getpgid),
    122 setfsuid => pass(SYS_setfsuid),
    123 setfsgid => pass(SYS_setfsgid),
    124 getsid => pass(SYS_getsid),
    125 capget => pass(SYS_capget), // struct __user_cap_header/data
    126 capset => pass(SYS_capset),
    127 rt_sigpending => emulate(signal::rt_sigpending), // the kernel's and the runtime's
    128 rt_sigtimedwait => emulate(signal::rt_sigtimedwait), // the runtime's held signals first
    129 rt_sigqueueinfo => pass(SYS_rt_sigqueueinfo),
    130 rt_sigsuspend => pass(SYS_rt_sigsuspend),
    131 sigaltstack => emulate(signal::sigaltstack),
    132 utime => emulate(fs::path::utime),
    133 mknod => emulate(fs::path::mknod),
    134 uselib,
    135 personality => pass(SYS_personality),
    136 ustat,
    137 statfs => pass_paths(SYS_statfs, follows(0)), // struct statfs
    138 fstatfs => pass(SYS_fstatfs), // struct statfs
    139 sysfs,
    140 getpriority => pass(SYS_getpriority),
    141 setpriority => pass(SYS_setpriority),
    142 sched_setparam => pass(SYS_sched_setparam),
    143 sched_getparam => pass(SYS_sched_getparam),
    144 sched_setscheduler => pass(SYS_sched_setscheduler),
    145 sched_getscheduler => pass(SYS_sched_getscheduler),
    146 sched_get_priority_max => pass(SYS_sched_get_priority_max),
    147 sched_get_priority_min => pass(SYS_sched_get_priority_min),
    148 sched_rr_get_interval => pass(SYS_sched_rr_get_interval), // struct timespec
    149 mlock => pass(SYS_mlock),
    150 munlock => pass(SYS_munlock),
    151 mlockall => pass(SYS_mlockall),
    152 munlockall => pass(SYS_munlockall),
    153 vhangup => pass(SYS_vhangup),
    154 modify_ldt,
    155 pivot_root => pass(SYS_pivot_root),
    156 _sysctl,
    157 prctl => emulate(process::prctl),
    158 arch_prctl => emulate(process::arch_prctl),
    159 adjtimex => pass(SYS_adjtimex), // struct timex
    160 setrlimit => emulate(process::setrlimit),
    161 chroot => pass(SYS_chroot),
    162 sync => pass(SYS_sync),
    163 acct => pass(SYS_acct),
    164 settimeofday => pass(SYS_settimeofday),
    165 mount => pass(SYS_mount),
    166 umount2 => pass(SYS_umount2),
    167 swapon => pass(SYS_swapon),
    168 swapoff => pass(SYS_swapoff),
    169 reboot => pass(SYS_reboot),
    170 sethostname => pass(SYS_sethostname),
    171 setdomainname => pass(SYS_setdomainname),
    172 iopl,
    173 ioperm,
    174 create_module,
    175 init_module => pass(SYS_init_module),
    176 delete_module => pass(SYS_delete_module),
    177 get_kernel_syms,
    178 query_module,
    179 quotactl => pass(SYS_quotactl),
    180 nfsservctl,
    181 getpmsg,
    182 putpmsg,
    183 afs_syscall,
    184 tuxcall,
    185 security,
    186 gettid => pass(SYS_gettid),
    187 readahead => pass(SYS_readahead),
    188 setxattr => pass_paths(SYS_setxattr, follows(0)),
    189 lsetxattr => pass_paths(SYS_lsetxattr, no_follow(0)),
    190 fsetxattr => pass(SYS_fsetxattr),
    191 getxattr => pass_paths(SYS_getxattr, follows(0)),
    192 lgetxattr => pass_paths(SYS_lgetxattr, no_follow(0)),
    193 fgetxattr => pass(SYS_fgetxattr),
    194 listxattr => pass_paths(SYS_listxattr, follows(0)),
    195 llistxattr => pass_paths(SYS_llistxattr, no_follow(0)),
    196 flistxattr => pass(SYS_flistxattr),
    197 removexattr => pass_paths(SYS_removexattr, follows(0)),
    198 lremovexattr => pass_paths(SYS_lremovexattr, no_follow(0)),
    199 fremovexattr => pass(SYS_fremovexattr),
    200 tkill => pass(SYS_tkill),
    201 time => emulate(time::time),
    202 futex => pass(SYS_futex), // u32 words and struct timespec
    203 sched_setaffinity => pass(SYS_sched_setaffinity),
    204 sched_getaffinity => pass(SYS_sched_getaffinity),
    205 set_thread_area,
    206 io_setup => pass(SYS_io_setup),
    207 io_destroy => pass(SYS_io_destroy),
    208 io_getevents => pass(SYS_io_getevents), // struct io_event
    209 io_submit => pass(SYS_io_submit), // struct iocb (same on little-endian LP64)
    210 io_cancel => pass(SYS_io_cancel),
    211 get_thread_area,
    212 lookup_dcookie,
    213 epoll_create => emulate(fs::epoll::epoll_create),
    214 epoll_ctl_old,
    215 epoll_wait_old,
    216 remap_file_pages => pass(SYS_remap_file_pages),
    217 getdents64 => pass(SYS_getdents64), // struct linux_dirent64
    218 set_tid_address => emulate(process::set_tid_address), // the runtime clears it at thread exit
    219 restart_syscall,
    220 semtimedop => pass(SYS_semtimedop),
    221 fadvise64 => pass(SYS_fadvise64), // same argument order, POSIX_FADV_* generic
    222 timer_create => pass(SYS_timer_create), // struct sigevent
    223 timer_settime => pass(SYS_timer_settime), // struct itimerspec
    224 timer_gettime => pass(SYS_timer_gettime),
    225 timer_getoverrun => pass(SYS_timer_getoverrun),
    226 timer_delete => pass(SYS_timer_delete),
    227 clock_settime => pass(SYS_clock_settime),
    228 clock_gettime => pass(SYS_clock_gettime), // struct timespec
    229 clock_getres => pass(SYS_clock_getres),
    230 clock_nanosleep => pass(SYS_clock_nanosleep),
    231 exit_group => exit(group),
    232 epoll_wait => emulate(fs::epoll::epoll_wait),
    233 epoll_ctl => emulate(fs::epoll::epoll_ctl),
    234 tgkill => pass(SYS_tgkill),
    235 utimes => emulate(fs::path::utimes),
    236 vserver,
    237 mbind => pass(SYS_mbind),
    238 set_mempolicy => pass(SYS_set_mempolicy),
    239 get_mempolicy => pass(SYS_get_mempolicy),
    240 mq_open => pass(SYS_mq_open), // struct mq_attr
    241 mq_unlink => pass(SYS_mq_unlink),
    242 mq_timedsend => pass(SYS_mq_timedsend),
    243 mq_timedreceive => pass(SYS_mq_timedreceive),
    244 mq_notify => pass(SYS_mq_notify), // struct sigevent
    245 mq_getsetattr => pass(SYS_mq_getsetattr),
    246 kexec_load,
    247 waitid => pass(SYS_waitid), // siginfo_t, struct rusage
    248 add_key => pass(SYS_add_key),
    249 request_key => pass(SYS_request_key),
    250 keyctl => pass(SYS_keyctl),
    251 ioprio_set => pass(SYS_ioprio_set),
    252 ioprio_get => pass(SYS_ioprio_get),
    253 inotify_init => emulate(fs::fd::inotify_init),
    254 inotify_add_watch => pass_paths(SYS_inotify_add_watch, follows(1)),
    255 inotify_rm_watch => pass(SYS_inotify_rm_watch),
    256 migrate_pages => pass(SYS_migrate_pages),
    257 openat => emulate(fs::open::openat),
    258 mkdirat => pass_paths(SYS_mkdirat, no_follow(1)),
    259 mknodat => pass_paths(SYS_mknodat, no_follow(1)),
    260 fchownat => pass_paths(SYS_fchownat, at(1, 4)),
    261 futimesat => emulate(fs::path::futimesat),
    262 newfstatat => emulate(fs::stat::newfstatat),
    263 unlinkat => pass_paths(SYS_unlinkat, no_follow(1)),
    264 renameat => emulate(fs::path::renameat),
    265 linkat => pass_paths(SYS_linkat, at_follow(1, 4), no_follow(3)),
    266 symlinkat => pass_paths(SYS_symlinkat, no_follow(2)), // the target is text, kept
    267 readlinkat => emulate(fs::path::readlinkat),
    268 fchmodat => pass_paths(SYS_fchmodat, follows(1)),
    269 faccessat => pass_paths(SYS_faccessat, follows(1)),
    270 pselect6 => pass(SYS_pselect6), // fd_set, timespec, {sigset*, size}
    271 ppoll => pass(SYS_ppoll), // struct pollfd, timespec
    272 unshare => pass(SYS_unshare),
    273 set_robust_list => pass(SYS_set_robust_list), // struct robust_list_head
    274 get_robust_list => pass(SYS_get_robust_list),
    275 splice => pass(SYS_splice),
    276 tee => pass(SYS_tee),
    277 sync_file_range => pass(SYS_sync_file_range),
    278 vmsplice => pass(SYS_vmsplice), // struct iovec
    279 move_pages => pass(SYS_move_pages),
    280 utimensat => pass_paths(SYS_utimensat, at(1, 3)), // struct timespec[2]
    281 epoll_pwait => emulate(fs::epoll::epoll_pwait),
    282 signalfd => emulate(fs::fd::signalfd),
    283 timerfd_create => pass(SYS_timerfd_create),
    284 eventfd => emulate(fs::fd::eventfd),
    285 fallocate => pass(SYS_fallocate),
    286 timerfd_settime => pass(SYS_timerfd_settime), // struct itimerspec
    287 timerfd_gettime => pass(SYS_timerfd_gettime),
    288 accept4 => pass(SYS_accept4), // SOCK_CLOEXEC/NONBLOCK agree
    289 signalfd4 => pass(SYS_signalfd4), // struct signalfd_siginfo
    290 eventfd2 => pass(SYS_eventfd2),
    291 epoll_create1 => pass(SYS_epoll_create1),
    292 dup3 => pass(SYS_dup3), // only O_CLOEXEC, which agrees
    293 pipe2 => emulate(fs::fd::pipe2),
    294 inotify_init1 => pass(SYS_inotify_init1), // IN_CLOEXEC/NONBLOCK agree
    295 preadv => pass(SYS_preadv),
    296 pwritev => emulate(fs::file_writes::pwritev),
    297 rt_tgsigqueueinfo => pass(SYS_rt_tgsigqueueinfo), // siginfo_t agrees
    298 perf_event_open,
    299 recvmmsg => pass(SYS_recvmmsg), // struct mmsghdr
    300 fanotify_init,
    301 fanotify_mark,
    302 prlimit64 => pass(SYS_prlimit64), // struct rlimit64, RLIMIT_* generic
    303 name_to_handle_at => pass_paths(SYS_name_to_handle_at, at_follow(1, 4)),
    304 open_by_handle_at => emulate(fs::open::open_by_handle_at),
    305 clock_adjtime => pass(SYS_clock_adjtime), // struct timex
    306 syncfs => pass(SYS_syncfs),
    307 sendmmsg => pass(SYS_sendmmsg), // struct mmsghdr
    308 setns => pass(SYS_setns),
    309 getcpu => pass(SYS_getcpu),
    310 process_vm_readv => pass(SYS_process_vm_readv),
    311 process_vm_writev => pass(SYS_process_vm_writev),
    312 kcmp => pass(SYS_kcmp),
    313 finit_module => pass(SYS_finit_module),
    314 sched_setattr => pass(SYS_sched_setattr), // struct sched_attr
    315 sched_getattr => pass(SYS_sched_getattr),
    316 renameat2 => pass_paths(SYS_renameat2, no_follow(1), no_follow(3)),
    317 seccomp => emulate(seccomp::seccomp),
    318 getrandom => pass(SYS_getrandom),
    319 memfd_create => pass(SYS_memfd_create),
    320 kexec_file_load,
    321 bpf,
    322 execveat => emulate(process::execveat),
    323 userfaultfd => pass(SYS_userfaultfd),
    324 membarrier => pass(SYS_membarrier),
    325 mlock2 => pass(SYS_mlock2),
    326 copy_file_range => pass(SYS_copy_file_range),
    327 preadv2 => pass(SYS_preadv2),
    328 pwritev2 => emulate(fs::file_writes::pwritev2),
    329 pkey_mprotect, // x86 protection keys have no aarch64 equivalent
    330 pkey_alloc,
    331 pkey_free,
    332 statx => pass_paths(SYS_statx, at(1, 2)), // struct statx
    333 io_pgetevents, // libc has no host number for it yet; rarely used
    334 rseq => emulate(process::rseq),
    424 pidfd_send_signal => pass(SYS_pidfd_send_signal), // siginfo_t
    425 io_uring_setup,
    426 io_uring_enter,
    427 io_uring_register,
    428 open_tree => pass(SYS_open_tree),
    429 move_mount => pass(SYS_move_mount),
    430 fsopen => pass(SYS_fsopen),
    431 fsconfig => pass(SYS_fsconfig),
    432 fsmount => pass(SYS_fsmount),
    433 fspick => pass(SYS_fspick),
    434 pidfd_open => pass(SYS_pidfd_open),
    435 clone3 => emulate(process::clone3), // processes only: threads are ENOSYS
    436 close_range => pass(SYS_close_range),
    437 openat2 => emulate(fs::open::openat2),
    438 pidfd_getfd => pass(SYS_pidfd_getfd),
    439 faccessat2 => pass_paths(SYS_faccessat2, at(1, 3)),
    440 process_madvise => pass(SYS_process_madvise),
    441 epoll_pwait2 => emulate(fs::epoll::epoll_pwait2),
    442 mount_setattr => pass(SYS_mount_setattr),
    443 quotactl_fd => pass(SYS_quotactl_fd),
    444 landlock_create_ruleset, // would also restrict Transit itself
    445 landlock_add_rule,
    446 landlock_restrict_self,
    447 memfd_secret => pass_same_nr(447),
    448 process_mrelease => pass(SYS_process_mrelease),
    449 futex_waitv => pass(SYS_futex_waitv), // struct futex_waitv
    450 set_mempolicy_home_node => pass(SYS_set_mempolicy_home_node),
    451 cachestat => pass_same_nr(451),
    452 fchmodat2 => pass_paths_same_nr(452, at(1, 3)),
    453 map_shadow_stack, // x86 CET
    454 futex_wake => pass_same_nr(454),
    455 futex_wait => pass_same_nr(455),
    456 futex_requeue => pass_same_nr(456),
    457 statmount => pass_same_nr(457),
    458 listmount => pass_same_nr(458),
    459 lsm_get_self_attr => pass_same_nr(459),
    460 lsm_set_self_attr => pass_same_nr(460),
    461 lsm_list_modules => pass_same_nr(461),
    462 mseal => emulate(mm::mseal),
}

/// One past the highest x86_64 syscall number in the table.
const INDEX_LEN: usize = 463;
const NONE: u16 = u16::MAX;

/// `TABLE` position by syscall number, built at compile time.
static INDEX: [u16; INDEX_LEN] = {
    let mut index = [NONE; INDEX_LEN];
    let mut i = 0;
    while i < TABLE.len() {
        index[TABLE[i].nr.0 as usize] = i as u16;
        i += 1;
    }
    index
};

/// The table entry for `nr`, if x86_64 defines that number.
pub fn lookup(nr: X86Nr) -> Option<&'static Entry> {
    let &pos = INDEX.get(usize::try_from(nr.0).ok()?)?;
    (pos != NONE).then(|| &TABLE[pos as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn covers_every_x86_64_number_once_in_order() {
        let expected: Vec<u64> = (0..=334).chain(424..=462).collect();
        let actual: Vec<u64> = TABLE.iter().map(|e| e.nr.0).collect();
        assert_eq!(actual, expected);
        for &n in &expected {
            assert_eq!(lookup(X86Nr(n)).unwrap().nr, X86Nr(n));
        }
        for n in [335, 423, 463, 1 << 40, u64::MAX] {
            assert!(lookup(X86Nr(n)).is_none(), "{n}");
        }
    }

    /// From 424 on, syscall numbers are shared by all architectures, so a
    /// forwarded syscall there must keep its number on the host.
    #[test]
    fn unified_numbers_forward_to_themselves() {
        for e in TABLE.iter().filter(|e| e.nr.0 >= 424) {
            if let Handler::Pass(host) | Handler::PassPaths(host, _) = e.handler {
                assert_eq!(host as u64, e.nr.0, "{}", e.name);
            }
        }
    }

    /// Every x86_64 syscall taking a path (a `const char __user *filename`
    /// or `pathname` in the kernel) rewrites it for the root filesystem,
    /// in a handler or through `pass_paths`, unless listed in `HOST_PATHS`.
    #[test]
    fn path_syscalls_look_in_the_root_filesystem() {
        #[rustfmt::skip]
        const PATH_SYSCALLS: &[&str] = &[
            "open", "stat", "lstat", "access", "truncate", "chdir", "rename", "mkdir", "rmdir",
            "creat", "link", "unlink", "symlink", "readlink", "chmod", "chown", "lchown", "utime",
            "mknod", "statfs", "setxattr", "lsetxattr", "getxattr", "lgetxattr", "listxattr",
            "llistxattr", "removexattr", "lremovexattr", "inotify_add_watch", "openat", "mkdirat",
            "mknodat", "fchownat", "futimesat", "newfstatat", "unlinkat", "renameat", "linkat",
            "symlinkat", "readlinkat", "fchmodat", "faccessat", "utimes", "utimensat",
            "name_to_handle_at", "renameat2", "statx", "openat2", "faccessat2", "fchmodat2",
        ];
        // They act on the host's mounts, devices and accounting, or take no
        // file path (message queue names).
        #[rustfmt::skip]
        const HOST_PATHS: &[&str] = &[
            "mount", "umount2", "pivot_root", "chroot", "acct", "swapon", "swapoff", "quotactl",
            "open_tree", "move_mount", "fspick", "mq_open", "mq_unlink",
        ];
        for name in PATH_SYSCALLS {
            let e = TABLE.iter().find(|e| e.name == *name).unwrap();
            assert!(
                matches!(e.handler, Handler::PassPaths(..) | Handler::Emulate(_)),
                "{name} passes its path unchanged"
            );
        }
        for name in HOST_PATHS {
            let e = TABLE.iter().find(|e| e.name == *name).unwrap();
            assert!(!matches!(e.handler, Handler::PassPaths(..)), "{name}");
        }
    }

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for e in TABLE {
            assert!(seen.insert(e.name), "duplicate name {}", e.name);
        }
    }

    /// The names must be the kernel's: compare with the x86_64 <asm/unistd_64.h>.
    #[test]
    fn names_match_x86_64_headers() {
        let Ok(header) = std::fs::read_to_string("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
        else {
            eprintln!("skipped: no x86_64 kernel headers");
            return;
        };
        for line in header.lines() {
            let mut words = line.split_whitespace();
            if let (Some("#define"), Some(name), Some(nr)) =
                (words.next(), words.next(), words.next())
            {
                let (Some(name), Ok(nr)) = (name.strip_prefix("__NR_"), nr.parse::<u64>()) else {
                    continue;
                };
                assert_eq!(lookup(X86Nr(nr)).map(|e| e.name), Some(name), "number {nr}");
            }
        }
    }
}
