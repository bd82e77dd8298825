/* 64 threads sharing atomics, a mutex and a condition-variable queue while
 * a sender thread storms them with real-time signals: nothing is lost and
 * nothing is counted twice. Real-time signals queue (they never merge), so
 * every instance sent must arrive, with its value, and those sent to one
 * thread arrive in the order sent. Each worker's last signal is a marker
 * it waits for before it exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORKERS 64
#define ITERATIONS 500
#define SIGNALS_PER_WORKER 100
#define QUEUE_SIZE 16
#define MARKER (-1)

static pthread_t workers[WORKERS];
/* Thread ids, for rt_tgsigqueueinfo (musl has no pthread_sigqueue). */
static atomic_int worker_tid[WORKERS];
static atomic_long atomic_total;
static long mutex_total;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

/* A bounded queue: even workers produce, odd ones consume. */
static long queue[QUEUE_SIZE];
static int queue_head, queue_len;
static long consumed_sum;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;

/* Per worker, written by its own signal handler. */
static atomic_int received[WORKERS], out_of_order[WORKERS], marker_seen[WORKERS];
static int next_expected[WORKERS];
static _Thread_local int my_index = -1;
static atomic_int stray;

static void on_rt(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    (void)ctx;
    int me = my_index;
    if (me < 0) {
        atomic_fetch_add(&stray, 1);
        return;
    }
    int value = info->si_value.sival_int;
    if (value == MARKER) {
        atomic_store(&marker_seen[me], 1);
        return;
    }
    if (value != next_expected[me]) atomic_fetch_add(&out_of_order[me], 1);
    next_expected[me] = value + 1;
    atomic_fetch_add(&received[me], 1);
}

static void put(long value) {
    pthread_mutex_lock(&queue_lock);
    while (queue_len == QUEUE_SIZE) pthread_cond_wait(&not_full, &queue_lock);
    queue[(queue_head + queue_len) % QUEUE_SIZE] = value;
    queue_len++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&queue_lock);
}

static void take(void) {
    pthread_mutex_lock(&queue_lock);
    while (queue_len == 0) pthread_cond_wait(&not_empty, &queue_lock);
    consumed_sum += queue[queue_head];
    queue_head = (queue_head + 1) % QUEUE_SIZE;
    queue_len--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&queue_lock);
}

static void *work(void *arg) {
    int me = (int)(long)arg;
    my_index = me;
    atomic_store(&worker_tid[me], (int)syscall(SYS_gettid));
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 2);
    pthread_sigmask(SIG_UNBLOCK, &rt, NULL);
    for (int i = 0; i < ITERATIONS; i++) {
        atomic_fetch_add(&atomic_total, 1);
        pthread_mutex_lock(&mutex);
        mutex_total++;
        pthread_mutex_unlock(&mutex);
        if (me % 2 == 0)
            put((long)me * ITERATIONS + i);
        else
            take();
    }
    /* Every signal sent to this thread comes before its marker. */
    while (!atomic_load(&marker_seen[me])) sched_yield();
    return NULL;
}

static int send(int worker, int value) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = SIGRTMIN + 2;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_int = value;
    while (atomic_load(&worker_tid[worker]) == 0) sched_yield();
    for (;;) {
        if (syscall(SYS_rt_tgsigqueueinfo, getpid(), atomic_load(&worker_tid[worker]), SIGRTMIN + 2, &info) == 0)
            return 1;
        if (errno != EAGAIN) return 0;
        sched_yield(); /* RLIMIT_SIGPENDING reached: let them catch up. */
    }
}

int main(void) {
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = on_rt;
    act.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN + 2, &act, NULL);
    /* Only the workers take the signals (each unblocks them itself). */
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 2);
    pthread_sigmask(SIG_BLOCK, &rt, NULL);
    for (int i = 0; i < WORKERS; i++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_create(&workers[i], &attr, work, (void *)(long)i);
        pthread_attr_destroy(&attr);
    }
    long sent = 0;
    for (int round = 0; round < SIGNALS_PER_WORKER; round++)
        for (int w = 0; w < WORKERS; w++) sent += send(w, round);
    for (int w = 0; w < WORKERS; w++) send(w, MARKER);
    for (int i = 0; i < WORKERS; i++) pthread_join(workers[i], NULL);

    long arrived = 0, disordered = 0;
    for (int i = 0; i < WORKERS; i++) {
        arrived += received[i];
        disordered += out_of_order[i];
    }
    long expected_sum = 0;
    for (int w = 0; w < WORKERS; w += 2)
        for (int i = 0; i < ITERATIONS; i++) expected_sum += (long)w * ITERATIONS + i;
    printf("atomic total %ld of %d\n", atomic_load(&atomic_total), WORKERS * ITERATIONS);
    printf("mutex total %ld of %d\n", mutex_total, WORKERS * ITERATIONS);
    printf("queue: consumed sum %s\n", consumed_sum == expected_sum ? "matches" : "differs");
    printf("signals: sent %ld, arrived %ld, out of order %ld, outside workers %d\n", sent, arrived, disordered,
           atomic_load(&stray));
    return 0;
}
