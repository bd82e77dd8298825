//! Names of x86_64 constants for `--strace`: the guest's values, which are
//! not always aarch64's (O_DIRECTORY and O_NOFOLLOW differ, for one).

/// `A|B|0x40` for the bits of `value` named in `names`, leftover bits in hex.
fn bit_names(value: u64, names: &[(u64, &str)], zero: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = value;
    for &(bits, name) in names {
        if bits != 0 && rest & bits == bits {
            parts.push(name.to_string());
            rest &= !bits;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    if parts.is_empty() {
        zero.to_string()
    } else {
        parts.join("|")
    }
}

const OPEN_FLAGS: &[(u64, &str)] = &[
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o4010000, "O_SYNC"),
    (0o10000, "O_DSYNC"),
    (0o20000, "O_ASYNC"),
    (0o40000, "O_DIRECT"),
    (0o100000, "O_LARGEFILE"),
    (0o20200000, "O_TMPFILE"),
    (0o200000, "O_DIRECTORY"),
    (0o400000, "O_NOFOLLOW"),
    (0o1000000, "O_NOATIME"),
    (0o2000000, "O_CLOEXEC"),
    (0o10000000, "O_PATH"),
];

pub fn open_flags(value: u64) -> String {
    let access = match value & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    };
    let rest = bit_names(value & !3, OPEN_FLAGS, "");
    if rest.is_empty() {
        access.to_string()
    } else {
        format!("{access}|{rest}")
    }
}

/// The open flags create a file (O_CREAT or O_TMPFILE): the mode counts.
pub fn creates(flags: u64) -> bool {
    flags & 0o100 != 0 || flags & 0o20200000 == 0o20200000
}

pub fn prot(value: u64) -> String {
    bit_names(
        value,
        &[(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"), (0x0100_0000, "PROT_GROWSDOWN"), (0x0200_0000, "PROT_GROWSUP")],
        "PROT_NONE",
    )
}

pub fn map_flags(value: u64) -> String {
    let kind = match value & 3 {
        1 => "MAP_SHARED",
        2 => "MAP_PRIVATE",
        3 => "MAP_SHARED_VALIDATE",
        _ => "0",
    };
    let rest = bit_names(
        value & !3,
        &[
            (0x10, "MAP_FIXED"),
            (0x20, "MAP_ANONYMOUS"),
            (0x40, "MAP_32BIT"),
            (0x100, "MAP_GROWSDOWN"),
            (0x800, "MAP_DENYWRITE"),
            (0x1000, "MAP_EXECUTABLE"),
            (0x2000, "MAP_LOCKED"),
            (0x4000, "MAP_NORESERVE"),
            (0x8000, "MAP_POPULATE"),
            (0x10000, "MAP_NONBLOCK"),
            (0x20000, "MAP_STACK"),
            (0x40000, "MAP_HUGETLB"),
            (0x80000, "MAP_SYNC"),
            (0x100000, "MAP_FIXED_NOREPLACE"),
        ],
        "",
    );
    if rest.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}|{rest}")
    }
}

const SIGNALS: [&str; 31] = [
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
    "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN",
    "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
];

pub fn signal_name(sig: i32) -> String {
    match sig {
        1..=31 => SIGNALS[sig as usize - 1].to_string(),
        32..=64 => format!("SIGRT_{}", sig - 32),
        _ => sig.to_string(),
    }
}

pub fn sig_how(how: i32) -> String {
    match how {
        0 => "SIG_BLOCK".into(),
        1 => "SIG_UNBLOCK".into(),
        2 => "SIG_SETMASK".into(),
        _ => how.to_string(),
    }
}

pub fn whence(whence: i32) -> String {
    match whence {
        0 => "SEEK_SET".into(),
        1 => "SEEK_CUR".into(),
        2 => "SEEK_END".into(),
        3 => "SEEK_DATA".into(),
        4 => "SEEK_HOLE".into(),
        _ => whence.to_string(),
    }
}

/// errno names (asm-generic/errno*.h, which x86_64 and aarch64 share).
const ERRNO_NAMES: &[(i32, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (8, "ENOEXEC"),
    (9, "EBADF"),
    (10, "ECHILD"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (18, "EXDEV"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (23, "ENFILE"),
    (24, "EMFILE"),
    (25, "ENOTTY"),
    (26, "ETXTBSY"),
    (27, "EFBIG"),
    (28, "ENOSPC"),
    (29, "ESPIPE"),
    (30, "EROFS"),
    (31, "EMLINK"),
    (32, "EPIPE"),
    (33, "EDOM"),
    (34, "ERANGE"),
    (35, "EDEADLK"),
    (36, "ENAMETOOLONG"),
    (38, "ENOSYS"),
    (39, "ENOTEMPTY"),
    (40, "ELOOP"),
    (61, "ENODATA"),
    (62, "ETIME"),
    (75, "EOVERFLOW"),
    (88, "ENOTSOCK"),
    (95, "EOPNOTSUPP"),
    (97, "EAFNOSUPPORT"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (101, "ENETUNREACH"),
    (104, "ECONNRESET"),
    (106, "EISCONN"),
    (107, "ENOTCONN"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (113, "EHOSTUNREACH"),
    (114, "EALREADY"),
    (115, "EINPROGRESS"),
];

pub fn errno_name(errno: i32) -> String {
    ERRNO_NAMES.iter().find(|(n, _)| *n == errno).map_or_else(|| format!("E{errno}"), |(_, name)| name.to_string())
}
