//! The status word's exception flags and condition codes (SDM vol. 1
//! 8.1.3, 8.4): which exceptions an operation raised, and whether the
//! control word masks them.

use rustc_apfloat::Status;

/// Invalid operation (including stack faults).
pub const IE: u16 = 1 << 0;
/// Denormal operand.
pub const DE: u16 = 1 << 1;
/// Division by zero.
pub const ZE: u16 = 1 << 2;
/// Overflow.
pub const OE: u16 = 1 << 3;
/// Underflow.
pub const UE: u16 = 1 << 4;
/// Precision (inexact result).
pub const PE: u16 = 1 << 5;
/// Stack fault: with IE, a stack overflow (C1 = 1) or underflow (C1 = 0).
pub const SF: u16 = 1 << 6;
/// Error summary: an unmasked exception is pending.
pub const ES: u16 = 1 << 7;
/// Busy: a copy of ES on every FPU since the 387.
pub const B: u16 = 1 << 15;
/// The six exception flags the control word can mask (same bit positions).
pub const EXCEPTIONS: u16 = 0x3f;
/// Exceptions detected before an operation computes anything: when one is
/// unmasked, the destination and the stack stay as they were (SDM vol. 1
/// 8.5.1-8.5.3).
pub const PRE_COMPUTATION: u16 = IE | DE | ZE;

pub const C0: u16 = 1 << 8;
pub const C1: u16 = 1 << 9;
pub const C2: u16 = 1 << 10;
pub const C3: u16 = 1 << 14;

/// The flags an IEEE operation status maps to.
pub fn from_apfloat(s: Status) -> u16 {
    [
        (Status::INVALID_OP, IE),
        (Status::DIV_BY_ZERO, ZE),
        (Status::OVERFLOW, OE),
        (Status::UNDERFLOW, UE),
        (Status::INEXACT, PE),
    ]
    .iter()
    .filter(|(st, _)| s.contains(*st))
    .fold(0, |f, (_, x)| f | x)
}

/// The exceptions of `raised` that `control` leaves unmasked.
pub fn unmasked(raised: u16, control: u16) -> u16 {
    raised & EXCEPTIONS & !control
}

/// `status` with ES and B recomputed from its flags and the masks.
pub fn with_summary(status: u16, control: u16) -> u16 {
    if unmasked(status, control) != 0 {
        status | ES | B
    } else {
        status & !(ES | B)
    }
}

/// A control word as the FPU holds it: bits 6-7 and 13-15 are reserved;
/// bit 6 reads as 1 (an Intel Xeon turns a loaded 0x0000 into 0x0040 and
/// 0xfb42 into 0x1b42).
pub fn control_word(v: u16) -> u16 {
    (v & 0x1f3f) | 0x40
}
