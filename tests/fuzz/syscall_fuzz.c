/* A guest that calls random x86_64 syscalls with random arguments
 * (`cargo xtask fuzz-syscalls`, tests/harness/fuzz/syscalls.rs).
 *
 *   syscall_fuzz SEED CALLS [BATCH]
 *
 * With BATCH, only that batch runs (its calls counted as if the batches
 * before it had run), and each call is printed on stderr before it is made:
 * the reproducer for a failure in that batch.
 * The parent forks one child per batch of BATCH calls, so that a fatal
 * signal (the guest's right) ends only that batch, and records how each
 * batch ended; it prints a summary and exits 0. Transit running it must
 * exit 0 too and never print a panic or an internal fault.
 *
 * Safe for the host, even as root: the calls run four directories deep in
 * the current directory; paths are fixed names or random names without a
 * '/' (the random bytes have none either); signals go only to the batch's
 * own process group; calls that change the machine (mount, reboot, clock,
 * hostname, modules, swap, keys, ptrace, bpf, io_uring, fanotify, exec...)
 * are left out, and others have the argument that could harm sanitised
 * (ioctls that freeze or flag file systems or configure networks, device
 * nodes, populating huge mappings, hardware-poison advice, core and file
 * size limits). Networks and System V IPC are used only where the program
 * could move into namespaces of its own. Nothing can block for long: an
 * interval timer interrupts blocking calls, and the parent kills a batch
 * that outlives its deadline or stops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define BATCH_DEADLINE_MS 3000
#define PAGE 4096UL
#define ARENA_PAGES 16
#define ARENA_SIZE (ARENA_PAGES * PAGE)
/* The last arena page holds the path arguments, one slot per argument. */
#define NAMES_OFFSET ((ARENA_PAGES - 1) * PAGE)
#define NAME_SLOT 512
/* Populating or locking more than this would cost the host real memory. */
#define POPULATE_LIMIT (16UL << 20)

/* Argument kinds, one letter per argument. */
enum {
    K_NUM = 'n',     /* any number: small, edge, pointer-like */
    K_FD = 'f',      /* a descriptor, never 2 (Transit's stderr is the guest's) */
    K_DIRFD = 'd',   /* AT_FDCWD mostly, else a descriptor */
    K_PATH = 'p',    /* a path: fixed or random name, unterminated, bad pointer */
    K_BUF = 'b',     /* a buffer pointer: arena, guard pages, unmapped, kernel */
    K_SIZE = 's',    /* a length */
    K_FLAGS = 'x',   /* flag bits */
    K_ADDR = 'a',    /* an address for the memory calls */
    K_PID = 'i',     /* this batch only: itself, its group, or nobody */
    K_TID = 'T',     /* this thread, or nobody */
    K_SIG = 'g',     /* a signal number */
    K_UID = 'u',     /* a user or group id */
    K_SIGSETSIZE = 'z',
    K_CMD = 'c',     /* a small command number (prctl, fcntl, arch_prctl...) */
};

/* Entry flags. */
#define EXCLUDED 1  /* never called: changes the host or its other processes */
#define ROOT_EXCLUDED 2 /* not as root (set*id, capset) */
#define MEMORY 4    /* may change the arena's mapping: restore it after */
#define FORKS 8     /* may create a process: the child exits at once */
#define RARE 16     /* ends the batch (exit) or its thread of control */
#define NEEDS_ISOLATION 32 /* System V / POSIX IPC: only in an IPC namespace of our own */

struct entry {
    int nr;
    const char *name;
    const char *kinds;
    int flags;
};

