/* Byte swaps as compilers emit them: a 16-bit swap is `rol r16, 8` (or
 * `ror`), which Transit turns into one rev16 when the flags it sets are
 * dead; 32- and 64-bit swaps are bswap. Big-endian fields read the way
 * sqlite reads its page headers. */
#include <stdint.h>
#include <stdio.h>

static uint16_t get2(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

__attribute__((noinline)) static uint64_t swaps(const uint8_t *buf, int n)
{
    uint64_t sum = 0;
    for (int i = 0; i + 8 <= n; i++) {
        uint16_t h;
        uint32_t w;
        uint64_t d;
        __builtin_memcpy(&h, buf + i, 2);
        __builtin_memcpy(&w, buf + i, 4);
        __builtin_memcpy(&d, buf + i, 8);
        sum = sum * 31 + __builtin_bswap16(h);
        sum = sum * 31 + get2(buf + i);
        sum = sum * 31 + __builtin_bswap32(w);
        sum ^= __builtin_bswap64(d);
    }
    return sum;
}

int main(void)
{
    uint8_t buf[4096];
    uint32_t x = 0x12345678;
    for (int i = 0; i < (int)sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (int round = 0; round < 3; round++) {
        printf("round %d: %016llx\n", round, (unsigned long long)swaps(buf + round, (int)sizeof buf - round));
    }
    /* Edge values: the swap of each byte pattern. */
    const uint16_t edges[] = {0, 1, 0x00ff, 0xff00, 0x8000, 0x7fff, 0x1234, 0xffff};
    for (unsigned i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        printf("%04x -> %04x\n", edges[i], __builtin_bswap16(edges[i]));
    }
    return 0;
}
