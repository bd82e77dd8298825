/* Shifts and rotates by variable counts at 8, 16, 32 and 64 bits: logical
 * and arithmetic right shifts of negative values, rotates written the way
 * compilers turn into rol/ror, counts masked like the hardware does, and
 * byte swaps. Counts come from a volatile so nothing is folded. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static volatile uint64_t seeds[] = {
    0, 1, 0x80, 0xff, 0x8000, 0xffff, 0x80000000u, 0xffffffffu, 0x8000000000000000ull,
    0xffffffffffffffffull, 0x0123456789abcdefull, 0xfedcba9876543210ull, 0x5555555555555555ull,
    0xdeadbeefcafef00dull,
};
static volatile unsigned count_base = 0;
#define SEEDS (sizeof seeds / sizeof seeds[0])

static uint64_t mix(uint64_t hash, uint64_t value) {
    return (hash ^ value) * 0x100000001b3ull + (hash >> 29);
}

#define SHIFTS(NAME, U, S, BITS)                                                    \
    __attribute__((noinline)) static uint64_t NAME(void) {                          \
        uint64_t hash = 0;                                                          \
        for (unsigned i = 0; i < SEEDS; i++)                                        \
            for (unsigned n = count_base; n < BITS; n++) {                          \
                U x = (U)seeds[i];                                                  \
                S s = (S)x;                                                         \
                U shl = (U)(x << n), shr = (U)(x >> n);                             \
                S sar = (S)(s >> n);                                                \
                U rol = (U)((x << n) | (x >> ((BITS - n) % BITS)));                 \
                U ror = (U)((x >> n) | (x << ((BITS - n) % BITS)));                 \
                hash = mix(mix(mix(mix(mix(hash, shl), shr), (uint64_t)sar), rol), ror); \
                if (i == 10 && n % (BITS / 4) == 1)                                 \
                    printf("%2d-bit x=%016" PRIx64 " n=%2u shl=%016" PRIx64          \
                           " shr=%016" PRIx64 " sar=%016" PRIx64 " rol=%016" PRIx64  \
                           " ror=%016" PRIx64 "\n", BITS, (uint64_t)x, n,            \
                           (uint64_t)shl, (uint64_t)shr, (uint64_t)(U)sar,          \
                           (uint64_t)rol, (uint64_t)ror);                           \
            }                                                                       \
        printf("%2d-bit shifts and rotates: hash %016" PRIx64 "\n", BITS, hash);     \
        return hash;                                                                \
    }

SHIFTS(shifts8, uint8_t, int8_t, 8)
SHIFTS(shifts16, uint16_t, int16_t, 16)
SHIFTS(shifts32, uint32_t, int32_t, 32)
SHIFTS(shifts64, uint64_t, int64_t, 64)

/* x86 masks shift counts to 5 or 6 bits; C code that wants that must say so. */
__attribute__((noinline)) static void masked_counts(void) {
    uint64_t hash = 0;
    for (unsigned n = count_base; n < 200; n += 7) {
        uint32_t x32 = 0x87654321u;
        uint64_t x64 = 0x8765432187654321ull;
        hash = mix(hash, x32 << (n & 31));
        hash = mix(hash, x32 >> (n & 31));
        hash = mix(hash, (uint32_t)((int32_t)x32 >> (n & 31)));
        hash = mix(hash, x64 << (n & 63));
        hash = mix(hash, x64 >> (n & 63));
        hash = mix(hash, (uint64_t)((int64_t)x64 >> (n & 63)));
    }
    printf("masked counts hash %016" PRIx64 "\n", hash);
}

/* Double-precision shifts (shld/shrd at -O2). */
__attribute__((noinline)) static void funnel_shifts(void) {
    for (unsigned n = count_base + 1; n < 64; n += 9) {
        uint64_t hi = seeds[10], lo = seeds[11];
        uint64_t left = (hi << n) | (lo >> (64 - n));
        uint64_t right = (lo >> n) | (hi << (64 - n));
        printf("funnel n=%2u left=%016" PRIx64 " right=%016" PRIx64 "\n", n, left, right);
    }
}

static void byte_swaps(void) {
    for (unsigned i = 0; i < SEEDS; i += 2) {
        uint64_t x = seeds[i];
        printf("bswap %016" PRIx64 ": 16=%04x 32=%08" PRIx32 " 64=%016" PRIx64 "\n", x,
               __builtin_bswap16((uint16_t)x), __builtin_bswap32((uint32_t)x), __builtin_bswap64(x));
    }
}

int main(void) {
    uint64_t total = shifts8() ^ shifts16() ^ shifts32() ^ shifts64();
    masked_counts();
    funnel_shifts();
    byte_swaps();
    printf("total %016" PRIx64 "\n", total);
    return 0;
}
