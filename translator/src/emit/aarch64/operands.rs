//! Operand types: general and vector register numbers (distinct types, so
//! one cannot be passed for the other), and vector arrangements.

/// A general register x0..x30 (31 is the zero register or sp, by context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XReg(pub u8);

/// A SIMD&FP register v0..v31.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VReg(pub u8);

/// The size of one vector element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementSize {
    B = 0,
    H = 1,
    S = 2,
    D = 3,
}

impl ElementSize {
    pub const fn bytes(self) -> u32 {
        1 << self as u32
    }
}

/// A vector arrangement: element size and register width (64 or 128 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrangement {
    pub element: ElementSize,
    /// 128-bit register (the Q bit) rather than its low 64 bits.
    pub full: bool,
}

impl Arrangement {
    pub const B8: Arrangement = Arrangement { element: ElementSize::B, full: false };
    pub const B16: Arrangement = Arrangement { element: ElementSize::B, full: true };
    pub const H4: Arrangement = Arrangement { element: ElementSize::H, full: false };
    pub const H8: Arrangement = Arrangement { element: ElementSize::H, full: true };
    pub const S2: Arrangement = Arrangement { element: ElementSize::S, full: false };
    pub const S4: Arrangement = Arrangement { element: ElementSize::S, full: true };
    /// One 64-bit element: the scalar forms.
    pub const D1: Arrangement = Arrangement { element: ElementSize::D, full: false };
    pub const D2: Arrangement = Arrangement { element: ElementSize::D, full: true };

    /// The 128-bit arrangement of `element`.
    pub const fn full(element: ElementSize) -> Arrangement {
        Arrangement { element, full: true }
    }

    /// The 64-bit arrangement of `element` (MMX's width).
    pub const fn half(element: ElementSize) -> Arrangement {
        Arrangement { element, full: false }
    }
}
