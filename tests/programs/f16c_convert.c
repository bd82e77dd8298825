/* F16C and AVX's conversions across 128-bit halves, through intrinsics in
 * functions compiled for them (target attributes: the program never asks
 * CPUID, so it needs a CPU with AVX2 and F16C, x86-64-v3):
 * - vcvtph2ps on all 65536 halves (xmm and ymm forms, register and memory),
 *   also with MXCSR's FTZ and DAZ set (the SDM: DAZ is ignored);
 * - vcvtps2ph with every rounding immediate, and with imm bit 2 under each
 *   MXCSR rounding mode, on edge values (NaNs, infinities, denormals,
 *   halfway cases, overflow) one at a time with the exception flags each
 *   raises, then on a pseudo-random sweep (hashes);
 * - vcvtdq2pd/vcvtps2pd ymm, vcvtpd2ps/vcvtpd2dq/vcvttpd2dq from ymm, in
 *   each rounding mode, register and memory sources;
 * - vcvtsi2ss/sd and vpinsrb/w/d/q with three distinct registers (inline
 *   assembly): the other lanes from the first source, bits 128..255
 *   cleared.
 * MXCSR's flags are printed without DE (bit 1): Transit does not model the
 * denormal-operand flag. Every result is printed in hex. */
#include <immintrin.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define F16C __attribute__((target("avx2,f16c"), noipa))
#define BASELINE __attribute__((noipa))

/* Keeps a value in a register: the instruction then takes its register
 * form rather than a folded load or store. */
#define IN_REGISTER(v) __asm__("" : "+x"(v))

static unsigned base_csr;

/* MXCSR with rounding control `rc` (0..3), optionally FTZ|DAZ, flags clear. */
BASELINE static void set_csr(unsigned rc, int ftz_daz) {
    _mm_setcsr((base_csr & ~0xe07fu) | rc << 13 | (ftz_daz ? 0x8040u : 0));
}

/* IE, ZE, OE, UE, PE (DE left out). */
BASELINE static unsigned flags(void) {
    return _mm_getcsr() & 0x3d;
}

static uint64_t hash(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3ull;
    }
    return h;
}

static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- half to single ---- */

F16C static void ph2ps_256_mem(const uint16_t *in, float *out) {
    _mm256_storeu_ps(out, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)in)));
}

F16C static void ph2ps_256_reg(const uint16_t *in, float *out) {
    __m128i v = _mm_loadu_si128((const __m128i *)in);
    IN_REGISTER(v);
    __m256 r = _mm256_cvtph_ps(v);
    IN_REGISTER(r);
    _mm256_storeu_ps(out, r);
}

F16C static void ph2ps_128_mem(const uint16_t *in, float *out) {
    _mm_storeu_ps(out, _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)in)));
}

F16C static void ph2ps_128_reg(const uint16_t *in, float *out) {
    __m128i v = _mm_loadl_epi64((const __m128i *)in);
    IN_REGISTER(v);
    __m128 r = _mm_cvtph_ps(v);
    IN_REGISTER(r);
    _mm_storeu_ps(out, r);
}

static void half_to_single(int ftz_daz) {
    static uint16_t halves[65536];
    static float singles[65536];
    for (unsigned i = 0; i < 65536; i++) {
        halves[i] = (uint16_t)i;
    }
    set_csr(0, ftz_daz);
    uint64_t h256m = 0xcbf29ce484222325ull, h256r = h256m, h128m = h256m, h128r = h256m;
    for (unsigned i = 0; i < 65536; i += 8) {
        ph2ps_256_mem(halves + i, singles + i);
        h256m = hash(h256m, singles + i, 32);
        float r[8];
        ph2ps_256_reg(halves + i, r);
        h256r = hash(h256r, r, 32);
        ph2ps_128_mem(halves + i, r);
        h128m = hash(h128m, r, 16);
        ph2ps_128_reg(halves + i + 4, r);
        h128r = hash(h128r, r, 16);
    }
    printf("ph2ps all halves%s: ymm/m %016" PRIx64 " ymm/r %016" PRIx64 " xmm/m %016" PRIx64 " xmm/r %016" PRIx64
           " flags %#x\n",
           ftz_daz ? " (ftz+daz)" : "", h256m, h256r, h128m, h128r, flags());
    static const uint16_t shown[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0x3555, 0x7bff,
                                     0xfbff, 0x7c00, 0xfc00, 0x7c01, 0xfd01, 0x7e00, 0xfe3f, 0x7fff, 0xffff};
    for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++) {
        uint16_t in[8] = {shown[k]};
        float out[8];
        set_csr(0, ftz_daz);
        ph2ps_256_mem(in, out);
        printf("  ph2ps %04x -> %08" PRIx32 " flags %#x\n", shown[k], f2u(out[0]), flags());
    }
}

