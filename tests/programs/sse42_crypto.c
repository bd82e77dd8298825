/* The rest of x86-64-v2 and AES-NI/PCLMULQDQ through intrinsics, in
 * functions compiled for those extensions (target attributes: the program
 * itself stays baseline x86-64 and never asks CPUID): SSE4.2 string
 * compares in every aggregation, polarity and output mode, on strings with
 * embedded zeros and explicit lengths out of range; crc32 of every width;
 * pcmpgtq; popcnt of every width; an AES-128 FIPS-197 vector encrypted with
 * a key schedule from aeskeygenassist and decrypted back; pclmulqdq with
 * every selector; cmpxchg16b that succeeds and fails, and as two threads'
 * 128-bit counter; lahf/sahf. Every result is printed in hex. */
#include <inttypes.h>
#include <nmmintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wmmintrin.h>

#define V2 __attribute__((target("sse4.2,popcnt")))
#define CRYPTO __attribute__((target("sse4.2,aes,pclmul")))
#define CX16 __attribute__((target("cx16")))

/* The helpers stay baseline (noipa: not even their arguments are
 * reshaped into the callers, where pextrq would appear), so only the instructions under
 * test come from the extensions. */
#define BASELINE __attribute__((noipa))

BASELINE static __m128i set64(int64_t hi, int64_t lo) {
    return _mm_set_epi64x(hi, lo);
}

BASELINE static void show(const char *name, __m128i v) {
    uint64_t q[2];
    _mm_storeu_si128((__m128i *)q, v);
    printf("%-28s %016" PRIx64 " %016" PRIx64 "\n", name, q[1], q[0]);
}

BASELINE static __m128i load(const char *s) {
    char b[16] = {0};
    memcpy(b, s, strlen(s) < 16 ? strlen(s) : 16);
    return _mm_loadu_si128((const __m128i *)b);
}

/* One mode of all four string compares: index, mask and the five flag
 * readers (CF, ZF, SF, OF, and "above": CF=0 and ZF=0). */
#define COMPARE_ALL(MODE)                                                                                  \
    do {                                                                                                   \
        printf("%-44s i=%2d e=%2d ic%d iz%d is%d io%d ia%d ec%d ez%d es%d eo%d ea%d\n", #MODE,           \
               _mm_cmpistri(a, b, MODE), _mm_cmpestri(a, la, b, lb, MODE), _mm_cmpistrc(a, b, MODE),       \
               _mm_cmpistrz(a, b, MODE), _mm_cmpistrs(a, b, MODE), _mm_cmpistro(a, b, MODE),               \
               _mm_cmpistra(a, b, MODE), _mm_cmpestrc(a, la, b, lb, MODE), _mm_cmpestrz(a, la, b, lb, MODE), \
               _mm_cmpestrs(a, la, b, lb, MODE), _mm_cmpestro(a, la, b, lb, MODE),                         \
               _mm_cmpestra(a, la, b, lb, MODE));                                                          \
        show("  istrm", _mm_cmpistrm(a, b, MODE));                                                         \
        show("  estrm", _mm_cmpestrm(a, la, b, lb, MODE));                                                 \
    } while (0)

V2 static void string_compares(__m128i a, int la, __m128i b, int lb) {
    COMPARE_ALL(_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY);
    COMPARE_ALL(_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY | _SIDD_NEGATIVE_POLARITY | _SIDD_MOST_SIGNIFICANT);
    COMPARE_ALL(_SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_UNIT_MASK);
    COMPARE_ALL(_SIDD_SBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_MASKED_NEGATIVE_POLARITY);
    COMPARE_ALL(_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_EACH);
    COMPARE_ALL(_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_EACH | _SIDD_MASKED_NEGATIVE_POLARITY | _SIDD_UNIT_MASK);
    COMPARE_ALL(_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED);
    COMPARE_ALL(_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED | _SIDD_MOST_SIGNIFICANT | _SIDD_UNIT_MASK);
    COMPARE_ALL(_SIDD_UWORD_OPS | _SIDD_CMP_EQUAL_ANY | _SIDD_UNIT_MASK);
    COMPARE_ALL(_SIDD_SWORD_OPS | _SIDD_CMP_RANGES);
    COMPARE_ALL(_SIDD_UWORD_OPS | _SIDD_CMP_EQUAL_EACH | _SIDD_NEGATIVE_POLARITY);
    COMPARE_ALL(_SIDD_SWORD_OPS | _SIDD_CMP_EQUAL_ORDERED | _SIDD_MOST_SIGNIFICANT);
}

/* strlen and a substring search the way SSE4.2 string code does them. */
V2 static size_t sse42_strlen(const char *s) {
    size_t n = 0;
    for (;;) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + n));
        int i = _mm_cmpistri(v, v, _SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_EACH | _SIDD_MASKED_NEGATIVE_POLARITY);
        if (i < 16) return n + i;
        n += 16;
    }
}

