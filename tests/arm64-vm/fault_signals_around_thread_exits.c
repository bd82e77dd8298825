/* SIGBUS sent to the process (kill) again and again while threads end
 * (an arm64 VM check: qemu-user itself loses one now and then).
 * Linux gives each to a thread that does not block it; one that reaches a
 * thread in the middle of its exit is handed on, not lost. Transit never
 * blocks the fault signals on the host, so an exiting thread can still
 * catch one; it must pass it on to the process. Every round waits until
 * the handler has run once more than before (standard signals merge, so
 * only "at least one more" is certain). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ROUNDS 300
#define THREADS 4

static atomic_int handled;

static void on_bus(int sig) {
    (void)sig;
    atomic_fetch_add(&handled, 1);
}

static void *short_lived(void *arg) {
    (void)arg;
    return NULL;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_bus;
    sigaction(SIGBUS, &sa, NULL);
    int lost = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int before = atomic_load(&handled);
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, short_lived, NULL);
        kill(getpid(), SIGBUS);
        for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
        struct timespec tick = {0, 1000 * 1000};
        int waited = 0;
        while (atomic_load(&handled) == before && waited++ < 2000) nanosleep(&tick, NULL);
        if (atomic_load(&handled) == before) lost++;
    }
    printf("rounds of SIGBUS sent to the process while %d threads ended: %d\n", THREADS, ROUNDS);
    printf("rounds whose SIGBUS never ran the handler: %d\n", lost);
    return lost != 0;
}
