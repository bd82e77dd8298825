/* Two processes count in shared memory under a spinlock that is taken
 * with an atomic exchange and released with a plain store, as
 * PostgreSQL's s_lock does on x86: correct only with x86's store order,
 * which Transit keeps once memory is shared with another process. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 20000

struct shared {
    volatile int lock;
    volatile long counter;
    volatile long pairs[2];
};

static void acquire(volatile int *lock) {
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
        while (*lock)
            ;
}

static void release(volatile int *lock) {
    __asm__ volatile("" ::: "memory");
    *lock = 0;
}

static void count(struct shared *s, int who) {
    for (int i = 0; i < ROUNDS; i++) {
        acquire(&s->lock);
        s->counter++;
        s->pairs[who]++;
        release(&s->lock);
    }
}

int main(void) {
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        count(s, 1);
        _exit(0);
    }
    count(s, 0);
    waitpid(pid, NULL, 0);
    printf("counter %ld (parent %ld, child %ld)\n", s->counter, s->pairs[0], s->pairs[1]);
    return s->counter == 2 * ROUNDS ? 0 : 1;
}