static const struct entry TABLE[] = {
    {0, "read", "fbs", 0}, {1, "write", "fbs", 0}, {2, "open", "pxn", 0}, {3, "close", "f", 0},
    {4, "stat", "pb", 0}, {5, "fstat", "fb", 0}, {6, "lstat", "pb", 0}, {7, "poll", "bsn", 0},
    {8, "lseek", "fnn", 0}, {9, "mmap", "asxxfn", MEMORY}, {10, "mprotect", "asx", MEMORY},
    {11, "munmap", "as", MEMORY}, {12, "brk", "a", MEMORY}, {13, "rt_sigaction", "gbbz", 0},
    {14, "rt_sigprocmask", "nbbz", 0}, {15, "rt_sigreturn", "", RARE}, {16, "ioctl", "fxb", 0},
    {17, "pread64", "fbsn", 0}, {18, "pwrite64", "fbsn", 0}, {19, "readv", "fbs", 0},
    {20, "writev", "fbs", 0}, {21, "access", "px", 0}, {22, "pipe", "b", 0},
    {23, "select", "sbbbb", 0}, {24, "sched_yield", "", 0}, {25, "mremap", "assxa", MEMORY},
    {26, "msync", "asx", 0}, {27, "mincore", "asb", 0}, {28, "madvise", "asn", MEMORY},
    {29, "shmget", "nsx", NEEDS_ISOLATION}, {30, "shmat", "nax", NEEDS_ISOLATION | MEMORY},
    {31, "shmctl", "ncb", NEEDS_ISOLATION}, {32, "dup", "f", 0}, {33, "dup2", "ff", 0},
    {34, "pause", "", 0}, {35, "nanosleep", "bb", 0}, {36, "getitimer", "nb", 0},
    {37, "alarm", "n", EXCLUDED /* would replace the interval timer */}, {38, "setitimer", "nbb", 0}, {39, "getpid", "", 0},
    {40, "sendfile", "ffbs", 0}, {41, "socket", "nnn", 0}, {42, "connect", "fbs", 0},
    {43, "accept", "fbb", 0}, {44, "sendto", "fbsxbs", 0}, {45, "recvfrom", "fbsxbb", 0},
    {46, "sendmsg", "fbx", 0}, {47, "recvmsg", "fbx", 0}, {48, "shutdown", "fn", 0},
    {49, "bind", "fbs", 0}, {50, "listen", "fn", 0}, {51, "getsockname", "fbb", 0},
    {52, "getpeername", "fbb", 0}, {53, "socketpair", "nnnb", 0}, {54, "setsockopt", "fnnbs", 0},
    {55, "getsockopt", "fnnbb", 0}, {56, "clone", "xaabn", FORKS}, {57, "fork", "", FORKS},
    {58, "vfork", "", FORKS}, {59, "execve", "pbb", EXCLUDED}, {60, "exit", "n", RARE},
    {61, "wait4", "nbxb", 0}, {62, "kill", "ig", 0}, {63, "uname", "b", 0},
    {64, "semget", "nnx", NEEDS_ISOLATION}, {65, "semop", "nbs", NEEDS_ISOLATION},
    {66, "semctl", "nncb", NEEDS_ISOLATION}, {67, "shmdt", "a", NEEDS_ISOLATION | MEMORY},
    {68, "msgget", "nx", NEEDS_ISOLATION}, {69, "msgsnd", "nbsx", NEEDS_ISOLATION},
    {70, "msgrcv", "nbsnx", NEEDS_ISOLATION}, {71, "msgctl", "ncb", NEEDS_ISOLATION},
    {72, "fcntl", "fcn", 0}, {73, "flock", "fx", 0}, {74, "fsync", "f", 0},
    {75, "fdatasync", "f", 0}, {76, "truncate", "pn", 0}, {77, "ftruncate", "fn", 0},
    {78, "getdents", "fbs", 0}, {79, "getcwd", "bs", 0}, {80, "chdir", "p", EXCLUDED},
    {81, "fchdir", "f", EXCLUDED}, {82, "rename", "pp", 0}, {83, "mkdir", "pn", 0},
    {84, "rmdir", "p", 0}, {85, "creat", "pn", 0}, {86, "link", "pp", 0}, {87, "unlink", "p", 0},
    {88, "symlink", "pp", 0}, {89, "readlink", "pbs", 0}, {90, "chmod", "pn", 0},
    {91, "fchmod", "fn", 0}, {92, "chown", "puu", 0}, {93, "fchown", "fuu", 0},
    {94, "lchown", "puu", 0}, {95, "umask", "n", 0}, {96, "gettimeofday", "bb", 0},
    {97, "getrlimit", "nb", 0}, {98, "getrusage", "nb", 0}, {99, "sysinfo", "b", 0},
    {100, "times", "b", 0}, {101, "ptrace", "nibb", EXCLUDED}, {102, "getuid", "", 0},
    {103, "syslog", "nbs", EXCLUDED}, {104, "getgid", "", 0}, {105, "setuid", "u", ROOT_EXCLUDED},
    {106, "setgid", "u", ROOT_EXCLUDED}, {107, "geteuid", "", 0}, {108, "getegid", "", 0},
    {109, "setpgid", "ii", 0}, {110, "getppid", "", 0}, {111, "getpgrp", "", 0},
    {112, "setsid", "", 0}, {113, "setreuid", "uu", ROOT_EXCLUDED}, {114, "setregid", "uu", ROOT_EXCLUDED},
    {115, "getgroups", "sb", 0}, {116, "setgroups", "sb", ROOT_EXCLUDED},
    {117, "setresuid", "uuu", ROOT_EXCLUDED}, {118, "getresuid", "bbb", 0},
    {119, "setresgid", "uuu", ROOT_EXCLUDED}, {120, "getresgid", "bbb", 0}, {121, "getpgid", "i", 0},
    {122, "setfsuid", "u", ROOT_EXCLUDED}, {123, "setfsgid", "u", ROOT_EXCLUDED}, {124, "getsid", "i", 0},
    {125, "capget", "bb", 0}, {126, "capset", "bb", ROOT_EXCLUDED}, {127, "rt_sigpending", "bz", 0},
    {128, "rt_sigtimedwait", "bbbz", 0}, {129, "rt_sigqueueinfo", "igb", 0},
    {130, "rt_sigsuspend", "bz", 0}, {131, "sigaltstack", "bb", 0}, {132, "utime", "pb", 0},
    {133, "mknod", "pnn", 0}, {134, "uselib", "p", EXCLUDED}, {135, "personality", "x", 0},
    {136, "ustat", "nb", 0}, {137, "statfs", "pb", 0}, {138, "fstatfs", "fb", 0},
    {139, "sysfs", "nnb", 0}, {140, "getpriority", "nn", 0}, {141, "setpriority", "nnn", EXCLUDED},
    {142, "sched_setparam", "ib", EXCLUDED}, {143, "sched_getparam", "ib", 0},
    {144, "sched_setscheduler", "inb", EXCLUDED}, {145, "sched_getscheduler", "i", 0},
    {146, "sched_get_priority_max", "n", 0}, {147, "sched_get_priority_min", "n", 0},
    {148, "sched_rr_get_interval", "ib", 0}, {149, "mlock", "as", 0}, {150, "munlock", "as", 0},
    {151, "mlockall", "x", EXCLUDED}, {152, "munlockall", "", 0}, {153, "vhangup", "", EXCLUDED},
    {154, "modify_ldt", "nbs", 0}, {155, "pivot_root", "pp", EXCLUDED}, {156, "_sysctl", "b", 0},
    {157, "prctl", "cnnnn", 0}, {158, "arch_prctl", "cb", 0}, {159, "adjtimex", "b", EXCLUDED},
    {160, "setrlimit", "nb", 0}, {161, "chroot", "p", EXCLUDED}, {162, "sync", "", EXCLUDED},
    {163, "acct", "p", EXCLUDED}, {164, "settimeofday", "bb", EXCLUDED}, {165, "mount", "ppnxb", EXCLUDED},
    {166, "umount2", "px", EXCLUDED}, {167, "swapon", "px", EXCLUDED}, {168, "swapoff", "p", EXCLUDED},
    {169, "reboot", "nnnb", EXCLUDED}, {170, "sethostname", "bs", EXCLUDED},
    {171, "setdomainname", "bs", EXCLUDED}, {172, "iopl", "n", EXCLUDED}, {173, "ioperm", "nnn", EXCLUDED},
    {174, "create_module", "ps", EXCLUDED}, {175, "init_module", "bsp", EXCLUDED},
    {176, "delete_module", "px", EXCLUDED}, {177, "get_kernel_syms", "b", EXCLUDED},
    {178, "query_module", "pnbsb", EXCLUDED}, {179, "quotactl", "npnb", EXCLUDED},
    {180, "nfsservctl", "nbb", EXCLUDED}, {181, "getpmsg", "nnnnn", 0}, {182, "putpmsg", "nnnnn", 0},
    {183, "afs_syscall", "nnnnn", 0}, {184, "tuxcall", "nnnnn", 0}, {185, "security", "nnnnn", 0},
    {186, "gettid", "", 0}, {187, "readahead", "fns", 0}, {188, "setxattr", "ppbsx", 0},
    {189, "lsetxattr", "ppbsx", 0}, {190, "fsetxattr", "fpbsx", 0}, {191, "getxattr", "ppbs", 0},
    {192, "lgetxattr", "ppbs", 0}, {193, "fgetxattr", "fpbs", 0}, {194, "listxattr", "pbs", 0},
    {195, "llistxattr", "pbs", 0}, {196, "flistxattr", "fbs", 0}, {197, "removexattr", "pp", 0},
    {198, "lremovexattr", "pp", 0}, {199, "fremovexattr", "fp", 0}, {200, "tkill", "Tg", 0},
    {201, "time", "b", 0}, {202, "futex", "bcnbbn", 0}, {203, "sched_setaffinity", "isb", 0},
    {204, "sched_getaffinity", "isb", 0}, {205, "set_thread_area", "b", 0}, {206, "io_setup", "nb", 0},
    {207, "io_destroy", "n", 0}, {208, "io_getevents", "nnnbb", 0}, {209, "io_submit", "nnb", 0},
    {210, "io_cancel", "nbb", 0}, {211, "get_thread_area", "b", 0}, {212, "lookup_dcookie", "nbs", EXCLUDED},
    {213, "epoll_create", "n", 0}, {214, "epoll_ctl_old", "nnnn", 0}, {215, "epoll_wait_old", "nnnn", 0},
    {216, "remap_file_pages", "asnnx", MEMORY}, {217, "getdents64", "fbs", 0}, {218, "set_tid_address", "b", 0},
    {219, "restart_syscall", "", 0}, {220, "semtimedop", "nbsb", NEEDS_ISOLATION}, {221, "fadvise64", "fnnn", 0},
    {222, "timer_create", "nbb", 0}, {223, "timer_settime", "nxbb", 0}, {224, "timer_gettime", "nb", 0},
    {225, "timer_getoverrun", "n", 0}, {226, "timer_delete", "n", 0}, {227, "clock_settime", "nb", EXCLUDED},
    {228, "clock_gettime", "nb", 0}, {229, "clock_getres", "nb", 0}, {230, "clock_nanosleep", "nxbb", 0},
    {231, "exit_group", "n", RARE}, {232, "epoll_wait", "fbnn", 0}, {233, "epoll_ctl", "fnfb", 0},
    {234, "tgkill", "iTg", 0}, {235, "utimes", "pb", 0}, {236, "vserver", "nnnnn", 0},
    {237, "mbind", "asnbnx", 0}, {238, "set_mempolicy", "nbn", 0}, {239, "get_mempolicy", "bbnax", 0},
    {240, "mq_open", "pxnb", NEEDS_ISOLATION}, {241, "mq_unlink", "p", NEEDS_ISOLATION},
    {242, "mq_timedsend", "fbsnb", 0}, {243, "mq_timedreceive", "fbsbb", 0}, {244, "mq_notify", "fb", 0},
    {245, "mq_getsetattr", "fbb", 0}, {246, "kexec_load", "nnbx", EXCLUDED}, {247, "waitid", "nnbxb", 0},
    {248, "add_key", "ppbsn", EXCLUDED}, {249, "request_key", "pppn", EXCLUDED}, {250, "keyctl", "nnnnn", EXCLUDED},
    {251, "ioprio_set", "nnn", EXCLUDED}, {252, "ioprio_get", "nn", 0}, {253, "inotify_init", "", 0},
    {254, "inotify_add_watch", "fpx", 0}, {255, "inotify_rm_watch", "fn", 0}, {256, "migrate_pages", "isbb", 0},
    {257, "openat", "dpxn", 0}, {258, "mkdirat", "dpn", 0}, {259, "mknodat", "dpnn", 0},
    {260, "fchownat", "dpuux", 0}, {261, "futimesat", "dpb", 0}, {262, "newfstatat", "dpbx", 0},
    {263, "unlinkat", "dpx", 0}, {264, "renameat", "dpdp", 0}, {265, "linkat", "dpdpx", 0},
    {266, "symlinkat", "pdp", 0}, {267, "readlinkat", "dpbs", 0}, {268, "fchmodat", "dpnx", 0},
    {269, "faccessat", "dpx", 0}, {270, "pselect6", "sbbbbb", 0}, {271, "ppoll", "bsbbz", 0},
    {272, "unshare", "x", 0}, {273, "set_robust_list", "bs", 0}, {274, "get_robust_list", "ibb", 0},
    {275, "splice", "fbfbsx", 0}, {276, "tee", "ffsx", 0}, {277, "sync_file_range", "fnnx", 0},
    {278, "vmsplice", "fbsx", 0}, {279, "move_pages", "isbbbx", 0}, {280, "utimensat", "dpbx", 0},
    {281, "epoll_pwait", "fbnnbz", 0}, {282, "signalfd", "fbz", 0}, {283, "timerfd_create", "nx", 0},
    {284, "eventfd", "n", 0}, {285, "fallocate", "fxnn", 0}, {286, "timerfd_settime", "fxbb", 0},
    {287, "timerfd_gettime", "fb", 0}, {288, "accept4", "fbbx", 0}, {289, "signalfd4", "fbzx", 0},
    {290, "eventfd2", "nx", 0}, {291, "epoll_create1", "x", 0}, {292, "dup3", "ffx", 0},
    {293, "pipe2", "bx", 0}, {294, "inotify_init1", "x", 0}, {295, "preadv", "fbsnn", 0},
    {296, "pwritev", "fbsnn", 0}, {297, "rt_tgsigqueueinfo", "iTgb", 0}, {298, "perf_event_open", "binfx", EXCLUDED},
    {299, "recvmmsg", "fbsxb", 0}, {300, "fanotify_init", "xx", EXCLUDED}, {301, "fanotify_mark", "fxndp", EXCLUDED},
    {302, "prlimit64", "inbb", 0}, {303, "name_to_handle_at", "dpbbx", EXCLUDED},
    {304, "open_by_handle_at", "fbx", EXCLUDED}, {305, "clock_adjtime", "nb", EXCLUDED}, {306, "syncfs", "f", 0},
    {307, "sendmmsg", "fbsx", 0}, {308, "setns", "fx", 0}, {309, "getcpu", "bbb", 0},
    {310, "process_vm_readv", "ibsbsx", 0}, {311, "process_vm_writev", "ibsbsx", 0}, {312, "kcmp", "iinnn", 0},
    {313, "finit_module", "fpx", EXCLUDED}, {314, "sched_setattr", "ibx", EXCLUDED}, {315, "sched_getattr", "ibsx", 0},
    {316, "renameat2", "dpdpx", 0}, {317, "seccomp", "nxb", 0}, {318, "getrandom", "bsx", 0},
    {319, "memfd_create", "px", 0}, {320, "kexec_file_load", "ffspx", EXCLUDED}, {321, "bpf", "nbs", EXCLUDED},
    {322, "execveat", "dpbbx", EXCLUDED}, {323, "userfaultfd", "x", 0}, {324, "membarrier", "nxn", 0},
    {325, "mlock2", "asx", 0}, {326, "copy_file_range", "fbfbsx", 0}, {327, "preadv2", "fbsnnx", 0},
    {328, "pwritev2", "fbsnnx", 0}, {329, "pkey_mprotect", "asxn", MEMORY}, {330, "pkey_alloc", "xn", 0},
    {331, "pkey_free", "n", 0}, {332, "statx", "dpxxb", 0}, {333, "io_pgetevents", "nnnbbb", 0},
    {334, "rseq", "bsxn", 0}, {424, "pidfd_send_signal", "fgbx", 0}, {425, "io_uring_setup", "nb", EXCLUDED},
    {426, "io_uring_enter", "fnnxbs", EXCLUDED}, {427, "io_uring_register", "fnbn", EXCLUDED},
    {428, "open_tree", "dpx", EXCLUDED}, {429, "move_mount", "dpdpx", EXCLUDED}, {430, "fsopen", "px", EXCLUDED},
    {431, "fsconfig", "fnppn", EXCLUDED}, {432, "fsmount", "fxx", EXCLUDED}, {433, "fspick", "dpx", EXCLUDED},
    {434, "pidfd_open", "ix", 0}, {435, "clone3", "bs", FORKS}, {436, "close_range", "ffx", 0},
    {437, "openat2", "dpbs", 0}, {438, "pidfd_getfd", "ffx", 0}, {439, "faccessat2", "dpxx", 0},
    {440, "process_madvise", "fbsnx", 0}, {441, "epoll_pwait2", "fbnbbz", 0},
    {442, "mount_setattr", "dpxbs", EXCLUDED}, {443, "quotactl_fd", "fnnb", EXCLUDED},
    {444, "landlock_create_ruleset", "bsx", 0}, {445, "landlock_add_rule", "fnbx", 0},
    {446, "landlock_restrict_self", "fx", 0}, {447, "memfd_secret", "x", 0}, {448, "process_mrelease", "fx", 0},
    {449, "futex_waitv", "bnxbn", 0}, {450, "set_mempolicy_home_node", "asnx", 0}, {451, "cachestat", "fbbx", 0},
    {452, "fchmodat2", "dpnx", 0}, {453, "map_shadow_stack", "asx", MEMORY}, {454, "futex_wake", "bnnx", 0},
    {455, "futex_wait", "bnnxbn", 0}, {456, "futex_requeue", "bxnn", 0}, {457, "statmount", "bbsx", 0},
    {458, "listmount", "bbsx", 0}, {459, "lsm_get_self_attr", "nbbx", 0}, {460, "lsm_set_self_attr", "nbsx", 0},
    {461, "lsm_list_modules", "bbx", 0}, {462, "mseal", "asx", MEMORY},
};
#define TABLE_LEN (sizeof TABLE / sizeof TABLE[0])

