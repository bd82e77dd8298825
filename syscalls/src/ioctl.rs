//! ioctl: an allow-list of requests that are identical on both ABIs.
//!
//! Both architectures take their tty ioctl numbers and `_IOC` encoding from
//! asm-generic (ioctls.h, ioctl.h), and the kernel `struct termios`,
//! `struct termios2`, `struct termio` and `struct winsize` come from
//! asm-generic/termbits.h and termios.h on both (checked by the
//! `identical_layouts` test). Requests not listed might carry structs with
//! pointers or arch-specific layouts (DRM, sound, network ...): they fail
//! with ENOTTY, the kernel's answer for an ioctl a file does not support,
//! and a warning names them so the list can grow.

use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

/// `(request, name)`; arguments are ints, pointers to ints, or the tty
/// structs named above.
const PASS_THROUGH: &[(u32, &str)] = &[
    (0x5401, "TCGETS"),
    (0x5402, "TCSETS"),
    (0x5403, "TCSETSW"),
    (0x5404, "TCSETSF"),
    (0x5405, "TCGETA"),
    (0x5406, "TCSETA"),
    (0x5407, "TCSETAW"),
    (0x5408, "TCSETAF"),
    (0x5409, "TCSBRK"),
    (0x540A, "TCXONC"),
    (0x540B, "TCFLSH"),
    (0x540C, "TIOCEXCL"),
    (0x540D, "TIOCNXCL"),
    (0x540E, "TIOCSCTTY"),
    (0x540F, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5411, "TIOCOUTQ"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x5415, "TIOCMGET"),
    (0x5416, "TIOCMBIS"),
    (0x5417, "TIOCMBIC"),
    (0x5418, "TIOCMSET"),
    (0x541B, "FIONREAD"),
    (0x5421, "FIONBIO"),
    (0x5422, "TIOCNOTTY"),
    (0x5425, "TCSBRKP"),
    (0x5429, "TIOCGSID"),
    (0x802C_542A, "TCGETS2"),
    (0x402C_542B, "TCSETS2"),
    (0x402C_542C, "TCSETSW2"),
    (0x402C_542D, "TCSETSF2"),
    (0x8004_5430, "TIOCGPTN"),
    (0x4004_5431, "TIOCSPTLCK"),
    (0x5441, "TIOCGPTPEER"),
    (0x5450, "FIONCLEX"),
    (0x5451, "FIOCLEX"),
    (0x5452, "FIOASYNC"),
    (0x8901, "FIOSETOWN"),
    (0x8903, "FIOGETOWN"),
];

/// ioctl(fd, request, arg).
pub(crate) fn ioctl(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    // The request is an unsigned int; upper register bits are ignored.
    let request = a[1] as u32;
    if PASS_THROUGH.iter().any(|&(r, _)| r == request) {
        return host::syscall(libc::SYS_ioctl, &[a[0], request as u64, a[2]]);
    }
    tracing::warn!("unsupported ioctl {request:#x} on fd {}", a[0] as i32);
    Err(Errno::ENOTTY)
}

#[cfg(test)]
mod tests {
    use super::PASS_THROUGH;

    /// The numbers must be the x86_64 ones: ask the x86_64 headers.
    #[test]
    fn numbers_match_x86_64_headers() {
        let mut c = String::from("#include <stdio.h>\n#include <sys/ioctl.h>\n#include <asm/termbits.h>\n#include <asm/sockios.h>\nint main(void) {\n");
        for (_, name) in PASS_THROUGH {
            c.push_str(&format!("printf(\"{name} %#x\\n\", (unsigned){name});\n"));
        }
        c.push_str("return 0; }\n");
        let Some(out) = crate::abi::oracle::run_x86_64_c(&c) else {
            return;
        };
        let expected: Vec<String> = PASS_THROUGH
            .iter()
            .map(|(n, name)| format!("{name} {n:#x}"))
            .collect();
        assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    }
}
