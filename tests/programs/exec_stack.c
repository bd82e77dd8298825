/* An executable stack, made so the way glibc's ld.so does for a library
 * marked PT_GNU_STACK RWX (GHC's runtime is one): mprotect with
 * PROT_GROWSDOWN on a page of the initial stack, which on x86_64 changes
 * everything from the bottom of the stack up to that page. Then code
 * copied into a buffer on the stack runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    /* mov eax, 42 ; ret */
    unsigned char code[64] = {0xb8, 42, 0, 0, 0, 0xc3};
    uintptr_t page = sysconf(_SC_PAGESIZE);
    uintptr_t top = ((uintptr_t)(code + sizeof code) + page - 1) & ~(page - 1);
    int r = mprotect((void *)(top - page), page, PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN);
    printf("mprotect(GROWSDOWN) on the stack: %s\n", r == 0 ? "ok" : strerror(errno));
    if (r != 0)
        return 1;
    int (*f)(void) = (int (*)(void))(void *)code;
    printf("code on the stack returns %d\n", f());
    /* A mapping that does not grow down refuses it. */
    void *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    r = mprotect(m, page, PROT_READ | PROT_GROWSDOWN);
    printf("mprotect(GROWSDOWN) elsewhere: %s\n", r == 0 ? "ok" : strerror(errno));
    return 0;
}
