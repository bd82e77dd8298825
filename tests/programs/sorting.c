/* Sorting and searching: hand-written quicksort, merge sort, heap sort,
 * shell sort, insertion sort and LSD radix sort against libc's qsort, on
 * random, sorted, reversed and few-distinct data; bsearch hits and misses;
 * qsort of strings and of structs with a total order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 3000

static uint32_t state = 2463534242u;
static uint32_t next_random(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static int compare_ints(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void insertion_sort(int32_t *a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        int32_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--) a[j] = a[j - 1];
        a[j] = v;
    }
}

static void quick_sort(int32_t *a, long lo, long hi) {
    while (hi - lo > 16) {
        int32_t pivot = a[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                int32_t t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (j - lo < hi - i) {
            quick_sort(a, lo, j);
            lo = i;
        } else {
            quick_sort(a, i, hi);
            hi = j;
        }
    }
    insertion_sort(a + lo, (size_t)(hi - lo + 1));
}

static void merge_sort(int32_t *a, int32_t *scratch, size_t n) {
    if (n < 2) return;
    size_t half = n / 2;
    merge_sort(a, scratch, half);
    merge_sort(a + half, scratch, n - half);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n) scratch[k++] = a[j] < a[i] ? a[j++] : a[i++];
    while (i < half) scratch[k++] = a[i++];
    while (j < n) scratch[k++] = a[j++];
    memcpy(a, scratch, n * sizeof *a);
}

static void sift_down(int32_t *a, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && a[child + 1] > a[child]) child++;
        if (a[root] >= a[child]) return;
        int32_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static void heap_sort(int32_t *a, size_t n) {
    for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
    for (size_t end = n; end-- > 1;) {
        int32_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

static void shell_sort(int32_t *a, size_t n) {
    static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++)
        for (size_t i = gaps[g]; i < n; i++) {
            int32_t v = a[i];
            size_t j = i;
            for (; j >= gaps[g] && a[j - gaps[g]] > v; j -= gaps[g]) a[j] = a[j - gaps[g]];
            a[j] = v;
        }
}

static void radix_sort(int32_t *a, int32_t *scratch, size_t n) {
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t counts[257] = {0};
        for (size_t i = 0; i < n; i++) counts[(((uint32_t)a[i] ^ 0x80000000u) >> shift & 0xff) + 1]++;
        for (int b = 0; b < 256; b++) counts[b + 1] += counts[b];
        for (size_t i = 0; i < n; i++) scratch[counts[((uint32_t)a[i] ^ 0x80000000u) >> shift & 0xff]++] = a[i];
        memcpy(a, scratch, n * sizeof *a);
    }
}

static uint64_t checksum(const int32_t *a, size_t n) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum = sum * 31 + (uint32_t)a[i];
    return sum;
}

struct person {
    char name[12];
    int age;
};

static int compare_people(const void *a, const void *b) {
    const struct person *p = a, *q = b;
    if (p->age != q->age) return p->age < q->age ? -1 : 1;
    return strcmp(p->name, q->name);
}

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    static int32_t original[N], expected[N], work[N], scratch[N];
    static const char *const shapes[] = {"random", "sorted", "reversed", "few-distinct"};
    const char *names[] = {"insertion", "quick", "merge", "heap", "shell", "radix"};
    unsigned mismatches = 0;
    for (int shape = 0; shape < 4; shape++) {
        for (size_t i = 0; i < N; i++) {
            int32_t r = (int32_t)next_random();
            original[i] = shape == 0 ? r : shape == 1 ? (int32_t)i * 3 - 4000 : shape == 2 ? (int32_t)(N - i) : r % 5;
        }
        memcpy(expected, original, sizeof original);
        qsort(expected, N, sizeof expected[0], compare_ints);
        printf("%-12s qsort checksum %016llx min %d max %d\n", shapes[shape], (unsigned long long)checksum(expected, N), expected[0],
               expected[N - 1]);
        for (int algorithm = 0; algorithm < 6; algorithm++) {
            memcpy(work, original, sizeof original);
            switch (algorithm) {
            case 0: insertion_sort(work, shape == 0 ? 600 : N); break;
            case 1: quick_sort(work, 0, N - 1); break;
            case 2: merge_sort(work, scratch, N); break;
            case 3: heap_sort(work, N); break;
            case 4: shell_sort(work, N); break;
            case 5: radix_sort(work, scratch, N); break;
            }
            int ok;
            if (algorithm == 0 && shape == 0) {
                int32_t small[600];
                memcpy(small, original, sizeof small);
                qsort(small, 600, sizeof small[0], compare_ints);
                ok = memcmp(small, work, sizeof small) == 0;
            } else {
                ok = memcmp(expected, work, sizeof expected) == 0;
            }
            mismatches += !ok;
            printf("  %-9s %s\n", names[algorithm], ok ? "ok" : "MISMATCH");
        }
    }
    memcpy(work, original, sizeof original);
    qsort(work, N, sizeof work[0], compare_ints);
    unsigned hits = 0, misses = 0;
    for (int32_t key = -10; key < 10; key++) {
        if (bsearch(&key, work, N, sizeof work[0], compare_ints)) hits++;
        else misses++;
    }
    memcpy(work, expected, sizeof expected);
    printf("bsearch on few-distinct: %u hits, %u misses\n", hits, misses);

    char *words[] = {"pear", "apple", "fig", "banana", "cherry", "apricot", "date", "elderberry", "grape", "kiwi", "lemon", "lime"};
    qsort(words, 12, sizeof words[0], compare_strings);
    printf("words:");
    for (int i = 0; i < 12; i++) printf(" %s", words[i]);
    printf("\n");
    const char *key = "fig";
    char **found = bsearch(&key, words, 12, sizeof words[0], compare_strings);
    printf("bsearch fig at %ld\n", found ? (long)(found - words) : -1L);

    struct person people[] = {{"ana", 31}, {"bob", 25}, {"cyd", 31}, {"dan", 19}, {"eve", 25}, {"fay", 47}, {"gus", 19}};
    qsort(people, 7, sizeof people[0], compare_people);
    for (int i = 0; i < 7; i++) printf("%s:%d ", people[i].name, people[i].age);
    printf("\n");
    return mismatches != 0;
}
