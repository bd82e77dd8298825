//! Runs cases on the host CPU (x86_64 hosts only): code at `CODE_ADDR`, a
//! generated trampoline that loads the complete input state, jumps in, and
//! stores the complete state when the code jumps to the epilogue. Faults
//! are caught by signal handlers that record the signal, its address and
//! the state at the faulting instruction, and resume at a recovery stub.
//! Cases run in a forked child, so a case that corrupts the executor only
//! costs that case.

use crate::case::{fnv1a, initial_memory, Case, Outcome};
use crate::layout::{map, map_layout, CODE_ADDR, MEM_ADDR, MEM_SIZE};
use crate::state::{x87_from_fxsave, State};
use iced_x86::code_asm::*;
use iced_x86::BlockEncoderOptions;
use std::io::Write;
use std::mem::offset_of;

const TRAMP_ADDR: u64 = 0x3200_0000;
const DATA_ADDR: u64 = 0x3300_0000;
const SAVED_RSP: u64 = DATA_ADDR;
const FAULT_SIGNAL: u64 = DATA_ADDR + 0x10;
const FAULT_RIP: u64 = DATA_ADDR + 0x18;
const DEFAULT_MXCSR: u64 = DATA_ADDR + 0x20;
const FAULT_ADDR: u64 = DATA_ADDR + 0x28;
const OUT: u64 = DATA_ADDR + 0x100;
const IN: u64 = DATA_ADDR + 0x400;
/// FXSAVE images (16-byte aligned) for the x87 state in and out.
const IN_FX: u64 = DATA_ADDR + 0x800;
const OUT_FX: u64 = DATA_ADDR + 0xa00;
pub use crate::case::CRASHED;

/// The native terminator: `jmp [rip+0]` followed by the epilogue's address.
pub fn terminator(epilogue: u64) -> Vec<u8> {
    let mut t = vec![0xff, 0x25, 0, 0, 0, 0];
    t.extend_from_slice(&epilogue.to_le_bytes());
    t
}

thread_local! {
    static SETUP: std::cell::OnceCell<Trampoline> = const { std::cell::OnceCell::new() };
}

#[derive(Clone, Copy)]
struct Trampoline {
    enter: u64,
    epilogue: u64,
    recover: u64,
}

fn m(addr: u64) -> AsmMemoryOperand {
    qword_ptr(addr)
}

/// Emits the enter / epilogue / recover code into the trampoline page.
fn build_trampoline() -> Trampoline {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut enter = a.create_label();
    let mut epilogue = a.create_label();
    let mut recover = a.create_label();
    let mut restore_host = a.create_label();
    let mut code_addr = a.create_label();
    let gprs = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
    let xmms = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];
    let gpr = |i: usize| offset_of!(State, gpr) as u64 + 8 * i as u64;
    let xmm = |i: usize| offset_of!(State, xmm) as u64 + 16 * i as u64;
    let ymms = [ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11, ymm12, ymm13, ymm14, ymm15];
    let upper = |i: usize| offset_of!(State, ymm_upper) as u64 + 16 * i as u64;

    a.set_label(&mut enter).unwrap();
    for r in [rbx, rbp, r12, r13, r14, r15] {
        a.push(r).unwrap();
    }
    a.mov(m(SAVED_RSP), rsp).unwrap();
    // x87 first: fxrstor also loads MXCSR and XMM, set again just below.
    a.fxrstor(ptr(IN_FX)).unwrap();
    a.ldmxcsr(dword_ptr(IN + offset_of!(State, mxcsr) as u64)).unwrap();
    for (i, x) in xmms.iter().enumerate() {
        a.movdqu(*x, xmmword_ptr(IN + xmm(i))).unwrap();
        a.vinsertf128(ymms[i], ymms[i], xmmword_ptr(IN + upper(i)), 1).unwrap();
    }
    a.push(m(IN + offset_of!(State, rflags) as u64)).unwrap();
    a.popfq().unwrap();
    for (i, r) in gprs.iter().enumerate() {
        a.mov(*r, m(IN + gpr(i))).unwrap();
    }
    a.jmp(qword_ptr(code_addr)).unwrap();
    a.set_label(&mut code_addr).unwrap();
    a.dq(&[CODE_ADDR]).unwrap();

    a.set_label(&mut epilogue).unwrap();
    for (i, r) in gprs.iter().enumerate() {
        a.mov(m(OUT + gpr(i)), *r).unwrap();
    }
    a.mov(rsp, m(SAVED_RSP)).unwrap();
    a.pushfq().unwrap();
    a.pop(rax).unwrap();
    a.mov(m(OUT + offset_of!(State, rflags) as u64), rax).unwrap();
    // MXCSR and XMM too: `saved_state` reads them from the image, as from
    // the one a fault's signal frame holds.
    a.fxsave(ptr(OUT_FX)).unwrap();
    for (i, y) in ymms.iter().enumerate() {
        a.vextractf128(xmmword_ptr(OUT + upper(i)), *y, 1).unwrap();
    }
    a.xor(eax, eax).unwrap();
    a.jmp(restore_host).unwrap();

    // A fault handler resumes here with the host RSP restored.
    a.set_label(&mut recover).unwrap();
    a.mov(eax, 1).unwrap();
    a.set_label(&mut restore_host).unwrap();
    a.ldmxcsr(dword_ptr(DEFAULT_MXCSR)).unwrap();
    a.cld().unwrap();
    a.fninit().unwrap();
    for r in [r15, r14, r13, r12, rbp, rbx] {
        a.pop(r).unwrap();
    }
    a.ret().unwrap();

    let result = a.assemble_options(TRAMP_ADDR, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS).unwrap();
    let code = &result.inner.code_buffer;
    // SAFETY: the trampoline page is ours and large enough.
    unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), TRAMP_ADDR as *mut u8, code.len()) };
    Trampoline {
        enter: result.label_ip(&enter).unwrap(),
        epilogue: result.label_ip(&epilogue).unwrap(),
        recover: result.label_ip(&recover).unwrap(),
    }
}

