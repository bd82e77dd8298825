//! The FPU environment and state images: fnstenv/fldenv (28 bytes, or 14
//! with a 0x66 prefix), fnsave/frstor (108 or 94), fxsave/fxrstor (512),
//! in their 64-bit-mode layouts (SDM vol. 1 8.1.10, figures 8-9 to 8-12;
//! vol. 2 FXSAVE table 10-2).
//!
//! FCS and FDS are stored as 0 (deprecated: CPUID.7.EBX[13]). FIP is the
//! last non-control instruction's address; FOP and FDP change only on an
//! unmasked exception (Intel's default fopcode mode and FDP_EXCPTN_ONLY),
//! which is what an Intel Xeon stores (checked with fnstenv after fdivr).
//! The reserved upper halves of the 32-bit format's words read as 0xffff.

use super::value;
use crate::cpu::state::{CpuState, X87State};

/// The full tag word (2 bits per physical register) from contents and
/// the valid bits.
pub fn full_tag_word(x: &X87State) -> u16 {
    (0..8).fold(0, |w, p| w | value::full_tag(x.regs[p], x.valid & (1 << p) != 0) << (2 * p))
}

/// The valid bits of a full tag word: every tag but 3 (empty) is valid;
/// the FPU recomputes the other tags from the registers.
fn valid_from_full(tag: u16) -> u8 {
    (0..8).fold(0, |v, p| if (tag >> (2 * p)) & 3 != 3 { v | 1 << p } else { v })
}

/// The environment image: 28 bytes, or 14 for a 16-bit operand size.
pub fn store_environment(x: &X87State, wide: bool) -> Vec<u8> {
    let words = [x.control, x.status_word(), full_tag_word(x)];
    let mut img = Vec::with_capacity(28);
    if wide {
        for w in words {
            img.extend_from_slice(&w.to_le_bytes());
            img.extend_from_slice(&0xffffu16.to_le_bytes());
        }
        img.extend_from_slice(&(x.last_ip as u32).to_le_bytes());
        // FCS (0), then FOP in bits 16..26.
        img.extend_from_slice(&((x.last_opcode as u32 & 0x7ff) << 16).to_le_bytes());
        img.extend_from_slice(&(x.last_data as u32).to_le_bytes());
        // FDS (0) and the reserved half.
        img.extend_from_slice(&0xffff_0000u32.to_le_bytes());
    } else {
        for w in words {
            img.extend_from_slice(&w.to_le_bytes());
        }
        img.extend_from_slice(&(x.last_ip as u16).to_le_bytes());
        img.extend_from_slice(&0u16.to_le_bytes());
        img.extend_from_slice(&(x.last_data as u16).to_le_bytes());
        img.extend_from_slice(&0u16.to_le_bytes());
    }
    img
}

/// fldenv: loads an environment image.
pub fn load_environment(x: &mut X87State, img: &[u8], wide: bool) {
    let word = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]);
    let step = if wide { 4 } else { 2 };
    x.control = super::status::control_word(word(0));
    let sw = word(step);
    x.top = ((sw >> 11) & 7) as u8;
    x.status = super::status::with_summary(sw & !(7 << 11), x.control);
    x.valid = valid_from_full(word(2 * step));
    if wide {
        let dword = |o: usize| u32::from_le_bytes([img[o], img[o + 1], img[o + 2], img[o + 3]]);
        x.last_ip = dword(12) as u64;
        x.last_opcode = (dword(16) >> 16) as u16 & 0x7ff;
        x.last_data = dword(20) as u64;
    } else {
        x.last_ip = word(6) as u64;
        x.last_data = word(10) as u64;
    }
}

/// fnsave: the environment then ST(0)..ST(7), 10 bytes each.
pub fn store_state(x: &X87State, wide: bool) -> Vec<u8> {
    let mut img = store_environment(x, wide);
    for i in 0..8 {
        img.extend_from_slice(&x.regs[(x.top as usize + i) & 7].to_le_bytes()[..10]);
    }
    img
}

/// frstor: loads what fnsave stored.
pub fn load_state(x: &mut X87State, img: &[u8], wide: bool) {
    load_environment(x, img, wide);
    let base = if wide { 28 } else { 14 };
    for i in 0..8 {
        let mut b = [0u8; 16];
        b[..10].copy_from_slice(&img[base + 10 * i..base + 10 * i + 10]);
        x.regs[(x.top as usize + i) & 7] = u128::from_le_bytes(b);
    }
}

