//! Asynchronous signals at random points of translated code, for the
//! translated runner (`--async-signals N`).
//!
//! Transit takes an asynchronous signal in two steps: the host handler
//! unlinks the running block (`Translator::interrupt_at`), which then
//! returns to the dispatcher at its next exit; the runtime hands the state
//! to the guest's handler there and resumes after it. Faults never use
//! this path, so the plain difftest never checks it.
//!
//! A real timer would almost never fire inside a case's few microseconds of
//! translated code. Instead, in one case in N, a `brk` replaces a random
//! word of a block as it is installed (`arm`): when execution reaches it,
//! `on_trap` puts the word back and does what the runtime's handler does
//! for an asynchronous signal. Which word is derived from the case, so a
//! failure reproduces. The runner then records the state handed off, runs
//! a guest "handler" that changes every register (`HANDLER`), and resumes.

use crate::layout::{CODE_ADDR, CODE_SIZE};
use crate::rng::Rng;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use transit_translator::cpu::features::CpuLevel;
use transit_translator::{CpuState, Translator};

/// The guest handler's code: the last KiB of the code range, which
/// no case reaches.
pub const HANDLER_ADDR: u64 = CODE_ADDR + CODE_SIZE as u64 - 1024;

/// `brk #0x5157`.
const BRK: u32 = 0xd420_0000 | (0x5157 << 5);

static TRANSLATOR: AtomicPtr<Translator> = AtomicPtr::new(std::ptr::null_mut());
/// The state of the case running now: where the handler sets `interrupt`.
static CPU: AtomicPtr<CpuState> = AtomicPtr::new(std::ptr::null_mut());
/// Whether blocks installed now may get a `brk` (this case was chosen).
static ARMING: AtomicBool = AtomicBool::new(false);
/// The case's generator of injection points (SplitMix64 state).
static RNG_STATE: AtomicU64 = AtomicU64::new(0);
/// Where a `brk` waits (0: nowhere), and the word it replaced.
static ARMED_AT: AtomicU64 = AtomicU64::new(0);
static ORIGINAL: AtomicU32 = AtomicU32::new(0);

/// Sets up injection for the runner's translator: the block listener and
/// the SIGTRAP handler. `translator` must live for the rest of the process.
pub fn install(translator: &mut Translator) {
    TRANSLATOR.store(translator, Ordering::Relaxed);
    assert!(
        transit_translator::block_listener::listen(arm),
        "the runner has no other block listener"
    );
    install_trap_handler();
}

/// Before a case runs: whether it gets signals (one case in `one_in`,
/// chosen from its memory seed), and the state they interrupt.
pub fn begin_case(mem_seed: u64, one_in: u64, cpu: &mut CpuState) {
    let mut rng = Rng::new(mem_seed ^ 0xa5f1_9c0d_e11e_5e75);
    let chosen = one_in > 0 && rng.chance(one_in);
    RNG_STATE.store(rng.next_u64(), Ordering::Relaxed);
    CPU.store(cpu, Ordering::Relaxed);
    ARMING.store(chosen, Ordering::Relaxed);
}

/// After a case: takes back a `brk` execution never reached.
pub fn end_case() {
    ARMING.store(false, Ordering::Relaxed);
    let at = ARMED_AT.swap(0, Ordering::Relaxed);
    // A link written over the `brk` since (it sat on an exit's branch)
    // replaced it already.
    if at != 0 && read_word(at) == BRK {
        write_word(at, ORIGINAL.load(Ordering::Relaxed));
    }
    CPU.store(std::ptr::null_mut(), Ordering::Relaxed);
}

/// The block listener: each block of the case's code installed while no
/// `brk` waits gets one at a random instruction, with even chance.
fn arm(guest_rip: u64, host: u64, host_len: usize) {
    if !ARMING.load(Ordering::Relaxed) || ARMED_AT.load(Ordering::Relaxed) != 0 {
        return;
    }
    if !(CODE_ADDR..HANDLER_ADDR).contains(&guest_rip) || host_len < 4 {
        return;
    }
    // Instructions only: the literal pool after them is data.
    // SAFETY: the block listener names an installed block's code.
    let code = unsafe { std::slice::from_raw_parts(host as *const u8, host_len) };
    let words = transit_translator::emit::literal::instructions_end(code) as u64 / 4;
    let mut rng = Rng::new(RNG_STATE.load(Ordering::Relaxed));
    let (take, word) = (rng.chance(2), rng.below(words));
    RNG_STATE.store(rng.next_u64(), Ordering::Relaxed);
    if take {
        let at = host + 4 * word;
        ORIGINAL.store(read_word(at), Ordering::Relaxed);
        ARMED_AT.store(at, Ordering::Relaxed);
        write_word(at, BRK);
    }
}

#[cfg(target_arch = "aarch64")]
fn install_trap_handler() {
    // SAFETY: a zeroed, then filled, sigaction for a handler below.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_trap as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        assert_eq!(libc::sigaction(libc::SIGTRAP, &sa, std::ptr::null_mut()), 0);
    }
}

