/* Faults in instructions Transit runs in its interpreter (string compares,
 * x87, fxsave, 64-bit memory division) reach the guest's SIGSEGV handler
 * like any other, with a repeated string instruction's registers showing
 * how far it got. */
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
static volatile int got_code;
static volatile uintptr_t got_addr;
static volatile long long rcx_at_fault, rsi_moved, rdi_moved;
static uintptr_t rsi_start, rdi_start;

static void handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    (void)sig;
    got_code = si->si_code;
    got_addr = (uintptr_t)si->si_addr;
    rcx_at_fault = uc->uc_mcontext.gregs[REG_RCX];
    rsi_moved = uc->uc_mcontext.gregs[REG_RSI] - (long long)rsi_start;
    rdi_moved = uc->uc_mcontext.gregs[REG_RDI] - (long long)rdi_start;
    siglongjmp(env, 1);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    long page = sysconf(_SC_PAGESIZE);
    char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(two + page, page, PROT_NONE);
    char *end = two + page; /* inaccessible from here */
    char src[64];
    memset(src, 'x', sizeof src);
    memset(end - 8, 'x', 8);

    rsi_start = (uintptr_t)src;
    rdi_start = (uintptr_t)(end - 8);
    if (!sigsetjmp(env, 1)) {
        __asm__ volatile("cld\n\trepe cmpsb" : : "S"(src), "D"(end - 8), "c"(64L) : "memory", "cc");
    }
    printf("repe cmpsb: code=%d at end+%ld, rcx=%lld rsi+%lld rdi+%lld\n", got_code, (long)(got_addr - (uintptr_t)end),
           rcx_at_fault, rsi_moved, rdi_moved);

    if (!sigsetjmp(env, 1)) {
        long double v;
        __asm__ volatile("fldt %1\n\tfstpt %0" : "=m"(v) : "m"(*(long double *)(end + 16)));
    }
    printf("fldt: code=%d at end+%ld\n", got_code, (long)(got_addr - (uintptr_t)end));

    char *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!sigsetjmp(env, 1)) {
        __asm__ volatile("fxsave64 %0" : "=m"(*(char(*)[512])(ro + 1024)));
    }
    /* Which byte a CPU reports for a faulting fxsave is its own choice. */
    printf("fxsave to read-only: code=%d in the 512 bytes: %d\n", got_code,
           got_addr >= (uintptr_t)ro + 1024 && got_addr < (uintptr_t)ro + 1536);

    if (!sigsetjmp(env, 1)) {
        unsigned long q, r;
        __asm__ volatile("divq %4" : "=a"(q), "=d"(r) : "a"(10UL), "d"(0UL), "m"(*(unsigned long *)(end + 64)));
    }
    printf("div from unmapped: code=%d at end+%ld\n", got_code, (long)(got_addr - (uintptr_t)end));
    return 0;
}
