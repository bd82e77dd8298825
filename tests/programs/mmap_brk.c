/* The address space: anonymous mmap (zero-filled), munmap of a middle part,
 * MAP_FIXED over an existing mapping, mprotect, mremap growing a mapping
 * with its contents, a file mapped shared and written through, and the
 * program break moved with the brk system call (musl's sbrk refuses
 * non-zero increments). Addresses are never printed, only relations. */
#define _GNU_SOURCE /* mremap */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096

static unsigned failures;
#define CHECK(condition)                                           \
    do {                                                           \
        int ok_ = (condition);                                     \
        printf("%-70s %s\n", #condition, ok_ ? "ok" : "FAILED");   \
        failures += !ok_;                                          \
    } while (0)

static uint64_t sum(const unsigned char *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += p[i] * (i % 251 + 1);
    return s;
}

int main(void) {
    size_t size = 64 * PAGE;
    unsigned char *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(area != MAP_FAILED);
    CHECK((uintptr_t)area % PAGE == 0);
    CHECK(sum(area, size) == 0);
    for (size_t i = 0; i < size; i++) area[i] = (unsigned char)(i * 7 + i / PAGE);
    uint64_t before = sum(area, size);
    printf("pattern sum %llu\n", (unsigned long long)before);

    CHECK(munmap(area + 8 * PAGE, 4 * PAGE) == 0);
    unsigned char *hole = mmap(area + 8 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(hole == area + 8 * PAGE);
    CHECK(sum(hole, 4 * PAGE) == 0);
    CHECK(area[8 * PAGE - 1] == (unsigned char)((8 * PAGE - 1) * 7 + 7));
    unsigned char *replaced = mmap(area + 20 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(replaced == area + 20 * PAGE && replaced[0] == 0 && replaced[PAGE - 1] == 0);
    CHECK(mprotect(area + 30 * PAGE, 2 * PAGE, PROT_READ) == 0);
    CHECK(area[30 * PAGE + 5] == (unsigned char)((30 * PAGE + 5) * 7 + 30));
    CHECK(mprotect(area + 30 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE) == 0);
    area[30 * PAGE] = 1;

    unsigned char *grown = mremap(area, size, 4 * size, MREMAP_MAYMOVE);
    CHECK(grown != MAP_FAILED);
    CHECK(grown[size - 1] == (unsigned char)((size - 1) * 7 + 63));
    CHECK(grown[30 * PAGE] == 1);
    CHECK(sum(grown + size, 3 * size) == 0);
    unsigned char *shrunk = mremap(grown, 4 * size, PAGE, 0);
    CHECK(shrunk == grown);
    CHECK(munmap(shrunk, PAGE) == 0);

    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/mmap-test.bin", tmp && *tmp ? tmp : "/tmp");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 3 * PAGE) == 0);
    unsigned char *mapped = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(mapped != MAP_FAILED);
    memcpy(mapped + PAGE + 10, "written through a shared mapping", 32);
    CHECK(msync(mapped, 3 * PAGE, MS_SYNC) == 0);
    char back[33] = {0};
    CHECK(pread(fd, back, 32, PAGE + 10) == 32);
    printf("read back: \"%s\"\n", back);
    CHECK(pwrite(fd, "FILE", 4, 2 * PAGE) == 4);
    CHECK(memcmp(mapped + 2 * PAGE, "FILE", 4) == 0);
    unsigned char *private_view = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
    CHECK(private_view != MAP_FAILED && memcmp(private_view + 10, "written", 7) == 0);
    CHECK(munmap(private_view, PAGE) == 0 && munmap(mapped, 3 * PAGE) == 0);
    close(fd);
    CHECK(unlink(path) == 0);

    uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
    CHECK(start != 0);
    uintptr_t moved = (uintptr_t)syscall(SYS_brk, start + 20 * PAGE);
    CHECK(moved == start + 20 * PAGE);
    unsigned char *heap = (unsigned char *)start;
    memset(heap, 0xab, 20 * PAGE);
    CHECK(heap[20 * PAGE - 1] == 0xab);
    CHECK((uintptr_t)syscall(SYS_brk, start + 4 * PAGE) == start + 4 * PAGE);
    CHECK((uintptr_t)syscall(SYS_brk, start) == start);
    printf("%u failures\n", failures);
    return failures != 0;
}
