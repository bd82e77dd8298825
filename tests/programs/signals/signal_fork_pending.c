/* A forked child starts with no pending signals: signals its parent blocks
 * and has pending (SIGBUS and SIGUSR1 here; Transit keeps SIGBUS in its own
 * queue, the kernel keeps SIGUSR1) are the parent's alone. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t bus, usr1;

static void on_signal(int sig) {
    if (sig == SIGBUS)
        bus++;
    else
        usr1++;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGBUS);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    kill(getpid(), SIGBUS);
    kill(getpid(), SIGUSR1);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t pending;
        sigpending(&pending);
        sigprocmask(SIG_SETMASK, &old, NULL);
        printf("child: SIGUSR1 pending %d; handled SIGBUS %d, SIGUSR1 %d\n", sigismember(&pending, SIGUSR1), (int)bus,
               (int)usr1);
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("parent: handled SIGBUS %d, SIGUSR1 %d\n", (int)bus, (int)usr1);
    return 0;
}