static const char *const FIXED_NAMES[] = {"f0", "f1", "d0", "l0", "fifo", "out", "missing", "d0x"};
#define FIXED_NAME_COUNT (sizeof FIXED_NAMES / sizeof FIXED_NAMES[0])

/* What the batch child is doing, shared with the parent, which reports
 * the call that ended a batch. */
struct progress {
    long calls;     /* calls started in this batch */
    int nr;
    int completed;  /* the batch ran all its calls */
    unsigned long args[6];
};

static uint64_t rng_state;
static unsigned char *arena;  /* ARENA_PAGES read-write pages between two PROT_NONE guards */
static int self_pid, isolated, is_root, verbose;
static struct progress *progress;

static uint64_t next(void) {
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}
static uint64_t below(uint64_t n) { return next() % n; }
static int one_in(uint64_t n) { return below(n) == 0; }

static long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* For the calls that may create a process or thread: the child exits at
 * once, without touching memory (its stack may be anywhere, or shared). */
static long forking_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov $60, %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n"
                     "1:"
                     : "=a"(ret)
                     : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The i386 system call gate, which x86_64 Linux also offers 64-bit programs. */
static long int80(long nr, long a1, long a2, long a3) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "0"(nr), "b"(a1), "c"(a2), "d"(a3) : "memory");
    return ret;
}