/* ---- single to half ---- */

/* vcvtps2ph to m64 and m128 (inline assembly: compilers store from a
 * register), and to a register. */
#define PS2PH(imm)                                                                                         \
    F16C static void ps2ph_128_##imm(const float *in, uint16_t *out) {                                      \
        __asm__("vcvtps2ph %[i], %[v], %[o]" : [o] "=m"(*(uint16_t(*)[4])out) : [v] "x"(_mm_loadu_ps(in)), \
                [i] "i"(imm));                                                                             \
    }                                                                                                      \
    F16C static void ps2ph_256_##imm(const float *in, uint16_t *out) {                                      \
        __asm__("vcvtps2ph %[i], %[v], %[o]" : [o] "=m"(*(uint16_t(*)[8])out)                               \
                : [v] "x"(_mm256_loadu_ps(in)), [i] "i"(imm));                                             \
    }                                                                                                      \
    F16C static void ps2ph_256r_##imm(const float *in, uint16_t *out) {                                     \
        __m256 v = _mm256_loadu_ps(in);                                                                    \
        IN_REGISTER(v);                                                                                    \
        __m128i r = _mm256_cvtps_ph(v, imm);                                                               \
        IN_REGISTER(r);                                                                                    \
        _mm_storeu_si128((__m128i *)out, r);                                                               \
    }
PS2PH(0)
PS2PH(1)
PS2PH(2)
PS2PH(3)
PS2PH(4)

typedef void (*ps2ph_fn)(const float *, uint16_t *);

static const struct {
    const char *name;
    unsigned imm;
    unsigned rc; /* MXCSR.RC set meanwhile */
    ps2ph_fn x, y, yr;
} PS2PH_MODES[] = {
    {"imm 0 (nearest)", 0, 3, ps2ph_128_0, ps2ph_256_0, ps2ph_256r_0},
    {"imm 1 (down)", 1, 0, ps2ph_128_1, ps2ph_256_1, ps2ph_256r_1},
    {"imm 2 (up)", 2, 1, ps2ph_128_2, ps2ph_256_2, ps2ph_256r_2},
    {"imm 3 (zero)", 3, 2, ps2ph_128_3, ps2ph_256_3, ps2ph_256r_3},
    {"imm 4, RC nearest", 4, 0, ps2ph_128_4, ps2ph_256_4, ps2ph_256r_4},
    {"imm 4, RC down", 4, 1, ps2ph_128_4, ps2ph_256_4, ps2ph_256r_4},
    {"imm 4, RC up", 4, 2, ps2ph_128_4, ps2ph_256_4, ps2ph_256r_4},
    {"imm 4, RC zero", 4, 3, ps2ph_128_4, ps2ph_256_4, ps2ph_256r_4},
};

static const uint32_t PS2PH_EDGES[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3eaaaaab, 0xbeaaaaab, /* zeros, 1, 1/3 */
    0x3f801000, 0x3f801001, 0x3f803000, 0xbf801000, 0xbf803000,             /* halfway between halves */
    0x477fe000, 0x477fefff, 0x477ff000, 0xc77ff000, 0x477ff001, 0x47800000, /* largest, to infinity */
    0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000,                         /* huge, infinities */
    0x7fc00000, 0xffc00000, 0x7fa00000, 0xff800001, 0x7fbfffff, 0x7fc01fff, /* NaNs: payloads truncate */
    0x38800000, 0x387fffff, 0xb87fffff, 0x387fe000, 0x387ff000, 0x387fc000, /* around 2^-14, smallest normal */
    0x33800000, 0x33000000, 0x33000001, 0xb3000000, 0x33c00000, 0x32ffffff, /* around 2^-24, smallest denormal */
    0x35000000, 0x35001000, 0x00000001, 0x807fffff, 0x00800000,             /* denormal halves; single denormals */
};

