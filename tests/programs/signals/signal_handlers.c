/* Guest signal handlers: SA_SIGINFO arguments, masks while a handler runs,
 * SA_NODEFER, SA_RESETHAND, blocking and pending signals, sigsuspend, and a
 * handler that changes the interrupted context's registers. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int hits, depth, max_depth, raises;
static volatile int seen_code, seen_signo, blocked_inside, args_ok, aligned;

static void info_handler(int sig, siginfo_t *si, void *ctx) {
    ucontext_t *uc = ctx;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    (void)sp;
    hits++;
    seen_signo = si->si_signo;
    seen_code = si->si_code;
    args_ok = sig == si->si_signo && uc != NULL && (void *)si > (void *)&sig;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    blocked_inside = sigismember(&now, sig) * 10 + sigismember(&now, SIGUSR2);
}

static void nested_handler(int sig) {
    (void)sig;
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    if (raises < 2) {
        raises++;
        raise(SIGUSR1);
    }
    depth--;
}

static void count_handler(int sig) {
    (void)sig;
    hits++;
}

static volatile long long rax_seen;
static void rewrite_handler(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    /* The interrupted code is the raw kill syscall below: change the value it
     * will see as the syscall's result. */
    rax_seen = uc->uc_mcontext.gregs[REG_RAX];
    uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);

    raise(SIGUSR1);
    printf("raise: hits=%d signo=%d code=%d (SI_TKILL=%d) args_ok=%d blocked(self,usr2)=%d\n", hits, seen_signo,
           seen_code, SI_TKILL, args_ok, blocked_inside);
    kill(getpid(), SIGUSR1);
    printf("kill: hits=%d code=%d (SI_USER=%d)\n", hits, seen_code, SI_USER);
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 7});
    printf("sigqueue: hits=%d code=%d (SI_QUEUE=%d)\n", hits, seen_code, SI_QUEUE);

    /* Without SA_NODEFER the signal is blocked in its own handler: raising it
     * there only marks it pending, it runs after the handler returns. */
    sa.sa_handler = nested_handler;
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    max_depth = 0;
    raises = 0;
    raise(SIGUSR1);
    printf("deferred: max depth %d\n", max_depth);
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGUSR1, &sa, NULL);
    max_depth = 0;
    raises = 0;
    raise(SIGUSR1);
    printf("nodefer: max depth %d\n", max_depth);

    /* SA_RESETHAND: the first delivery restores SIG_DFL. */
    sa.sa_handler = count_handler;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    hits = 0;
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    printf("resethand: hits=%d handler is default: %d\n", hits, now.sa_handler == SIG_DFL);

    /* Blocked signals wait; unblocking delivers them. */
    sa.sa_flags = 0;
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t block, old, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, &old);
    hits = 0;
    raise(SIGUSR2);
    sigpending(&pending);
    printf("blocked: hits=%d pending=%d\n", hits, sigismember(&pending, SIGUSR2));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: hits=%d\n", hits);

    /* sigsuspend waits with a temporary mask. */
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR2);
    sigset_t wait_mask;
    sigemptyset(&wait_mask);
    int r = sigsuspend(&wait_mask);
    printf("sigsuspend: r=%d hits=%d\n", r, hits);
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* SIG_IGN drops the signal. */
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    printf("ignored: still here, hits=%d\n", hits);

    /* A handler may rewrite the interrupted registers. */
    sa.sa_sigaction = rewrite_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    long ret = syscall(SYS_kill, getpid(), SIGUSR1);
    printf("rewritten: syscall returned %ld, handler saw rax=%lld\n", ret, rax_seen);

    /* The default action of SIGTERM ends the process by it. */
    printf("now dying by SIGTERM\n");
    fflush(stdout);
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    printf("not reached\n");
    return 0;
}
