/* Bit counting and manipulation through the GCC builtins. Built for the
 * baseline x86-64 (no popcnt/lzcnt/tzcnt), so popcount is a libgcc call or
 * a bit trick and clz/ctz become bsr/bsf: the flags and the undefined-on-zero
 * cases are what a translator gets wrong. Zero is never passed to clz/ctz. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void) { /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
}

static unsigned naive_popcount(uint64_t x) {
    unsigned n = 0;
    for (; x; x >>= 1) n += x & 1;
    return n;
}

static uint32_t reverse_bits32(uint32_t x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x);
}

static uint64_t next_power_of_two(uint64_t x) {
    return x <= 1 ? 1 : 1ull << (64 - __builtin_clzll(x - 1));
}

int main(void) {
    unsigned errors = 0;
    uint64_t sums[8] = {0};
    for (int i = 0; i < 20000; i++) {
        uint64_t x = next_random() >> (next_random() % 64); /* vary the magnitude */
        uint32_t y = (uint32_t)x;
        sums[0] += __builtin_popcountll(x);
        sums[1] += __builtin_popcount(y);
        sums[2] += __builtin_parityll(x);
        sums[3] += (uint64_t)__builtin_ffsll((int64_t)x);
        sums[4] += (uint64_t)__builtin_clrsbll((int64_t)x);
        if (x) {
            sums[5] += __builtin_clzll(x);
            sums[6] += __builtin_ctzll(x);
        }
        if (y) sums[7] += __builtin_clz(y) * 3 + __builtin_ctz(y);
        if (__builtin_popcountll(x) != (int)naive_popcount(x)) errors++;
        if (x && (x & -x) != 1ull << __builtin_ctzll(x)) errors++;
        if (x && 63 - __builtin_clzll(x) != (int)(64 - __builtin_clzll(x) - 1)) errors++;
    }
    const char *names[8] = {"popcount64", "popcount32", "parity64", "ffs64", "clrsb64", "clz64", "ctz64", "clz32*3+ctz32"};
    for (int i = 0; i < 8; i++) printf("%-14s sum %" PRIu64 "\n", names[i], sums[i]);

    static volatile uint64_t samples[] = {1, 2, 3, 0x80, 0x1000, 0xffff, 0x12345678, 0x80000000u,
                                          0x100000000ull, 0x8000000000000000ull, 0xffffffffffffffffull};
    for (unsigned i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        uint64_t x = samples[i];
        printf("x=%016" PRIx64 " pop=%2d clz=%2d ctz=%2d ffs=%2d parity=%d lowest=%016" PRIx64
               " clear-lowest=%016" PRIx64 " next-pow2=%016" PRIx64 " rev32=%08" PRIx32 " gray=%016" PRIx64 "\n",
               x, __builtin_popcountll(x), __builtin_clzll(x), __builtin_ctzll(x), __builtin_ffsll((int64_t)x),
               __builtin_parityll(x), x & -x, x & (x - 1), next_power_of_two(x), reverse_bits32((uint32_t)x),
               x ^ (x >> 1));
    }
    static volatile unsigned zero = 0;
    printf("ffs(0)=%d popcount(0)=%d parity(0)=%d\n", __builtin_ffs((int)zero), __builtin_popcount(zero),
           __builtin_parity(zero));
    printf("errors %u\n", errors);
    return errors != 0;
}
