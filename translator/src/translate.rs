//! One guest block to one host block: flag liveness, then each instruction
//! through its handler. The handler table is also the list of supported
//! instructions (`is_supported`), which tests and coverage reports read.

use crate::frontend::decode::GuestBlock;
use crate::emit::alu::{self, AluOp};
use crate::emit::bits::{self, BitOp};
use crate::emit::bmi::{self, LowestBit, ShiftX};
use crate::emit::shift::{self, ShiftOp};
use crate::emit::{atomic, control, crypto, data, muldiv, sse, sse42, string};
use crate::emit::{Emitter, Flow, Handler, MemoryOrder, Stubs, TranslatedBlock};
use crate::frontend::flags::{live_after, FlagSet};
use crate::cpu::features::{self, Presence};
use crate::cpu::host::HostFeatures;
use iced_x86::{Instruction, Mnemonic};

/// The handler for an instruction's mnemonic; `None` means unsupported,
/// also for every instruction the presented CPU lacks (`features`).
pub fn handler(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    // Without BMI1/LZCNT the table routes tzcnt and lzcnt to bsf and bsr.
    let as_older = match features::presence(features::presented(), insn.code()) {
        Presence::Has => false,
        Presence::AsOlder => true,
        Presence::Nop => return Some(data::nop),
        Presence::Lacks => return None,
    };
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
    Some(match insn.mnemonic() {
        // Segments and forms compilers never emit: the interpreter. The
        // guards run only for these mnemonics (translation speed).
        Mov | Push | Pop | Lfs | Lgs | Lss | Retf | Iret | Iretd | Iretq | Lar | Lsl | Verr | Verw
            if crate::interp::segments::handles(insn) =>
        {
            control::interpret
        }
        Mov if is_control_or_debug_register_move(insn) => control::privileged,
        Push | Pop | Pushf | Popf | Shld | Shrd | Xlatb | Sgdt | Sidt | Smsw | Sldt | Str
            if crate::interp::legacy_forms::handles(insn) =>
        {
            control::interpret
        }
        Add => |e, i| alu::alu(e, i, AluOp::Add),
        Adc => |e, i| alu::alu(e, i, AluOp::Adc),
        Sub => |e, i| alu::alu(e, i, AluOp::Sub),
        Sbb => |e, i| alu::alu(e, i, AluOp::Sbb),
        Cmp => |e, i| alu::alu(e, i, AluOp::Cmp),
        And => |e, i| alu::alu(e, i, AluOp::And),
        Or => |e, i| alu::alu(e, i, AluOp::Or),
        Xor => |e, i| alu::alu(e, i, AluOp::Xor),
        Test => |e, i| alu::alu(e, i, AluOp::Test),
        Inc => |e, i| alu::inc_dec(e, i, true),
        Dec => |e, i| alu::inc_dec(e, i, false),
        Neg => alu::neg,
        Not => alu::not,
        Shl | Sal => |e, i| shift::shift(e, i, ShiftOp::Shl),
        Shr => |e, i| shift::shift(e, i, ShiftOp::Shr),
        Sar => |e, i| shift::shift(e, i, ShiftOp::Sar),
        Rol => |e, i| shift::shift(e, i, ShiftOp::Rol),
        Ror => |e, i| shift::shift(e, i, ShiftOp::Ror),
        Shld => |e, i| shift::double_shift(e, i, true),
        Shrd => |e, i| shift::double_shift(e, i, false),
        Imul if insn.op_count() > 1 => muldiv::imul_2_3,
        Imul => |e, i| muldiv::mul_wide(e, i, true),
        Mul => |e, i| muldiv::mul_wide(e, i, false),
        Div => |e, i| muldiv::div(e, i, false),
        Idiv => |e, i| muldiv::div(e, i, true),
        Bt => |e, i| bits::bit_test(e, i, BitOp::Test),
        Bts => |e, i| bits::bit_test(e, i, BitOp::Set),
        Btr => |e, i| bits::bit_test(e, i, BitOp::Reset),
        Btc => |e, i| bits::bit_test(e, i, BitOp::Complement),
        Bsf => |e, i| bits::bit_scan(e, i, true),
        Bsr => |e, i| bits::bit_scan(e, i, false),
        Tzcnt if as_older => |e, i| bits::bit_scan(e, i, true),
        Lzcnt if as_older => |e, i| bits::bit_scan(e, i, false),
        Tzcnt => |e, i| bmi::count_zeros(e, i, true),
        Lzcnt => |e, i| bmi::count_zeros(e, i, false),
        Andn => bmi::andn,
        Bextr => bmi::bextr,
        Bzhi => bmi::bzhi,
        Blsi => |e, i| bmi::lowest_bit(e, i, LowestBit::Isolate),
        Blsmsk => |e, i| bmi::lowest_bit(e, i, LowestBit::Mask),
        Blsr => |e, i| bmi::lowest_bit(e, i, LowestBit::Reset),
        Mulx => bmi::mulx,
        Pdep => |e, i| bmi::bit_gather_scatter(e, i, true),
        Pext => |e, i| bmi::bit_gather_scatter(e, i, false),
        Rorx => bmi::rorx,
        Shlx => |e, i| bmi::shift_x(e, i, ShiftX::Shl),
        Shrx => |e, i| bmi::shift_x(e, i, ShiftX::Shr),
        Sarx => |e, i| bmi::shift_x(e, i, ShiftX::Sar),
        Movbe => bmi::movbe,
        Mov => data::mov,
        Movzx => |e, i| data::mov_extend(e, i, false),
        Movsx | Movsxd => |e, i| data::mov_extend(e, i, true),
        Lea => data::lea,
        Xchg => data::xchg,
        Push => data::push,
        Pop => data::pop,
        Leave => data::leave,
        Cmovo | Cmovno | Cmovb | Cmovae | Cmove | Cmovne | Cmovbe | Cmova | Cmovs | Cmovns | Cmovp | Cmovnp
        | Cmovl | Cmovge | Cmovle | Cmovg => data::cmov,
        Seto | Setno | Setb | Setae | Sete | Setne | Setbe | Seta | Sets | Setns | Setp | Setnp | Setl | Setge
        | Setle | Setg => data::setcc,
        Cbw => |e, _| data::extend_acc(e, 1),
        Cwde => |e, _| data::extend_acc(e, 2),
        Cdqe => |e, _| data::extend_acc(e, 4),
        Cwd => |e, _| data::sign_to_dx(e, 2),
        Cdq => |e, _| data::sign_to_dx(e, 4),
        Cqo => |e, _| data::sign_to_dx(e, 8),
        Bswap => data::bswap,
        // Hints; prefetches never fault. 0F 0D is PREFETCHW's NOP space.
        Nop | Reservednop | Endbr64 | Endbr32 | Pause | Prefetchnta | Prefetcht0 | Prefetcht1 | Prefetcht2
        | Prefetch | Prefetchw | Prefetchwt1 | Lfence | Sfence => data::nop,
        Clflush | Clflushopt | Clwb => data::cache_line_hint,
        Mfence => data::mfence,
        Clc | Stc | Cmc => data::carry_flag,
        Cld => |e, _| data::direction_flag(e, false),
        Std => |e, _| data::direction_flag(e, true),
        Cmpxchg => data::cmpxchg,
        Xadd => data::xadd,
        Jmp => control::jmp,
        Call => control::call,
        Ret => control::ret,
        Jo | Jno | Jb | Jae | Je | Jne | Jbe | Ja | Js | Jns | Jp | Jnp | Jl | Jge | Jle | Jg => control::jcc,
        Jrcxz | Jecxz | Loop | Loope | Loopne => control::count_branch,
        Syscall => control::syscall,
        // int1 (icebp) is a debug trap: SIGTRAP after it, as int3.
        Int3 | Int1 => control::int3,
        Int => control::int_n,
        // Ring 0 only, or I/O without IOPL: #GP.
        Hlt | In | Out | Insb | Insw | Insd | Outsb | Outsw | Outsd | Cli | Sti | Lgdt | Lidt | Lldt | Ltr | Lmsw
        | Clts | Invlpg | Invd | Wbinvd | Swapgs | Sysret | Sysretq | Xsetbv => control::privileged,
        Ud2 | Ud0 | Ud1 => control::ud,
        Rdtsc => control::rdtsc,
        Movsb | Movsw | Movsq | Stosb | Stosw | Stosd | Stosq => string::movs_stos,
        Movsd if is_string_op(insn) => string::movs_stos,
        Cmpsd if is_string_op(insn) => control::interpret,
        Cpuid | Rcl | Rcr | Lodsb | Lodsw | Lodsd | Lodsq | Cmpsb | Cmpsw | Cmpsq | Scasb | Scasw | Scasd
        | Scasq | Pushfq | Popfq | Lahf | Sahf | Cmpxchg8b | Fxsave | Fxsave64 | Fxrstor | Fxrstor64 | Enter => {
            control::interpret
        }
        Xgetbv | Xsave | Xsave64 | Xsaveopt | Xsaveopt64 | Xsavec | Xsavec64 | Xrstor | Xrstor64 => control::interpret,
        Movnti => data::mov,
        m if crate::interp::x87::is_x87(m) => control::interpret,
        Popcnt => bits::popcnt,
        Crc32 => sse42::crc32,
        Cmpxchg16b | Aeskeygenassist | Vaeskeygenassist => control::interpret,
        Pcmpestri | Pcmpestri64 | Pcmpestrm | Pcmpestrm64 | Pcmpistri | Pcmpistrm | Vpcmpestri | Vpcmpestri64
        | Vpcmpestrm | Vpcmpestrm64 | Vpcmpistri | Vpcmpistrm => control::interpret,
        Aesenc | Aesenclast | Aesdec | Aesdeclast | Aesimc | Vaesenc | Vaesenclast | Vaesdec | Vaesdeclast
        | Vaesimc => crypto::aes,
        Pclmulqdq | Vpclmulqdq => crypto::pclmulqdq,
        // The rare multi-step SSE4.1 forms' VEX encodings (`interp::sse41_interp`).
        Vdpps | Vdppd | Vmpsadbw | Vphminposuw => control::interpret,
        // Masked loads and stores, gathers: per element (`interp::vex_masked`).
        m if crate::interp::vex_masked::handles(m) => control::interpret,
        _ => return sse::handler(insn).or_else(|| crate::emit::sse41::handler(insn)),
    })
}

