/* The MMX <-> SSE conversions (cvtpi2ps, cvtpi2pd, cvt(t)ps2pi,
 * cvt(t)pd2pi) from registers and memory under every MXCSR rounding mode,
 * with NaN, infinities, out-of-range values and negative zero; which of
 * them switch the x87 stack to MMX use (TOP and tags, read with fxsave,
 * and in the signal frame of a faulting maskmovq); maskmovq and
 * maskmovdqu; pshufw, psadbw, pmulhuw, pmuludq and shifts on MMX
 * registers. Results are printed in hex. (SSSE3 on MMX registers:
 * ssse3_mmx.c.) */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

typedef struct {
    uint64_t lo, hi;
} u128;

static const uint32_t singles[][2] = {
    {0x3fc00000, 0xbfc00000}, /* 1.5, -1.5 */
    {0x40200000, 0xc0200000}, /* 2.5, -2.5 */
    {0x80000000, 0x00000001}, /* -0.0, smallest denormal */
    {0x7fc00000, 0xffc00001}, /* quiet NaNs */
    {0x7f800001, 0x7f800000}, /* signalling NaN, +inf */
    {0xff800000, 0x4f000000}, /* -inf, 2^31 */
    {0xcf000000, 0xcf000001}, /* -2^31, just below it */
    {0x4effffff, 0x3f000000}, /* largest single below 2^31, 0.5 */
};

static const uint64_t doubles[][2] = {
    {0x3ff8000000000000, 0xbff8000000000000}, /* 1.5, -1.5 */
    {0x41dfffffffc00000, 0x41dfffffffe00000}, /* 2^31 - 1, 2^31 - 0.5 */
    {0xc1e0000000000000, 0xc1e0000000100000}, /* -2^31, -2^31 - 0.5 */
    {0x8000000000000000, 0x0000000000000001}, /* -0.0, smallest denormal */
    {0x7ff8000000000000, 0xfff0000000000001}, /* quiet NaN, signalling NaN */
    {0x7ff0000000000000, 0x41e0000000000000}, /* +inf, 2^31 */
    {0x3fe0000000000000, 0xbfe0000000000001}, /* 0.5, just below -0.5 */
};

static const uint64_t ints[] = {
    0x7fffffff80000000, 0x0000000100000000, 0xffffffff00000000, 0x7fffff8100ffffff, 0x8000004180000001,
};

static const char *const modes[] = {"nearest", "down", "up", "zero"};

static void set_rounding(int rc) {
    uint32_t m = 0x1f80 | (uint32_t)rc << 13;
    __asm__ volatile("ldmxcsr %0" ::"m"(m));
}

/* TOP and the abridged tag byte, from fxsave. */
static void x87_state(const char *after) {
    static uint8_t area[512] __attribute__((aligned(16)));
    __asm__ volatile("fxsave %0" : "=m"(area));
    uint16_t fsw;
    memcpy(&fsw, area + 2, 2);
    printf("  x87 after %-22s top=%d tags=%02x\n", after, (fsw >> 11) & 7, area[4]);
}

/* Empties the x87 stack, then pushes one value: TOP=7, one tag valid. */
static void x87_one_value(void) {
    __asm__ volatile("emms\n\tfninit\n\tfld1" ::: "st");
}

static void x87_clear(void) {
    __asm__ volatile("fstp %%st(0)\n\temms" ::: "st");
}

