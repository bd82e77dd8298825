//! Guest code in, decoded instructions out (iced-x86 does the decoding).

use iced_x86::{Decoder, DecoderError, DecoderOptions, FlowControl, Instruction, OpKind};
use std::sync::{Mutex, Once, OnceLock};

/// Where guest code bytes come from.
pub trait CodeSource {
    /// Up to `max` bytes starting at `addr`, possibly fewer (end of mapped code).
    fn bytes(&self, addr: u64, max: usize) -> &[u8];

    /// `len` bytes at `addr` without probing them.
    ///
    /// # Safety
    /// The caller found every page of the range readable with `bytes`, and
    /// nothing unmapped them since.
    unsafe fn bytes_probed(&self, addr: u64, len: usize) -> &[u8] {
        self.bytes(addr, len)
    }
}

/// Guest memory is host memory: code is read in place. Reads stop at the
/// page boundary unless an instruction really continues into the next page,
/// so decoding never touches a page the guest CPU would not fetch.
pub struct HostMemory;

const PAGE: u64 = 4096;

impl CodeSource for HostMemory {
    fn bytes(&self, addr: u64, max: usize) -> &[u8] {
        // Stop at the first page the guest could not fetch from: the
        // guest jumped somewhere unmapped, or an instruction crosses into
        // an unmapped page (the dispatcher turns that into the guest's
        // SIGSEGV).
        let mut len = 0usize;
        while len < max {
            let at = addr + len as u64;
            if crate::frontend::probe::check(at, 1, false).is_err() {
                break;
            }
            len += ((PAGE - at % PAGE) as usize).min(max - len);
        }
        // SAFETY: every page of `[addr, addr + len)` was just read.
        unsafe { std::slice::from_raw_parts(addr as *const u8, len) }
    }

    unsafe fn bytes_probed(&self, addr: u64, len: usize) -> &[u8] {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(addr as *const u8, len) }
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

/// Wraps the building of iced's decoder tables (Transit's start-up arena
/// takes their allocations): `wrap(build)` must call `build` once.
static TABLE_BUILDER: OnceLock<fn(fn())> = OnceLock::new();
static TABLES_BUILT: Once = Once::new();
/// Held while the tables are built, and across a fork (`hold_for_fork`):
/// a child forked while another thread was halfway through would wait for
/// them for ever.
static TABLES_BUILDING: Mutex<()> = Mutex::new(());

/// Sets how the decoder's tables get built, on the first decode. Until
/// then nothing is built: a start whose blocks all come from the
/// persistent code cache decodes nothing, and the tables cost about 0.8M
/// host instructions.
pub fn set_table_builder(wrap: fn(build: fn())) {
    let _ = TABLE_BUILDER.set(wrap);
}

fn build_tables() {
    let _ = Decoder::with_ip(64, &[0x90], 0, DecoderOptions::NONE).decode();
}

/// A 64-bit decoder of `bytes`, the first at `ip`. Every decoder of guest
/// code comes from here, so that the tables are built through the builder.
pub fn decoder(bytes: &[u8], ip: u64) -> Decoder<'_> {
    if !TABLES_BUILT.is_completed() {
        let _building = TABLES_BUILDING.lock().unwrap_or_else(|e| e.into_inner());
        TABLES_BUILT.call_once(|| match TABLE_BUILDER.get() {
            Some(wrap) => wrap(build_tables),
            None => build_tables(),
        });
    }
    Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE)
}

