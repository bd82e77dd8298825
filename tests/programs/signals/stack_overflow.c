/* Recovering from a stack overflow, as OCaml's native programs do for
 * Stack_overflow: recursion until the main thread's stack runs out, the
 * SIGSEGV caught on an alternate stack, siglongjmp back, then a normal exit
 * that walks ld.so's data (dl_iterate_phdr, and _dl_fini at exit). Linux
 * keeps a guard gap below the stack, so the overflow faults there and
 * touches nothing else; under Transit the overflow must not run into
 * whatever is mapped below the guest's stack either. */
#define _GNU_SOURCE
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static sigjmp_buf back;
static char alternate[65536];

static void on_segv(int sig) {
    (void)sig;
    siglongjmp(back, 1);
}

static int deeper(int n) {
    volatile char frame[256];
    frame[0] = (char)n;
    return deeper(n + 1) + frame[0];
}

static int count(struct dl_phdr_info *info, size_t size, void *n) {
    (void)info;
    (void)size;
    ++*(int *)n;
    return 0;
}

int main(void) {
    stack_t ss = {.ss_sp = alternate, .ss_size = sizeof alternate};
    sigaltstack(&ss, 0);
    struct sigaction sa = {.sa_handler = on_segv, .sa_flags = SA_ONSTACK};
    sigaction(SIGSEGV, &sa, 0);
    if (!sigsetjmp(back, 1))
        deeper(0);
    puts("recovered from the overflow");
    int n = 0;
    dl_iterate_phdr(count, &n);
    puts(n > 0 ? "program headers still readable" : "no program headers");
    return 0;
}