static void fill_random(unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)next();
        p[i] = c == '/' ? 'x' : c;
    }
}

/* The arena: [guard][ARENA_PAGES read-write][guard], random bytes. */
static void map_arena(int fixed) {
    unsigned char *base = fixed ? arena - PAGE : (unsigned char *)0x10000000;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | (fixed ? MAP_FIXED : 0);
    void *p = mmap(base, ARENA_SIZE + 2 * PAGE, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED)
        return; /* a sealed arena stays as it is */
    arena = (unsigned char *)p + PAGE;
    if (mprotect(arena, ARENA_SIZE, PROT_READ | PROT_WRITE) != 0)
        return;
    fill_random(arena, ARENA_SIZE);
}

static uint64_t pick(const uint64_t *values, size_t n) { return values[below(n)]; }
#define PICK(...) ({ static const uint64_t v_[] = {__VA_ARGS__}; pick(v_, sizeof v_ / sizeof v_[0]); })

static uint64_t buffer(void) {
    switch (below(10)) {
    case 0: case 1: case 2: return (uint64_t)(arena + below(NAMES_OFFSET));
    case 3: return (uint64_t)arena;
    case 4: return (uint64_t)(arena + ARENA_SIZE - 1 - below(64)); /* runs into the guard */
    case 5: return (uint64_t)(arena - PAGE);                          /* the guard itself */
    case 6: return 0;
    case 7: return PICK(1, 0x1000, 0xdead0000, 0x800000000000, 0xffff800000000000, 0xffffffffff600000, -1);
    case 8: return (uint64_t)(arena + below(NAMES_OFFSET)) | 1;
    default: return next();
    }
}

