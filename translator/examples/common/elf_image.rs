//! An x86_64 ELF file's loadable image, for the examples that translate
//! code straight from a file.

/// The file image laid out at its virtual addresses (PT_LOAD file parts).
pub fn load(path: &str) -> (u64, Vec<u8>) {
    let f = std::fs::read(path).expect("readable ELF");
    let u16_at = |o: usize| u16::from_le_bytes([f[o], f[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(f[o..o + 8].try_into().unwrap());
    let (phoff, phnum) = (u64_at(0x20) as usize, u16_at(0x38));
    let loads: Vec<(u64, u64, u64)> = (0..phnum)
        .map(|i| phoff + 56 * i)
        .filter(|&p| u32::from_le_bytes(f[p..p + 4].try_into().unwrap()) == 1)
        .map(|p| (u64_at(p + 16), u64_at(p + 8), u64_at(p + 32)))
        .collect();
    let lo = loads.iter().map(|l| l.0).min().unwrap() & !0xfff;
    let hi = loads.iter().map(|l| l.0 + l.2).max().unwrap();
    let mut img = vec![0u8; (hi - lo) as usize];
    for (vaddr, off, filesz) in loads {
        let d = (vaddr - lo) as usize;
        img[d..d + filesz as usize].copy_from_slice(&f[off as usize..(off + filesz) as usize]);
    }
    (lo, img)
}
