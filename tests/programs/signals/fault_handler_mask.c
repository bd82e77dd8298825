/* The mask a fault signal's handler runs under: its sa_mask plus the
 * signal itself (no SA_NODEFER), as for any other signal. SBCL checks this
 * in its SIGTRAP handler (int3 ends its pseudo-atomic sections) and dies
 * with "blockables unblocked" if not. Checked for int3 (SIGTRAP), ud2
 * (SIGILL), a null write (SIGSEGV) and a division by zero (SIGFPE), and
 * the mask after each handler returns or jumps out. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf out;
static volatile int zero;

static void show(const char *when) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("  %s: USR1 %s, ALRM %s, TRAP %s, ILL %s, SEGV %s, FPE %s\n", when,
           sigismember(&cur, SIGUSR1) ? "blocked" : "open", sigismember(&cur, SIGALRM) ? "blocked" : "open",
           sigismember(&cur, SIGTRAP) ? "blocked" : "open", sigismember(&cur, SIGILL) ? "blocked" : "open",
           sigismember(&cur, SIGSEGV) ? "blocked" : "open", sigismember(&cur, SIGFPE) ? "blocked" : "open");
}

static void on_fault(int sig, siginfo_t *si, void *ctx) {
    (void)si;
    printf("signal %d\n", sig);
    show("in the handler");
    ucontext_t *uc = ctx;
    if (sig == SIGILL)
        uc->uc_mcontext.gregs[REG_RIP] += 2; /* past ud2 */
    if (sig == SIGSEGV || sig == SIGFPE)
        siglongjmp(out, 1);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaddset(&sa.sa_mask, SIGALRM);
    for (int sig = 1; sig < 32; sig++)
        if (sig == SIGTRAP || sig == SIGILL || sig == SIGSEGV || sig == SIGFPE)
            sigaction(sig, &sa, NULL);
    __asm__ volatile("int3");
    show("after int3");
    __asm__ volatile("ud2");
    show("after ud2");
    if (sigsetjmp(out, 1) == 0)
        *(volatile int *)(long)zero = 1;
    show("after the null write");
    if (sigsetjmp(out, 1) == 0) {
        int quotient = 1, high = 0, divisor = zero;
        __asm__ volatile("idivl %2" : "+a"(quotient), "+d"(high) : "r"(divisor));
        printf("no fault: %d\n", quotient);
    }
    show("after the division");
    return 0;
}
