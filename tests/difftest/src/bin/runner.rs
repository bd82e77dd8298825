//! The translated side of the differential tester: an aarch64 program that
//! reads cases on stdin, runs each through the translator, and writes the
//! outcomes to stdout. `--block-size N` limits translated blocks to N guest
//! instructions (0: no limit); `--tso` translates memory accesses with x86
//! ordering (as for multi-threaded guests). Faults in translated code reach
//! the runner as `GuestEvent::HostFault` through a SIGSEGV/SIGBUS handler
//! that does what the runtime's does (`src/signals`). `--async-signals N`
//! gives one case in N asynchronous signals (`async_signal`).

use std::io::{BufReader, BufWriter, Write};
#[cfg(target_arch = "aarch64")]
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::{AtomicU64, Ordering};
use transit_difftest::async_signal;
use transit_difftest::case::{fnv1a, initial_memory, Case, Handoff, Outcome};
use transit_difftest::layout::{map_layout, CODE_ADDR, MEM_ADDR, MEM_SIZE};
use transit_difftest::state::{State, X87};
use transit_translator::cpu::host::set_rounding_from_mxcsr;
use transit_translator::{CpuState, GuestEvent, Translator};

/// `syscall`: where translated code hands back to this runner.
const TERMINATOR: [u8; 2] = [0x0f, 0x05];


/// The translator the fault handler asks where translated code faulted.
#[cfg(target_arch = "aarch64")]
static TRANSLATOR: AtomicPtr<Translator> = AtomicPtr::new(std::ptr::null_mut());
/// The last host fault in translated code: signal and `si_addr`.
static FAULT_SIGNAL: AtomicU64 = AtomicU64::new(0);
static FAULT_ADDR: AtomicU64 = AtomicU64::new(0);

