/* 128-bit integers: multiplication, division and remainder (libgcc's
 * __divti3 family), shifts by variable counts, comparisons, decimal
 * printing by repeated division. Results are checked (q*b + r == a) as well
 * as printed. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

typedef unsigned __int128 u128;
typedef __int128 s128;

static uint64_t state = 42;
static uint64_t next_random(void) { /* splitmix64 */
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static char *u128_to_string(u128 value, char *end) {
    *--end = 0;
    do {
        *--end = (char)('0' + (int)(value % 10));
        value /= 10;
    } while (value);
    return end;
}

static char *s128_to_string(s128 value, char *end) {
    if (value >= 0) return u128_to_string((u128)value, end);
    char *text = u128_to_string(-(u128)value, end);
    *--text = '-';
    return text;
}

static void print_u128(const char *label, u128 value) {
    char buffer[64];
    printf("%s%s\n", label, u128_to_string(value, buffer + sizeof buffer));
}

int main(void) {
    char buffer[64];
    u128 factorial = 1;
    for (unsigned n = 1; n <= 34; n++) {
        factorial *= n;
        if (n >= 20 && n % 2 == 0) printf("%u! = %s\n", n, u128_to_string(factorial, buffer + sizeof buffer));
    }
    u128 a = 0, b = 1;
    for (int i = 0; i < 180; i++) {
        u128 next = a + b;
        a = b;
        b = next;
    }
    print_u128("fib(180) = ", a);
    print_u128("2^128 - 1 = ", ~(u128)0);
    printf("INT128_MIN = %s\n", s128_to_string((s128)((u128)1 << 127), buffer + sizeof buffer));

    unsigned errors = 0;
    uint64_t hash = 0;
    for (int i = 0; i < 3000; i++) {
        u128 x = ((u128)next_random() << 64) | next_random();
        u128 y = ((u128)(next_random() >> (next_random() % 64)) << (next_random() % 64)) | 1;
        if (i % 3 == 0) y = (y >> 64) | 1; /* 64-bit divisors take another path */
        u128 q = x / y, r = x % y;
        if (q * y + r != x || r >= y) errors++;
        s128 sx = (s128)x, sy = (s128)y * ((i & 1) ? -1 : 1);
        if (sx != (s128)((u128)1 << 127) || sy != -1) {
            s128 sq = sx / sy, sr = sx % sy;
            if (sq * sy + sr != sx) errors++;
            hash ^= (uint64_t)sq * 31 + (uint64_t)(sr >> 64);
        }
        u128 product = x * y;
        uint64_t hi = (uint64_t)(((u128)(uint64_t)x * (uint64_t)y) >> 64);
        unsigned shift = (unsigned)(next_random() % 128);
        hash = (hash ^ (uint64_t)q ^ (uint64_t)(r >> 3) ^ (uint64_t)(product >> 64) ^ hi) * 0x100000001b3ull;
        hash ^= (uint64_t)(x << shift) ^ (uint64_t)(x >> shift) ^ (uint64_t)((s128)x >> shift);
        hash += (x < y) + 2 * (sx < sy) + 4 * (x == y);
        if (i < 5) {
            char bx[64], by[64], bq[64], br[64];
            printf("%s / %s = %s rem %s\n", u128_to_string(x, bx + 64), u128_to_string(y, by + 64),
                   u128_to_string(q, bq + 64), u128_to_string(r, br + 64));
        }
    }
    printf("hash %016" PRIx64 ", errors %u\n", hash, errors);
    return errors != 0;
}
