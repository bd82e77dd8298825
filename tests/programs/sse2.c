/* SSE2 through intrinsics (baseline x86-64, so nothing newer): packed
 * integer add/sub with and without saturation, multiplies (low, high,
 * widening), sum of absolute differences, compares and movemask, shuffles
 * and unpacks, packs, shifts by immediate and by register, logic, packed
 * doubles and singles with min/max NaN rules, conversions, and unaligned
 * loads and stores. Every lane is printed. */
#include <emmintrin.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void show8(const char *name, __m128i v) {
    uint8_t b[16];
    _mm_storeu_si128((__m128i *)b, v);
    printf("%-12s", name);
    for (int i = 0; i < 16; i++) printf(" %02x", b[i]);
    printf("\n");
}

static void show16(const char *name, __m128i v) {
    int16_t h[8];
    _mm_storeu_si128((__m128i *)h, v);
    printf("%-12s", name);
    for (int i = 0; i < 8; i++) printf(" %6d", h[i]);
    printf("\n");
}

static void show32(const char *name, __m128i v) {
    uint32_t w[4];
    _mm_storeu_si128((__m128i *)w, v);
    printf("%-12s %08x %08x %08x %08x\n", name, w[0], w[1], w[2], w[3]);
}

static void show64(const char *name, __m128i v) {
    uint64_t q[2];
    _mm_storeu_si128((__m128i *)q, v);
    printf("%-12s %016" PRIx64 " %016" PRIx64 "\n", name, q[0], q[1]);
}

static void showpd(const char *name, __m128d v) {
    double d[2];
    _mm_storeu_pd(d, v);
    uint64_t bits[2];
    memcpy(bits, d, sizeof bits);
    printf("%-12s %g %g (%016" PRIx64 " %016" PRIx64 ")\n", name, d[0], d[1], bits[0], bits[1]);
}

static void showps(const char *name, __m128 v) {
    float f[4];
    _mm_storeu_ps(f, v);
    uint32_t bits[4];
    memcpy(bits, f, sizeof bits);
    printf("%-12s %g %g %g %g (%08x %08x %08x %08x)\n", name, f[0], f[1], f[2], f[3], bits[0], bits[1], bits[2], bits[3]);
}

/* Launders a constant through memory so the compiler cannot fold the
 * intrinsic (GCC folds out-of-range conversions differently from the CPU). */
static float vf(float x) {
    volatile float v = x;
    return v;
}
static double vd(double x) {
    volatile double v = x;
    return v;
}
static int vi(int x) {
    volatile int v = x;
    return v;
}

