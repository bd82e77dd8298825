/* A signal that arrives just before a syscall is delivered before it, and
 * the syscall then runs as if nothing happened: getpid and write never
 * fail with EINTR, whether or not the handler has SA_RESTART. Another
 * thread keeps sending SIGUSR1 to the main thread while it loops. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CALLS 20000

static atomic_int stop, handled;
static pid_t main_tid;

static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&handled, 1);
}

static void *sender(void *arg) {
    (void)arg;
    while (!atomic_load(&stop))
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
    return NULL;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    main_tid = syscall(SYS_gettid);
    pid_t pid = getpid();
    int devnull = open("/dev/null", O_WRONLY);
    pthread_t t;
    pthread_create(&t, NULL, sender, NULL);
    int wrong_pid = 0, failed_writes = 0, i = 0;
    for (; i < CALLS || atomic_load(&handled) < 10; i++) {
        if (syscall(SYS_getpid) != pid)
            wrong_pid++;
        if (write(devnull, "x", 1) != 1)
            failed_writes++;
        if (i > 100 * CALLS)
            break;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("getpid wrong: %d, writes failed: %d, signals handled: %s\n", wrong_pid, failed_writes,
           atomic_load(&handled) >= 10 ? "at least 10" : "too few");
    return 0;
}
