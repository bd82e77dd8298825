/* Timers firing inside handlers, and a timer racing a kill: each round
 * either SIGUSR1's handler arms a one-shot ITIMER_REAL of a few
 * microseconds, or the main thread arms one and sends SIGUSR1 at once.
 * Every SIGALRM and every SIGUSR1 must arrive: none is lost. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 300

static volatile sig_atomic_t alarms, usr1s;
static volatile sig_atomic_t arm_in_handler;

static void arm(long usec) {
    struct itimerval it = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void on_usr1(int sig) {
    (void)sig;
    usr1s++;
    if (arm_in_handler)
        arm(1 + usr1s % 10);
}

static void on_alarm(int sig) {
    (void)sig;
    alarms++;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    double deadline = now() + 50;
    int lost_rounds = 0;
    for (int round = 0; round < ROUNDS; round++) {
        arm_in_handler = round % 2;
        int want = round + 1;
        if (!arm_in_handler)
            arm(1 + round % 10);
        kill(getpid(), SIGUSR1);
        struct timespec pause = {0, 10 * 1000};
        while ((alarms < want || usr1s < want) && now() < deadline)
            nanosleep(&pause, NULL);
        if (alarms < want || usr1s < want) {
            lost_rounds++;
            break;
        }
    }
    printf("rounds: %d, SIGUSR1: %d, SIGALRM: %d, lost: %d\n", ROUNDS, (int)usr1s, (int)alarms, lost_rounds);
    return 0;
}
