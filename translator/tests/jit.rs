//! Runs small x86 sequences through the translator and checks the results.
//! Generated code only executes on aarch64 (natively or under qemu-aarch64).
#![cfg(target_arch = "aarch64")]

use iced_x86::code_asm::*;
use transit_translator::cpu::state::rflags;
use transit_translator::{CpuState, GuestEvent, Translator};

/// Assembles `build`'s code followed by `syscall`, runs it from a fresh
/// state prepared by `init`, and returns the state at the syscall.
fn run(build: impl FnOnce(&mut CodeAssembler), init: impl FnOnce(&mut CpuState)) -> CpuState {
    let mut a = CodeAssembler::new(64).unwrap();
    build(&mut a);
    a.syscall().unwrap();
    // Code lives in a leaked buffer: guest addresses are host addresses.
    let buf: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    let base = buf.as_ptr() as u64;
    let bytes = a.assemble(base).unwrap();
    buf[..bytes.len()].copy_from_slice(&bytes);
    let stack: &'static mut [u64] = Box::leak(vec![0u64; 1024].into_boxed_slice());
    let mut state = CpuState::default();
    state.rip = base;
    state.gpr[4] = stack.as_ptr() as u64 + 8 * 1000;
    init(&mut state);
    let mut t = Translator::new().unwrap();
    assert_eq!(t.run(&mut state), GuestEvent::Syscall);
    state
}

#[test]
fn arithmetic_and_flags() {
    let s = run(
        |a| {
            a.mov(rax, 5u64).unwrap();
            a.add(rax, 7).unwrap();
            a.mov(rbx, -1i64).unwrap();
            a.add(ebx, 1).unwrap(); // CF=1 ZF=1, upper half cleared
        },
        |_| {},
    );
    assert_eq!(s.gpr[0], 12);
    assert_eq!(s.gpr[3], 0);
    let f = s.rflags();
    assert_ne!(f & rflags::CF, 0, "flags {f:#x}");
    assert_ne!(f & rflags::ZF, 0);
    assert_ne!(f & rflags::PF, 0);
}

