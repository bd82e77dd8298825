//! One row per iced `Code`: how the translator runs the form (`Route`),
//! the CPUID features it needs, which flags are undefined after it, and
//! whether the difftest compares it. `translate::handler`, `is_supported`,
//! the difftest and the presented-CPU tests all read these rows.
//!
//! The general-purpose forms are written below as tables grouped by
//! family (one handler, its typed parameter per mnemonic); the macro turns
//! them into a `match` compiled by rustc, so looking a row up costs a jump
//! table, not a table built at start-up. The SSE/AVX/MMX families keep
//! their own tables (`emit::{vector, vex, sse, sse41, mmx}`), which pick a
//! handler from the operands: their rows say `Route::Vector`.

use crate::cpu::features::{self, Presence};
use crate::emit::alu::{self, AluOp};
use crate::emit::bits::{self, BitOp};
use crate::emit::bmi::{self, LowestBit, ShiftX};
use crate::emit::shift::{self, ShiftOp};
use crate::emit::{control, crypto, data, muldiv, sse42, string, Handler};
use iced_x86::{Code, CpuidFeature, Instruction, Mnemonic, OpKind, RflagsBits};

/// Everything the translator and its tests know about one form.
#[derive(Clone, Copy)]
pub struct FormRow {
    pub route: Route,
    /// Checks on the operands that come before `route` (see `Guard`).
    pub guards: &'static [Guard],
    /// The CPUID features the form needs (iced's table).
    pub feature: &'static [CpuidFeature],
    /// Flags undefined after it on either vendor beyond iced's
    /// `rflags_undefined()` (`undefined_flags` adds both).
    pub vendor_undefined: VendorUndefined,
    /// Why the difftest leaves it out, if it does.
    pub difftest: Option<Exclusion>,
}

/// How the translator runs a form on the presented CPU.
#[derive(Clone, Copy)]
pub enum Route {
    /// Compiled by `handler`; `op` is its parameter, as data.
    Emit { handler: Handler, op: Op },
    /// The interpreter (rare or state-heavy forms).
    Interpret,
    /// Ring 0 only, or I/O without IOPL: #GP (SIGSEGV).
    Privileged,
    /// Hints, and the hint-NOP space of features the CPU lacks.
    Nop,
    /// ud0/ud1/ud2: #UD (SIGILL) by definition.
    Undefined,
    /// The SSE/AVX/MMX families' own tables choose from the operands.
    Vector,
    /// The presented CPU lacks the form (or Transit does not implement it):
    /// SIGILL.
    Lacks,
}

/// A handler's parameter, for reading and testing the rows; the compiled
/// handler already has it built in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    None,
    Alu(AluOp),
    Shift(ShiftOp),
    BitTest(BitOp),
    /// bsf (true) or bsr; tzcnt and lzcnt on a CPU without BMI1/LZCNT.
    BitScan(bool),
    /// tzcnt (true) or lzcnt.
    CountZeros(bool),
    /// inc (true) or dec.
    IncDec(bool),
    /// shld (true) or shrd.
    DoubleShift(bool),
    /// Signed (true) or unsigned widening multiply/divide.
    Signed(bool),
    LowestBit(LowestBit),
    ShiftX(ShiftX),
    /// pdep (true) or pext.
    Deposit(bool),
    /// movsx (true) or movzx.
    SignExtend(bool),
    /// Source width in bytes (cbw/cwde/cdqe, cwd/cdq/cqo).
    Width(u8),
    /// std (true) or cld.
    Direction(bool),
}

/// Operand checks that pick a different route for some operands of a
/// mnemonic. They run only for the mnemonics whose rows name them.
#[derive(Clone, Copy, Debug)]
pub enum Guard {
    /// Segment-register moves, far loads and returns, lar/lsl/verr/verw:
    /// the interpreter when `interp::segments` handles the form.
    Segments,
    /// mov to or from CR0-CR15 or DR0-DR7: #GP.
    ControlOrDebugRegister,
    /// 16-bit push/pop/pushf/popf, shld/shrd by CL, xlat, sgdt...:
    /// the interpreter when `interp::legacy_forms` handles the form.
    LegacyForms,
    /// movsd and cmpsd are string and SSE2 mnemonics: the string form
    /// (memory operands ES:[RDI], [RSI]) takes this route instead.
    StringForm(Handler),
}