/// For a fork: no thread is building the decoder's tables meanwhile.
pub fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(TABLES_BUILDING.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Guest code read through one decoder per page, kept for the next run of
/// instructions in the same page: a block's decoding and the flag
/// look-ahead into its successors (mostly in the block's last page) share
/// it. Setting up iced's decoder cost more than decoding two instructions.
pub struct PageDecoder<'a> {
    src: &'a dyn CodeSource,
    /// The guest range `[start, end)` whose bytes the decoder has (to the
    /// end of one page), and the decoder.
    page: Option<(u64, u64, Decoder<'a>)>,
}

impl<'a> PageDecoder<'a> {
    pub fn new(src: &'a dyn CodeSource) -> Self {
        PageDecoder { src, page: None }
    }

    pub fn src(&self) -> &'a dyn CodeSource {
        self.src
    }

    /// A decoder at `addr` whose bytes end where `addr`'s page ends (or
    /// where the source's code does).
    pub fn at(&mut self, addr: u64) -> &mut Decoder<'a> {
        if !matches!(&self.page, Some((start, end, _)) if (*start..*end).contains(&addr)) {
            // From the page's start when the source has those bytes, so
            // that a backward branch's target is covered too.
            let page_start = addr & !(PAGE - 1);
            let whole_page = self.src.bytes(page_start, PAGE as usize);
            let (start, bytes) = if whole_page.len() as u64 > addr - page_start {
                (page_start, whole_page)
            } else {
                (addr, self.src.bytes(addr, (PAGE - addr % PAGE) as usize))
            };
            self.page = Some((start, start + bytes.len() as u64, decoder(bytes, start)));
        }
        let (start, _, decoder) = self.page.as_mut().expect("a decoder was just set up");
        decoder.set_position((addr - *start) as usize).expect("an offset within the decoder's bytes");
        decoder.set_ip(addr);
        decoder
    }
}