#[cfg(not(target_arch = "aarch64"))]
fn install_trap_handler() {}

/// The armed `brk` was reached: the word goes back, and the signal arrives
/// at that instruction, as the runtime's `on_host_signal` takes one.
#[cfg(target_arch = "aarch64")]
extern "C" fn on_trap(sig: i32, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext; TRANSLATOR and CPU point
    // at the runner's translator and the running case's state.
    unsafe {
        let mc = &mut (*(ctx as *mut libc::ucontext_t)).uc_mcontext;
        let at = ARMED_AT.load(Ordering::Relaxed);
        let (t, cpu) = (
            TRANSLATOR.load(Ordering::Relaxed),
            CPU.load(Ordering::Relaxed),
        );
        if at == 0 || mc.pc != at || t.is_null() || cpu.is_null() {
            let msg = b"difftest-runner: SIGTRAP not at the injected brk\n";
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::signal(sig, libc::SIG_DFL);
            return;
        }
        write_word(at, ORIGINAL.load(Ordering::Relaxed));
        ARMED_AT.store(0, Ordering::Relaxed);
        std::ptr::write_volatile(&mut (*cpu).interrupt, 1);
        if let Some(pc) = (*t).interrupt_at(mc.pc) {
            mc.pc = pc;
        }
    }
}

fn read_word(at: u64) -> u32 {
    // SAFETY: `at` is an aligned instruction word of an installed block.
    unsafe { (at as *const u32).read_volatile() }
}

fn write_word(at: u64, word: u32) {
    // SAFETY: as `read_word`; the code buffer is writable, and a single
    // aligned word is replaced atomically for the thread running it.
    unsafe { (at as *mut u32).write_volatile(word) };
    // SAFETY: the word just written.
    dynasmrt::cache_control::synchronize_icache(unsafe {
        std::slice::from_raw_parts(at as *const u8, 4)
    });
}

/// Bytes of constants after the handler's final `syscall`: MXCSR's dword
/// and the x87 control word.
const HANDLER_CONSTANT_BYTES: usize = 4 + 2;

/// Writes the guest handler (`handler_code`) at [`HANDLER_ADDR`]; returns
/// where its final `syscall` leaves it.
pub fn place_handler(level: CpuLevel) -> u64 {
    let code = handler_code(level);
    // SAFETY: the last bytes of the code range, mapped writable by
    // `map_layout`, which no case reaches (`handler_code` checks the size).
    unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), HANDLER_ADDR as *mut u8, code.len()) };
    HANDLER_ADDR + (code.len() - HANDLER_CONSTANT_BYTES) as u64
}

/// The guest handler: it changes every general register, the arithmetic
/// flags and DF, every XMM register (YMM too where the level has AVX),
/// MXCSR's rounding, FTZ and DAZ, and the x87 stack and control word,
/// then ends with the runner's `syscall`. Whatever the interrupted code
/// kept outside its `CpuState` would show in the case's result.
fn handler_code(level: CpuLevel) -> Vec<u8> {
    use iced_x86::code_asm::*;
    let assemble = || -> Result<Vec<u8>, IcedError> {
        let mut a = CodeAssembler::new(64)?;
        let gprs = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
        for (i, &r) in gprs.iter().enumerate() {
            a.mov(r, 0x5a5a_0000_0000_0000u64 | i as u64)?;
        }
        a.mov(eax, 0x8000_0000u32)?;
        // CF, PF, ZF and OF set; SF and AF clear.
        a.add(eax, eax)?;
        a.std()?;
        let xmms = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];
        let ymms = [ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11, ymm12, ymm13, ymm14, ymm15];
        for i in 0..16 {
            if level >= CpuLevel::V3 {
                a.vpcmpeqb(ymms[i], ymms[i], ymms[i])?;
            } else {
                a.pcmpeqb(xmms[i], xmms[i])?;
            }
        }
        let mut mxcsr = a.create_label();
        let mut fcw = a.create_label();
        a.ldmxcsr(dword_ptr(mxcsr))?;
        a.fninit()?;
        a.fld1()?;
        a.fldpi()?;
        a.fldcw(word_ptr(fcw))?;
        a.syscall()?;
        // The constants (HANDLER_CONSTANT_BYTES).
        // Toward zero, FTZ and DAZ, every exception masked.
        a.set_label(&mut mxcsr)?;
        a.dd(&[0xffc0])?;
        // Toward zero, single precision, every exception masked.
        a.set_label(&mut fcw)?;
        a.dw(&[0x0c7f])?;
        a.assemble(HANDLER_ADDR)
    };
    let code = assemble().expect("the handler's instructions assemble");
    assert!(
        code.len() <= (CODE_ADDR + CODE_SIZE as u64 - HANDLER_ADDR) as usize,
        "the handler fits its space"
    );
    code
}