/// Vendor differences in undefined flags that iced's tables call defined;
/// where they depend on the operands, `vendor_undefined` works them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VendorUndefined {
    None,
    /// SDM and APM, RCL/RCR/ROL/ROR: OF is defined only when the masked
    /// count is 1. iced reduces RCL/RCR counts modulo 9 or 17 first, so it
    /// calls OF defined for `rcr r16, 18`; AMD CPUs set it differently.
    RotateOverflow,
    /// SDM, SHL/SHR/SAR: CF is undefined when the count is at least the
    /// operand's width, which only 8- and 16-bit operands reach (the count
    /// is masked to 5 bits).
    ShiftCarry,
    /// APM, BT/BTS/BTR/BTC: ZF is undefined (the SDM says unaffected).
    BitTestZero,
}

/// Why the difftest leaves a form out (the host CPU is the oracle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exclusion {
    pub reason: &'static str,
    /// Compared after all when the host is Intel (whose behaviour Transit
    /// follows).
    pub unless_intel_host: bool,
}

/// The row of `code` on the CPU presented now (`features::presented`).
pub fn row(code: Code) -> FormRow {
    let m = code.mnemonic();
    let (route, guards) = route(code);
    FormRow {
        route,
        guards,
        feature: code.cpuid_features(),
        vendor_undefined: vendor_row(m),
        difftest: exclusion(m, code),
    }
}

/// The route and guards of `code` (the part of its row translation reads:
/// a feature check and two matches).
pub fn route(code: Code) -> (Route, &'static [Guard]) {
    let m = code.mnemonic();
    match features::presence(features::presented(), code) {
        Presence::Has => general(m),
        // Without BMI1/LZCNT, tzcnt and lzcnt are rep bsf and rep bsr.
        Presence::AsOlder => match m {
            Mnemonic::Tzcnt => (emit(|e, i| bits::bit_scan(e, i, true), Op::BitScan(true)), NONE),
            _ => (emit(|e, i| bits::bit_scan(e, i, false), Op::BitScan(false)), NONE),
        },
        Presence::Nop => (Route::Nop, NONE),
        Presence::Lacks => (Route::Lacks, NONE),
    }
}

/// The handler for `insn`, after its row's guards; `None` is SIGILL.
pub fn handler(insn: &Instruction) -> Option<Handler> {
    let (route, guards) = route(insn.code());
    for guard in guards {
        if let Some(h) = guarded(*guard, insn) {
            return Some(h);
        }
    }
    match route {
        Route::Emit { handler, .. } => Some(handler),
        Route::Interpret => Some(control::interpret),
        Route::Privileged => Some(control::privileged),
        Route::Nop => Some(data::nop),
        Route::Undefined => Some(control::ud),
        Route::Vector => vector(insn),
        Route::Lacks => None,
    }
}

fn guarded(guard: Guard, insn: &Instruction) -> Option<Handler> {
    let taken = match guard {
        Guard::Segments => crate::interp::segments::handles(insn),
        Guard::ControlOrDebugRegister => (0..2).any(|i| {
            insn.op_kind(i) == OpKind::Register && {
                let r = insn.op_register(i);
                r.is_cr() || r.is_dr()
            }
        }),
        Guard::LegacyForms => crate::interp::legacy_forms::handles(insn),
        Guard::StringForm(_) => matches!(insn.op0_kind(), OpKind::MemoryESRDI | OpKind::MemorySegRSI),
    };
    taken.then_some(match guard {
        Guard::Segments | Guard::LegacyForms => control::interpret as Handler,
        Guard::ControlOrDebugRegister => control::privileged,
        Guard::StringForm(h) => h,
    })
}

/// The SSE/AVX/MMX tables, in the order their claims overlap: lane-wise
/// operations, whole-register VEX forms, MMX, then SSE and SSE4.1.
pub fn vector(insn: &Instruction) -> Option<Handler> {
    if let Some(h) = crate::emit::vector::handler(insn).or_else(|| crate::emit::vex::handler(insn)) {
        return Some(h);
    }
    if crate::interp::mmx::uses_mmx(insn) {
        if let Some(h) = crate::emit::mmx::handler(insn) {
            return Some(h);
        }
        return crate::interp::mmx::implements(insn).then_some(control::interpret as Handler);
    }
    if crate::interp::mmx::implements_without_mmx_register(insn) {
        return Some(control::interpret);
    }
    crate::emit::sse::handler(insn).or_else(|| crate::emit::sse41::handler(insn))
}

