/* AVX, AVX2 and FMA through intrinsics, each in a target("avx2,fma")
 * function (the program never asks CPUID: it runs where they exist,
 * Transit's x86-64-v3): 256-bit integer arithmetic, compares, packs and
 * unpacks per 128-bit lane, shifts by immediate, by xmm count and per
 * element, the lane-crossing permutes (vpermd/ps, vpermq/pd, vperm2i128),
 * vpermilps/pd, shuffles, blends (immediate and variable), broadcasts,
 * inserts and extracts, sign and zero extension to ymm, movemasks,
 * vptest/vtestps, float arithmetic with NaN and infinity edges, compares
 * with all 32 predicates, conversions across the halves, rounding, and the
 * fused multiply-adds with a single rounding. Every result is printed in
 * hex. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>

#define AVX2 __attribute__((target("avx2,fma"), noinline))

AVX2 static void show(const char *name, __m256i v) {
    uint32_t w[8];
    _mm256_storeu_si256((__m256i *)w, v);
    printf("%-16s %08x %08x %08x %08x  %08x %08x %08x %08x\n", name, w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
}
AVX2 static void show128(const char *name, __m128i v) {
    uint32_t w[4];
    _mm_storeu_si128((__m128i *)w, v);
    printf("%-16s %08x %08x %08x %08x\n", name, w[0], w[1], w[2], w[3]);
}
#define SHOWPS(n, v) show(n, _mm256_castps_si256(v))
#define SHOWPD(n, v) show(n, _mm256_castpd_si256(v))

/* Inputs go through memory so the compiler cannot fold the intrinsics. */
AVX2 static __m256i vi(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f, uint32_t g, uint32_t h) {
    volatile uint32_t w[8] = {a, b, c, d, e, f, g, h};
    return _mm256_loadu_si256((const __m256i *)w);
}
AVX2 static __m256 vps(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f, uint32_t g, uint32_t h) {
    return _mm256_castsi256_ps(vi(a, b, c, d, e, f, g, h));
}
AVX2 static __m256d vpd(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    return _mm256_castsi256_pd(vi(a, a >> 32, b, b >> 32, c, c >> 32, d, d >> 32));
}

static const uint32_t F_ONE = 0x3f800000, F_HALF = 0x3f000000, F_1_5 = 0x3fc00000, F_2_5 = 0x40200000,
                      F_N2_5 = 0xc0200000, F_INF = 0x7f800000, F_NINF = 0xff800000, F_QNAN = 0x7fc01234,
                      F_SNAN = 0x7f801234, F_DENORM = 0x00000001, F_NZERO = 0x80000000, F_3 = 0x40400000,
                      F_THIRD = 0x3eaaaaab, F_BIG = 0x4f000000, F_NBIG = 0xcf800001;
static const uint64_t D_HALF = 0x3fe0000000000000, D_2_5 = 0x4004000000000000, D_N1_5 = 0xbff8000000000000,
                      D_SNAN = 0x7ff0000000000001, D_INF = 0x7ff0000000000000, D_THIRD = 0x3fd5555555555555,
                      D_3 = 0x4008000000000000, D_BIG = 0x41e0000000000000;

AVX2 static __m256i a_int(void) {
    return vi(0x03020100, 0x87868584, 0x7f7e7d7c, 0xfffefdfc, 0x80000000, 0x7fffffff, 0x00010002, 0xfffe8001);
}
AVX2 static __m256i b_int(void) {
    return vi(0x01ff7f80, 0x00000001, 0xffffffff, 0x12345678, 0x80000001, 0x00000002, 0xffff7fff, 0x00008000);
}

