/* What a program learns about the CPU it runs on, every way it can ask:
 * CPUID, glibc's __builtin_cpu_supports, AT_HWCAP and /proc/cpuinfo.
 * `probe exec` runs itself again (a child must see the same CPU);
 * `probe popcnt` executes popcnt and `probe avx2` an AVX2 sequence (SIGILL
 * on a CPU without them). */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static int cpuinfo_has(const char *flag) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        for (char *t = strtok(strchr(line, ':') + 1, " \n"); t; t = strtok(NULL, " \n"))
            found |= strcmp(t, flag) == 0;
        break;
    }
    if (f) fclose(f);
    return found;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        fflush(stdout);
        execl("/proc/self/exe", argv[0], (char *)NULL);
        return 99;
    }
    if (argc > 1 && strcmp(argv[1], "popcnt") == 0) {
        unsigned long v = 0xf0f0, n;
        __asm__ volatile("popcnt %1, %0" : "=r"(n) : "r"(v));
        printf("popcnt %lu\n", n);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "avx2") == 0) {
        unsigned long n;
        __asm__ volatile("vpcmpeqd %%ymm1, %%ymm1, %%ymm1\n\t"
                         "vpsrlq $60, %%ymm1, %%ymm1\n\t"
                         "vextracti128 $1, %%ymm1, %%xmm1\n\t"
                         "vmovq %%xmm1, %0\n\t"
                         "vzeroupper"
                         : "=r"(n)
                         :
                         : "xmm1");
        printf("avx2 %lu\n", n);
        return 0;
    }
    unsigned a, b, c, d;
    __get_cpuid(1, &a, &b, &c, &d);
    printf("cpuid1.ecx sse3 %u ssse3 %u sse4.1 %u sse4.2 %u popcnt %u aes %u pclmul %u cx16 %u avx %u fma %u f16c %u\n",
           c & 1, c >> 9 & 1, c >> 19 & 1, c >> 20 & 1, c >> 23 & 1, c >> 25 & 1, c >> 1 & 1, c >> 13 & 1, c >> 28 & 1,
           c >> 12 & 1, c >> 29 & 1);
    __builtin_cpu_init();
    printf("builtin sse3 %d ssse3 %d sse4.1 %d sse4.2 %d popcnt %d aes %d pclmul %d avx %d avx2 %d bmi %d\n",
           !!__builtin_cpu_supports("sse3"), !!__builtin_cpu_supports("ssse3"), !!__builtin_cpu_supports("sse4.1"),
           !!__builtin_cpu_supports("sse4.2"), !!__builtin_cpu_supports("popcnt"), !!__builtin_cpu_supports("aes"),
           !!__builtin_cpu_supports("pclmul"), !!__builtin_cpu_supports("avx"), !!__builtin_cpu_supports("avx2"),
           !!__builtin_cpu_supports("bmi"));
    /* glibc's getauxval(AT_HWCAP) answers with its own x86 platform bits:
     * read what the kernel (here Transit) passed. */
    unsigned long auxv[2], hwcap = 0;
    FILE *f = fopen("/proc/self/auxv", "rb");
    while (f && fread(auxv, sizeof auxv, 1, f) == 1 && auxv[0] != AT_NULL)
        if (auxv[0] == AT_HWCAP) hwcap = auxv[1];
    if (f) fclose(f);
    printf("hwcap %#lx\n", hwcap);
    printf("cpuinfo pni %d ssse3 %d sse4_2 %d popcnt %d aes %d avx %d\n", cpuinfo_has("pni"), cpuinfo_has("ssse3"),
           cpuinfo_has("sse4_2"), cpuinfo_has("popcnt"), cpuinfo_has("aes"), cpuinfo_has("avx"));
    /* XSAVE: XCR0 through xgetbv only where OSXSAVE allows it; leaf 0xD's components. */
    unsigned xcr0 = 0, d0 = 0, d1 = 0;
    if (c >> 27 & 1) __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(d) : "c"(0));
    if (__get_cpuid_max(0, NULL) >= 0xd) {
        __cpuid_count(0xd, 0, d0, b, c, d);
        __cpuid_count(0xd, 1, d1, b, c, d);
    }
    __get_cpuid(1, &a, &b, &c, &d);
    printf("xsave cpuid %u osxsave %u xcr0 %u leaf_d %u xsavec %u cpuinfo %d %d\n", c >> 26 & 1, c >> 27 & 1, xcr0,
           d0, d1 >> 1 & 1, cpuinfo_has("xsave"), cpuinfo_has("xsavec"));
    return 0;
}
