/* Integer arithmetic at 8, 16, 32 and 64 bits: signed and unsigned division
 * and remainder with negative operands, wrapping add/sub/mul, overflow
 * builtins, sign and zero extension. Operands come from a volatile table so
 * -O2 cannot fold the work away. MIN / -1 is never computed (it traps on
 * x86_64 and is undefined in C). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static volatile int64_t values[] = {
    0, 1, -1, 2, -2, 3, -3, 7, -7, 10, 100, -100, 127, -128, 255, 256, -129,
    32767, -32768, 65535, 65536, 2147483647, -2147483647 - 1, 4294967295LL,
    4294967296LL, 1000000007, -1000000007, 0x123456789abcdefLL, -0x123456789abcdefLL,
    INT64_MAX, INT64_MIN, INT64_MIN + 1,
};
#define COUNT (sizeof values / sizeof values[0])

static uint64_t mix(uint64_t hash, uint64_t value) {
    hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
    return hash;
}

#define DIVISION(NAME, T, SIGNED, MIN)                                                \
    __attribute__((noinline)) static uint64_t NAME(int verbose) {             \
        uint64_t hash = 0;                                                    \
        unsigned checks = 0;                                                  \
        for (unsigned i = 0; i < COUNT; i++)                                  \
            for (unsigned j = 0; j < COUNT; j++) {                            \
                T a = (T)values[i], b = (T)values[j];                         \
                if (b == 0) continue;                                         \
                if (SIGNED && a == (T)(MIN) && b == (T)-1) continue;             \
                T q = a / b, r = a % b;                                       \
                hash = mix(mix(hash, (uint64_t)q), (uint64_t)r);              \
                checks++;                                                     \
                if (verbose && i < 12 && j < 12 && (i + j) % 3 == 0)          \
                    printf("  %s %" PRId64 " / %" PRId64 " = %" PRId64        \
                           " rem %" PRId64 "\n", #T, (int64_t)a, (int64_t)b,  \
                           (int64_t)q, (int64_t)r);                           \
            }                                                                 \
        printf("%-8s div/rem: %u pairs, hash %016" PRIx64 "\n", #T, checks,   \
               hash);                                                         \
        return hash;                                                          \
    }

DIVISION(div_s8, int8_t, 1, INT8_MIN)
DIVISION(div_u8, uint8_t, 0, 0)
DIVISION(div_s16, int16_t, 1, INT16_MIN)
DIVISION(div_u16, uint16_t, 0, 0)
DIVISION(div_s32, int32_t, 1, INT32_MIN)
DIVISION(div_u32, uint32_t, 0, 0)
DIVISION(div_s64, int64_t, 1, INT64_MIN)
DIVISION(div_u64, uint64_t, 0, 0)

#define WRAPPING(NAME, T)                                                     \
    __attribute__((noinline)) static uint64_t NAME(void) {                    \
        uint64_t hash = 0;                                                    \
        for (unsigned i = 0; i < COUNT; i++)                                  \
            for (unsigned j = 0; j < COUNT; j++) {                            \
                T a = (T)values[i], b = (T)values[j];                         \
                hash = mix(hash, (T)((uint64_t)a + (uint64_t)b));                                 \
                hash = mix(hash, (T)((uint64_t)a - (uint64_t)b));                                 \
                hash = mix(hash, (T)((uint64_t)a * (uint64_t)b));                                 \
                hash = mix(hash, (T)(a ^ ~b));                                \
                hash = mix(hash, (uint64_t)(a < b) | (uint64_t)(a == b) << 1); \
            }                                                                 \
        printf("%-8s add/sub/mul/cmp hash %016" PRIx64 "\n", #T, hash);       \
        return hash;                                                          \
    }

WRAPPING(wrap_u8, uint8_t)
WRAPPING(wrap_u16, uint16_t)
WRAPPING(wrap_u32, uint32_t)
WRAPPING(wrap_u64, uint64_t)

static void overflow_builtins(void) {
    unsigned add32 = 0, sub32 = 0, mul32 = 0, add64 = 0, sub64 = 0, mul64 = 0, umul64 = 0;
    uint64_t hash = 0;
    for (unsigned i = 0; i < COUNT; i++)
        for (unsigned j = 0; j < COUNT; j++) {
            int32_t a32 = (int32_t)values[i], b32 = (int32_t)values[j], r32;
            int64_t a64 = values[i], b64 = values[j], r64;
            uint64_t u64;
            add32 += __builtin_add_overflow(a32, b32, &r32); hash = mix(hash, (uint32_t)r32);
            sub32 += __builtin_sub_overflow(a32, b32, &r32); hash = mix(hash, (uint32_t)r32);
            mul32 += __builtin_mul_overflow(a32, b32, &r32); hash = mix(hash, (uint32_t)r32);
            add64 += __builtin_add_overflow(a64, b64, &r64); hash = mix(hash, (uint64_t)r64);
            sub64 += __builtin_sub_overflow(a64, b64, &r64); hash = mix(hash, (uint64_t)r64);
            mul64 += __builtin_mul_overflow(a64, b64, &r64); hash = mix(hash, (uint64_t)r64);
            umul64 += __builtin_mul_overflow((uint64_t)a64, (uint64_t)b64, &u64); hash = mix(hash, u64);
        }
    printf("overflows: add32 %u sub32 %u mul32 %u add64 %u sub64 %u mul64 %u umul64 %u\n",
           add32, sub32, mul32, add64, sub64, mul64, umul64);
    printf("overflow results hash %016" PRIx64 "\n", hash);
}

static void extensions(void) {
    for (unsigned i = 0; i < COUNT; i += 3) {
        int64_t v = values[i];
        printf("ext %" PRId64 ": s8 %" PRId64 " u8 %" PRIu64 " s16 %" PRId64 " u16 %" PRIu64
               " s32 %" PRId64 " u32 %" PRIu64 "\n",
               v, (int64_t)(int8_t)v, (uint64_t)(uint8_t)v, (int64_t)(int16_t)v,
               (uint64_t)(uint16_t)v, (int64_t)(int32_t)v, (uint64_t)(uint32_t)v);
    }
}

static void negation_and_abs(void) {
    for (unsigned i = 0; i < COUNT; i++) {
        int64_t v = values[i];
        if (v == INT64_MIN) continue;
        int64_t a = v < 0 ? -v : v;
        int32_t v32 = (int32_t)v;
        int32_t a32 = v32 == INT32_MIN ? INT32_MIN : (v32 < 0 ? -v32 : v32);
        if (i % 4 == 0)
            printf("abs %" PRId64 " = %" PRId64 ", abs32 %d = %d, -u64 %" PRIu64 "\n", v, a, v32,
                   a32, -(uint64_t)v);
    }
}

int main(void) {
    printf("signed and unsigned division, sample:\n");
    uint64_t total = 0;
    total ^= div_s8(1);
    total ^= div_u8(0);
    total ^= div_s16(0);
    total ^= div_u16(0);
    total ^= div_s32(1);
    total ^= div_u32(0);
    total ^= div_s64(1);
    total ^= div_u64(1);
    total ^= wrap_u8() ^ wrap_u16() ^ wrap_u32() ^ wrap_u64();
    overflow_builtins();
    extensions();
    negation_and_abs();
    printf("total %016" PRIx64 "\n", total);
    return 0;
}
