/* x86_64's address space ends at 2^47: mappings the kernel places, with or
 * without a hint beyond the end, lie below it; fixed mappings and mremap
 * targets beyond it fail (ENOMEM, EINVAL), whatever the host's own space;
 * a fixed mapping where Transit's image used to be (0x7000000000) is
 * the program's own; and /proc/self/maps lists nothing beyond the end but
 * the kernel's [vsyscall] page (a host's memory above it is Transit's). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define TOP (1ULL << 47)
#define MIB (1UL << 20)

static const char *below(void *p, size_t len) {
    return p != MAP_FAILED && (uint64_t)(uintptr_t)p + len <= TOP ? "below 2^47" : "NOT below 2^47";
}

static const char *result(void *p) {
    static char text[64];
    if (p != MAP_FAILED)
        return "mapped";
    snprintf(text, sizeof text, "%s", errno == ENOMEM ? "ENOMEM" : errno == EINVAL ? "EINVAL" : strerror(errno));
    return text;
}

int main(void) {
    int prot = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
    void *p = mmap(NULL, MIB, prot, anon, -1, 0);
    printf("no hint: %s\n", below(p, MIB));
    void *q = mmap((void *)(uintptr_t)TOP, MIB, prot, anon, -1, 0);
    printf("hint at 2^47: %s\n", below(q, MIB));
    void *big = mmap(NULL, 64UL << 30, PROT_NONE, anon | MAP_NORESERVE, -1, 0);
    printf("64 GiB reservation: %s\n", below(big, 64UL << 30));
    int all_below = 1;
    for (int i = 0; i < 200; i++) {
        void *r = mmap(NULL, (i % 7 + 1) * 65536, prot, anon, -1, 0);
        if (r == MAP_FAILED || (uint64_t)(uintptr_t)r >= TOP)
            all_below = 0;
        if (i % 3)
            munmap(r, (i % 7 + 1) * 65536);
    }
    printf("200 mappings: %s\n", all_below ? "all below 2^47" : "some NOT below 2^47");
    printf("MAP_FIXED across 2^47: %s\n", result(mmap((void *)(uintptr_t)(TOP - 4096), 8192, prot, anon | MAP_FIXED, -1, 0)));
    printf("MAP_FIXED_NOREPLACE at 2^47: %s\n", result(mmap((void *)(uintptr_t)TOP, 4096, prot, anon | MAP_FIXED_NOREPLACE, -1, 0)));
    void *moved = mremap(p, MIB, 2 * MIB, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(uintptr_t)TOP);
    printf("mremap to 2^47: %s\n", result(moved));
    void *grown = mremap(p, MIB, 64 * MIB, MREMAP_MAYMOVE);
    printf("mremap that may move: %s\n", below(grown, 64 * MIB));
    /* Where Transit's image used to be: the guest's to use, as natively. */
    char *fixed = mmap((void *)0x7000000000UL, MIB, prot, anon | MAP_FIXED, -1, 0);
    int intact = fixed != MAP_FAILED;
    if (intact) {
        memset(fixed, 0x5a, MIB);
        for (size_t i = 0; i < MIB; i += 4096)
            intact &= fixed[i] == 0x5a;
        munmap(fixed, MIB);
    }
    printf("MAP_FIXED at 0x7000000000: %s\n", intact ? "written and read back" : "failed");
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int beyond = 0, lines = 0;
    while (maps && fgets(line, sizeof line, maps)) {
        lines++;
        if (strtoull(line, NULL, 16) >= TOP && !strstr(line, "[vsyscall]"))
            beyond++;
    }
    printf("/proc/self/maps: %s\n", lines == 0 ? "unreadable" : beyond ? "lists memory beyond 2^47" : "all below 2^47");
    return 0;
}
