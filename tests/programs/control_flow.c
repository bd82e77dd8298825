/* Control flow a compiler lowers in different ways: dense switches (jump
 * tables through an indirect branch), sparse switches (compare trees),
 * computed goto, loops with break/continue, and goto-based cleanup. */
#include <stdio.h>

static volatile int limit = 60;

__attribute__((noinline)) static int dense_switch(int x) {
    switch (x) {
    case 0: return 17;
    case 1: return x * 3;
    case 2: return -4;
    case 3: return x << 4;
    case 4: return 99;
    case 5: return x ^ 0x55;
    case 6: return 1000;
    case 7: return x - 100;
    case 8: return 8 * 8;
    case 9: return 123456;
    case 10: return -x;
    case 11: return x % 4;
    case 12: return 12;
    case 13: return 31337;
    case 14: return x * x * x;
    case 15: return 7;
    case 16: return 65536;
    case 17: return x / 3;
    case 18: return ~x;
    case 19: return 19 * 19;
    default: return -1;
    }
}

__attribute__((noinline)) static const char *sparse_switch(int x) {
    switch (x) {
    case -1000000: return "minus a million";
    case -7: return "minus seven";
    case 0: return "zero";
    case 13: return "thirteen";
    case 42: return "forty-two";
    case 255: return "byte max";
    case 1024: return "kibi";
    case 65535: return "short max";
    case 1 << 20: return "mebi";
    case 2147483647: return "int max";
    default: return "other";
    }
}

/* Ranges become chains of comparisons or a table of ranges. */
__attribute__((noinline)) static char classify(int c) {
    switch (c) {
    case '0' ... '9': return 'd';
    case 'a' ... 'z': return 'l';
    case 'A' ... 'Z': return 'u';
    case ' ': case '\t': case '\n': return 's';
    default: return 'p';
    }
}

/* A threaded state machine: counts words, numbers and punctuation. */
__attribute__((noinline)) static void computed_goto(const char *text, int counts[3]) {
    static void *dispatch[] = {&&in_space, &&in_word, &&in_number};
    int state = 0;
    counts[0] = counts[1] = counts[2] = 0;
    const char *p = text;
    goto *dispatch[state];
in_space:
    if (!*p) return;
    if (classify(*p) == 'l' || classify(*p) == 'u') { counts[0]++; state = 1; }
    else if (classify(*p) == 'd') { counts[1]++; state = 2; }
    else if (classify(*p) == 'p') counts[2]++;
    p++;
    goto *dispatch[state];
in_word:
    if (!*p) return;
    if (classify(*p) == 's') state = 0;
    else if (classify(*p) == 'p') { counts[2]++; state = 0; }
    p++;
    goto *dispatch[state];
in_number:
    if (!*p) return;
    if (classify(*p) != 'd') { state = 0; if (classify(*p) == 'p') counts[2]++; }
    p++;
    goto *dispatch[state];
}

__attribute__((noinline)) static int nested_loops(int n) {
    int found = 0;
    for (int a = 1; a < n; a++) {
        if (a % 7 == 3) continue;
        for (int b = a; b < n; b++) {
            int c2 = a * a + b * b, c = 1;
            while (c * c < c2) c++;
            if (c >= n) break;
            if (c * c == c2) {
                found++;
                if (found <= 8) printf("  pythagorean %d %d %d\n", a, b, c);
            }
        }
    }
    return found;
}

__attribute__((noinline)) static int cleanup_chain(int fail_at) {
    int steps = 0;
    if (fail_at == 0) goto fail0;
    steps |= 1;
    if (fail_at == 1) goto fail1;
    steps |= 2;
    if (fail_at == 2) goto fail2;
    steps |= 4;
    return steps;
fail2:
    steps |= 0x20;
fail1:
    steps |= 0x10;
fail0:
    return -steps;
}

int main(void) {
    long total = 0;
    for (int x = -2; x < 24; x++) {
        int r = dense_switch(x);
        total += r;
        printf("dense(%d) = %d\n", x, r);
    }
    static volatile int probes[] = {-1000000, -7, -6, 0, 13, 42, 43, 255, 1024, 65535, 1 << 20, 2147483647, 9};
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++) printf("sparse(%d) = %s\n", probes[i], sparse_switch(probes[i]));
    int counts[3];
    computed_goto("The quick brown fox, 42 times; jumps over 7 lazy dogs... 2024!", counts);
    printf("words %d numbers %d punctuation %d\n", counts[0], counts[1], counts[2]);
    printf("pythagorean triples below %d: %d\n", limit, nested_loops(limit));
    for (int i = 0; i < 4; i++) printf("cleanup_chain(%d) = %d\n", i, cleanup_chain(i));
    printf("dense total %ld\n", total);
    return 0;
}
