/* Loads and stores that fault in the middle of a run of SSE arithmetic. Transit
 * keeps such a run's results in registers of its own until the run ends
 * (translator/src/emit/fp_chain.rs); a fault at a load inside it must
 * still show the handler every earlier instruction's result in its
 * register (x86's NaN where one was made), the faulting load's
 * destination untouched, RIP at the access, and MXCSR's flags as the
 * earlier instructions left them; and a handler that makes the page
 * readable and returns sees the run finish as it would have. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile uintptr_t got_rip, got_addr;
static volatile uint32_t got_mxcsr;
static uint64_t got_xmm[4][2];

/* Set: the handler makes the page readable and returns, so the load runs
 * again and the rest of the run goes on. */
static char *volatile resume_page;

static void handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    (void)sig;
    got_addr = (uintptr_t)si->si_addr;
    got_rip = uc->uc_mcontext.gregs[REG_RIP];
    got_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    memcpy(got_xmm, uc->uc_mcontext.fpregs->_xmm, sizeof got_xmm);
    if (resume_page) {
        mprotect(resume_page, 4096, PROT_READ);
        return;
    }
    siglongjmp(env, 1);
}

/* A run that faults at a load, resumed by the handler: the load runs
 * again, then two more links; every register stored to `out`. */
void resumed_run(const void *in, const void *page, void *out);
__asm__(".text\n"
        "resumed_run:\n"
        "  movdqu 0(%rdi), %xmm0\n"
        "  movdqu 16(%rdi), %xmm1\n"
        "  movdqu 32(%rdi), %xmm2\n"
        "  movdqu 48(%rdi), %xmm3\n"
        "  mulsd %xmm0, %xmm1\n"
        "  addsd %xmm1, %xmm2\n"
        "  addsd 8(%rsi), %xmm1\n"
        "  mulsd %xmm1, %xmm3\n"
        "  subsd %xmm2, %xmm3\n"
        "  movdqu %xmm0, 0(%rdx)\n"
        "  movdqu %xmm1, 16(%rdx)\n"
        "  movdqu %xmm2, 32(%rdx)\n"
        "  movdqu %xmm3, 48(%rdx)\n"
        "  ret\n");

static void resume(const uint64_t in[4]) {
    uint64_t regs[4][2], out[4][2];
    for (int i = 0; i < 4; i++) {
        regs[i][0] = in[i];
        regs[i][1] = 0x1111111100000000ull * (i + 1);
    }
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(page + 8, &in[3], 8);
    mprotect(page, 4096, PROT_NONE);
    resume_page = page;
    resumed_run(regs, page, out);
    resume_page = NULL;
    printf("resumed %016lx %016lx %016lx %016lx: addr %+ld", (unsigned long)in[0], (unsigned long)in[1], (unsigned long)in[2],
           (unsigned long)in[3], (long)(got_addr - (uintptr_t)page));
    for (int i = 0; i < 4; i++) {
        printf(" %016lx:%016lx", (unsigned long)out[i][1], (unsigned long)out[i][0]);
    }
    printf("\n");
    munmap(page, 4096);
}

/* Each takes the inputs (xmm0..xmm3, 16 bytes each) in %rdi and an
 * inaccessible address in %rsi, and never returns. */
void link_faults(const void *in, const void *bad);
void load_faults(const void *in, const void *bad);
void whole_load_faults(const void *in, const void *bad);
void copy_then_link_faults(const void *in, const void *bad);
void store_faults(const void *in, const void *bad);
void whole_store_faults(const void *in, const void *bad);
void through_faults(const void *in, const void *bad);
extern char link_fault[], load_fault[], whole_load_fault[], copy_link_fault[], store_fault[], whole_store_fault[], through_fault[];
__asm__(".text\n"
        "load_inputs:\n"
        "  movdqu 0(%rdi), %xmm0\n"
        "  movdqu 16(%rdi), %xmm1\n"
        "  movdqu 32(%rdi), %xmm2\n"
        "  movdqu 48(%rdi), %xmm3\n"
        "  ret\n"
        /* A link with a memory source after two links. */
        "link_faults:\n"
        "  call load_inputs\n"
        "  mulsd %xmm0, %xmm1\n"
        "  addsd %xmm1, %xmm2\n"
        "link_fault:\n"
        "  addsd (%rsi), %xmm1\n"
        "  ud2\n"
        /* A scalar load into a register a link wrote. */
        "load_faults:\n"
        "  call load_inputs\n"
        "  mulsd %xmm0, %xmm1\n"
        "  add $1, %rax\n"
        "  subsd %xmm1, %xmm3\n"
        "load_fault:\n"
        "  movsd (%rsi), %xmm1\n"
        "  ud2\n"
        /* A whole-register load after a loaded value was used. */
        "whole_load_faults:\n"
        "  call load_inputs\n"
        "  divsd %xmm0, %xmm2\n"
        "  movsd 8(%rdi), %xmm3\n"
        "  mulsd %xmm3, %xmm2\n"
        "whole_load_fault:\n"
        "  movupd (%rsi), %xmm0\n"
        "  ud2\n"
        /* A copy inside the run, then a faulting link. */
        "copy_then_link_faults:\n"
        "  call load_inputs\n"
        "  sqrtsd %xmm0, %xmm1\n"
        "  movapd %xmm1, %xmm2\n"
        "  mulsd %xmm3, %xmm2\n"
        "copy_link_fault:\n"
        "  mulsd 8(%rsi), %xmm2\n"
        "  ud2\n"
        /* A store that works, a link, then a store that faults. */
        "store_faults:\n"
        "  call load_inputs\n"
        "  mulsd %xmm0, %xmm1\n"
        "  movsd %xmm1, 0(%rdi)\n"
        "  addsd %xmm1, %xmm2\n"
        "store_fault:\n"
        "  movsd %xmm2, (%rsi)\n"
        "  ud2\n"
        /* A packed result stored whole, where the store faults. */
        "whole_store_faults:\n"
        "  call load_inputs\n"
        "  mulpd %xmm0, %xmm1\n"
        "  addsd %xmm1, %xmm2\n"
        "whole_store_fault:\n"
        "  movupd %xmm1, (%rsi)\n"
        "  ud2\n"
        /* A scalar load, then links whose results go straight to its
         * register (Transit writes them there), then a fault. */
        "through_faults:\n"
        "  call load_inputs\n"
        "  movsd 16(%rdi), %xmm1\n"
        "  mulsd %xmm0, %xmm1\n"
        "  addsd %xmm2, %xmm1\n"
        "through_fault:\n"
        "  addsd (%rsi), %xmm3\n"
        "  ud2\n");

