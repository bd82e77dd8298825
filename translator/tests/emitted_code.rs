//! Properties of the emitted aarch64 code, checked on any host by
//! disassembling it with capstone (which also makes failures readable).

use capstone::prelude::*;
use iced_x86::code_asm::*;
use transit_translator::frontend::decode::{decode_block, CodeBuffer};
use transit_translator::emit::{literal, MemoryOrder, Stubs};
use transit_translator::exit::ExitReason;
use transit_translator::frontend::flags::live_at_block_exit;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::translate::translate_block;

const GUEST: u64 = 0x40_1000;
const HOST: u64 = 0x7100_0000;

/// Translates the block assembled by `build` and returns its disassembly,
/// one instruction per line ("mnemonic operands").
fn listing(host: HostFeatures, build: impl FnOnce(&mut CodeAssembler)) -> Vec<String> {
    listing_ordered(host, MemoryOrder::Relaxed, build)
}

fn listing_ordered(host: HostFeatures, order: MemoryOrder, build: impl FnOnce(&mut CodeAssembler)) -> Vec<String> {
    let mut a = CodeAssembler::new(64).unwrap();
    build(&mut a);
    let code = a.assemble(GUEST).unwrap();
    let src = CodeBuffer { base: GUEST, code: &code };
    let block = decode_block(&src, GUEST, 64);
    let live_at_exit = live_at_block_exit(&src, &block, |_| true);
    let mut stubs = Stubs::default();
    for (i, s) in stubs.exit.iter_mut().enumerate() {
        *s = HOST - 0x1000 + 8 * i as u64;
    }
    let t = translate_block(&block, HOST, host, stubs, live_at_exit, order);
    let disasm = Capstone::new().arm64().mode(arch::arm64::ArchMode::Arm).build().unwrap();
    let insns = disasm.disasm_all(&t.code[..literal::instructions_end(&t.code)], HOST).unwrap();
    insns
        .iter()
        .map(|i| match literal::loaded_value(&t.code, (i.address() - HOST) as usize) {
            // A load from the literal pool shows the value it loads.
            Some(v) => format!("ldr {}, ={v:#x}", i.op_str().unwrap_or("").split(',').next().unwrap_or("?")),
            None => format!("{} {}", i.mnemonic().unwrap_or("?"), i.op_str().unwrap_or("")).trim().to_string(),
        })
        .collect()
}

fn show(l: &[String]) -> String {
    l.iter().enumerate().map(|(i, s)| format!("  {i:3}: {s}\n")).collect()
}

