//! The translated side of the differential tester: an aarch64 program that
//! reads cases on stdin, runs each through the translator, and writes the
//! outcomes to stdout. `--block-size N` limits translated blocks to N guest
//! instructions (0: no limit); `--tso` translates memory accesses with x86
//! ordering (as for multi-threaded guests). Faults in translated code reach
//! the runner as `GuestEvent::HostFault` through a SIGSEGV/SIGBUS handler
//! that does what the runtime's does (`src/signals`).

use std::io::{BufReader, BufWriter, Write};
#[cfg(target_arch = "aarch64")]
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::{AtomicU64, Ordering};
use transit_difftest::case::{fnv1a, initial_memory, Case, Outcome};
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
/// (`Translator::fault_redirect`), one in the interpreter's probe of guest
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

fn run(t: &mut Translator, case: &Case) -> Outcome {
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
    set_rounding_from_mxcsr(cpu.mxcsr);
    let event = t.run(&mut cpu);
    set_rounding_from_mxcsr(0x1f80);
    // SAFETY: the scratch page is mapped.
    let mem_hash = fnv1a(unsafe { std::slice::from_raw_parts(MEM_ADDR as *const u8, MEM_SIZE) });
    let end = CODE_ADDR + case.code.len() as u64;
    let state = State {
        gpr: cpu.gpr,
        rflags: cpu.rflags(),
        mxcsr: cpu.mxcsr,
        xmm: cpu.xmm,
        ymm_upper: cpu.ymm_upper,
        x87: x87_of(&cpu),
    };
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
        // No asynchronous signal handler is installed, so this never happens.
        GuestEvent::Interrupted => (libc::SIGALRM, cpu.rip, 0),
        // The interpreter's probe found a bad operand (see translator/src/probe.rs).
        GuestEvent::PageFault { addr, .. } => (libc::SIGSEGV, cpu.rip, addr),
        // No debugger is attached to the runner.
        GuestEvent::DebugStop => (libc::SIGTRAP, cpu.rip, 0),
    };
    Outcome { signal: signal as u64, rip, state, fault_addr, mem_hash }
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
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    while let Ok(case) = Case::read_from(&mut input) {
        run(&mut t, &case).write_to(&mut output).expect("stdout");
        // Outcomes written so far survive a crash on a later case.
        output.flush().expect("stdout");
    }
}
