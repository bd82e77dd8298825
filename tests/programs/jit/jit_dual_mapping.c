/* A JIT that never writes where it runs: code is written through one
 * mapping and executed through a second mapping of the same memory, as
 * Erlang's BEAM JIT (a memfd mapped twice), .NET and hardened V8 do. The
 * aliases: a memfd, System V shared memory and a file, each mapped twice
 * (jit_mremap_alias.c has the mremap one). Every rewrite must be seen by
 * the next call through the executable alias, never a stale version.
 *
 * Then several threads call the function in a loop while the main thread
 * rewrites it through the writable alias. Each version is published with
 * a release store of a generation number; a runner that sees a new
 * generation (acquire load) executes cpuid, which serialises the
 * instruction stream (the SDM's rule for cross-modifying code, vol. 3A
 * 8.1.3), and its next call must return that version's result. The main
 * thread waits for every runner to check a version before writing the
 * next, so the counts printed do not depend on scheduling. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alias_exercise.h"

/* Two pages of `fd` mapped twice, writable and executable, then exercised. */
static void exercise_file_views(const char *kind, int fd) {
    if (ftruncate(fd, 2 * page) != 0) die("ftruncate");
    unsigned char *rw = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *rx = mmap(NULL, 2 * page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED || rx == MAP_FAILED) die("mmap");
    close(fd);
    exercise(kind, rw, rx);
}

static void memfd_alias(void) {
    int fd = (int)syscall(SYS_memfd_create, "jit", 0);
    if (fd < 0) die("memfd_create");
    exercise_file_views("memfd", fd);
}

static void shm_alias(void) {
    int id = shmget(IPC_PRIVATE, 2 * page, IPC_CREAT | 0600);
    if (id < 0) die("shmget");
    unsigned char *rw = shmat(id, NULL, 0);
    unsigned char *rx = shmat(id, NULL, SHM_RDONLY | SHM_EXEC);
    shmctl(id, IPC_RMID, NULL);
    if (rw == (void *)-1 || rx == (void *)-1) die("shmat");
    exercise("shm", rw, rx);
    shmdt(rw);
    shmdt(rx);
}

static void file_alias(void) {
    char name[] = "jit-code-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) die("mkstemp");
    unlink(name);
    exercise_file_views("file", fd);
}

/* The threaded part. The immediate is 4-byte aligned so that each rewrite
 * is one atomic store: a runner racing it sees the old or the new value. */
enum { RUNNERS = 3, GENERATIONS = 150, CODE_OFFSET = 3 };

static fn shared_fn;
static int *shared_imm;
static unsigned generation;   /* written by main (release), read by runners (acquire) */
static unsigned checked;      /* runners that checked the current generation */
static int stale[RUNNERS];    /* checked calls that returned an older version */
static long calls[RUNNERS];

static int version_value(unsigned g) { return (int)(g * 1000 + 7); }

static void serialize(void) {
    unsigned a, b, c, d;
    __cpuid(0, a, b, c, d);
    (void)a, (void)b, (void)c, (void)d;
}

static void *runner(void *arg) {
    int id = (int)(intptr_t)arg;
    unsigned seen = 0;
    for (;;) {
        unsigned g = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
        if (g == GENERATIONS + 1) return NULL;
        if (g != seen) {
            serialize();
            if (shared_fn(0) != version_value(g)) stale[id]++;
            seen = g;
            __atomic_fetch_add(&checked, 1, __ATOMIC_RELEASE);
        }
        /* Unchecked calls keep the code hot while it is being rewritten. */
        shared_fn(1);
        calls[id]++;
        if (calls[id] % 64 == 0) sched_yield();
    }
}

static void threaded(void) {
    int fd = (int)syscall(SYS_memfd_create, "jit-threads", 0);
    if (fd < 0) die("memfd_create");
    if (ftruncate(fd, page) != 0) die("ftruncate");
    unsigned char *rw = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *rx = mmap(NULL, page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED || rx == MAP_FAILED) die("mmap memfd");
    close(fd);
    emit_add(rw + CODE_OFFSET, version_value(0));
    shared_imm = (int *)(rw + CODE_OFFSET + 1);
    shared_fn = (fn)(rx + CODE_OFFSET);

    pthread_t threads[RUNNERS];
    for (int i = 0; i < RUNNERS; i++) pthread_create(&threads[i], NULL, runner, (void *)(intptr_t)i);
    for (unsigned g = 1; g <= GENERATIONS; g++) {
        __atomic_store_n(shared_imm, version_value(g), __ATOMIC_RELAXED);
        __atomic_store_n(&checked, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&generation, g, __ATOMIC_RELEASE);
        while (__atomic_load_n(&checked, __ATOMIC_ACQUIRE) < RUNNERS) sched_yield();
    }
    __atomic_store_n(&generation, GENERATIONS + 1, __ATOMIC_RELEASE);
    int total_stale = 0;
    for (int i = 0; i < RUNNERS; i++) {
        pthread_join(threads[i], NULL);
        total_stale += stale[i];
    }
    printf("threads: %d runners checked %d versions each, %d stale calls, final version %d\n",
           RUNNERS, GENERATIONS, total_stale, shared_fn(0));
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    memfd_alias();
    shm_alias();
    file_alias();
    threaded();
    return 0;
}