#[test]
fn guest_registers_are_pinned_host_registers() {
    let l = listing(HostFeatures::BASELINE, |a| {
        a.mov(r15, rax).unwrap();
        a.mov(rsp, rdi).unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[0], "mov x15, x0", "\n{}", show(&l));
    assert_eq!(l[1], "mov x4, x7", "\n{}", show(&l));
}

#[test]
fn dead_flags_are_not_computed() {
    // xor overwrites every flag the add would set.
    let l = listing(HostFeatures::BASELINE, |a| {
        a.add(rax, rbx).unwrap();
        a.xor(ecx, ecx).unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[0], "add x0, x0, x3", "\n{}", show(&l));
}

#[test]
fn compare_and_branch_use_host_flags_directly() {
    // Both successors overwrite every flag: the compare computes no PF/AF.
    let l = listing(HostFeatures::BASELINE, |a| {
        let mut t = a.create_label();
        a.cmp(rdi, rsi).unwrap();
        a.jb(t).unwrap();
        a.xor(eax, eax).unwrap();
        a.syscall().unwrap();
        a.set_label(&mut t).unwrap();
        a.xor(ecx, ecx).unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[0], "cmp x7, x6", "\n{}", show(&l));
    assert!(l[1].starts_with("b.lo"), "jb after cmp is one b.lo\n{}", show(&l));
    assert!(!l.iter().any(|s| s.starts_with("mrs") || s.starts_with("msr") || s.starts_with("cfinv")), "\n{}", show(&l));
}

#[test]
fn carry_is_made_canonical_at_block_exit() {
    // add leaves C = CF; blocks hand over C = !CF.
    let base = listing(HostFeatures::BASELINE, |a| {
        a.add(rax, rbx).unwrap();
        a.syscall().unwrap();
    });
    let at = base.iter().position(|s| s == "adds x0, x0, x3").unwrap_or_else(|| panic!("\n{}", show(&base)));
    let flip = &base[at + 1..];
    let flip: Vec<&String> = flip.iter().filter(|s| !s.contains("x26") && !s.contains("x27")).collect();
    assert!(flip[0].starts_with("mrs") && flip[1].starts_with("eor") && flip[2].starts_with("msr"), "\n{}", show(&base));
    let flagm = listing(HostFeatures { flagm: true, lse: true, lrcpc: true, ..HostFeatures::BASELINE }, |a| {
        a.add(rax, rbx).unwrap();
        a.syscall().unwrap();
    });
    assert!(flagm.iter().any(|s| s == "cfinv"), "FlagM hosts flip C in one instruction\n{}", show(&flagm));
}

#[test]
fn narrow_operations_compute_flags_at_their_width() {
    let l = listing(HostFeatures::BASELINE, |a| {
        a.sub(al, bl).unwrap();
        a.syscall().unwrap();
    });
    // Both operands at the top of a w register: the first shifted there,
    // the second by the subtraction's own shifted-register operand.
    let shifted = l.iter().filter(|s| s.starts_with("lsl w") && s.ends_with("#0x18")).count();
    assert_eq!(shifted, 1, "the first operand shifted to the top of a w register\n{}", show(&l));
    assert!(l.iter().any(|s| s.starts_with("subs w") && s.ends_with("lsl #24")), "\n{}", show(&l));
}

#[test]
fn narrow_logic_and_neg_set_flags_from_the_shifted_result_in_one_instruction() {
    // CF dead (jne reads ZF only): the carry form, `adds wzr, wzr, r, lsl`.
    let l = listing(HostFeatures::BASELINE, |a| {
        a.or(cl, dl).unwrap();
        jne_to_flag_writers(a);
    });
    assert_eq!(l[..3], ["orr w19, w1, w2", "cmn wzr, w19, lsl #24", "bfxil x1, x19, #0, #8"], "\n{}", show(&l));
    assert!(!l.iter().any(|s| s.starts_with("lsl") || s.starts_with("cmp")), "no shift and compare\n{}", show(&l));
    // neg: zero needs no shifting to the top.
    let l = listing(HostFeatures::BASELINE, |a| {
        a.neg(bx).unwrap();
        a.syscall().unwrap();
    });
    assert!(l.iter().any(|s| s == "negs w19, w3, lsl #16"), "\n{}", show(&l));
    assert!(!l.iter().any(|s| s.starts_with("lsl")), "\n{}", show(&l));
}

/// A `jne` whose both successors overwrite every flag first: only ZF is
/// read after the instructions before it.
fn jne_to_flag_writers(a: &mut CodeAssembler) {
    let mut taken = a.create_label();
    a.jne(taken).unwrap();
    a.cmp(rax, rcx).unwrap();
    a.syscall().unwrap();
    a.set_label(&mut taken).unwrap();
    a.cmp(rax, rdx).unwrap();
    a.syscall().unwrap();
}

#[test]
fn narrow_logic_with_an_immediate_tests_the_operands_bits_in_place() {
    let l = listing(HostFeatures::BASELINE, |a| {
        a.test(byte_ptr(rax + 0xab), 0x20).unwrap();
        jne_to_flag_writers(a);
    });
    assert_eq!(l[1], "tst w19, #0x20", "one test of the loaded byte\n{}", show(&l));
    assert!(!l.iter().any(|s| s.starts_with("lsl")), "\n{}", show(&l));
    let l = listing(HostFeatures::BASELINE, |a| {
        a.test(ah, 4).unwrap();
        jne_to_flag_writers(a);
    });
    assert_eq!(l[0], "tst w0, #0x400", "AH's bit tested in RAX's register\n{}", show(&l));
    let l = listing(HostFeatures::BASELINE, |a| {
        a.test(cl, cl).unwrap();
        jne_to_flag_writers(a);
    });
    assert_eq!(l[0], "tst w1, #0xff", "\n{}", show(&l));
    let l = listing(HostFeatures::BASELINE, |a| {
        // Flags dead (the cmp writes them all): the register changed in place.
        a.or(bh, 0x20).unwrap();
        a.and(dl, 0xf0u32 as i32).unwrap();
        a.cmp(rax, rcx).unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[0], "orr x3, x3, #0x2000", "\n{}", show(&l));
    assert_eq!(l[1], "and x2, x2, #0xfffffffffffffff0", "\n{}", show(&l));
}

#[test]
fn sign_extensions_of_the_accumulator_are_one_instruction() {
    let l = listing(HostFeatures::BASELINE, |a| {
        a.cdqe().unwrap();
        a.cdq().unwrap();
        a.cqo().unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[..3], ["sxtw x0, w0", "asr w2, w0, #0x1f", "asr x2, x0, #0x3f"], "\n{}", show(&l));
}

#[test]
fn unsupported_instruction_exits_with_sigill_at_its_address() {
    // ADX is not part of the CPU Transit presents (x86-64-v3 lacks it).
    let l = listing(HostFeatures::BASELINE, |a| {
        a.mov(eax, 1).unwrap();
        a.adcx(eax, ebx).unwrap();
    });
    let target = format!("#{:#x}", HOST - 0x1000 + 8 * ExitReason::IllegalInstruction as u64);
    // (After the exit: the entry for host C in the carry form, since the
    // SIGILL exit hands CF over.)
    let exit = l.iter().position(|s| s == &format!("b {target}"));
    let exit = exit.unwrap_or_else(|| panic!("a branch to the SIGILL stub {target}\n{}", show(&l)));
    // The guest RIP of the adcx (GUEST + 5 = 0x401005) goes into x16 before.
    assert_eq!(l[exit - 1], "ldr x16, =0x401005", "\n{}", show(&l));
}

#[test]
fn tso_orders_loads_and_stores_and_locked_ops_are_exclusive_loops() {
    let body = |a: &mut CodeAssembler| {
        a.mov(eax, dword_ptr(rbx + 8)).unwrap();
        a.mov(qword_ptr(rcx), rdx).unwrap();
        a.lock().add(dword_ptr(rsi), edi).unwrap();
        a.syscall().unwrap();
    };
    let relaxed = listing(HostFeatures::BASELINE, body);
    assert!(relaxed.iter().any(|s| s.starts_with("ldur w") && s.ends_with("[x3, #8]")), "\n{}", show(&relaxed));
    assert!(relaxed.iter().any(|s| s.starts_with("stur x2")), "\n{}", show(&relaxed));
    let tso = listing_ordered(HostFeatures { lrcpc: true, ..HostFeatures::BASELINE }, MemoryOrder::Tso, body);
    assert!(tso.iter().any(|s| s.starts_with("ldapr w")), "\n{}", show(&tso));
    assert!(tso.iter().any(|s| s.starts_with("stlr x2, [x1]")), "\n{}", show(&tso));
    let no_rcpc = listing_ordered(HostFeatures::BASELINE, MemoryOrder::Tso, body);
    assert!(no_rcpc.iter().any(|s| s.starts_with("ldar w")), "\n{}", show(&no_rcpc));
    for l in [&relaxed, &tso] {
        let ld = l.iter().position(|s| s.starts_with("ldaxr w")).unwrap_or_else(|| panic!("\n{}", show(l)));
        let st = l.iter().position(|s| s.starts_with("stlxr w")).unwrap_or_else(|| panic!("\n{}", show(l)));
        assert!(ld < st && l[st + 1].starts_with("cbnz") && l.iter().any(|s| s == "dmb ish"), "\n{}", show(l));
    }
}

#[test]
fn tso_accesses_take_their_offset_with_lrcpc2() {
    let lrcpc2 = HostFeatures { lrcpc: true, lrcpc2: true, ..HostFeatures::BASELINE };
    let l = listing_ordered(lrcpc2, MemoryOrder::Tso, |a| {
        a.mov(eax, dword_ptr(rbx + 8)).unwrap();
        a.mov(qword_ptr(rcx - 16), rdx).unwrap();
        a.mov(word_ptr(rsi + 3), di).unwrap();
        a.syscall().unwrap();
    });
    assert!(l.iter().any(|s| s == "ldapur w0, [x3, #8]"), "\n{}", show(&l));
    assert!(l.iter().any(|s| s == "stlur x2, [x1, #-0x10]"), "\n{}", show(&l));
    // No alignment test: a misaligned access traps once and is pointed at
    // its plain fallback, out of line, addressed as the access is.
    assert!(!l.iter().any(|s| s.starts_with("tbnz") || s.starts_with("cbnz")), "\n{}", show(&l));
    let plain = l.iter().position(|s| s == "ldur w0, [x3, #8]").unwrap_or_else(|| panic!("the fallback\n{}", show(&l)));
    assert_eq!(l[plain + 1], "dmb ishld", "\n{}", show(&l));
    // An offset that is not a multiple of the size: the address first.
    assert!(l.iter().any(|s| s.starts_with("stlrh w7, [x")), "\n{}", show(&l));
    assert!(!l.iter().any(|s| s.starts_with("stlurh")), "\n{}", show(&l));
}

#[test]
fn tso_accesses_to_constant_addresses_know_their_alignment() {
    // Absolute operands, as RIP-relative ones also are once decoded.
    let aligned = listing_ordered(HostFeatures { lrcpc: true, ..HostFeatures::BASELINE }, MemoryOrder::Tso, |a| {
        a.mov(rax, qword_ptr(0x40_2000u64)).unwrap();
        a.mov(dword_ptr(0x40_2008u64), ecx).unwrap();
        a.syscall().unwrap();
    });
    assert!(aligned.iter().any(|s| s.starts_with("ldapr x0")), "\n{}", show(&aligned));
    assert!(aligned.iter().any(|s| s.starts_with("stlr w1")), "\n{}", show(&aligned));
    assert!(!aligned.iter().any(|s| s.starts_with("tbnz") || s.starts_with("cbnz")), "no alignment test\n{}", show(&aligned));
    let misaligned = listing_ordered(HostFeatures { lrcpc: true, ..HostFeatures::BASELINE }, MemoryOrder::Tso, |a| {
        a.mov(rax, qword_ptr(0x40_2003u64)).unwrap();
        a.syscall().unwrap();
    });
    let at = misaligned.iter().position(|s| s.starts_with("ldur x0")).unwrap_or_else(|| panic!("a plain load\n{}", show(&misaligned)));
    assert_eq!(misaligned[at + 1], "dmb ishld", "\n{}", show(&misaligned));
    assert!(!misaligned.iter().any(|s| s.starts_with("ldapr")), "\n{}", show(&misaligned));
}

/// BMI2's mulx, pdep, pext, rorx and shift-by-register forms and movbe

#[test]
fn tso_leaves_rsp_addressed_operands_plain_but_not_locked_ones() {
    let lrcpc = HostFeatures { lrcpc: true, ..HostFeatures::BASELINE };
    let l = listing_ordered(lrcpc, MemoryOrder::Tso, |a| {
        a.mov(qword_ptr(rsp + 8), rax).unwrap();
        a.mov(ecx, dword_ptr(rsp + rdx * 4 + 0x40)).unwrap();
        a.add(qword_ptr(rsp + 16), rbx).unwrap();
        a.mov(qword_ptr(rbp - 8), rax).unwrap();
        a.lock().add(dword_ptr(rsp), edi).unwrap();
        a.syscall().unwrap();
    });
    // x4 is RSP: spills, locals and read-modify-writes of them are plain.
    assert!(l.iter().any(|s| s == "stur x0, [x4, #8]"), "\n{}", show(&l));
    assert!(l.iter().any(|s| s.starts_with("ldr w1, [x") || s.starts_with("ldur w1, [x")), "\n{}", show(&l));
    assert!(l.iter().any(|s| s.starts_with("ldur x") && s.ends_with("[x4, #0x10]")), "\n{}", show(&l));
    assert!(l.iter().any(|s| s.starts_with("stur x") && s.ends_with("[x4, #0x10]")), "\n{}", show(&l));
    // Through another register (RBP, x5) the access keeps x86's order.
    assert!(l.iter().any(|s| s.starts_with("stlr x0, [x")), "\n{}", show(&l));
    assert_eq!(l.iter().filter(|s| s.starts_with("stlr") || s.starts_with("ldapr")).count(), 1, "\n{}", show(&l));
    // A locked one stays an exclusive loop with its barrier.
    assert!(l.iter().any(|s| s.starts_with("ldaxr w")) && l.iter().any(|s| s == "dmb ish"), "\n{}", show(&l));
}
/// leave RFLAGS alone, so their code (pdep/pext's loop included) must not
/// write NZCV, where x86 flags live: the guest `cmp` before them is the
/// only flag-setting instruction of the block, and `jb` reads its CF.
#[test]
fn flagless_bmi2_and_movbe_leave_nzcv_alone() {
    let l = listing(HostFeatures::BASELINE, |a| {
        let mut target = a.create_label();
        a.cmp(rax, rbx).unwrap();
        a.pdep(rcx, rdx, r8).unwrap();
        a.pext(r9d, r10d, dword_ptr(rsi)).unwrap();
        a.mulx(r11, r12, rdi).unwrap();
        a.rorx(rcx, rdx, 13).unwrap();
        a.shlx(eax, ebx, ecx).unwrap();
        a.sarx(r13, qword_ptr(rdi + 8), rax).unwrap();
        a.shrx(rdx, rbx, rcx).unwrap();
        a.movbe(qword_ptr(rsi + 16), rdx).unwrap();
        a.movbe(bx, word_ptr(rsi)).unwrap();
        a.jb(target).unwrap();
        a.nop().unwrap();
        a.set_label(&mut target).unwrap();
        a.syscall().unwrap();
    });
    let writes_nzcv = |s: &&String| {
        let m = s.split_whitespace().next().unwrap_or("");
        matches!(m, "cmp" | "cmn" | "tst" | "ccmp" | "ccmn" | "msr" | "cfinv" | "setf8" | "setf16" | "rmif")
            || matches!(m, "adds" | "subs" | "ands" | "bics" | "negs" | "adcs" | "sbcs" | "ngcs")
    };
    let flag_writes: Vec<_> = l.iter().filter(writes_nzcv).collect();
    assert!(flag_writes.len() == 1 && flag_writes[0].ends_with("x0, x3"), "\n{}", show(&l));
    // The loop, and the wide multiply in two halves.
    assert!(l.iter().any(|s| s.starts_with("cbnz")), "\n{}", show(&l));
    assert!(l.iter().any(|s| s.starts_with("umulh")), "\n{}", show(&l));
}

#[test]
fn a_branch_inside_a_block_is_one_conditional_branch_and_a_zero_test_fuses_with_it() {
    // test rdi, rdi; je (the flags dead after it: the next block's xor
    // writes them all) becomes cbz; the block goes on past it (a side
    // exit) to the add, and the way not taken has no jump.
    let l = listing(HostFeatures::BASELINE, |a| {
        let mut skip = a.create_label();
        a.test(rdi, rdi).unwrap();
        a.je(skip).unwrap();
        a.add(rax, 1).unwrap();
        a.set_label(&mut skip).unwrap();
        a.xor(eax, eax).unwrap();
        a.syscall().unwrap();
    });
    assert!(l[0].starts_with("cbz x7,"), "\n{}", show(&l));
    assert_eq!(l[1], "add x0, x0, #1", "\n{}", show(&l));
    // A byte register's js: a test of its sign bit.
    let l = listing(HostFeatures::BASELINE, |a| {
        let mut skip = a.create_label();
        a.test(dl, dl).unwrap();
        a.js(skip).unwrap();
        a.add(rax, 1).unwrap();
        a.set_label(&mut skip).unwrap();
        a.xor(eax, eax).unwrap();
        a.syscall().unwrap();
    });
    assert!(l[0].starts_with("tbnz w2, #7,"), "\n{}", show(&l));
    assert_eq!(l[1], "add x0, x0, #1", "\n{}", show(&l));
}

#[test]
fn a_float_compare_read_by_the_next_condition_alone_is_one_fcmp() {
    // ucomisd; ja (the flags dead after it) tests fcmp's flags with b.gt
    // (unordered sets V, which gt excludes); ucomisd; seta; setp (the
    // flags read twice) builds ZF and CF first.
    let l = listing(HostFeatures::BASELINE, |a| {
        let mut skip = a.create_label();
        a.ucomisd(xmm1, xmm2).unwrap();
        a.ja(skip).unwrap();
        a.add(rax, 1).unwrap();
        a.set_label(&mut skip).unwrap();
        a.xor(eax, eax).unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[0], "fcmp d17, d18", "\n{}", show(&l));
    assert!(l[1].starts_with("b.gt "), "\n{}", show(&l));
    let l = listing(HostFeatures::BASELINE, |a| {
        a.ucomisd(xmm1, xmm2).unwrap();
        a.seta(al).unwrap();
        a.setp(cl).unwrap();
        a.xor(edx, edx).unwrap();
        a.syscall().unwrap();
    });
    assert!(l.iter().any(|i| i.starts_with("fccmp")), "\n{}", show(&l));
}

#[test]
fn a_vector_move_takes_a_later_step_of_its_base_as_a_post_index() {
    // matmul's `movsd xmm0, [rdi]; add rsi, 8; add rdi, 8`: the add
    // between touches neither rdi nor memory; the store's step is next.
    let l = listing(HostFeatures::BASELINE, |a| {
        a.movsd_2(xmm0, qword_ptr(rdi)).unwrap();
        a.add(rsi, 8).unwrap();
        a.add(rdi, 8).unwrap();
        a.movups(xmmword_ptr(rdx), xmm1).unwrap();
        a.sub(rdx, -16).unwrap();
        a.xor(eax, eax).unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[0], "ldr d16, [x7], #8", "\n{}", show(&l));
    assert_eq!(l[1], "add x6, x6, #8", "\n{}", show(&l));
    assert_eq!(l[2], "str q17, [x2], #0x10", "\n{}", show(&l));
    assert!(!l.iter().any(|i| i.starts_with("add x7") || i.starts_with("add x2") || i.starts_with("sub x2")), "\n{}", show(&l));
}

#[test]
fn a_copy_then_an_operation_with_a_register_is_one_three_operand_instruction() {
    // mov rdx, rdi; add rcx, 5 (apart from both); or rdx, rax: orr from
    // rdi; lea eax, [rax+rax]; mov eax, eax: the lea's result is
    // zero-extended already.
    let l = listing(HostFeatures::BASELINE, |a| {
        a.mov(rdx, rdi).unwrap();
        a.add(rcx, 5).unwrap();
        a.or(rdx, rax).unwrap();
        a.lea(eax, dword_ptr(rax + rax)).unwrap();
        a.mov(eax, eax).unwrap();
        a.xor(esi, esi).unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[0], "orr x2, x7, x0", "\n{}", show(&l));
    assert_eq!(l[1], "add x1, x1, #5", "\n{}", show(&l));
    assert_eq!(l[2], "add w0, w0, w0", "\n{}", show(&l));
    assert!(!l[3].starts_with("mov w0, w0"), "\n{}", show(&l));
}

#[test]
fn lea_of_a_scaled_index_alone_is_one_shift() {
    let l = listing(HostFeatures::BASELINE, |a| {
        a.lea(rax, qword_ptr(rbx * 4)).unwrap();
        a.lea(ecx, dword_ptr(rdx * 8)).unwrap();
        a.syscall().unwrap();
    });
    assert_eq!(l[0], "lsl x0, x3, #2", "\n{}", show(&l));
    assert_eq!(l[1], "lsl w1, w2, #3", "\n{}", show(&l));
}

#[test]
fn a_byte_compare_after_movzx_reads_the_register_as_it_is() {
    // movzx; cmp r8, imm (SQLite's opcode switch) and movzx; movzx;
    // cmp r8, r8 (bzip2): no uxtb. With a write between (the add), or
    // AH compared, the byte is extended as always.
    let l = listing(HostFeatures::BASELINE, |a| {
        let mut out = a.create_label();
        a.movzx(r15d, byte_ptr(rax)).unwrap();
        a.cmp(r15b, 0xb5).unwrap();
        a.ja(out).unwrap();
        a.movzx(eax, byte_ptr(rdi)).unwrap();
        a.movzx(edx, byte_ptr(rsi)).unwrap();
        a.cmp(al, dl).unwrap();
        a.jne(out).unwrap();
        a.movzx(ecx, byte_ptr(rdi + 1)).unwrap();
        a.add(ecx, 1).unwrap();
        a.cmp(cl, 7).unwrap();
        a.jb(out).unwrap();
        a.inc(rax).unwrap();
        a.set_label(&mut out).unwrap();
        a.xor(eax, eax).unwrap();
        a.syscall().unwrap();
    });
    assert!(l.iter().any(|s| s == "cmp w15, #0xb5"), "\n{}", show(&l));
    assert!(l.iter().any(|s| s == "cmp w0, w2"), "\n{}", show(&l));
    assert_eq!(l.iter().filter(|s| s.starts_with("uxtb")).count(), 1, "only cl's compare extends\n{}", show(&l));
}

#[test]
fn accesses_at_two_displacements_from_one_scaled_index_add_it_once() {
    // a[i].x, a[i].y, then a load into the index itself: one add; the
    // access after that makes the sum again.
    let l = listing(HostFeatures::BASELINE, |a| {
        a.mov(edx, dword_ptr(rsp + rax * 8 + 0xa0)).unwrap();
        a.movsxd(rsi, dword_ptr(rsp + rax * 8 + 0xa4)).unwrap();
        a.mov(rax, qword_ptr(rsp + rax * 8 + 0x10)).unwrap();
        a.mov(rcx, qword_ptr(rsp + rax * 8 + 0x18)).unwrap();
        a.syscall().unwrap();
    });
    let adds = l.iter().filter(|s| s.starts_with("add x19, x4, x0, lsl #3")).count();
    assert_eq!(adds, 2, "the first three share one sum; rax's load ends it\n{}", show(&l));
    assert_eq!(l[2..5], ["ldursw x6, [x19, #0xa4]", "ldur x0, [x19, #0x10]", "add x19, x4, x0, lsl #3"], "\n{}", show(&l));
}
