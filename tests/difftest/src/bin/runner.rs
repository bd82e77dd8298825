//! The translated side of the differential tester: an aarch64 program that
//! reads cases on stdin, runs each through the translator, and writes the
//! outcomes to stdout. `--block-size N` limits translated blocks to N guest
//! instructions (0: no limit); `--tso` translates memory accesses with x86
//! ordering (as for multi-threaded guests).

use std::io::{BufReader, BufWriter, Write};
use transit_difftest::case::{fnv1a, initial_memory, Case, Outcome};
use transit_difftest::layout::{CODE_ADDR, CODE_SIZE, MEM_ADDR, MEM_SIZE};
use transit_difftest::state::{State, X87};
use transit_translator::host::set_rounding_from_mxcsr;
use transit_translator::{CpuState, GuestEvent, Translator};

/// `syscall`: where translated code hands back to this runner.
const TERMINATOR: [u8; 2] = [0x0f, 0x05];

fn map(addr: u64, len: usize) {
    // SAFETY: fixed harness addresses; NOREPLACE refuses to clobber anything.
    let p = unsafe {
        libc::mmap(
            addr as *mut _,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    assert_eq!(p as u64, addr, "cannot map {addr:#x}");
}

fn run(t: &mut Translator, case: &Case) -> Outcome {
    let mem = initial_memory(case.mem_seed);
    // SAFETY: both pages were mapped by `map`; the translator reads the code
    // from there and the guest's memory operands point into the scratch page.
    unsafe {
        std::ptr::copy_nonoverlapping(case.code.as_ptr(), CODE_ADDR as *mut u8, case.code.len());
        std::ptr::copy_nonoverlapping(TERMINATOR.as_ptr(), (CODE_ADDR + case.code.len() as u64) as *mut u8, 2);
        std::ptr::copy_nonoverlapping(mem.as_ptr(), MEM_ADDR as *mut u8, MEM_SIZE);
    }
    t.flush();
    let mut cpu = CpuState { gpr: case.input.gpr, rip: CODE_ADDR, xmm: case.input.xmm, mxcsr: case.input.mxcsr, ..CpuState::default() };
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
    match event {
        GuestEvent::Syscall if cpu.rip == end + TERMINATOR.len() as u64 => Outcome {
            signal: 0,
            rip: end,
            state: State { gpr: cpu.gpr, rflags: cpu.rflags(), mxcsr: cpu.mxcsr, xmm: cpu.xmm, x87: x87_of(&cpu) },
            mem_hash,
        },
        // A syscall inside the sequence (never generated) reads as SIGSYS.
        GuestEvent::Syscall => Outcome { signal: libc::SIGSYS as u64, rip: cpu.rip - 2, state: State::default(), mem_hash },
        GuestEvent::Fault { signal, addr } => Outcome { signal: signal as u64, rip: addr, state: State::default(), mem_hash },
        // No signal handler is installed here, so none of these happens.
        GuestEvent::HostFault | GuestEvent::Interrupted | GuestEvent::PageFault { .. } => {
            Outcome { signal: libc::SIGSEGV as u64, rip: cpu.rip, state: State::default(), mem_hash }
        }
    }
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
    let block_size = match args.iter().position(|a| a == "--block-size") {
        Some(i) => args[i + 1].parse::<usize>().expect("--block-size N"),
        None => 0,
    };
    map(CODE_ADDR, CODE_SIZE);
    map(MEM_ADDR, MEM_SIZE);
    let mut t = Translator::new().expect("translator");
    if block_size > 0 {
        t.cache.max_block_insns = block_size;
    }
    if args.iter().any(|a| a == "--tso") {
        t.cache.memory_order = transit_translator::emit::MemoryOrder::Tso;
    }
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    while let Ok(case) = Case::read_from(&mut input) {
        run(&mut t, &case).write_to(&mut output).expect("stdout");
        // Outcomes written so far survive a crash on a later case.
        output.flush().expect("stdout");
    }
}