/// A fault in translated code leaves it through the translator's fault exit
/// (`Translator::fault_redirect`; a misaligned ordered access goes on to its
/// plain fallback instead), one in the interpreter's probe of guest
/// memory returns through the probe, as in `on_host_signal` in
/// `src/signals`; a fault anywhere else is the runner's or the translator's
/// own, and kills the runner (the driver then reports the case as crashed).
#[cfg(target_arch = "aarch64")]
extern "C" fn on_fault(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let t = TRANSLATOR.load(Ordering::Relaxed);
    // SAFETY: the kernel passes a valid siginfo and ucontext; `t` points at
    // the translator `main` owns for the whole run, which only reads its
    // cache's block map here. Only async-signal-safe work follows.
    unsafe {
        let mc = &mut (*(ctx as *mut libc::ucontext_t)).uc_mcontext;
        // The interpreter probing guest memory: the probe reports the fault
        // (as GuestEvent::PageFault).
        if let Some(pc) = transit_translator::frontend::probe::redirect(mc.pc) {
            mc.regs[0] = (*info).si_code as u64;
            mc.pc = pc;
            return;
        }
        // An ordered access that met a misaligned address: on to its plain
        // fallback for good (`Translator::misaligned_redirect`).
        if sig == libc::SIGBUS && (*info).si_code == libc::BUS_ADRALN {
            if let Some(pad) = t.as_ref().and_then(|t| t.misaligned_redirect(mc.pc)) {
                mc.pc = pad;
                return;
            }
        }
        match t.as_ref().and_then(|t| t.fault_redirect(mc.pc)) {
            Some(r) => {
                FAULT_SIGNAL.store(sig as u64, Ordering::Relaxed);
                FAULT_ADDR.store((*info).si_addr() as u64, Ordering::Relaxed);
                mc.regs[16] = r.x16;
                mc.pc = r.pc;
                if r.flip_carry {
                    mc.pstate ^= 1 << 29;
                }
            }
            None => {
                let msg = b"difftest-runner: fault outside translated code\n";
                libc::write(2, msg.as_ptr().cast(), msg.len());
                // Returning re-executes the access, which now kills us.
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
}

/// Translated code runs only on aarch64 hosts: elsewhere (a build of the
/// workspace for an x86_64 host) there is nothing to handle.
#[cfg(not(target_arch = "aarch64"))]
fn install_fault_handler(_t: &mut Translator) {}

#[cfg(target_arch = "aarch64")]
fn install_fault_handler(t: &mut Translator) {
    TRANSLATOR.store(t, Ordering::Relaxed);
    for sig in [libc::SIGSEGV, libc::SIGBUS] {
        // SAFETY: installing a handler with a zeroed, then filled, sigaction.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fault as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            assert_eq!(libc::sigaction(sig, &sa, std::ptr::null_mut()), 0);
        }
    }
}

/// How the runner runs its cases.
struct Options {
    /// One case in this many gets asynchronous signals (0: none).
    async_signals: u64,
    /// Where the guest signal handler's final `syscall` leaves it.
    handler_end: u64,
}

fn run(t: &mut Translator, case: &Case, o: &Options) -> Outcome {
    let mem = initial_memory(case.mem_seed);
    // SAFETY: both pages were mapped by `map_layout`; the translator reads the code
    // from there and the guest's memory operands point into the scratch page.
    unsafe {
        std::ptr::copy_nonoverlapping(case.code.as_ptr(), CODE_ADDR as *mut u8, case.code.len());
        std::ptr::copy_nonoverlapping(TERMINATOR.as_ptr(), (CODE_ADDR + case.code.len() as u64) as *mut u8, 2);
        std::ptr::copy_nonoverlapping(mem.as_ptr(), MEM_ADDR as *mut u8, MEM_SIZE);
    }
    t.flush();
    let mut cpu = CpuState {
        gpr: case.input.gpr,
        rip: CODE_ADDR,
        xmm: case.input.xmm,
        ymm_upper: case.input.ymm_upper,
        mxcsr: case.input.mxcsr,
        ..CpuState::default()
    };
    cpu.set_rflags(case.input.rflags);
    let x = &case.input.x87;
    cpu.x87.control = x.control as u16;
    cpu.x87.status = (x.status as u16) & !(7 << 11);
    cpu.x87.top = x.top() as u8;
    cpu.x87.valid = x.valid as u8;
    for (i, v) in x.st.iter().enumerate() {
        cpu.x87.regs[(x.top() as usize + i) & 7] = *v;
    }
    async_signal::begin_case(case.mem_seed, o.async_signals, &mut cpu);
    let (mut signals, mut handoff) = (0, None);
    set_rounding_from_mxcsr(cpu.mxcsr);
    let event = loop {
        let event = t.run(&mut cpu);
        if cpu.interrupt == 0 {
            break event;
        }
        // An asynchronous signal: what the runtime hands its handler is
        // the state at an instruction boundary. A syscall or a fault event
        // comes first (the runtime delivers after it): a fault's state is
        // the fault's (a gather's completed elements, for one), compared
        // as the case's end.
        signals += 1;
        // The kernel would deliver before the syscall instruction runs.
        let rip = match event {
            GuestEvent::Interrupted => Some(cpu.rip),
            GuestEvent::Syscall => Some(cpu.rip - TERMINATOR.len() as u64),
            _ => None,
        };
        if let Some(rip) = rip {
            handoff.get_or_insert(Handoff { rip, state: state_of(&cpu), mem_hash: scratch_hash() });
        }
        cpu.interrupt = 0;
        run_handler(t, o.handler_end);
        t.relink();
        set_rounding_from_mxcsr(cpu.mxcsr);
        if event != GuestEvent::Interrupted {
            break event;
        }
    };
    async_signal::end_case();
    set_rounding_from_mxcsr(0x1f80);
    let mem_hash = scratch_hash();
    let end = CODE_ADDR + case.code.len() as u64;
    let state = state_of(&cpu);
    let (signal, rip, fault_addr) = match event {
        GuestEvent::Syscall if cpu.rip == end + TERMINATOR.len() as u64 => (0, end, 0),
        // A syscall inside the sequence (never generated) reads as SIGSYS.
        GuestEvent::Syscall | GuestEvent::CompatSyscall => (libc::SIGSYS, cpu.rip - 2, 0),
        // Transit's own faults (divide error, general protection): the
        // address is what the guest's siginfo would carry.
        GuestEvent::Fault { signal, addr } => (signal, cpu.rip, addr),
        GuestEvent::HostFault => {
            (FAULT_SIGNAL.load(Ordering::Relaxed) as i32, cpu.rip, FAULT_ADDR.load(Ordering::Relaxed))
        }
        // Taken by the loop above.
        GuestEvent::Interrupted => unreachable!("the loop runs on after an interrupt"),
        // The interpreter's probe found a bad operand (see translator/src/probe.rs).
        GuestEvent::PageFault { addr, .. } => (libc::SIGSEGV, cpu.rip, addr),
        // No debugger is attached to the runner.
        GuestEvent::DebugStop => (libc::SIGTRAP, cpu.rip, 0),
    };
    Outcome { signals, handoff, ..Outcome::new(signal as u64, rip, state, fault_addr, mem_hash) }
}

/// Runs the guest "signal handler" (`async_signal::handler_code`) on a
/// state of its own, as the runtime runs a guest handler between taking an
/// asynchronous signal and resuming (with the FPU state a handler starts with).
fn run_handler(t: &mut Translator, end: u64) {
    let mut handler = CpuState { rip: async_signal::HANDLER_ADDR, mxcsr: 0x1f80, ..CpuState::default() };
    set_rounding_from_mxcsr(handler.mxcsr);
    let event = t.run(&mut handler);
    assert!(event == GuestEvent::Syscall && handler.rip == end, "the signal handler stopped early ({event:?} at {:#x})", handler.rip);
}

fn scratch_hash() -> u64 {
    // SAFETY: the scratch page is mapped.
    fnv1a(unsafe { std::slice::from_raw_parts(MEM_ADDR as *const u8, MEM_SIZE) })
}

fn state_of(cpu: &CpuState) -> State {
    State { gpr: cpu.gpr, rflags: cpu.rflags(), mxcsr: cpu.mxcsr, xmm: cpu.xmm, ymm_upper: cpu.ymm_upper, x87: x87_of(cpu) }
}

/// The x87 state in ST order, as FXSAVE presents it.
fn x87_of(cpu: &CpuState) -> X87 {
    let top = cpu.x87.top as usize;
    X87 {
        control: cpu.x87.control as u64,
        status: cpu.x87.status_word() as u64,
        valid: cpu.x87.valid as u64,
        st: std::array::from_fn(|i| cpu.x87.regs[(top + i) & 7]),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Every instruction of the level under test (`--level`; by default the
    // most capable CPU Transit presents).
    let level = match args.iter().position(|a| a == "--level") {
        Some(i) => transit_translator::cpu::features::CpuLevel::from_name(&args[i + 1]).expect("--level x86-64-vN"),
        None => transit_translator::cpu::features::CpuLevel::HIGHEST,
    };
    transit_translator::cpu::features::present(level);
    let block_size = match args.iter().position(|a| a == "--block-size") {
        Some(i) => args[i + 1].parse::<usize>().expect("--block-size N"),
        None => 0,
    };
    map_layout(libc::PROT_READ | libc::PROT_WRITE);
    let mut t = Translator::new().expect("translator");
    if block_size > 0 {
        t.set_max_block_insns(block_size);
    }
    if args.iter().any(|a| a == "--tso") {
        t.set_memory_order(transit_translator::emit::MemoryOrder::Tso);
    }
    install_fault_handler(&mut t);
    let async_signals = match args.iter().position(|a| a == "--async-signals") {
        Some(i) => args[i + 1].parse::<u64>().expect("--async-signals N"),
        None => 0,
    };
    let o = Options { async_signals, handler_end: async_signal::place_handler(level) };
    if async_signals > 0 {
        async_signal::install(&mut t);
    }
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    while let Ok(case) = Case::read_from(&mut input) {
        run(&mut t, &case, &o).write_to(&mut output).expect("stdout");
        // Outcomes written so far survive a crash on a later case.
        output.flush().expect("stdout");
    }
}