/// mov to or from CR0-CR15 or DR0-DR7: ring 0 only.
fn is_control_or_debug_register_move(insn: &Instruction) -> bool {
    (0..2).any(|i| {
        insn.op_kind(i) == iced_x86::OpKind::Register && {
            let r = insn.op_register(i);
            r.is_cr() || r.is_dr()
        }
    })
}

/// movsd and cmpsd are both string and SSE2 mnemonics.
fn is_string_op(insn: &Instruction) -> bool {
    use iced_x86::OpKind::*;
    matches!(insn.op0_kind(), MemoryESRDI | MemorySegRSI)
}

/// Whether the translator translates `insn` (this exact form and operands)
/// rather than ending its block with SIGILL: a trial translation.
pub fn is_supported(insn: &Instruction) -> bool {
    if handler(insn).is_none() {
        return false;
    }
    const BASE: u64 = 0x1000_0000;
    let mut stubs = Stubs::default();
    for (i, s) in stubs.exit.iter_mut().enumerate() {
        *s = BASE - 0x100 + 8 * i as u64;
    }
    let block = GuestBlock { start: insn.ip(), insns: vec![*insn], invalid_at: None };
    try_translate(&block, 1, BASE, HostFeatures::BASELINE, stubs, FlagSet::ALL, MemoryOrder::Relaxed).is_ok()
}

