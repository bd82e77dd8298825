//! `struct epoll_event`: packed (12 bytes) on x86_64 only, 16 bytes on aarch64
//! (include/uapi/linux/eventpoll.h, `EPOLL_PACKED`).

/// The x86_64 layout of `struct epoll_event`.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, Default)]
pub struct X86EpollEvent {
    pub events: u32,
    pub data: u64,
}

// SAFETY: two integers, no padding.
unsafe impl crate::guest_mem::Plain for X86EpollEvent {}

impl X86EpollEvent {
    pub fn to_host(self) -> libc::epoll_event {
        libc::epoll_event {
            events: self.events,
            u64: self.data,
        }
    }

    pub fn from_host(ev: &libc::epoll_event) -> X86EpollEvent {
        X86EpollEvent {
            events: ev.events,
            data: ev.u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::X86EpollEvent;

    #[test]
    fn layout_matches_x86_64_gcc() {
        assert_eq!(size_of::<X86EpollEvent>(), 12);
        let c = "#include <stdio.h>\n#include <stddef.h>\n#include <sys/epoll.h>\nint main(void) {\
                 printf(\"%zu %zu\\n\", sizeof(struct epoll_event), offsetof(struct epoll_event, data)); return 0; }";
        let Some(out) = crate::abi::oracle::run_x86_64_c(c) else {
            return;
        };
        assert_eq!(
            out.trim(),
            format!(
                "{} {}",
                size_of::<X86EpollEvent>(),
                std::mem::offset_of!(X86EpollEvent, data)
            )
        );
    }
}
