//! x87 memory operands: reading and writing guest memory, and converting
//! between the memory formats (float32/64/80, int16/32/64) and registers.

use super::status::{from_apfloat, DE, IE, OE, PE, UE};
use super::transcendental::Outcome;
use super::value;
use iced_x86::MemorySize;
use rustc_apfloat::ieee::{Double, Single, X87DoubleExtended as F80};
use rustc_apfloat::{Float, FloatConvert, Round, Status, StatusAnd};

// SAFETY (for the memory helpers below): the interpreter has probed the
// operand (`interp::check_memory`); the guest chose these addresses and
// owns the memory, and a bad address faults as the guest's own access would.
pub fn read_mem(addr: u64, size: usize) -> u128 {
    let mut b = [0u8; 16];
    unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, b.as_mut_ptr(), size) };
    u128::from_le_bytes(b)
}
pub fn read_bytes(addr: u64, len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    // SAFETY: see `read_mem`.
    unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, b.as_mut_ptr(), len) };
    b
}
pub fn write_bytes(addr: u64, bytes: &[u8]) {
    // SAFETY: see `read_mem`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
}

/// A memory operand as an 80-bit register value, and DE when it was a
/// denormal of its own format (it is normal as an 80-bit value).
pub struct Loaded {
    pub bits: u128,
    pub flags: u16,
}

/// A 32- or 64-bit float (`frac_bits` fraction bits) as an 80-bit value.
/// NaNs are widened by hand so that a signalling NaN stays signalling: of a
/// signalling and a quiet NaN the FPU picks the quiet one, which a
/// converting (quieting) load would hide.
fn widen(bits: u128, frac_bits: u32, convert: impl FnOnce(u128) -> F80) -> Loaded {
    let exp_bits = if frac_bits == 23 { 8 } else { 11 };
    let exp_max = (1u128 << exp_bits) - 1;
    let frac = bits & ((1 << frac_bits) - 1);
    let exponent = (bits >> frac_bits) & exp_max;
    let flags = if exponent == 0 && frac != 0 { DE } else { 0 };
    if exponent != exp_max || frac == 0 {
        return Loaded { bits: convert(bits).to_bits(), flags };
    }
    let sign = (bits >> (frac_bits + exp_bits)) & 1;
    Loaded { bits: sign << 79 | 0x7fff << 64 | 1 << 63 | frac << (63 - frac_bits), flags }
}

fn to_f80<T: FloatConvert<F80>>(v: T) -> F80 {
    let mut loses = false;
    v.convert(&mut loses).value
}

/// Loads a memory operand of any x87 number type (a NaN keeps its
/// signalling bit: the instruction decides).
pub fn load(size: MemorySize, addr: u64) -> Option<Loaded> {
    let int = |v: i128| Loaded { bits: F80::from_i128(v).value.to_bits(), flags: 0 };
    Some(match size {
        MemorySize::Float32 => widen(read_mem(addr, 4), 23, |b| to_f80(Single::from_bits(b))),
        MemorySize::Float64 => widen(read_mem(addr, 8), 52, |b| to_f80(Double::from_bits(b))),
        MemorySize::Float80 => Loaded { bits: read_mem(addr, 10), flags: 0 },
        MemorySize::Int16 => int(read_mem(addr, 2) as u16 as i16 as i128),
        MemorySize::Int32 => int(read_mem(addr, 4) as u32 as i32 as i128),
        MemorySize::Int64 => int(read_mem(addr, 8) as u64 as i64 as i128),
        _ => return None,
    })
}

/// The size in bytes and the indefinite of a store format.
pub fn indefinite(size: MemorySize) -> Option<(usize, u128)> {
    Some(match size {
        MemorySize::Float32 => (4, 0xffc0_0000),
        MemorySize::Float64 => (8, 0xfff8_0000_0000_0000),
        MemorySize::Float80 => (10, value::INDEFINITE),
        MemorySize::Int16 => (2, 0x8000),
        MemorySize::Int32 => (4, 0x8000_0000),
        MemorySize::Int64 => (8, 0x8000_0000_0000_0000),
        MemorySize::Bcd => (10, super::bcd::BCD_INDEFINITE),
        _ => return None,
    })
}

/// ST(0) converted for a store in `size`'s format (`round` from the
/// control word, toward zero for fisttp).
pub fn store(size: MemorySize, v: u128, round: Round) -> Option<Outcome> {
    let (_, format_indefinite) = indefinite(size)?;
    if size == MemorySize::Float80 {
        return Some(Outcome { bits: v, flags: 0, up: false });
    }
    if value::unsupported(v) {
        return Some(Outcome { bits: format_indefinite, flags: IE, up: false });
    }
    let x = F80::from_bits(v);
    let mut loses = false;
    Some(match size {
        MemorySize::Float32 => {
            let s: StatusAnd<Single> = x.convert_r(round, &mut loses);
            narrowed(x, s.status, s.value.to_bits(), to_f80(s.value), s.value.is_denormal() || s.value.is_zero(), 128)
        }
        MemorySize::Float64 => {
            let d: StatusAnd<Double> = x.convert_r(round, &mut loses);
            narrowed(x, d.status, d.value.to_bits(), to_f80(d.value), d.value.is_denormal() || d.value.is_zero(), 1024)
        }
        MemorySize::Int16 => to_int(x, 16, round, format_indefinite),
        MemorySize::Int32 => to_int(x, 32, round, format_indefinite),
        MemorySize::Int64 => to_int(x, 64, round, format_indefinite),
        _ => return None,
    })
}

/// The outcome of narrowing `x` to a smaller float format: overflow and
/// underflow as the FPU detects them (rounded to infinity, or at least
/// 2^`limit`, the end of the largest binade, which rounds to the largest
/// finite value toward zero; an inexact result that is tiny), which the
/// conversion's status does not always report.
fn narrowed(x: F80, status: Status, bits: u128, back: F80, tiny: bool, limit: i32) -> Outcome {
    let mut flags = from_apfloat(status);
    let end = F80::from_i128(1).value.scalbn(limit);
    if x.is_finite() && (back.is_infinite() || x.abs() >= end) {
        flags |= OE | PE;
    }
    if flags & PE != 0 && tiny {
        flags |= UE;
    }
    Outcome { bits, flags, up: !x.is_nan() && back.abs() > x.abs() }
}

/// Integer conversion with x87's "integer indefinite" for NaN, infinity
/// and overflow (invalid), PE when inexact.
fn to_int(v: F80, bits: usize, round: Round, indefinite: u128) -> Outcome {
    let mut exact = false;
    let r = v.to_i128_r(bits, round, &mut exact);
    if v.is_nan() || r.status.contains(Status::INVALID_OP) {
        return Outcome { bits: indefinite, flags: IE, up: false };
    }
    let rounded = F80::from_i128(r.value).value;
    let inexact = !exact;
    Outcome {
        bits: r.value as u128 & ((1u128 << bits) - 1),
        flags: if inexact { super::status::PE } else { 0 },
        up: inexact && rounded.abs() > v.abs(),
    }
}
