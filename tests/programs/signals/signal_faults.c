/* Synchronous faults reach guest handlers with x86_64 siginfo and context:
 * SIGSEGV (unmapped and read-only pages), SIGFPE (#DE), SIGILL (ud2),
 * SIGTRAP (int3), and a handler that resumes after the faulting
 * instruction by moving REG_RIP. */
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
static volatile int got_sig, got_code;
static void *volatile got_addr;
static volatile uintptr_t got_rip;

static void jump_handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    got_rip = uc->uc_mcontext.gregs[REG_RIP];
    siglongjmp(env, 1);
}

/* The faulting load is `movl (%rax), %eax` (2 bytes): skip it and report. */
static void skip_handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    got_sig = sig;
    got_addr = si->si_addr;
    uc->uc_mcontext.gregs[REG_RIP] += 2;
    uc->uc_mcontext.gregs[REG_RAX] = 77;
}

/* Records the flags at the fault, then skips the 2-byte faulting load. */
static volatile long long flags_at_fault;
static void flags_handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    (void)sig;
    (void)si;
    /* Only flags read after the fault: Transit computes no others (PF, AF). */
    flags_at_fault = uc->uc_mcontext.gregs[REG_EFL] & 0x8c1; /* OF SF ZF CF */
    uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void install(int sig, void (*h)(int, siginfo_t *, void *)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

extern char ud2_at[], int3_after[], div_at[];

int main(void) {
    install(SIGSEGV, jump_handler);
    install(SIGFPE, jump_handler);
    install(SIGILL, jump_handler);
    install(SIGTRAP, jump_handler);
    long pagesz = sysconf(_SC_PAGESIZE);

    if (!sigsetjmp(env, 1)) {
        *(volatile int *)16 = 1;
    }
    printf("null write: sig=%d code=%d (MAPERR=%d) addr=%#lx\n", got_sig, got_code, SEGV_MAPERR, (unsigned long)got_addr);

    char *ro = mmap(NULL, pagesz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!sigsetjmp(env, 1)) {
        ro[100] = 1;
    }
    printf("read-only write: sig=%d code=%d (ACCERR=%d) offset=%ld\n", got_sig, got_code, SEGV_ACCERR,
           (long)((char *)got_addr - ro));

    char *gone = mmap(NULL, pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, pagesz);
    if (!sigsetjmp(env, 1)) {
        (void)*(volatile char *)(gone + 8);
    }
    printf("unmapped read: sig=%d code=%d offset=%ld\n", got_sig, got_code, (long)((char *)got_addr - gone));

    if (!sigsetjmp(env, 1)) {
        __asm__ volatile("xor %%edx, %%edx\n\txor %%ecx, %%ecx\n\tmov $5, %%eax\n"
                         "div_at: divl %%ecx" ::: "eax", "ecx", "edx");
    }
    printf("divide: sig=%d code=%d (INTDIV=%d) addr is insn: %d rip is insn: %d\n", got_sig, got_code, FPE_INTDIV,
           got_addr == (void *)div_at, got_rip == (uintptr_t)div_at);

    if (!sigsetjmp(env, 1)) {
        __asm__ volatile("ud2_at: ud2");
    }
    printf("ud2: sig=%d code=%d (ILLOPN=%d) addr is insn: %d rip is insn: %d\n", got_sig, got_code, ILL_ILLOPN,
           got_addr == (void *)ud2_at, got_rip == (uintptr_t)ud2_at);

    if (!sigsetjmp(env, 1)) {
        __asm__ volatile("int3\nint3_after: nop");
    }
    printf("int3: sig=%d code=%d (SI_KERNEL=%d) rip after insn: %d\n", got_sig, got_code, SI_KERNEL,
           got_rip == (uintptr_t)int3_after);

    /* Resume after the faulting instruction with a value chosen by the handler. */
    install(SIGSEGV, skip_handler);
    got_sig = 0;
    int value;
    __asm__ volatile("xor %%eax, %%eax\n\tmovl (%%rax), %%eax" : "=a"(value)::"memory");
    printf("skipped load: sig=%d value=%d addr=%#lx\n", got_sig, value, (unsigned long)got_addr);

    /* The flags an add left (carry and zero, read again after the fault)
     * appear in the context at the fault. */
    install(SIGSEGV, flags_handler);
    unsigned char cf_after, zf_after;
    __asm__ volatile("xor %%eax, %%eax\n\tmov $-1, %%rcx\n\tadd $1, %%rcx\n\t"
                     "movl (%%rax), %%eax\n\tsetc %0\n\tsetz %1"
                     : "=r"(cf_after), "=r"(zf_after)::"rax", "rcx", "memory", "cc");
    printf("flags at fault: %#llx, after: cf=%d zf=%d\n", flags_at_fault, cf_after, zf_after);
    __asm__ volatile("xor %%eax, %%eax\n\tmov $1, %%rcx\n\tsub $2, %%rcx\n\t"
                     "movl (%%rax), %%eax\n\tsetc %0\n\tsets %1"
                     : "=r"(cf_after), "=r"(zf_after)::"rax", "rcx", "memory", "cc");
    printf("flags at fault: %#llx, after: cf=%d sf=%d\n", flags_at_fault, cf_after, zf_after);

    /* Faults inside a loop that has run many times (chained translated code). */
    install(SIGSEGV, jump_handler);
    volatile int *slots[64];
    for (int i = 0; i < 64; i++)
        slots[i] = (i == 50) ? (volatile int *)8 : &value;
    int sum = 0, reached = 0;
    if (!sigsetjmp(env, 1)) {
        for (int round = 0; round < 1000; round++)
            for (int i = 0; i < 64; i++) {
                reached = round * 64 + i;
                sum += *slots[i] + (round < 999 || i < 50 ? 0 : 0);
                if (round < 999 && i == 49)
                    break;
            }
    }
    printf("loop fault: sig=%d reached=%d addr=%#lx\n", got_sig, reached, (unsigned long)got_addr);
    return 0;
}
