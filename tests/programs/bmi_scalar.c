/* x86-64-v3's scalar extensions through intrinsics, each in a
 * target("bmi,bmi2,lzcnt,movbe") function (the program never asks CPUID:
 * it runs where they exist, Transit's default x86-64-v2): andn, bextr
 * (start and length past the width), blsi/blsmsk/blsr and tzcnt/lzcnt of
 * zero, bzhi (index past the width, and its CF), mulx, pdep/pext, shlx/
 * shrx/sarx/rorx (counts masked to the width) and movbe through
 * __builtin_bswap on memory. The flags tzcnt, lzcnt, bzhi, blsr, blsi and blsmsk leave
 * are read back with setc/setz/sets. Every result is printed in hex. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>

typedef unsigned long long u64;

#define BMI __attribute__((target("bmi,bmi2,lzcnt,movbe"), noipa))

static const u64 V64[] = {
    0, 1, 2, 0x80, 0xff, 0x8000000000000000u, 0x7fffffffffffffffu, 0xffffffffffffffffu,
    0x00000000ffffffffu, 0xffffffff00000000u, 0x0123456789abcdefu, 0xf0f0f0f00f0f0f0fu, 0x0000000100000000u,
};
#define N64 (sizeof V64 / sizeof V64[0])

/* Controls and counts around 32 and 64, and with bits above the field. */
static const uint32_t COUNTS[] = {0, 1, 7, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 0x1234, 0xffffffff};
#define NCOUNTS (sizeof COUNTS / sizeof COUNTS[0])

/* Keeps the compiler from folding a value known at compile time. */
static u64 opaque(u64 v) {
    __asm__ volatile("" : "+r"(v));
    return v;
}

BMI static void logic(void) {
    for (unsigned i = 0; i < N64; i++) {
        u64 a = opaque(V64[i]), b = opaque(V64[(i * 5 + 3) % N64]);
        printf("andn %016llx %016llx -> %016llx %08x\n", a, b, _andn_u64(a, b),
               _andn_u32((uint32_t)a, (uint32_t)b));
        printf("bls %016llx: blsi %016llx %08x blsmsk %016llx %08x blsr %016llx %08x\n", a,
               _blsi_u64(a), _blsi_u32((uint32_t)a), _blsmsk_u64(a), _blsmsk_u32((uint32_t)a), _blsr_u64(a),
               _blsr_u32((uint32_t)a));
    }
}

BMI static void counts(void) {
    for (unsigned i = 0; i < N64; i++) {
        u64 a = opaque(V64[i]);
        printf("cnt %016llx: tzcnt %llu %u %u lzcnt %llu %u %u\n", a, _tzcnt_u64(a),
               _tzcnt_u32((uint32_t)a), (unsigned)__tzcnt_u16((uint16_t)a), _lzcnt_u64(a), _lzcnt_u32((uint32_t)a),
               (unsigned)__lzcnt16((uint16_t)a));
        /* CF = (source == 0), ZF = (count == 0). */
        u64 n;
        unsigned char cf, zf;
        __asm__("tzcnt %3, %0\n\tsetc %1\n\tsetz %2" : "=r"(n), "=qm"(cf), "=qm"(zf) : "r"(a) : "cc");
        printf("  tzcnt flags c%u z%u", cf, zf);
        __asm__("lzcnt %3, %0\n\tsetc %1\n\tsetz %2" : "=r"(n), "=qm"(cf), "=qm"(zf) : "r"(a) : "cc");
        printf(" lzcnt flags c%u z%u", cf, zf);
        __asm__("blsr %3, %0\n\tsetc %1\n\tsetz %2" : "=r"(n), "=qm"(cf), "=qm"(zf) : "r"(a) : "cc");
        printf(" blsr flags c%u z%u", cf, zf);
        /* blsi's CF is the opposite: set for a non-zero source. */
        __asm__("blsi %3, %0\n\tsetc %1\n\tsetz %2" : "=r"(n), "=qm"(cf), "=qm"(zf) : "r"(a) : "cc");
        printf(" blsi flags c%u z%u", cf, zf);
        unsigned char sf;
        __asm__("blsmsk %k3, %k0\n\tsetc %1\n\tsets %2" : "=r"(n), "=qm"(cf), "=qm"(sf) : "r"(a) : "cc");
        printf(" blsmsk32 flags c%u s%u\n", cf, sf);
    }
}

