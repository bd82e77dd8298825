/* Jumping to memory that cannot be fetched: the guest gets SIGSEGV with
 * the address that failed (for an instruction crossing into an unmapped
 * page, that page's first byte) and RIP at the instruction. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf back;
static volatile uintptr_t fault_addr, fault_rip;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    fault_addr = (uintptr_t)si->si_addr;
    fault_code = si->si_code;
    fault_rip = ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
    siglongjmp(back, 1);
}

static void call_at(const char *what, uintptr_t target, uintptr_t base) {
    if (sigsetjmp(back, 1) == 0) {
        ((void (*)(void))target)();
        printf("%s: returned\n", what);
        return;
    }
    printf("%s: SIGSEGV %s, addr %s+%#lx, rip %s\n", what, fault_code == SEGV_MAPERR ? "MAPERR" : "ACCERR",
           base ? "base" : "0", (unsigned long)(fault_addr - base), fault_rip == target ? "at the target" : "elsewhere");
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    call_at("null page", 0xc7, 0);
    unsigned char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 4096, 4096);
    mprotect(p + 2 * 4096, 4096, PROT_NONE);
    uintptr_t base = (uintptr_t)p;
    call_at("unmapped page", base + 4096, base);
    call_at("PROT_NONE page", base + 2 * 4096 + 16, base);
    /* mov eax, imm32 (5 bytes) with its last 3 bytes past the page end. */
    unsigned char *at = p + 4096 - 2;
    at[0] = 0xb8;
    at[1] = 0x11;
    call_at("instruction crossing into an unmapped page", (uintptr_t)at, base);
    /* A complete instruction right before the page end runs; the next one faults. */
    at = p + 4096 - 1;
    at[0] = 0x90;
    call_at("nop at the page end, then unmapped", (uintptr_t)at, base);
    return 0;
}
