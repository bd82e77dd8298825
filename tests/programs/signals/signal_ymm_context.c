/* Signal frames with AVX state (x86-64-v3; the program never asks CPUID
 * for AVX: it runs where AVX exists). Two signals interrupt code holding
 * values in the upper halves of YMM3 and YMM12: a fault (ud2, SIGILL) and
 * a kill() made with the syscall instruction (SIGUSR1, delivered at the
 * syscall's return). Each handler finds the YMM_Hi128 component where
 * CPUID leaf 0xD sub-leaf 2 places it, prints the two upper halves and
 * the frame's AVX bits (UC_FP_XSTATE, xfeatures bit 2, XSTATE_BV bit 2),
 * then rewrites them; after sigreturn the interrupted code stores the
 * whole registers, and main prints what the handler's edits became. The
 * handlers call printf, whose glibc string functions use AVX2 and
 * vzeroupper: the frame must give the interrupted code its own values.
 * Nothing printed depends on the host's other state components. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static uint64_t before[8] __attribute__((aligned(32))) = {
    0x0123456789abcdefull, 0xfedcba9876543210ull, 0x1111111122222222ull, 0x3333333344444444ull,
    0x5555555566666666ull, 0x7777777788888888ull, 0x99999999aaaaaaaaull, 0xbbbbbbbbccccccccull,
};
static uint64_t after[8] __attribute__((aligned(32)));
static unsigned ymm_offset;

static uint32_t u32(const uint8_t *a, unsigned o) { uint32_t v; memcpy(&v, a + o, 4); return v; }
static uint64_t u64(const uint8_t *a, unsigned o) { uint64_t v; memcpy(&v, a + o, 8); return v; }

static void handler(int sig, siginfo_t *info, void *context) {
    (void)info;
    ucontext_t *uc = context;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    unsigned xstate_size = u32(fp, 480);
    printf("%s: UC_FP_XSTATE %lu, magic1 %08x, magic2 %08x, xfeatures.AVX %lu, XSTATE_BV.AVX %lu\n",
           sig == SIGILL ? "SIGILL" : "SIGUSR1", uc->uc_flags & 1, u32(fp, 464), u32(fp, xstate_size),
           (unsigned long)(u64(fp, 472) >> 2 & 1), (unsigned long)(u64(fp, 512) >> 2 & 1));
    uint8_t *upper = fp + ymm_offset;
    for (int reg = 3; reg <= 12; reg += 9)
        printf("  ymm%-2d upper %016lx %016lx\n", reg, (unsigned long)u64(upper, 16 * reg),
               (unsigned long)u64(upper, 16 * reg + 8));
    /* New upper halves: the old ones with each byte incremented (SIGILL)
     * or inverted (SIGUSR1); the lower halves stay. */
    for (int reg = 3; reg <= 12; reg += 9)
        for (int i = 0; i < 16; i++)
            upper[16 * reg + i] = sig == SIGILL ? upper[16 * reg + i] + 1 : ~upper[16 * reg + i];
    if (sig == SIGILL)
        uc->uc_mcontext.gregs[REG_RIP] += 2; /* past the ud2 */
}

static void show(const char *when) {
    printf("%s:\n", when);
    printf("  ymm3  %016lx %016lx %016lx %016lx\n", (unsigned long)after[0], (unsigned long)after[1],
           (unsigned long)after[2], (unsigned long)after[3]);
    printf("  ymm12 %016lx %016lx %016lx %016lx\n", (unsigned long)after[4], (unsigned long)after[5],
           (unsigned long)after[6], (unsigned long)after[7]);
}

int main(void) {
    unsigned eax, ebx, ecx, edx;
    __cpuid_count(0xd, 2, eax, ebx, ecx, edx);
    ymm_offset = ebx;
    printf("YMM_Hi128: %u bytes at %u\n", eax, ebx);
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    __asm__ volatile("vmovdqa (%0), %%ymm3\n\t"
                     "vmovdqa 32(%0), %%ymm12\n\t"
                     "ud2\n\t"
                     "vmovdqa %%ymm3, (%1)\n\t"
                     "vmovdqa %%ymm12, 32(%1)\n\t"
                     "vzeroupper"
                     :
                     : "r"(before), "r"(after)
                     : "xmm3", "xmm12", "memory");
    show("after SIGILL");

    __asm__ volatile("vmovdqa (%0), %%ymm3\n\t"
                     "vmovdqa 32(%0), %%ymm12\n\t"
                     "mov $39, %%eax\n\t" /* getpid */
                     "syscall\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $10, %%esi\n\t" /* SIGUSR1 */
                     "mov $62, %%eax\n\t" /* kill */
                     "syscall\n\t"
                     "vmovdqa %%ymm3, (%1)\n\t"
                     "vmovdqa %%ymm12, 32(%1)\n\t"
                     "vzeroupper"
                     :
                     : "r"(before), "r"(after)
                     : "rax", "rdi", "rsi", "rcx", "r11", "xmm3", "xmm12", "memory");
    show("after SIGUSR1");
    return 0;
}
