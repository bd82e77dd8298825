/* libc string functions at many lengths and alignments, checked against
 * byte-at-a-time reference implementations. glibc picks SSE2/AVX2 versions
 * at startup (IFUNC): these read 16 or 32 bytes at a time, aligned, so this
 * also covers vector loads, pcmpeqb/pmovmskb and bsf. Strings also end right
 * before an inaccessible page, which the vector versions must not touch. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIZE 640
static unsigned char src_buffer[SIZE] __attribute__((aligned(64)));
static unsigned char dst_buffer[SIZE] __attribute__((aligned(64)));
static unsigned char ref_buffer[SIZE] __attribute__((aligned(64)));
static unsigned checks, failures;
static uint64_t result_hash = 14695981039346656037ull;

static void record(uint64_t value) { result_hash = (result_hash ^ value) * 1099511628211ull; }

static void check(int ok, const char *what, size_t length, size_t align1, size_t align2) {
    checks++;
    if (!ok) {
        failures++;
        if (failures <= 20) printf("FAIL %s length %zu alignments %zu/%zu\n", what, length, align1, align2);
    }
}

static int sign(int x) { return (x > 0) - (x < 0); }

static void fill(unsigned char *buffer, size_t size, unsigned seed) {
    for (size_t i = 0; i < size; i++) buffer[i] = (unsigned char)(1 + (i * 131 + seed * 7) % 251);
}

static const size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47, 48, 63, 64,
                                 65, 79, 95, 96, 127, 128, 129, 191, 255, 256, 257, 300, 383, 511};
#define LENGTHS (sizeof lengths / sizeof lengths[0])

static void test_memcpy_memset(void) {
    for (size_t a1 = 0; a1 < 16; a1++)
        for (size_t a2 = 0; a2 < 16; a2 += 3)
            for (size_t l = 0; l < LENGTHS; l++) {
                size_t n = lengths[l];
                fill(src_buffer, SIZE, (unsigned)(a1 + n));
                memset(dst_buffer, 0xee, SIZE);
                memcpy(ref_buffer, dst_buffer, SIZE);
                for (size_t i = 0; i < n; i++) ref_buffer[a1 + i] = src_buffer[a2 + i];
                memcpy(dst_buffer + a1, src_buffer + a2, n);
                check(memcmp(dst_buffer, ref_buffer, SIZE) == 0, "memcpy", n, a1, a2);
                int value = (int)(a2 * 17 + n);
                for (size_t i = 0; i < n; i++) ref_buffer[a1 + i] = (unsigned char)value;
                memset(dst_buffer + a1, value, n);
                check(memcmp(dst_buffer, ref_buffer, SIZE) == 0, "memset", n, a1, a2);
            }
}

static void test_memmove(void) {
    for (size_t l = 0; l < LENGTHS; l++)
        for (int shift = -33; shift <= 33; shift += 3) {
            size_t n = lengths[l];
            if (n + 40 > SIZE) continue;
            size_t from = 40, to = (size_t)(40 + shift);
            fill(dst_buffer, SIZE, (unsigned)n);
            memcpy(ref_buffer, dst_buffer, SIZE);
            unsigned char temp[SIZE];
            for (size_t i = 0; i < n; i++) temp[i] = ref_buffer[from + i];
            for (size_t i = 0; i < n; i++) ref_buffer[to + i] = temp[i];
            memmove(dst_buffer + to, dst_buffer + from, n);
            check(memcmp(dst_buffer, ref_buffer, SIZE) == 0, "memmove", n, from, to);
        }
}

static void test_search_and_compare(void) {
    for (size_t a = 0; a < 16; a++)
        for (size_t l = 0; l < LENGTHS; l++) {
            size_t n = lengths[l];
            if (a + n + 1 > SIZE) continue;
            char *s = (char *)src_buffer + a;
            fill(src_buffer, SIZE, (unsigned)(n * 3 + a));
            s[n] = 0;
            check(strlen(s) == n, "strlen", n, a, 0);
            check(strnlen(s, n / 2) == n / 2, "strnlen", n, a, 0);
            /* A character that occurs first at position n / 2 (if n > 0). */
            for (size_t i = 0; i < n; i++)
                if (s[i] == 'Q') s[i] = 'R';
            if (n > 0) s[n / 2] = 'Q';
            if (n > 2) s[n - 1] = 'Q';
            char *expect_first = n > 0 ? s + n / 2 : NULL;
            char *expect_last = n > 2 ? s + n - 1 : expect_first;
            check(strchr(s, 'Q') == expect_first, "strchr", n, a, 0);
            check(strrchr(s, 'Q') == expect_last, "strrchr", n, a, 0);
            check(memchr(s, 'Q', n) == expect_first, "memchr", n, a, 0);
            check(strchr(s, 0) == s + n, "strchr-nul", n, a, 0);
            check(memchr(s, 'Q', n / 2) == NULL, "memchr-short", n, a, 0);
            /* Compare with a copy differing at position k. */
            for (size_t k = 0; k <= n; k += (n / 5) + 1) {
                char *t = (char *)dst_buffer + (15 - a);
                memcpy(t, s, n + 1);
                if (k < n) t[k] = (char)(t[k] + (k % 2 ? 1 : -1));
                int expected = 0;
                for (size_t i = 0; i <= n; i++)
                    if (s[i] != t[i]) {
                        expected = sign((unsigned char)s[i] - (unsigned char)t[i]);
                        break;
                    }
                int c1 = sign(strcmp(s, t)), c2 = sign(memcmp(s, t, n)), c3 = sign(strncmp(s, t, k));
                check(c1 == expected, "strcmp", n, a, k);
                check(c2 == expected, "memcmp", n, a, k);
                check(c3 == 0, "strncmp-prefix", n, a, k);
                record((uint64_t)(c1 + 1) * 9 + (uint64_t)(c2 + 1) * 3 + (uint64_t)(c3 + 1));
            }
        }
}