AVX2 static void integer_arithmetic(void) {
    __m256i a = a_int(), b = b_int();
    show("vpaddb", _mm256_add_epi8(a, b));
    show("vpaddw", _mm256_add_epi16(a, b));
    show("vpaddd", _mm256_add_epi32(a, b));
    show("vpaddq", _mm256_add_epi64(a, b));
    show("vpaddsb", _mm256_adds_epi8(a, b));
    show("vpaddusw", _mm256_adds_epu16(a, b));
    show("vpsubsw", _mm256_subs_epi16(a, b));
    show("vpsubusb", _mm256_subs_epu8(a, b));
    show("vpmullw", _mm256_mullo_epi16(a, b));
    show("vpmulld", _mm256_mullo_epi32(a, b));
    show("vpmulhw", _mm256_mulhi_epi16(a, b));
    show("vpmulhuw", _mm256_mulhi_epu16(a, b));
    show("vpmulhrsw", _mm256_mulhrs_epi16(a, b));
    show("vpmuludq", _mm256_mul_epu32(a, b));
    show("vpmuldq", _mm256_mul_epi32(a, b));
    show("vpmaddwd", _mm256_madd_epi16(a, b));
    show("vpmaddubsw", _mm256_maddubs_epi16(a, b));
    show("vpsadbw", _mm256_sad_epu8(a, b));
    show("vmpsadbw 2d", _mm256_mpsadbw_epu8(a, b, 0x2d));
    show("vpavgb", _mm256_avg_epu8(a, b));
    show("vpminsd", _mm256_min_epi32(a, b));
    show("vpmaxub", _mm256_max_epu8(a, b));
    show("vpminuw", _mm256_min_epu16(a, b));
    show("vpabsb", _mm256_abs_epi8(a));
    show("vpsignw", _mm256_sign_epi16(a, b));
    show("vphaddd", _mm256_hadd_epi32(a, b));
    show("vphsubsw", _mm256_hsubs_epi16(a, b));
    show("vpcmpeqb", _mm256_cmpeq_epi8(a, b));
    show("vpcmpgtd", _mm256_cmpgt_epi32(a, b));
    show("vpcmpgtq", _mm256_cmpgt_epi64(a, b));
    show("vpand", _mm256_and_si256(a, b));
    show("vpandn", _mm256_andnot_si256(a, b));
    show("vpxor", _mm256_xor_si256(a, b));
    show("vpacksswb", _mm256_packs_epi16(a, b));
    show("vpackusdw", _mm256_packus_epi32(a, b));
    show("vpunpcklbw", _mm256_unpacklo_epi8(a, b));
    show("vpunpckhqdq", _mm256_unpackhi_epi64(a, b));
    show("vpalignr 5", _mm256_alignr_epi8(a, b, 5));
}

AVX2 static void shifts(void) {
    __m256i a = a_int();
    show("vpsllw 3", _mm256_slli_epi16(a, 3));
    show("vpsrld 31", _mm256_srli_epi32(a, 31));
    show("vpsraw 15", _mm256_srai_epi16(a, 15));
    show("vpsllq 40", _mm256_slli_epi64(a, 40));
    show("vpslldq 3", _mm256_slli_si256(a, 3));
    show("vpsrldq 9", _mm256_srli_si256(a, 9));
    show("vpsrad xmm 40", _mm256_sra_epi32(a, _mm_cvtsi32_si128(40)));
    show("vpsllq xmm 7", _mm256_sll_epi64(a, _mm_cvtsi32_si128(7)));
    __m256i counts = vi(0, 1, 31, 32, 33, 0xffffffff, 16, 5);
    show("vpsllvd", _mm256_sllv_epi32(a, counts));
    show("vpsrlvd", _mm256_srlv_epi32(a, counts));
    show("vpsravd", _mm256_srav_epi32(a, counts));
    __m256i qcounts = vi(63, 0, 64, 0, 1, 0, 0xffffffff, 0xffffffff);
    show("vpsllvq", _mm256_sllv_epi64(a, qcounts));
    show("vpsrlvq", _mm256_srlv_epi64(a, qcounts));
    show128("vpsllvd xmm", _mm_sllv_epi32(_mm256_castsi256_si128(a), _mm256_castsi256_si128(counts)));
}

