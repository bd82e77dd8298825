/* Asynchronous signals: a timer interrupting a busy loop (which must stop
 * promptly, in translated code), alarm interrupting a blocking read with
 * and without SA_RESTART, and the FPU state around a handler. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t fired;
static int pipe_fds[2];

static void on_timer(int sig) {
    (void)sig;
    fired++;
}

static void feed_pipe(int sig) {
    (void)sig;
    fired++;
    write(pipe_fds[1], "x", 1);
}

static volatile double handler_saw;
static void float_handler(int sig) {
    (void)sig;
    volatile double a = 1.5, b = 2.25;
    handler_saw = a * b + fired;
    fired++;
}

static void install(int sig, void (*h)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

int main(void) {
    /* A busy loop ends only because the handler runs. */
    install(SIGALRM, on_timer, 0);
    struct itimerval it = {.it_value = {.tv_usec = 20000}};
    /* Repeating, for the blocking calls: a slow start (translation on a
     * loaded machine) must not let the only tick land before the call. */
    struct itimerval rep = {.it_value = {.tv_usec = 20000}, .it_interval = {.tv_usec = 20000}};
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &it, NULL);
    unsigned long spins = 0;
    while (!fired)
        spins++;
    printf("busy loop interrupted: fired=%d spun=%d\n", (int)fired, spins > 0);

    /* Without SA_RESTART a blocking read fails with EINTR. */
    pipe(pipe_fds);
    fired = 0;
    install(SIGALRM, on_timer, 0);
    setitimer(ITIMER_REAL, &rep, NULL);
    char c;
    ssize_t n = read(pipe_fds[0], &c, 1);
    setitimer(ITIMER_REAL, &off, NULL);
    printf("read without SA_RESTART: n=%zd errno=%s fired=%d\n", n, n < 0 && errno == EINTR ? "EINTR" : "other",
           fired > 0);

    /* With SA_RESTART the read continues and gets what the handler wrote. */
    fired = 0;
    install(SIGALRM, feed_pipe, SA_RESTART);
    setitimer(ITIMER_REAL, &rep, NULL);
    n = read(pipe_fds[0], &c, 1);
    setitimer(ITIMER_REAL, &off, NULL);
    printf("read with SA_RESTART: n=%zd c=%c fired=%d\n", n, n == 1 ? c : '?', fired > 0);

    /* pause() returns after a handler ran. */
    fired = 0;
    install(SIGALRM, on_timer, SA_RESTART);
    setitimer(ITIMER_REAL, &rep, NULL);
    int r = pause();
    setitimer(ITIMER_REAL, &off, NULL);
    printf("pause: r=%d errno=%s fired=%d\n", r, errno == EINTR ? "EINTR" : "other", fired > 0);

    /* Floating-point work in the interrupted code survives a handler that
     * uses the FPU itself. */
    fired = 0;
    install(SIGALRM, float_handler, 0);
    setitimer(ITIMER_REAL, &it, NULL);
    volatile double x = 0;
    double step = 0.5;
    while (!fired)
        x += step;
    x = x - (long long)(x / step) * step; /* multiple of step: 0 */
    printf("floats: handler computed %.4f, loop remainder %.1f\n", handler_saw, x);
    return 0;
}