const NONE: &[Guard] = &[];

const fn emit(handler: Handler, op: Op) -> Route {
    Route::Emit { handler, op }
}

/// The general-purpose rows. Each family is one handler and, per
/// mnemonic, its parameter; `fixed` rows route without a handler of
/// their own.
macro_rules! general_rows {
    (
        families { $( $family:ident($f:path) { $( $($pm:ident)|+ => $p:expr ),* $(,)? } )* }
        simple { $( $($sm:ident)|+ => $h:path ),* $(,)? }
        fixed { $( $($fm:ident)|+ => $route:expr ),* $(,)? }
        guarded { $( $($gm:ident)|+ => ($groute:expr, $guards:expr) ),* $(,)? }
    ) => {
        fn general(m: Mnemonic) -> (Route, &'static [Guard]) {
            match m {
                $( $( $(Mnemonic::$pm)|+ => (emit(|e, i| $f(e, i, $p), Op::$family($p)), NONE), )* )*
                $( $(Mnemonic::$sm)|+ => (emit($h, Op::None), NONE), )*
                $( $(Mnemonic::$fm)|+ => ($route, NONE), )*
                $( $(Mnemonic::$gm)|+ => ($groute, $guards), )*
                m if crate::interp::x87::is_x87(m) => (Route::Interpret, NONE),
                // Masked loads and stores, gathers: per element (`interp::vex_masked`).
                m if crate::interp::vex_masked::handles(m) => (Route::Interpret, NONE),
                _ => (Route::Vector, NONE),
            }
        }
    };
}

