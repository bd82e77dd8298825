/* SSE4.1 through intrinsics, each in a target("sse4.1") function (the
 * program never asks CPUID: it runs where SSE4.1 exists, Transit's
 * x86-64-v2): blends (immediate and XMM0-variable), dot products with NaN,
 * infinity and rounding-mode edges, insert/extract to registers and memory,
 * min/max, widening and narrowing, sign and zero extension from memory,
 * mpsadbw, phminposuw, ptest's three predicates and rounding in every
 * mode (including MXCSR's). Every result is printed in hex. */
#include <inttypes.h>
#include <smmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SSE41 __attribute__((target("sse4.1"), noinline))

static void show(const char *name, __m128i v) {
    uint32_t w[4];
    _mm_storeu_si128((__m128i *)w, v);
    printf("%-14s %08x %08x %08x %08x\n", name, w[0], w[1], w[2], w[3]);
}
#define SHOWPS(n, v) show(n, _mm_castps_si128(v))
#define SHOWPD(n, v) show(n, _mm_castpd_si128(v))

/* Inputs go through memory so the compiler cannot fold the intrinsics. */
static __m128i vi(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    volatile uint32_t w[4] = {a, b, c, d};
    return _mm_set_epi32(w[3], w[2], w[1], w[0]);
}
static __m128 vps(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return _mm_castsi128_ps(vi(a, b, c, d)); }
static __m128d vpd(uint64_t a, uint64_t b) { return _mm_castsi128_pd(vi(a, a >> 32, b, b >> 32)); }

static const uint32_t F_ONE = 0x3f800000, F_HALF = 0x3f000000, F_NHALF = 0xbf000000, F_1_5 = 0x3fc00000,
                      F_2_5 = 0x40200000, F_N2_5 = 0xc0200000, F_INF = 0x7f800000, F_NINF = 0xff800000,
                      F_QNAN = 0x7fc01234, F_SNAN = 0x7f801234, F_NSNAN = 0xff800001, F_DENORM = 0x00000001,
                      F_NZERO = 0x80000000, F_BIG = 0x4b000001, F_3 = 0x40400000, F_THIRD = 0x3eaaaaab;
static const uint64_t D_HALF = 0x3fe0000000000000, D_2_5 = 0x4004000000000000, D_N1_5 = 0xbff8000000000000,
                      D_SNAN = 0x7ff0000000000001, D_INF = 0x7ff0000000000000, D_THIRD = 0x3fd5555555555555,
                      D_3 = 0x4008000000000000, D_NZERO = 0x8000000000000000;

SSE41 static void blends(void) {
    __m128 a = vps(1, 2, 3, 4), b = vps(5, 6, 7, 8);
    SHOWPS("blendps 0", _mm_blend_ps(a, b, 0));
    SHOWPS("blendps 5", _mm_blend_ps(a, b, 5));
    SHOWPS("blendps f", _mm_blend_ps(a, b, 15));
    SHOWPD("blendpd 2", _mm_blend_pd(_mm_castps_pd(a), _mm_castps_pd(b), 2));
    show("pblendw a5", _mm_blend_epi16(vi(0x11112222, 0x33334444, 0x55556666, 0x77778888), vi(~0u, ~1u, ~2u, ~3u), 0xa5));
    __m128i mask = vi(0x80000000, 0x7fffffff, 0xffffffff, 0x00000080);
    SHOWPS("blendvps", _mm_blendv_ps(a, b, _mm_castsi128_ps(mask)));
    SHOWPD("blendvpd", _mm_blendv_pd(_mm_castps_pd(a), _mm_castps_pd(b), _mm_castsi128_pd(mask)));
    show("pblendvb", _mm_blendv_epi8(vi(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c),
                                     vi(0xf3f2f1f0, 0xf7f6f5f4, 0xfbfaf9f8, 0xfffefdfc), mask));
}