AVX2 static void permutes(void) {
    __m256i a = a_int(), b = b_int();
    __m256i idx = vi(7, 0, 5, 0xfffffff9, 3, 3, 0x80000001, 4);
    show("vpermd", _mm256_permutevar8x32_epi32(a, idx));
    SHOWPS("vpermps", _mm256_permutevar8x32_ps(_mm256_castsi256_ps(b), idx));
    show("vpermq 1b", _mm256_permute4x64_epi64(a, 0x1b));
    SHOWPD("vpermpd 72", _mm256_permute4x64_pd(_mm256_castsi256_pd(b), 0x72));
    show("vperm2i128 21", _mm256_permute2x128_si256(a, b, 0x21));
    show("vperm2i128 83", _mm256_permute2x128_si256(a, b, 0x83));
    SHOWPS("vpermilps 1b", _mm256_permute_ps(_mm256_castsi256_ps(a), 0x1b));
    SHOWPD("vpermilpd 9", _mm256_permute_pd(_mm256_castsi256_pd(a), 0x9));
    SHOWPS("vpermilps var", _mm256_permutevar_ps(_mm256_castsi256_ps(a), idx));
    SHOWPD("vpermilpd var", _mm256_permutevar_pd(_mm256_castsi256_pd(a), vi(2, 0, 0, 0, 3, 0, 0xfffffffd, 0)));
    show128("vpermilps x var", _mm_castps_si128(_mm_permutevar_ps(_mm256_castps256_ps128(_mm256_castsi256_ps(b)),
                                                                  _mm256_castsi256_si128(idx))));
    show("vpshufb", _mm256_shuffle_epi8(a, vi(0x80010203, 0x0f0e0d0c, 0x11223344, 0x8f7f0605, 0, 0x01010101, 0xfedcba98, 0x76543210)));
    show("vpshufd 4e", _mm256_shuffle_epi32(a, 0x4e));
    show("vpshufhw 1b", _mm256_shufflehi_epi16(a, 0x1b));
    SHOWPS("vshufps 9c", _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0x9c));
    SHOWPD("vshufpd 6", _mm256_shuffle_pd(_mm256_castsi256_pd(a), _mm256_castsi256_pd(b), 0x6));
    SHOWPS("vunpckhps", _mm256_unpackhi_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b)));
}

AVX2 static void blends_and_moves(void) {
    __m256i a = a_int(), b = b_int();
    __m256i mask = vi(0x80000000, 0x7fffffff, 0xffffffff, 0x00000080, 0, 0x80808080, 0x00800000, 0xff000000);
    show("vpblendd a5", _mm256_blend_epi32(a, b, 0xa5));
    show("vpblendw 3c", _mm256_blend_epi16(a, b, 0x3c));
    SHOWPS("vblendps 96", _mm256_blend_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0x96));
    SHOWPD("vblendpd 5", _mm256_blend_pd(_mm256_castsi256_pd(a), _mm256_castsi256_pd(b), 0x5));
    SHOWPS("vblendvps", _mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _mm256_castsi256_ps(mask)));
    SHOWPD("vblendvpd", _mm256_blendv_pd(_mm256_castsi256_pd(a), _mm256_castsi256_pd(b), _mm256_castsi256_pd(mask)));
    show("vpblendvb", _mm256_blendv_epi8(a, b, mask));
    show("vpbroadcastb", _mm256_broadcastb_epi8(_mm256_castsi256_si128(b)));
    show("vpbroadcastw", _mm256_broadcastw_epi16(_mm256_castsi256_si128(b)));
    show("vpbroadcastq", _mm256_broadcastq_epi64(_mm256_castsi256_si128(b)));
    show("vbroadcasti128", _mm256_broadcastsi128_si256(_mm256_extracti128_si256(a, 1)));
    show("vinserti128 1", _mm256_inserti128_si256(a, _mm256_castsi256_si128(b), 1));
    show("vinserti128 0", _mm256_inserti128_si256(a, _mm256_extracti128_si256(b, 1), 0));
    show("vpmovsxbw", _mm256_cvtepi8_epi16(_mm256_castsi256_si128(a)));
    show("vpmovzxbd", _mm256_cvtepu8_epi32(_mm256_castsi256_si128(a)));
    show("vpmovsxbq", _mm256_cvtepi8_epi64(_mm256_castsi256_si128(a)));
    show("vpmovsxwd", _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)));
    show("vpmovzxwq", _mm256_cvtepu16_epi64(_mm256_castsi256_si128(b)));
    show("vpmovsxdq", _mm256_cvtepi32_epi64(_mm256_castsi256_si128(b)));
    printf("vpmovmskb        %08x\n", _mm256_movemask_epi8(a));
    /* Right after a byte compare (whose bytes are all ones or zero). */
    __m256i low_bytes = _mm256_min_epu8(a, b);
    printf("vpcmpeqb mask    %08x %08x\n", _mm256_movemask_epi8(_mm256_cmpeq_epi8(a, low_bytes)),
           _mm256_movemask_epi8(_mm256_cmpgt_epi8(a, b)));
    printf("pcmpeqb mask     %04x\n", _mm_movemask_epi8(_mm_cmpeq_epi8(_mm256_castsi256_si128(low_bytes), _mm256_castsi256_si128(b))));
    printf("vmovmskps        %08x\n", _mm256_movemask_ps(_mm256_castsi256_ps(b)));
    printf("vmovmskpd        %08x\n", _mm256_movemask_pd(_mm256_castsi256_pd(a)));
    __m256i zero = _mm256_setzero_si256(), ones = _mm256_cmpeq_epi32(a, a);
    printf("vptest z/c/nzc   %d %d %d  %d %d %d\n", _mm256_testz_si256(a, b), _mm256_testc_si256(a, b),
           _mm256_testnzc_si256(a, b), _mm256_testz_si256(a, zero), _mm256_testc_si256(ones, a),
           _mm256_testnzc_si256(ones, a));
    printf("vtestps z/c/nzc  %d %d %d\n", _mm256_testz_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(mask)),
           _mm256_testc_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(mask)),
           _mm256_testnzc_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b)));
    printf("vtestpd z/c/nzc  %d %d %d\n", _mm256_testz_pd(_mm256_castsi256_pd(a), _mm256_castsi256_pd(b)),
           _mm256_testc_pd(_mm256_castsi256_pd(mask), _mm256_castsi256_pd(a)),
           _mm256_testnzc_pd(_mm256_castsi256_pd(a), _mm256_castsi256_pd(mask)));
    printf("vtestps x z      %d\n", _mm_testz_ps(_mm256_castps256_ps128(_mm256_castsi256_ps(a)),
                                                 _mm256_castps256_ps128(_mm256_castsi256_ps(b))));
}

