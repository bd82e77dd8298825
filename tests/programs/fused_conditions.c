/* Flags only the next instruction's condition reads, which Transit leaves
 * in another form than x86's (translate::fuses_with_next).
 *
 * `test r, r` of a byte, word, dword and qword register before js/jns
 * (and je/jne), as a side exit, with the sign bit and the zero test of
 * each width at stake (bits above the width set), and one whose flags are
 * read again after the branch (not fused).
 *
 * ucomisd/comisd/ucomiss/comiss with the condition after them read by a
 * jcc, setcc or cmovcc right away: Transit leaves the host compare's flags
 * for "above", "below" (or equal) and parity (translate::fuses_with_next),
 * and builds x86's flags for everything else. Every pair of values from a
 * set with zeros of both signs, infinities, a denormal and quiet and
 * signalling NaNs of both signs, both ways round; a jcc both as a side
 * exit and where a later instruction reads other flags (no fusion), and
 * cmov with a memory operand (no fusion either). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static double dbits(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}
static float fbits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

#define N 11
static double dv[N];
static float fv[N];

static void init(void) {
    uint64_t d[N] = {0x3ff0000000000000ull, 0x4000000000000000ull, 0, 0x8000000000000000ull, 0x7ff0000000000000ull,
                     0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000001ull, 0x7ff0000000000001ull,
                     0x0000000000000001ull, 0xc000000000000000ull};
    uint32_t f[N] = {0x3f800000, 0x40000000, 0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 1, 0xc0000000};
    for (int i = 0; i < N; i++) {
        dv[i] = dbits(d[i]);
        fv[i] = fbits(f[i]);
    }
}

/* A jcc as a side exit (instructions follow it in the block). */
#define JCC(NAME, INS, T, CC)                                                      \
    static int NAME(T a, T b) {                                                    \
        int r;                                                                     \
        __asm__(INS " %2, %1\n j" CC " 1f\n mov $0, %0\n jmp 2f\n1: mov $1, %0\n2:" \
                : "=&r"(r) : "x"(a), "x"(b) : "cc");                              \
        return r;                                                                  \
    }
#define SETCC(NAME, INS, T, CC)                                                    \
    static int NAME(T a, T b) {                                                    \
        int r = 0;                                                                 \
        __asm__(INS " %2, %1\n set" CC " %b0" : "+r"(r) : "x"(a), "x"(b) : "cc");   \
        return r;                                                                  \
    }
#define CMOV(NAME, INS, T, CC)                                                     \
    static int NAME(T a, T b) {                                                    \
        int r = 0, one = 1;                                                        \
        __asm__(INS " %2, %1\n cmov" CC " %3, %0" : "+r"(r) : "x"(a), "x"(b), "r"(one) : "cc"); \
        return r;                                                                  \
    }
/* cmov from memory: not fused (its load could fault after the compare). */
#define CMOVM(NAME, INS, T, CC)                                                    \
    static int NAME(T a, T b) {                                                    \
        int r = 0;                                                                 \
        static int one = 1;                                                        \
        __asm__(INS " %2, %1\n cmov" CC " %3, %0" : "+r"(r) : "x"(a), "x"(b), "m"(one) : "cc"); \
        return r;                                                                  \
    }
/* The branch's flags read again after it: not fused. */
#define TWICE(NAME, INS, T, CC)                                                    \
    static int NAME(T a, T b) {                                                    \
        long t = 0, z = 0, p = 0;                                                  \
        __asm__(INS " %4, %3\n j" CC " 1f\n lea 4(%0), %0\n1: sete %b1\n setp %b2" \
                : "+&r"(t), "+&r"(z), "+&r"(p) : "x"(a), "x"(b) : "cc");          \
        return (int)(t + 2 * z + p);                                               \
    }

