/* int 0x80 from 64-bit code: the i386 syscall entry x86_64 Linux keeps
 * (numbers from syscall_32.tbl, arguments in ebx, ecx, edx, ...; only rax
 * changes). Also `int 3` (SIGTRAP) and another vector (#GP, SIGSEGV). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long int80(long nr, long a, long b, long c) {
    long ret;
    register long r8 __asm__("r8") = 0x0123456789abcdefL;
    register long r11 __asm__("r11") = 0x7777777777777777L;
    __asm__ volatile("int $0x80"
                     : "=a"(ret), "+r"(r8), "+r"(r11)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory");
    if (r8 != 0x0123456789abcdefL || r11 != 0x7777777777777777L)
        printf("int 0x80 clobbered r8 or r11\n");
    return ret;
}

static sigjmp_buf back;
static void on_signal(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    printf("signal %d code %d\n", sig, info->si_code);
    siglongjmp(back, 1);
}

int main(void) {
    /* i386 pointers are 32 bits: the buffer must sit below 4 GiB. */
    char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) return 1;
    strcpy(low, "written by the i386 write through int 0x80\n");
    fflush(stdout);
    long n = int80(4, 1, (long)low, (long)strlen(low));
    printf("write returned %ld\n", n);
    printf("getpid matches: %d\n", int80(20, 0, 0, 0) == getpid());
    /* The upper halves of the registers are ignored: fd 1 with junk above. */
    fflush(stdout);
    n = int80(4, 0xdead000000000001L, (long)low, 8);
    printf("\nwrite with a junk upper half returned %ld\n", n);
    printf("no such syscall: %ld\n", int80(0x7fff, 0, 0, 0));
    printf("close(-1): %ld\n", int80(6, -1, 0, 0));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGTRAP, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    if (!sigsetjmp(back, 1)) __asm__ volatile(".byte 0xcd, 0x03"); /* int 3, long form */
    if (!sigsetjmp(back, 1)) __asm__ volatile("int $0x81");
    printf("exit through int 0x80\n");
    fflush(stdout);
    int80(1, 7, 0, 0);
    return 0;
}
