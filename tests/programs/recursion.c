/* Recursion: Ackermann, naive Fibonacci, Takeuchi, McCarthy 91, mutual
 * recursion, Towers of Hanoi, and a deep non-tail recursion 30000 frames
 * down: calls, returns and the stack under pressure. */
#include <stdio.h>

static volatile int scale = 1;

__attribute__((noinline)) static unsigned long ackermann(unsigned long m, unsigned long n) {
    if (m == 0) return n + 1;
    if (n == 0) return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

__attribute__((noinline)) static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

__attribute__((noinline)) static int tak(int x, int y, int z) {
    return y < x ? tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y)) : z;
}

__attribute__((noinline)) static int mccarthy(int n) { return n > 100 ? n - 10 : mccarthy(mccarthy(n + 11)); }

static int is_odd(unsigned n);
__attribute__((noinline)) static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
__attribute__((noinline)) static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }

static unsigned long hanoi_moves;
static unsigned long hanoi_signature;
__attribute__((noinline)) static void hanoi(int discs, int from, int to, int via) {
    if (discs == 0) return;
    hanoi(discs - 1, from, via, to);
    hanoi_moves++;
    hanoi_signature = hanoi_signature * 31 + (unsigned long)(from * 3 + to);
    hanoi(discs - 1, via, to, from);
}

/* Not a tail call: the addition happens after the return. */
__attribute__((noinline)) static long deep(long n, volatile char *previous) {
    volatile char frame[16];
    frame[0] = (char)n;
    if (n == 0) return previous ? previous[0] : 0;
    return deep(n - 1, frame) + (n % 7) + frame[0] - (char)n;
}

int main(void) {
    for (unsigned long m = 0; m <= 3; m++)
        for (unsigned long n = 0; n <= (m == 3 ? 6 : 5); n++)
            if (m < 3 || n == 6) printf("A(%lu, %lu) = %lu\n", m, n, ackermann(m, n * scale));
    for (unsigned n = 0; n <= 27; n += 9) printf("fib(%u) = %u\n", n, fib(n * scale));
    printf("tak(18, 12, 6) = %d\n", tak(18 * scale, 12, 6));
    printf("mccarthy91: %d %d %d\n", mccarthy(1 * scale), mccarthy(99 * scale), mccarthy(150 * scale));
    printf("is_even(10001) = %d, is_odd(7777) = %d\n", is_even(10001u * scale), is_odd(7777u * scale));
    hanoi(16 * scale, 0, 2, 1);
    printf("hanoi(16): %lu moves, signature %016lx\n", hanoi_moves, hanoi_signature);
    printf("deep(30000) = %ld\n", deep(30000L * scale, 0));
    return 0;
}
