//! x86_64 `struct stat`, as `stat`, `fstat`, `lstat` and `newfstatat` fill it.

/// x86_64 `struct stat` (arch/x86/include/uapi/asm/stat.h, the `__x86_64__`
/// branch): 144 bytes, with `st_nlink` widened to 64 bits and moved before
/// `st_mode`, and a 64-bit `st_blksize`. aarch64's is the 128-byte
/// asm-generic layout.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct X86Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: u64,
    pub st_atime_nsec: u64,
    pub st_mtime: u64,
    pub st_mtime_nsec: u64,
    pub st_ctime: u64,
    pub st_ctime_nsec: u64,
    pub unused: [i64; 3],
}

// SAFETY: integers only; the explicit padding fields make every byte a field.
unsafe impl crate::guest_mem::Plain for X86Stat {}

impl X86Stat {
    /// Converts the host's `struct stat` (whatever the host layout).
    pub fn from_host(st: &libc::stat) -> X86Stat {
        // Casts widen (nlink, blksize on aarch64) or are identity on x86_64.
        #[allow(clippy::unnecessary_cast)]
        X86Stat {
            st_dev: st.st_dev as u64,
            st_ino: st.st_ino as u64,
            st_nlink: st.st_nlink as u64,
            st_mode: st.st_mode as u32,
            st_uid: st.st_uid as u32,
            st_gid: st.st_gid as u32,
            pad0: 0,
            st_rdev: st.st_rdev as u64,
            st_size: st.st_size as i64,
            st_blksize: st.st_blksize as i64,
            st_blocks: st.st_blocks as i64,
            st_atime: st.st_atime as u64,
            st_atime_nsec: st.st_atime_nsec as u64,
            st_mtime: st.st_mtime as u64,
            st_mtime_nsec: st.st_mtime_nsec as u64,
            st_ctime: st.st_ctime as u64,
            st_ctime_nsec: st.st_ctime_nsec as u64,
            unused: [0; 3],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::X86Stat;
    use std::mem::offset_of;

    /// The offsets our struct has, by C field name.
    fn rust_offsets() -> Vec<(&'static str, usize)> {
        vec![
            ("st_dev", offset_of!(X86Stat, st_dev)),
            ("st_ino", offset_of!(X86Stat, st_ino)),
            ("st_nlink", offset_of!(X86Stat, st_nlink)),
            ("st_mode", offset_of!(X86Stat, st_mode)),
            ("st_uid", offset_of!(X86Stat, st_uid)),
            ("st_gid", offset_of!(X86Stat, st_gid)),
            ("st_rdev", offset_of!(X86Stat, st_rdev)),
            ("st_size", offset_of!(X86Stat, st_size)),
            ("st_blksize", offset_of!(X86Stat, st_blksize)),
            ("st_blocks", offset_of!(X86Stat, st_blocks)),
            ("st_atime", offset_of!(X86Stat, st_atime)),
            ("st_mtime", offset_of!(X86Stat, st_mtime)),
            ("st_ctime", offset_of!(X86Stat, st_ctime)),
        ]
    }

    #[test]
    fn size_and_offsets_match_kernel_header() {
        // Read off arch/x86/include/uapi/asm/stat.h by hand.
        assert_eq!(size_of::<X86Stat>(), 144);
        let expected = [0, 8, 16, 24, 28, 32, 40, 48, 56, 64, 72, 88, 104];
        let actual: Vec<usize> = rust_offsets().iter().map(|&(_, o)| o).collect();
        assert_eq!(actual, expected);
    }

    /// The host gcc (x86_64 on the build machine, even when this test runs
    /// under qemu-aarch64) is the ABI oracle: compile a C program printing
    /// `offsetof` for each field of the x86_64 `struct stat`.
    #[test]
    fn offsets_match_x86_64_gcc() {
        let fields = rust_offsets();
        let mut c = String::from(
            "#include <stdio.h>\n#include <stddef.h>\n#include <sys/stat.h>\nint main(void) {\n",
        );
        c.push_str("printf(\"size %zu\\n\", sizeof(struct stat));\n");
        for (name, _) in &fields {
            c.push_str(&format!(
                "printf(\"{name} %zu\\n\", offsetof(struct stat, {name}));\n"
            ));
        }
        c.push_str("return 0; }\n");
        let Some(out) = crate::abi::oracle::run_x86_64_c(&c) else {
            return;
        };
        let mut expected = vec![format!("size {}", size_of::<X86Stat>())];
        expected.extend(fields.iter().map(|(n, o)| format!("{n} {o}")));
        assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    }
}