AVX2 static void float_arithmetic(void) {
    __m256 a = vps(F_ONE, F_1_5, F_QNAN, F_INF, F_DENORM, F_NZERO, F_SNAN, F_BIG);
    __m256 b = vps(F_3, F_THIRD, F_ONE, F_NINF, F_HALF, 0, F_QNAN, F_N2_5);
    SHOWPS("vaddps", _mm256_add_ps(a, b));
    SHOWPS("vsubps", _mm256_sub_ps(a, b));
    SHOWPS("vmulps", _mm256_mul_ps(a, b));
    SHOWPS("vdivps", _mm256_div_ps(a, b));
    SHOWPS("vminps", _mm256_min_ps(a, b));
    SHOWPS("vmaxps", _mm256_max_ps(a, b));
    SHOWPS("vsqrtps", _mm256_sqrt_ps(a));
    SHOWPS("vhaddps", _mm256_hadd_ps(a, b));
    SHOWPS("vaddsubps", _mm256_addsub_ps(a, b));
    /* No NaN: which of several NaNs dpps returns differs by vendor. */
    __m256 p = vps(F_ONE, F_1_5, F_THIRD, F_3, F_HALF, F_2_5, F_N2_5, F_INF);
    SHOWPS("vdpps f1", _mm256_dp_ps(p, b, 0xf1));
    SHOWPS("vdpps 3c", _mm256_dp_ps(p, p, 0x3c));
    SHOWPS("vroundps floor", _mm256_round_ps(b, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    SHOWPS("vroundps near", _mm256_round_ps(vps(F_HALF, F_1_5, F_2_5, F_N2_5, F_THIRD, F_3, F_NZERO, F_BIG),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256d c = vpd(D_HALF, D_SNAN, D_INF, D_THIRD), d = vpd(D_2_5, D_3, D_N1_5, D_INF);
    SHOWPD("vaddpd", _mm256_add_pd(c, d));
    SHOWPD("vmulpd", _mm256_mul_pd(c, d));
    SHOWPD("vdivpd", _mm256_div_pd(d, c));
    SHOWPD("vmaxpd", _mm256_max_pd(c, d));
    SHOWPD("vhsubpd", _mm256_hsub_pd(c, d));
    SHOWPD("vsqrtpd", _mm256_sqrt_pd(d));
    SHOWPD("vroundpd ceil", _mm256_round_pd(d, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC));
}

/* Each predicate's immediate must be a constant. */
#define CMP_PS(p) printf("vcmpps %2d        %02x\n", p, _mm256_movemask_ps(_mm256_cmp_ps(a, b, p)))
#define CMP_PD(p) printf("vcmppd %2d        %x\n", p, _mm256_movemask_pd(_mm256_cmp_pd(c, d, p)))

AVX2 static void compares(void) {
    __m256 a = vps(F_ONE, F_QNAN, F_ONE, F_INF, F_NZERO, F_SNAN, F_3, F_NINF);
    __m256 b = vps(F_ONE, F_ONE, F_3, F_INF, 0, F_ONE, F_ONE, F_NINF);
    CMP_PS(0); CMP_PS(1); CMP_PS(2); CMP_PS(3); CMP_PS(4); CMP_PS(5); CMP_PS(6); CMP_PS(7);
    CMP_PS(8); CMP_PS(9); CMP_PS(10); CMP_PS(11); CMP_PS(12); CMP_PS(13); CMP_PS(14); CMP_PS(15);
    CMP_PS(16); CMP_PS(17); CMP_PS(18); CMP_PS(19); CMP_PS(20); CMP_PS(21); CMP_PS(22); CMP_PS(23);
    CMP_PS(24); CMP_PS(25); CMP_PS(26); CMP_PS(27); CMP_PS(28); CMP_PS(29); CMP_PS(30); CMP_PS(31);
    __m256d c = vpd(D_HALF, D_SNAN, D_INF, D_3), d = vpd(D_HALF, D_3, D_N1_5, D_INF);
    CMP_PD(0); CMP_PD(1); CMP_PD(2); CMP_PD(3); CMP_PD(4); CMP_PD(5); CMP_PD(6); CMP_PD(7);
    CMP_PD(12); CMP_PD(13); CMP_PD(14); CMP_PD(17); CMP_PD(19); CMP_PD(24); CMP_PD(29); CMP_PD(31);
}

AVX2 static void conversions(void) {
    __m256 a = vps(F_1_5, F_N2_5, F_QNAN, F_BIG, F_NBIG, F_HALF, F_2_5, F_INF);
    show("vcvtps2dq", _mm256_cvtps_epi32(a));
    show("vcvttps2dq", _mm256_cvttps_epi32(a));
    SHOWPS("vcvtdq2ps", _mm256_cvtepi32_ps(a_int()));
    SHOWPD("vcvtps2pd", _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
    SHOWPD("vcvtdq2pd", _mm256_cvtepi32_pd(_mm256_castsi256_si128(b_int())));
    __m256d d = vpd(D_2_5, D_N1_5, D_BIG, D_THIRD);
    show128("vcvtpd2ps", _mm_castps_si128(_mm256_cvtpd_ps(d)));
    show128("vcvtpd2dq", _mm256_cvtpd_epi32(d));
    show128("vcvttpd2dq", _mm256_cvttpd_epi32(d));
}

AVX2 static void fused_multiply_add(void) {
    /* 1/3 * 3 - 1 is exactly -2^-54 only when fused (0 when rounded twice). */
    __m256d t = vpd(D_THIRD, D_THIRD, D_INF, D_HALF), three = vpd(D_3, D_3, 0, D_2_5);
    __m256d minus_one = _mm256_set1_pd(-1.0);
    SHOWPD("vfmadd pd", _mm256_fmadd_pd(t, three, minus_one));
    SHOWPD("vfmsub pd", _mm256_fmsub_pd(t, three, _mm256_set1_pd(1.0)));
    SHOWPD("vfnmadd pd", _mm256_fnmadd_pd(t, three, _mm256_set1_pd(1.0)));
    SHOWPD("vfmaddsub pd", _mm256_fmaddsub_pd(t, three, minus_one));
    __m256 x = vps(F_THIRD, F_THIRD, F_INF, F_QNAN, F_DENORM, F_BIG, F_1_5, F_NZERO);
    __m256 y = vps(F_3, F_3, 0, F_ONE, F_HALF, F_BIG, F_1_5, F_ONE);
    SHOWPS("vfmadd ps", _mm256_fmadd_ps(x, y, _mm256_set1_ps(-1.0f)));
    SHOWPS("vfnmsub ps", _mm256_fnmsub_ps(x, y, _mm256_set1_ps(1.0f)));
    SHOWPS("vfmsubadd ps", _mm256_fmsubadd_ps(x, y, _mm256_set1_ps(0.5f)));
    __m128d s = _mm_fmadd_sd(_mm256_castpd256_pd128(t), _mm256_castpd256_pd128(three), _mm256_castpd256_pd128(minus_one));
    show128("vfmadd sd", _mm_castpd_si128(s));
    __m128 ss = _mm_fnmadd_ss(_mm256_castps256_ps128(x), _mm256_castps256_ps128(y), _mm_set_ss(1.0f));
    show128("vfnmadd ss", _mm_castps_si128(ss));
}

int main(void) {
    integer_arithmetic();
    shifts();
    permutes();
    blends_and_moves();
    float_arithmetic();
    compares();
    conversions();
    fused_multiply_add();
    return 0;
}
