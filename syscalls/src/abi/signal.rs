//! Signal structures as the x86_64 kernel's `rt_sigaction` and `sigaltstack`
//! take them.

/// x86_64 kernel `struct sigaction` (arch/x86/include/uapi/asm/signal.h, the
/// kernel-facing one, not glibc's): `sa_restorer` comes before `sa_mask`, and
/// the mask is the kernel's 64-bit `sigset_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct X86SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// `stack_t` (include/uapi/asm-generic/signal.h; x86_64 agrees): 24 bytes,
/// with padding after the int `ss_flags`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuestStack {
    pub sp: u64,
    pub flags: i32,
    pub pad: u32,
    pub size: u64,
}

// SAFETY: integers only, explicit padding.
unsafe impl crate::guest_mem::Plain for X86SigAction {}
// SAFETY: integers only, explicit padding.
unsafe impl crate::guest_mem::Plain for GuestStack {}

#[cfg(test)]
mod tests {
    use super::GuestStack;
    use std::mem::offset_of;

    #[test]
    fn stack_t_matches_x86_64_gcc() {
        let c = "#include <stdio.h>\n#include <stddef.h>\n#include <signal.h>\nint main(void) {\
                 printf(\"%zu %zu %zu %zu\\n\", sizeof(stack_t), offsetof(stack_t, ss_sp),\
                 offsetof(stack_t, ss_flags), offsetof(stack_t, ss_size)); return 0; }";
        let Some(out) = crate::abi::oracle::run_x86_64_c(c) else {
            return;
        };
        let ours = format!(
            "{} {} {} {}",
            size_of::<GuestStack>(),
            offset_of!(GuestStack, sp),
            offset_of!(GuestStack, flags),
            offset_of!(GuestStack, size)
        );
        assert_eq!(out.trim(), ours);
    }
}
