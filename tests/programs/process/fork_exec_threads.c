/* fork and execve from threads. Eight threads each fork eight children at
 * once; every child computes its exit status, and each parent thread reaps
 * its own children. (The children start no thread: under qemu-user 7.2,
 * which runs Transit in the tests, a child forked by a multi-threaded
 * process hangs in pthread_create, plain aarch64 programs included.) Then a thread
 * that is not the main one executes the program again while the others
 * spin, sleep and wait on a lock: the kernel ends them, and the new
 * program runs with the process's pid (its thread count is not shown:
 * under qemu-user, which runs Transit in the tests, the host process has
 * qemu's own RCU thread too). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKERS 8
#define CHILDREN 8

static long expected_status(long n) {
    long status = 0;
    for (long i = 1; i <= n; i++) status = (status * 31 + i) % 251;
    return status;
}

static void *forker(void *arg) {
    long me = (long)arg;
    pid_t pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        long n = me * 100 + i * 7 + 1;
        pids[i] = fork();
        if (pids[i] == 0) _exit((int)expected_status(n));
    }
    long wrong = 0;
    for (int i = 0; i < CHILDREN; i++) {
        int status;
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != expected_status(me * 100 + i * 7 + 1))
            wrong++;
    }
    return (void *)wrong;
}

static atomic_int stop;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

static void *spin(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
    }
    return NULL;
}

static void *sleeper(void *arg) {
    (void)arg;
    sleep(100);
    return NULL;
}

static void *locker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&held);
    return NULL;
}

static char self[4096];

static void *executor(void *arg) {
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)arg);
    execl(self, self, "again", pid, (char *)NULL);
    perror("execl");
    exit(1);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "again") == 0) {
        printf("after execve from a thread: same pid %s, tid is pid %s\n",
               atol(argv[2]) == getpid() ? "yes" : "no", syscall(SYS_gettid) == getpid() ? "yes" : "no");
        return 0;
    }
    pthread_t forkers[FORKERS];
    for (long i = 0; i < FORKERS; i++) pthread_create(&forkers[i], NULL, forker, (void *)i);
    long wrong = 0;
    for (int i = 0; i < FORKERS; i++) {
        void *w;
        pthread_join(forkers[i], &w);
        wrong += (long)w;
    }
    printf("%d children forked from %d threads, %ld with a wrong status\n", FORKERS * CHILDREN, FORKERS, wrong);

    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    pthread_mutex_lock(&held);
    pthread_t others[3], exec_thread;
    pthread_create(&others[0], NULL, spin, NULL);
    pthread_create(&others[1], NULL, sleeper, NULL);
    pthread_create(&others[2], NULL, locker, NULL);
    printf("executing from a thread, with three others running\n");
    fflush(stdout);
    pthread_create(&exec_thread, NULL, executor, (void *)(long)getpid());
    pthread_join(exec_thread, NULL);
    printf("execve returned\n");
    return 1;
}