/// The FXSAVE image of `state` (also the fpstate of x86_64 signal frames,
/// `rex_w`: the 64-bit FIP/FDP layout).
pub fn fxsave_image(state: &CpuState, rex_w: bool) -> [u8; 512] {
    let x = &state.x87;
    let mut img = [0u8; 512];
    img[0..2].copy_from_slice(&x.control.to_le_bytes());
    img[2..4].copy_from_slice(&x.status_word().to_le_bytes());
    // Abridged tag word: one bit per physical register, 1 = valid.
    img[4] = x.valid;
    img[6..8].copy_from_slice(&(x.last_opcode & 0x7ff).to_le_bytes());
    if rex_w {
        img[8..16].copy_from_slice(&x.last_ip.to_le_bytes());
        img[16..24].copy_from_slice(&x.last_data.to_le_bytes());
    } else {
        // 32-bit offsets, FCS and FDS 0.
        img[8..12].copy_from_slice(&(x.last_ip as u32).to_le_bytes());
        img[16..20].copy_from_slice(&(x.last_data as u32).to_le_bytes());
    }
    img[24..28].copy_from_slice(&(state.mxcsr as u32).to_le_bytes());
    img[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
    for i in 0..8 {
        let v = x.regs[(x.top as usize + i) & 7];
        img[32 + 16 * i..42 + 16 * i].copy_from_slice(&v.to_le_bytes()[..10]);
    }
    for (i, xmm) in state.xmm.iter().enumerate() {
        img[160 + 16 * i..176 + 16 * i].copy_from_slice(&xmm.to_le_bytes());
    }
    img
}

/// Loads an FXSAVE image into `state` (fxrstor, rt_sigreturn).
pub fn load_fxsave_image(state: &mut CpuState, img: &[u8; 512], rex_w: bool) {
    let word = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]);
    let qword = |o: usize| u64::from_le_bytes(img[o..o + 8].try_into().unwrap());
    let x = &mut state.x87;
    x.control = super::status::control_word(word(0));
    let sw = word(2);
    x.top = ((sw >> 11) & 7) as u8;
    x.status = sw & !(7 << 11);
    x.valid = img[4];
    x.last_opcode = word(6) & 0x7ff;
    (x.last_ip, x.last_data) =
        if rex_w { (qword(8), qword(16)) } else { (qword(8) & 0xffff_ffff, qword(16) & 0xffff_ffff) };
    for i in 0..8 {
        let mut b = [0u8; 16];
        b[..10].copy_from_slice(&img[32 + 16 * i..42 + 16 * i]);
        x.regs[(x.top as usize + i) & 7] = u128::from_le_bytes(b);
    }
    state.mxcsr = u32::from_le_bytes([img[24], img[25], img[26], img[27]]) as u64;
    crate::cpu::host::set_rounding_from_mxcsr(state.mxcsr);
    for i in 0..16 {
        let mut b = [0u8; 16];
        b.copy_from_slice(&img[160 + 16 * i..176 + 16 * i]);
        state.xmm[i] = u128::from_le_bytes(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fninit; fld1; fldpi; fnstenv on an Intel Xeon stored (FIP aside)
    /// 7f03ffff 0030ffff ff0fffff FIP 00000000 00000000 0000ffff, and
    /// with a 0x66 prefix 7f03 0030 ff0f FIP 0000 0000 0000.
    #[test]
    fn environment_images_match_the_hardware() {
        let mut x = X87State::default();
        x.top = 6;
        x.valid = 0xc0;
        x.regs[6] = 0x4000_c90f_daa2_2168_c235;
        x.regs[7] = 0x3fff_8000_0000_0000_0000;
        x.last_ip = 0x1234_5678;
        let img = store_environment(&x, true);
        let expected: [u8; 28] = [
            0x7f, 0x03, 0xff, 0xff, 0x00, 0x30, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0xff, 0xff,
        ];
        assert_eq!(img, expected);
        let img16 = store_environment(&x, false);
        assert_eq!(img16, [0x7f, 0x03, 0x00, 0x30, 0xff, 0x0f, 0x78, 0x56, 0, 0, 0, 0, 0, 0]);
        let mut y = X87State::default();
        load_state(&mut y, &store_state(&x, true), true);
        assert_eq!((y.top, y.valid, y.regs, y.last_ip), (x.top, x.valid, x.regs, x.last_ip));
        let mut z = X87State::default();
        load_state(&mut z, &store_state(&x, false), false);
        assert_eq!((z.top, z.valid, z.regs), (x.top, x.valid, x.regs));
    }
}
