/* sigtimedwait and sigwaitinfo on fault signals (SIGSEGV, SIGFPE, SIGBUS)
 * sent by kill while blocked: Transit keeps such instances itself, not in
 * the kernel's queue, so the wait must find them there. The kernel takes
 * synchronous signals first, lowest number first. A thread waiting in
 * sigwaitinfo gets one sent to it while it waits. Also: a wait that times
 * out, and a bad timeout. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, int sig, const siginfo_t *info) {
    if (sig < 0) {
        printf("%s: -1 errno=%s\n", what, errno == EAGAIN ? "EAGAIN" : errno == EINVAL ? "EINVAL" : errno == EINTR ? "EINTR" : "other");
        return;
    }
    /* glibc's sigtimedwait reports SI_TKILL as SI_USER, musl's does not. */
    int code = info->si_code == SI_TKILL ? SI_USER : info->si_code;
    printf("%s: signal %d code=%d from-self=%d value=%d\n", what, sig, code, info->si_pid == getpid(),
           info->si_code == SI_QUEUE ? info->si_value.sival_int : -1);
}

static pid_t waiter_tid;
static volatile int waiter_ready;

static void *waiter(void *arg) {
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    waiter_tid = (pid_t)syscall(SYS_gettid);
    waiter_ready = 1;
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    show("thread sigwaitinfo", sig, &info);
    return NULL;
}

int main(void) {
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGSEGV);
    sigaddset(&blocked, SIGFPE);
    sigaddset(&blocked, SIGBUS);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &blocked, NULL);

    union sigval v = {.sival_int = 42};
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGSEGV);
    sigqueue(getpid(), SIGFPE, v);
    struct timespec second = {1, 0};
    siginfo_t info;
    for (int i = 0; i < 3; i++) {
        int sig = sigtimedwait(&blocked, &info, &second);
        show("sigtimedwait", sig, &info);
    }

    struct timespec short_wait = {0, 10 * 1000 * 1000};
    sigset_t bus;
    sigemptyset(&bus);
    sigaddset(&bus, SIGBUS);
    show("nothing pending", sigtimedwait(&bus, &info, &short_wait), &info);
    struct timespec bad = {0, 1000 * 1000 * 1000};
    show("bad timeout", sigtimedwait(&bus, &info, &bad), &info);

    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    while (!waiter_ready) usleep(1000);
    usleep(100 * 1000);
    syscall(SYS_tgkill, getpid(), waiter_tid, SIGSEGV);
    pthread_join(t, NULL);
    return 0;
}
