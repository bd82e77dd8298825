/* The XSAVE feature set on x87 and SSE state: CPUID leaf 0xD and xgetbv
 * as far as they are fixed for those two components, xsave/xsaveopt/
 * xsavec/xrstor (and their REX.W forms) on a 64-byte aligned area, the
 * initial state xrstor gives components whose XSTATE_BV bit is clear,
 * the #GP faults (alignment, header, MXCSR, XCRs), and signal frames in
 * XSAVE layout whose XMM registers a handler edits.
 *
 * The host may enable more state (AVX, AVX-512), so every save and
 * restore asks for components 0 and 1 only (EDX:EAX = 3), and nothing
 * printed depends on the host's XCR0: sizes beyond 576 bytes, components
 * 2 and up, FOP/FDP (vendor-specific) and FCS/FDS (deprecated) are left
 * out. Each state change and its save sit in one asm block, so the
 * compiler's own use of XMM registers cannot interfere. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#define AREA 1024
#define FILL 0xa5

static uint8_t area_a[AREA] __attribute__((aligned(64)));
static uint8_t area_b[AREA] __attribute__((aligned(64)));
static uint8_t area_c[AREA] __attribute__((aligned(64)));
static const uint64_t xmm_values[32] = {
    0x0123456789abcdefull, 0xfedcba9876543210ull, 0x1111111111111111ull, 0x2222222222222222ull,
    0x3333333333333333ull, 0x4444444444444444ull, 0x5555555555555555ull, 0x6666666666666666ull,
    0x7777777777777777ull, 0x8888888888888888ull, 0x9999999999999999ull, 0xaaaaaaaaaaaaaaaaull,
    0xbbbbbbbbbbbbbbbbull, 0xccccccccccccccccull, 0xddddddddddddddddull, 0xeeeeeeeeeeeeeeeeull,
    0x0f0f0f0f0f0f0f0full, 0xf0f0f0f0f0f0f0f0ull, 0x00ff00ff00ff00ffull, 0xff00ff00ff00ff00ull,
    0x3ff0000000000000ull, 0x4000000000000000ull, 0xbff0000000000000ull, 0x7ff8000000000000ull,
    0x0000000000000001ull, 0x8000000000000000ull, 0x0123012301230123ull, 0x4567456745674567ull,
    0x89ab89ab89ab89abull, 0xcdefcdefcdefcdefull, 0x1234567812345678ull, 0x9abcdef09abcdef0ull,
};

static uint16_t u16(const uint8_t *a, int o) { uint16_t v; memcpy(&v, a + o, 2); return v; }
static uint32_t u32(const uint8_t *a, int o) { uint32_t v; memcpy(&v, a + o, 4); return v; }
static uint64_t u64(const uint8_t *a, int o) { uint64_t v; memcpy(&v, a + o, 8); return v; }

static void fill(uint8_t *a) {
    memset(a, FILL, AREA);
}

static int untouched(const uint8_t *a, int from, int to) {
    for (int i = from; i < to; i++)
        if (a[i] != FILL) return 0;
    return 1;
}

/* The legacy region's x87 part (FIP checked against `fip`, the address
 * of the last x87 instruction; 0 to skip it), its SSE part, and the
 * header. */
