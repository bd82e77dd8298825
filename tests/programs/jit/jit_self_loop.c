/* Loops whose block branches to its own start, which the translator links
 * to itself (a b.cond or cbnz straight back): the loop must still see its
 * own code rewritten, between runs and from inside the loop, and a signal
 * must still reach a thread spinning in one. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

typedef int (*fn)(int);

/* f(n): mov ecx, edi ; xor eax, eax
 * loop: add eax, imm32 ; dec ecx ; jnz loop ; ret
 * The block at `loop` is its own target; the immediate is at p + 5. */
static void emit_sum_loop(unsigned char *p, int imm) {
    static const unsigned char code[] = {0x89, 0xf9, 0x31, 0xc0, 0x05, 0, 0, 0, 0, 0xff, 0xc9, 0x75, 0xf7, 0xc3};
    memcpy(p, code, sizeof code);
    memcpy(p + 5, &imm, 4);
}

/* f(n): mov ecx, edi ; xor eax, eax
 * loop: add eax, 1 ; mov [rip-10], ecx ; dec ecx ; jnz loop ; ret
 * Each iteration rewrites the add's immediate to the current count, which
 * the next iteration must use: the sum is 1 + n + (n-1) + ... + 2. */
static void emit_self_writing_loop(unsigned char *p) {
    static const unsigned char code[] = {
        0x89, 0xf9, 0x31, 0xc0,       /* mov ecx, edi ; xor eax, eax */
        0x05, 1, 0, 0, 0,             /* loop: add eax, 1 */
        0x89, 0x0d, 0xf6, 0xff, 0xff, 0xff, /* mov [rip-10], ecx (the add's immediate) */
        0xff, 0xc9,                   /* dec ecx */
        0x75, 0xf1,                   /* jnz loop */
        0xc3,
    };
    memcpy(p, code, sizeof code);
}

/* f(n): mov ecx, edi ; xor eax, eax
 * loop: inc eax ; loop loop ; ret (the `loop` instruction's own self-loop). */
static void emit_loop_insn(unsigned char *p) {
    static const unsigned char code[] = {0x89, 0xf9, 0x31, 0xc0, 0xff, 0xc0, 0xe2, 0xfc, 0xc3};
    memcpy(p, code, sizeof code);
}

static volatile int ticks;

static void on_alarm(int sig) {
    (void)sig;
    ticks = 1;
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *code = mmap(NULL, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fn f = (fn)code;

    emit_sum_loop(code, 3);
    int a = f(1000);
    emit_sum_loop(code, 7);
    int b = f(1000);
    printf("self-loop rewritten between runs: %d then %d\n", a, b);

    /* Rewritten again, run many times: the new loop is linked again. */
    emit_sum_loop(code, -2);
    int c = 0;
    for (int i = 0; i < 50; i++)
        c += f(100);
    printf("self-loop after a second rewrite: %d\n", c);

    emit_self_writing_loop(code);
    int n = 300;
    printf("self-loop writing its own code: %d (expected %d)\n", f(n), n * (n + 1) / 2);

    emit_loop_insn(code);
    printf("loop instruction to itself: %d\n", f(100000));

    /* Spin in a one-block loop (cmp; je to itself) until a timer's
     * handler ends it. */
    signal(SIGALRM, on_alarm);
    struct itimerval t = {.it_value = {.tv_usec = 20000}};
    setitimer(ITIMER_REAL, &t, NULL);
    __asm__ volatile("1: cmpl $0, %0\n\tje 1b" : : "m"(ticks) : "cc");
    printf("signal reached a thread spinning in a self-loop: %d\n", ticks);
    return 0;
}
