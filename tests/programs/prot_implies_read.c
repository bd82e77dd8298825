/* x86 page tables have no execute-only or write-only pages: a page mapped
 * or protected PROT_EXEC alone, or PROT_WRITE alone, can still be read
 * (and an execute-only page run). An arm64 kernel makes PROT_EXEC alone
 * execute-only on CPUs with FEAT_EPAN, so Transit asks the host for read
 * access too (and it must read guest code to translate it).
 * The one exception on x86: where the CPU reports protection keys enabled
 * (CPUID.7.0:ECX.OSPKE), Linux makes PROT_EXEC alone execute-only with a
 * key. The program then does not read that page (it would fault); Transit
 * presents no protection keys, so under Transit it always reads it. */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void) {
    /* mov eax, 42; ret */
    static const unsigned char code[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
    unsigned char *x = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (x == MAP_FAILED) return 1;
    memcpy(x, code, sizeof code);
    if (mprotect(x, 4096, PROT_EXEC) != 0) return 2;
    unsigned int a, b, c = 0, d;
    int keys = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c >> 4 & 1);
    printf("mprotect PROT_EXEC: readable unless by a protection key %s, call returns %d\n",
           keys || x[0] == 0xb8 ? "yes" : "no", ((int (*)(void))x)());

    unsigned char *w = mmap(NULL, 4096, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED) return 3;
    w[100] = 7;
    printf("mmap PROT_WRITE: reads back %d\n", w[100]);

    unsigned char *e = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (e == MAP_FAILED) return 4;
    memcpy(e, code, sizeof code);
    e[10] = 99;
    if (mprotect(e, 4096, PROT_EXEC | PROT_WRITE) != 0) return 5;
    printf("mprotect PROT_EXEC|PROT_WRITE: reads %d, call returns %d\n", e[10], ((int (*)(void))e)());
    return 0;
}