V2 static long sse42_find(const char *hay, const char *needle) {
#define FIND_MODE (_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ORDERED)
    __m128i nv = load(needle);
    size_t len = strlen(needle), n = 0;
    for (;;) {
        __m128i h = _mm_loadu_si128((const __m128i *)(hay + n));
        int i = _mm_cmpistri(nv, h, FIND_MODE);
        if (i == 16) {
            if (_mm_cmpistrz(nv, h, FIND_MODE)) return -1;
            n += 16;
        } else if (i + len <= 16) {
            return (long)(n + i);
        } else {
            n += i; /* a prefix of the needle at the window's end */
        }
    }
}

V2 static void crc32_and_popcnt(void) {
    const char *check = "123456789";
    uint32_t c = ~0u;
    for (const char *p = check; *p; p++) c = _mm_crc32_u8(c, (uint8_t)*p);
    printf("crc32c(\"123456789\") bytes  %08x\n", ~c);
    uint64_t words[] = {0, ~0ull, 0x0123456789abcdefull, 0x8000000000000001ull};
    for (int i = 0; i < 4; i++) {
        uint64_t w = words[i];
        for (int s = 0; s < 2; s++) {
            uint32_t seed = s ? ~0u : 0;
            printf("crc32 seed %08x w %016" PRIx64 ": u8 %08x u16 %08x u32 %08x u64 %016" PRIx64 "\n", seed, w,
                   _mm_crc32_u8(seed, (uint8_t)w), _mm_crc32_u16(seed, (uint16_t)w),
                   _mm_crc32_u32(seed, (uint32_t)w), (uint64_t)_mm_crc32_u64(seed, w));
        }
        uint16_t w16 = (uint16_t)w, n16;
        uint8_t zf;
        __asm__("popcntw %2, %0\n\tsetz %1" : "=r"(n16), "=r"(zf) : "rm"(w16) : "cc");
        printf("popcnt %016" PRIx64 ": 16 %d (zf %d) 32 %d 64 %d\n", w, n16, zf, _mm_popcnt_u32((uint32_t)w),
               (int)_mm_popcnt_u64(w));
    }
    __m128i x = set64(-1, 5), y = set64(0, 5);
    show("pcmpgtq", _mm_cmpgt_epi64(x, y));
    show("pcmpgtq swapped", _mm_cmpgt_epi64(y, x));
    show("pcmpgtq min/max", _mm_cmpgt_epi64(set64(INT64_MAX, INT64_MIN), set64(INT64_MIN, INT64_MAX)));
}

/* AES-128 key expansion as in Intel's AES-NI white paper. */
#define EXPAND(k, rcon) expand_step(k, _mm_aeskeygenassist_si128(k, rcon))
CRYPTO static __m128i expand_step(__m128i k, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xff);
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    return _mm_xor_si128(k, assist);
}

