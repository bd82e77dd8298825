//! One row per iced `Code`: how the translator runs the form (`Route`),
//! the CPUID features it needs, which flags are undefined after it, and
//! whether the difftest compares it. `translate::handler`, `is_supported`,
//! the difftest and the presented-CPU tests all read these rows.
//!
//! The forms are written below as tables grouped by family (one handler,
//! its typed parameter per mnemonic), general-purpose then SSE/AVX/MMX;
//! the macros turn them into a `match` compiled by rustc, so looking a row
//! up costs a jump table, not a table built at start-up. A vector row names
//! what its form computes: a lane operation (`emit::vector::Lane`, which
//! `vector::run` applies to legacy, VEX.128 and each half of VEX.256
//! operands) or another vector form (`emit::vector::Form`). Where forms of
//! one mnemonic differ in what they compute, the row is the Code's
//! (`vector_code`); MMX-register operands take `Guard::MmxRegisters`.

use crate::cpu::features::{self, Presence};
use crate::emit::aarch64::{ElementSize as E, VecOp as V};
use crate::emit::alu::{self, AluOp};
use crate::emit::bits::{self, BitOp};
use crate::emit::bmi::{self, LowestBit, ShiftX};
use crate::emit::fma::{Fma, Kind as K, Order as O};
use crate::emit::shift::{self, ShiftOp};
use crate::emit::crypto::AesOp;
use crate::emit::sse::{
    FloatElements, Half, MinMaxSqrt, PackedConvert as C, PackedOp, ScalarOp as S, ShiftKind as Sh, Shuffle, SignBits,
    Widening as W,
};
use crate::emit::sse41::Extension;
use crate::emit::sse3::Duplicate as Dup;
use crate::emit::ssse3::HorizontalInt as H;
use crate::emit::vector::{self, Form, Lane};
use crate::emit::{control, crypto, data, muldiv, sse42, string, vex, x87, Handler};
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
#[derive(Clone, Copy, Debug)]
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
    /// The presented CPU lacks the form (or Transit does not implement it):
    /// SIGILL.
    Lacks,
}

// Every translated instruction's row is returned by value.
const _: () = assert!(std::mem::size_of::<Route>() <= 16 && std::mem::size_of::<Op>() <= 8);

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
    /// AES-NI's round or key operation (`emit::crypto::aes`).
    Aes(AesOp),
    /// A lane operation (`emit::vector::run`).
    Lanes(Lane),
    /// A vector form that is not a lane operation, as it is.
    Form(Form),
    /// An SSE form's VEX.128 encoding: the SSE form, then bits 128..255 of
    /// the XMM register it writes cleared (`emit::vex::as_sse`).
    AsSse(Form),
    /// An MMX form of a packed row (`emit::mmx`), after
    /// `Guard::MmxRegisters`.
    Mmx(PackedOp),
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
    StringForm(Route),
    /// Mnemonics with MMX-register forms (and XMM ones): an instruction
    /// with an MMX register operand takes its mnemonic's MMX route
    /// (`mmx_row`: `emit::mmx` with a packed row's `PackedOp`) where the
    /// host has the operation on 64 bits (`mmx::compiles`), else is
    /// interpreted where `interp::mmx` implements it, else SIGILL.
    MmxRegisters,
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
    // The mnemonic is looked up after `presence`, so that only `code`
    // lives across the call (with both, `route` ran a third more
    // instructions on hello).
    match features::presence(features::presented(), code) {
        Presence::Has => general(code, code.mnemonic()),
        // Without BMI1/LZCNT, tzcnt and lzcnt are rep bsf and rep bsr.
        Presence::AsOlder => match code.mnemonic() {
            Mnemonic::Tzcnt => (emit(|e, i| bits::bit_scan(e, i, true), Op::BitScan(true)), NONE),
            _ => (emit(|e, i| bits::bit_scan(e, i, false), Op::BitScan(false)), NONE),
        },
        Presence::Nop => (Route::Nop, NONE),
        Presence::Lacks => (Route::Lacks, NONE),
    }
}

/// The handler for `insn`, after its row's guards; `None` is SIGILL.
pub fn handler(insn: &Instruction) -> Option<Handler> {
    let mut routes = Routes::of_this_thread();
    let handler = routes.handler(insn);
    routes.give_back();
    handler
}

/// Each `Code`'s handler and guards from `route`, looked up the first time
/// the code is translated on this thread at the presented level: `route`
/// (a feature check and two matches) was 4% of translating Python's blocks.
/// Guards the code alone decides are decided then too, for the first
/// instance: mov, push and pop have them, and asking them of every one
/// cost 1.5% of a dynamically linked hello's start-up. A block's
/// translation holds the thread's memo throughout (`of_this_thread`):
/// reaching it through the thread-local for each instruction cost 3%.
pub struct Routes {
    level: features::CpuLevel,
    /// By `Code`; empty until the thread's first translation.
    by_code: Vec<Option<(Option<Handler>, &'static [Guard])>>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes { level: features::CpuLevel::DEFAULT, by_code: Vec::new() }
    }
}

thread_local! {
    static ROUTES: std::cell::Cell<Routes> = const { std::cell::Cell::new(Routes { level: features::CpuLevel::DEFAULT, by_code: Vec::new() }) };
}

impl Routes {
    /// The thread's memo, for the presented level (a translation inside
    /// this one starts a memo of its own).
    pub fn of_this_thread() -> Routes {
        let mut routes = ROUTES.take();
        let level = features::presented();
        if level != routes.level || routes.by_code.is_empty() {
            routes.level = level;
            routes.by_code.clear();
            routes.by_code.resize(Code::values().len(), None);
        }
        routes
    }

    /// Keeps the memo for the thread's next translation.
    pub fn give_back(self) {
        ROUTES.set(self);
    }

    /// The handler for `insn`, after its row's guards; `None` is SIGILL.
    pub fn handler(&mut self, insn: &Instruction) -> Option<Handler> {
        let (handler, guards) = match self.by_code[insn.code() as usize] {
            Some(known) => known,
            None => self.look_up(insn),
        };
        // A loop rather than `resolve`'s iterator, and the guards' routes
        // only once one is taken (the iterator cost about 1% of hello's
        // instructions).
        for guard in guards {
            if guard_taken(*guard, insn) {
                return guard_route(*guard, insn).handler();
            }
        }
        handler
    }

    #[cold]
    fn look_up(&mut self, insn: &Instruction) -> (Option<Handler>, &'static [Guard]) {
        let (route, guards) = route(insn.code());
        let known = if !guards.iter().all(|guard| guard.decided_by_code()) {
            (route.handler(), guards)
        } else {
            match guards.iter().find(|guard| guard_taken(**guard, insn)) {
                Some(guard) => (guard_route(*guard, insn).handler(), NONE),
                None => (route.handler(), NONE),
            }
        };
        self.by_code[insn.code() as usize] = Some(known);
        known
    }
}

/// The route of `insn`: its row's, or the first guard's that takes it.
pub fn resolve(insn: &Instruction) -> Route {
    let (route, guards) = route(insn.code());
    match guards.iter().find(|guard| guard_taken(**guard, insn)) {
        Some(guard) => guard_route(*guard, insn),
        None => route,
    }
}