static void print_area(const char *what, const uint8_t *a, uint64_t fip, int rex_w) {
    printf("%s:\n", what);
    if (untouched(a, 0, 24) && untouched(a, 32, 160)) {
        printf("  x87: not written\n");
    } else {
        printf("  fcw %04x fsw %04x ftw %02x", u16(a, 0), u16(a, 2), a[4]);
        if (fip) {
            /* Intel saves the last x87 instruction's address; AMD only
             * while an x87 exception is pending (none is), else zero. */
            uint64_t saved = rex_w ? u64(a, 8) : u32(a, 8);
            int matches = saved == (rex_w ? fip : (uint32_t)fip);
            printf(" fip %s", matches || saved == 0 ? "ok" : "wrong");
        }
        printf("\n  st:");
        for (int i = 0; i < 8; i++) printf(" %04x%016llx", u16(a, 40 + 16 * i), (unsigned long long)u64(a, 32 + 16 * i));
        printf("\n");
    }
    if (untouched(a, 24, 32)) printf("  mxcsr: not written\n");
    /* MXCSR_MASK's bit 17 is AMD's misaligned-SSE mode (MM): Intel's is 0. */
    else printf("  mxcsr %08x mask %08x\n", u32(a, 24), u32(a, 28) & 0xffff);
    if (untouched(a, 160, 416)) {
        printf("  xmm: not written\n");
    } else {
        for (int i = 0; i < 16; i += 2)
            printf("  xmm%-2d %016llx%016llx xmm%-2d %016llx%016llx\n", i, (unsigned long long)u64(a, 168 + 16 * i),
                   (unsigned long long)u64(a, 160 + 16 * i), i + 1, (unsigned long long)u64(a, 184 + 16 * i),
                   (unsigned long long)u64(a, 176 + 16 * i));
    }
    printf("  bytes 416..463 %s, 464..511 %s, 576.. %s\n", untouched(a, 416, 464) ? "untouched" : "written",
           untouched(a, 464, 512) ? "untouched" : "written",
           untouched(a, 576, AREA) ? "untouched" : "written");
    printf("  xstate_bv %016llx xcomp_bv %016llx rest of header %s\n", (unsigned long long)u64(a, 512),
           (unsigned long long)u64(a, 520), untouched(a, 528, 576) ? "untouched" : "written");
}

/* Loads XMM0-15, MXCSR and three x87 values, runs SAVE on `area`, and
 * returns the address of the last x87 instruction. */