static const uint64_t values[] = {
    0x3ff8000000000000, /* 1.5 */
    0xc000000000000000, /* -2 */
    0x0000000000000000, /* 0 */
    0x7ff0000000000000, /* inf */
    0xfff0000000000000, /* -inf */
    0x7ff8000000000123, /* QNaN with payload */
    0x7ff0000000000789, /* SNaN */
};
#define N (sizeof values / sizeof values[0])

static void run(const char *name, void (*f)(const void *, const void *), const char *label, const uint64_t in[4], const char *bad) {
    uint64_t regs[4][2];
    for (int i = 0; i < 4; i++) {
        regs[i][0] = in[i];
        regs[i][1] = 0x1111111100000000ull * (i + 1);
    }
    got_rip = got_addr = 0;
    unsigned clear = 0x1f80;
    __asm__ volatile("ldmxcsr %0" : : "m"(clear));
    if (!sigsetjmp(env, 1)) {
        f(regs, bad);
    }
    printf("%s %016lx %016lx %016lx %016lx: %s, addr %+ld, mxcsr flags %02x", name, (unsigned long)in[0], (unsigned long)in[1],
           (unsigned long)in[2], (unsigned long)in[3], got_rip == (uintptr_t)label ? "at the load" : "elsewhere",
           (long)(got_addr - (uintptr_t)bad), got_mxcsr & 0x3f);
    for (int i = 0; i < 4; i++) {
        printf(" %016lx:%016lx", (unsigned long)got_xmm[i][1], (unsigned long)got_xmm[i][0]);
    }
    printf("\n");
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (bad == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* Every input in each position against 1.5 elsewhere, and pairs that
     * make NaNs (0 * inf, inf - inf, sqrt(-2)). */
    for (unsigned v = 0; v < N; v++) {
        for (int pos = 0; pos < 4; pos++) {
            uint64_t in[4] = { values[0], values[0], values[0], values[0] };
            in[pos] = values[v];
            run("link", link_faults, link_fault, in, bad);
            run("load", load_faults, load_fault, in, bad);
            run("whole", whole_load_faults, whole_load_fault, in, bad);
            run("copy", copy_then_link_faults, copy_link_fault, in, bad);
            run("store", store_faults, store_fault, in, bad);
            run("whole store", whole_store_faults, whole_store_fault, in, bad);
            run("through", through_faults, through_fault, in, bad);
            resume(in);
        }
    }
    const uint64_t nan_makers[][4] = {
        { values[2], values[3], values[3], values[3] },
        { values[3], values[2], values[4], values[3] },
        { values[1], values[0], values[0], values[2] },
        { values[2], values[0], values[2], values[4] },
    };
    for (unsigned i = 0; i < sizeof nan_makers / sizeof nan_makers[0]; i++) {
        run("link", link_faults, link_fault, nan_makers[i], bad);
        run("load", load_faults, load_fault, nan_makers[i], bad);
        run("whole", whole_load_faults, whole_load_fault, nan_makers[i], bad);
        run("copy", copy_then_link_faults, copy_link_fault, nan_makers[i], bad);
        run("store", store_faults, store_fault, nan_makers[i], bad);
        run("whole store", whole_store_faults, whole_store_fault, nan_makers[i], bad);
        run("through", through_faults, through_fault, nan_makers[i], bad);
    }
    return 0;
}