impl Route {
    /// The handler that runs the route; `None` is SIGILL.
    fn handler(self) -> Option<Handler> {
        match self {
            Route::Emit { handler, .. } => Some(handler),
            Route::Interpret => Some(control::interpret),
            Route::Privileged => Some(control::privileged),
            Route::Nop => Some(data::nop),
            Route::Undefined => Some(control::ud),
            Route::Lacks => None,
        }
    }
}

/// Whether `guard` takes `insn` from its row's route.
impl Guard {
    /// Whether every instance of a code takes the guard alike: the
    /// segment, control and debug registers, 16-bit stack operands and
    /// string operands are all in the code. Whether an MMX form compiles
    /// depends on its operands.
    fn decided_by_code(self) -> bool {
        !matches!(self, Guard::MmxRegisters)
    }
}

fn guard_taken(guard: Guard, insn: &Instruction) -> bool {
    match guard {
        Guard::Segments => crate::interp::segments::handles(insn),
        Guard::ControlOrDebugRegister => (0..2).any(|i| {
            insn.op_kind(i) == OpKind::Register && {
                let r = insn.op_register(i);
                r.is_cr() || r.is_dr()
            }
        }),
        Guard::LegacyForms => crate::interp::legacy_forms::handles(insn),
        Guard::StringForm(_) => matches!(insn.op0_kind(), OpKind::MemoryESRDI | OpKind::MemorySegRSI),
        Guard::MmxRegisters => crate::interp::mmx::uses_mmx(insn),
    }
}

/// The route a taken guard gives `insn` instead of its row's.
fn guard_route(guard: Guard, insn: &Instruction) -> Route {
    match guard {
        Guard::Segments | Guard::LegacyForms => Route::Interpret,
        Guard::ControlOrDebugRegister => Route::Privileged,
        Guard::StringForm(route) => route,
        Guard::MmxRegisters => match mmx_row(insn.mnemonic()) {
            Some(mmx @ Route::Emit { op: Op::Mmx(p), .. }) if crate::emit::mmx::compiles(insn, p) => mmx,
            _ if crate::interp::mmx::implements(insn) => Route::Interpret,
            _ => Route::Lacks,
        },
    }
}

/// The compiled route of a row's MMX forms: `emit::mmx` for a packed
/// operation (`handler` runs it with `op`'s `PackedOp`), else none.
const fn mmx_route(op: Op, handler: Handler) -> Option<Route> {
    match op {
        Op::Lanes(Lane::Packed(p)) => Some(emit(handler, Op::Mmx(p))),
        _ => None,
    }
}

/// `emit::mmx::packed` with a row's packed operation; `mmx_route` gives
/// it only rows that have one.
fn mmx_packed(e: &mut crate::emit::Emitter, insn: &Instruction, op: Op) -> crate::emit::EmitResult {
    match op {
        Op::Lanes(Lane::Packed(p)) => crate::emit::mmx::packed(e, insn, p),
        _ => Err(crate::emit::Unsupported),
    }
}

const NONE: &[Guard] = &[];
const STRING_MOVSD: &[Guard] = &[Guard::StringForm(emit(string::movs_stos, Op::None))];

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
        fn general(code: Code, m: Mnemonic) -> (Route, &'static [Guard]) {
            match m {
                $( $( $(Mnemonic::$pm)|+ => (emit(|e, i| $f(e, i, $p), Op::$family($p)), NONE), )* )*
                $( $(Mnemonic::$sm)|+ => (emit($h, Op::None), NONE), )*
                $( $(Mnemonic::$fm)|+ => ($route, NONE), )*
                $( $(Mnemonic::$gm)|+ => ($groute, $guards), )*
                m if crate::interp::x87::is_x87(m) => (Route::Interpret, NONE),
                // Masked loads and stores, gathers: per element (`interp::vex_masked`).
                m if crate::interp::vex_masked::handles(m) => (Route::Interpret, NONE),
                _ => vector_code(code).unwrap_or_else(|| vector_rows(m)),
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
        Aes(crypto::aes) {
            Aesenc | Vaesenc => AesOp::Encrypt, Aesenclast | Vaesenclast => AesOp::EncryptLast,
            Aesdec | Vaesdec => AesOp::Decrypt, Aesdeclast | Vaesdeclast => AesOp::DecryptLast,
            Aesimc | Vaesimc => AesOp::InverseMixColumns,
        }
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
        Cpuid => control::cpuid, Xgetbv => control::xgetbv,
        Xsave | Xsave64 | Xsaveopt | Xsaveopt64 | Xsavec | Xsavec64 | Xrstor | Xrstor64 => control::xsave_area,
        // int1 (icebp) is a debug trap: SIGTRAP after it, as int3.
        Int3 | Int1 => control::int3,
        Int => control::int_n,
        Rdtsc => control::rdtsc,
        Movsb | Movsw | Movsq | Stosb | Stosw | Stosd | Stosq => string::movs_stos,
        Movnti => data::mov,
        Popcnt => bits::popcnt,
        Crc32 => sse42::crc32,
        Pclmulqdq | Vpclmulqdq => crypto::pclmulqdq,
        Fnstcw => x87::store_control,
    }
    fixed {
        // Hints; prefetches never fault. 0F 0D is PREFETCHW's NOP space.
        Nop | Reservednop | Endbr64 | Endbr32 | Pause | Prefetchnta | Prefetcht0 | Prefetcht1 | Prefetcht2
        | Prefetch | Prefetchw | Prefetchwt1 | Lfence | Sfence => Route::Nop,
        Hlt | In | Out | Insb | Insw | Insd | Outsb | Outsw | Outsd | Cli | Sti | Lgdt | Lidt | Lldt | Ltr | Lmsw
        | Clts | Invlpg | Invd | Wbinvd | Swapgs | Sysret | Sysretq | Xsetbv => Route::Privileged,
        Ud2 | Ud0 | Ud1 => Route::Undefined,
        Rcl | Rcr | Lodsb | Lodsw | Lodsd | Lodsq | Cmpsb | Cmpsw | Cmpsq | Scasb | Scasw | Scasd
        | Scasq | Pushfq | Popfq | Lahf | Sahf | Cmpxchg8b | Fxsave | Fxsave64 | Fxrstor | Fxrstor64 | Enter
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
        Movsd => (emit(|e, i| vector::form(e, i, Form::MoveScalar(true)), Op::Form(Form::MoveScalar(true))),
            STRING_MOVSD),
        Cmpsd => (emit(|e, i| vector::lanes(e, i, CMP_SD), Op::Lanes(CMP_SD)),
            &[Guard::StringForm(Route::Interpret)]),
    }
}