/// Decodes the instruction at `addr`. `None` means the bytes are not a valid
/// instruction (the guest gets SIGILL there).
pub fn decode_one(src: &dyn CodeSource, addr: u64) -> Option<Instruction> {
    let to_page_end = (PAGE - (addr % PAGE)) as usize;
    for window in [to_page_end.min(15), 15] {
        let bytes = src.bytes(addr, window);
        let mut window_decoder = decoder(bytes, addr);
        let insn = window_decoder.decode();
        if !insn.is_invalid() {
            return Some(insn);
        }
        if window_decoder.last_error() != DecoderError::NoMoreBytes || window == 15 {
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
    /// Conditional branches inside it (not its last instruction): its
    /// side exits.
    pub side_exits: u32,
}

thread_local! {
    /// The instruction buffer of the last block decoded on this thread,
    /// for the next (`GuestBlock::recycle`).
    static SPARE_INSNS: std::cell::Cell<Vec<Instruction>> = const { std::cell::Cell::new(Vec::new()) };
}

impl GuestBlock {
    /// Gives the instruction buffer to the next block this thread decodes.
    pub fn recycle(self) {
        let mut insns = self.insns;
        insns.clear();
        SPARE_INSNS.set(insns);
    }

    /// Address right after the last decoded instruction.
    pub fn end(&self) -> u64 {
        self.insns.last().map_or(self.start, |i| i.next_ip())
    }
}

pub fn decode_block(src: &dyn CodeSource, start: u64, max_insns: usize) -> GuestBlock {
    decode_block_until(src, start, max_insns, &[])
}

/// `decode_block`, also ending the block before any address of `stops`
/// (sorted) but its start: the debugger's breakpoints, which the
/// dispatcher must see RIP reach.
pub fn decode_block_until(src: &dyn CodeSource, start: u64, max_insns: usize, stops: &[u64]) -> GuestBlock {
    decode_block_in(&mut PageDecoder::new(src), start, max_insns, stops, side_exits_allowed(), &|_| true)
}

/// `decode_block_until` through `code`'s decoders (left at the block's last
/// page), going on past at most `side_exits` conditional branches
/// (`side_exits_allowed()` for the usual blocks), and only to a way on
/// for which `goes_on_to` holds (the code cache: one not translated yet,
/// rather than translating it again).
pub fn decode_block_in(
    code: &mut PageDecoder,
    start: u64,
    max_insns: usize,
    stops: &[u64],
    side_exits: u32,
    goes_on_to: &dyn Fn(u64) -> bool,
) -> GuestBlock {
    let mut last_went_on = false;
    let mut block = decode_insns(code, start, max_insns, stops, (side_exits, goes_on_to), &mut last_went_on);
    // A conditional branch the block went on past but then ended with (a
    // stop, the size limit, bytes that do not decode) is no side exit.
    if last_went_on {
        block.side_exits -= 1;
    }
    block
}

/// `decode_block_in`'s instructions; `last_went_on`: whether the last one
/// is a conditional branch counted as a side exit.
fn decode_insns(
    code: &mut PageDecoder,
    start: u64,
    max_insns: usize,
    stops: &[u64],
    side_exits: (u32, &dyn Fn(u64) -> bool),
    last_went_on: &mut bool,
) -> GuestBlock {
    let src = code.src();
    // The first stop after the start: one compare per instruction.
    let limit = stops.iter().copied().find(|&s| s > start).unwrap_or(u64::MAX);
    let stops_at = |addr: u64| addr >= limit;
    let mut insns = SPARE_INSNS.take();
    // Blocks average about 4 instructions.
    insns.reserve(16);
    let mut block = GuestBlock { start, insns, invalid_at: None, side_exits: 0 };
    let mut addr = start;
    while block.insns.len() < max_insns {
        let decoder = code.at(addr);
        while block.insns.len() < max_insns && decoder.can_decode() {
            if stops_at(addr) {
                return block;
            }
            // Decoded in place: a copy of each instruction from the
            // decoder's result cost more than clearing the slot.
            block.insns.push(Instruction::default());
            let insn = block.insns.last_mut().expect("just pushed");
            decoder.decode_out(insn);
            if insn.is_invalid() {
                block.insns.pop();
                break;
            }
            addr = insn.next_ip();
            let counted = block.side_exits;
            let ends = ends_block(insn, side_exits, &mut block.side_exits);
            *last_went_on = block.side_exits != counted;
            if ends {
                return block;
            }
        }
        if block.insns.len() == max_insns {
            break;
        }
        if stops_at(addr) {
            break;
        }
        // The page's end, an instruction crossing it, or invalid bytes.
        let Some(insn) = decode_one(src, addr) else {
            // Past a conditional branch the bytes may be no code at all:
            // the branch ends the block, and they fail only if run.
            if *last_went_on {
                break;
            }
            let bytes = src.bytes(addr, ((PAGE - addr % PAGE) as usize).min(15));
            tracing::warn!(
                addr = format_args!("{addr:#x}"),
                bytes = format_args!("{bytes:02x?}"),
                "undecodable instruction{}: SIGILL",
                left_out_encoding(bytes)
            );
            block.invalid_at = Some(addr);
            break;
        };
        addr = insn.next_ip();
        let counted = block.side_exits;
        let ends = ends_block(&insn, side_exits, &mut block.side_exits);
        *last_went_on = block.side_exits != counted;
        block.insns.push(insn);
        if ends {
            break;
        }
    }
    block
}

/// Encodings the decoder is built without (iced's no_evex, no_xop and
/// no_d3now features: their tables cost start-up time in every process).
/// The x86-64-v1 Intel CPU Transit presents raises #UD for them too, so
/// the guest sees no difference; the log says what the bytes were.
fn left_out_encoding(bytes: &[u8]) -> &'static str {
    let is_prefix = |b: u8| matches!(b, 0x26 | 0x2e | 0x36 | 0x3e | 0x64..=0x67 | 0xf0 | 0xf2 | 0xf3 | 0x40..=0x4f);
    let opcode = bytes.iter().position(|&b| !is_prefix(b)).map_or(&[][..], |i| &bytes[i..]);
    match opcode {
        [0x62, ..] => " (EVEX: AVX-512)",
        [0x8f, modrm, ..] if modrm & 0x38 != 0 => " (XOP: AMD)",
        [0x0f, 0x0f, ..] => " (3DNow!)",
        _ => "",
    }
}

/// Direct conditional branches a block goes on past (`Tuning::side_exits`);
/// the next one ends it. More make longer blocks, which jumps into their
/// middle translate again. Measured in instructions (neoverse-n1), for
/// 0, 1, 2 and 4: the bench's python with the cache off 700, 664, 654 and
/// 656 M, warm 460, 434, 427 and 421 M; a static hello, cache off, 8.39,
/// 8.40, 8.65 and 9.06 M.
pub const SIDE_EXITS: u32 = 2;

/// The side exits a block may have: `SIDE_EXITS`, none with
/// `TRANSIT_TUNING=-side-exits`.
pub fn side_exits_allowed() -> u32 {
    if crate::tuning::tuning().side_exits {
        SIDE_EXITS
    } else {
        0
    }
}

/// Whether a block ends with `insn`; a direct conditional branch does not
/// while the block has fewer than `allowed.0` side exits (counted in
/// `side_exits`) and `allowed.1` lets it go on.
fn ends_block(insn: &Instruction, allowed: (u32, &dyn Fn(u64) -> bool), side_exits: &mut u32) -> bool {
    match insn.flow_control() {
        FlowControl::Next => false,
        FlowControl::ConditionalBranch if *side_exits < allowed.0 && is_side_exit(insn) && allowed.1(insn.next_ip()) => {
            *side_exits += 1;
            false
        }
        _ => true,
    }
}

/// A `jcc` to a direct target: the only branch a block goes on past.
pub fn is_side_exit(insn: &Instruction) -> bool {
    insn.is_jcc_short_or_near()
}

/// Operand size in bytes of an instruction's first operand.
pub fn operand_size(insn: &Instruction) -> usize {
    match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size(),
        OpKind::Memory => insn.memory_size().size(),
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `code` placed so that it starts `before_end` bytes before a page end.
    fn at_page_end(code: &[u8], before_end: u64) -> CodeBuffer<'_> {
        CodeBuffer { base: 0x10_0000 - before_end, code }
    }

    #[test]
    fn a_block_decodes_across_a_page_end_and_through_an_instruction_crossing_it() {
        // nop; mov eax, 0x11223344 (5 bytes, crossing after its 2nd byte); nop; ret
        let code = [0x90, 0xb8, 0x44, 0x33, 0x22, 0x11, 0x90, 0xc3];
        let src = at_page_end(&code, 3);
        let block = decode_block(&src, src.base, 64);
        let lens: Vec<usize> = block.insns.iter().map(Instruction::len).collect();
        assert_eq!(lens, [1, 5, 1, 1]);
        assert_eq!((block.end(), block.invalid_at), (src.base + 8, None));
    }

    #[test]
    fn invalid_bytes_end_a_block_where_they_start() {
        // 0x06 (push es) is invalid in 64-bit mode.
        let code = [0x90, 0x06, 0x90];
        let src = CodeBuffer { base: 0x1000, code: &code };
        let block = decode_block(&src, 0x1000, 64);
        assert_eq!((block.insns.len(), block.invalid_at), (1, Some(0x1001)));
    }

    #[test]
    fn the_block_length_limit_holds_within_a_page() {
        let code = [0x90; 16];
        let src = CodeBuffer { base: 0x1000, code: &code };
        assert_eq!(decode_block(&src, 0x1000, 5).insns.len(), 5);
    }

    #[test]
    fn a_block_ends_before_a_breakpoint_but_not_at_its_start() {
        // nop; nop; nop; ret
        let src = CodeBuffer { base: 0x1000, code: &[0x90, 0x90, 0x90, 0xc3] };
        assert_eq!(decode_block_until(&src, 0x1000, 64, &[0x1002]).insns.len(), 2);
        assert_eq!(decode_block_until(&src, 0x1002, 64, &[0x1002]).insns.len(), 2);
        assert_eq!(decode_block_until(&src, 0x1000, 64, &[0x0fff, 0x2000]).insns.len(), 4);
    }

    #[test]
    fn left_out_encodings_are_named() {
        assert_eq!(left_out_encoding(&[0x62, 0xf1, 0x7c, 0x48, 0x58, 0xc2]), " (EVEX: AVX-512)");
        assert_eq!(left_out_encoding(&[0x67, 0x62, 0xf1]), " (EVEX: AVX-512)");
        assert_eq!(left_out_encoding(&[0x8f, 0xe8, 0x78, 0xc2]), " (XOP: AMD)");
        assert_eq!(left_out_encoding(&[0x8f, 0xc0]), "", "8f /0 is pop");
        assert_eq!(left_out_encoding(&[0x0f, 0x0f, 0xc1, 0xb4]), " (3DNow!)");
        assert_eq!(left_out_encoding(&[0x06]), "");
    }

    #[test]
    fn evex_bytes_do_not_decode() {
        // vaddps zmm0, zmm0, zmm2: #UD on the CPU Transit presents.
        assert!(decode_one(&CodeBuffer { base: 0, code: &[0x62, 0xf1, 0x7c, 0x48, 0x58, 0xc2] }, 0).is_none());
    }
}
