//! A block's recorded relocations are the only way it depends on where it
//! and its guest code live: the blocks of real shared libraries, translated
//! once with the library at one address and the code at one place in the
//! buffer, then relocated, must equal the same blocks translated with the
//! library and the code elsewhere (what ASLR does between two runs). A
//! guest address the emitter embeds without recording it fails this.

use transit_translator::cpu::host::HostFeatures;
use transit_translator::emit::relocation::{moved, relocate};
use transit_translator::emit::{MemoryOrder, Stubs, TranslatedBlock};
use transit_translator::frontend::decode::{decode_block, CodeBuffer};
use transit_translator::frontend::flags::live_at_block_exit;
use transit_translator::translate::translate_block;

/// Libraries with much varied code (SSE/AVX string functions, crypto,
/// bignums); those present are used.
const LIBRARIES: &[&str] = &[
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/x86_64-linux-gnu/libm.so.6",
    "/lib/x86_64-linux-gnu/libcrypto.so.3",
    "/lib/x86_64-linux-gnu/libstdc++.so.6",
];

/// Two load addresses of a library, as ASLR might pick them.
const GUEST_A: u64 = 0x7f3a_1c20_0000;
const GUEST_B: u64 = 0x5583_9e41_7000;
const HOST_A: u64 = 0x7100_0000;
const HOST_B: u64 = 0x7345_6780;
const BLOCKS_PER_LIBRARY: usize = 6000;

/// The executable segment of an ELF64 file: (vaddr, bytes).
fn text_segment(elf: &[u8]) -> Option<(u64, &[u8])> {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap());
    if elf.get(..4)? != b"\x7fELF" {
        return None;
    }
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36) as usize, u16_at(0x38) as usize);
    (0..phnum).map(|i| phoff + i * phentsize).find_map(|ph| {
        let (p_type, p_flags) = (u32_at(ph), u32_at(ph + 4));
        (p_type == 1 && p_flags & 1 != 0).then(|| {
            let (offset, vaddr, filesz) = (u64_at(ph + 8) as usize, u64_at(ph + 16), u64_at(ph + 32) as usize);
            (vaddr, &elf[offset..offset + filesz])
        })
    })
}

fn stubs_below(host: u64) -> Stubs {
    let mut stubs = Stubs::default();
    for (i, s) in stubs.exit.iter_mut().enumerate() {
        *s = host - 0x1000 + 8 * i as u64;
    }
    stubs
}

#[derive(Default, Debug)]
struct Tally {
    blocks: usize,
    relocations: usize,
    /// A moved address needed another number of instructions.
    unrelocatable: usize,
}

fn check_library(path: &str, host: HostFeatures, order: MemoryOrder, tally: &mut Tally) {
    let elf = std::fs::read(path).unwrap();
    let (vaddr, text) = text_segment(&elf).unwrap_or_else(|| panic!("{path}: no executable segment"));
    let src_a = CodeBuffer { base: GUEST_A + vaddr, code: text };
    let src_b = CodeBuffer { base: GUEST_B + vaddr, code: text };
    let delta = GUEST_B.wrapping_sub(GUEST_A);
    let (stubs_a, stubs_b) = (stubs_below(HOST_A), stubs_below(HOST_B));
    // The block at `addr`, and where the next one starts.
    let translate = |src: &CodeBuffer, addr: u64, host_base: u64, stubs: Stubs| -> (u64, TranslatedBlock) {
        let block = decode_block(src, addr, 128);
        let next = block.invalid_at.map_or(block.end(), |a| a + 1).max(addr + 1);
        let live = live_at_block_exit(src, &block, |_| true);
        (next, translate_block(&block, host_base, host, stubs, live, order))
    };
    let mut at = 0u64;
    let mut blocks = 0;
    while (at as usize) < text.len() && blocks < BLOCKS_PER_LIBRARY {
        let (next, a) = translate(&src_a, GUEST_A + vaddr + at, HOST_A, stubs_a);
        let (_, b) = translate(&src_b, GUEST_B + vaddr + at, HOST_B, stubs_b);
        let where_ = format!("{path} at +{:#x} ({host:?}, {order:?})", vaddr + at);
        let mut code = a.code.clone();
        blocks += 1;
        tally.relocations += a.relocations.len();
        match relocate(&mut code, &a.relocations, delta, HOST_B, &stubs_b) {
            Err(_) => tally.unrelocatable += 1,
            Ok(()) => {
                assert!(code == b.code, "{where_}: relocated code differs from code translated in place");
                let relocated: Vec<_> = a.relocations.iter().map(|&r| moved(r, delta)).collect();
                assert_eq!(relocated, b.relocations, "{where_}: relocations");
                let targets = |t: &TranslatedBlock, d: u64| -> Vec<u64> { t.direct_exits.iter().map(|x| x.target.wrapping_add(d)).collect() };
                assert_eq!(targets(&a, delta), targets(&b, 0), "{where_}: direct exit targets");
                let offs = |t: &TranslatedBlock| -> Vec<(usize, Option<usize>)> { t.direct_exits.iter().map(|x| (x.site_offset, x.feeder)).collect() };
                assert_eq!(offs(&a), offs(&b), "{where_}: direct exit sites");
                assert_eq!(a.marks, b.marks, "{where_}: instruction marks");
                assert_eq!(a.indirect_site, b.indirect_site, "{where_}: indirect site");
            }
        }
        at = next - (GUEST_A + vaddr);
    }
    tally.blocks += blocks;
}

#[test]
fn blocks_of_shared_libraries_relocate_to_what_translating_them_elsewhere_gives() {
    let present: Vec<&str> = LIBRARIES.iter().copied().filter(|p| std::path::Path::new(p).exists()).collect();
    assert!(!present.is_empty(), "none of {LIBRARIES:?} is installed");
    let mut tally = Tally::default();
    for (i, path) in present.iter().enumerate() {
        // Every library once; the host-feature and memory-order variants
        // on alternating libraries keep the test short under qemu-user.
        let (host, order) = match i % 2 {
            0 => (HostFeatures::ALL, MemoryOrder::Relaxed),
            _ => (HostFeatures::BASELINE, MemoryOrder::Tso),
        };
        check_library(path, host, order, &mut tally);
    }
    eprintln!("{tally:?}");
    assert!(tally.relocations > tally.blocks, "every block exits somewhere: {tally:?}");
    // A moved address keeps its length unless one of its 16-bit halves
    // turns 0 or 0xffff (or stops being it): rare.
    assert!(tally.unrelocatable * 100 < tally.blocks, "{tally:?}");
}