static mut RECOVER: u64 = 0;

extern "C" fn on_fault(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext (with the FPU
    // state, whose first 512 bytes are an FXSAVE image); the data page is
    // ours. We record the state at the faulting instruction and redirect
    // RIP/RSP to the recovery stub, which restores the host state.
    unsafe {
        let uc = ctx as *mut libc::ucontext_t;
        let gregs = &mut (*uc).uc_mcontext.gregs;
        *(FAULT_SIGNAL as *mut u64) = sig as u64;
        *(FAULT_RIP as *mut u64) = gregs[libc::REG_RIP as usize] as u64;
        *(FAULT_ADDR as *mut u64) = (*info).si_addr() as u64;
        let out = &mut *(OUT as *mut State);
        for (i, reg) in GREG_OF_GPR.iter().enumerate() {
            out.gpr[i] = gregs[*reg as usize] as u64;
        }
        out.rflags = gregs[libc::REG_EFL as usize] as u64;
        let fp = (*uc).uc_mcontext.fpregs as *const u8;
        if !fp.is_null() {
            std::ptr::copy_nonoverlapping(fp, OUT_FX as *mut u8, 512);
            out.ymm_upper = ymm_upper_of_frame(fp);
        }
        gregs[libc::REG_RIP as usize] = RECOVER as i64;
        gregs[libc::REG_RSP as usize] = *(SAVED_RSP as *const u64) as i64;
    }
}

/// Bits 128..255 of YMM0..15 from a signal frame's XSAVE-format FPU state
/// (Linux marks it with FP_XSTATE_MAGIC1 in the FXSAVE image's software
/// bytes; the YMM component sits at 576 in the standard format, and a
/// clear XSTATE_BV bit 2 means its initial state, zeros).
///
/// # Safety
/// `fp` is the ucontext's `fpregs` of a signal frame.
unsafe fn ymm_upper_of_frame(fp: *const u8) -> [u128; 16] {
    const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
    const XSTATE_BV: usize = 512;
    const YMM_HI128: usize = 576;
    let magic = (fp.add(464) as *const u32).read_unaligned();
    let xstate_bv = (fp.add(XSTATE_BV) as *const u64).read_unaligned();
    if magic != FP_XSTATE_MAGIC1 || xstate_bv & 4 == 0 {
        return [0; 16];
    }
    std::array::from_fn(|i| (fp.add(YMM_HI128 + 16 * i) as *const u128).read_unaligned())
}

/// The ucontext `gregs` index of RAX..R15 (x86 encoding order).
const GREG_OF_GPR: [i32; 16] = [
    libc::REG_RAX,
    libc::REG_RCX,
    libc::REG_RDX,
    libc::REG_RBX,
    libc::REG_RSP,
    libc::REG_RBP,
    libc::REG_RSI,
    libc::REG_RDI,
    libc::REG_R8,
    libc::REG_R9,
    libc::REG_R10,
    libc::REG_R11,
    libc::REG_R12,
    libc::REG_R13,
    libc::REG_R14,
    libc::REG_R15,
];

/// The state an FXSAVE image at `img` and the general registers at `OUT`
/// describe.
///
/// # Safety
/// `img` is a 512-byte FXSAVE image and `OUT` holds a `State`.
unsafe fn saved_state(img: u64) -> State {
    let img = &*(img as *const [u8; 512]);
    let mut state = *(OUT as *const State);
    state.x87 = x87_from_fxsave(img);
    state.mxcsr = u32::from_le_bytes(img[24..28].try_into().unwrap()) as u64;
    for (i, x) in state.xmm.iter_mut().enumerate() {
        *x = u128::from_le_bytes(img[160 + 16 * i..176 + 16 * i].try_into().unwrap());
    }
    state
}

/// Handlers run on their own stack: the guest's RSP points into the
/// scratch page, which a signal frame must not overwrite.
fn install_handlers() {
    const ALT_STACK: usize = 64 << 10;
    let stack = Box::leak(vec![0u8; ALT_STACK].into_boxed_slice());
    let alt = libc::stack_t { ss_sp: stack.as_mut_ptr().cast(), ss_flags: 0, ss_size: ALT_STACK };
    // SAFETY: the leaked buffer lives for the rest of the process.
    unsafe { libc::sigaltstack(&alt, std::ptr::null_mut()) };
    for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP] {
        // SAFETY: installing a handler with a zeroed, then filled, sigaction.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fault as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The native executor: set up once, then `run` many cases.
pub struct Native {
    tramp: Trampoline,
}

impl Native {
    /// The executor, for a process that has already set one up (its pages
    /// and trampoline stay mapped): for re-running cases, e.g. to minimize.
    pub fn new_in_process() -> Native {
        SETUP.with(|t| Native { tramp: Trampoline { ..*t.get().expect("Native::new ran first") } })
    }

    pub fn new() -> Native {
        map_layout(libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC);
        map(TRAMP_ADDR, 4096, libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC);
        map(DATA_ADDR, 4096, libc::PROT_READ | libc::PROT_WRITE);
        let tramp = build_trampoline();
        SETUP.with(|t| t.set(Trampoline { ..tramp }).ok());
        // SAFETY: single-threaded set-up of the handler's target.
        unsafe {
            RECOVER = tramp.recover;
            *(DEFAULT_MXCSR as *mut u64) = 0x1f80;
        }
        Native { tramp }
    }

    pub fn terminator(&self) -> Vec<u8> {
        terminator(self.tramp.epilogue)
    }

    /// Runs one case in this process.
    pub fn run(&self, case: &Case) -> Outcome {
        let mut code = case.code.clone();
        code.extend(self.terminator());
        let mem = initial_memory(case.mem_seed);
        // SAFETY: the harness pages are mapped by `new`; the code is what
        // the case says, run with handlers that catch its faults.
        unsafe {
            std::ptr::copy_nonoverlapping(code.as_ptr(), CODE_ADDR as *mut u8, code.len());
            std::ptr::copy_nonoverlapping(mem.as_ptr(), MEM_ADDR as *mut u8, MEM_SIZE);
            *(IN as *mut State) = case.input;
            let mut img = [0u8; 512];
            crate::state::x87_to_fxsave(&case.input.x87, &mut img);
            img[24..28].copy_from_slice(&(case.input.mxcsr as u32).to_le_bytes());
            img[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
            std::ptr::copy_nonoverlapping(img.as_ptr(), IN_FX as *mut u8, 512);
            *(FAULT_SIGNAL as *mut u64) = 0;
            let enter: extern "C" fn() -> u64 = std::mem::transmute(self.tramp.enter as usize);
            let faulted = enter();
            let mem_after = std::slice::from_raw_parts(MEM_ADDR as *const u8, MEM_SIZE);
            let state = saved_state(OUT_FX);
            if faulted != 0 {
                return Outcome::new(
                    *(FAULT_SIGNAL as *const u64),
                    *(FAULT_RIP as *const u64),
                    state,
                    *(FAULT_ADDR as *const u64),
                    fnv1a(mem_after),
                );
            }
            Outcome::new(0, CODE_ADDR + case.code.len() as u64, state, 0, fnv1a(mem_after))
        }
    }

    /// Runs all cases, each batch in a forked child; a child that dies
    /// unexpectedly fails the case it was on (signal 255) and a new child
    /// continues after it.
    pub fn run_all(&self, cases: &[Case]) -> Vec<Outcome> {
        install_handlers();
        let mut outcomes = Vec::with_capacity(cases.len());
        while outcomes.len() < cases.len() {
            let start = outcomes.len();
            let mut fds = [0; 2];
            // SAFETY: plain pipe + fork; the child only runs cases and exits.
            unsafe {
                assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
                let pid = libc::fork();
                if pid == 0 {
                    libc::close(fds[0]);
                    let mut out = std::io::BufWriter::new(std::fs::File::from_raw_fd_compat(fds[1]));
                    for case in &cases[start..] {
                        self.run(case).write_to(&mut out).unwrap();
                    }
                    out.flush().unwrap();
                    libc::_exit(0);
                }
                libc::close(fds[1]);
                let mut input = std::io::BufReader::new(std::fs::File::from_raw_fd_compat(fds[0]));
                while outcomes.len() < cases.len() {
                    match Outcome::read_from(&mut input) {
                        Ok(o) => outcomes.push(o),
                        Err(_) => break,
                    }
                }
                let mut status = 0;
                libc::waitpid(pid, &mut status, 0);
            }
            if outcomes.len() < cases.len() {
                // The child died on this case without reporting it.
                outcomes.push(Outcome::crashed());
            }
        }
        outcomes
    }
}

impl Default for Native {
    fn default() -> Self {
        Self::new()
    }
}

trait FromRawFdCompat {
    fn from_raw_fd_compat(fd: i32) -> std::fs::File;
}

impl FromRawFdCompat for std::fs::File {
    fn from_raw_fd_compat(fd: i32) -> std::fs::File {
        use std::os::fd::FromRawFd;
        // SAFETY: `fd` is a fresh pipe end owned by the caller from here on.
        unsafe { std::fs::File::from_raw_fd(fd) }
    }
}

