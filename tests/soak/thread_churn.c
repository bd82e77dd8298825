/* A soak of thread churn: rounds of 16 short-lived threads, run until the
 * given number of seconds has passed (default 600). Each thread adds to an
 * atomic counter and to a mutex-protected one, hands tokens to its partner
 * through a condition variable, allocates and frees memory, keeps
 * thread-local state, signals itself, and every fourth round one thread
 * forks a child that exits with a computed status. An interval timer
 * interrupts everything every 5 ms (SA_RESTART). Every round checks that
 * nothing was lost; the last line says how many rounds passed, and the
 * process's resident memory between rounds (no worker alive) after the
 * first fifth of the time, when caches have filled, and at most after
 * that. SIGUSR2 ends the soak after the current round.
 * `cargo xtask soak` runs it under Transit and watches the process's RSS. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 16
#define ATOMIC_ADDS 20000
#define LOCKED_ADDS 2000
#define TOKENS 200
#define ALLOCATIONS 500
#define SELF_SIGNALS 20

static atomic_long atomic_total;
static long locked_total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long usr1_seen;
static atomic_long alarms;
static volatile sig_atomic_t stop;
static __thread long thread_local_sum;

/* Token passing between partners 2k and 2k+1. */
struct pair {
    pthread_mutex_t m;
    pthread_cond_t c;
    long tokens; /* odd: the odd thread's turn */
};
static struct pair pairs[THREADS / 2];

struct worker {
    pthread_t thread;
    int index;
    int round;
    long forked_status;
};

static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&usr1_seen, 1);
    thread_local_sum += 1;
}

static void on_stop(int sig) {
    (void)sig;
    stop = 1;
}

static void on_alarm(int sig) {
    (void)sig;
    atomic_fetch_add(&alarms, 1);
}

static long child_status(int round) {
    long s = 0;
    for (int i = 0; i <= round % 97; i++) s = (s * 33 + i) % 253;
    return s;
}

static void *work(void *arg) {
    struct worker *w = arg;
    thread_local_sum = 0;
    for (int i = 0; i < ATOMIC_ADDS; i++) atomic_fetch_add(&atomic_total, 1);
    for (int i = 0; i < LOCKED_ADDS; i++) {
        pthread_mutex_lock(&lock);
        locked_total++;
        pthread_mutex_unlock(&lock);
    }
    struct pair *p = &pairs[w->index / 2];
    int me = w->index % 2;
    for (int t = 0; t < TOKENS; t++) {
        pthread_mutex_lock(&p->m);
        while (p->tokens % 2 != me) pthread_cond_wait(&p->c, &p->m);
        p->tokens++;
        pthread_cond_broadcast(&p->c);
        pthread_mutex_unlock(&p->m);
    }
    unsigned seed = (unsigned)(w->index * 7919 + w->round);
    void *kept[16] = {0};
    for (int i = 0; i < ALLOCATIONS; i++) {
        size_t size = 16 + rand_r(&seed) % 70000;
        char *block = malloc(size);
        if (!block) return (void *)1;
        memset(block, i, size < 256 ? size : 256);
        int slot = rand_r(&seed) % 16;
        free(kept[slot]);
        kept[slot] = block;
    }
    for (int i = 0; i < 16; i++) free(kept[i]);
    for (int i = 0; i < SELF_SIGNALS; i++) pthread_kill(pthread_self(), SIGUSR1);
    if (thread_local_sum != SELF_SIGNALS) return (void *)2;
    if (w->index == 0 && w->round % 4 == 0) {
        pid_t child = fork();
        if (child == 0) _exit((int)child_status(w->round));
        int status;
        while (waitpid(child, &status, 0) < 0) {
        }
        w->forked_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return NULL;
}

/* The process's resident memory (VmRSS) in KiB, or -1. */
static long resident_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 600;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGUSR2, &sa, NULL);
    struct itimerval every = {{0, 5000}, {0, 5000}};
    setitimer(ITIMER_REAL, &every, NULL);

    double start = now();
    int round = 0;
    long warm_rss = -1, peak_rss = -1;
    while (round == 0 || (now() - start < seconds && !stop)) {
        atomic_store(&atomic_total, 0);
        locked_total = 0;
        atomic_store(&usr1_seen, 0);
        for (int i = 0; i < THREADS / 2; i++) {
            pthread_mutex_init(&pairs[i].m, NULL);
            pthread_cond_init(&pairs[i].c, NULL);
            pairs[i].tokens = 0;
        }
        struct worker workers[THREADS];
        for (int i = 0; i < THREADS; i++) {
            workers[i] = (struct worker){.index = i, .round = round, .forked_status = -2};
            if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
                printf("round %d: pthread_create failed\n", round);
                return 1;
            }
        }
        for (int i = 0; i < THREADS; i++) {
            void *result;
            pthread_join(workers[i].thread, &result);
            if (result != NULL) {
                printf("round %d: thread %d failed (%ld)\n", round, i, (long)result);
                return 1;
            }
        }
        long expected_tokens = 2 * TOKENS;
        int ok = atomic_load(&atomic_total) == (long)THREADS * ATOMIC_ADDS && locked_total == (long)THREADS * LOCKED_ADDS &&
                 atomic_load(&usr1_seen) == (long)THREADS * SELF_SIGNALS;
        for (int i = 0; i < THREADS / 2; i++) ok &= pairs[i].tokens == expected_tokens;
        if (round % 4 == 0) ok &= workers[0].forked_status == child_status(round);
        if (!ok) {
            printf("round %d: lost updates: atomic %ld locked %ld signals %ld fork %ld\n", round, (long)atomic_load(&atomic_total),
                   locked_total, (long)atomic_load(&usr1_seen), workers[0].forked_status);
            return 1;
        }
        round++;
        long rss = resident_kib();
        if (now() - start < seconds / 5 || warm_rss < 0) warm_rss = rss;
        else if (rss > peak_rss) peak_rss = rss;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("%d rounds of %d threads, nothing lost (%ld timer signals); resident between rounds: %ld KiB after warm-up, at most %ld KiB later\n",
           round, THREADS, (long)atomic_load(&alarms), warm_rss, peak_rss < 0 ? warm_rss : peak_rss);
    return 0;
}
