/* Dispositions change while signals fly: one thread raises SIGUSR1 (and
 * SIGWINCH) in a loop while the main thread switches SIGUSR1 between a
 * handler and SIG_IGN, and SIGWINCH between a handler and SIG_DFL (whose
 * default ignores it), thousands of times. Nothing may crash, every signal
 * raised while the handler was installed may run it, none raised while
 * ignored may, and once ignored for good the raises change nothing. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FLIPS 4000

static atomic_int stop, raised;
static atomic_int usr1_handled, winch_handled;

static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&usr1_handled, 1);
}

static void on_winch(int sig) {
    (void)sig;
    atomic_fetch_add(&winch_handled, 1);
}

static void *raiser(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        raise(SIGUSR1);
        raise(SIGWINCH);
        atomic_fetch_add(&raised, 1);
    }
    return NULL;
}

static pid_t main_tid;

/* Sends ignored signals to the main thread while it sleeps. */
static void *poke_main(void *arg) {
    (void)arg;
    struct timespec gap = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 5; i++) {
        nanosleep(&gap, NULL);
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
        syscall(SYS_tgkill, getpid(), main_tid, SIGWINCH);
    }
    return NULL;
}

static void set(int sig, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(sig, &sa, NULL);
}

int main(void) {
    main_tid = syscall(SYS_gettid);
    set(SIGUSR1, on_usr1);
    set(SIGWINCH, on_winch);
    pthread_t t;
    pthread_create(&t, NULL, raiser, NULL);
    int flips = 0;
    for (; flips < FLIPS || atomic_load(&raised) < 100 || atomic_load(&usr1_handled) == 0; flips++) {
        set(SIGUSR1, SIG_IGN);
        set(SIGWINCH, SIG_DFL);
        set(SIGUSR1, on_usr1);
        set(SIGWINCH, on_winch);
        if (flips > 50 * FLIPS)
            break;
    }
    /* Ignored for good: raises from now on reach no handler. */
    set(SIGUSR1, SIG_IGN);
    set(SIGWINCH, SIG_DFL);
    /* Handlers run inside raise(): two more raises, and those of signals
     * raised before are over. */
    int raised_before = atomic_load(&raised);
    while (atomic_load(&raised) < raised_before + 2)
        ;
    int usr1_before = atomic_load(&usr1_handled), winch_before = atomic_load(&winch_handled);
    raised_before = atomic_load(&raised);
    while (atomic_load(&raised) < raised_before + 200)
        ;
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("switched %s%d times, signals raised: %s\n", flips >= FLIPS ? "at least " : "", FLIPS,
           atomic_load(&raised) >= 100 ? "at least 100" : "too few");
    printf("SIGUSR1 handled while caught: %s\n", usr1_before > 0 ? "yes" : "no");
    printf("handled after ignoring for good: SIGUSR1 %d, SIGWINCH %d\n", atomic_load(&usr1_handled) - usr1_before,
           atomic_load(&winch_handled) - winch_before);
    /* A sleep is not interrupted by signals the guest ignores, nor cut short. */
    pthread_create(&t, NULL, poke_main, NULL);
    struct timespec ts = {0, 60 * 1000 * 1000}, start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int slept = nanosleep(&ts, NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(t, NULL);
    long ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
    printf("nanosleep while ignored signals arrive: %d, slept the whole time: %s\n", slept, ms >= 60 ? "yes" : "no");
    return 0;
}
