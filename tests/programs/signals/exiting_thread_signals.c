/* Signals waiting for a thread that exits. The main thread blocks SIGBUS
 * and SIGSEGV, sends SIGBUS to the process (kill) and SIGSEGV to itself
 * (raise: tgkill), then exits with pthread_exit while a second thread,
 * which blocks neither, waits. Linux gives the process's SIGBUS to the
 * thread that can take it; the SIGSEGV sent to the main thread alone goes
 * with it. (Transit holds a blocked fault signal in its own queue rather
 * than the kernel's: its thread exit must hand that SIGBUS on.)
 * Then the same with a burst of SIGUSR1 and a real-time signal sent to the
 * process while the second thread exits: each must reach the main thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int bus_seen, segv_seen, bus_code, bus_from_self;
static atomic_int usr1_seen, rt_seen;

static void on_bus(int sig, siginfo_t *info, void *ctx) {
    (void)sig, (void)ctx;
    atomic_store(&bus_code, info->si_code);
    atomic_store(&bus_from_self, info->si_pid == getpid());
    atomic_fetch_add(&bus_seen, 1);
}

static void on_segv(int sig) {
    (void)sig;
    atomic_fetch_add(&segv_seen, 1);
}

static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&usr1_seen, 1);
}

static void on_rt(int sig) {
    (void)sig;
    atomic_fetch_add(&rt_seen, 1);
}

static void pause_ms(int ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits up to 5 s for *counter to reach want. */
static int wait_for(atomic_int *counter, int want) {
    for (int i = 0; i < 500 && atomic_load(counter) < want; i++) pause_ms(10);
    return atomic_load(counter);
}

static void *survivor(void *arg) {
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    int bus = wait_for(&bus_seen, 1);
    pause_ms(100); /* a SIGSEGV wrongly handed on would arrive by now */
    printf("the process's SIGBUS reached the surviving thread: %d time(s), si_code %d, from this process: %s\n", bus,
           atomic_load(&bus_code), atomic_load(&bus_from_self) ? "yes" : "no");
    printf("the SIGSEGV sent to the exited thread alone ran a handler: %d time(s)\n", atomic_load(&segv_seen));
    fflush(stdout);
    exit(0);
}

/* Part two: a thread that exits while the process receives signals that
 * only it leaves unblocked until its last moment. */
static void *exiting(void *arg) {
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    for (int i = 0; i < 3; i++) kill(getpid(), SIGUSR1);
    union sigval v = {.sival_int = 7};
    sigqueue(getpid(), SIGRTMIN + 2, v);
    return NULL;
}

static void handle(int sig, void (*f)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = f;
    sigaction(sig, &sa, NULL);
}

int main(void) {
    handle(SIGUSR1, on_usr1);
    handle(SIGRTMIN + 2, on_rt);
    /* The main thread blocks both while the other thread exits. */
    sigset_t both;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGRTMIN + 2);
    pthread_sigmask(SIG_BLOCK, &both, NULL);
    pthread_t t;
    pthread_create(&t, NULL, exiting, NULL);
    pthread_join(t, NULL);
    pthread_sigmask(SIG_UNBLOCK, &both, NULL);
    /* Standard signals merge: one SIGUSR1 at least, at most three. */
    int usr1 = wait_for(&usr1_seen, 1);
    printf("SIGUSR1 sent to the process around a thread's exit ran a handler: %s\n", usr1 >= 1 && usr1 <= 3 ? "yes" : "no");
    printf("the queued real-time signal ran a handler: %d time(s)\n", wait_for(&rt_seen, 1));
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    handle(SIGSEGV, on_segv);
    sigset_t faults;
    sigemptyset(&faults);
    sigaddset(&faults, SIGBUS);
    sigaddset(&faults, SIGSEGV);
    pthread_sigmask(SIG_BLOCK, &faults, NULL);
    pthread_create(&t, NULL, survivor, NULL);
    raise(SIGSEGV);
    kill(getpid(), SIGBUS);
    pthread_exit(NULL);
}