SSE41 static void dot_products(void) {
    __m128 a = vps(F_ONE, F_1_5, F_2_5, F_3), b = vps(F_3, F_THIRD, F_HALF, F_N2_5);
    SHOWPS("dpps ff", _mm_dp_ps(a, b, 0xff));
    SHOWPS("dpps 31", _mm_dp_ps(a, b, 0x31));
    SHOWPS("dpps c6", _mm_dp_ps(a, b, 0xc6));
    SHOWPS("dpps 0f", _mm_dp_ps(a, b, 0x0f));
    SHOWPS("dpps inf*0", _mm_dp_ps(vps(F_INF, F_ONE, 0, 0), vps(0, F_ONE, 0, 0), 0xff));
    /* One NaN product each: with several, which NaN comes back follows a
     * vendor's internal sum order (Intel's is not the SDM's). */
    SHOWPS("dpps nan", _mm_dp_ps(vps(F_ONE, F_SNAN, F_ONE, 0), vps(F_ONE, F_ONE, F_ONE, 0), 0xff));
    SHOWPS("dpps nan2", _mm_dp_ps(vps(F_ONE, F_ONE, F_QNAN, 0), vps(F_ONE, F_ONE, F_NSNAN, 0), 0xf1));
    SHOWPS("dpps masked", _mm_dp_ps(vps(F_INF, F_ONE, F_SNAN, 0), vps(0, F_ONE, F_ONE, 0), 0x2f));
    SHOWPS("dpps inf-inf", _mm_dp_ps(vps(F_INF, F_NINF, 0, 0), vps(F_ONE, F_ONE, 0, 0), 0x3f));
    SHOWPS("dpps -0", _mm_dp_ps(vps(F_NZERO, F_NZERO, F_NZERO, F_NZERO), vps(F_ONE, F_ONE, F_ONE, F_ONE), 0xff));
    SHOWPS("dpps denorm", _mm_dp_ps(vps(F_DENORM, F_BIG, 0, 0), vps(F_HALF, F_ONE, 0, 0), 0xff));
    __m128d c = vpd(D_2_5, D_THIRD), d = vpd(D_THIRD, D_3);
    SHOWPD("dppd 33", _mm_dp_pd(c, d, 0x33));
    SHOWPD("dppd 12", _mm_dp_pd(c, d, 0x12));
    SHOWPD("dppd nan", _mm_dp_pd(vpd(D_SNAN, D_INF), vpd(D_HALF, 0), 0x31));
    SHOWPD("dppd inf*0", _mm_dp_pd(vpd(D_HALF, D_INF), vpd(D_HALF, 0), 0x33));
    for (unsigned mode = 0; mode < 4; mode++) {
        unsigned saved = _MM_GET_ROUNDING_MODE();
        _MM_SET_ROUNDING_MODE(mode << 13);
        __m128 r = _mm_dp_ps(vps(F_THIRD, F_THIRD, F_THIRD, F_NHALF), vps(F_THIRD, F_3, F_ONE, F_THIRD), 0xf3);
        __m128d s = _mm_dp_pd(vpd(D_THIRD, D_N1_5), vpd(D_THIRD, D_THIRD), 0x33);
        _MM_SET_ROUNDING_MODE(saved);
        printf("rc %u ", mode);
        SHOWPS("dpps", r);
        printf("rc %u ", mode);
        SHOWPD("dppd", s);
    }
}

