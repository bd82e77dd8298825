//! The legacy `getdents` record, `struct linux_dirent` (fs/readdir.c), which
//! x86_64 still has and aarch64 does not. We produce it from the host's
//! `getdents64` records (`struct linux_dirent64`, include/linux/dirent.h).
//!
//! ```text
//! linux_dirent64: u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[];
//! linux_dirent:   u64 d_ino; u64 d_off; u16 d_reclen; char d_name[]; ...; u8 d_type (last byte)
//! ```
//! Both round `header + name + 1 NUL + 1 type byte` up to 8, so a record has
//! the same length in both forms: the converted buffer is never longer.

const DIRENT64_NAME: usize = 19;
const DIRENT_NAME: usize = 18;

/// Converts a buffer of `linux_dirent64` records, as the host's getdents64
/// returned them, into x86_64 `linux_dirent` records.
pub fn dirents64_to_legacy(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    let mut pos = 0;
    while pos + DIRENT64_NAME <= src.len() {
        let rec = &src[pos..];
        let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
        if reclen < DIRENT64_NAME || reclen > rec.len() {
            break; // the kernel never produces this; stop rather than misread
        }
        let d_type = rec[18];
        let name_area = &rec[DIRENT64_NAME..reclen];
        let name = &name_area[..name_area
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(name_area.len())];

        let start = out.len();
        out.extend_from_slice(&rec[0..16]); // d_ino, d_off: same width and place
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.extend_from_slice(name);
        out.resize(start + reclen, 0); // NUL terminator and padding
        out[start + reclen - 1] = d_type;
        debug_assert!(DIRENT_NAME + name.len() + 2 <= reclen);
        pos += reclen;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirent64(ino: u64, off: i64, d_type: u8, name: &str) -> Vec<u8> {
        let reclen = (DIRENT64_NAME + name.len() + 1).next_multiple_of(8);
        let mut r = Vec::new();
        r.extend_from_slice(&ino.to_ne_bytes());
        r.extend_from_slice(&off.to_ne_bytes());
        r.extend_from_slice(&(reclen as u16).to_ne_bytes());
        r.push(d_type);
        r.extend_from_slice(name.as_bytes());
        r.resize(reclen, 0);
        r
    }

    #[test]
    fn converts_records_in_place_order() {
        let names = ["a", "hello", "exactly-13chr", "x".repeat(200).leak()];
        let mut src = Vec::new();
        for (i, n) in names.iter().enumerate() {
            src.extend(dirent64(100 + i as u64, 7 + i as i64, 4 + i as u8, n));
        }
        let out = dirents64_to_legacy(&src);
        assert_eq!(out.len(), src.len());
        let mut pos = 0;
        for (i, n) in names.iter().enumerate() {
            let rec = &out[pos..];
            let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
            // The kernel's legacy rule: ALIGN(offsetof(d_name) + namlen + 2, sizeof(long)).
            assert_eq!(reclen, (DIRENT_NAME + n.len() + 2).next_multiple_of(8));
            assert_eq!(
                u64::from_ne_bytes(rec[0..8].try_into().unwrap()),
                100 + i as u64
            );
            assert_eq!(
                u64::from_ne_bytes(rec[8..16].try_into().unwrap()),
                7 + i as u64
            );
            assert_eq!(&rec[18..18 + n.len()], n.as_bytes());
            assert_eq!(rec[18 + n.len()], 0);
            assert_eq!(rec[reclen - 1], 4 + i as u8);
            pos += reclen;
        }
    }
}