static void single_to_half_edges(void) {
    for (size_t m = 0; m < sizeof PS2PH_MODES / sizeof PS2PH_MODES[0]; m++) {
        printf("ps2ph %s:\n", PS2PH_MODES[m].name);
        for (size_t k = 0; k < sizeof PS2PH_EDGES / sizeof PS2PH_EDGES[0]; k++) {
            float in[8] = {u2f(PS2PH_EDGES[k]), 1.0f, 1.0f, 1.0f, 2.0f, 2.0f, 2.0f, 2.0f};
            uint16_t x[4], y[8];
            set_csr(PS2PH_MODES[m].rc, 0);
            PS2PH_MODES[m].x(in, x);
            unsigned fx = flags();
            /* The ymm form with the value in the upper half. */
            float iny[8] = {1.0f, 1.0f, 1.0f, 1.0f, 2.0f, u2f(PS2PH_EDGES[k]), 2.0f, 2.0f};
            set_csr(PS2PH_MODES[m].rc, 0);
            PS2PH_MODES[m].y(iny, y);
            unsigned fy = flags();
            printf("  %08" PRIx32 " -> %04x flags %#x | ymm %04x %04x flags %#x\n", PS2PH_EDGES[k], x[0], fx, y[5],
                   y[4], fy);
        }
    }
}

static void single_to_half_sweep(int ftz_daz) {
    uint32_t seed = 12345;
    for (size_t m = 0; m < sizeof PS2PH_MODES / sizeof PS2PH_MODES[0]; m++) {
        uint64_t hm = 0xcbf29ce484222325ull, hr = hm, hx = hm;
        set_csr(PS2PH_MODES[m].rc, ftz_daz);
        for (int i = 0; i < 4096; i++) {
            float in[8];
            for (int j = 0; j < 8; j++) {
                seed = seed * 1664525u + 1013904223u;
                /* Half the lanes near half precision's range. */
                uint32_t bits = seed;
                if (j & 1) {
                    bits = (bits & 0x80ffffffu) | (uint32_t)(0x30 + (bits >> 24) % 0x18) << 24;
                }
                in[j] = u2f(bits);
            }
            uint16_t out[8];
            PS2PH_MODES[m].y(in, out);
            hm = hash(hm, out, 16);
            PS2PH_MODES[m].yr(in, out);
            hr = hash(hr, out, 16);
            PS2PH_MODES[m].x(in + 4, out);
            hx = hash(hx, out, 8);
        }
        printf("ps2ph sweep %s%s: m128 %016" PRIx64 " xmm %016" PRIx64 " m64 %016" PRIx64 " flags %#x\n",
               PS2PH_MODES[m].name, ftz_daz ? " (ftz+daz)" : "", hm, hr, hx, flags());
    }
}

/* _cvtss_sh/_cvtsh_ss: the scalar forms (vcvtps2ph/vcvtph2ps on xmm). */
F16C static unsigned short to_half(float f, int mode) {
    switch (mode) {
    case 0:
        return _cvtss_sh(f, 0);
    case 1:
        return _cvtss_sh(f, 1);
    case 2:
        return _cvtss_sh(f, 2);
    case 3:
        return _cvtss_sh(f, 3);
    default:
        return _cvtss_sh(f, 4);
    }
}

F16C static float from_half(unsigned short h) {
    return _cvtsh_ss(h);
}

static void scalar_halves(void) {
    static const float values[] = {1.0f / 3, -2.0f / 3, 65519.0f, 65520.0f, -1e-7f, 6.1e-5f, 3.0e-8f, 1e30f};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        printf("cvtss_sh %08" PRIx32 ":", f2u(values[k]));
        for (int mode = 0; mode < 5; mode++) {
            set_csr(2, 0);
            unsigned short h = to_half(values[k], mode);
            printf(" %04x/%#x", h, flags());
        }
        printf(" back %08" PRIx32 "\n", f2u(from_half(to_half(values[k], 0))));
    }
}

/* ---- conversions across the halves ---- */

/* Each conversion from a register (`_r`) and from memory (`_m`). */
#define CONVERT(name, in_t, load, out_t, store, op)          \
    F16C static void name##_r(const void *in, void *out) {   \
        in_t v = load(in);                                   \
        IN_REGISTER(v);                                      \
        out_t r = op(v);                                     \
        IN_REGISTER(r);                                      \
        store(out, r);                                       \
    }                                                        \
    F16C static void name##_m(const void *in, void *out) {   \
        store(out, op(load(in)));                            \
    }
