/* Real-time signals queue: each sigqueue'd instance is delivered, in order,
 * with its value; a standard signal sent twice while blocked is delivered
 * once. Also a handler's sa_mask holds back another signal until it returns. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int values[16], count;
static volatile int usr1_hits;
static volatile int in_usr2, usr1_during_usr2;

static void rt_handler(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)ctx;
    if (count < 16)
        values[count++] = si->si_value.sival_int;
}

static void usr1(int sig) {
    (void)sig;
    usr1_hits++;
    if (in_usr2)
        usr1_during_usr2 = 1;
}

static void usr2(int sig) {
    (void)sig;
    in_usr2 = 1;
    raise(SIGUSR1); /* held back by sa_mask until this handler returns */
    in_usr2 = 0;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = rt_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 2, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGRTMIN + 2);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    for (int i = 0; i < 5; i++)
        sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 10 + i});
    sa.sa_handler = usr1;
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    raise(SIGUSR1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("real-time instances: %d:", count);
    for (int i = 0; i < count; i++)
        printf(" %d", values[i]);
    printf("\nSIGUSR1 sent twice while blocked, delivered %d time(s)\n", usr1_hits);

    sa.sa_handler = usr2;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaction(SIGUSR2, &sa, NULL);
    usr1_hits = 0;
    raise(SIGUSR2);
    printf("SIGUSR1 raised inside a handler masking it: delivered %d, during the handler %d\n", usr1_hits,
           usr1_during_usr2);
    return 0;
}
