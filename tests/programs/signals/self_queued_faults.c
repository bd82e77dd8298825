/* Fault signals a process queues to itself with a fault's si_code
 * (rt_sigqueueinfo and rt_tgsigqueueinfo allow si_code > 0 only towards
 * oneself): no instruction faulted, and the handler gets the siginfo as
 * sent. Under Transit these arrive in its own code, just after the
 * syscall, where a fault would be Transit's own; the syscall fuzzer found
 * that Transit took them for one and died. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int got_sig, got_code;
static void *volatile got_addr;

static void handler(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    got_sig = sig;
    got_code = info->si_code;
    got_addr = info->si_addr;
}

int main(void) {
    const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
    const int codes[] = {SEGV_MAPERR, BUS_ADRALN, ILL_ILLOPC, FPE_INTDIV, TRAP_BRKPT};
    const char *names[] = {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP"};
    for (int i = 0; i < 5; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = handler;
        sa.sa_flags = SA_SIGINFO;
        sigaction(sigs[i], &sa, NULL);
        for (int thread = 0; thread < 2; thread++) {
            siginfo_t info;
            memset(&info, 0, sizeof info);
            info.si_signo = sigs[i];
            info.si_code = codes[i];
            info.si_addr = (void *)(0x1000UL * (i + 1) + thread);
            got_sig = got_code = 0;
            long r = thread ? syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sigs[i], &info)
                            : syscall(SYS_rt_sigqueueinfo, getpid(), sigs[i], &info);
            printf("%s %s: sent %s, handler saw signal %s, si_code %d, si_addr %p\n", names[i],
                   thread ? "to the thread" : "to the process", r == 0 ? "ok" : "FAILED",
                   got_sig == sigs[i] ? "right" : "WRONG", got_code, got_addr);
        }
    }
    return 0;
}