SSE41 static void inserts_extracts(void) {
    __m128i v = vi(0x83828180, 0x87868584, 0x8b8a8988, 0x8f8e8d8c);
    volatile int lane_src = 0x1234567f;
    printf("pextrb        %08x %08x\n", _mm_extract_epi8(v, 0), _mm_extract_epi8(v, 15));
    printf("pextrw        %08x %08x\n", _mm_extract_epi16(v, 1), _mm_extract_epi16(v, 7));
    printf("pextrd        %08x %08x\n", _mm_extract_epi32(v, 0), _mm_extract_epi32(v, 3));
    printf("pextrq        %016" PRIx64 " %016" PRIx64 "\n", (uint64_t)_mm_extract_epi64(v, 0),
           (uint64_t)_mm_extract_epi64(v, 1));
    printf("extractps     %08x\n", _mm_extract_ps(_mm_castsi128_ps(v), 2));
    uint8_t mem8[4];
    uint16_t mem16[2];
    uint32_t mem32[2];
    uint64_t mem64[2];
    memset(mem8, 0xaa, sizeof mem8);
    mem8[1] = _mm_extract_epi8(v, 9);
    mem16[1] = _mm_extract_epi16(v, 5);
    mem32[1] = _mm_extract_epi32(v, 2);
    mem64[1] = _mm_extract_epi64(v, 1);
    printf("to memory     %02x %02x %04x %08x %016" PRIx64 "\n", mem8[0], mem8[1], mem16[1], mem32[1], mem64[1]);
    show("pinsrb", _mm_insert_epi8(v, lane_src, 13));
    show("pinsrd", _mm_insert_epi32(v, lane_src, 1));
    show("pinsrq", _mm_insert_epi64(v, (int64_t)lane_src << 20, 1));
    volatile uint8_t byte = 0x5a;
    show("pinsrb mem", _mm_insert_epi8(v, byte, 0));
    __m128 a = vps(F_ONE, F_1_5, F_2_5, F_3), b = vps(F_INF, F_QNAN, F_SNAN, F_NZERO);
    SHOWPS("insertps 00", _mm_insert_ps(a, b, 0x00));
    SHOWPS("insertps e5", _mm_insert_ps(a, b, 0xe5));
    SHOWPS("insertps 9a", _mm_insert_ps(a, b, 0x9a));
    SHOWPS("insertps 0f", _mm_insert_ps(a, b, 0x0f));
    volatile float f = 7.0f;
    SHOWPS("insertps mem", _mm_insert_ps(a, _mm_load_ss((const float *)&f), 0x30));
}

SSE41 static void integer_ops(void) {
    __m128i a = vi(0x80017fff, 0xffffffff, 0x00000000, 0x7fffffff), b = vi(0x7fff8000, 0x00000001, 0x80000000, 0xfffffffe);
    show("pmaxsb", _mm_max_epi8(a, b));
    show("pmaxsd", _mm_max_epi32(a, b));
    show("pmaxud", _mm_max_epu32(a, b));
    show("pmaxuw", _mm_max_epu16(a, b));
    show("pminsb", _mm_min_epi8(a, b));
    show("pminsd", _mm_min_epi32(a, b));
    show("pminud", _mm_min_epu32(a, b));
    show("pminuw", _mm_min_epu16(a, b));
    show("pmuldq", _mm_mul_epi32(a, b));
    show("pmuldq 2", _mm_mul_epi32(vi(0x80000000, 5, 0x80000000, 6), vi(0x80000000, 7, 0x7fffffff, 8)));
    show("pmulld", _mm_mullo_epi32(a, b));
    show("packusdw", _mm_packus_epi32(a, b));
    show("packusdw 2", _mm_packus_epi32(vi(65535, 65536, 1, 0xffff0000), vi(0x12345, 32768, 0x8000ffff, 0xffff)));
    show("pcmpeqq", _mm_cmpeq_epi64(vi(1, 2, 3, 4), vi(1, 2, 3, 5)));
    show("pcmpeqq 2", _mm_cmpeq_epi64(vi(0, 0, ~0u, ~0u), vi(0, 0, ~0u, ~0u)));
    show("phminposuw", _mm_minpos_epu16(vi(0x00090007, 0x00030005, 0xffff0003, 0x00040008)));
    show("phminposuw 2", _mm_minpos_epu16(vi(~0u, ~0u, ~0u, ~0u)));
    show("phminposuw 3", _mm_minpos_epu16(vi(0x10000, 1, 0, 0)));
    __m128i x = vi(0x04030201, 0x08070605, 0xf0e0d0c0, 0x00ff7f80), y = vi(0xff000102, 0x10203040, 0x11223344, 0x80808080);
    for (int imm = 0; imm < 8; imm++) {
        char name[16];
        snprintf(name, sizeof name, "mpsadbw %d", imm);
        switch (imm) {
        case 0: show(name, _mm_mpsadbw_epu8(x, y, 0)); break;
        case 1: show(name, _mm_mpsadbw_epu8(x, y, 1)); break;
        case 2: show(name, _mm_mpsadbw_epu8(x, y, 2)); break;
        case 3: show(name, _mm_mpsadbw_epu8(x, y, 3)); break;
        case 4: show(name, _mm_mpsadbw_epu8(x, y, 4)); break;
        case 5: show(name, _mm_mpsadbw_epu8(x, y, 5)); break;
        case 6: show(name, _mm_mpsadbw_epu8(x, y, 6)); break;
        default: show(name, _mm_mpsadbw_epu8(x, y, 7)); break;
        }
    }
}