#define LOAD128I(p) _mm_loadu_si128((const __m128i *)(p))
#define LOAD128F(p) _mm_loadu_ps((const float *)(p))
#define LOAD256D(p) _mm256_loadu_pd((const double *)(p))
#define STORE256D(p, v) _mm256_storeu_pd((double *)(p), v)
#define STORE128F(p, v) _mm_storeu_ps((float *)(p), v)
#define STORE128I(p, v) _mm_storeu_si128((__m128i *)(p), v)
CONVERT(dq2pd, __m128i, LOAD128I, __m256d, STORE256D, _mm256_cvtepi32_pd)
CONVERT(ps2pd, __m128, LOAD128F, __m256d, STORE256D, _mm256_cvtps_pd)
CONVERT(pd2ps, __m256d, LOAD256D, __m128, STORE128F, _mm256_cvtpd_ps)
CONVERT(pd2dq, __m256d, LOAD256D, __m128i, STORE128I, _mm256_cvtpd_epi32)
CONVERT(tpd2dq, __m256d, LOAD256D, __m128i, STORE128I, _mm256_cvttpd_epi32)

static void print_words(const char *name, const void *p, size_t bytes, unsigned f) {
    const uint32_t *w = p;
    printf("  %-8s", name);
    for (size_t i = 0; i < bytes / 4; i++) {
        printf(" %08" PRIx32, w[i]);
    }
    printf(" flags %#x\n", f);
}

static void cross_half(void) {
    static const int32_t ints[][4] = {{0, -1, 0x7fffffff, (int32_t)0x80000000}, {16777217, -16777217, 3, -3}};
    static const uint32_t floats[][4] = {{0x3f800000, 0x7fa00000, 0xff800000, 0x00000001},
                                         {0x7f7fffff, 0x80000000, 0xffc00001, 0x3eaaaaab}};
    static const uint64_t doubles[][4] = {
        {0x3ff8000000000000, 0xc004000000000000, 0x3fe0000000000001, 0x41dfffffffc00000},     /* 1.5 -2.5 ~0.5 2^31-1 */
        {0x41e0000000000000, 0xc1e0000000200000, 0x7ff4000000000000, 0xfff8000000000001},     /* 2^31, < -2^31, NaNs */
        {0x3fd5555555555555, 0x47efffffe0000000, 0x47effffff0000000, 0x3690000000000000},     /* 1/3, float max edges, tiny */
        {0x36a0000000000000, 0x380fffffd0000000, 0x7ff0000000000000, 0x8000000000000000},     /* denormal floats, inf, -0 */
        {0x41e65a0bc0000000, 0x41dfffffffe00000, 0xc1e0000000180000, 0x41dfffffffd00000}};    /* 3e9, int32 range edges */
    typedef void (*convert_fn)(const void *, void *);
    static const struct {
        const char *name;
        convert_fn f;
        unsigned out_bytes;
    } wide[] = {{"dq2pd/r", dq2pd_r, 32}, {"dq2pd/m", dq2pd_m, 32}}, wide_f[] = {{"ps2pd/r", ps2pd_r, 32}, {"ps2pd/m", ps2pd_m, 32}},
      narrow[] = {{"pd2ps/r", pd2ps_r, 16},   {"pd2ps/m", pd2ps_m, 16},   {"pd2dq/r", pd2dq_r, 16},
                  {"pd2dq/m", pd2dq_m, 16},   {"tpd2dq/r", tpd2dq_r, 16}, {"tpd2dq/m", tpd2dq_m, 16}};
    for (unsigned rc = 0; rc < 4; rc++) {
        printf("cross-half conversions, RC %u:\n", rc);
        uint32_t out[8];
        for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
            for (size_t c = 0; c < 2; c++) {
                set_csr(rc, 0);
                wide[c].f(ints[k], out);
                print_words(wide[c].name, out, wide[c].out_bytes, flags());
            }
        }
        for (size_t k = 0; k < sizeof floats / sizeof floats[0]; k++) {
            for (size_t c = 0; c < 2; c++) {
                set_csr(rc, 0);
                wide_f[c].f(floats[k], out);
                print_words(wide_f[c].name, out, wide_f[c].out_bytes, flags());
            }
        }
        for (size_t k = 0; k < sizeof doubles / sizeof doubles[0]; k++) {
            for (size_t c = 0; c < sizeof narrow / sizeof narrow[0]; c++) {
                set_csr(rc, 0);
                narrow[c].f(doubles[k], out);
                print_words(narrow[c].name, out, narrow[c].out_bytes, flags());
            }
        }
    }
}

/* ---- three-operand merges ---- */

#define SRC1 "vmovdqu %[src1], %%xmm1\n\t"
#define ONES "vpcmpeqd %%ymm2, %%ymm2, %%ymm2\n\t"
#define OUT "vmovdqu %%ymm2, %[out]\n\t"

