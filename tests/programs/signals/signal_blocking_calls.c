/* A signal interrupting each kind of blocking syscall, with and without
 * SA_RESTART: whether the call restarts, fails with EINTR, or (for the
 * calls the kernel never restarts, or restarts through restart_block)
 * what it returns, as the kernel's rules for each call decide. A one-shot
 * timer fires while the call blocks; its handler also makes the call's
 * event happen (writes the pipe, wakes the futex, ends the child), so a
 * restarted call completes at once and the program never hangs. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* linux/futex.h, which musl's headers lack. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

static int pipe_fds[2], sock_fds[2];
static volatile int futex_word;
static volatile pid_t child;
static volatile sig_atomic_t fired;

/* The event each call waits for; async-signal-safe calls only. */
static void make_events_happen(int sig) {
    (void)sig;
    fired++;
    char byte = 'x';
    if (write(pipe_fds[1], &byte, 1) != 1) _exit(90);
    if (write(sock_fds[1], &byte, 1) != 1) _exit(91);
    futex_word = 1;
    syscall(SYS_futex, &futex_word, FUTEX_WAKE, 1, NULL, NULL, 0);
    if (child > 0) kill(child, SIGTERM);
}

static void drain(void) {
    char buf[16];
    int waiting = 0;
    while (ioctl(pipe_fds[0], FIONREAD, &waiting) == 0 && waiting > 0 && read(pipe_fds[0], buf, 1) == 1) {
    }
    while (recv(sock_fds[0], buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

static void arm_timer(void) {
    struct itimerval t = {{0, 0}, {0, 100 * 1000}};
    setitimer(ITIMER_REAL, &t, NULL);
}

static void install(int restart) {
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = make_events_happen;
    act.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &act, NULL);
}

/* Each call blocks until the timer's handler makes its event happen (the
 * waits watch the socket the handler writes to); returns the call's
 * result, -errno on failure. */
static long call_read(void) {
    char c;
    return read(pipe_fds[0], &c, 1) < 0 ? -errno : 1;
}

static long call_recv(void) {
    char c;
    return recv(sock_fds[0], &c, 1, 0) < 0 ? -errno : 1;
}

static long call_poll(void) {
    struct pollfd p = {.fd = sock_fds[0], .events = POLLIN};
    int r = poll(&p, 1, 2000);
    return r < 0 ? -errno : r;
}

static long call_ppoll(void) {
    struct pollfd p = {.fd = sock_fds[0], .events = POLLIN};
    struct timespec ts = {2, 0};
    int r = ppoll(&p, 1, &ts, NULL);
    return r < 0 ? -errno : r;
}

static long call_select(void) {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(sock_fds[0], &readable);
    struct timeval tv = {2, 0};
    int r = select(sock_fds[0] + 1, &readable, NULL, NULL, &tv);
    return r < 0 ? -errno : r;
}

static long call_epoll_wait(void) {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, sock_fds[0], &ev);
    int r = epoll_wait(ep, &ev, 1, 2000);
    long result = r < 0 ? -errno : r;
    close(ep);
    return result;
}

static long call_nanosleep(void) {
    struct timespec ts = {2, 0}, left = {0, 0};
    int r = nanosleep(&ts, &left);
    if (r < 0 && errno == EINTR) return left.tv_sec >= 1 ? -EINTR : -1000;
    return r;
}

static long call_clock_nanosleep(void) {
    struct timespec ts = {2, 0}, left = {0, 0};
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &left);
    if (r == EINTR) return left.tv_sec >= 1 ? -EINTR : -1000;
    return -r;
}

static long call_futex(void) {
    futex_word = 0;
    long r = syscall(SYS_futex, &futex_word, FUTEX_WAIT, 0, NULL, NULL, 0);
    return r < 0 ? -errno : r;
}

static long call_futex_timeout(void) {
    futex_word = 0;
    struct timespec ts = {2, 0};
    long r = syscall(SYS_futex, &futex_word, FUTEX_WAIT, 0, &ts, NULL, 0);
    /* Restarted after the handler set the word: EAGAIN. */
    return r < 0 ? -errno : r;
}

static long call_wait4(void) {
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) pause();
    }
    /* The timer has run since before the fork: a slow fork (an emulator's
     * on a busy machine) can outlast it, and its handler then finds no
     * child to end and wait4 waits for good. Start it again from here. */
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    child = pid;
    fired = 0;
    arm_timer();
    int status = 0;
    pid_t r = wait4(pid, &status, 0, NULL);
    long result = r < 0 ? -errno : (WIFSIGNALED(status) ? 1000 + WTERMSIG(status) : 2000 + WEXITSTATUS(status));
    if (r < 0) waitpid(pid, &status, 0);
    child = 0;
    return result;
}

static long call_pause(void) {
    return pause() < 0 ? -errno : 0;
}

static long call_sigsuspend(void) {
    sigset_t none;
    sigemptyset(&none);
    return sigsuspend(&none) < 0 ? -errno : 0;
}

static const struct {
    const char *name;
    long (*call)(void);
} calls[] = {
    {"read", call_read},
    {"recv", call_recv},
    {"poll", call_poll},
    {"ppoll", call_ppoll},
    {"select", call_select},
    {"epoll_wait", call_epoll_wait},
    {"nanosleep", call_nanosleep},
    {"clock_nanosleep", call_clock_nanosleep},
    {"futex_wait", call_futex},
    {"futex_wait_timeout", call_futex_timeout},
    {"wait4", call_wait4},
    {"pause", call_pause},
    {"sigsuspend", call_sigsuspend},
};

static const char *describe(long r) {
    static char text[32];
    if (r == -EINTR) return "EINTR";
    if (r == -EAGAIN) return "EAGAIN";
    if (r == -1000) return "EINTR, but no time left reported";
    snprintf(text, sizeof text, "%ld", r);
    return text;
}

int main(void) {
    if (pipe(pipe_fds) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sock_fds) != 0) return 1;
    for (int restart = 0; restart <= 1; restart++) {
        install(restart);
        printf("%s SA_RESTART:\n", restart ? "with" : "without");
        for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
            drain();
            fired = 0;
            arm_timer();
            long r = calls[i].call();
            /* The timer fired exactly once, during the call. */
            printf("  %-18s -> %s (handler ran %d time(s))\n", calls[i].name, describe(r), (int)fired);
            fflush(stdout);
        }
    }
    return 0;
}