/// The vector rows whose forms of one mnemonic compute differently: the
/// 256-bit sign masks and conversions that cross the halves, and
/// vmovntdqa's 256-bit load (a whole-register move).
fn vector_code(code: Code) -> Option<(Route, &'static [Guard])> {
    use Code::*;
    macro_rules! row {
        ($family:ident($f:path), $p:expr) => {
            emit(|e, i| $f(e, i, $p), Op::$family($p))
        };
    }
    let route = match code {
        VEX_Vpmovmskb_r32_ymm | VEX_Vpmovmskb_r64_ymm => row!(Form(vector::form), Form::SignMask256(SignBits::Bytes)),
        VEX_Vmovmskps_r32_ymm | VEX_Vmovmskps_r64_ymm => row!(Form(vector::form), Form::SignMask256(SignBits::Singles)),
        VEX_Vmovmskpd_r32_ymm | VEX_Vmovmskpd_r64_ymm => row!(Form(vector::form), Form::SignMask256(SignBits::Doubles)),
        VEX_Vpmovmskb_r32_xmm | VEX_Vpmovmskb_r64_xmm => row!(AsSse(vex::as_sse), Form::SignMask(SignBits::Bytes)),
        VEX_Vmovmskps_r32_xmm | VEX_Vmovmskps_r64_xmm => row!(AsSse(vex::as_sse), Form::SignMask(SignBits::Singles)),
        VEX_Vmovmskpd_r32_xmm | VEX_Vmovmskpd_r64_xmm => row!(AsSse(vex::as_sse), Form::SignMask(SignBits::Doubles)),
        VEX_Vmovntdqa_ymm_m256 => row!(Form(vector::form), Form::MoveVex),
        VEX_Vmovntdqa_xmm_m128 => row!(AsSse(vex::as_sse), Form::NonTemporalLoad),
        VEX_Vcvtdq2pd_ymm_xmmm128 => row!(Form(vector::form), Form::Widen256(C::DwordsToDoubles)),
        VEX_Vcvtps2pd_ymm_xmmm128 => row!(Form(vector::form), Form::Widen256(C::SinglesToDoubles)),
        VEX_Vcvtpd2ps_xmm_ymmm256 => row!(Form(vector::form), Form::Narrow256(C::DoublesToSingles)),
        VEX_Vcvtpd2dq_xmm_ymmm256 => row!(Form(vector::form), Form::Narrow256(C::DoublesToDwords { truncate: false })),
        VEX_Vcvttpd2dq_xmm_ymmm256 => row!(Form(vector::form), Form::Narrow256(C::DoublesToDwords { truncate: true })),
        _ => return None,
    };
    Some((route, NONE))
}

/// The SSE/AVX/MMX rows, by mnemonic. `mmx` lists the mnemonics with
/// MMX-register forms besides XMM ones: their rows take
/// `Guard::MmxRegisters`.
macro_rules! vector_rows {
    (
        families { $( $family:ident($f:path) { $( $($pm:ident)|+ => $p:expr ),* $(,)? } )* }
        mmx { $($mm:ident)|+ }
        fixed { $( $($fm:ident)|+ => $route:expr ),* $(,)? }
    ) => {
        fn vector_rows(m: Mnemonic) -> (Route, &'static [Guard]) {
            match m {
                $( $( $( Mnemonic::$pm => (emit(|e, i| $f(e, i, $p), Op::$family($p)), const { mmx_guard(Mnemonic::$pm) }), )+ )* )*
                $( $(Mnemonic::$fm)|+ => ($route, NONE), )*
                _ => (Route::Lacks, NONE),
            }
        }

        const fn has_mmx_forms(m: Mnemonic) -> bool {
            matches!(m, $(Mnemonic::$mm)|+)
        }

        const fn mmx_guard(m: Mnemonic) -> &'static [Guard] {
            if has_mmx_forms(m) { &[Guard::MmxRegisters] } else { NONE }
        }

        /// The compiled route of mnemonic `m`'s MMX forms, if it has one.
        /// Code, not data: a route in a static would cost a relocation at
        /// start-up per row.
        fn mmx_row(m: Mnemonic) -> Option<Route> {
            match m {
                $( $( $( Mnemonic::$pm if const { has_mmx_forms(Mnemonic::$pm) } => {
                    mmx_route(Op::$family($p), |e, i| mmx_packed(e, i, Op::$family($p)))
                } )+ )* )*
                _ => None,
            }
        }
    };
}

const CMP_SD: Lane = Lane::CompareMask(FloatElements { double: true, scalar: true });

const fn packed(op: V, element: E) -> Lane {
    Lane::Packed(PackedOp::new(op, element))
}

const fn sign_extend(from: E, to: E) -> Form {
    Form::Extend(Extension { signed: true, from, to })
}

const fn zero_extend(from: E, to: E) -> Form {
    Form::Extend(Extension { signed: false, from, to })
}