#define FORMS(INS, T, CC, ID)                                                      \
    JCC(jcc_##ID, INS, T, CC) SETCC(set_##ID, INS, T, CC) CMOV(cmov_##ID, INS, T, CC) \
    CMOVM(cmovm_##ID, INS, T, CC) TWICE(twice_##ID, INS, T, CC)
#define CONDITIONS(INS, T, P)                                                      \
    FORMS(INS, T, "a", P##_a) FORMS(INS, T, "ae", P##_ae) FORMS(INS, T, "b", P##_b)  \
    FORMS(INS, T, "be", P##_be) FORMS(INS, T, "p", P##_p) FORMS(INS, T, "np", P##_np) \
    FORMS(INS, T, "e", P##_e) FORMS(INS, T, "ne", P##_ne)

CONDITIONS("ucomisd", double, ud)
CONDITIONS("comisd", double, cd)
CONDITIONS("ucomiss", float, us)
CONDITIONS("comiss", float, cs)

/* test r, r; jcc as a side exit: 1 if taken. */
#define TEST(NAME, W, CC)                                                          \
    static int NAME(uint64_t x) {                                                  \
        int r;                                                                     \
        __asm__("test %" W "1, %" W "1\n j" CC " 1f\n mov $0, %0\n jmp 2f\n1: mov $1, %0\n2:" \
                : "=&r"(r) : "r"(x) : "cc");                                      \
        return r;                                                                  \
    }
/* The branch's flags read again after it (setz, setp): not fused. */
#define TEST_TWICE(NAME, W, CC)                                                    \
    static int NAME(uint64_t x) {                                                  \
        long t = 0, z = 0, p = 0;                                                  \
        __asm__("test %" W "3, %" W "3\n j" CC " 1f\n lea 4(%0), %0\n1: sete %b1\n setp %b2" \
                : "+&r"(t), "+&r"(z), "+&r"(p) : "r"(x) : "cc");                   \
        return (int)(t + 2 * z + p);                                               \
    }
#define TESTS(W, ID)                                                               \
    TEST(t_##ID##_s, W, "s") TEST(t_##ID##_ns, W, "ns") TEST(t_##ID##_e, W, "e") TEST(t_##ID##_ne, W, "ne") \
    TEST_TWICE(tt_##ID##_s, W, "s") TEST_TWICE(tt_##ID##_ns, W, "ns")
TESTS("b", b) TESTS("w", w) TESTS("k", k) TESTS("q", q)

typedef int (*tfn)(uint64_t);
#define TROW(ID) {#ID, {t_##ID##_s, t_##ID##_ns, t_##ID##_e, t_##ID##_ne, tt_##ID##_s, tt_##ID##_ns}}
static const struct {
    const char *name;
    tfn f[6];
} trows[] = {TROW(b), TROW(w), TROW(k), TROW(q)};
static const uint64_t tvalues[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
                                   0xffffffff, 0x100000000ull, 0x8000000000000000ull, 0xffffffffffffff00ull, 0xffffffffffff0080ull, 0x12345678ffff8000ull};

typedef int (*dfn)(double, double);
typedef int (*ffn)(float, float);

#define ROW(P, C) {#P " " #C, {jcc_##P##_##C, set_##P##_##C, cmov_##P##_##C, cmovm_##P##_##C, twice_##P##_##C}}
#define ROWS(P) ROW(P, a), ROW(P, ae), ROW(P, b), ROW(P, be), ROW(P, p), ROW(P, np), ROW(P, e), ROW(P, ne)

static const struct {
    const char *name;
    dfn f[5];
} drows[] = {ROWS(ud), ROWS(cd)};
static const struct {
    const char *name;
    ffn f[5];
} frows[] = {ROWS(us), ROWS(cs)};

static const char *forms[5] = {"jcc", "setcc", "cmov", "cmov-mem", "jcc-then-flags"};

int main(void) {
    init();
    static const char *tforms[6] = {"js", "jns", "je", "jne", "js-then-flags", "jns-then-flags"};
    for (unsigned r = 0; r < sizeof trows / sizeof trows[0]; r++)
        for (int k = 0; k < 6; k++) {
            printf("test %-2s %-15s", trows[r].name, tforms[k]);
            for (unsigned i = 0; i < sizeof tvalues / sizeof tvalues[0]; i++)
                printf("%c", '0' + trows[r].f[k](tvalues[i]));
            printf("\n");
        }
    char line[N * N + 1];
    for (unsigned r = 0; r < sizeof drows / sizeof drows[0]; r++)
        for (int k = 0; k < 5; k++) {
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++)
                    line[i * N + j] = (char)('0' + drows[r].f[k](dv[i], dv[j]));
            line[N * N] = 0;
            printf("%-12s %-14s %s\n", drows[r].name, forms[k], line);
        }
    for (unsigned r = 0; r < sizeof frows / sizeof frows[0]; r++)
        for (int k = 0; k < 5; k++) {
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++)
                    line[i * N + j] = (char)('0' + frows[r].f[k](fv[i], fv[j]));
            line[N * N] = 0;
            printf("%-12s %-14s %s\n", frows[r].name, forms[k], line);
        }
    return 0;
}
