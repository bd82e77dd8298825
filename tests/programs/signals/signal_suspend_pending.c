/* A wait with a temporary mask releases a signal that was already pending
 * when it was called: SIGUSR1 and SIGUSR2 arrive together; SIGUSR1's
 * handler blocks SIGUSR2 (sa_mask) and waits for it with sigsuspend, then
 * with ppoll and pselect, each of which must deliver it at once and return
 * EINTR rather than wait for another. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "signal_events.h"

static int wait_with;

static void on_usr1(int sig) {
    (void)sig;
    note('1');
    sigset_t none;
    sigemptyset(&none);
    struct timespec forever = {1000, 0};
    int r = wait_with == 0 ? sigsuspend(&none)
            : wait_with == 1 ? ppoll(NULL, 0, &forever, &none)
                             : pselect(0, NULL, NULL, NULL, &forever, &none);
    note(r == -1 && errno == EINTR ? 'e' : '?');
}

int main(void) {
    alarm(20); /* a lost SIGUSR2 would wait forever */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    for (wait_with = 0; wait_with < 3; wait_with++)
        release_usr1_and_usr2_together();
    printf("events (sigsuspend, ppoll, pselect): %s\n", (const char *)events);
    return 0;
}
