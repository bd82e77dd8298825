//! Minimal reproducers: the instructions, the input state, the differences
//! and the aarch64 code Transit emitted for them.

use crate::case::Case;
use crate::layout::CODE_ADDR;
use crate::state::GPR_NAMES;
use capstone::prelude::*;
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
use std::fmt::Write;
use transit_translator::frontend::decode::{decode_block, CodeBuffer};
use transit_translator::emit::{MemoryOrder, Stubs};
use transit_translator::frontend::flags::live_at_block_exit;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::translate::translate_block;

pub fn disassembly(code: &[u8]) -> String {
    let mut out = String::new();
    let mut f = IntelFormatter::new();
    for insn in Decoder::with_ip(64, code, CODE_ADDR, DecoderOptions::NONE) {
        let (mut text, start) = (String::new(), (insn.ip() - CODE_ADDR) as usize);
        f.format(&insn, &mut text);
        let bytes: String = code[start..start + insn.len()].iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "    {:#x}  {bytes:<24} {text}", insn.ip());
    }
    out
}

/// The host code Transit emits for the case's first block(s).
pub fn emitted(code: &[u8], block_size: usize) -> String {
    let src = CodeBuffer { base: CODE_ADDR, code };
    let cs = Capstone::new().arm64().mode(arch::arm64::ArchMode::Arm).build().unwrap();
    let mut out = String::new();
    let mut rip = CODE_ADDR;
    let end = CODE_ADDR + code.len() as u64;
    while rip < end {
        let block = decode_block(&src, rip, if block_size == 0 { 128 } else { block_size });
        // As the runner translates: one-instruction blocks use TSO order.
        let order = if block_size == 1 { MemoryOrder::Tso } else { MemoryOrder::Relaxed };
        let live = live_at_block_exit(&src, &block, |_| true);
        let mut stubs = Stubs::default();
        for (i, s) in stubs.exit.iter_mut().enumerate() {
            *s = 0x0fff_f000 + 8 * i as u64;
        }
        let t = translate_block(&block, 0x1000_0000, HostFeatures::BASELINE, stubs, live, order);
        let _ = writeln!(out, "    block {rip:#x} ({} guest instructions):", t.guest_insns);
        for i in cs.disasm_all(&t.code, 0x1000_0000).unwrap().iter() {
            let _ = writeln!(out, "      {} {}", i.mnemonic().unwrap_or("?"), i.op_str().unwrap_or(""));
        }
        if t.guest_insns == 0 {
            break;
        }
        rip = block.insns[t.guest_insns - 1].next_ip();
    }
    out
}

pub fn reproducer(case: &Case, diffs: &[String], block_size: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  instructions:\n{}", disassembly(&case.code));
    let _ = write!(out, "  input:");
    for (i, name) in GPR_NAMES.iter().enumerate() {
        if i % 4 == 0 {
            out.push_str("\n   ");
        }
        let _ = write!(out, " {name}={:#x}", case.input.gpr[i]);
    }
    let _ = writeln!(out, "\n    rflags={:#x} mxcsr={:#x} memory seed {:#x}", case.input.rflags, case.input.mxcsr, case.mem_seed);
    let x87 = &case.input.x87;
    if x87.valid != 0 {
        let _ = write!(out, "    fcw={:#06x} fsw={:#06x} tags={:#04x}", x87.control, x87.status, x87.valid);
        for i in (0..8).filter(|&i| x87.st_valid(i)) {
            let _ = write!(out, " st{i}={:#022x}", x87.st[i]);
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "  differences (block size {}):", if block_size == 0 { "unlimited".into() } else { block_size.to_string() });
    for d in diffs {
        let _ = writeln!(out, "    {d}");
    }
    let _ = writeln!(out, "  emitted aarch64:\n{}", emitted(&case.code, block_size));
    out
}
