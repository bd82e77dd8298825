/* Two pushes or two pops in a row where only the second access faults
 * (the pair straddles the end of the stack's mapping): x86 has done the
 * first, so the handler finds RIP at the second instruction, RSP moved by
 * 8, and the first push's value stored (the first pop's register loaded).
 * When the first access faults, nothing has moved. Transit runs such
 * pairs as one aarch64 stp/ldp. */
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
static volatile uintptr_t got_rip, got_rsp, got_addr, got_rbx, got_r12;

static void handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    (void)sig;
    got_addr = (uintptr_t)si->si_addr;
    got_rip = uc->uc_mcontext.gregs[REG_RIP];
    got_rsp = uc->uc_mcontext.gregs[REG_RSP];
    got_rbx = uc->uc_mcontext.gregs[REG_RBX];
    got_r12 = uc->uc_mcontext.gregs[REG_R12];
    siglongjmp(env, 1);
}

/* Each takes the stack pointer to use in %rdi and never returns. */
void push_pair(uintptr_t sp);
void pop_pair(uintptr_t sp);
extern char push_first[], push_second[], pop_first[], pop_second[];
__asm__(".text\n"
        "push_pair:\n"
        "  mov %rdi, %rsp\n"
        "  mov $0x1111, %rbx\n"
        "  mov $0x2222, %r12\n"
        "push_first:\n"
        "  push %rbx\n"
        "push_second:\n"
        "  push %r12\n"
        "  ud2\n"
        "pop_pair:\n"
        "  mov %rdi, %rsp\n"
        "  xor %ebx, %ebx\n"
        "  xor %r12d, %r12d\n"
        "pop_first:\n"
        "  pop %rbx\n"
        "pop_second:\n"
        "  pop %r12\n"
        "  ud2\n");

static const char *where(uintptr_t rip) {
    return rip == (uintptr_t)push_first    ? "first push"
           : rip == (uintptr_t)push_second ? "second push"
           : rip == (uintptr_t)pop_first   ? "first pop"
           : rip == (uintptr_t)pop_second  ? "second pop"
                                           : "elsewhere";
}

static void run(const char *what, void (*f)(uintptr_t), uintptr_t sp) {
    got_rip = got_rsp = got_addr = got_rbx = got_r12 = 0;
    if (!sigsetjmp(env, 1)) {
        f(sp);
    }
    printf("%s: fault at the %s, rsp %+ld, addr %+ld from rsp, rbx=%#lx r12=%#lx\n", what, where(got_rip), (long)(got_rsp - sp),
           (long)(got_addr - sp), (unsigned long)got_rbx, (unsigned long)got_r12);
}

int main(void) {
    static char altstack[1 << 16];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);

    /* Three pages: no access, read-write, no access. */
    long page = sysconf(_SC_PAGESIZE);
    char *region = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(region, page, PROT_NONE);
    mprotect(region + 2 * page, page, PROT_NONE);
    uintptr_t low = (uintptr_t)(region + page), high = (uintptr_t)(region + 2 * page);

    /* The first push fits, the second falls below the page. */
    run("push pair, second faults", push_pair, low + 8);
    printf("  first push stored %#lx\n", *(unsigned long *)low);
    run("push pair, first faults", push_pair, low);
    /* The first pop reads the page's last word, the second the next page. */
    *(unsigned long *)(high - 8) = 0x3333;
    run("pop pair, second faults", pop_pair, high - 8);
    run("pop pair, first faults", pop_pair, high);
    return 0;
}
