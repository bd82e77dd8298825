/* Pending signals, and pending signals across execve. Signals blocked and
 * sent to the program itself must show in rt_sigpending and arrive, with
 * their siginfo, once unblocked; those pending at an execve must still be
 * pending in the new program (the kernel keeps them and the mask).
 * The program first does this without an execve for the fault signals
 * (SIGSEGV, SIGBUS, SIGILL, SIGFPE), which Transit holds itself rather
 * than the host, as translated code raises them. Then it executes itself
 * with SIGTRAP (also held by Transit), SIGUSR1 and three instances of
 * real-time signal 40 pending. The four fault signals stay out of the
 * execve: qemu-user 7.2, which runs Transit in the tests, kills any program
 * it starts with one of them pending (a pending SIGILL kills a static
 * aarch64 hello under plain qemu-aarch64-static).
 * `exec_pending LAUNCHER` makes the execve run `LAUNCHER SELF again`: under
 * Transit, with Transit itself as the launcher, the kernel completes that
 * execve (an aarch64 program), not Transit. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RT_SIGNAL 40

#define RT_SIGNAL 40

static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
static const int across_exec[] = {SIGTRAP, SIGUSR1, RT_SIGNAL};
#define COUNT(a) (int)(sizeof a / sizeof *a)

static unsigned long pending_set(void) {
    unsigned long set = 0;
    syscall(SYS_rt_sigpending, &set, 8);
    return set;
}

static void show_pending(const char *when) {
    unsigned long set = pending_set();
    printf("%s: pending", when);
    for (int sig = 1; sig <= 64; sig++)
        if (set >> (sig - 1) & 1) printf(" %d", sig);
    printf("\n");
}

static void change_mask(int how, const int *signals, int n) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < n; i++) sigaddset(&set, signals[i]);
    sigprocmask(how, &set, NULL);
}

/* What the handlers saw, printed in signal order afterwards (the order in
 * which different signals arrive is the kernel's choice). */
static volatile int arrivals[65];
static volatile int code_of[65];
static volatile int from_self[65];
static volatile int rt_values[8];
static volatile int rt_count;

static void on_signal(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    arrivals[sig]++;
    code_of[sig] = info->si_code;
    from_self[sig] = info->si_pid == getpid();
    if (sig == RT_SIGNAL && rt_count < 8) rt_values[rt_count++] = info->si_value.sival_int;
}

static void catch(int sig) {
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = on_signal;
    act.sa_flags = SA_SIGINFO;
    sigaction(sig, &act, NULL);
}

static void tkill_self(int sig) {
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

static void queue_self(int sig, int value) {
    union sigval v;
    v.sival_int = value;
    sigqueue(getpid(), sig, v);
}

/* Catches and unblocks `signals`, then reports what arrived. */
static void receive(const int *signals, int n) {
    for (int i = 0; i < n; i++) catch(signals[i]);
    change_mask(SIG_UNBLOCK, signals, n);
    show_pending("after unblocking");
    for (int sig = 1; sig <= 64; sig++)
        if (arrivals[sig])
            printf("signal %d arrived %d time(s), si_code %d, from this process %s\n", sig, arrivals[sig],
                   code_of[sig], from_self[sig] ? "yes" : "no");
    if (rt_count) {
        printf("real-time values in order:");
        for (int i = 0; i < rt_count; i++) printf(" %d", rt_values[i]);
        printf("\n");
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "again") == 0) {
        show_pending("after execve");
        receive(across_exec, COUNT(across_exec));
        return 0;
    }
    change_mask(SIG_BLOCK, faults, COUNT(faults));
    show_pending("fault signals blocked");
    kill(getpid(), SIGSEGV);
    tkill_self(SIGBUS);
    kill(getpid(), SIGILL);
    /* A second SIGILL merges into the first, as on the kernel. */
    kill(getpid(), SIGILL);
    queue_self(SIGFPE, 7);
    show_pending("fault signals sent");
    receive(faults, COUNT(faults));
    memset((void *)arrivals, 0, sizeof arrivals);

    change_mask(SIG_BLOCK, across_exec, COUNT(across_exec));
    tkill_self(SIGTRAP);
    raise(SIGUSR1);
    for (int i = 1; i <= 3; i++) queue_self(RT_SIGNAL, i * 100);
    show_pending("before execve");
    fflush(stdout);
    const char *launcher = argc > 1 ? argv[1] : NULL;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    if (launcher)
        execl(launcher, launcher, self, "again", (char *)NULL);
    else
        execl(self, argv[0], "again", (char *)NULL);
    perror("execl");
    return 1;
}
