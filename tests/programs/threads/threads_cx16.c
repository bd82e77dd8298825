/* cmpxchg16b between threads: four threads add to one 128-bit cell whose
 * halves must always agree (hi = count, lo = ~count) through
 * compare-and-swap loops; a torn read or a lost update shows in the totals.
 * Needs a CPU with CMPXCHG16B (x86-64-v2). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 3000

typedef unsigned __int128 u128;

static u128 cell __attribute__((aligned(16)));
static long torn[THREADS], retries[THREADS];

__attribute__((target("cx16"))) static u128 atomic_read(void) {
    return __sync_val_compare_and_swap(&cell, (u128)0, (u128)0);
}

__attribute__((target("cx16"))) static void *adder(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        for (;;) {
            u128 old = atomic_read();
            uint64_t hi = (uint64_t)(old >> 64), lo = (uint64_t)old;
            if (hi != ~lo)
                torn[id]++;
            u128 new = ((u128)(hi + 1) << 64) | (uint64_t) ~(hi + 1);
            if (__sync_bool_compare_and_swap(&cell, old, new))
                break;
            retries[id]++;
        }
    }
    return NULL;
}

int main(void) {
    cell = (u128)~(uint64_t)0; /* count 0 */
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, adder, (void *)i);
    long torn_total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        torn_total += torn[i];
    }
    uint64_t hi = (uint64_t)(cell >> 64), lo = (uint64_t)cell;
    printf("count %llu (expected %d), halves agree %d, torn reads %ld\n", (unsigned long long)hi,
           THREADS * ROUNDS, hi == ~lo, torn_total);
    return hi == (uint64_t)THREADS * ROUNDS && hi == ~lo && torn_total == 0 ? 0 : 1;
}
