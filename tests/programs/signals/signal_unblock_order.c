/* Signals the runtime already holds, released by a mask change, arrive
 * exactly when the kernel would deliver them. SIGUSR1 and SIGUSR2 are
 * raised while blocked and released together; SIGUSR1 goes first and its
 * handler blocks SIGUSR2 (sa_mask). Then, in that handler:
 * - sigprocmask unblocking SIGUSR2 delivers it before sigprocmask returns
 *   ("1" "2" then "u");
 * - a sigsuspend whose temporary mask still blocks SIGUSR2 is woken by
 *   SIGALRM, and SIGUSR2 waits for the handler's return ("1" "A" "e",
 *   then "2"). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "signal_events.h"

static int part;

static void on_alarm(int sig) {
    (void)sig;
    note('A');
}

static void on_usr1(int sig) {
    (void)sig;
    note('1');
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    if (part == 0) {
        sigprocmask(SIG_UNBLOCK, &usr2, NULL);
        note('u');
    } else {
        struct itimerval soon = {{0, 0}, {0, 20000}};
        setitimer(ITIMER_REAL, &soon, NULL);
        int r = sigsuspend(&usr2);
        note(r == -1 && errno == EINTR ? 'e' : '?');
    }
}

static void handle(int sig, void (*handler)(int), int also_blocked) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    if (also_blocked)
        sigaddset(&sa.sa_mask, also_blocked);
    sigaction(sig, &sa, NULL);
}

int main(void) {
    alarm(20); /* a lost SIGUSR2 must not hang part 0 (part 1's timer replaces it) */
    handle(SIGUSR2, on_usr2, 0);
    handle(SIGALRM, on_alarm, 0);
    handle(SIGUSR1, on_usr1, SIGUSR2);
    for (part = 0; part < 2; part++)
        release_usr1_and_usr2_together();
    printf("events (sigprocmask, sigsuspend): %s\n", (const char *)events);
    return 0;
}