static uint64_t size(void) {
    switch (below(8)) {
    case 0: return below(64);
    case 1: return below(PAGE + 1);
    case 2: return PICK(0, 1, 8, 16, PAGE, NAMES_OFFSET, ARENA_SIZE, ARENA_SIZE + 1);
    case 3: return PICK(0x7fffffff, 0x80000000, 0xffffffff, -1, 1UL << 63, 1UL << 40);
    case 4: return below(1 << 20);
    default: return below(256);
    }
}

static uint64_t number(void) {
    switch (below(8)) {
    case 0: return below(4);
    case 1: return below(64);
    case 2: return PICK(-1, 0x7fffffff, 0x80000000, 0xffffffff, 1UL << 63, 0x7fffffffffffffff, -4096, PAGE);
    case 3: return buffer();
    case 4: return size();
    case 5: return 1UL << below(64);
    case 6: return (uint32_t)next();
    default: return next();
    }
}

static uint64_t flags(void) {
    switch (below(6)) {
    case 0: return 0;
    case 1: return 1UL << below(32);
    case 2: return (1UL << below(32)) | (1UL << below(32));
    case 3: return (uint32_t)next();
    case 4: return -1;
    default: return next() & next() & 0xffffffff;
    }
}

/* Descriptors the batch opened are 0 and 1 and 3 up; 2 is Transit's stderr
 * too, and no call may close or replace it, or write to it. */
static uint64_t descriptor(void) {
    uint64_t fd;
    if (below(10) < 8)
        fd = below(24);
    else
        fd = PICK(-1, -100 /* AT_FDCWD */, 1023, 1024, 65535, 0x7fffffff, 0x100000003);
    if ((uint32_t)fd == 2)
        fd = 3;
    return fd;
}

static uint64_t address(void) {
    switch (below(9)) {
    case 0: case 1: return (uint64_t)arena;
    case 2: return (uint64_t)(arena + below(ARENA_SIZE)) & ~(PAGE - 1);
    case 3: return (uint64_t)(arena + below(ARENA_SIZE));
    case 4: return (uint64_t)(arena - PAGE);
    case 5: return 0;
    case 6: return PICK(0x10000, 0x7ffffffff000, 0x800000000000, 0xffff800000000000, -PAGE);
    case 7: return next() & 0x7ffffffff000;
    default: return next();
    }
}

/* Writes a path into its argument's slot of the names page. */
static uint64_t path(int slot) {
    char *out = (char *)arena + NAMES_OFFSET + slot * NAME_SLOT;
    switch (below(12)) {
    case 0: case 1: case 2: case 3:
        strcpy(out, FIXED_NAMES[below(FIXED_NAME_COUNT)]);
        return (uint64_t)out;
    case 4: case 5: {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";
        size_t n = 1 + below(12);
        for (size_t i = 0; i < n; i++)
            out[i] = alphabet[below(sizeof alphabet - 1)];
        out[n] = 0;
        return (uint64_t)out;
    }
    case 6: out[0] = 0; return (uint64_t)out;
    case 7: /* 300 bytes: longer than NAME_MAX */
        memset(out, 'a', 300);
        out[300] = 0;
        return (uint64_t)out;
    case 8: { /* unterminated: runs into the guard page */
        char *end = (char *)arena + ARENA_SIZE;
        memset(end - 64, 'a', 64);
        return (uint64_t)(end - 1 - below(64));
    }
    case 9: return (uint64_t)(arena + below(NAMES_OFFSET)); /* random bytes, no '/' */
    case 10: return PICK(0, 1, 0xdead0000, 0xffff800000000000);
    default: return (uint64_t)(arena - PAGE);
    }
}