static void test_copies_and_strstr(void) {
    char haystack[400], buffer[420];
    for (size_t i = 0; i < sizeof haystack - 1; i++) haystack[i] = (char)('a' + (i * i + i / 7) % 5);
    haystack[sizeof haystack - 1] = 0;
    static const char *needles[] = {"", "a", "abc", "ccc", "deed", "eabce", "abcdeabcde", "zzz", "aebdc", "dbbbe"};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++) {
        const char *found = strstr(haystack, needles[i]);
        const char *naive = NULL;
        size_t nl = strlen(needles[i]);
        for (size_t p = 0; p + nl < sizeof haystack && !naive; p++)
            if (strncmp(haystack + p, needles[i], nl) == 0) naive = haystack + p;
        check(found == naive, "strstr", nl, i, 0);
        printf("strstr(\"%s\") at %ld\n", needles[i], found ? (long)(found - haystack) : -1L);
    }
    for (size_t a = 0; a < 8; a++) {
        char *d = buffer + a;
        strcpy(d, haystack + a * 11);
        check(strcmp(d, haystack + a * 11) == 0, "strcpy", strlen(d), a, 0);
        strcat(d, "|tail");
        check(strlen(d) == strlen(haystack + a * 11) + 5, "strcat", strlen(d), a, 0);
        memset(buffer, 'x', sizeof buffer);
        strncpy(d, "short", 12);
        check(memcmp(d, "short\0\0\0\0\0\0\0x", 13) == 0, "strncpy", 12, a, 0);
    }
}

static void test_page_boundary(void) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *pages = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED || mprotect(pages + page, (size_t)page, PROT_NONE) != 0) {
        printf("FAIL mmap/mprotect\n");
        failures++;
        return;
    }
    for (size_t n = 0; n < 70; n++) {
        char *s = (char *)pages + page - n - 1; /* the NUL is the page's last byte */
        memset(s, 'k', n);
        s[n] = 0;
        check(strlen(s) == n, "strlen-at-page-end", n, 0, 0);
        check(strchr(s, 'z') == NULL, "strchr-at-page-end", n, 0, 0);
        check(strrchr(s, 'k') == (n ? s + n - 1 : NULL), "strrchr-at-page-end", n, 0, 0);
        check(memchr(s, 'z', n + 1) == NULL, "memchr-at-page-end", n, 0, 0);
        check(strcmp(s, s) == 0, "strcmp-at-page-end", n, 0, 0);
        char copy[80];
        strcpy(copy, s);
        check(strlen(copy) == n, "strcpy-at-page-end", n, 0, 0);
    }
    munmap(pages, (size_t)page * 2);
}

int main(void) {
    test_memcpy_memset();
    test_memmove();
    test_search_and_compare();
    test_copies_and_strstr();
    test_page_boundary();
    printf("%u checks, %u failures, comparison hash %016llx\n", checks, failures, (unsigned long long)result_hash);
    return failures != 0;
}
