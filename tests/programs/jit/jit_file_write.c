/* Code that arrives by write() rather than by a store: a memfd mapped
 * shared and executable, its code replaced with pwrite, pwritev, write at
 * the file position and writev. The executable view is never written, so
 * only the write calls tell that its code changed; each call after one
 * must run the new version. A second view at another file offset sees the
 * same writes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "jit_emit.h"

static void die(const char *what) {
    perror(what);
    exit(1);
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    int fd = memfd_create("jit", 0);
    if (fd < 0 || ftruncate(fd, 2 * page) != 0) die("memfd");
    unsigned char code[8];
    emit_add(code, 10);
    if (pwrite(fd, code, sizeof code, page) != sizeof code) die("pwrite");
    unsigned char *rx = mmap(NULL, 2 * page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    /* The second page alone, at another address. */
    unsigned char *second = mmap(NULL, page, PROT_READ | PROT_EXEC, MAP_SHARED, fd, page);
    if (rx == MAP_FAILED || second == MAP_FAILED) die("mmap");
    fn f = (fn)(rx + page), g = (fn)second;
    printf("first: %d %d\n", f(1), g(1));

    emit_add(code, 20);
    if (pwrite(fd, code, sizeof code, page) != sizeof code) die("pwrite");
    printf("after pwrite: %d %d\n", f(1), g(1));

    emit_mul(code, 3);
    struct iovec iov[2] = { { code, 3 }, { code + 3, sizeof code - 3 } };
    if (pwritev(fd, iov, 2, page) != sizeof code) die("pwritev");
    printf("after pwritev: %d %d\n", f(5), g(5));

    emit_add(code, 40);
    if (lseek(fd, page, SEEK_SET) != page || write(fd, code, sizeof code) != sizeof code) die("write");
    printf("after write: %d %d\n", f(1), g(1));

    emit_mul(code, 7);
    if (lseek(fd, page, SEEK_SET) != page || writev(fd, iov, 2) != sizeof code) die("writev");
    printf("after writev: %d %d\n", f(2), g(2));

    /* Many rewrites in a loop that calls it. */
    int sum = 0;
    for (int i = 0; i < 300; i++) {
        emit_add(code, i);
        if (pwrite(fd, code, sizeof code, page) != sizeof code) die("pwrite");
        sum += f(0);
    }
    printf("rewritten in a loop: sum %d (expected %d)\n", sum, 299 * 300 / 2);
    return 0;
}
