/* A JIT's second view of its code made by mremap: with old_size 0, mremap
 * of a MAP_SHARED mapping maps the same pages again at a new address
 * (mremap(2)). Code written through the first mapping must run, fresh,
 * through the second, made executable with mprotect. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "alias_exercise.h"

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    unsigned char *rw = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rw == MAP_FAILED) die("mmap shared");
    unsigned char *rx = mremap(rw, 0, 2 * page, MREMAP_MAYMOVE);
    if (rx == MAP_FAILED) die("mremap");
    if (mprotect(rx, 2 * page, PROT_READ | PROT_EXEC) != 0) die("mprotect");
    exercise("mremap", rw, rx);
    return 0;
}