static void conversions(void) {
    for (int rc = 0; rc < 4; rc++) {
        set_rounding(rc);
        printf("rounding %s\n", modes[rc]);
        for (unsigned i = 0; i < sizeof singles / sizeof singles[0]; i++) {
            uint64_t src = singles[i][0] | (uint64_t)singles[i][1] << 32, r, t, rm;
            __asm__ volatile("movq %3, %%xmm1\n\t"
                             "cvtps2pi %%xmm1, %%mm0\n\tmovq %%mm0, %0\n\t"
                             "cvttps2pi %%xmm1, %%mm1\n\tmovq %%mm1, %1\n\t"
                             "cvtps2pi %4, %%mm2\n\tmovq %%mm2, %2\n\temms"
                             : "=r"(r), "=r"(t), "=r"(rm)
                             : "r"(src), "m"(src)
                             : "xmm1", "mm0", "mm1", "mm2");
            printf("  cvtps2pi %08x %08x -> %016" PRIx64 " trunc %016" PRIx64 " mem %016" PRIx64 "\n",
                   singles[i][0], singles[i][1], r, t, rm);
        }
        for (unsigned i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
            u128 src __attribute__((aligned(16))) = {doubles[i][0], doubles[i][1]};
            uint64_t r, t, rm;
            __asm__ volatile("movdqa %3, %%xmm2\n\t"
                             "cvtpd2pi %%xmm2, %%mm0\n\tmovq %%mm0, %0\n\t"
                             "cvttpd2pi %%xmm2, %%mm1\n\tmovq %%mm1, %1\n\t"
                             "cvttpd2pi %3, %%mm2\n\tmovq %%mm2, %2\n\temms"
                             : "=r"(r), "=r"(t), "=r"(rm)
                             : "m"(src)
                             : "xmm2", "mm0", "mm1", "mm2");
            printf("  cvtpd2pi %016" PRIx64 " %016" PRIx64 " -> %016" PRIx64 " trunc %016" PRIx64
                   " mem-trunc %016" PRIx64 "\n",
                   doubles[i][0], doubles[i][1], r, t, rm);
        }
        for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
            u128 ps, psm, pd, pdm;
            uint64_t src = ints[i];
            /* The upper half of cvtpi2ps's destination is kept. */
            __asm__ volatile("pcmpeqd %%xmm3, %%xmm3\n\tpcmpeqd %%xmm4, %%xmm4\n\t"
                             "movq %4, %%mm3\n\t"
                             "cvtpi2ps %%mm3, %%xmm3\n\tmovdqu %%xmm3, %0\n\t"
                             "cvtpi2ps %5, %%xmm4\n\tmovdqu %%xmm4, %1\n\t"
                             "cvtpi2pd %%mm3, %%xmm5\n\tmovdqu %%xmm5, %2\n\t"
                             "cvtpi2pd %5, %%xmm6\n\tmovdqu %%xmm6, %3\n\temms"
                             : "=m"(ps), "=m"(psm), "=m"(pd), "=m"(pdm)
                             : "r"(src), "m"(src)
                             : "xmm3", "xmm4", "xmm5", "xmm6", "mm3");
            printf("  cvtpi2ps %016" PRIx64 " -> %016" PRIx64 "%016" PRIx64 " mem %016" PRIx64 "%016" PRIx64 "\n",
                   src, ps.hi, ps.lo, psm.hi, psm.lo);
            printf("  cvtpi2pd %016" PRIx64 " -> %016" PRIx64 "%016" PRIx64 " mem %016" PRIx64 "%016" PRIx64 "\n",
                   src, pd.hi, pd.lo, pdm.hi, pdm.lo);
        }
    }
    set_rounding(0);
}

/* Which conversions put the x87 stack in MMX use (SDM: those that name an
 * MMX register); emms empties the tags. */
static void x87_transitions(void) {
    static const uint64_t m64 = 0x0000000200000001;
    static const u128 m128 __attribute__((aligned(16))) = {0x3ff0000000000000, 0x4000000000000000};
    printf("x87 transitions\n");
    x87_one_value();
    x87_state("fld1");
    __asm__ volatile("cvtpi2ps %0, %%xmm0" ::"m"(m64) : "xmm0");
    x87_state("cvtpi2ps xmm, m64");
    __asm__ volatile("cvtpi2pd %0, %%xmm0" ::"m"(m64) : "xmm0");
    x87_state("cvtpi2pd xmm, m64");
    __asm__ volatile("cvtpi2pd %%mm1, %%xmm0" ::: "xmm0");
    x87_state("cvtpi2pd xmm, mm");
    x87_clear();
    x87_one_value();
    __asm__ volatile("cvtpi2ps %%mm1, %%xmm0" ::: "xmm0");
    x87_state("cvtpi2ps xmm, mm");
    x87_clear();
    x87_one_value();
    __asm__ volatile("cvttps2pi %0, %%mm1" ::"m"(m64) : "mm1");
    x87_state("cvttps2pi mm, m64");
    x87_clear();
    x87_one_value();
    __asm__ volatile("cvtpd2pi %0, %%mm1" ::"m"(m128) : "mm1");
    x87_state("cvtpd2pi mm, m128");
    __asm__ volatile("emms");
    x87_state("emms");
    __asm__ volatile("fninit");
}

