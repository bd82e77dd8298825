/* A tiny JIT: writes x86 code into memory, runs it, rewrites it and runs
 * the new version. Covers a writable+executable page rewritten in place,
 * a W^X page flipped with mprotect, code rewritten inside a hot loop,
 * code loaded with read() into a page that already ran, and code moved by
 * mremap. Each version must run, never a stale translation. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit_emit.h"

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *rwx = mmap(NULL, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    emit_add(rwx, 100);
    fn f = (fn)rwx;
    int a = f(1);
    emit_add(rwx, 200);
    int b = f(1);
    printf("rwx rewrite: %d then %d\n", a, b);

    /* A second function on the same page, written after the first ran. */
    emit_add(rwx + 64, 5);
    printf("same page, new function: %d, old one still %d\n", ((fn)(rwx + 64))(1), f(1));

    /* Rewritten on every iteration of a loop that calls it. */
    int sum = 0;
    for (int i = 0; i < 200; i++) {
        emit_add(rwx, i);
        sum += f(0);
    }
    printf("rewritten in a loop: sum %d (expected %d)\n", sum, 199 * 200 / 2);

    /* W^X: write while RW, run while RX. */
    unsigned char *wx = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    emit_add(wx, 1000);
    mprotect(wx, page, PROT_READ | PROT_EXEC);
    int c = ((fn)wx)(1);
    mprotect(wx, page, PROT_READ | PROT_WRITE);
    emit_add(wx, 2000);
    mprotect(wx, page, PROT_READ | PROT_EXEC);
    int d = ((fn)wx)(1);
    printf("w^x flip: %d then %d\n", c, d);

    /* New code arrives through read() into a page that already ran. */
    int fds[2];
    pipe(fds);
    unsigned char code[8];
    emit_add(code, 300);
    write(fds[1], code, sizeof code);
    ssize_t n = read(fds[0], rwx, sizeof code);
    printf("read into code page: %zd bytes, runs %d\n", n, f(1));

    /* munmap, then new code at the same address. */
    munmap(wx, page);
    unsigned char *again = mmap(wx, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    emit_add(again, 7000);
    printf("remapped at the same address: %d\n", ((fn)again)(1));

    /* mremap moves the code; the old address must not run stale code. */
    void *dst = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *moved = mremap(rwx, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    if (moved == MAP_FAILED) {
        perror("mremap");
        return 1;
    }
    printf("moved by mremap: %d\n", ((fn)moved)(1));
    /* New code at the old address. */
    unsigned char *old = mmap(rwx, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    emit_add(old, 9000);
    printf("new code where the moved code was: %d\n", ((fn)old)(1));
    return 0;
}