static uint64_t argument(char kind, int slot) {
    switch (kind) {
    case K_FD: return descriptor();
    case K_DIRFD: return one_in(3) ? descriptor() : (uint64_t)-100;
    case K_PATH: return path(slot);
    case K_BUF: return buffer();
    case K_SIZE: return size();
    case K_FLAGS: return flags();
    case K_ADDR: return address();
    case K_PID: /* itself, its process group, nobody, or "this process" */
        switch (below(4)) {
        case 0: return (uint64_t)self_pid;
        case 1: return (uint64_t)(int64_t)-self_pid;
        case 2: return 0x3fffffff; /* above any pid_max */
        default: return 0;
        }
    case K_TID: return one_in(3) ? 0x3fffffff : (uint64_t)self_pid;
    case K_SIG: return one_in(8) ? PICK(0, 65, -1, 128, 0x100000009) : below(65);
    case K_UID: return PICK(0, 1, 65534, -1, 0xffffffff, 1000) ;
    case K_SIGSETSIZE: return one_in(4) ? size() : 8;
    case K_CMD: return one_in(4) ? number() : below(one_in(4) ? 0x5000 : 64);
    default: return number();
    }
}

static int excluded(const struct entry *e) {
    if (e->flags & EXCLUDED)
        return 1;
    if ((e->flags & ROOT_EXCLUDED) && is_root)
        return 1;
    if ((e->flags & NEEDS_ISOLATION) && !isolated)
        return 1;
    return 0;
}

static int in_arena(uint64_t p, uint64_t n) {
    return p >= (uint64_t)arena && p + n <= (uint64_t)arena + ARENA_SIZE && p + n > p;
}

/* Takes SIGALRM out of a signal set in the arena: the interval timer must
 * go on interrupting blocking calls. */
static void keep_alarm(uint64_t set) {
    if (in_arena(set, 8)) {
        uint64_t mask;
        memcpy(&mask, (void *)set, 8);
        mask &= ~(1UL << (SIGALRM - 1));
        memcpy((void *)set, &mask, 8);
    }
}

/* Fixes the argument that could reach outside the batch. */
static void sanitize(int nr, uint64_t *a) {
    switch (nr) {
    case 9: /* mmap: MAP_POPULATE or MAP_LOCKED would make a huge mapping real */
        if ((a[3] & (MAP_POPULATE | MAP_LOCKED)) && a[1] > POPULATE_LIMIT)
            a[1] = POPULATE_LIMIT;
        break;
    case 28:  /* madvise */
    case 440: /* process_madvise */ {
        uint64_t *advice = nr == 28 ? &a[2] : &a[3];
        uint64_t *len = nr == 28 ? &a[1] : &a[2];
        if (one_in(2))
            *advice = below(30);
        /* MADV_HWPOISON and MADV_SOFT_OFFLINE take pages from the host. */
        if ((uint32_t)*advice >= 100)
            *advice = 0;
        /* MADV_WILLNEED, MADV_POPULATE_READ/WRITE fill what they cover. */
        if ((*advice == 3 || *advice == 22 || *advice == 23) && *len > POPULATE_LIMIT)
            *len = POPULATE_LIMIT;
        break;
    }
    case 16: { /* ioctl */
        if (one_in(2))
            a[1] = PICK(0x541b /* FIONREAD */, 0x5421 /* FIONBIO */, 0x5451 /* FIOCLEX */, 0x5450 /* FIONCLEX */,
                        0x5452 /* FIOASYNC */, 0x5401 /* TCGETS */, 0x5413 /* TIOCGWINSZ */, 0x8912 /* SIOCGIFCONF */,
                        0x80086601 /* FS_IOC_GETFLAGS */);
        uint32_t cmd = (uint32_t)a[1], type = (cmd >> 8) & 0xff, low = cmd & 0xffff;
        /* 'f' (FS_IOC_SETFLAGS makes files immutable; ext4 swaps boot
         * loaders), 'X' (FIFREEZE freezes the file system), btrfs, block
         * devices, TIOCSTI and TIOCSPGRP, FIOSETOWN and SIOCSPGRP (SIGIO
         * to any process), and network configuration outside our namespace. */
        if (type == 'f' || type == 'X' || type == 0x94 || type == 0x12 || (type == 0x89 && !isolated) ||
            low == 0x5412 || low == 0x5410 || low == 0x8901 || low == 0x8902)
            a[1] = 0x541b;
        break;
    }
    case 41: /* socket */
    case 53: /* socketpair */
        a[0] = isolated && one_in(2) ? PICK(2 /* AF_INET */, 10 /* AF_INET6 */) : 1 /* AF_UNIX */;
        a[1] = PICK(1, 2, 5, 3) | (one_in(2) ? (next() & 0x80800) : 0);
        if (a[1] == 3 && !isolated)
            a[1] = 2;
        if (!one_in(4))
            a[2] = 0;
        break;
    case 133: /* mknod */
    case 259: /* mknodat: no device nodes */ {
        uint64_t *mode = nr == 133 ? &a[1] : &a[2];
        *mode = PICK(S_IFREG, S_IFIFO, S_IFSOCK, 0, S_IFDIR) | (*mode & 07777);
        if (nr == 133)
            a[2] = 0;
        else
            a[3] = 0;
        break;
    }
    case 109: /* setpgid: never into another group */
        a[0] = one_in(2) ? 0 : (uint64_t)self_pid;
        a[1] = one_in(2) ? 0 : (uint64_t)self_pid;
        break;
    case 72: /* fcntl: F_SETOWN/F_SETOWN_EX would aim SIGIO at others */
        if ((uint32_t)a[1] == 8)
            a[2] = self_pid;
        if ((uint32_t)a[1] == 15)
            a[1] = 16;
        break;
    case 160: /* setrlimit */
    case 302: /* prlimit64: core dumps and file sizes stay as the parent set them */ {
        uint64_t *resource = nr == 160 ? &a[0] : &a[1];
        if (one_in(2))
            *resource = below(16);
        if ((uint32_t)*resource == RLIMIT_CORE || (uint32_t)*resource == RLIMIT_FSIZE)
            *resource = RLIMIT_NOFILE;
        break;
    }
    case 436: /* close_range: never stderr */
        if ((uint32_t)a[0] < 3)
            a[0] = 3;
        if ((uint32_t)a[1] < (uint32_t)a[0])
            a[1] = a[0];
        break;
    case 157: /* prctl */
        if (one_in(2))
            a[0] = below(72);
        break;
    case 158: /* arch_prctl */
        if (!one_in(4))
            a[0] = PICK(0x1001, 0x1002, 0x1003, 0x1004, 0x1011, 0x1012, 0x1021, 0x1022, 0x2001, 0x2002, 0x2003,
                        0x3001, 0x4001, 0x4002, 0x5001, 0x5002);
        break;
    case 13: /* rt_sigaction: SIGALRM keeps its handler (the batch's clock) */
        if ((uint32_t)a[0] == SIGALRM)
            a[1] = 0;
        break;
    case 38: /* setitimer: ITIMER_REAL is the batch's clock */
        if ((uint32_t)a[0] == ITIMER_REAL)
            a[0] = 1 + below(2);
        break;
    case 14:  /* rt_sigprocmask */
    case 130: /* rt_sigsuspend */
    case 128: /* rt_sigtimedwait */
    case 271: /* ppoll */
    case 281: /* epoll_pwait */
    case 441: /* epoll_pwait2: none may block SIGALRM */
        keep_alarm(nr == 14 ? a[1] : nr == 130 || nr == 128 ? a[0] : nr == 271 ? a[3] : a[4]);
        break;
    case 270: /* pselect6: its mask is the first word of the sixth argument */
        if (in_arena(a[5], 8)) {
            uint64_t mask;
            memcpy(&mask, (void *)a[5], 8);
            keep_alarm(mask);
        }
        break;
    case 62: case 129: case 200: case 234: case 297:
        /* kill, rt_sigqueueinfo, tkill, tgkill, rt_tgsigqueueinfo: a pid or
         * group of this batch (K_PID/K_TID) whatever the upper bits said. */
        break;
    }
}

