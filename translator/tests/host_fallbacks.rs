//! Instructions whose code depends on optional host features (FEAT_AES,
//! FEAT_PMULL, FEAT_CRC32) are translated with those features and fall
//! back to the interpreter without them, whatever the machine running the
//! test has (`TRANSIT_HOST_FEATURES` does the same for whole runs).

use capstone::prelude::*;
use iced_x86::code_asm::*;
use transit_translator::frontend::decode::{decode_block, CodeBuffer};
use transit_translator::emit::{MemoryOrder, Stubs};
use transit_translator::cpu::features::{present, CpuLevel};
use transit_translator::frontend::flags::live_at_block_exit;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::translate::translate_block;

const GUEST: u64 = 0x40_1000;
const HOST: u64 = 0x7100_0000;

/// The mnemonics of the aarch64 code translated for `build`'s block.
fn mnemonics(host: HostFeatures, build: impl FnOnce(&mut CodeAssembler)) -> Vec<String> {
    present(CpuLevel::HIGHEST);
    let mut a = CodeAssembler::new(64).unwrap();
    build(&mut a);
    let code = a.assemble(GUEST).unwrap();
    let src = CodeBuffer { base: GUEST, code: &code };
    let block = decode_block(&src, GUEST, 64);
    let live = live_at_block_exit(&src, &block, |_| true);
    let mut stubs = Stubs::default();
    for (i, s) in stubs.exit.iter_mut().enumerate() {
        *s = HOST - 0x1000 + 8 * i as u64;
    }
    let t = translate_block(&block, HOST, host, stubs, live, MemoryOrder::Relaxed);
    let disasm = Capstone::new().arm64().mode(arch::arm64::ArchMode::Arm).build().unwrap();
    let insns = disasm.disasm_all(&t.code, HOST).unwrap();
    insns.iter().map(|i| i.mnemonic().unwrap_or("?").to_string()).collect()
}

fn check(feature_on: HostFeatures, host_insn: &str, build: fn(&mut CodeAssembler)) {
    let with = mnemonics(feature_on, build);
    assert!(with.iter().any(|m| m == host_insn), "{host_insn} expected in {with:?}");
    let without = mnemonics(HostFeatures::BASELINE, build);
    assert!(!without.iter().any(|m| m == host_insn), "no {host_insn} expected in {without:?}");
    // The interpreter's exit: the block ends before the instruction.
    assert!(without.len() < with.len(), "{without:?}");
}

#[test]
fn aes_rounds_use_feat_aes_or_the_interpreter() {
    let aes = HostFeatures { aes: true, ..HostFeatures::BASELINE };
    check(aes, "aese", |a| {
        a.aesenc(xmm1, xmm2).unwrap();
        a.aesenclast(xmm1, xmm1).unwrap();
        a.syscall().unwrap();
    });
    check(aes, "aesimc", |a| {
        a.aesdec(xmm3, xmmword_ptr(rax)).unwrap();
        a.syscall().unwrap();
    });
}

#[test]
fn pclmulqdq_uses_feat_pmull_or_the_interpreter() {
    let pmull = HostFeatures { pmull: true, ..HostFeatures::BASELINE };
    check(pmull, "pmull", |a| {
        a.pclmulqdq(xmm0, xmm1, 0x10).unwrap();
        a.syscall().unwrap();
    });
    check(pmull, "pmull2", |a| {
        a.pclmulqdq(xmm0, xmm1, 0x11).unwrap();
        a.syscall().unwrap();
    });
}

#[test]
fn crc32_uses_feat_crc32_or_the_interpreter() {
    let crc = HostFeatures { crc32: true, ..HostFeatures::BASELINE };
    check(crc, "crc32cb", |a| {
        a.crc32(eax, bl).unwrap();
        a.syscall().unwrap();
    });
    check(crc, "crc32cx", |a| {
        a.crc32(rax, qword_ptr(rsi)).unwrap();
        a.syscall().unwrap();
    });
}