general_rows! {
    families {
        Alu(alu::alu) {
            Add => AluOp::Add, Adc => AluOp::Adc, Sub => AluOp::Sub, Sbb => AluOp::Sbb, Cmp => AluOp::Cmp,
            And => AluOp::And, Or => AluOp::Or, Xor => AluOp::Xor, Test => AluOp::Test,
        }
        IncDec(alu::inc_dec) { Inc => true, Dec => false }
        Shift(shift::shift) {
            Shl | Sal => ShiftOp::Shl, Shr => ShiftOp::Shr, Sar => ShiftOp::Sar, Rol => ShiftOp::Rol,
            Ror => ShiftOp::Ror,
        }
        Signed(muldiv::mul_wide) { Mul => false }
        Signed(muldiv::div) { Div => false, Idiv => true }
        BitTest(bits::bit_test) {
            Bt => BitOp::Test, Bts => BitOp::Set, Btr => BitOp::Reset, Btc => BitOp::Complement,
        }
        BitScan(bits::bit_scan) { Bsf => true, Bsr => false }
        CountZeros(bmi::count_zeros) { Tzcnt => true, Lzcnt => false }
        LowestBit(bmi::lowest_bit) {
            Blsi => LowestBit::Isolate, Blsmsk => LowestBit::Mask, Blsr => LowestBit::Reset,
        }
        Deposit(bmi::bit_gather_scatter) { Pdep => true, Pext => false }
        ShiftX(bmi::shift_x) { Shlx => ShiftX::Shl, Shrx => ShiftX::Shr, Sarx => ShiftX::Sar }
        SignExtend(data::mov_extend) { Movzx => false, Movsx | Movsxd => true }
        Width(extend_acc) { Cbw => 1, Cwde => 2, Cdqe => 4 }
        Width(sign_to_dx) { Cwd => 2, Cdq => 4, Cqo => 8 }
        Direction(direction_flag) { Cld => false, Std => true }
    }
    simple {
        Neg => alu::neg, Not => alu::not,
        Imul => imul,
        Andn => bmi::andn, Bextr => bmi::bextr, Bzhi => bmi::bzhi, Mulx => bmi::mulx, Rorx => bmi::rorx,
        Movbe => bmi::movbe,
        Lea => data::lea, Xchg => data::xchg, Leave => data::leave,
        Cmovo | Cmovno | Cmovb | Cmovae | Cmove | Cmovne | Cmovbe | Cmova | Cmovs | Cmovns | Cmovp | Cmovnp
        | Cmovl | Cmovge | Cmovle | Cmovg => data::cmov,
        Seto | Setno | Setb | Setae | Sete | Setne | Setbe | Seta | Sets | Setns | Setp | Setnp | Setl | Setge
        | Setle | Setg => data::setcc,
        Bswap => data::bswap,
        Clflush | Clflushopt | Clwb => data::cache_line_hint,
        Mfence => data::mfence,
        Clc | Stc | Cmc => data::carry_flag,
        Cmpxchg => data::cmpxchg, Xadd => data::xadd,
        Jmp => control::jmp, Call => control::call, Ret => control::ret,
        Jo | Jno | Jb | Jae | Je | Jne | Jbe | Ja | Js | Jns | Jp | Jnp | Jl | Jge | Jle | Jg => control::jcc,
        Jrcxz | Jecxz | Loop | Loope | Loopne => control::count_branch,
        Syscall => control::syscall,
        // int1 (icebp) is a debug trap: SIGTRAP after it, as int3.
        Int3 | Int1 => control::int3,
        Int => control::int_n,
        Rdtsc => control::rdtsc,
        Movsb | Movsw | Movsq | Stosb | Stosw | Stosd | Stosq => string::movs_stos,
        Movnti => data::mov,
        Popcnt => bits::popcnt,
        Crc32 => sse42::crc32,
        Aesenc | Aesenclast | Aesdec | Aesdeclast | Aesimc | Vaesenc | Vaesenclast | Vaesdec | Vaesdeclast
        | Vaesimc => crypto::aes,
        Pclmulqdq | Vpclmulqdq => crypto::pclmulqdq,
    }
    fixed {
        // Hints; prefetches never fault. 0F 0D is PREFETCHW's NOP space.
        Nop | Reservednop | Endbr64 | Endbr32 | Pause | Prefetchnta | Prefetcht0 | Prefetcht1 | Prefetcht2
        | Prefetch | Prefetchw | Prefetchwt1 | Lfence | Sfence => Route::Nop,
        Hlt | In | Out | Insb | Insw | Insd | Outsb | Outsw | Outsd | Cli | Sti | Lgdt | Lidt | Lldt | Ltr | Lmsw
        | Clts | Invlpg | Invd | Wbinvd | Swapgs | Sysret | Sysretq | Xsetbv => Route::Privileged,
        Ud2 | Ud0 | Ud1 => Route::Undefined,
        Cpuid | Rcl | Rcr | Lodsb | Lodsw | Lodsd | Lodsq | Cmpsb | Cmpsw | Cmpsq | Scasb | Scasw | Scasd
        | Scasq | Pushfq | Popfq | Lahf | Sahf | Cmpxchg8b | Fxsave | Fxsave64 | Fxrstor | Fxrstor64 | Enter
        | Xgetbv | Xsave | Xsave64 | Xsaveopt | Xsaveopt64 | Xsavec | Xsavec64 | Xrstor | Xrstor64
        | Cmpxchg16b | Aeskeygenassist | Vaeskeygenassist
        | Pcmpestri | Pcmpestri64 | Pcmpestrm | Pcmpestrm64 | Pcmpistri | Pcmpistrm | Vpcmpestri | Vpcmpestri64
        | Vpcmpestrm | Vpcmpestrm64 | Vpcmpistri | Vpcmpistrm
        // The rare multi-step SSE4.1 forms' VEX encodings (`interp::sse41_interp`).
        | Vdpps | Vdppd | Vmpsadbw | Vphminposuw => Route::Interpret,
    }
    guarded {
        Mov => (emit(data::mov, Op::None), &[Guard::Segments, Guard::ControlOrDebugRegister]),
        Push => (emit(data::push, Op::None), &[Guard::Segments, Guard::LegacyForms]),
        Pop => (emit(data::pop, Op::None), &[Guard::Segments, Guard::LegacyForms]),
        Lfs | Lgs | Lss | Retf | Iret | Iretd | Iretq | Lar | Lsl | Verr | Verw => (Route::Lacks, &[Guard::Segments]),
        Pushf | Popf | Xlatb | Sgdt | Sidt | Smsw | Sldt | Str => (Route::Lacks, &[Guard::LegacyForms]),
        Shld => (emit(|e, i| shift::double_shift(e, i, true), Op::DoubleShift(true)), &[Guard::LegacyForms]),
        Shrd => (emit(|e, i| shift::double_shift(e, i, false), Op::DoubleShift(false)), &[Guard::LegacyForms]),
        Movsd => (Route::Vector, &[Guard::StringForm(string::movs_stos)]),
        Cmpsd => (Route::Vector, &[Guard::StringForm(control::interpret)]),
    }
}

