/* 8/16-bit results Transit writes into a register without merging them
 * from a low register first (translator/src/emit/alu.rs): add, sub, neg,
 * inc and dec whose NZCV a later instruction reads but not PF (taken
 * from the top of a host register by one bfxil), and or/xor of a byte or
 * word loaded from memory whose flags nobody reads (at full width, in
 * place), into low, high (AH..BH) and REX byte registers. Every flag
 * read is checked against the CPU's, over values at the edges of each
 * width; the registers' other bits must survive. */
#include <stdint.h>
#include <stdio.h>

static uint64_t h = 0xcbf29ce484222325ull;
static void mix(uint64_t v) {
    h = (h ^ v) * 0x100000001b3ull;
}

static const uint64_t values[] = {0, 1, 2, 0x7f, 0x80, 0x81, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xffff,
                                  0x12345678, 0xdeadbeefcafef00dull, 0xffffffffffffffffull, 0x8000000000007f80ull};
#define NV (sizeof values / sizeof values[0])

/* neg cx; sbb sil, sil: Python 3.11's dispatch (CF of the neg only). */
static void neg_sbb(uint64_t c, uint64_t s) {
    __asm__("neg %w0\n sbb %b1, %b1\n cmp $0, %k0" : "+r"(c), "+r"(s) : : "cc");
    mix(c);
    mix(s);
}

/* op r, src; then setc/seto/sets/setz, then a cmp (PF never read). */
#define FLAGS_OF(NAME, INSN, W)                                                    \
    static void NAME(uint64_t a, uint64_t b) {                                     \
        uint64_t c = 0, o = 0, sg = 0, z = 0;                                      \
        __asm__(INSN " %" W "5, %" W "0\n setc %b1\n seto %b2\n sets %b3\n setz %b4\n cmp $0, %k1" \
                : "+r"(a), "+&r"(c), "+&r"(o), "+&r"(sg), "+&r"(z) : "r"(b) : "cc");  \
        mix(a);                                                                    \
        mix(c | o << 1 | sg << 2 | z << 3);                                        \
    }
FLAGS_OF(add8, "add", "b") FLAGS_OF(sub8, "sub", "b") FLAGS_OF(add16, "add", "w") FLAGS_OF(sub16, "sub", "w")

/* A jcc on the flags as a side exit (and the result's other bits). */
#define BRANCH(NAME, INSN, W, CC)                                                  \
    static void NAME(uint64_t a, uint64_t b) {                                     \
        uint64_t t = 0;                                                            \
        __asm__(INSN " %" W "2, %" W "0\n j" CC " 1f\n mov $7, %k1\n1: cmp $0, %k1"  \
                : "+r"(a), "+&r"(t) : "r"(b) : "cc");                              \
        mix(a);                                                                    \
        mix(t);                                                                    \
    }
BRANCH(add8_jc, "add", "b", "c") BRANCH(sub8_jo, "sub", "b", "o") BRANCH(sub16_js, "sub", "w", "s")
BRANCH(add16_jz, "add", "w", "z") BRANCH(sub16_jl, "sub", "w", "l") BRANCH(add8_jg, "add", "b", "g")

/* neg, inc and dec alone, with flags read after. */
#define UNARY(NAME, INSN, W)                                                       \
    static void NAME(uint64_t a) {                                                 \
        uint64_t c = 0, o = 0, sg = 0, z = 0;                                      \
        __asm__("stc\n " INSN " %" W "0\n setc %b1\n seto %b2\n sets %b3\n setz %b4\n cmp $0, %k1" \
                : "+r"(a), "+&r"(c), "+&r"(o), "+&r"(sg), "+&r"(z) : : "cc");        \
        mix(a);                                                                    \
        mix(c | o << 1 | sg << 2 | z << 3);                                        \
    }
UNARY(neg8, "neg", "b") UNARY(neg16, "neg", "w") UNARY(inc8, "inc", "b") UNARY(dec8, "dec", "b")
UNARY(inc16, "inc", "w") UNARY(dec16, "dec", "w")

/* dec cl; jnz: a byte loop counter. */
static void byte_loop(uint64_t n) {
    uint64_t count = 0;
    __asm__("1: inc %1\n dec %b0\n jnz 1b" : "+c"(n), "+r"(count) : : "cc");
    mix(n);
    mix(count);
}

/* or/xor of bytes and words from memory, flags overwritten after. */
static void memory_logic(uint64_t a, uint64_t b) {
    static uint16_t m[2];
    m[0] = (uint16_t)b;
    m[1] = (uint16_t)(b >> 16);
    uint64_t x = a, y = a, z = a, w = a, v = a;
    __asm__("or (%5), %b0\n xor 2(%5), %w1\n or 1(%5), %h2\n xor (%5), %h3\n or 3(%5), %b4\n cmp $0, %k0"
            : "+Q"(x), "+r"(y), "+Q"(z), "+Q"(w), "+r"(v) : "r"(m) : "cc", "memory");
    mix(x);
    mix(y);
    mix(z);
    mix(w);
    mix(v);
    uint64_t r12 = a;
    __asm__("mov %0, %%r12\n xor 1(%1), %%r12b\n or (%1), %%r12w\n mov %%r12, %0\n test %k0, %k0" : "+r"(r12) : "r"(m) : "r12", "cc", "memory");
    mix(r12);
}

int main(void) {
    void (*binary[])(uint64_t, uint64_t) = {neg_sbb, add8, sub8, add16, sub16, add8_jc, sub8_jo, sub16_js, add16_jz, sub16_jl, add8_jg, memory_logic};
    void (*unary[])(uint64_t) = {neg8, neg16, inc8, dec8, inc16, dec16};
    for (unsigned f = 0; f < sizeof binary / sizeof binary[0]; f++) {
        for (unsigned i = 0; i < NV; i++)
            for (unsigned j = 0; j < NV; j++)
                binary[f](values[i], values[j]);
        printf("binary %u: %016llx\n", f, (unsigned long long)h);
    }
    for (unsigned f = 0; f < sizeof unary / sizeof unary[0]; f++) {
        for (unsigned i = 0; i < NV; i++)
            unary[f](values[i]);
        printf("unary %u: %016llx\n", f, (unsigned long long)h);
    }
    for (uint64_t n = 1; n < 300; n += 37)
        byte_loop(n | 0xabcd00);
    printf("byte loop: %016llx\n", (unsigned long long)h);
    return 0;
}