static void masked_stores(void) {
    uint8_t buf[40];
    uint64_t data = 0x0807060504030201, mask = 0x80ff007f80010080;
    memset(buf, 0xaa, sizeof buf);
    __asm__ volatile("movq %1, %%mm0\n\tmovq %2, %%mm1\n\tmaskmovq %%mm1, %%mm0\n\temms"
                     ::"D"(buf + 3), "r"(data), "r"(mask)
                     : "mm0", "mm1", "memory");
    u128 xdata = {0x0807060504030201, 0x100f0e0d0c0b0a09}, xmask = {0x8000ff7f01800080, 0x00ffffff00808080};
    __asm__ volatile("movdqu %1, %%xmm0\n\tmovdqu %2, %%xmm1\n\tmaskmovdqu %%xmm1, %%xmm0"
                     ::"D"(buf + 17), "m"(xdata), "m"(xmask)
                     : "xmm0", "xmm1", "memory");
    printf("maskmov ");
    for (unsigned i = 0; i < sizeof buf; i++) printf("%02x", buf[i]);
    printf("\n");
}

#include "mmx_ops.h"

static void mmx_ops(void) {
    for (unsigned i = 0; i < N_LANES; i++) {
        for (unsigned j = 0; j < N_LANES; j++) {
            uint64_t a = lanes[i], b = lanes[j];
            printf("%016" PRIx64 " %016" PRIx64 ":", a, b);
            printf(" psadbw=%016" PRIx64, MMX_OP("psadbw", a, b));
            printf(" pmulhuw=%016" PRIx64, MMX_OP("pmulhuw", a, b));
            printf(" pmuludq=%016" PRIx64, MMX_OP_MEM("pmuludq", a, b));
            printf(" psraw=%016" PRIx64, MMX_OP("psraw", a, b & 0x1f));
            printf(" psrlq=%016" PRIx64, MMX_OP_MEM("psrlq", a, b & 0x7f));
            printf("\n");
        }
        uint64_t ins, mask, word;
        uint16_t w = (uint16_t)lanes[i];
        __asm__ volatile("movq %3, %%mm0\n\tpinsrw $2, %4, %%mm0\n\tmovq %%mm0, %0\n\t"
                         "pmovmskb %%mm0, %k1\n\tpextrw $3, %%mm0, %k2\n\tpsllw $3, %%mm0\n\temms"
                         : "=r"(ins), "=r"(mask), "=r"(word)
                         : "r"(lanes[N_LANES - 1 - i]), "m"(w)
                         : "mm0");
        printf("pinsrw %016" PRIx64 " pmovmskb %02" PRIx64 " pextrw %04" PRIx64 "\n", ins, mask, word);
    }
    uint64_t a = lanes[0];
#define PSHUFW(n)                                                                                      \
    do {                                                                                               \
        uint64_t r_;                                                                                   \
        __asm__ volatile("pshufw $" #n ", %1, %%mm0\n\tmovq %%mm0, %0\n\temms" : "=r"(r_) : "m"(a) : "mm0"); \
        printf("pshufw %3d %016" PRIx64 "\n", n, r_);                                                  \
    } while (0)
    PSHUFW(0x1b);
    PSHUFW(0x00);
    PSHUFW(0xe4);
    PSHUFW(0x9c);
}

/* maskmovq to an unmapped page: the signal frame's x87 state shows
 * whether the stack was switched to MMX use before the fault. */
static sigjmp_buf fault_jump;
static uint16_t fault_swd, fault_ftw;

static void on_segv(int sig, siginfo_t *info, void *ctx) {
    (void)sig;
    (void)info;
    ucontext_t *uc = ctx;
    fault_swd = uc->uc_mcontext.fpregs->swd;
    fault_ftw = uc->uc_mcontext.fpregs->ftw;
    siglongjmp(fault_jump, 1);
}

static void faulting_store(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(fault_jump, 1) == 0) {
        /* The mask (MM1 = R1) is set before the x87 stack gets one value
         * (TOP=7); only maskmovq itself can switch it. */
        __asm__ volatile("pcmpeqb %%mm1, %%mm1\n\temms\n\tfninit\n\tfld1\n\tmaskmovq %%mm1, %%mm0" ::"D"(8)
                         : "mm1", "st", "memory");
        printf("maskmovq to page 0 did not fault\n");
    }
    printf("maskmovq fault: top=%d tags=%02x\n", (fault_swd >> 11) & 7, fault_ftw & 0xff);
    __asm__ volatile("emms\n\tfninit");
}

int main(void) {
    conversions();
    x87_transitions();
    masked_stores();
    mmx_ops();
    faulting_store();
    return 0;
}