/// imul's one-operand form widens into rDX:rAX; its two- and three-operand
/// forms truncate.
fn imul(e: &mut crate::emit::Emitter, insn: &Instruction) -> crate::emit::EmitResult {
    if insn.op_count() > 1 {
        muldiv::imul_2_3(e, insn)
    } else {
        muldiv::mul_wide(e, insn, true)
    }
}

fn extend_acc(e: &mut crate::emit::Emitter, _insn: &Instruction, bytes: u8) -> crate::emit::EmitResult {
    data::extend_acc(e, bytes)
}

fn sign_to_dx(e: &mut crate::emit::Emitter, _insn: &Instruction, bytes: u8) -> crate::emit::EmitResult {
    data::sign_to_dx(e, bytes)
}

fn direction_flag(e: &mut crate::emit::Emitter, _insn: &Instruction, set: bool) -> crate::emit::EmitResult {
    data::direction_flag(e, set)
}

fn vendor_row(m: Mnemonic) -> VendorUndefined {
    use Mnemonic::*;
    match m {
        Rcl | Rcr | Rol | Ror => VendorUndefined::RotateOverflow,
        Shl | Sal | Shr | Sar => VendorUndefined::ShiftCarry,
        Bt | Bts | Btr | Btc => VendorUndefined::BitTestZero,
        _ => VendorUndefined::None,
    }
}

/// Flags (iced bits) undefined after `insn` on either vendor: iced's
/// `rflags_undefined()` plus its row's vendor differences, worked out for
/// its operands (shift and rotate counts).
pub fn undefined_flags(insn: &Instruction) -> u32 {
    insn.rflags_undefined() | vendor_undefined(insn)
}

/// The vendor part of `undefined_flags`.
pub fn vendor_undefined(insn: &Instruction) -> u32 {
    match vendor_row(insn.mnemonic()) {
        VendorUndefined::None => 0,
        VendorUndefined::RotateOverflow if masked_immediate_count(insn).is_some_and(|c| c > 1) => RflagsBits::OF,
        VendorUndefined::RotateOverflow => 0,
        // With a count in CL, assume it might reach the width.
        VendorUndefined::ShiftCarry if operand_bits(insn) < 32 => match masked_immediate_count(insn) {
            Some(c) if c < operand_bits(insn) => 0,
            _ if count_in_cl(insn) || masked_immediate_count(insn).is_some() => RflagsBits::CF,
            _ => 0,
        },
        VendorUndefined::ShiftCarry => 0,
        VendorUndefined::BitTestZero => RflagsBits::ZF,
    }
}

/// The count of a shift or rotate by an immediate, masked as the CPU masks
/// it (to 6 bits for 64-bit operands, else 5); `None` for other forms.
fn masked_immediate_count(insn: &Instruction) -> Option<u32> {
    let count_op = insn.op_count().checked_sub(1)?;
    if insn.op_kind(count_op) != OpKind::Immediate8 {
        return None;
    }
    let mask = if operand_bits(insn) == 64 { 63 } else { 31 };
    Some(u32::from(insn.immediate8()) & mask)
}

fn count_in_cl(insn: &Instruction) -> bool {
    let count_op = insn.op_count().saturating_sub(1);
    insn.op_count() > 1 && insn.op_kind(count_op) == OpKind::Register
}

/// The width of the first operand, in bits.
fn operand_bits(insn: &Instruction) -> u32 {
    let bytes = match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size(),
        _ => insn.memory_size().size(),
    };
    8 * bytes as u32
}

