/* Checksums of generated data: CRC-32 (table-driven, bytewise and
 * bit-at-a-time), Adler-32, FNV-1a at 32 and 64 bits, and a 64-bit
 * multiply-xorshift mixer, with the standard check values. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t crc_table[256];

static void make_crc_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32_table(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static uint32_t crc32_bitwise(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static uint32_t adler32(const unsigned char *p, size_t n) {
    uint32_t a = 1, b = 0;
    while (n--) {
        a = (a + *p++) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

static uint32_t fnv1a32(const unsigned char *p, size_t n) {
    uint32_t h = 2166136261u;
    while (n--) h = (h ^ *p++) * 16777619u;
    return h;
}

static uint64_t fnv1a64(const unsigned char *p, size_t n) {
    uint64_t h = 14695981039346656037ull;
    while (n--) h = (h ^ *p++) * 1099511628211ull;
    return h;
}

static uint64_t mix64(const unsigned char *p, size_t n) {
    uint64_t h = n * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t word;
        memcpy(&word, p + i, 8); /* unaligned little-endian load */
        h ^= word;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
    }
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

int main(void) {
    make_crc_table();
    const unsigned char *check = (const unsigned char *)"123456789";
    const unsigned char *wiki = (const unsigned char *)"Wikipedia";
    int ok = crc32_table(check, 9) == 0xcbf43926u && crc32_bitwise(check, 9) == 0xcbf43926u && adler32(wiki, 9) == 0x11e60398u &&
             fnv1a32((const unsigned char *)"a", 1) == 0xe40c292cu && fnv1a64((const unsigned char *)"a", 1) == 0xaf63dc4c8601ec8cull;
    printf("check values: crc32 %08x adler32 %08x -> %s\n", crc32_table(check, 9), adler32(wiki, 9), ok ? "ok" : "MISMATCH");

    static unsigned char data[65536 + 7];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof data; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data[i] = (unsigned char)x;
    }
    static const size_t sizes[] = {0, 1, 3, 8, 15, 64, 1000, 4096, 65536 + 7};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        for (size_t offset = 0; offset < 8 && offset + n <= sizeof data; offset += 7) {
            const unsigned char *p = data + offset;
            uint32_t table = crc32_table(p, n), bitwise = n <= 4096 ? crc32_bitwise(p, n) : table;
            printf("n=%-6zu off=%zu crc32 %08x%s adler32 %08x fnv32 %08x fnv64 %016llx mix %016llx\n", n, offset, table,
                   table == bitwise ? "" : " (bitwise differs!)", adler32(p, n), fnv1a32(p, n), (unsigned long long)fnv1a64(p, n),
                   (unsigned long long)mix64(p, n));
            ok &= table == bitwise;
        }
    }
    return ok ? 0 : 1;
}
