/* Real-time signal instances pending at an execve reach the next program
 * all, in the order sent. 24 instances of one real-time signal are queued
 * while it is blocked; on unblocking, the handler receives the first and
 * (with the signal blocked, as during any handler) executes the program
 * again, which takes the other 23 with sigtimedwait. A runtime that holds
 * some instances itself must hand them to the kernel ahead of the later
 * ones it left there. Also: signals 32 and 33, which glibc keeps for
 * itself, are real-time to the kernel, so their instances queue rather
 * than merge (sent blocked, then caught by a handler). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SENT 24

static int rt_signal(void) { return SIGRTMIN + 2; }

static char self[4096];

static void queue_self(int sig, int value) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = sig;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_int = value;
    /* The raw call: glibc's sigqueue refuses its own signals 32 and 33. */
    syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), sig, &info);
}

static int take_all(sigset_t *set, int *values, int max) {
    struct timespec none = {0, 0};
    siginfo_t info;
    int n = 0;
    while (n < max && sigtimedwait(set, &info, &none) > 0) values[n++] = info.si_value.sival_int;
    return n;
}

static void on_rt(int sig, siginfo_t *info, void *ctx) {
    (void)sig, (void)ctx;
    char first[16];
    snprintf(first, sizeof first, "%d", info->si_value.sival_int);
    execl(self, self, "again", first, (char *)NULL);
    _exit(3);
}

/* glibc's sigaction refuses 32 and 33, so this installs a handler with the
 * raw call and its own sigreturn trampoline. */
struct kernel_sigaction {
    void (*handler)(int, siginfo_t *, void *);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};
void internal_restorer(void);
__asm__(".text\ninternal_restorer:\n mov $15, %eax\n syscall\n hlt\n");

static int internal_values[2][8], internal_count[2];

static void on_internal(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    int *n = &internal_count[sig - 32];
    if (*n < 8) internal_values[sig - 32][(*n)++] = info->si_value.sival_int;
}

/* 32 and 33: three instances each, sent blocked, then unblocked: all
 * three arrive, in order, 32's first. */
static void internal_signals(void) {
    unsigned long both = 3ul << 31;
    struct kernel_sigaction act = {on_internal, SA_SIGINFO | 0x04000000 /* SA_RESTORER */, internal_restorer, both};
    for (int sig = 32; sig <= 33; sig++)
        if (syscall(SYS_rt_sigaction, sig, &act, NULL, 8) != 0) perror("rt_sigaction");
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &both, NULL, 8);
    for (int i = 0; i < 3; i++) {
        queue_self(33, 330 + i);
        queue_self(32, 320 + i);
    }
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &both, NULL, 8);
    for (int sig = 32; sig <= 33; sig++) {
        printf("signal %d:", sig);
        for (int i = 0; i < internal_count[sig - 32]; i++) printf(" %d", internal_values[sig - 32][i]);
        printf("\n");
    }
}

int main(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[1], "again") == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, rt_signal());
        int values[SENT * 2];
        int n = take_all(&set, values, SENT * 2);
        printf("after execve: first %s, then %d more:", argv[2], n);
        int in_order = 1;
        for (int i = 0; i < n; i++) {
            printf(" %d", values[i]);
            in_order &= values[i] == i + 1;
        }
        printf("\n%s\n", in_order && n == SENT - 1 ? "every instance, in order" : "LOST OR REORDERED");
        internal_signals();
        return 0;
    }
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return 1;
    self[len] = 0;
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = on_rt;
    act.sa_flags = SA_SIGINFO;
    sigaction(rt_signal(), &act, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, rt_signal());
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int i = 0; i < SENT; i++) queue_self(rt_signal(), i);
    fflush(stdout);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("not executed\n");
    return 2;
}