/// Forms the difftest leaves out although the translator supports them,
/// because the host CPU is not a faithful oracle for them or they leave
/// the test sequence.
fn exclusion(m: Mnemonic, code: Code) -> Option<Exclusion> {
    use Mnemonic::*;
    let always = |reason| Some(Exclusion { reason, unless_intel_host: false });
    let on_amd = |reason| Some(Exclusion { reason, unless_intel_host: true });
    // Single forms, where their mnemonic's other forms are tested.
    match code {
        Code::Bswap_r16 => return always("undefined in the SDM (Intel CPUs clear the register, as Transit does)"),
        Code::Shld_rm16_r16_CL | Code::Shld_rm16_r16_imm8 | Code::Shrd_rm16_r16_CL | Code::Shrd_rm16_r16_imm8 => {
            return always(
                "undefined result for counts above 16, where vendors differ (tests/programs/legacy_forms.c checks 0-16)",
            )
        }
        _ => {}
    }
    match m {
        Cpuid | Rdtsc | Xgetbv => always("answers differ by design (the host CPU is not the CPU Transit presents)"),
        Xsave | Xsave64 | Xsaveopt | Xsaveopt64 | Xsavec | Xsavec64 | Xrstor | Xrstor64 => always(
            "the host's XCR0 has more state components (AVX-512): its XSAVE areas differ by design \
             (tests/programs/xsave_state.c checks x87 and SSE state against the CPU)",
        ),
        Rcpps | Rcpss | Rsqrtps | Rsqrtss | Vrcpps | Vrcpss | Vrsqrtps | Vrsqrtss => {
            always("approximations: Transit computes them exactly")
        }
        Jmp | Call | Ret | Syscall | Int | Int1 | Int3 | Hlt | Ud0 | Ud1 | Ud2 | Leave | Enter | Popfq | Popf => {
            always("leaves the sequence or changes RSP/TF unpredictably")
        }
        Ldmxcsr | Vldmxcsr | Fxrstor | Fxrstor64 | Fxsave | Fxsave64 => {
            always("could unmask FP exceptions or needs x87 state")
        }
        Stmxcsr | Vstmxcsr => always("stores sticky exception flags, which Transit does not model for SSE"),
        Fldcw | Fldenv | Frstor => always(
            "loads a random control word: the responses to unmasked x87 exceptions are only partly modelled \
             (precision control is modelled and unit-tested)",
        ),
        Fnstenv | Fstenv | Fnsave | Fsave => on_amd("stores FOP and FDP, which Intel keeps only for unmasked exceptions and AMD always"),
        Dpps | Dppd | Vdpps | Vdppd => always(
            "with several NaN products, which NaN a lane returns follows the vendor's sum order (Intel's, which \
             Transit follows, is not the SDM's; AMD's is unverified); tests/programs/sse41_intrinsics.c checks them",
        ),
        _ if code.cpuid_features().contains(&CpuidFeature::FMA) => on_amd(
            "with several NaN inputs, which NaN comes back follows Intel's SDM (table 14-17: the multiplicand's, \
             then the multiplier's); AMD's choice is unverified",
        ),
        Retf | Iret | Iretd | Iretq => always("leaves the sequence (tests/programs/legacy_forms.c)"),
        Lsl => always("the per-CPU segment's limit is the CPU the thread runs on (tests/programs/legacy_forms.c)"),
        Lfs | Lgs | Lss => always("changes the FS or GS base the sequence uses (tests/programs/legacy_forms.c)"),
        Sgdt | Sidt | Smsw | Sldt | Str => {
            always("the OS answers (Linux's UMIP emulation; real values on CPUs without UMIP)")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(code: Code) -> Option<Op> {
        match route(code).0 {
            Route::Emit { op, .. } => Some(op),
            _ => None,
        }
    }

    #[test]
    fn families_bind_their_parameters() {
        assert_eq!(op(Code::Add_rm32_r32), Some(Op::Alu(AluOp::Add)));
        assert_eq!(op(Code::Sal_rm64_imm8), Some(Op::Shift(ShiftOp::Shl)));
        assert_eq!(op(Code::Btc_rm64_imm8), Some(Op::BitTest(BitOp::Complement)));
        assert_eq!(op(Code::Cqo), Some(Op::Width(8)));
        assert_eq!(op(Code::Movsxd_r64_rm32), Some(Op::SignExtend(true)));
    }

    #[test]
    fn difftest_exclusions_by_mnemonic_and_by_form() {
        assert!(row(Code::Cpuid).difftest.is_some());
        assert!(row(Code::Bswap_r16).difftest.is_some());
        assert!(row(Code::Bswap_r32).difftest.is_none());
        let fma = row(Code::VEX_Vfmadd132ps_xmm_xmm_xmmm128).difftest.expect("FMA NaN order");
        assert!(fma.unless_intel_host);
    }

    #[test]
    fn vendor_differences_are_named_by_the_row() {
        assert_eq!(row(Code::Bt_rm32_r32).vendor_undefined, VendorUndefined::BitTestZero);
        assert_eq!(row(Code::Rcr_rm16_imm8).vendor_undefined, VendorUndefined::RotateOverflow);
        assert_eq!(row(Code::Add_rm32_r32).vendor_undefined, VendorUndefined::None);
    }
}