CRYPTO static void aes_and_clmul(void) {
    /* FIPS-197 appendix C.1. */
    static const uint8_t key_bytes[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                          0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    static const uint8_t plain_bytes[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                            0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    __m128i k[11];
    k[0] = _mm_loadu_si128((const __m128i *)key_bytes);
    k[1] = EXPAND(k[0], 0x01);
    k[2] = EXPAND(k[1], 0x02);
    k[3] = EXPAND(k[2], 0x04);
    k[4] = EXPAND(k[3], 0x08);
    k[5] = EXPAND(k[4], 0x10);
    k[6] = EXPAND(k[5], 0x20);
    k[7] = EXPAND(k[6], 0x40);
    k[8] = EXPAND(k[7], 0x80);
    k[9] = EXPAND(k[8], 0x1b);
    k[10] = EXPAND(k[9], 0x36);
    show("round key 10", k[10]);
    show("keygenassist rcon 0", _mm_aeskeygenassist_si128(k[3], 0));
    show("keygenassist rcon ff", _mm_aeskeygenassist_si128(k[3], 0xff));

    __m128i s = _mm_xor_si128(_mm_loadu_si128((const __m128i *)plain_bytes), k[0]);
    for (int r = 1; r < 10; r++) s = _mm_aesenc_si128(s, k[r]);
    s = _mm_aesenclast_si128(s, k[10]);
    uint8_t out[16];
    _mm_storeu_si128((__m128i *)out, s);
    printf("aes-128 ciphertext          ");
    for (int i = 0; i < 16; i++) printf("%02x", out[i]);
    printf("\n");

    __m128i d = _mm_xor_si128(s, k[10]);
    for (int r = 9; r > 0; r--) d = _mm_aesdec_si128(d, _mm_aesimc_si128(k[r]));
    d = _mm_aesdeclast_si128(d, k[0]);
    _mm_storeu_si128((__m128i *)out, d);
    printf("aes-128 decrypted           ");
    for (int i = 0; i < 16; i++) printf("%02x", out[i]);
    printf("\n");
    show("aesimc", _mm_aesimc_si128(k[5]));
    show("aesenc zero", _mm_aesenc_si128(_mm_setzero_si128(), _mm_setzero_si128()));
    show("aesdeclast ones", _mm_aesdeclast_si128(set64(-1, -1), set64(-1, -1)));

    __m128i a = set64(0xfedcba9876543210ll, -1), b = set64(0x8000000000000001ll, 0x87);
    show("clmul 0x00", _mm_clmulepi64_si128(a, b, 0x00));
    show("clmul 0x01", _mm_clmulepi64_si128(a, b, 0x01));
    show("clmul 0x10", _mm_clmulepi64_si128(a, b, 0x10));
    show("clmul 0x11", _mm_clmulepi64_si128(a, b, 0x11));
    show("clmul ones", _mm_clmulepi64_si128(set64(-1, -1), set64(-1, -1), 0x11));
}

CX16 static void cmpxchg16b(void) {
    static __int128 cell __attribute__((aligned(16)));
    cell = ((__int128)0x1111111111111111 << 64) | 0x2222222222222222;
    __int128 expected = cell, wanted = ((__int128)0x3333333333333333 << 64) | 0x4444444444444444;
    int ok = __sync_bool_compare_and_swap(&cell, expected, wanted);
    printf("cmpxchg16b hit %d cell %016" PRIx64 "%016" PRIx64 "\n", ok, (uint64_t)(cell >> 64), (uint64_t)cell);
    ok = __sync_bool_compare_and_swap(&cell, expected, (__int128)0);
    printf("cmpxchg16b miss %d cell %016" PRIx64 "%016" PRIx64 "\n", ok, (uint64_t)(cell >> 64), (uint64_t)cell);
    __int128 seen = __sync_val_compare_and_swap(&cell, expected, (__int128)0);
    printf("cmpxchg16b seen %016" PRIx64 "%016" PRIx64 "\n", (uint64_t)(seen >> 64), (uint64_t)seen);
}

/* Two threads add to a 128-bit counter whose low half carries into the
 * high half: only an atomic cmpxchg16b loses no increment. */
static __int128 counter __attribute__((aligned(16)));

CX16 static void *count_up(void *arg) {
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        __int128 old, new;
        do {
            old = counter;
            new = old + 0x100000000ll;
        } while (!__sync_bool_compare_and_swap(&counter, old, new));
    }
    return NULL;
}

static void cmpxchg16b_threads(void) {
    counter = (__int128)UINT64_MAX - 0x100000000ll * 10000;
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, count_up, NULL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    printf("cmpxchg16b threads %016" PRIx64 "%016" PRIx64 "\n", (uint64_t)(counter >> 64), (uint64_t)counter);
}

static void lahf_sahf(void) {
    for (unsigned ah = 0; ah < 256; ah += 0x35) {
        unsigned out;
        __asm__("mov %b1, %%ah\n\tsahf\n\tmov $0, %%ah\n\tlahf\n\tmovzbl %%ah, %k0" : "=Q"(out) : "Q"(ah)
                : "rax", "cc");
        printf("sahf %02x lahf %02x\n", ah, out);
    }
}

int main(void) {
    static const struct {
        const char *a, *b;
        int la, lb;
    } cases[] = {
        {"aeiou", "xyzzy oak", 5, 9},
        {"az09", "Hello, World 42!", 4, 16},
        {"lo", "hello, world", -2, 100},
        {"world!", "hello, world", 6, 12},
        {"", "abc", 0, -3},
        {"abc", "", 17, 0},
        {"same", "same", 4, -4},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        printf("== \"%s\" (%d) in \"%s\" (%d)\n", cases[i].a, cases[i].la, cases[i].b, cases[i].lb);
        string_compares(load(cases[i].a), cases[i].la, load(cases[i].b), cases[i].lb);
    }
    /* Embedded zeros: implicit lengths stop there, explicit ones do not. */
    static const char zeros_a[16] = {'a', 'b', 0, 'a', 'b', 'c'};
    static const char zeros_b[16] = {'x', 'a', 'b', 'c', 0, 'a', 'b', 'c', 'd'};
    printf("== embedded zeros\n");
    string_compares(_mm_loadu_si128((const __m128i *)zeros_a), 6, _mm_loadu_si128((const __m128i *)zeros_b), 9);

    static const char text[] = "The quick brown fox jumps over the lazy dog, then sleeps until noon.";
    char padded[sizeof text + 16] = {0};
    memcpy(padded, text, sizeof text);
    printf("strlen %zu find lazy %ld find noon %ld find cat %ld\n", sse42_strlen(padded),
           sse42_find(padded, "lazy"), sse42_find(padded, "noon"), sse42_find(padded, "cat"));

    crc32_and_popcnt();
    aes_and_clmul();
    cmpxchg16b();
    cmpxchg16b_threads();
    lahf_sahf();
    return 0;
}
