//! The architectural state compared between the CPU and the translator.

use std::io::{self, Read, Write};

/// The x87 FPU as the CPU and Transit expose it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct X87 {
    pub control: u64,
    /// Status word including TOP (bits 11-13).
    pub status: u64,
    /// Bit i set: physical register i holds a value (abridged tag word).
    pub valid: u64,
    /// ST(0)..ST(7), 80-bit values in the low bits.
    pub st: [u128; 8],
}

impl X87 {
    pub fn top(&self) -> u64 {
        (self.status >> 11) & 7
    }
    /// Whether ST(i) holds a value.
    pub fn st_valid(&self, i: usize) -> bool {
        self.valid & (1 << ((self.top() as usize + i) & 7)) != 0
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// RAX..R15, x86 encoding order.
    pub gpr: [u64; 16],
    pub rflags: u64,
    pub mxcsr: u64,
    pub xmm: [u128; 16],
    /// Bits 128..255 of YMM0..YMM15.
    pub ymm_upper: [u128; 16],
    pub x87: X87,
}

pub const GPR_NAMES: [&str; 16] =
    ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

impl State {
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        for g in self.gpr {
            w.write_all(&g.to_le_bytes())?;
        }
        w.write_all(&self.rflags.to_le_bytes())?;
        w.write_all(&self.mxcsr.to_le_bytes())?;
        for x in self.xmm.iter().chain(&self.ymm_upper) {
            w.write_all(&x.to_le_bytes())?;
        }
        for v in [self.x87.control, self.x87.status, self.x87.valid] {
            w.write_all(&v.to_le_bytes())?;
        }
        for x in self.x87.st {
            w.write_all(&x.to_le_bytes())?;
        }
        Ok(())
    }

    pub fn read_from(r: &mut impl Read) -> io::Result<State> {
        let mut s = State::default();
        for g in s.gpr.iter_mut() {
            *g = read_u64(r)?;
        }
        s.rflags = read_u64(r)?;
        s.mxcsr = read_u64(r)?;
        for x in s.xmm.iter_mut().chain(s.ymm_upper.iter_mut()) {
            *x = read_u128(r)?;
        }
        s.x87.control = read_u64(r)?;
        s.x87.status = read_u64(r)?;
        s.x87.valid = read_u64(r)?;
        for x in s.x87.st.iter_mut() {
            *x = read_u128(r)?;
        }
        Ok(s)
    }
}

fn read_u128(r: &mut impl Read) -> io::Result<u128> {
    let mut b = [0u8; 16];
    r.read_exact(&mut b)?;
    Ok(u128::from_le_bytes(b))
}

pub fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// The x87 part of a 512-byte FXSAVE image.
pub fn x87_to_fxsave(x: &X87, img: &mut [u8; 512]) {
    img[0..2].copy_from_slice(&(x.control as u16).to_le_bytes());
    img[2..4].copy_from_slice(&(x.status as u16).to_le_bytes());
    img[4] = x.valid as u8;
    for (i, v) in x.st.iter().enumerate() {
        img[32 + 16 * i..42 + 16 * i].copy_from_slice(&v.to_le_bytes()[..10]);
    }
}

pub fn x87_from_fxsave(img: &[u8; 512]) -> X87 {
    let mut x = X87 {
        control: u16::from_le_bytes([img[0], img[1]]) as u64,
        status: u16::from_le_bytes([img[2], img[3]]) as u64,
        valid: img[4] as u64,
        st: [0; 8],
    };
    for (i, v) in x.st.iter_mut().enumerate() {
        let mut b = [0u8; 16];
        b[..10].copy_from_slice(&img[32 + 16 * i..42 + 16 * i]);
        *v = u128::from_le_bytes(b);
    }
    x
}
