//! The architectural state compared between the CPU and the translator.

use std::io::{self, Read, Write};

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// RAX..R15, x86 encoding order.
    pub gpr: [u64; 16],
    pub rflags: u64,
    pub mxcsr: u64,
    pub xmm: [u128; 16],
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
        for x in self.xmm {
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
        for x in s.xmm.iter_mut() {
            let mut b = [0u8; 16];
            r.read_exact(&mut b)?;
            *x = u128::from_le_bytes(b);
        }
        Ok(s)
    }
}

pub fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}
