/* Real-time signals queue, every instance counted: 300 instances of one
 * real-time signal and 100 of another, queued while blocked, are all
 * delivered when unblocked, the lower signal first and each in the order
 * sent (the handler blocks both, so none nests in another); a standard
 * signal sent many times while blocked comes once, before them. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FIRST 300
#define SECOND 100

static int order[FIRST + SECOND], delivered;
static volatile int usr1_hits;

static void on_rt(int sig, siginfo_t *si, void *ctx) {
    (void)ctx;
    if (delivered < FIRST + SECOND)
        order[delivered++] = (sig - SIGRTMIN) * 100000 + si->si_value.sival_int;
}

static void on_usr1(int sig) {
    (void)sig;
    usr1_hits++;
    if (delivered)
        usr1_hits += 1000; /* after a real-time one: out of order */
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaddset(&sa.sa_mask, SIGRTMIN + 1);
    sigaddset(&sa.sa_mask, SIGRTMIN + 3);
    sigaction(SIGRTMIN + 1, &sa, NULL);
    sigaction(SIGRTMIN + 3, &sa, NULL);
    sa.sa_handler = on_usr1;
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGRTMIN + 1);
    sigaddset(&block, SIGRTMIN + 3);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    int refused = 0;
    for (int i = 0; i < FIRST || i < SECOND; i++) {
        if (i < SECOND && sigqueue(getpid(), SIGRTMIN + 3, (union sigval){.sival_int = i}) != 0)
            refused++;
        if (i < FIRST && sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = i}) != 0)
            refused++;
        if (i % 10 == 0)
            kill(getpid(), SIGUSR1);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    int in_order = 1;
    for (int i = 0; i < delivered; i++) {
        int expected = i < FIRST ? 100000 + i : 300000 + (i - FIRST);
        if (order[i] != expected)
            in_order = 0;
    }
    printf("refused: %d; delivered %d of %d, in order: %s\n", refused, delivered, FIRST + SECOND, in_order ? "yes" : "no");
    printf("SIGUSR1 sent %d times while blocked, delivered %d time(s)\n", (FIRST + 9) / 10, usr1_hits);
    return 0;
}
