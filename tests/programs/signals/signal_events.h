/* The event log of the signal-ordering tests (signal_suspend_pending.c,
 * signal_unblock_order.c): handlers and main append a character each, and
 * the test prints the string. */
#ifndef SIGNAL_EVENTS_H
#define SIGNAL_EVENTS_H

#include <signal.h>

/* Volatile: the handlers write them while main runs (at -O3 GCC would
 * otherwise keep main's copy of n_events in a register across raise). */
static volatile char events[64];
static volatile int n_events;

static void note(char c) {
    if (n_events < (int)sizeof events - 1)
        events[n_events++] = c;
}

static void on_usr2(int sig) {
    (void)sig;
    note('2');
}

/* SIGUSR2 then SIGUSR1 raised while both are blocked, then released
 * together by one sigprocmask: the kernel delivers SIGUSR1 first. */
static void release_usr1_and_usr2_together(void) {
    sigset_t both, old;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    sigprocmask(SIG_BLOCK, &both, &old);
    raise(SIGUSR2);
    raise(SIGUSR1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    note(' ');
}

#endif
