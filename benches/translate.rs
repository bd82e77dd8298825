//! Translation throughput: guest instructions decoded, analysed and emitted
//! per second, on a synthetic but compiler-like instruction mix
//! (`translate`) and on the host's C library where it is x86_64
//! (`translate-libc`: the code programs run, blocks as they are met).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iced_x86::code_asm::*;
use iced_x86::BlockEncoderOptions;
use transit_translator::frontend::decode::CodeBuffer;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::Translator;

const BASE: u64 = 0x40_0000;
const BLOCKS: usize = 512;

/// `BLOCKS` basic blocks of integer, memory and SSE work ending in branches.
fn guest_code() -> (Vec<u8>, Vec<u64>, usize) {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut labels: Vec<CodeLabel> = (0..BLOCKS + 1).map(|_| a.create_label()).collect();
    let mut insns = 0;
    for i in 0..BLOCKS {
        a.set_label(&mut labels[i]).unwrap();
        a.mov(rax, qword_ptr(rdi + 8 * (i as i32 % 16))).unwrap();
        a.add(rax, rsi).unwrap();
        a.lea(rcx, qword_ptr(rax + rdx * 4 + 16)).unwrap();
        a.imul_2(ecx, ebx).unwrap();
        a.movzx(edx, byte_ptr(rsi + rcx)).unwrap();
        a.shl(rdx, 3).unwrap();
        a.xor(r8d, r9d).unwrap();
        a.movdqu(xmm0, xmmword_ptr(rsi)).unwrap();
        a.pcmpeqb(xmm0, xmm1).unwrap();
        a.pmovmskb(eax, xmm0).unwrap();
        a.mov(qword_ptr(rsp + 8), rdx).unwrap();
        a.cmp(rax, rcx).unwrap();
        insns += 12;
        if i % 3 == 0 {
            a.call(labels[(i + 7) % BLOCKS]).unwrap();
        } else {
            a.jne(labels[i + 1]).unwrap();
        }
        insns += 1;
    }
    a.set_label(&mut labels[BLOCKS]).unwrap();
    a.ret().unwrap();
    let result = a.assemble_options(BASE, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS).unwrap();
    let starts = (0..BLOCKS).map(|i| result.label_ip(&labels[i]).unwrap()).collect();
    (result.inner.code_buffer, starts, insns)
}

/// Where the library's code sits in the guest address space (anywhere the
/// bench's own process has nothing).
const LIBRARY_BASE: u64 = 0x10_0000_0000;

/// Guest instructions translated per iteration of the `libc` group.
const LIBRARY_INSNS: usize = 30_000;

/// Compiler-generated code as programs run it: the host's C library (an
/// x86_64 ELF on x86_64 machines), its executable segments placed at
/// `LIBRARY_BASE`, and the blocks reachable by direct branches and calls
/// from its exported functions, in the order a breadth-first walk meets
/// them, up to `LIBRARY_INSNS` instructions. `None` where there is no
/// x86_64 libc to read.
fn host_libc() -> Option<(Vec<u8>, Vec<u64>, usize)> {
    use goblin::elf::{program_header::PF_X, program_header::PT_LOAD, sym::STT_FUNC, Elf};
    let path = ["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let file = std::fs::read(path).ok()?;
    let elf = Elf::parse(&file).ok()?;
    if elf.header.e_machine != goblin::elf::header::EM_X86_64 {
        return None;
    }
    let code_segments: Vec<_> = elf.program_headers.iter().filter(|h| h.p_type == PT_LOAD && h.p_flags & PF_X != 0).collect();
    let end = code_segments.iter().map(|h| h.p_vaddr + h.p_filesz).max()?;
    let mut image = vec![0u8; end as usize];
    for h in &code_segments {
        let bytes = file.get(h.p_offset as usize..(h.p_offset + h.p_filesz) as usize)?;
        image[h.p_vaddr as usize..][..bytes.len()].copy_from_slice(bytes);
    }
    let in_code = |addr: u64| code_segments.iter().any(|h| (LIBRARY_BASE + h.p_vaddr..LIBRARY_BASE + h.p_vaddr + h.p_filesz).contains(&addr));
    let mut queue: std::collections::VecDeque<u64> = elf
        .dynsyms
        .iter()
        .filter(|s| s.st_type() == STT_FUNC && s.st_value != 0)
        .map(|s| LIBRARY_BASE + s.st_value)
        .collect();
    let src = CodeBuffer { base: LIBRARY_BASE, code: &image };
    let mut seen = std::collections::HashSet::new();
    let (mut starts, mut insns) = (Vec::new(), 0);
    while let Some(start) = queue.pop_front() {
        if insns >= LIBRARY_INSNS || !in_code(start) || !seen.insert(start) {
            continue;
        }
        let block = transit_translator::frontend::decode::decode_block(&src, start, 64);
        insns += block.insns.len();
        starts.push(start);
        for insn in &block.insns {
            if insn.is_jcc_short_or_near() || insn.is_jmp_short_or_near() || insn.is_call_near() {
                queue.push_back(insn.near_branch64());
            }
            if insn.is_jcc_short_or_near() || insn.is_call_near() {
                queue.push_back(insn.next_ip());
            }
        }
    }
    Some((image, starts, insns))
}

fn bench_translate(c: &mut Criterion) {
    let (code, starts, insns) = guest_code();
    let code: &'static [u8] = Box::leak(code.into_boxed_slice());
    let mut group = c.benchmark_group("translate");
    group.throughput(Throughput::Elements(insns as u64));
    for (name, host) in [("baseline", HostFeatures::BASELINE), ("flagm", HostFeatures::ALL)] {
        let mut t = Translator::with_source(host, Box::new(CodeBuffer { base: BASE, code })).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                t.flush();
                for &s in &starts {
                    t.translate_only(s);
                }
            })
        });
    }
    group.finish();
    let Some((image, starts, insns)) = host_libc() else { return };
    let image: &'static [u8] = Box::leak(image.into_boxed_slice());
    let mut group = c.benchmark_group("translate-libc");
    group.throughput(Throughput::Elements(insns as u64));
    let mut t = Translator::with_source(HostFeatures::BASELINE, Box::new(CodeBuffer { base: LIBRARY_BASE, code: image })).unwrap();
    group.bench_function("baseline", |b| {
        b.iter(|| {
            t.flush();
            for &s in &starts {
                t.translate_only(s);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_translate);
criterion_main!(benches);
