/* AVX2 gathers and AVX masked loads/stores through intrinsics, each in a
 * target("avx2") function (the program never asks CPUID: it needs
 * x86-64-v3, which Transit presents once every v3 form works): gathers of
 * every element and index width with scales and negative indices, a
 * masked gather keeping its source's unselected elements, masked loads
 * and stores whose masked-out elements lie on a PROT_NONE page (no fault),
 * and a masked store whose selected element is there (SIGSEGV, memory
 * unchanged). Every result is printed in hex. */
#include <immintrin.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static float table_f[64];
static double table_d[64];
static int32_t table_i[64];
static int64_t table_q[64];

static void print_bytes(const char *name, const void *p, size_t n) {
    const uint32_t *w = p;
    printf("%s:", name);
    for (size_t i = 0; i < n / 4; i++) printf(" %08" PRIx32, w[i]);
    printf("\n");
}

__attribute__((target("avx2"))) static void gathers(void) {
    __m256i idx8 = _mm256_setr_epi32(0, 5, 63, 2, 31, 1, 7, 40);
    __m128i idx4 = _mm_setr_epi32(3, 60, 9, 0);
    __m256i qidx4 = _mm256_setr_epi64x(1, 62, 17, 8);
    __m128i qidx2 = _mm_set_epi64x(4, 33);
    __m256 a = _mm256_i32gather_ps(table_f, idx8, 4);
    __m256d b = _mm256_i32gather_pd(table_d, idx4, 8);
    __m128 c = _mm256_i64gather_ps(table_f, qidx4, 4);
    __m256i d = _mm256_i64gather_epi64((const long long *)table_q, qidx4, 8);
    __m128i e = _mm_i32gather_epi32(table_i, idx4, 4);
    __m128i f = _mm_i64gather_epi32(table_i, qidx2, 4);
    __m256i g = _mm256_i32gather_epi64((const long long *)table_q, idx4, 8);
    __m128d h = _mm_i64gather_pd(table_d, qidx2, 8);
    /* Scale 2 with negative indices from the middle of the table. */
    __m256i neg = _mm256_setr_epi32(-2, -4, 0, 2, -8, 6, -10, 10);
    __m256i k = _mm256_i32gather_epi32((const int *)((char *)table_i + 64), neg, 2);
    print_bytes("i32gather_ps", &a, 32);
    print_bytes("i32gather_pd", &b, 32);
    print_bytes("i64gather_ps", &c, 16);
    print_bytes("i64gather_epi64", &d, 32);
    print_bytes("i32gather_epi32 xmm", &e, 16);
    print_bytes("i64gather_epi32 xmm", &f, 16);
    print_bytes("i32gather_epi64", &g, 32);
    print_bytes("i64gather_pd xmm", &h, 16);
    print_bytes("i32gather_epi32 scale 2", &k, 32);
    /* Masked: unselected elements keep the source's value. */
    __m256 src = _mm256_set1_ps(-1.0f);
    __m256 mask = _mm256_castsi256_ps(_mm256_setr_epi32(-1, 0, -1, 0, 0x80000000, 0x7fffffff, -1, 1));
    __m256 m = _mm256_mask_i32gather_ps(src, table_f, idx8, mask, 4);
    print_bytes("mask_i32gather_ps", &m, 32);
    __m256i qsrc = _mm256_set1_epi64x(0x5555);
    __m256i qmask = _mm256_setr_epi64x(0, -1, 0, INT64_MIN);
    __m256i mq = _mm256_mask_i64gather_epi64(qsrc, (const long long *)table_q, qidx4, qmask, 8);
    print_bytes("mask_i64gather_epi64", &mq, 32);
}

static sigjmp_buf fault_jump;
static void on_segv(int sig) {
    (void)sig;
    siglongjmp(fault_jump, 1);
}

/* `page` is followed by a PROT_NONE page; `edge` points 8 bytes before it. */
__attribute__((target("avx2"))) static void masked(char *edge) {
    /* Elements 2..7 of a ymm at edge lie on the PROT_NONE page: masked out. */
    __m256i low2 = _mm256_setr_epi32(-1, INT32_MIN, 0, 0, 0, 0, 0x7fffffff, 0);
    __m256 lf = _mm256_maskload_ps((const float *)edge, low2);
    print_bytes("maskload_ps", &lf, 32);
    __m128i qlow = _mm_set_epi64x(0, -1);
    __m128i lq = _mm_maskload_epi64((const long long *)edge, qlow);
    print_bytes("maskload_epi64 xmm", &lq, 16);
    __m256i data = _mm256_setr_epi32(0x11111111, 0x22222222, 3, 4, 5, 6, 7, 8);
    _mm256_maskstore_epi32((int *)edge, _mm256_setr_epi32(0, -1, 0, 0, 0, 0, 0, 0), data);
    print_bytes("after maskstore_epi32", edge, 8);
    __m256d dd = _mm256_set1_pd(2.5);
    _mm256_maskstore_pd((double *)(edge - 24), _mm256_setr_epi64x(-1, 0, INT64_MIN, 0), dd);
    print_bytes("after maskstore_pd", edge - 24, 32);
    /* A selected element on the PROT_NONE page: the store faults and
     * writes nothing, not even the selected element before it. */
    signal(SIGSEGV, on_segv);
    memset(edge, 0x77, 8);
    if (!sigsetjmp(fault_jump, 1)) {
        _mm256_maskstore_epi32((int *)edge, _mm256_setr_epi32(-1, 0, 0, -1, 0, 0, 0, 0), data);
        printf("maskstore into PROT_NONE: no fault\n");
    } else {
        printf("maskstore into PROT_NONE: SIGSEGV\n");
    }
    print_bytes("after faulting maskstore", edge, 8);
    signal(SIGSEGV, SIG_DFL);
}

int main(void) {
    for (int i = 0; i < 64; i++) {
        table_f[i] = (float)i * 1.5f - 7.0f;
        table_d[i] = (double)i / 3.0;
        table_i[i] = i * 0x01010101;
        table_q[i] = (int64_t)i * 0x0101010101010101LL ^ INT64_MIN;
    }
    gathers();
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || mprotect(page + 4096, 4096, PROT_NONE) != 0) {
        perror("mmap");
        return 1;
    }
    for (int i = 0; i < 4096; i++) page[i] = (char)(i * 7);
    masked(page + 4096 - 8);
    return 0;
}