/* A call that is not in the table: unassigned numbers, the x32 range, or
 * numbers with high bits set; their arguments could be anything to a
 * translator that misreads the number, so they are all harmless. */
static long invalid_call(struct progress *p) {
    uint64_t nr = PICK(335, 400, 423, 463, 511, 512, 547, 1000, 0x40000000 | 39, 0x40000000 | 513, 0x100000027,
                       0x7fffffff, -1, 0x80000000);
    p->nr = (int)nr;
    for (int i = 0; i < 6; i++)
        p->args[i] = 0x7fffffff;
    return raw_syscall((long)nr, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff);
}

static long i386_call(struct progress *p) {
    /* getpid, getuid, getgid, gettid, getuid32, time(NULL), write(1, 0, 0), invalid */
    uint64_t nr = PICK(20, 24, 47, 224, 199, 13, 4, 0xffff);
    p->nr = -(int)nr;
    long a1 = nr == 4 ? 1 : 0;
    return int80((long)nr, a1, 0, 0);
}

static void on_alarm(int sig) { (void)sig; }

static void fail(const char *what) {
    fprintf(stderr, "syscall_fuzz: %s: %s\n", what, strerror(errno));
    _exit(100);
}

/* Descriptors, files and the arena for one batch, in directory bN. */
static void set_up_batch(int batch) {
    char dir[32];
    snprintf(dir, sizeof dir, "b%d", batch);
    if (mkdir(dir, 0755) != 0 || chdir(dir) != 0)
        fail("batch directory");
    int p[2];
    if (pipe(p) != 0)
        fail("pipe");
    dup2(p[0], 0); /* reads see end of file at once */
    close(p[0]);
    close(p[1]);
    int out = open("out", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    dup2(out, 1);
    close(out);
    int f0 = open("f0", O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (f0 < 0 || write(f0, "0123456789abcdef", 16) != 16)
        fail("f0");
    close(open("f1", O_CREAT | O_WRONLY, 0600));
    mkdir("d0", 0755);
    symlink("f0", "l0");
    mkfifo("fifo", 0600);
    /* 3 and up: files, a directory, a pipe, sockets, event and memory fds. */
    (void)open(".", O_RDONLY | O_DIRECTORY);
    if (pipe(p) != 0)
        fail("pipe");
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    raw_syscall(290, 0, 0, 0, 0, 0, 0);                          /* eventfd2 */
    raw_syscall(319, (long)"fuzz", 0, 0, 0, 0, 0);              /* memfd_create */
    raw_syscall(291, 0, 0, 0, 0, 0, 0);                          /* epoll_create1 */
    raw_syscall(283, CLOCK_MONOTONIC, 0, 0, 0, 0, 0);           /* timerfd_create */
    map_arena(0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: blocking calls end with EINTR */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval tick = {{0, 100000}, {0, 100000}};
    setitimer(ITIMER_REAL, &tick, NULL);
}

static void run_batch(uint64_t seed, int batch, long calls) {
    setsid(); /* a session and process group of its own: kill(0) reaches only this batch */
    self_pid = getpid();
    rng_state = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)batch * 0xbf58476d1ce4e5b9ULL + 1;
    set_up_batch(batch);
    for (long i = 0; i < calls; i++) {
        progress->calls = i + 1;
        /* Fresh random bytes where the last call may have written. */
        size_t at = below(NAMES_OFFSET - 256);
        fill_random(arena + at, 256);
        if (one_in(33)) {
            if (verbose)
                dprintf(2, "call %ld: int $0x80\n", i + 1);
            progress->args[0] = i386_call(progress);
            continue;
        }
        if (one_in(33)) {
            if (verbose)
                dprintf(2, "call %ld: an invalid number\n", i + 1);
            invalid_call(progress);
            continue;
        }
        const struct entry *e;
        do
            e = &TABLE[below(TABLE_LEN)];
        while (excluded(e) || ((e->flags & RARE) && !one_in(20)));
        uint64_t a[6] = {0};
        for (int k = 0; e->kinds[k]; k++)
            a[k] = argument(e->kinds[k], k);
        sanitize(e->nr, a);
        progress->nr = e->nr;
        memcpy(progress->args, a, sizeof a);
        if (verbose)
            dprintf(2, "call %ld: %d %s(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)\n", i + 1, e->nr, e->name,
                    (unsigned long)a[0], (unsigned long)a[1], (unsigned long)a[2], (unsigned long)a[3],
                    (unsigned long)a[4], (unsigned long)a[5]);
        if (e->flags & FORKS)
            forking_syscall(e->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        else
            raw_syscall(e->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (e->flags & MEMORY)
            map_arena(1);
    }
    progress->completed = 1;
    raw_syscall(231, 0, 0, 0, 0, 0, 0);
    _exit(0);
}

static const char *call_name(int nr) {
    if (nr < 0)
        return "int $0x80";
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (TABLE[i].nr == nr)
            return TABLE[i].name;
    return "(invalid)";
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: syscall_fuzz SEED CALLS [BATCH]\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[1], NULL, 0);
    long total = strtol(argv[2], NULL, 0);
    int only = argc == 4 ? atoi(argv[3]) : -1;
    verbose = only >= 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Nothing inherited: a descriptor the harness left open is not ours to fuzz. */
    raw_syscall(436, 3, ~0U, 0, 0, 0, 0);
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    is_root = geteuid() == 0;
    /* Network and IPC namespaces of our own, where sockets and System V
     * objects touch nothing else (root, or an unprivileged user namespace). */
    isolated = raw_syscall(272, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS, 0, 0, 0, 0, 0) == 0;
    if (!isolated && !is_root)
        isolated = raw_syscall(272, CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS, 0, 0, 0, 0, 0) == 0;
    struct rlimit fsize = {1 << 20, 1 << 20};
    setrlimit(RLIMIT_FSIZE, &fsize);
    signal(SIGXFSZ, SIG_IGN);
    /* Four levels down, so that a random "..": still ours. */
    const char *levels[] = {"fuzz", "a", "b", "c"};
    for (int i = 0; i < 4; i++)
        if ((mkdir(levels[i], 0755) != 0 && errno != EEXIST) || chdir(levels[i]) != 0)
            fail("work directory");
    progress = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (progress == MAP_FAILED)
        fail("mmap");
    printf("syscall_fuzz: seed %llu, %ld calls in batches of %d, %s, %s\n", (unsigned long long)seed, total, BATCH,
           is_root ? "root" : "not root", isolated ? "own network and IPC namespaces" : "no namespaces: no IP sockets or IPC");

    long done = 0, completed = 0, exited = 0, timeouts = 0, stopped = 0, batches = 0;
    long by_signal[65] = {0};
    for (int batch = only >= 0 ? only : 0; done < total; batch++) {
        long calls = total - done < BATCH ? total - done : BATCH;
        if (only >= 0 && batch > only)
            break;
        memset(progress, 0, sizeof *progress);
        pid_t child = fork();
        if (child < 0)
            fail("fork");
        if (child == 0)
            run_batch(seed, batch, calls);
        long deadline = now_ms() + BATCH_DEADLINE_MS;
        int status = 0, timed_out = 0;
        for (;;) {
            pid_t r = waitpid(child, &status, WNOHANG | WUNTRACED);
            if (r == child && WIFSTOPPED(status)) {
                stopped++;
                kill(child, SIGKILL);
                continue;
            }
            if (r == child || (r < 0 && errno != EINTR))
                break;
            if (now_ms() > deadline) {
                timed_out = 1;
                kill(-child, SIGKILL);
                kill(child, SIGKILL);
            }
            struct timespec pause = {0, 2000000};
            nanosleep(&pause, NULL);
        }
        /* What the batch left behind, while its pid still names its group. */
        kill(-child, SIGKILL);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        batches++;
        done += progress->calls ? progress->calls : 1;
        if (timed_out) {
            timeouts++;
            printf("batch %d: killed at its deadline during call %ld: %d %s\n", batch, progress->calls, progress->nr,
                   call_name(progress->nr));
        } else if (WIFSIGNALED(status)) {
            int sig = WTERMSIG(status);
            by_signal[sig < 65 ? sig : 0]++;
            printf("batch %d: signal %d after call %ld: %d %s(%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)\n", batch, sig,
                   progress->calls, progress->nr, call_name(progress->nr), progress->args[0], progress->args[1],
                   progress->args[2], progress->args[3], progress->args[4], progress->args[5]);
        } else if (progress->completed && WEXITSTATUS(status) == 0) {
            completed++;
        } else {
            exited++;
            if (WEXITSTATUS(status) == 100)
                printf("batch %d: the batch could not be set up (its stderr says why)\n", batch);
        }
    }
    printf("summary: calls %ld batches %ld completed %ld exited %ld timeouts %ld stopped %ld signals", done, batches,
           completed, exited, timeouts, stopped);
    for (int s = 1; s < 65; s++)
        if (by_signal[s])
            printf(" %d:%ld", s, by_signal[s]);
    printf("\n");
    return 0;
}