vector_rows! {
    families {
        Lanes(vector::lanes) {
            // Bitwise: the element size does not matter.
            Pxor | Xorps | Xorpd | Vpxor | Vxorps | Vxorpd => packed(V::Xor, E::B),
            Por | Orps | Orpd | Vpor | Vorps | Vorpd => packed(V::Or, E::B),
            Pand | Andps | Andpd | Vpand | Vandps | Vandpd => packed(V::And, E::B),
            // !dst & src is `bic src, dst`.
            Pandn | Andnps | Andnpd | Vpandn | Vandnps | Vandnpd => Lane::Packed(PackedOp::swapped(V::AndNot, E::B)),
            Paddb | Vpaddb => packed(V::Add, E::B), Paddw | Vpaddw => packed(V::Add, E::H),
            Paddd | Vpaddd => packed(V::Add, E::S), Paddq | Vpaddq => packed(V::Add, E::D),
            Psubb | Vpsubb => packed(V::Sub, E::B), Psubw | Vpsubw => packed(V::Sub, E::H),
            Psubd | Vpsubd => packed(V::Sub, E::S), Psubq | Vpsubq => packed(V::Sub, E::D),
            Pcmpeqb | Vpcmpeqb => packed(V::CmpEq, E::B), Pcmpeqw | Vpcmpeqw => packed(V::CmpEq, E::H),
            Pcmpeqd | Vpcmpeqd => packed(V::CmpEq, E::S), Pcmpeqq | Vpcmpeqq => packed(V::CmpEq, E::D),
            Pcmpgtb | Vpcmpgtb => packed(V::CmpGtSigned, E::B), Pcmpgtw | Vpcmpgtw => packed(V::CmpGtSigned, E::H),
            Pcmpgtd | Vpcmpgtd => packed(V::CmpGtSigned, E::S), Pcmpgtq | Vpcmpgtq => packed(V::CmpGtSigned, E::D),
            Pminub | Vpminub => packed(V::MinUnsigned, E::B), Pminuw | Vpminuw => packed(V::MinUnsigned, E::H),
            Pminud | Vpminud => packed(V::MinUnsigned, E::S),
            Pmaxub | Vpmaxub => packed(V::MaxUnsigned, E::B), Pmaxuw | Vpmaxuw => packed(V::MaxUnsigned, E::H),
            Pmaxud | Vpmaxud => packed(V::MaxUnsigned, E::S),
            Pminsb | Vpminsb => packed(V::MinSigned, E::B), Pminsw | Vpminsw => packed(V::MinSigned, E::H),
            Pminsd | Vpminsd => packed(V::MinSigned, E::S),
            Pmaxsb | Vpmaxsb => packed(V::MaxSigned, E::B), Pmaxsw | Vpmaxsw => packed(V::MaxSigned, E::H),
            Pmaxsd | Vpmaxsd => packed(V::MaxSigned, E::S),
            Paddusb | Vpaddusb => packed(V::AddSatUnsigned, E::B), Paddusw | Vpaddusw => packed(V::AddSatUnsigned, E::H),
            Psubusb | Vpsubusb => packed(V::SubSatUnsigned, E::B), Psubusw | Vpsubusw => packed(V::SubSatUnsigned, E::H),
            Paddsb | Vpaddsb => packed(V::AddSatSigned, E::B), Paddsw | Vpaddsw => packed(V::AddSatSigned, E::H),
            Psubsb | Vpsubsb => packed(V::SubSatSigned, E::B), Psubsw | Vpsubsw => packed(V::SubSatSigned, E::H),
            Pavgb | Vpavgb => packed(V::RoundingHalvingAddUnsigned, E::B),
            Pavgw | Vpavgw => packed(V::RoundingHalvingAddUnsigned, E::H),
            Pmullw | Vpmullw => packed(V::Mul, E::H), Pmulld | Vpmulld => packed(V::Mul, E::S),
            Punpcklbw | Vpunpcklbw => packed(V::ZipLow, E::B), Punpcklwd | Vpunpcklwd => packed(V::ZipLow, E::H),
            Punpckldq | Unpcklps | Vpunpckldq | Vunpcklps => packed(V::ZipLow, E::S),
            Punpcklqdq | Unpcklpd | Vpunpcklqdq | Vunpcklpd => packed(V::ZipLow, E::D),
            Punpckhbw | Vpunpckhbw => packed(V::ZipHigh, E::B), Punpckhwd | Vpunpckhwd => packed(V::ZipHigh, E::H),
            Punpckhdq | Unpckhps | Vpunpckhdq | Vunpckhps => packed(V::ZipHigh, E::S),
            Punpckhqdq | Unpckhpd | Vpunpckhqdq | Vunpckhpd => packed(V::ZipHigh, E::D),
            Addps | Vaddps => packed(V::FAdd, E::S), Addpd | Vaddpd => packed(V::FAdd, E::D),
            Subps | Vsubps => packed(V::FSub, E::S), Subpd | Vsubpd => packed(V::FSub, E::D),
            Mulps | Vmulps => packed(V::FMul, E::S), Mulpd | Vmulpd => packed(V::FMul, E::D),
            Divps | Vdivps => packed(V::FDiv, E::S), Divpd | Vdivpd => packed(V::FDiv, E::D),
            Pslldq | Vpslldq => Lane::ShiftBytes { left: true }, Psrldq | Vpsrldq => Lane::ShiftBytes { left: false },
            Psllw | Vpsllw => Lane::Shift(Sh::Left, E::H), Pslld | Vpslld => Lane::Shift(Sh::Left, E::S),
            Psllq | Vpsllq => Lane::Shift(Sh::Left, E::D),
            Psrlw | Vpsrlw => Lane::Shift(Sh::Right, E::H), Psrld | Vpsrld => Lane::Shift(Sh::Right, E::S),
            Psrlq | Vpsrlq => Lane::Shift(Sh::Right, E::D),
            Psraw | Vpsraw => Lane::Shift(Sh::RightArithmetic, E::H), Psrad | Vpsrad => Lane::Shift(Sh::RightArithmetic, E::S),
            Pshufd | Vpshufd => Lane::Shuffle(Shuffle::Dwords),
            Pshuflw | Vpshuflw => Lane::Shuffle(Shuffle::LowWords),
            Pshufhw | Vpshufhw => Lane::Shuffle(Shuffle::HighWords),
            Shufps | Vshufps => Lane::Shuffle(Shuffle::Singles), Shufpd | Vshufpd => Lane::Shuffle(Shuffle::Doubles),
            Pmuludq | Vpmuludq => Lane::Widening(W::MulEvenUnsignedDwords),
            Pmulhw | Vpmulhw => Lane::Widening(W::MulHighSignedWords),
            Pmulhuw | Vpmulhuw => Lane::Widening(W::MulHighUnsignedWords),
            Pmaddwd | Vpmaddwd => Lane::Widening(W::MulAddSignedWords),
            Psadbw | Vpsadbw => Lane::Widening(W::SumAbsDiffBytes),
            Packsswb | Vpacksswb => Lane::Widening(W::PackSignedWordsToSigned),
            Packuswb | Vpackuswb => Lane::Widening(W::PackSignedWordsToUnsigned),
            Packssdw | Vpackssdw => Lane::Widening(W::PackSignedDwordsToSigned),
            Minps | Vminps => Lane::MinMaxSqrt(MinMaxSqrt::Min, false),
            Minpd | Vminpd => Lane::MinMaxSqrt(MinMaxSqrt::Min, true),
            Maxps | Vmaxps => Lane::MinMaxSqrt(MinMaxSqrt::Max, false),
            Maxpd | Vmaxpd => Lane::MinMaxSqrt(MinMaxSqrt::Max, true),
            Sqrtps | Vsqrtps => Lane::MinMaxSqrt(MinMaxSqrt::Sqrt, false),
            Sqrtpd | Vsqrtpd => Lane::MinMaxSqrt(MinMaxSqrt::Sqrt, true),
            Addsd | Vaddsd => Lane::Scalar(S::Add, true), Addss | Vaddss => Lane::Scalar(S::Add, false),
            Subsd | Vsubsd => Lane::Scalar(S::Sub, true), Subss | Vsubss => Lane::Scalar(S::Sub, false),
            Mulsd | Vmulsd => Lane::Scalar(S::Mul, true), Mulss | Vmulss => Lane::Scalar(S::Mul, false),
            Divsd | Vdivsd => Lane::Scalar(S::Div, true), Divss | Vdivss => Lane::Scalar(S::Div, false),
            Sqrtsd | Vsqrtsd => Lane::Scalar(S::Sqrt, true), Sqrtss | Vsqrtss => Lane::Scalar(S::Sqrt, false),
            Minsd | Vminsd => Lane::Scalar(S::Min, true), Minss | Vminss => Lane::Scalar(S::Min, false),
            Maxsd | Vmaxsd => Lane::Scalar(S::Max, true), Maxss | Vmaxss => Lane::Scalar(S::Max, false),
            // cmpsd's row is with the string form's (`general_rows`).
            Vcmpsd => CMP_SD,
            Cmpss | Vcmpss => Lane::CompareMask(FloatElements { double: false, scalar: true }),
            Cmppd | Vcmppd => Lane::CompareMask(FloatElements { double: true, scalar: false }),
            Cmpps | Vcmpps => Lane::CompareMask(FloatElements { double: false, scalar: false }),
            Cvtdq2ps | Vcvtdq2ps => Lane::Convert(C::DwordsToSingles),
            Cvtdq2pd | Vcvtdq2pd => Lane::Convert(C::DwordsToDoubles),
            Cvtps2pd | Vcvtps2pd => Lane::Convert(C::SinglesToDoubles),
            Cvtpd2ps | Vcvtpd2ps => Lane::Convert(C::DoublesToSingles),
            Cvtps2dq | Vcvtps2dq => Lane::Convert(C::SinglesToDwords { truncate: false }),
            Cvttps2dq | Vcvttps2dq => Lane::Convert(C::SinglesToDwords { truncate: true }),
            Cvtpd2dq | Vcvtpd2dq => Lane::Convert(C::DoublesToDwords { truncate: false }),
            Cvttpd2dq | Vcvttpd2dq => Lane::Convert(C::DoublesToDwords { truncate: true }),
            Movhlps | Vmovhlps => Lane::MergeHalf { to: Half::Low, from: Half::High },
            Movlhps | Vmovlhps => Lane::MergeHalf { to: Half::High, from: Half::Low },
            Cvtsd2ss | Vcvtsd2ss => Lane::FloatToFloat(true), Cvtss2sd | Vcvtss2sd => Lane::FloatToFloat(false),
            Rcpps | Vrcpps => Lane::Reciprocal(false, false), Rcpss | Vrcpss => Lane::Reciprocal(false, true),
            Rsqrtps | Vrsqrtps => Lane::Reciprocal(true, false), Rsqrtss | Vrsqrtss => Lane::Reciprocal(true, true),
            Movddup | Vmovddup => Lane::Duplicate(Dup::LowDouble),
            Movshdup | Vmovshdup => Lane::Duplicate(Dup::OddSingles),
            Movsldup | Vmovsldup => Lane::Duplicate(Dup::EvenSingles),
            Haddps | Vhaddps => Lane::HorizontalFloat(false, false), Haddpd | Vhaddpd => Lane::HorizontalFloat(false, true),
            Hsubps | Vhsubps => Lane::HorizontalFloat(true, false), Hsubpd | Vhsubpd => Lane::HorizontalFloat(true, true),
            Addsubps | Vaddsubps => Lane::AddSub(false), Addsubpd | Vaddsubpd => Lane::AddSub(true),
            Pshufb | Vpshufb => Lane::Pshufb,
            Palignr | Vpalignr => Lane::Palignr,
            Phaddw | Vphaddw => Lane::HorizontalInt(H::AddWords), Phaddd | Vphaddd => Lane::HorizontalInt(H::AddDwords),
            Phsubw | Vphsubw => Lane::HorizontalInt(H::SubWords), Phsubd | Vphsubd => Lane::HorizontalInt(H::SubDwords),
            Phaddsw | Vphaddsw => Lane::HorizontalInt(H::AddSatWords),
            Phsubsw | Vphsubsw => Lane::HorizontalInt(H::SubSatWords),
            Pmaddubsw | Vpmaddubsw => Lane::MultiplyAddBytes,
            Pmulhrsw | Vpmulhrsw => Lane::MultiplyHighRound,
            Pabsb | Vpabsb => Lane::Abs(E::B), Pabsw | Vpabsw => Lane::Abs(E::H), Pabsd | Vpabsd => Lane::Abs(E::S),
            Psignb | Vpsignb => Lane::Sign(E::B), Psignw | Vpsignw => Lane::Sign(E::H),
            Psignd | Vpsignd => Lane::Sign(E::S),
            Pmuldq | Vpmuldq => Lane::Widening(W::MulEvenSignedDwords),
            Packusdw | Vpackusdw => Lane::Widening(W::PackSignedDwordsToUnsigned),
            Blendps | Vblendps | Vpblendd => Lane::BlendImmediate(E::S), Blendpd | Vblendpd => Lane::BlendImmediate(E::D),
            Pblendw | Vpblendw => Lane::BlendImmediate(E::H),
            Blendvps | Vblendvps => Lane::BlendVariable(E::S), Blendvpd | Vblendvpd => Lane::BlendVariable(E::D),
            Pblendvb | Vpblendvb => Lane::BlendVariable(E::B),
            Roundps | Vroundps => Lane::Round(FloatElements { double: false, scalar: false }),
            Roundpd | Vroundpd => Lane::Round(FloatElements { double: true, scalar: false }),
            Roundss | Vroundss => Lane::Round(FloatElements { double: false, scalar: true }),
            Roundsd | Vroundsd => Lane::Round(FloatElements { double: true, scalar: true }),
            Insertps | Vinsertps => Lane::Insertps,
            Vpsllvd => Lane::VariableShift(Sh::Left, E::S), Vpsllvq => Lane::VariableShift(Sh::Left, E::D),
            Vpsrlvd => Lane::VariableShift(Sh::Right, E::S), Vpsrlvq => Lane::VariableShift(Sh::Right, E::D),
            Vpsravd => Lane::VariableShift(Sh::RightArithmetic, E::S),
            Vpbroadcastb => Lane::Broadcast(Some(E::B)), Vpbroadcastw => Lane::Broadcast(Some(E::H)),
            Vbroadcastss | Vpbroadcastd => Lane::Broadcast(Some(E::S)),
            Vbroadcastsd | Vpbroadcastq => Lane::Broadcast(Some(E::D)),
            Vbroadcastf128 | Vbroadcasti128 => Lane::Broadcast(None),
            Vpermilps => Lane::PermuteInLane(false), Vpermilpd => Lane::PermuteInLane(true),
            Vfmadd132ps => Lane::Fused(Fma::ps(K::Add, O::O132)), Vfmadd132pd => Lane::Fused(Fma::pd(K::Add, O::O132)), Vfmadd132ss => Lane::Fused(Fma::ss(K::Add, O::O132)), Vfmadd132sd => Lane::Fused(Fma::sd(K::Add, O::O132)),
            Vfmadd213ps => Lane::Fused(Fma::ps(K::Add, O::O213)), Vfmadd213pd => Lane::Fused(Fma::pd(K::Add, O::O213)), Vfmadd213ss => Lane::Fused(Fma::ss(K::Add, O::O213)), Vfmadd213sd => Lane::Fused(Fma::sd(K::Add, O::O213)),
            Vfmadd231ps => Lane::Fused(Fma::ps(K::Add, O::O231)), Vfmadd231pd => Lane::Fused(Fma::pd(K::Add, O::O231)), Vfmadd231ss => Lane::Fused(Fma::ss(K::Add, O::O231)), Vfmadd231sd => Lane::Fused(Fma::sd(K::Add, O::O231)),
            Vfmsub132ps => Lane::Fused(Fma::ps(K::Sub, O::O132)), Vfmsub132pd => Lane::Fused(Fma::pd(K::Sub, O::O132)), Vfmsub132ss => Lane::Fused(Fma::ss(K::Sub, O::O132)), Vfmsub132sd => Lane::Fused(Fma::sd(K::Sub, O::O132)),
            Vfmsub213ps => Lane::Fused(Fma::ps(K::Sub, O::O213)), Vfmsub213pd => Lane::Fused(Fma::pd(K::Sub, O::O213)), Vfmsub213ss => Lane::Fused(Fma::ss(K::Sub, O::O213)), Vfmsub213sd => Lane::Fused(Fma::sd(K::Sub, O::O213)),
            Vfmsub231ps => Lane::Fused(Fma::ps(K::Sub, O::O231)), Vfmsub231pd => Lane::Fused(Fma::pd(K::Sub, O::O231)), Vfmsub231ss => Lane::Fused(Fma::ss(K::Sub, O::O231)), Vfmsub231sd => Lane::Fused(Fma::sd(K::Sub, O::O231)),
            Vfnmadd132ps => Lane::Fused(Fma::ps(K::NegAdd, O::O132)), Vfnmadd132pd => Lane::Fused(Fma::pd(K::NegAdd, O::O132)), Vfnmadd132ss => Lane::Fused(Fma::ss(K::NegAdd, O::O132)), Vfnmadd132sd => Lane::Fused(Fma::sd(K::NegAdd, O::O132)),
            Vfnmadd213ps => Lane::Fused(Fma::ps(K::NegAdd, O::O213)), Vfnmadd213pd => Lane::Fused(Fma::pd(K::NegAdd, O::O213)), Vfnmadd213ss => Lane::Fused(Fma::ss(K::NegAdd, O::O213)), Vfnmadd213sd => Lane::Fused(Fma::sd(K::NegAdd, O::O213)),
            Vfnmadd231ps => Lane::Fused(Fma::ps(K::NegAdd, O::O231)), Vfnmadd231pd => Lane::Fused(Fma::pd(K::NegAdd, O::O231)), Vfnmadd231ss => Lane::Fused(Fma::ss(K::NegAdd, O::O231)), Vfnmadd231sd => Lane::Fused(Fma::sd(K::NegAdd, O::O231)),
            Vfnmsub132ps => Lane::Fused(Fma::ps(K::NegSub, O::O132)), Vfnmsub132pd => Lane::Fused(Fma::pd(K::NegSub, O::O132)), Vfnmsub132ss => Lane::Fused(Fma::ss(K::NegSub, O::O132)), Vfnmsub132sd => Lane::Fused(Fma::sd(K::NegSub, O::O132)),
            Vfnmsub213ps => Lane::Fused(Fma::ps(K::NegSub, O::O213)), Vfnmsub213pd => Lane::Fused(Fma::pd(K::NegSub, O::O213)), Vfnmsub213ss => Lane::Fused(Fma::ss(K::NegSub, O::O213)), Vfnmsub213sd => Lane::Fused(Fma::sd(K::NegSub, O::O213)),
            Vfnmsub231ps => Lane::Fused(Fma::ps(K::NegSub, O::O231)), Vfnmsub231pd => Lane::Fused(Fma::pd(K::NegSub, O::O231)), Vfnmsub231ss => Lane::Fused(Fma::ss(K::NegSub, O::O231)), Vfnmsub231sd => Lane::Fused(Fma::sd(K::NegSub, O::O231)),
            Vfmaddsub132ps => Lane::Fused(Fma::ps(K::AddSub, O::O132)), Vfmaddsub132pd => Lane::Fused(Fma::pd(K::AddSub, O::O132)),
            Vfmaddsub213ps => Lane::Fused(Fma::ps(K::AddSub, O::O213)), Vfmaddsub213pd => Lane::Fused(Fma::pd(K::AddSub, O::O213)),
            Vfmaddsub231ps => Lane::Fused(Fma::ps(K::AddSub, O::O231)), Vfmaddsub231pd => Lane::Fused(Fma::pd(K::AddSub, O::O231)),
            Vfmsubadd132ps => Lane::Fused(Fma::ps(K::SubAdd, O::O132)), Vfmsubadd132pd => Lane::Fused(Fma::pd(K::SubAdd, O::O132)),
            Vfmsubadd213ps => Lane::Fused(Fma::ps(K::SubAdd, O::O213)), Vfmsubadd213pd => Lane::Fused(Fma::pd(K::SubAdd, O::O213)),
            Vfmsubadd231ps => Lane::Fused(Fma::ps(K::SubAdd, O::O231)), Vfmsubadd231pd => Lane::Fused(Fma::pd(K::SubAdd, O::O231)),
        }
        Form(vector::form) {
            Movdqa | Movdqu | Movaps | Movups | Movapd | Movupd | Movntdq | Movntps | Movntpd | Lddqu => Form::Move128,
            Vmovdqa | Vmovdqu | Vmovaps | Vmovups | Vmovapd | Vmovupd | Vmovntdq | Vmovntps | Vmovntpd
            | Vlddqu => Form::MoveVex,
            Movd => Form::MoveGeneral { bytes: 4 }, Movq => Form::MoveGeneral { bytes: 8 },
            Movss => Form::MoveScalar(false),
            Movlps | Movlpd => Form::MoveHalf(Half::Low), Movhps | Movhpd => Form::MoveHalf(Half::High),
            Pmovmskb => Form::SignMask(SignBits::Bytes),
            Movmskps => Form::SignMask(SignBits::Singles), Movmskpd => Form::SignMask(SignBits::Doubles),
            Ucomisd | Comisd => Form::CompareScalar(true), Ucomiss | Comiss => Form::CompareScalar(false),
            Cvtsi2sd => Form::IntToFloat(true), Cvtsi2ss => Form::IntToFloat(false),
            Cvttsd2si => Form::FloatToInt { double: true, truncate: true },
            Cvtsd2si => Form::FloatToInt { double: true, truncate: false },
            Cvttss2si => Form::FloatToInt { double: false, truncate: true },
            Cvtss2si => Form::FloatToInt { double: false, truncate: false },
            Stmxcsr => Form::StoreMxcsr, Ldmxcsr => Form::LoadMxcsr,
            Pmovsxbw => sign_extend(E::B, E::H), Pmovsxbd => sign_extend(E::B, E::S), Pmovsxbq => sign_extend(E::B, E::D),
            Pmovsxwd => sign_extend(E::H, E::S), Pmovsxwq => sign_extend(E::H, E::D), Pmovsxdq => sign_extend(E::S, E::D),
            Pmovzxbw => zero_extend(E::B, E::H), Pmovzxbd => zero_extend(E::B, E::S), Pmovzxbq => zero_extend(E::B, E::D),
            Pmovzxwd => zero_extend(E::H, E::S), Pmovzxwq => zero_extend(E::H, E::D), Pmovzxdq => zero_extend(E::S, E::D),
            Pextrb => Form::Extract(E::B), Pextrw => Form::Extract(E::H), Pextrd | Extractps => Form::Extract(E::S),
            Pextrq => Form::Extract(E::D),
            Pinsrb => Form::Insert(E::B), Pinsrw => Form::Insert(E::H), Pinsrd => Form::Insert(E::S),
            Pinsrq => Form::Insert(E::D),
            Movntdqa => Form::NonTemporalLoad,
            Ptest => Form::Test(None),
            Vzeroupper => Form::ZeroUppers, Vzeroall => Form::ZeroAll,
            Vinsertf128 | Vinserti128 => Form::Insert128,
            Vextractf128 | Vextracti128 => Form::Extract128,
            Vcvtph2ps => Form::HalfToSingle,
            Vcvtps2ph => Form::SingleToHalf,
            Vperm2f128 | Vperm2i128 => Form::PermuteHalves,
            Vpermq | Vpermpd => Form::PermuteQuads,
            Vpermd | Vpermps => Form::PermuteDwords,
        }
        AsSse(vex::as_sse) {
            Vpmovsxbw => sign_extend(E::B, E::H), Vpmovsxbd => sign_extend(E::B, E::S),
            Vpmovsxbq => sign_extend(E::B, E::D), Vpmovsxwd => sign_extend(E::H, E::S),
            Vpmovsxwq => sign_extend(E::H, E::D), Vpmovsxdq => sign_extend(E::S, E::D),
            Vpmovzxbw => zero_extend(E::B, E::H), Vpmovzxbd => zero_extend(E::B, E::S),
            Vpmovzxbq => zero_extend(E::B, E::D), Vpmovzxwd => zero_extend(E::H, E::S),
            Vpmovzxwq => zero_extend(E::H, E::D), Vpmovzxdq => zero_extend(E::S, E::D),
            Vptest => Form::Test(None), Vtestps => Form::Test(Some(E::S)), Vtestpd => Form::Test(Some(E::D)),
            Vmovd => Form::MoveGeneral { bytes: 4 }, Vmovq => Form::MoveGeneral { bytes: 8 },
            Vucomisd | Vcomisd => Form::CompareScalar(true), Vucomiss | Vcomiss => Form::CompareScalar(false),
            Vcvttsd2si => Form::FloatToInt { double: true, truncate: true },
            Vcvtsd2si => Form::FloatToInt { double: true, truncate: false },
            Vcvttss2si => Form::FloatToInt { double: false, truncate: true },
            Vcvtss2si => Form::FloatToInt { double: false, truncate: false },
            Vstmxcsr => Form::StoreMxcsr, Vldmxcsr => Form::LoadMxcsr,
            Vpextrb => Form::Extract(E::B), Vpextrw => Form::Extract(E::H), Vpextrd | Vextractps => Form::Extract(E::S),
            Vpextrq => Form::Extract(E::D),
            Vpinsrb => Form::Insert(E::B), Vpinsrw => Form::Insert(E::H), Vpinsrd => Form::Insert(E::S),
            Vpinsrq => Form::Insert(E::D),
            Vcvtsi2ss => Form::IntToFloat(false), Vcvtsi2sd => Form::IntToFloat(true),
            // Loads and stores; between registers `Lane::MergeScalar`/`MergeHalf`.
            Vmovss => Form::MoveScalar(false), Vmovsd => Form::MoveScalar(true),
            Vmovlps | Vmovlpd => Form::MoveHalf(Half::Low), Vmovhps | Vmovhpd => Form::MoveHalf(Half::High),
        }
    }
    mmx {
        Paddb | Paddw | Paddd | Paddq | Psubb | Psubw | Psubd | Psubq | Paddsb | Paddsw | Paddusb | Paddusw | Psubsb
        | Psubsw | Psubusb | Psubusw | Pcmpeqb | Pcmpeqw | Pcmpeqd | Pcmpgtb | Pcmpgtw | Pcmpgtd | Pand | Pandn | Por
        | Pxor | Pavgb | Pavgw | Pmaxsw | Pmaxub | Pminsw | Pminub | Pmullw | Pmulhw | Pmulhuw | Pmuludq | Pmaddwd
        | Psadbw | Packsswb | Packssdw | Packuswb | Punpcklbw | Punpcklwd | Punpckldq | Punpckhbw | Punpckhwd
        | Punpckhdq | Psllw | Pslld | Psllq | Psrlw | Psrld | Psrlq | Psraw | Psrad | Pshufb | Palignr | Phaddw
        | Phaddd | Phaddsw | Phsubw | Phsubd | Phsubsw | Pmaddubsw | Pmulhrsw | Pabsb | Pabsw | Pabsd | Psignb
        | Psignw | Psignd | Movd | Movq | Pextrw | Pinsrw | Pmovmskb
    }
    fixed {
        // Forms with an MMX register operand only, and the MMX-era
        // conversions and masked stores (`interp::mmx`).
        Emms | Movntq | Movdq2q | Movq2dq | Pshufw | Maskmovq | Maskmovdqu | Cvtpi2ps | Cvtpi2pd | Cvtps2pi
        | Cvttps2pi | Cvtpd2pi | Cvttpd2pi => Route::Interpret,
        // The rare multi-step SSE4.1 forms (`interp::sse41_interp`).
        Dpps | Dppd | Mpsadbw | Phminposuw => Route::Interpret,
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
        Code::Reservednop_rm16_r16_0F0D | Code::Reservednop_rm32_r32_0F0D | Code::Reservednop_rm64_r64_0F0D => {
            return on_amd("AMD's PREFETCH group: its register forms raise #UD there; Intel's CPUs, and Transit, run them as NOPs")
        }
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
    fn vector_rows_say_what_their_forms_compute() {
        let add_pd = Some(Op::Lanes(Lane::Packed(PackedOp::new(V::FAdd, E::D))));
        assert_eq!(op(Code::Addpd_xmm_xmmm128), add_pd);
        assert_eq!(op(Code::VEX_Vaddpd_ymm_ymm_ymmm256), add_pd);
        assert_eq!(op(Code::Pandn_mm_mmm64), Some(Op::Lanes(Lane::Packed(PackedOp::swapped(V::AndNot, E::B)))));
        assert_eq!(
            op(Code::VEX_Vfnmsub231sd_xmm_xmm_xmmm64),
            Some(Op::Lanes(Lane::Fused(Fma { kind: K::NegSub, order: O::O231, double: true, scalar: true })))
        );
        assert_eq!(op(Code::Movsd_xmm_xmmm64), Some(Op::Form(Form::MoveScalar(true))));
        assert_eq!(op(Code::VEX_Vmovsd_xmm_m64), Some(Op::AsSse(Form::MoveScalar(true))));
        assert_eq!(op(Code::Psrad_xmm_imm8), Some(Op::Lanes(Lane::Shift(Sh::RightArithmetic, E::S))));
        assert_eq!(op(Code::VEX_Vpextrw_r32_xmm_imm8), Some(Op::AsSse(Form::Extract(E::H))));
        assert_eq!(op(Code::Aesdeclast_xmm_xmmm128), Some(Op::Aes(AesOp::DecryptLast)));
        // One mnemonic, forms that compute differently: rows per Code.
        assert_eq!(op(Code::VEX_Vpmovmskb_r32_ymm), Some(Op::Form(Form::SignMask256(SignBits::Bytes))));
        assert_eq!(op(Code::VEX_Vpmovmskb_r32_xmm), Some(Op::AsSse(Form::SignMask(SignBits::Bytes))));
        assert_eq!(op(Code::VEX_Vcvtpd2ps_xmm_ymmm256), Some(Op::Form(Form::Narrow256(C::DoublesToSingles))));
        assert_eq!(op(Code::VEX_Vcvtpd2ps_xmm_xmmm128), Some(Op::Lanes(Lane::Convert(C::DoublesToSingles))));
        assert!(matches!(route(Code::Emms).0, Route::Interpret));
        // fnstcw stores the control word in generated code; fstcw waits
        // for a pending exception first, in the interpreter.
        assert!(matches!(route(Code::Fnstcw_m2byte).0, Route::Emit { .. }));
        assert!(matches!(route(Code::Fstcw_m2byte).0, Route::Interpret));
        assert!(matches!(route(Code::Fldcw_m2byte).0, Route::Interpret));
    }

    /// What each lane row computes, by mnemonic, checked against iced's
    /// view of the memory form: the element size of a packed operand, a
    /// scalar's width, float or double. Prints the table (`--nocapture`).
    #[test]
    fn lane_rows_agree_with_iced_on_their_elements() {
        use iced_x86::MemorySize;
        let bitwise = [V::And, V::Or, V::Xor, V::AndNot];
        let (mut table, mut wrong, mut checked) = (std::collections::BTreeMap::new(), Vec::new(), 0);
        for code in Code::values() {
            // The row whatever the presented CPU (`route` checks presence first).
            let Route::Emit { op: Op::Lanes(lane), .. } = general(code, code.mnemonic()).0 else { continue };
            table.insert(format!("{:?}", code.mnemonic()), format!("{lane:?}"));
            let mut insn = Instruction::default();
            insn.set_code(code);
            let memory = insn.memory_size();
            if memory == MemorySize::Unknown || !(0..code.op_code().op_count()).any(|i| {
                matches!(code.op_code().op_kind(i), iced_x86::OpCodeOperandKind::xmm_or_mem
                    | iced_x86::OpCodeOperandKind::ymm_or_mem | iced_x86::OpCodeOperandKind::mm_or_mem
                    | iced_x86::OpCodeOperandKind::mem)
            }) {
                continue;
            }
            let (packed, element, float) = (memory.is_packed(), memory.element_size(), {
                let t = memory.element_type();
                t == MemorySize::Float32 || t == MemorySize::Float64
            });
            // (element bytes, packed?, float?) the row says, where it says.
            let says: Option<(usize, Option<bool>, bool)> = match lane {
                Lane::Packed(p) if bitwise.contains(&p.op) => None,
                Lane::Packed(p) => Some((p.element.bytes() as usize, Some(true), false)),
                Lane::Abs(e) | Lane::Sign(e) | Lane::BlendVariable(e) | Lane::BlendImmediate(e) => {
                    Some((e.bytes() as usize, Some(true), false))
                }
                Lane::Scalar(_, double) => Some((if double { 8 } else { 4 }, Some(false), true)),
                Lane::CompareMask(f) | Lane::Round(f) => Some((if f.double { 8 } else { 4 }, Some(!f.scalar), true)),
                Lane::MinMaxSqrt(_, double) | Lane::HorizontalFloat(_, double) | Lane::AddSub(double) => {
                    Some((if double { 8 } else { 4 }, Some(true), true))
                }
                Lane::Fused(f) => Some((if f.double { 8 } else { 4 }, Some(!f.scalar), true)),
                Lane::VariableShift(_, e) => Some((e.bytes() as usize, Some(true), false)),
                // A broadcast reads one element (vbroadcastf128: all 16 bytes, not an element).
                Lane::Broadcast(Some(e)) => Some((e.bytes() as usize, Some(false), false)),
                _ => None,
            };
            let Some((bytes, is_packed, is_float)) = says else { continue };
            // Integer rows: iced's integer types; blends of floats are float
            // to iced and element-sized here, so only sizes count for them.
            let float_ok = !is_float || float;
            // An MMX operand of one element (paddq mm, m64) is not packed to iced.
            let one_element = memory.size() == element;
            checked += 1;
            if element != bytes || is_packed.is_some_and(|p| p != packed && !(p && one_element)) || !float_ok {
                wrong.push(format!("{code:?}: {lane:?}, iced {memory:?}"));
            }
        }
        for (m, lane) in &table {
            println!("{m}: {lane}");
        }
        assert!(table.len() > 300 && checked > 400, "{} lane mnemonics, {checked} forms checked", table.len());
        assert!(wrong.is_empty(), "rows disagree with iced:\n{}", wrong.join("\n"));
    }

    #[test]
    fn mmx_register_forms_take_their_guard() {
        use iced_x86::{Decoder, DecoderOptions};
        let decode = |bytes: &[u8]| Decoder::with_ip(64, bytes, 0, DecoderOptions::NONE).decode();
        assert!(route(Code::Paddb_mm_mmm64).1.iter().any(|g| matches!(g, Guard::MmxRegisters)));
        assert!(route(Code::VEX_Vpaddb_xmm_xmm_xmmm128).1.is_empty());
        // paddb mm0, mm1: generated code; pmulhw mm0, mm1 and movd mm0, eax: the interpreter.
        assert!(matches!(resolve(&decode(&[0x0f, 0xfc, 0xc1])), Route::Emit { op: Op::Mmx(_), .. }));
        assert!(matches!(resolve(&decode(&[0x0f, 0xe5, 0xc1])), Route::Interpret));
        assert!(matches!(resolve(&decode(&[0x0f, 0x6e, 0xc0])), Route::Interpret));
        // paddb xmm0, xmm1: the row's lane operation.
        assert!(matches!(resolve(&decode(&[0x66, 0x0f, 0xfc, 0xc1])), Route::Emit { op: Op::Lanes(_), .. }));
    }

    #[test]
    fn guards_decided_by_the_code_are_decided_alike_for_every_instance() {
        use iced_x86::{Decoder, DecoderOptions};
        let decode = |bytes: &[u8]| Decoder::with_ip(64, bytes, 0, DecoderOptions::NONE).decode();
        let same = |a: Option<Handler>, b: Option<Handler>| a.map(|h| h as usize) == b.map(|h| h as usize);
        // Pairs of one code with other operands, the first filling the memo.
        let cases: &[&[u8]] = &[
            &[0x8c, 0xd8], // mov eax, ds: the interpreter
            &[0x8c, 0x18], // mov word ptr [rax], ds
            &[0x89, 0xc8], // mov eax, ecx: generated code
            &[0x89, 0x08], // mov [rax], ecx
            &[0x0f, 0x20, 0xc0], // mov rax, cr0: #GP
            &[0x0f, 0x20, 0xd8], // mov rax, cr3
            &[0x66, 0x50], // push ax: the interpreter
            &[0x66, 0x51], // push cx
            &[0x50], // push rax: generated code
            &[0x0f, 0xa0], // push fs: the interpreter
            &[0x66, 0x0f, 0xa4, 0xc8, 0x03], // shld ax, cx, 3: the interpreter
            &[0x0f, 0xa4, 0xc8, 0x03], // shld eax, ecx, 3: generated code
            &[0xa5], // movsd (string): generated code
            &[0xf2, 0x0f, 0x10, 0xc1], // movsd xmm0, xmm1
            &[0x0f, 0xfc, 0xc1], // paddb mm0, mm1 (a guard asked each time)
        ];
        for bytes in cases {
            for _ in 0..2 {
                let insn = decode(bytes);
                assert!(same(handler(&insn), resolve(&insn).handler()), "{insn}");
            }
        }
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
