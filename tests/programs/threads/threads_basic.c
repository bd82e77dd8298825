/* Threads: pthread_create/join with results, a mutex-protected counter, a
 * condition variable handoff, atomics, thread-local storage, and
 * pthread_exit from main while another thread finishes the work. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static atomic_long atomic_counter;
static long plain_sum[THREADS];
static __thread int tls_value;

static void *worker(void *arg) {
    long id = (long)arg;
    tls_value = (int)id * 100;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        atomic_fetch_add(&atomic_counter, 2);
        plain_sum[id] += i;
    }
    return (void *)(long)(tls_value + id);
}

static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int stage;

static void *ping(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        while (stage % 2 == 0)
            pthread_cond_wait(&cond, &lock);
        stage++;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static _Atomic int spin_flag;
static int handed_over;
static void *spinner(void *arg) {
    (void)arg;
    while (!atomic_load_explicit(&spin_flag, memory_order_acquire))
        ;
    return (void *)(long)handed_over;
}

int main(void) {
    pthread_t t[THREADS];
    tls_value = -1;
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    long results = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        results += (long)r;
    }
    long sums = 0;
    for (int i = 0; i < THREADS; i++)
        sums += plain_sum[i];
    printf("mutex counter %ld, atomic counter %ld, sums %ld, results %ld, main tls %d\n", counter,
           (long)atomic_counter, sums, results, tls_value);

    pthread_t p;
    pthread_create(&p, NULL, ping, NULL);
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        while (stage % 2 == 1)
            pthread_cond_wait(&cond, &lock);
        stage++;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
    }
    pthread_join(p, NULL);
    printf("condvar ping-pong stage %d\n", stage);

    pthread_t s;
    pthread_create(&s, NULL, spinner, NULL);
    handed_over = 4242;
    atomic_store_explicit(&spin_flag, 1, memory_order_release);
    void *got;
    pthread_join(s, &got);
    printf("spinner saw %ld\n", (long)got);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t d;
    pthread_create(&d, &attr, worker, (void *)0);
    fflush(stdout);
    pthread_exit(NULL);
}
