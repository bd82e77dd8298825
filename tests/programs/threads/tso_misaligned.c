/* Misaligned loads and stores once a second thread exists, when Transit
 * keeps x86's memory order: its ordered accesses need natural alignment,
 * so a misaligned one takes another path (out of line). The values must be
 * x86's, and a fault on that path must be reported at the instruction that
 * made the access. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static void *nothing(void *arg) { return arg; }

/* The faulting instructions, labelled (once: main is not inlined). */
extern const char load_insn[], store_insn[];

static sigjmp_buf recover;
static volatile uintptr_t fault_rip, fault_addr;

static void on_segv(int sig, siginfo_t *info, void *context) {
    (void)sig;
    fault_rip = ((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP];
    fault_addr = (uintptr_t)info->si_addr;
    siglongjmp(recover, 1);
}

int main(void) {
    /* A second thread: from here on memory accesses are ordered. */
    pthread_t t;
    pthread_create(&t, NULL, nothing, NULL);
    pthread_join(t, NULL);

    static unsigned char buf[256];
    for (int i = 0; i < 256; i++) buf[i] = (unsigned char)(i * 37 + 11);
    uint64_t sum = 0;
    for (int off = 0; off < 16; off++) {
        volatile uint64_t *q = (volatile uint64_t *)(buf + 8 + off);
        volatile uint32_t *d = (volatile uint32_t *)(buf + 64 + off);
        volatile uint16_t *w = (volatile uint16_t *)(buf + 128 + off);
        sum = sum * 31 + *q + *d + *w;
        *q = sum;
        *d = (uint32_t)(sum >> 7);
        *w = (uint16_t)(sum >> 3);
    }
    for (int i = 0; i < 256; i++) sum = sum * 131 + buf[i];
    printf("misaligned values: %016llx\n", (unsigned long long)sum);

    /* A misaligned 8-byte access crossing into an inaccessible page. */
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(two + page, page, PROT_NONE);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    unsigned char *crossing = two + page - 4;
    uint64_t value = 0;
    if (!sigsetjmp(recover, 1)) {
        __asm__ volatile(".globl load_insn\nload_insn: mov (%1), %0" : "=r"(value) : "r"(crossing) : "memory");
        printf("the load did not fault\n");
    }
    printf("load faults at its instruction: %d, in the inaccessible page: %d\n", fault_rip == (uintptr_t)load_insn,
           fault_addr >= (uintptr_t)(two + page) - 4 && fault_addr < (uintptr_t)(two + 2 * page));
    if (!sigsetjmp(recover, 1)) {
        __asm__ volatile(".globl store_insn\nstore_insn: mov %1, (%0)" : : "r"(crossing), "r"(value) : "memory");
        printf("the store did not fault\n");
    }
    printf("store faults at its instruction: %d, page before untouched: %d\n", fault_rip == (uintptr_t)store_insn,
           crossing[0] == 0 && crossing[3] == 0);
    return 0;
}
