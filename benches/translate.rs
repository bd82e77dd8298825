//! Translation throughput: guest instructions decoded, analysed and emitted
//! per second, on a synthetic but compiler-like instruction mix.

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
}

criterion_group!(benches, bench_translate);
criterion_main!(benches);
