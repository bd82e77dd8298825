//! Loads and stores of SIMD&FP registers (Arm ARM, "Load/store register"
//! unscaled immediate, unsigned immediate, register offset and
//! post-indexed immediate): the access
//! width and the addressing form as data, one encoder for all of them.

use super::operands::{VReg, XReg};

/// How many bytes of a vector register an access moves: its low B, H, S
/// or D element, or all of it (Q).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    B = 0,
    H = 1,
    S = 2,
    D = 3,
    Q = 4,
}

impl Width {
    pub const ALL: [Width; 5] = [Width::B, Width::H, Width::S, Width::D, Width::Q];

    /// The width of a `bytes`-byte access (1, 2, 4, 8 or 16).
    pub fn of_bytes(bytes: u8) -> Option<Width> {
        Width::ALL.into_iter().find(|w| w.bytes() == u32::from(bytes))
    }

    pub const fn bytes(self) -> u32 {
        1 << self as u32
    }
}

/// A load or store's address, in one of the three forms aarch64's
/// SIMD&FP loads and stores take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemAddr {
    /// `[base, #off]`, `off` in -256..=255 (ldur/stur).
    Unscaled { base: XReg, off: i32 },
    /// `[base, #off]`, `off` a multiple of the access size below 4096
    /// times it (ldr/str's unsigned offset).
    Scaled { base: XReg, off: u32 },
    /// `[base, index, lsl #shift]`, `shift` 0 or log2 of the access size.
    Indexed { base: XReg, index: XReg, shift: u8 },
    /// `[base], #step`, `step` in -256..=255: the access at base, then
    /// base += step (post-indexed).
    PostIndexed { base: XReg, step: i32 },
}

/// The instruction word of a load (`load`) or store of `width` bytes of
/// `rt` at `addr`. Panics on an offset or shift the form cannot hold: the
/// caller (`emit::vector_memory`) chose the form for it.
pub fn encode_vec_mem(load: bool, width: Width, rt: VReg, addr: MemAddr) -> u32 {
    // size (bits 31:30) and opc (23:22): Q is size 0 with opc's high bit.
    let (size, wide) = match width {
        Width::Q => (0, 1),
        w => (w as u32, 0),
    };
    let common = size << 30 | (wide << 1 | load as u32) << 22 | rt.0 as u32;
    match addr {
        MemAddr::Unscaled { base, off } => {
            assert!((-256..256).contains(&off), "ldur offset {off}");
            0x3c00_0000 | common | ((off as u32) & 0x1ff) << 12 | (base.0 as u32) << 5
        }
        MemAddr::Scaled { base, off } => {
            let scaled = off / width.bytes();
            assert!(off % width.bytes() == 0 && scaled < 4096, "ldr offset {off} for {width:?}");
            0x3d00_0000 | common | scaled << 10 | (base.0 as u32) << 5
        }
        MemAddr::PostIndexed { base, step } => {
            assert!((-256..256).contains(&step), "post-index step {step}");
            0x3c00_0400 | common | ((step as u32) & 0x1ff) << 12 | (base.0 as u32) << 5
        }
        MemAddr::Indexed { base, index, shift } => {
            assert!(shift == 0 || u32::from(shift) == width as u32, "shift {shift} for {width:?}");
            // option 011 (lsl), S (bit 12) when shifted.
            0x3c20_6800 | common | (index.0 as u32) << 16 | ((shift != 0) as u32) << 12 | (base.0 as u32) << 5
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynasmrt::{dynasm, DynasmApi};

    /// dynasm-rs's encoding of the same access, with v9, x3 and x17.
    fn reference(load: bool, width: Width, addr: MemAddr) -> u32 {
        let mut ops = dynasmrt::VecAssembler::<dynasmrt::aarch64::Aarch64Relocation>::new(0);
        let t = 9u8;
        macro_rules! each_width {
            ($op:ident, $($mem:tt)*) => {
                match width {
                    Width::B => dynasm!(ops; .arch aarch64; $op B(t), $($mem)*),
                    Width::H => dynasm!(ops; .arch aarch64; $op H(t), $($mem)*),
                    Width::S => dynasm!(ops; .arch aarch64; $op S(t), $($mem)*),
                    Width::D => dynasm!(ops; .arch aarch64; $op D(t), $($mem)*),
                    Width::Q => dynasm!(ops; .arch aarch64; $op Q(t), $($mem)*),
                }
            };
        }
        match (load, addr) {
            (true, MemAddr::Unscaled { base, off }) => each_width!(ldur, [X(base.0), off]),
            (false, MemAddr::Unscaled { base, off }) => each_width!(stur, [X(base.0), off]),
            (true, MemAddr::Scaled { base, off }) => each_width!(ldr, [X(base.0), off]),
            (false, MemAddr::Scaled { base, off }) => each_width!(str, [X(base.0), off]),
            (true, MemAddr::PostIndexed { base, step }) => each_width!(ldr, [X(base.0)], step),
            (false, MemAddr::PostIndexed { base, step }) => each_width!(str, [X(base.0)], step),
            (true, MemAddr::Indexed { base, index, shift: 0 }) => each_width!(ldr, [X(base.0), X(index.0)]),
            (false, MemAddr::Indexed { base, index, shift: 0 }) => each_width!(str, [X(base.0), X(index.0)]),
            (true, MemAddr::Indexed { base, index, shift }) => {
                let sh = u32::from(shift);
                each_width!(ldr, [X(base.0), X(index.0), lsl sh])
            }
            (false, MemAddr::Indexed { base, index, shift }) => {
                let sh = u32::from(shift);
                each_width!(str, [X(base.0), X(index.0), lsl sh])
            }
        }
        let code = ops.finalize().unwrap();
        u32::from_le_bytes(code[..4].try_into().unwrap())
    }

    #[test]
    fn every_width_and_form_matches_dynasm() {
        let (base, index) = (XReg(3), XReg(17));
        for width in Width::ALL {
            let size = width.bytes();
            let addrs = [
                MemAddr::Unscaled { base, off: -256 },
                MemAddr::Unscaled { base, off: 255 },
                MemAddr::Unscaled { base, off: 0 },
                MemAddr::Scaled { base, off: size * 4095 },
                MemAddr::Scaled { base, off: size * 37 },
                MemAddr::Indexed { base, index, shift: 0 },
                MemAddr::Indexed { base, index, shift: width as u8 },
                MemAddr::PostIndexed { base, step: -256 },
                MemAddr::PostIndexed { base, step: 255 },
                MemAddr::PostIndexed { base, step: 8 },
            ];
            for addr in addrs {
                for load in [true, false] {
                    let (ours, want) = (encode_vec_mem(load, width, VReg(9), addr), reference(load, width, addr));
                    assert_eq!(ours, want, "{load} {width:?} {addr:?}: {ours:#010x} vs dynasm {want:#010x}");
                }
            }
        }
    }

    #[test]
    fn widths_of_bytes() {
        assert_eq!(Width::of_bytes(16), Some(Width::Q));
        assert_eq!(Width::of_bytes(2), Some(Width::H));
        assert_eq!(Width::of_bytes(3), None);
    }
}