/// Translates `block` into code that will live at host address `base`;
/// `live_at_exit` are the flags its successors may read.
pub fn translate_block(
    block: &GuestBlock,
    base: u64,
    host: HostFeatures,
    stubs: Stubs,
    live_at_exit: FlagSet,
    order: MemoryOrder,
) -> TranslatedBlock {
    let mut len = block.insns.len();
    loop {
        match try_translate(block, len, base, host, stubs, live_at_exit, order) {
            Ok(t) => return t,
            // Instruction `n` turned out unsupported: end the block before it.
            Err(n) => len = n,
        }
    }
}

fn try_translate(
    block: &GuestBlock,
    len: usize,
    base: u64,
    host: HostFeatures,
    stubs: Stubs,
    live_at_exit: FlagSet,
    order: MemoryOrder,
) -> Result<TranslatedBlock, usize> {
    let insns = &block.insns[..len];
    // A block cut short ends in a SIGILL exit, which hands over every flag.
    let live_at_exit = if len == block.insns.len() { live_at_exit } else { FlagSet::ALL };
    let live = live_after(insns, live_at_exit);
    let mut e = Emitter::new(base, host, stubs);
    e.order = order;
    for (i, insn) in insns.iter().enumerate() {
        let guest_off = (insn.ip() - block.start) as u16;
        e.begin_insn(guest_off, live[i], FlagSet::from_iced(insn.rflags_modified()));
        let Some(h) = handler(insn) else { return Err(i) };
        let emitted = if atomic::is_locked(insn) { atomic::locked(&mut e, insn, h) } else { h(&mut e, insn) };
        match emitted {
            Ok(Flow::Next) => {}
            Ok(Flow::Ended) => return Ok(e.finish(i + 1)),
            Err(_) => return Err(i),
        }
    }
    let end_off = insns.last().map_or(0, |i| i.next_ip() - block.start) as u16;
    e.begin_insn(end_off, FlagSet::ALL, FlagSet::NONE);
    if len < block.insns.len() {
        let insn = &block.insns[len];
        tracing::warn!(addr = format_args!("{:#x}", insn.ip()), insn = %insn, "unimplemented instruction: SIGILL");
        let _ = e.illegal(insn);
    } else if let Some(addr) = block.invalid_at {
        // decode_block has logged it, with its bytes.
        e.exit(crate::exit::ExitReason::IllegalInstruction, addr);
    } else {
        e.direct_exit(block.end());
    }
    Ok(e.finish(len))
}
