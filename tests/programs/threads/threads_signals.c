/* Signals and threads: pthread_kill reaches the chosen thread's handler,
 * interrupts its blocking read, and a process-directed signal goes to the
 * one thread that does not block it. Also a thread calling exit() ends the
 * whole process with its status. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_t target;
static volatile int handled_in_target, handled_count;
static int fds[2];
static volatile int read_errno, ready, reader_done;

static void handler(int sig) {
    (void)sig;
    handled_count++;
    handled_in_target = pthread_equal(pthread_self(), target);
}

static void *reader(void *arg) {
    (void)arg;
    char c;
    ready = 1;
    ssize_t n = read(fds[0], &c, 1);
    read_errno = n < 0 ? errno : 0;
    reader_done = 1;
    return NULL;
}

static void *unblocked_waiter(void *arg) {
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    ready = 1;
    while (!handled_count)
        usleep(1000);
    return NULL;
}

static void *blocked_reader(void *arg) {
    (void)arg;
    char c;
    read(fds[0], &c, 1); /* a cancellation point; nothing ever arrives */
    return (void *)1;
}

static void *exiter(void *arg) {
    (void)arg;
    usleep(10000);
    printf("thread calls exit(3)\n");
    fflush(stdout);
    exit(3);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    pipe(fds);

    pthread_create(&target, NULL, reader, NULL);
    while (!ready)
        usleep(1000);
    /* Again until the read is interrupted: the first signal may come
     * before the thread is inside read(). */
    while (!reader_done) {
        pthread_kill(target, SIGUSR1);
        usleep(20000);
    }
    pthread_join(target, NULL);
    printf("pthread_kill: handled %d in target %d, read: %s\n", handled_count > 0, handled_in_target,
           read_errno == EINTR ? "EINTR" : "other");

    /* Block SIGUSR1 here; only the new thread accepts it. */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    handled_count = 0;
    ready = 0;
    pthread_create(&target, NULL, unblocked_waiter, NULL);
    while (!ready)
        usleep(1000);
    kill(getpid(), SIGUSR1);
    pthread_join(target, NULL);
    printf("kill: handled %d in the unblocked thread %d\n", handled_count, handled_in_target);

    /* pthread_cancel and setgid in a multi-threaded process use the
     * signals glibc keeps for itself (32 and 33). */
    pthread_t c;
    pthread_create(&c, NULL, blocked_reader, NULL);
    usleep(20000);
    printf("setgid(getgid()) with a second thread: %d\n", setgid(getgid()));
    pthread_cancel(c);
    void *res;
    pthread_join(c, &res);
    printf("cancelled: %d\n", res == PTHREAD_CANCELED);

    pthread_t e;
    pthread_create(&e, NULL, exiter, NULL);
    for (;;)
        pause();
}