BMI static void fields(void) {
    for (unsigned i = 0; i < N64; i++) {
        u64 a = opaque(V64[i]);
        for (unsigned s = 0; s < NCOUNTS; s++) {
            uint32_t start = COUNTS[s] & 0xff;
            uint32_t len = COUNTS[(s * 7 + 2) % NCOUNTS] & 0xff;
            uint32_t ctl = opaque(start | len << 8);
            uint32_t idx = opaque(COUNTS[s]);
            unsigned char cf;
            u64 z;
            __asm__("bzhi %2, %3, %0\n\tsetc %1" : "=r"(z), "=qm"(cf) : "r"((u64)idx), "r"(a) : "cc");
            printf("field %016llx ctl %04x: bextr %016llx %08x; idx %x: bzhi %016llx %08x c%u\n", a,
                   ctl, _bextr_u64(a, start, len), _bextr_u32((uint32_t)a, start, len), idx, _bzhi_u64(a, idx),
                   _bzhi_u32((uint32_t)a, idx), cf);
            (void)z;
        }
    }
}

BMI static void multiply_and_bits(void) {
    for (unsigned i = 0; i < N64; i++) {
        u64 a = opaque(V64[i]), b = opaque(V64[(i * 3 + 1) % N64]);
        unsigned long long hi;
        u64 lo = _mulx_u64(a, b, &hi);
        /* GCC has no _mulx_u32 in 64-bit code. */
        uint32_t hi32, lo32;
        __asm__("mulx %3, %1, %0" : "=r"(hi32), "=r"(lo32) : "d"((uint32_t)a), "rm"((uint32_t)b));
        printf("mulx %016llx %016llx -> %016llx:%016llx %08x:%08x\n", a, b, hi, lo, hi32, lo32);
        printf("pdep %016llx %016llx %08x  pext %016llx %08x\n", b, _pdep_u64(a, b),
               _pdep_u32((uint32_t)a, (uint32_t)b), _pext_u64(a, b), _pext_u32((uint32_t)a, (uint32_t)b));
    }
}

/* With -mbmi2 in effect, GCC turns variable shifts into shlx/shrx/sarx and
 * constant rotates into rorx. */
BMI static u64 shl64(u64 v, unsigned c) { return v << (c & 63); }
BMI static u64 shr64(u64 v, unsigned c) { return v >> (c & 63); }
BMI static long long sar64(long long v, unsigned c) { return v >> (c & 63); }
BMI static uint32_t shl32(uint32_t v, unsigned c) { return v << (c & 31); }
BMI static int32_t sar32(int32_t v, unsigned c) { return v >> (c & 31); }
BMI static u64 ror64_13(u64 v) { return v >> 13 | v << 51; }
BMI static uint32_t ror32_7(uint32_t v) { return v >> 7 | v << 25; }

BMI static void shifts(void) {
    for (unsigned i = 0; i < N64; i++) {
        u64 a = opaque(V64[i]);
        printf("rorx %016llx -> %016llx %08x\n", a, ror64_13(a), ror32_7((uint32_t)a));
        for (unsigned s = 0; s < NCOUNTS; s += 3) {
            unsigned c = (unsigned)opaque(COUNTS[s]);
            printf("  c%u shlx %016llx shrx %016llx sarx %016llx %08x %08x\n", c, shl64(a, c),
                   shr64(a, c), (u64)sar64((long long)a, c), shl32((uint32_t)a, c), (uint32_t)sar32((int32_t)a, c));
        }
    }
}

/* Big-endian loads and stores: movbe under -mmovbe. */
BMI static u64 load_be64(const u64 *p) { return __builtin_bswap64(*p); }
BMI static uint32_t load_be32(const uint32_t *p) { return __builtin_bswap32(*p); }
BMI static uint16_t load_be16(const uint16_t *p) { return __builtin_bswap16(*p); }
BMI static void store_be64(u64 *p, u64 v) { *p = __builtin_bswap64(v); }
BMI static void store_be32(uint32_t *p, uint32_t v) { *p = __builtin_bswap32(v); }
BMI static void store_be16(uint16_t *p, uint16_t v) { *p = __builtin_bswap16(v); }

BMI static void byte_order(void) {
    for (unsigned i = 0; i < N64; i++) {
        u64 a = V64[i], m64 = a;
        uint32_t m32 = (uint32_t)(a >> 16);
        uint16_t m16 = (uint16_t)(a >> 8);
        printf("movbe load %016llx %08x %04x", load_be64(&m64), load_be32(&m32), load_be16(&m16));
        store_be64(&m64, a ^ 0x1122334455667788u);
        store_be32(&m32, (uint32_t)a + 0x01020304);
        store_be16(&m16, (uint16_t)a ^ 0xa55a);
        printf(" store %016llx %08x %04x\n", m64, m32, m16);
    }
}

int main(void) {
    logic();
    counts();
    fields();
    multiply_and_bits();
    shifts();
    byte_order();
    return 0;
}