SSE41 static void extensions(void) {
    static const uint8_t src[16] __attribute__((aligned(16))) = {0x80, 0x7f, 0xff, 0x01, 0x00, 0xfe, 0x81, 0x40,
                                                                   0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
    const uint8_t *volatile p = src;
    show("pmovsxbw", _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)p)));
    show("pmovsxbd", _mm_cvtepi8_epi32(_mm_cvtsi32_si128(*(const int *)p)));
    show("pmovsxbq", _mm_cvtepi8_epi64(_mm_cvtsi32_si128(*(const uint16_t *)p)));
    show("pmovsxwd", _mm_cvtepi16_epi32(_mm_loadl_epi64((const __m128i *)p)));
    show("pmovsxwq", _mm_cvtepi16_epi64(_mm_cvtsi32_si128(*(const int *)p)));
    show("pmovsxdq", _mm_cvtepi32_epi64(_mm_loadl_epi64((const __m128i *)p)));
    show("pmovzxbw", _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)p)));
    show("pmovzxbd", _mm_cvtepu8_epi32(_mm_cvtsi32_si128(*(const int *)p)));
    show("pmovzxbq", _mm_cvtepu8_epi64(_mm_cvtsi32_si128(*(const uint16_t *)p)));
    show("pmovzxwd", _mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)p)));
    show("pmovzxwq", _mm_cvtepu16_epi64(_mm_cvtsi32_si128(*(const int *)p)));
    show("pmovzxdq", _mm_cvtepu32_epi64(_mm_loadl_epi64((const __m128i *)p)));
    __m128i r = _mm_load_si128((const __m128i *)p);
    show("pmovsxbw reg", _mm_cvtepi8_epi16(_mm_srli_si128(r, 8)));
    show("pmovzxwq reg", _mm_cvtepu16_epi64(_mm_srli_si128(r, 4)));
    show("movntdqa", _mm_stream_load_si128((__m128i *)p));
}

SSE41 static void ptests(void) {
    static const uint32_t cases[][8] = {
        {0, 0, 0, 0, 0, 0, 0, 0},
        {1, 0, 0, 0, 1, 0, 0, 0},
        {1, 0, 0, 0, 2, 0, 0, 0},
        {~0u, ~0u, ~0u, ~0u, 0, 0, 0, 0x80000000},
        {0, 0, 0, 0x80000000, ~0u, ~0u, ~0u, ~0u},
        {0xff, 0, 0, 0, 0x0f, 0, 0, 0x1},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint32_t *c = cases[i];
        __m128i a = vi(c[0], c[1], c[2], c[3]), b = vi(c[4], c[5], c[6], c[7]);
        printf("ptest %u        z=%d c=%d nzc=%d\n", i, _mm_testz_si128(a, b), _mm_testc_si128(a, b),
               _mm_testnzc_si128(a, b));
    }
    /* In loops only ZF or only CF is live after ptest (Transit's short paths). */
    unsigned zs = 0, cs = 0;
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        __m128i a = _mm_loadu_si128((const __m128i *)cases[i]), b = _mm_loadu_si128((const __m128i *)(cases[i] + 4));
        if (_mm_testz_si128(a, b)) zs |= 1u << i;
    }
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        __m128i a = _mm_loadu_si128((const __m128i *)cases[i]), b = _mm_loadu_si128((const __m128i *)(cases[i] + 4));
        if (_mm_testc_si128(a, b)) cs += i + 1;
    }
    printf("ptest loops    z=%02x c=%u\n", zs, cs);
}

