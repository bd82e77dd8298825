/* Cross-modifying code: one thread rewrites a function that another
 * thread keeps calling through a pointer, and publishes each version with
 * a store right after the code store, in the same straight-line code. A
 * caller that has seen the published version must run that version (or a
 * newer one), never the one before: under Transit its lookup table would
 * still hold the old translation unless the write drops it before it
 * lands. Each version waits until the caller has run the previous one, so
 * the caller's table holds the old translation when the write comes.
 * Waiting yields the CPU (other tests share it), but the caller only after
 * many calls: a syscall would take it through Transit's dispatcher, which
 * applies pending code changes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit_emit.h"

#define VERSIONS 1000

static fn code;
static int published;
static int seen; /* the newest version the caller ran */
static long stale;

static void *caller(void *arg) {
    (void)arg;
    for (unsigned idle = 0;; idle++) {
        int version = __atomic_load_n(&published, __ATOMIC_ACQUIRE);
        if (version < 0)
            return NULL;
        int got = code(0);
        if (got < version)
            stale++;
        if (got > __atomic_load_n(&seen, __ATOMIC_RELAXED)) {
            __atomic_store_n(&seen, got, __ATOMIC_RELEASE);
            idle = 0;
        } else if (idle % 4096 == 4095) {
            sched_yield();
        }
    }
}

/* Rewrites the immediate and publishes the version with no branch in
 * between, then keeps going in straight-line code for a while. */
static __attribute__((noinline)) void rewrite(int version) {
    *(volatile int *)((unsigned char *)code + 1) = version;
    __atomic_store_n(&published, version, __ATOMIC_RELEASE);
    __asm__ volatile(".rept 200\n\tadd $1, %%rax\n\t.endr" ::: "rax", "cc");
}

int main(void) {
    unsigned char *page = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    emit_add(page, 0);
    code = (fn)page;
    pthread_t t;
    pthread_create(&t, NULL, caller, NULL);
    for (int version = 1; version <= VERSIONS; version++) {
        while (__atomic_load_n(&seen, __ATOMIC_ACQUIRE) < version - 1)
            sched_yield();
        rewrite(version);
    }
    while (__atomic_load_n(&seen, __ATOMIC_ACQUIRE) < VERSIONS)
        sched_yield();
    __atomic_store_n(&published, -1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    printf("%d versions; the caller ran an older version than it had seen %ld times\n", VERSIONS, stale);
    return 0;
}