F16C static void merges(void) {
    static const uint32_t src1[4] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
    int32_t i32 = -7;
    int64_t i64 = 0x123456789abcdefll;
    uint8_t b = 0xa5;
    uint16_t w = 0xbeef;
    uint32_t out[8];
#define MERGE(name, insn, ...)                                                                                     \
    do {                                                                                                           \
        memset(out, 0, sizeof out);                                                                                \
        __asm__ volatile(SRC1 ONES insn "\n\t" OUT : [out] "=m"(out) : [src1] "m"(src1), __VA_ARGS__ : "xmm1", "xmm2"); \
        print_words(name, out, 32, 0);                                                                             \
    } while (0)
    MERGE("vcvtsi2ss r32", "vcvtsi2ss %[v], %%xmm1, %%xmm2", [v] "r"(i32));
    MERGE("vcvtsi2ss m32", "vcvtsi2ssl %[v], %%xmm1, %%xmm2", [v] "m"(i32));
    MERGE("vcvtsi2ss r64", "vcvtsi2ss %[v], %%xmm1, %%xmm2", [v] "r"(i64));
    MERGE("vcvtsi2sd r32", "vcvtsi2sd %[v], %%xmm1, %%xmm2", [v] "r"(i32));
    MERGE("vcvtsi2sd m64", "vcvtsi2sdq %[v], %%xmm1, %%xmm2", [v] "m"(i64));
    MERGE("vpinsrb r32", "vpinsrb $13, %k[v], %%xmm1, %%xmm2", [v] "r"((uint32_t)b));
    MERGE("vpinsrb m8", "vpinsrb $2, %[v], %%xmm1, %%xmm2", [v] "m"(b));
    MERGE("vpinsrw r32", "vpinsrw $5, %k[v], %%xmm1, %%xmm2", [v] "r"((uint32_t)w));
    MERGE("vpinsrw m16", "vpinsrw $0, %[v], %%xmm1, %%xmm2", [v] "m"(w));
    MERGE("vpinsrd r32", "vpinsrd $3, %[v], %%xmm1, %%xmm2", [v] "r"(i32));
    MERGE("vpinsrd m32", "vpinsrd $1, %[v], %%xmm1, %%xmm2", [v] "m"(i32));
    MERGE("vpinsrq r64", "vpinsrq $1, %[v], %%xmm1, %%xmm2", [v] "r"(i64));
    MERGE("vpinsrq m64", "vpinsrq $0, %[v], %%xmm1, %%xmm2", [v] "m"(i64));
    /* Destination and first source the same register. */
    MERGE("vpinsrd same", "vpinsrd $2, %[v], %%xmm2, %%xmm2", [v] "r"(i32));
}

/* The intrinsics as the compiler emits them (inputs it cannot fold). */
F16C static void merge_intrinsics(const uint32_t *src1, const int32_t *i32, const int64_t *i64, uint32_t *out) {
    __m128i s = _mm_loadu_si128((const __m128i *)src1);
    _mm_storeu_ps((float *)out, _mm_cvtsi32_ss(_mm_castsi128_ps(s), *i32));
    _mm_storeu_pd((double *)(out + 4), _mm_cvtsi64_sd(_mm_castsi128_pd(s), *i64));
    _mm_storeu_si128((__m128i *)(out + 8), _mm_insert_epi8(s, *i32, 9));
    _mm_storeu_si128((__m128i *)(out + 12), _mm_insert_epi16(s, *i32, 6));
    _mm_storeu_si128((__m128i *)(out + 16), _mm_insert_epi32(s, *i32, 0));
    _mm_storeu_si128((__m128i *)(out + 20), _mm_insert_epi64(s, *i64, 1));
}

static void merges_by_compiler(void) {
    static const uint32_t src1[4] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
    static const int32_t i32 = -123456789;
    static const int64_t i64 = -0x123456789abcdefll;
    uint32_t out[24];
    merge_intrinsics(src1, &i32, &i64, out);
    static const char *names[] = {"cvtsi32_ss", "cvtsi64_sd", "insert_epi8", "insert_epi16", "insert_epi32", "insert_epi64"};
    for (int k = 0; k < 6; k++) {
        print_words(names[k], out + 4 * k, 16, 0);
    }
}

int main(void) {
    base_csr = _mm_getcsr();
    half_to_single(0);
    half_to_single(1);
    single_to_half_edges();
    single_to_half_sweep(0);
    single_to_half_sweep(1);
    scalar_halves();
    cross_half();
    merges();
    merges_by_compiler();
    _mm_setcsr(base_csr);
    return 0;
}