static const uint32_t ROUND_PS[][4] = {
    {F_HALF, F_NHALF, F_1_5, F_2_5},
    {F_N2_5, F_NZERO, F_DENORM, F_BIG},
    {F_SNAN, F_QNAN, F_INF, F_NSNAN},
    {F_THIRD, 0xc0e00001, 0x4effffff, 0xcb7fffff},
};

#define ROUND_ALL(imm)                                                                                              \
    do {                                                                                                            \
        for (unsigned i = 0; i < 4; i++) {                                                                          \
            const uint32_t *c = ROUND_PS[i];                                                                        \
            __m128 v = vps(c[0], c[1], c[2], c[3]);                                                                 \
            printf("imm %02x ", imm);                                                                               \
            SHOWPS("roundps", _mm_round_ps(v, imm));                                                                \
            printf("imm %02x ", imm);                                                                               \
            SHOWPS("roundss", _mm_round_ss(vps(F_3, F_3, F_3, F_3), v, imm));                                       \
        }                                                                                                           \
        __m128d d1 = vpd(D_2_5, D_N1_5), d2 = vpd(D_SNAN, D_NZERO | 1);                                             \
        printf("imm %02x ", imm);                                                                                   \
        SHOWPD("roundpd", _mm_round_pd(d1, imm));                                                                   \
        printf("imm %02x ", imm);                                                                                   \
        SHOWPD("roundpd nan", _mm_round_pd(d2, imm));                                                               \
        printf("imm %02x ", imm);                                                                                   \
        SHOWPD("roundsd", _mm_round_sd(vpd(D_3, D_3), vpd(D_HALF, D_2_5), imm));                                    \
    } while (0)

SSE41 static void rounding(void) {
    ROUND_ALL(0x00);
    ROUND_ALL(0x01);
    ROUND_ALL(0x02);
    ROUND_ALL(0x03);
    ROUND_ALL(0x08);
    ROUND_ALL(0x0b);
    for (unsigned mode = 0; mode < 4; mode++) {
        unsigned saved = _MM_GET_ROUNDING_MODE();
        _MM_SET_ROUNDING_MODE(mode << 13);
        __m128 r = _mm_round_ps(vps(F_HALF, F_NHALF, F_1_5, F_N2_5), _MM_FROUND_CUR_DIRECTION);
        __m128 r2 = _mm_round_ps(vps(F_HALF, F_NHALF, F_1_5, F_N2_5), 0x0c);
        __m128d s = _mm_round_sd(vpd(D_3, D_3), vpd(D_2_5, 0), _MM_FROUND_CUR_DIRECTION);
        _MM_SET_ROUNDING_MODE(saved);
        printf("rc %u ", mode);
        SHOWPS("round mxcsr", r);
        printf("rc %u ", mode);
        SHOWPS("round mxcsr 0c", r2);
        printf("rc %u ", mode);
        SHOWPD("roundsd mxcsr", s);
    }
    /* Memory sources. */
    static const float fm[4] __attribute__((aligned(16))) = {2.5f, -0.5f, 1e30f, -3.75f};
    static const double dm[2] __attribute__((aligned(16))) = {-2.5, 0.75};
    const float *volatile pf = fm;
    const double *volatile pd = dm;
    SHOWPS("roundps mem", _mm_round_ps(_mm_load_ps(pf), 1));
    SHOWPS("roundss mem", _mm_round_ss(vps(F_3, F_3, F_3, F_3), _mm_load_ss(pf + 3), 2));
    SHOWPD("roundpd mem", _mm_round_pd(_mm_load_pd(pd), 0));
    SHOWPD("roundsd mem", _mm_round_sd(vpd(D_3, D_3), _mm_load_sd(pd), 3));
}

int main(void) {
    blends();
    dot_products();
    inserts_extracts();
    integer_ops();
    extensions();
    ptests();
    rounding();
    return 0;
}