#[test]
fn loop_with_conditional_branch() {
    let s = run(
        |a| {
            let mut top = a.create_label();
            a.xor(eax, eax).unwrap();
            a.mov(ecx, 10).unwrap();
            a.set_label(&mut top).unwrap();
            a.add(rax, rcx).unwrap();
            a.dec(ecx).unwrap();
            a.jnz(top).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[0], 55);
}

#[test]
fn eight_bit_subtract_borrow() {
    let s = run(
        |a| {
            a.mov(al, 1).unwrap();
            a.sub(al, 2).unwrap();
            a.setb(bl).unwrap();
            a.sets(cl).unwrap();
            a.seto(dl).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[0] & 0xff, 0xff);
    assert_eq!(s.gpr[3] & 0xff, 1, "CF");
    assert_eq!(s.gpr[1] & 0xff, 1, "SF");
    assert_eq!(s.gpr[2] & 0xff, 0, "OF");
}

#[test]
fn call_and_return_through_lookup() {
    let s = run(
        |a| {
            let mut f = a.create_label();
            let mut done = a.create_label();
            a.mov(eax, 1).unwrap();
            a.call(f).unwrap();
            a.call(f).unwrap();
            a.jmp(done).unwrap();
            a.set_label(&mut f).unwrap();
            a.shl(rax, 3).unwrap();
            a.ret().unwrap();
            a.set_label(&mut done).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[0], 64);
}

#[test]
fn divide_and_multiply() {
    let s = run(
        |a| {
            a.mov(rax, 1000u64).unwrap();
            a.xor(edx, edx).unwrap();
            a.mov(rcx, 7u64).unwrap();
            a.div(rcx).unwrap(); // rax=142 rdx=6
            a.mov(rbx, rax).unwrap();
            a.imul_3(rsi, rbx, -3).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[0], 142);
    assert_eq!(s.gpr[2], 6);
    assert_eq!(s.gpr[6] as i64, -426);
}

#[test]
fn divide_by_zero_faults() {
    let mut a = CodeAssembler::new(64).unwrap();
    a.xor(ecx, ecx).unwrap();
    a.div(rcx).unwrap();
    let buf: &'static mut [u8] = Box::leak(vec![0u8; 64].into_boxed_slice());
    let base = buf.as_ptr() as u64;
    let bytes = a.assemble(base).unwrap();
    buf[..bytes.len()].copy_from_slice(&bytes);
    let mut state = CpuState { rip: base, ..CpuState::default() };
    let mut t = Translator::new().unwrap();
    assert_eq!(t.run(&mut state), GuestEvent::Fault { signal: libc::SIGFPE, addr: base + 2 });
}

#[test]
fn sse_byte_compare_and_mask() {
    let s = run(
        |a| {
            a.mov(rax, 0x4100_0000_4100_0041u64).unwrap();
            a.movq(xmm0, rax).unwrap();
            a.mov(ecx, 0x41).unwrap();
            a.movd(xmm1, ecx).unwrap();
            a.punpcklbw(xmm1, xmm1).unwrap();
            a.punpcklwd(xmm1, xmm1).unwrap();
            a.pshufd(xmm1, xmm1, 0).unwrap(); // 0x41 in every byte
            a.pcmpeqb(xmm0, xmm1).unwrap();
            a.pmovmskb(edx, xmm0).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[2], 0b1000_1001, "bytes 0, 3 and 7 match: mask {:#b}", s.gpr[2]);
}

#[test]
fn sse_double_arithmetic_compare_and_convert() {
    let s = run(
        |a| {
            let mut below = a.create_label();
            a.mov(eax, 7).unwrap();
            a.cvtsi2sd(xmm0, eax).unwrap();
            a.mov(eax, 2).unwrap();
            a.cvtsi2sd(xmm1, eax).unwrap();
            a.divsd(xmm0, xmm1).unwrap(); // 3.5
            a.cvttsd2si(rbx, xmm0).unwrap(); // 3
            a.ucomisd(xmm0, xmm1).unwrap();
            a.mov(ecx, 1).unwrap();
            a.jbe(below).unwrap();
            a.mov(ecx, 2).unwrap();
            a.set_label(&mut below).unwrap();
            a.pxor(xmm2, xmm2).unwrap();
            a.divsd(xmm2, xmm2).unwrap(); // 0/0: x86's negative default NaN
            a.movq(rdx, xmm2).unwrap();
            a.cvttsd2si(esi, xmm2).unwrap(); // NaN: integer indefinite
        },
        |_| {},
    );
    assert_eq!(s.gpr[3], 3);
    assert_eq!(s.gpr[1], 2, "3.5 > 2 takes the ja path");
    assert_eq!(s.gpr[2], 0xfff8_0000_0000_0000);
    assert_eq!(s.gpr[6], 0x8000_0000);
}

/// x86's NaN rules (first NaN operand quieted, else the negative default
/// NaN) on the out-of-line path, with the guest flags live across it (the
/// flag-preserving test) and dead (`fcmp`), scalar and packed, legacy and VEX.
#[test]
fn sse_nan_results_follow_x86_with_flags_live_and_dead() {
    const SNAN_D: u64 = 0x7ff0_0000_0000_0001;
    const QNAN_D: u64 = 0x7ff8_0000_0000_0002;
    const NEG_SNAN_D: u64 = 0xfff0_0000_0000_0004;
    let lanes = |l: &[u32]| l.iter().rev().fold(0u128, |x, &v| (x << 32) | v as u128);
    let s = run(
        |a| {
            a.mov(eax, 1).unwrap();
            a.cmp(eax, 2).unwrap(); // CF=1 SF=1, read after the NaNs
            a.divsd(xmm1, xmm2).unwrap(); // 0/0
            a.vaddpd(xmm8, xmm3, xmm4).unwrap();
            a.addpd(xmm3, xmm4).unwrap();
            a.vsqrtps(xmm9, xmm10).unwrap();
            a.setb(cl).unwrap();
            a.sets(dl).unwrap();
            a.divsd(xmm5, xmm5).unwrap(); // flags dead: the xor rewrites them
            a.mulps(xmm6, xmm7).unwrap();
            a.sqrtpd(xmm11, xmm11).unwrap();
            a.xor(eax, eax).unwrap();
        },
        |st| {
            st.xmm[3] = (u128::from(1.0f64.to_bits()) << 64) | u128::from(SNAN_D);
            st.xmm[4] = (u128::from(NEG_SNAN_D) << 64) | u128::from(QNAN_D);
            st.xmm[6] = lanes(&[f32::INFINITY.to_bits(), 0, 1.0f32.to_bits(), 2.0f32.to_bits()]);
            st.xmm[7] = lanes(&[0, 0x7f80_0001, 1.0f32.to_bits(), 2.0f32.to_bits()]);
            st.xmm[10] = lanes(&[(-1.0f32).to_bits(), 0x7f80_0001, 4.0f32.to_bits(), 0xffc0_0005]);
            st.xmm[11] = (u128::from(NEG_SNAN_D) << 64) | u128::from((-4.0f64).to_bits());
        },
    );
    assert_eq!((s.gpr[1] & 0xff, s.gpr[2] & 0xff), (1, 1), "cmp's CF and SF survive the NaN paths");
    assert_eq!(s.xmm[1] as u64, 0xfff8_0000_0000_0000, "0/0 is the negative indefinite");
    let quieted_pd = (u128::from(0xfff8_0000_0000_0004u64) << 64) | 0x7ff8_0000_0000_0001;
    assert_eq!(s.xmm[3], quieted_pd, "the first NaN operand wins, quieted: {:#x}", s.xmm[3]);
    assert_eq!(s.xmm[8], quieted_pd, "VEX writes its destination directly");
    assert_eq!(s.xmm[9], lanes(&[0xffc0_0000, 0x7fc0_0001, 2.0f32.to_bits(), 0xffc0_0005]));
    assert_eq!(s.xmm[5] as u64, 0xfff8_0000_0000_0000);
    assert_eq!(s.xmm[6], lanes(&[0xffc0_0000, 0x7fc0_0001, 1.0f32.to_bits(), 4.0f32.to_bits()]));
    assert_eq!(s.xmm[11], (u128::from(0xfff8_0000_0000_0004u64) << 64) | 0xfff8_0000_0000_0000);
    assert_ne!(s.rflags() & rflags::ZF, 0);
}

/// ucomisd/ucomiss whose SF and OF nobody reads (fcmp + fccmp): ZF, PF
/// and CF for each of x86's four outcomes, read by seta/setb/sete/setp.
#[test]
fn ucomis_flags_for_each_outcome() {
    let nan = f64::NAN.to_bits();
    // (a, b, [seta, setb, sete, setp])
    for (a, b, want) in [(nan, 1.0f64.to_bits(), [0, 1, 1, 1]), (1.0f64.to_bits(), 2.0f64.to_bits(), [0, 1, 0, 0]), (0, 1 << 63, [0, 0, 1, 0]), (2.0f64.to_bits(), nan, [0, 1, 1, 1]), (3.0f64.to_bits(), 2.0f64.to_bits(), [1, 0, 0, 0])] {
        for single in [false, true] {
            let s = run(
                |asm| {
                    if single {
                        asm.ucomiss(xmm0, xmm1).unwrap();
                    } else {
                        asm.ucomisd(xmm0, xmm1).unwrap();
                    }
                    asm.seta(al).unwrap();
                    asm.setb(bl).unwrap();
                    asm.sete(cl).unwrap();
                    asm.setp(dl).unwrap();
                    asm.xor(esi, esi).unwrap(); // SF and OF are never read
                },
                |st| {
                    let narrow = |x: u64| u128::from((f64::from_bits(x) as f32).to_bits());
                    (st.xmm[0], st.xmm[1]) = if single { (narrow(a), narrow(b)) } else { (a.into(), b.into()) };
                },
            );
            let got = [0, 3, 1, 2].map(|r| s.gpr[r] & 0xff);
            assert_eq!(got, want, "{:e} vs {:e}, single {single}", f64::from_bits(a), f64::from_bits(b));
        }
    }
}

#[test]
fn x87_divide_and_compare() {
    let s = run(
        |a| {
            a.push(3).unwrap();
            a.fild(qword_ptr(rsp)).unwrap();
            a.mov(qword_ptr(rsp), 2).unwrap();
            a.fild(qword_ptr(rsp)).unwrap();
            a.fdivp(st1, st0).unwrap(); // st0 = 3 / 2
            a.fld1().unwrap();
            a.fucomip(st0, st1).unwrap(); // 1 < 1.5: CF=1
            a.setb(cl).unwrap();
            a.fstp(qword_ptr(rsp)).unwrap();
            a.pop(rax).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[0], 1.5f64.to_bits());
    assert_eq!(s.gpr[1] & 0xff, 1);
    assert_eq!(s.x87.top, 0, "stack balanced");
}

/// Both exits of jrcxz must leave CF in canonical form (regression: the
/// taken path skipped the conversion after an add).
#[test]
fn carry_survives_both_jrcxz_exits() {
    for count in [0u64, 1] {
        let s = run(
            |a| {
                let mut next = a.create_label();
                a.mov(rax, -1i64).unwrap();
                a.add(rax, 1).unwrap(); // CF=1, host C in carry form
                a.jrcxz(next).unwrap();
                a.set_label(&mut next).unwrap();
                a.mov(edx, 0).unwrap();
                a.adc(edx, 0).unwrap();
            },
            |s| s.gpr[1] = count,
        );
        assert_eq!(s.gpr[2], 1, "rcx={count}");
    }
}

#[test]
fn narrow_test_and_compare_set_flags_from_their_result() {
    let s = run(
        |a| {
            a.mov(eax, 0x1f0).unwrap();
            a.mov(ebx, 0x10f).unwrap();
            a.test(al, bl).unwrap(); // 0xf0 & 0x0f == 0
            a.setz(cl).unwrap();
            a.cmp(ax, bx).unwrap(); // 0x1f0 > 0x10f unsigned
            a.seta(dl).unwrap();
            a.test(eax, ebx).unwrap(); // 0x100
            a.setnz(sil).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[1] & 0xff, 1, "test al, bl sets ZF");
    assert_eq!(s.gpr[2] & 0xff, 1, "cmp ax, bx: above");
    assert_eq!(s.gpr[6] & 0xff, 1, "test eax, ebx: nonzero");
}

#[test]
fn interpreter_instructions_cmpxchg8b_rcl_enter_fxsave() {
    let s = run(
        |a| {
            a.sub(rsp, 1024).unwrap();
            a.mov(qword_ptr(rsp), 5).unwrap();
            a.xor(edx, edx).unwrap();
            a.mov(eax, 5).unwrap();
            a.mov(ecx, 0x11).unwrap();
            a.mov(ebx, 0x22).unwrap();
            a.cmpxchg8b(qword_ptr(rsp)).unwrap(); // equal: store ECX:EBX
            a.mov(r8, qword_ptr(rsp)).unwrap();
            a.stc().unwrap();
            a.rcl(qword_ptr(rsp), 1).unwrap(); // (0x11_0000_0022 << 1) | 1
            a.mov(r9, qword_ptr(rsp)).unwrap();
            a.mov(rbp, 7u64).unwrap();
            a.enter(16, 0).unwrap();
            a.mov(r10, rbp).unwrap();
            a.leave().unwrap();
            a.mov(r11, rbp).unwrap();
            a.mov(eax, 0x4000_0000).unwrap();
            a.movd(xmm3, eax).unwrap();
            a.and(rsp, -16).unwrap();
            a.sub(rsp, 512).unwrap();
            a.fxsave(ptr(rsp)).unwrap();
            a.pxor(xmm3, xmm3).unwrap();
            a.fxrstor(ptr(rsp)).unwrap();
            a.movd(r12d, xmm3).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[8], 0x11_0000_0022);
    assert_eq!(s.gpr[9], 0x22_0000_0045);
    assert_eq!(s.gpr[11], 7, "leave restores rbp");
    assert_ne!(s.gpr[10], 7, "enter sets rbp to the frame");
    assert_eq!(s.gpr[12], 0x4000_0000, "fxrstor restores xmm3");
}

/// Immediate forms: x86 `add r, -v` becomes a host subtract and must still
/// produce x86's carry; logical immediates use the host's bit-pattern forms.
#[test]
fn immediate_operands_keep_x86_carry_and_results() {
    let cases: [(u64, fn(&mut CodeAssembler), u64, bool); 6] = [
        (0, |a| a.add(rax, -1).unwrap(), u64::MAX, false),
        (5, |a| a.add(rax, -1).unwrap(), 4, true),
        (u64::MAX, |a| a.sub(rax, -1).unwrap(), 0, false),
        (5, |a| a.sub(rax, -1).unwrap(), 6, true),
        (1, |a| a.sub(eax, -2).unwrap(), 3, true),
        (0x1234, |a| a.and(rax, 0xff00).unwrap(), 0x1200, false),
    ];
    for (input, op, result, carry) in cases {
        let s = run(
            |a| {
                op(a);
                a.setc(cl).unwrap();
            },
            |s| s.gpr[0] = input,
        );
        assert_eq!(s.gpr[0], result, "input {input:#x}");
        assert_eq!(s.gpr[1] & 1 == 1, carry, "carry for input {input:#x}");
    }
}

#[test]
fn mmx_runs_in_the_interpreter() {
    let s = run(
        |a| {
            a.mov(rax, 0x0001_0002_0003_7fffu64).unwrap();
            a.movq(mm0, rax).unwrap();
            a.mov(rax, 0x0001_0001_0001_0001u64).unwrap();
            a.movq(mm1, rax).unwrap();
            a.paddsw(mm0, mm1).unwrap(); // saturates the low lane
            a.movq(rbx, mm0).unwrap();
            a.emms().unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[3], 0x0002_0003_0004_7fff);
    assert_eq!(s.x87.valid, 0, "emms empties the x87 tags");
}

/// Returns, three times over (so the later rounds find their targets in
/// the lookup table and their blocks linked): recursion, CF kept across
/// `ret`, a callee that rewrites its return address, a `ret` to a pushed
/// address, and `ret imm16`.
#[test]
fn returns_to_called_rewritten_and_pushed_addresses() {
    let s = run(
        |a| {
            let mut round = a.create_label();
            let mut fib = a.create_label();
            let mut fib_base = a.create_label();
            let mut set_carry = a.create_label();
            let mut redirect = a.create_label();
            let mut elsewhere = a.create_label();
            let mut back = a.create_label();
            let mut pushed = a.create_label();
            let mut drop_args = a.create_label();
            let mut done = a.create_label();
            for r in [r8, r9, r10, r11, r13] {
                a.xor(r, r).unwrap();
            }
            a.mov(r14, rsp).unwrap();
            a.mov(r12, 3u64).unwrap();
            a.set_label(&mut round).unwrap();
            a.mov(rdi, 10u64).unwrap();
            a.call(fib).unwrap();
            a.add(r8, rax).unwrap();
            a.call(set_carry).unwrap();
            a.adc(r9, 0).unwrap();
            a.call(redirect).unwrap();
            a.mov(r10, 1000u64).unwrap(); // skipped: the callee returns elsewhere
            a.set_label(&mut elsewhere).unwrap();
            a.inc(r10).unwrap();
            a.lea(rax, ptr(pushed)).unwrap();
            a.push(rax).unwrap();
            a.ret().unwrap();
            a.mov(r11, 1000u64).unwrap(); // never reached
            a.set_label(&mut pushed).unwrap();
            a.inc(r11).unwrap();
            a.push(7).unwrap();
            a.push(8).unwrap();
            a.call(drop_args).unwrap();
            a.set_label(&mut back).unwrap();
            a.dec(r12).unwrap();
            a.jnz(round).unwrap();
            a.jmp(done).unwrap();

            a.set_label(&mut fib).unwrap();
            a.cmp(rdi, 2).unwrap();
            a.jb(fib_base).unwrap();
            a.push(rbx).unwrap();
            a.mov(rbx, rdi).unwrap();
            a.dec(rdi).unwrap();
            a.call(fib).unwrap();
            a.push(rax).unwrap();
            a.mov(rdi, rbx).unwrap();
            a.sub(rdi, 2).unwrap();
            a.call(fib).unwrap();
            a.pop(rdx).unwrap();
            a.add(rax, rdx).unwrap();
            a.pop(rbx).unwrap();
            a.ret().unwrap();
            a.set_label(&mut fib_base).unwrap();
            a.mov(rax, rdi).unwrap();
            a.ret().unwrap();

            a.set_label(&mut set_carry).unwrap();
            a.stc().unwrap();
            a.ret().unwrap();

            a.set_label(&mut redirect).unwrap();
            a.lea(rax, ptr(elsewhere)).unwrap();
            a.mov(qword_ptr(rsp), rax).unwrap();
            a.ret().unwrap();

            a.set_label(&mut drop_args).unwrap();
            a.mov(rax, qword_ptr(rsp + 8)).unwrap();
            a.add(r13, rax).unwrap();
            a.mov(rax, qword_ptr(rsp + 16)).unwrap();
            a.add(r13, rax).unwrap();
            a.ret_1(16).unwrap();
            a.set_label(&mut done).unwrap();
            a.sub(r14, rsp).unwrap();
        },
        |_| {},
    );
    assert_eq!(s.gpr[8], 3 * 55, "fib(10) three times");
    assert_eq!(s.gpr[9], 3, "CF set by the callee");
    assert_eq!(s.gpr[10], 3, "returned where the callee said");
    assert_eq!(s.gpr[11], 3, "returned to the pushed address");
    assert_eq!(s.gpr[13], 3 * 15, "ret 16 dropped both arguments");
    assert_eq!(s.gpr[14], 0, "stack balanced");
}

#[test]
fn conditional_branches_inside_a_block_leave_with_the_flags_their_targets_read() {
    // A loop whose body has four conditional branches: the block goes on
    // past them (side exits), and each taken way reads a flag set before
    // its branch (adc: CF, once left by an add in the carry form; setp:
    // PF; sets: SF), which the way on overwrites first, so only the side
    // exit's liveness keeps them.
    let s = run(
        |a| {
            let (mut top, mut carry, mut low, mut signed, mut next) =
                (a.create_label(), a.create_label(), a.create_label(), a.create_label(), a.create_label());
            a.xor(eax, eax).unwrap();
            a.xor(ebx, ebx).unwrap();
            a.xor(edx, edx).unwrap();
            a.xor(esi, esi).unwrap();
            a.mov(ecx, 40).unwrap();
            a.set_label(&mut top).unwrap();
            a.mov(edi, ecx).unwrap();
            a.add(edi, -16).unwrap(); // CF when ecx >= 16, SF when ecx < 16
            a.jns(carry).unwrap();
            a.xor(r13d, r13d).unwrap(); // CF = 0
            a.set_label(&mut carry).unwrap();
            a.adc(r12, 0).unwrap();
            a.cmp(ecx, 17).unwrap(); // CF when ecx < 17
            a.jb(low).unwrap();
            a.add(rbx, 2).unwrap(); // CF = 0
            a.set_label(&mut low).unwrap();
            a.adc(rbx, 0).unwrap();
            a.mov(edi, ecx).unwrap();
            a.sub(edi, 30).unwrap(); // SF when ecx < 30, PF from the low byte
            a.js(signed).unwrap();
            a.add(rdx, 1).unwrap(); // overwrites SF and PF
            a.set_label(&mut signed).unwrap();
            a.setp(r8b).unwrap();
            a.movzx(r8d, r8b).unwrap();
            a.add(rsi, r8).unwrap();
            a.cmp(ecx, 30).unwrap(); // SF and CF when ecx < 30 (no overflow)
            a.jb(next).unwrap();
            a.add(r9, 0).unwrap(); // SF from r9 = 0: clear
            a.set_label(&mut next).unwrap();
            a.sets(r10b).unwrap();
            a.movzx(r10d, r10b).unwrap();
            a.add(r11, r10).unwrap();
            a.dec(ecx).unwrap();
            a.jnz(top).unwrap();
        },
        |_| {},
    );
    let (mut model_r12, mut model_rbx, mut model_rdx, mut model_rsi, mut model_r11) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for c in (1..=40u64).rev() {
        model_r12 += u64::from(c >= 16);
        model_rbx += if c < 17 { 1 } else { 2 };
        let d = (c as u32).wrapping_sub(30);
        let (sf, pf) = (d >> 31 == 1, (d as u8).count_ones() % 2 == 0);
        if !sf {
            model_rdx += 1;
            model_rsi += u64::from((model_rdx as u8).count_ones() % 2 == 0);
        } else {
            model_rsi += u64::from(pf);
        }
        model_r11 += u64::from(c < 30);
    }
    assert_eq!(s.gpr[12], model_r12, "CF in the carry form through the jns side exit");
    assert_eq!(s.gpr[3], model_rbx, "CF through the jb side exit");
    assert_eq!(s.gpr[2], model_rdx);
    assert_eq!(s.gpr[6], model_rsi, "PF through the js side exit");
    assert_eq!(s.gpr[11], model_r11, "SF through the second jb side exit");
}

#[test]
fn a_test_whose_flags_only_its_branch_reads_branches_on_the_register() {
    // test r, r before je/jne/js/jns with the flags dead after the branch
    // is one cbz/cbnz/tbz/tbnz: 32-bit tests look at the low half only,
    // js/jns at bit 31 or 63. The last pair's ZF is read after the
    // branch (setz), so that test must set the flags.
    let values: [u64; 6] = [0, 1, 0x1_0000_0000, 0x8000_0000, 0x8000_0000_0000_0000, u64::MAX];
    for &v in &values {
        let s = run(
            |a| {
                let (mut l1, mut l2, mut l3, mut l4, mut l5) =
                    (a.create_label(), a.create_label(), a.create_label(), a.create_label(), a.create_label());
                a.xor(ebx, ebx).unwrap();
                a.test(rax, rax).unwrap();
                a.je(l1).unwrap();
                a.or(ebx, 1).unwrap();
                a.set_label(&mut l1).unwrap();
                a.test(eax, eax).unwrap();
                a.jne(l2).unwrap();
                a.or(ebx, 2).unwrap();
                a.set_label(&mut l2).unwrap();
                a.test(rax, rax).unwrap();
                a.js(l3).unwrap();
                a.or(ebx, 4).unwrap();
                a.set_label(&mut l3).unwrap();
                a.test(eax, eax).unwrap();
                a.jns(l4).unwrap();
                a.or(ebx, 8).unwrap();
                a.set_label(&mut l4).unwrap();
                a.test(rax, rax).unwrap();
                a.jne(l5).unwrap();
                a.nop().unwrap();
                a.set_label(&mut l5).unwrap();
                a.setz(cl).unwrap();
            },
            |s| s.gpr[0] = v,
        );
        let low = v as u32;
        let want = u64::from(v != 0) | u64::from(low == 0) << 1 | u64::from(v >> 63 == 0) << 2 | u64::from(low >> 31 == 1) << 3;
        assert_eq!(s.gpr[3], want, "branches for {v:#x}");
        assert_eq!(s.gpr[1] & 0xff, u64::from(v == 0), "ZF after the last branch for {v:#x}");
    }
}
