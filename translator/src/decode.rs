//! Guest code in, decoded instructions out (iced-x86 does the decoding).

use iced_x86::{Decoder, DecoderError, DecoderOptions, FlowControl, Instruction, OpKind};

/// Where guest code bytes come from.
pub trait CodeSource {
    /// Up to `max` bytes starting at `addr`, possibly fewer (end of mapped code).
    fn bytes(&self, addr: u64, max: usize) -> &[u8];
}

/// Guest memory is host memory: code is read in place. Reads stop at the
/// page boundary unless an instruction really continues into the next page,
/// so decoding never touches a page the guest CPU would not fetch.
pub struct HostMemory;

const PAGE: u64 = 4096;

impl CodeSource for HostMemory {
    fn bytes(&self, addr: u64, max: usize) -> &[u8] {
        // SAFETY: the caller decodes at addresses the guest is executing; the
        // page containing `addr` is mapped (the guest jumped there), and the
        // decoder asks for the next page only when an instruction crosses
        // into it, which the guest's own fetch would do as well.
        unsafe { std::slice::from_raw_parts(addr as *const u8, max) }
    }
}

/// A byte buffer at a guest address (tests, benches, the slow-path interpreter).
pub struct CodeBuffer<'a> {
    pub base: u64,
    pub code: &'a [u8],
}

impl CodeSource for CodeBuffer<'_> {
    fn bytes(&self, addr: u64, max: usize) -> &[u8] {
        let Some(off) = addr.checked_sub(self.base) else { return &[] };
        let off = (off as usize).min(self.code.len());
        let end = (off + max).min(self.code.len());
        &self.code[off..end]
    }
}

/// Decodes the instruction at `addr`. `None` means the bytes are not a valid
/// instruction (the guest gets SIGILL there).
pub fn decode_one(src: &dyn CodeSource, addr: u64) -> Option<Instruction> {
    let to_page_end = (PAGE - (addr % PAGE)) as usize;
    for window in [to_page_end.min(15), 15] {
        let bytes = src.bytes(addr, window);
        let mut decoder = Decoder::with_ip(64, bytes, addr, DecoderOptions::NONE);
        let insn = decoder.decode();
        if !insn.is_invalid() {
            return Some(insn);
        }
        if decoder.last_error() != DecoderError::NoMoreBytes || window == 15 {
            return None;
        }
    }
    None
}

/// A guest basic block: straight-line instructions ending at a control-flow
/// change, an undecodable instruction (`invalid_at`), or the length limit.
#[derive(Debug, Clone)]
pub struct GuestBlock {
    pub start: u64,
    pub insns: Vec<Instruction>,
    /// Address of an undecodable instruction that ends the block.
    pub invalid_at: Option<u64>,
}

impl GuestBlock {
    /// Address right after the last decoded instruction.
    pub fn end(&self) -> u64 {
        self.insns.last().map_or(self.start, |i| i.next_ip())
    }
}

pub fn decode_block(src: &dyn CodeSource, start: u64, max_insns: usize) -> GuestBlock {
    let mut block = GuestBlock { start, insns: Vec::with_capacity(32), invalid_at: None };
    let mut addr = start;
    while block.insns.len() < max_insns {
        let Some(insn) = decode_one(src, addr) else {
            block.invalid_at = Some(addr);
            break;
        };
        addr = insn.next_ip();
        let ends = ends_block(&insn);
        block.insns.push(insn);
        if ends {
            break;
        }
    }
    block
}

fn ends_block(insn: &Instruction) -> bool {
    insn.flow_control() != FlowControl::Next
}

/// Operand size in bytes of an instruction's first operand.
pub fn operand_size(insn: &Instruction) -> usize {
    match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size(),
        OpKind::Memory => insn.memory_size().size(),
        _ => 8,
    }
}