int main(void) {
    static volatile uint8_t source[48];
    for (int i = 0; i < 48; i++) source[i] = (uint8_t)(i * 37 + 200);
    uint8_t unaligned[48];
    for (int i = 0; i < 48; i++) unaligned[i] = source[i];
    __m128i a = _mm_loadu_si128((const __m128i *)(unaligned + 1));
    __m128i b = _mm_loadu_si128((const __m128i *)(unaligned + 19));
    show8("a", a);
    show8("b", b);
    show8("add8", _mm_add_epi8(a, b));
    show8("adds_epu8", _mm_adds_epu8(a, b));
    show8("adds_epi8", _mm_adds_epi8(a, b));
    show8("subs_epu8", _mm_subs_epu8(a, b));
    show8("avg_epu8", _mm_avg_epu8(a, b));
    show8("min_epu8", _mm_min_epu8(a, b));
    show8("max_epu8", _mm_max_epu8(a, b));
    show8("cmpeq8", _mm_cmpeq_epi8(a, _mm_set1_epi8((char)unaligned[5])));
    show8("cmpgt8", _mm_cmpgt_epi8(a, b));
    printf("movemask    %04x %04x\n", _mm_movemask_epi8(a), _mm_movemask_epi8(_mm_cmpgt_epi8(a, b)));
    show64("sad_epu8", _mm_sad_epu8(a, b));
    show16("add16", _mm_add_epi16(a, b));
    show16("adds_epi16", _mm_adds_epi16(a, b));
    show16("subs_epu16", _mm_subs_epu16(a, b));
    show16("mullo16", _mm_mullo_epi16(a, b));
    show16("mulhi16", _mm_mulhi_epi16(a, b));
    show16("mulhi_epu16", _mm_mulhi_epu16(a, b));
    show32("madd16", _mm_madd_epi16(a, b));
    show16("min_epi16", _mm_min_epi16(a, b));
    show16("cmpgt16", _mm_cmpgt_epi16(a, b));
    show32("add32", _mm_add_epi32(a, b));
    show32("sub32", _mm_sub_epi32(a, b));
    show64("mul_epu32", _mm_mul_epu32(a, b));
    show32("cmpgt32", _mm_cmpgt_epi32(a, b));
    show64("add64", _mm_add_epi64(a, b));
    show64("sub64", _mm_sub_epi64(a, b));
    static volatile int count = 5;
    __m128i shift = _mm_cvtsi32_si128(count);
    show16("slli16 3", _mm_slli_epi16(a, 3));
    show16("srai16 reg", _mm_sra_epi16(a, shift));
    show16("srli16 reg", _mm_srl_epi16(a, shift));
    show32("sll32 reg", _mm_sll_epi32(a, shift));
    show32("srai32 31", _mm_srai_epi32(a, 31));
    show64("srl64 reg", _mm_srl_epi64(a, shift));
    show64("sll64 40", _mm_slli_epi64(a, 40));
    show8("bslli 3", _mm_slli_si128(a, 3));
    show8("bsrli 5", _mm_srli_si128(a, 5));
    show32("shuffle32", _mm_shuffle_epi32(a, _MM_SHUFFLE(0, 3, 1, 2)));
    show16("shufflelo", _mm_shufflelo_epi16(a, _MM_SHUFFLE(1, 1, 3, 0)));
    show16("shufflehi", _mm_shufflehi_epi16(a, _MM_SHUFFLE(2, 0, 3, 1)));
    show8("unpacklo8", _mm_unpacklo_epi8(a, b));
    show16("unpackhi16", _mm_unpackhi_epi16(a, b));
    show32("unpacklo32", _mm_unpacklo_epi32(a, b));
    show64("unpackhi64", _mm_unpackhi_epi64(a, b));
    show8("packs16", _mm_packs_epi16(a, b));
    show8("packus16", _mm_packus_epi16(a, b));
    show16("packs32", _mm_packs_epi32(a, b));
    show64("and", _mm_and_si128(a, b));
    show64("andnot", _mm_andnot_si128(a, b));
    show64("or", _mm_or_si128(a, b));
    show64("xor", _mm_xor_si128(a, b));
    printf("extract16   %d, cvtsi128 %d\n", _mm_extract_epi16(a, 5), _mm_cvtsi128_si32(b));
    show16("insert16", _mm_insert_epi16(a, -1234, 2));

    static volatile double zero = 0.0;
    double nan_value = zero / zero;
    __m128d x = _mm_set_pd(vd(-2.5), vd(9.0)), y = _mm_set_pd(nan_value, vd(0.75)), z = _mm_set_pd(vd(1e300), vd(-0.0));
    showpd("add_pd", _mm_add_pd(x, y));
    showpd("mul_pd", _mm_mul_pd(x, z));
    showpd("div_pd", _mm_div_pd(x, y));
    showpd("sqrt_pd", _mm_sqrt_pd(x));
    showpd("min_pd x,y", _mm_min_pd(x, y));
    showpd("min_pd y,x", _mm_min_pd(y, x));
    showpd("max_pd x,y", _mm_max_pd(x, y));
    showpd("max_pd y,x", _mm_max_pd(y, x));
    showpd("max_pd 0,-0", _mm_max_pd(_mm_setzero_pd(), z));
    showpd("cmplt_pd", _mm_cmplt_pd(x, y));
    showpd("cmpunord_pd", _mm_cmpunord_pd(x, y));
    printf("movemask_pd %d %d\n", _mm_movemask_pd(x), _mm_movemask_pd(_mm_cmpneq_pd(x, y)));
    printf("comisd      lt %d eq %d, ucomisd with NaN: eq %d\n", _mm_comilt_sd(x, y), _mm_comieq_sd(x, x),
           _mm_ucomieq_sd(_mm_unpackhi_pd(y, y), y));
    showpd("shuffle_pd", _mm_shuffle_pd(x, z, 1));
    showpd("unpacklo_pd", _mm_unpacklo_pd(x, z));
    showpd("and_pd sign", _mm_and_pd(z, _mm_castsi128_pd(_mm_set1_epi64x((long long)0x8000000000000000ull))));
    __m128 f = _mm_set_ps(vf(3.5f), vf(-1.25f), vf(1e30f), vf(7.0f)), g = _mm_set_ps(vf(-0.0f), vf(2.0f), vf(1e20f), (float)nan_value);
    showps("add_ps", _mm_add_ps(f, g));
    showps("mul_ps", _mm_mul_ps(f, g));
    showps("min_ps", _mm_min_ps(f, g));
    showps("max_ps", _mm_max_ps(g, f));
    showps("cmpge_ps", _mm_cmpge_ps(f, g));
    show32("cvttps", _mm_cvttps_epi32(_mm_set_ps(vf(-2.7f), vf(2.7f), vf(3e9f), vf(-0.5f))));
    show32("cvtps", _mm_cvtps_epi32(_mm_set_ps(vf(-2.5f), vf(2.5f), vf(3.5f), vf(-3e9f))));
    showps("cvtepi32", _mm_cvtepi32_ps(_mm_set_epi32(vi(-7), vi(16777217), vi(0x7fffffff), vi(3))));
    showpd("cvtps_pd", _mm_cvtps_pd(f));
    showps("cvtpd_ps", _mm_cvtpd_ps(z));
    show32("cvttpd", _mm_cvttpd_epi32(_mm_set_pd(vd(-1e10), vd(123.9))));
    showpd("cvtepi32_pd", _mm_cvtepi32_pd(_mm_set_epi32(0, 0, vi(-5), vi(2147483647))));
    printf("cvtsd_si64  %lld cvttsd_si64 %lld cvtsd_si32 nan %d\n", (long long)_mm_cvtsd_si64(_mm_set_sd(vd(-2.5))),
           (long long)_mm_cvttsd_si64(_mm_set_sd(vd(-2.5))), _mm_cvtsd_si32(_mm_set_sd(nan_value)));

    uint8_t out[40] = {0};
    _mm_storeu_si128((__m128i *)(out + 3), _mm_add_epi8(a, b));
    _mm_storel_epi64((__m128i *)(out + 21), b);
    uint64_t h = 0;
    for (int i = 0; i < 40; i++) h = h * 131 + out[i];
    printf("unaligned stores hash %016" PRIx64 "\n", h);
    return 0;
}