#define SAVE_AFTER_SETUP(SAVE, area, fip)                                                                       \
    do {                                                                                                        \
        uint32_t mxcsr = 0x3f80; /* round down, all masked */                                                  \
        __asm__ volatile("fninit\n\t"                                                                           \
                         "ldmxcsr %[mx]\n\t"                                                                    \
                         "movdqu 0(%[x]), %%xmm0\n\tmovdqu 16(%[x]), %%xmm1\n\t"                                \
                         "movdqu 32(%[x]), %%xmm2\n\tmovdqu 48(%[x]), %%xmm3\n\t"                               \
                         "movdqu 64(%[x]), %%xmm4\n\tmovdqu 80(%[x]), %%xmm5\n\t"                               \
                         "movdqu 96(%[x]), %%xmm6\n\tmovdqu 112(%[x]), %%xmm7\n\t"                              \
                         "movdqu 128(%[x]), %%xmm8\n\tmovdqu 144(%[x]), %%xmm9\n\t"                             \
                         "movdqu 160(%[x]), %%xmm10\n\tmovdqu 176(%[x]), %%xmm11\n\t"                           \
                         "movdqu 192(%[x]), %%xmm12\n\tmovdqu 208(%[x]), %%xmm13\n\t"                           \
                         "movdqu 224(%[x]), %%xmm14\n\tmovdqu 240(%[x]), %%xmm15\n\t"                           \
                         "fld1\n\tfldz\n\t"                                                                     \
                         "lea 1f(%%rip), %[ip]\n"                                                               \
                         "1:\tfldpi\n\t" SAVE " (%[a])\n\t"                                                     \
                         "fninit\n\t"                                                                           \
                         : [ip] "=&r"(fip)                                                                      \
                         : [a] "r"(area), [x] "r"(xmm_values), [mx] "m"(mxcsr), "a"(3), "d"(0)                  \
                         : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",   \
                           "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)",         \
                           "st(2)");                                                                            \
    } while (0)

static void saves(void) {
    uint64_t fip;
    fill(area_a);
    SAVE_AFTER_SETUP("xsave64", area_a, fip);
    print_area("xsave64 (header was a5 bytes)", area_a, fip, 1);
    fill(area_a);
    SAVE_AFTER_SETUP("xsave", area_a, fip);
    print_area("xsave", area_a, fip, 0);
    fill(area_a);
    SAVE_AFTER_SETUP("xsaveopt64", area_a, fip);
    print_area("xsaveopt64", area_a, fip, 1);
    fill(area_a);
    SAVE_AFTER_SETUP("xsavec64", area_a, fip);
    print_area("xsavec64", area_a, fip, 1);
}

/* xrstor64 from `from` (RFBM 3), then xsave64 to `to`; XINUSE from
 * xgetbv(1) right after the restore. */
static uint64_t restore_then_save(const uint8_t *from, uint8_t *to) {
    uint32_t lo, hi, ax = 3, dx = 0;
    fill(to);
    __asm__ volatile("xrstor64 (%[f])\n\t"
                     "mov $1, %%ecx\n\txgetbv\n\t"
                     "mov %%eax, %[lo]\n\tmov %%edx, %[hi]\n\t"
                     "mov $3, %%eax\n\txor %%edx, %%edx\n\t"
                     "xsave64 (%[t])\n\t"
                     "fninit\n\t"
                     : [lo] "=&r"(lo), [hi] "=&r"(hi), "+a"(ax), "+d"(dx)
                     : [f] "r"(from), [t] "r"(to)
                     : "rcx", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st");
    return ((uint64_t)hi << 32 | lo) & 3;
}

static void restores(void) {
    uint64_t fip;
    /* A saved area, edited: XMM3, MXCSR and ST0 change. */
    fill(area_a);
    SAVE_AFTER_SETUP("xsave64", area_a, fip);
    memset(area_a + 512, 0, 64);
    area_a[512] = 3;
    memset(area_a + 160 + 3 * 16, 0x42, 16);
    uint32_t mx = 0x1f80 | 0x6000; /* round toward zero */
    memcpy(area_a + 24, &mx, 4);
    area_a[32] ^= 1;
    uint64_t inuse = restore_then_save(area_a, area_b);
    print_area("xrstor64 of an edited area, then xsave64", area_b, 0, 1);
    printf("  xinuse after xrstor: %llx\n", (unsigned long long)inuse);

    /* XSTATE_BV = 0: both components initialized, but the standard form
     * still loads MXCSR from the area. */
    area_a[512] = 0;
    mx = 0x1f80;
    memcpy(area_a + 24, &mx, 4);
    inuse = restore_then_save(area_a, area_b);
    print_area("xrstor64 with xstate_bv 0 (mxcsr 1f80), then xsave64", area_b, 0, 1);
    printf("  xinuse after xrstor: %llx\n", (unsigned long long)inuse);

    /* Only x87 from the area. */
    area_a[512] = 1;
    inuse = restore_then_save(area_a, area_b);
    print_area("xrstor64 with xstate_bv 1, then xsave64", area_b, 0, 1);
    printf("  xinuse after xrstor: %llx\n", (unsigned long long)inuse);

    /* The compacted form: an xsavec64 area restores; with XSTATE_BV 0 it
     * initializes MXCSR too. */
    fill(area_c);
    memset(area_c + 512, 0, 64); /* xsavec leaves bytes 16..63, which must be 0 */
    SAVE_AFTER_SETUP("xsavec64", area_c, fip);
    restore_then_save(area_c, area_b);
    print_area("xrstor64 of an xsavec64 area, then xsave64", area_b, 0, 1);
    area_c[512] = 0;
    inuse = restore_then_save(area_c, area_b);
    print_area("compacted xrstor64 with xstate_bv 0, then xsave64", area_b, 0, 1);
    printf("  xinuse after xrstor: %llx\n", (unsigned long long)inuse);

    /* In the initial state, xsavec and xsaveopt save nothing but the
     * header (and xsaveopt MXCSR). */
    uint32_t lo, hi, ax = 3, dx = 0;
    fill(area_b);
    fill(area_c);
    memset(area_a + 24, 0, 8);
    mx = 0x1f80;
    memcpy(area_a + 24, &mx, 4);
    area_a[512] = 0;
    __asm__ volatile("xrstor64 (%[f])\n\t"
                     "xsavec64 (%[b])\n\t"
                     "xsaveopt64 (%[c])\n\t"
                     "fld1\n\t"
                     "mov $1, %%ecx\n\txgetbv\n\t"
                     "mov %%eax, %[lo]\n\tmov %%edx, %[hi]\n\t"
                     "fninit\n\t"
                     : [lo] "=&r"(lo), [hi] "=&r"(hi), "+a"(ax), "+d"(dx)
                     : [f] "r"(area_a), [b] "r"(area_b), [c] "r"(area_c)
                     : "rcx", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st");
    print_area("xsavec64 in the initial state", area_b, 0, 1);
    print_area("xsaveopt64 in the initial state", area_c, 0, 1);
    printf("xinuse after fld1: %llx\n", (unsigned long long)(((uint64_t)hi << 32 | lo) & 3));
}

static sigjmp_buf env;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static volatile unsigned long got_rip;

static void jump_handler(int sig, siginfo_t *si, void *ctx) {
    got_rip = ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(env, 1);
}

#define EXPECT_FAULT(what, body)                                                                                \
    do {                                                                                                        \
        got_sig = 0;                                                                                            \
        if (sigsetjmp(env, 1) == 0) {                                                                           \
            body;                                                                                               \
            printf("%s: no fault\n", what);                                                                     \
        } else {                                                                                                \
            printf("%s: signal %d code %d addr %lx\n", what, got_sig, got_code, (unsigned long)got_addr);                       \
        }                                                                                                       \
    } while (0)

static void faults(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = jump_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    uint8_t *misaligned = area_b + 16;
    EXPECT_FAULT("xsave64 on a 16-byte aligned area", __asm__ volatile("xsave64 (%0)" ::"r"(misaligned), "a"(3), "d"(0) : "memory"));
    EXPECT_FAULT("xsavec64 on a 32-byte aligned area", __asm__ volatile("xsavec64 (%0)" ::"r"(area_b + 32), "a"(3), "d"(0) : "memory"));
    EXPECT_FAULT("xrstor64 from an 8-byte aligned area", __asm__ volatile("xrstor64 (%0)" ::"r"(area_b + 8), "a"(3), "d"(0) : "memory"));
    /* Header checks: XSTATE_BV bit 8 (a supervisor component, never in
     * XCR0), XCOMP_BV without bit 63, a reserved header byte, MXCSR's
     * reserved bits. Each restores nothing. */
    static const struct { const char *what; int offset; uint8_t value; } bad[] = {
        {"xrstor64 with xstate_bv bit 8", 513, 1},
        {"xrstor64 with xcomp_bv 1 (standard form)", 520, 1},
        {"xrstor64 with header byte 20 set", 532, 1},
        {"xrstor64 with mxcsr bit 16", 26, 1},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(area_b, 0, AREA);
        uint32_t mx = 0x1f80;
        memcpy(area_b + 24, &mx, 4);
        area_b[512] = 3;
        area_b[bad[i].offset] |= bad[i].value;
        EXPECT_FAULT(bad[i].what, __asm__ volatile("xrstor64 (%0)" ::"r"(area_b), "a"(3), "d"(0) : "memory", "xmm0", "st"));
    }
    /* The compacted form checks bytes 16..63 too. */
    memset(area_b, 0, AREA);
    uint32_t mx = 0x1f80;
    memcpy(area_b + 24, &mx, 4);
    uint64_t xcomp = 0x8000000000000003ull;
    memcpy(area_b + 520, &xcomp, 8);
    area_b[560] = 1;
    EXPECT_FAULT("compacted xrstor64 with header byte 48 set", __asm__ volatile("xrstor64 (%0)" ::"r"(area_b), "a"(3), "d"(0) : "memory", "xmm0", "st"));
    uint32_t lo, hi;
    /* The fault names the xgetbv itself (its address stored just before). */
    static volatile unsigned long xgetbv_at;
    EXPECT_FAULT("xgetbv with ecx 2", __asm__ volatile("lea 1f(%%rip), %%rsi\n\tmov %%rsi, %2\n1:\txgetbv"
                                                       : "=a"(lo), "=d"(hi), "=m"(xgetbv_at) : "c"(2) : "rsi"));
    printf("  at the xgetbv: %s\n", got_rip == xgetbv_at ? "yes" : "no");
    EXPECT_FAULT("xsetbv", __asm__ volatile("xsetbv" ::"a"(3), "d"(0), "c"(0)));
    signal(SIGSEGV, SIG_DFL);
    signal(SIGILL, SIG_DFL);
}

/* The handler's view of the frame, and its edit of XMM5 and MXCSR. */
static volatile uint32_t seen_flags, seen_magic1, seen_magic2, seen_sizes_ok, seen_xfeatures, seen_bv, seen_mxcsr;
static volatile uint64_t seen_xmm5;

static void frame_handler(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    uint32_t extended_size = u32(fp, 468), xstate_size = u32(fp, 480);
    seen_flags = uc->uc_flags & 1; /* UC_FP_XSTATE */
    seen_magic1 = u32(fp, 464);
    seen_sizes_ok = xstate_size >= 576 && extended_size == xstate_size + 4;
    seen_xfeatures = u64(fp, 472) & 3;
    seen_magic2 = u32(fp, xstate_size);
    seen_bv = u64(fp, 512) & 3;
    seen_mxcsr = u32(fp, 24);
    seen_xmm5 = u64(fp, 160 + 5 * 16);
    /* Edit the frame: XMM5 and MXCSR, and skip the ud2. */
    uint64_t v = 0x5555aaaa5555aaaaull;
    memcpy(fp + 160 + 5 * 16, &v, 8);
    uint32_t mx = 0x1f80 | 0x2000; /* round down */
    memcpy(fp + 24, &mx, 4);
    uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void signal_frame(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = frame_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, NULL);
    uint64_t out[2];
    uint32_t mxcsr_in = 0x1f80, mxcsr_out;
    __asm__ volatile("ldmxcsr %[in]\n\t"
                     "movdqu (%[x]), %%xmm5\n\t"
                     "ud2\n\t"
                     "movdqu %%xmm5, (%[o])\n\t"
                     "stmxcsr %[mout]\n\t"
                     : [mout] "=m"(mxcsr_out)
                     : [in] "m"(mxcsr_in), [x] "r"(xmm_values + 4), [o] "r"(out)
                     : "memory", "xmm5");
    signal(SIGILL, SIG_DFL);
    printf("signal frame: uc_flags UC_FP_XSTATE %u magic1 %08x sizes %s xfeatures&3 %u magic2 %08x xstate_bv&3 %u\n",
           seen_flags, seen_magic1, seen_sizes_ok ? "ok" : "wrong", seen_xfeatures, seen_magic2, seen_bv);
    printf("  handler saw xmm5 %016llx mxcsr %08x\n", (unsigned long long)seen_xmm5, seen_mxcsr);
    printf("  after sigreturn xmm5 %016llx%016llx mxcsr %08x\n", (unsigned long long)out[1],
           (unsigned long long)out[0], mxcsr_out);
}

int main(void) {
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    printf("cpuid.1: xsave %u osxsave %u\n", (c >> 26) & 1, (c >> 27) & 1);
    __cpuid(0, a, b, c, d);
    printf("max basic leaf >= 0xd: %s\n", a >= 0xd ? "yes" : "no");
    __cpuid_count(0xd, 0, a, b, c, d);
    printf("cpuid.(0xd,0): x87 and sse %u, size for xcr0 >= 576 %s, max size >= that %s\n", a & 3,
           b >= 576 ? "yes" : "no", c >= b ? "yes" : "no");
    __cpuid_count(0xd, 1, a, b, c, d);
    printf("cpuid.(0xd,1): xsaveopt %u xsavec %u xgetbv1 %u\n", a & 1, (a >> 1) & 1, (a >> 2) & 1);
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    printf("xcr0 & 3: %u\n", lo & 3);
    saves();
    restores();
    faults();
    signal_frame();
    return 0;
}
