/* SIGCHLD storms: 150 children exit at once; the handler reaps with
 * waitpid(WNOHANG) in a loop, so merged SIGCHLDs lose no child. Then
 * SIGCHLD is ignored, after having been caught: the kernel reaps the
 * children itself, and wait() finds none (ECHILD). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILDREN 150

static volatile sig_atomic_t reaped, status_sum;

static void on_chld(int sig) {
    (void)sig;
    int saved = errno, status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        reaped++;
        status_sum += WEXITSTATUS(status);
    }
    errno = saved;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    for (int i = 0; i < CHILDREN; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(i % 7);
        if (pid < 0) {
            perror("fork");
            return 1;
        }
    }
    struct timespec pause = {0, 1000 * 1000};
    for (int i = 0; i < 20000 && reaped < CHILDREN; i++)
        nanosleep(&pause, NULL);
    int expected_sum = 0;
    for (int i = 0; i < CHILDREN; i++)
        expected_sum += i % 7;
    printf("reaped %d of %d, statuses %s\n", (int)reaped, CHILDREN, status_sum == expected_sum ? "right" : "wrong");

    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    sigaction(SIGCHLD, &sa, NULL);
    for (int i = 0; i < 20; i++)
        if (fork() == 0)
            _exit(0);
    int status;
    pid_t r = wait(&status);
    printf("ignoring SIGCHLD: wait returns %d, %s\n", (int)r, r < 0 && errno == ECHILD ? "ECHILD" : strerror(errno));
    return 0;
}
