//! The XSAVE-managed state of the CPU Transit presents (SDM vol. 1 ch. 13):
//! the state components, where each sits in an XSAVE area's standard and
//! compacted formats, and CPUID leaf 0xD, which describes them. Which
//! components a level has (its XCR0) is part of its model in `features`;
//! the interpreter (`interp/xsave.rs`) and the signal frames use this
//! layout.
//!
//! Components 0 (x87) and 1 (SSE) live in the 512-byte legacy region (the
//! FXSAVE image); the 64-byte XSAVE header follows; components 2 and up
//! are rows of `EXTENDED`.

/// State-component bitmap bits (XCR0, XSTATE_BV, XCOMP_BV, RFBM).
pub const X87: u64 = 1 << 0;
pub const SSE: u64 = 1 << 1;
pub const AVX: u64 = 1 << 2;
/// XCOMP_BV bit 63: the area is in the compacted format.
pub const COMPACTED: u64 = 1 << 63;

pub const LEGACY_SIZE: usize = 512;
/// Where the XSAVE header starts, and where the extended region starts.
pub const HEADER: usize = LEGACY_SIZE;
pub const EXTENDED_START: usize = HEADER + 64;

/// A state component of the extended region.
pub struct Component {
    pub bit: u64,
    pub size: usize,
    /// Offset in the standard format (CPUID.(0xD, i):EBX).
    pub offset: usize,
    /// Starts at a 64-byte boundary in the compacted format (CPUID.(0xD, i):ECX[1]).
    pub align64: bool,
}

/// The extended-region components Transit can hold, in bit order. A
/// level's XCR0 chooses among them.
pub const EXTENDED: &[Component] = &[
    // YMM_Hi128: bits 128..255 of YMM0..15 (`CpuState::ymm_upper`).
    Component { bit: AVX, size: 256, offset: 576, align64: false },
];

/// CPUID.(0xD, 1):EAX bits: the XSAVE instructions beyond XSAVE itself.
pub mod leaf_d1_eax {
    pub const XSAVEOPT: u32 = 1 << 0;
    pub const XSAVEC: u32 = 1 << 1;
    /// XGETBV with ECX = 1 returns XINUSE.
    pub const XGETBV_ECX1: u32 = 1 << 2;
}

/// The size of a standard-format area holding the components of `mask`
/// (XSAVE writes no further; CPUID.(0xD, 0):EBX for XCR0).
pub fn standard_size(mask: u64) -> usize {
    EXTENDED.iter().filter(|c| mask & c.bit != 0).map(|c| c.offset + c.size).fold(EXTENDED_START, usize::max)
}

/// The offset of each component of `format` (XCOMP_BV's bits 62:0) in the
/// compacted format, and the format's size (SDM vol. 1 13.4.3).
pub fn compacted_layout(format: u64) -> (Vec<(&'static Component, usize)>, usize) {
    let mut offset = EXTENDED_START;
    let mut layout = Vec::new();
    for c in EXTENDED.iter().filter(|c| format & c.bit != 0) {
        if c.align64 {
            offset = offset.next_multiple_of(64);
        }
        layout.push((c, offset));
        offset += c.size;
    }
    (layout, offset)
}

/// CPUID leaf 0xD on a CPU whose XCR0 is `xcr0` (both what it supports
/// and what the OS enabled: Linux enables every user component) and whose
/// CPUID.(0xD, 1):EAX is `d1_eax`. All zero without XSAVE.
pub fn cpuid_leaf_d(xcr0: u64, d1_eax: u32, subleaf: u32) -> (u32, u32, u32, u32) {
    if xcr0 == 0 {
        return (0, 0, 0, 0);
    }
    let size = standard_size(xcr0) as u32;
    match subleaf {
        // Supported XCR0 bits (EDX:EAX), size for the enabled ones, size for all.
        0 => (xcr0 as u32, size, size, (xcr0 >> 32) as u32),
        // EBX: the compacted size for XCR0 | IA32_XSS (no supervisor state: XSS is 0).
        1 => (d1_eax, compacted_layout(xcr0).1 as u32, 0, 0),
        i => match EXTENDED.iter().find(|c| i < 64 && c.bit == 1 << i && xcr0 & c.bit != 0) {
            // ECX bit 0 clear: a user (XCR0) component.
            Some(c) => (c.size as u32, c.offset as u32, (c.align64 as u32) << 1, 0),
            None => (0, 0, 0, 0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x87 and SSE fill the legacy region: XCR0 = 3 needs 576 bytes in
    /// both formats, as on every CPU with XSAVE.
    #[test]
    fn x87_and_sse_take_the_legacy_region_and_the_header() {
        assert_eq!(standard_size(X87 | SSE), 576);
        assert_eq!(compacted_layout(X87 | SSE).1, 576);
        assert_eq!(cpuid_leaf_d(3, 0, 0), (3, 576, 576, 0));
        assert_eq!(cpuid_leaf_d(3, 0, 2), (0, 0, 0, 0));
        assert_eq!(cpuid_leaf_d(0, 0, 0), (0, 0, 0, 0));
    }

    /// With AVX (x86-64-v3): YMM_Hi128 at 576, 256 bytes, as Intel and AMD CPUs report.
    #[test]
    fn avx_adds_its_row() {
        assert_eq!(standard_size(X87 | SSE | AVX), 832);
        assert_eq!(cpuid_leaf_d(7, 0, 0), (7, 832, 832, 0));
        assert_eq!(cpuid_leaf_d(7, 0, 1).1, 832);
        assert_eq!(cpuid_leaf_d(7, 0, 2), (256, 576, 0, 0));
        assert_eq!(cpuid_leaf_d(7, 0, 3), (0, 0, 0, 0));
        assert_eq!(cpuid_leaf_d(7, 0, 66), (0, 0, 0, 0));
    }
}
