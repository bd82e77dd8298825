/* Runs of scalar SSE arithmetic between registers, which Transit emits as
 * chains sharing one NaN test (translator/src/emit/fp_chain.rs), over
 * inputs that make NaNs: quiet and signalling NaNs of both signs with
 * payloads, infinities, zeros. Every register's bits are printed, upper
 * halves included, so a NaN that took the host's value instead of x86's,
 * or an element written to the wrong register, shows. Also: a chain whose
 * end meets live integer flags (the test may not use a compare), copies
 * between registers inside a chain (a swap through a third register), and
 * single precision. A link with a memory source starts a chain; packed
 * links mix with scalar ones; loads inside a chain (a link's memory
 * source, movsd and movupd) feed later links, also into registers a link
 * wrote before; stores inside a chain; a chain longer than its registers
 * hold; a compare and a branch out of a chain's middle; results written
 * straight to a loaded register. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint64_t doubles[] = {
    0x3ff8000000000000, /* 1.5 */
    0xc000000000000000, /* -2 */
    0x0000000000000000, /* 0 */
    0x8000000000000000, /* -0 */
    0x7ff0000000000000, /* inf */
    0xfff0000000000000, /* -inf */
    0x7ff8000000000123, /* QNaN with payload */
    0xfff8000000000456, /* negative QNaN */
    0x7ff0000000000789, /* SNaN */
    0xfff00000000000ab, /* negative SNaN */
};
#define N (sizeof doubles / sizeof doubles[0])

struct xmm {
    uint64_t lo, hi;
};

/* xmm0..xmm4 from `in`, upper halves marked; a chain; all six back. */
static void chain_double(const uint64_t in[5], struct xmm out[6]) {
    struct xmm regs[6];
    for (int i = 0; i < 5; i++) {
        regs[i].lo = in[i];
        regs[i].hi = 0x1111111100000000ull * (i + 1);
    }
    regs[5] = (struct xmm){ 0x4024000000000000, 0x5555 };
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n"
        "movdqu 48(%0), %%xmm3\n movdqu 64(%0), %%xmm4\n movdqu 80(%0), %%xmm5\n"
        "addsd 64(%0), %%xmm0\n"
        "mulsd %%xmm1, %%xmm0\n"
        "addsd %%xmm0, %%xmm2\n"
        "movapd %%xmm2, %%xmm6\n"
        "subsd %%xmm3, %%xmm6\n"
        "divsd %%xmm6, %%xmm1\n"
        "sqrtsd %%xmm1, %%xmm5\n"
        "mulsd %%xmm4, %%xmm4\n"
        "subsd %%xmm4, %%xmm3\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n"
        "movdqu %%xmm3, 48(%1)\n movdqu %%xmm5, 64(%1)\n movdqu %%xmm6, 80(%1)\n"
        :
        : "r"(regs), "r"(out)
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "memory");
}

/* A chain ending at a branch on integer flags set inside it, and a swap
 * of xmm6 and xmm7 through xmm8 between links. */
static int chain_flags_swap(const uint64_t in[3], struct xmm out[3]) {
    struct xmm regs[3] = { { in[0], 0xa }, { in[1], 0xb }, { in[2], 0xc } };
    int taken;
    __asm__ volatile(
        "movdqu 0(%1), %%xmm6\n movdqu 16(%1), %%xmm7\n movdqu 32(%1), %%xmm8\n"
        "addsd %%xmm7, %%xmm6\n"
        "movapd %%xmm6, %%xmm8\n"
        "movapd %%xmm7, %%xmm6\n"
        "movapd %%xmm8, %%xmm7\n"
        "mov $1, %%eax\n"
        "cmp $1, %%eax\n"
        "mulsd %%xmm7, %%xmm6\n"
        "divsd %%xmm6, %%xmm8\n"
        "je 1f\n"
        "mov $7, %%eax\n"
        "1:\n"
        "mov %%eax, %0\n"
        "movdqu %%xmm6, 0(%2)\n movdqu %%xmm7, 16(%2)\n movdqu %%xmm8, 32(%2)\n"
        : "=r"(taken)
        : "r"(regs), "r"(out)
        : "rax", "xmm6", "xmm7", "xmm8", "memory", "cc");
    return taken;
}

/* Packed links among scalar ones: a scalar result copied, duplicated
 * into both elements (unpcklpd x, x), multiplied and subtracted as pairs,
 * a scalar operation on a packed result, and a packed result's high
 * element duplicated (unpckhpd x, x) and added. */
static void chain_packed(const struct xmm in[3], struct xmm out[4]) {
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n"
        "mulsd %%xmm1, %%xmm0\n"
        "movapd %%xmm0, %%xmm3\n"
        "unpcklpd %%xmm3, %%xmm3\n"
        "mulpd %%xmm2, %%xmm3\n"
        "subpd %%xmm3, %%xmm1\n"
        "addsd %%xmm1, %%xmm2\n"
        "divpd %%xmm2, %%xmm2\n"
        "unpckhpd %%xmm1, %%xmm1\n"
        "addsd %%xmm1, %%xmm0\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n movdqu %%xmm3, 48(%1)\n"
        :
        : "r"(in), "r"(out)
        : "xmm0", "xmm1", "xmm2", "xmm3", "memory");
}

/* unpcklpd x, x (unpckhpd x, x) of a signalling NaN inside a chain, its
 * result final, the value in the low (high) element: it copies, so
 * MXCSR's flags stay clear. */
#define DUP_SNAN_FLAGS(name, insn, low, high)                     \
    static unsigned name(uint64_t value, struct xmm *out) {       \
        struct xmm in = { low, high };                            \
        unsigned clear = 0x1f80, mxcsr;                           \
        __asm__ volatile("ldmxcsr %2\n"                           \
                         "movdqu %1, %%xmm4\n"                    \
                         "pxor %%xmm5, %%xmm5\n"                  \
                         "addsd %%xmm5, %%xmm5\n" insn            \
                         " %%xmm4, %%xmm4\n"                      \
                         "movdqu %%xmm4, %0\n"                    \
                         "stmxcsr %3\n"                           \
                         : "=m"(*out)                             \
                         : "m"(in), "m"(clear), "m"(mxcsr)        \
                         : "xmm4", "xmm5", "memory");             \
        return mxcsr & 0x3f;                                      \
    }
DUP_SNAN_FLAGS(dup_snan_flags, "unpcklpd", value, 0x77)
DUP_SNAN_FLAGS(dup_high_snan_flags, "unpckhpd", 0x77, value)

static const uint32_t singles[] = { 0x3fc00000, 0xc0000000, 0x00000000, 0x7f800000, 0xff800000, 0x7fc00123, 0xffc00456, 0x7f800789, 0xff8000ab };
#define NS (sizeof singles / sizeof singles[0])

static void chain_single(const uint32_t in[3], uint32_t out[12]) {
    uint32_t regs[12] = { in[0], 1, 2, 3, in[1], 4, 5, 6, in[2], 7, 8, 9 };
    __asm__ volatile(
        "movdqu 0(%0), %%xmm9\n movdqu 16(%0), %%xmm10\n movdqu 32(%0), %%xmm11\n"
        "mulss %%xmm10, %%xmm9\n"
        "subss %%xmm9, %%xmm11\n"
        "sqrtss %%xmm11, %%xmm10\n"
        "addss %%xmm10, %%xmm9\n"
        "movdqu %%xmm9, 0(%1)\n movdqu %%xmm10, 16(%1)\n movdqu %%xmm11, 32(%1)\n"
        :
        : "r"(regs), "r"(out)
        : "xmm9", "xmm10", "xmm11", "memory");
}

/* Loads inside a chain: a link with a memory source, a scalar load
 * (clearing the upper half) and a whole-register load after links, each
 * then read by later links. `in` gives the loaded values. */
static unsigned chain_loads(const uint64_t in[3], struct xmm out[4]) {
    struct xmm regs[6];
    for (int i = 0; i < 4; i++) {
        /* in[1] only ever in the upper half of xmm1's load. */
        regs[i] = (struct xmm){ in[i == 0 ? 0 : 2], 0x1111111100000000ull * (i + 1) };
    }
    regs[4] = (struct xmm){ in[0], in[1] };
    regs[5] = (struct xmm){ in[2], in[0] };
    unsigned mxcsr = 0x1f80;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n movdqu 48(%0), %%xmm3\n"
        "mulsd %%xmm1, %%xmm0\n"
        "addsd 88(%0), %%xmm0\n"
        "movsd 80(%0), %%xmm3\n"
        "subsd %%xmm0, %%xmm3\n"
        "movupd 64(%0), %%xmm1\n"
        "divsd %%xmm1, %%xmm2\n"
        "mulsd %%xmm3, %%xmm1\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n movdqu %%xmm3, 48(%1)\n"
        :
        : "r"(regs), "r"(out)
        : "xmm0", "xmm1", "xmm2", "xmm3", "memory");
    /* Loaded values are never tested: a signalling NaN loaded into the
     * unused upper half must not raise the invalid flag. */
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    return mxcsr & 0x3f;
}

/* Stores inside a chain: a scalar result stored (movsd) and then read by
 * a later link, a packed result stored whole (movupd) and then read, a
 * double result's low half stored (movss), and a result over a movsd
 * load's cleared upper half. `mem` gets the stores. */
static unsigned chain_stores(const uint64_t in[3], struct xmm out[5], uint64_t mem[5]) {
    struct xmm regs[6];
    for (int i = 0; i < 4; i++) {
        regs[i] = (struct xmm){ in[i % 3], 0x1111111100000000ull * (i + 1) };
    }
    regs[4] = (struct xmm){ in[0], in[1] };
    regs[5] = (struct xmm){ in[2], in[0] };
    memset(mem, 0x5a, 5 * sizeof *mem);
    unsigned mxcsr = 0x1f80;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n movdqu 48(%0), %%xmm3\n"
        "mulsd %%xmm1, %%xmm0\n"
        "movsd %%xmm0, 0(%2)\n"
        "addsd %%xmm2, %%xmm0\n"
        "movsd 80(%0), %%xmm3\n"
        "subsd %%xmm0, %%xmm3\n"
        "movapd %%xmm1, %%xmm4\n"
        "mulpd %%xmm2, %%xmm4\n"
        "movupd %%xmm4, 8(%2)\n"
        "addsd %%xmm4, %%xmm2\n"
        "movss %%xmm2, 24(%2)\n"
        "movsd %%xmm3, 32(%2)\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n movdqu %%xmm3, 48(%1)\n movdqu %%xmm4, 64(%1)\n"
        :
        : "r"(regs), "r"(out), "r"(mem)
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "memory");
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    return mxcsr & 0x3f;
}

/* Loads into chain registers a link wrote before: the register of xmm1's
 * first result is free once a load replaces xmm1, and the next load must
 * not take it, since the cold path computes that link again. A NaN loaded
 * into xmm0 (in[1]) makes the last link's NaN. */
static void chain_reload(const uint64_t in[3], struct xmm out[3]) {
    struct xmm regs[3] = { { in[0], 0xa }, { in[2], 0xb }, { 0x3ff8000000000000, 0xc } };
    uint64_t loads[2] = { in[2], in[1] };
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n"
        "mulsd %%xmm0, %%xmm1\n"
        "addsd %%xmm1, %%xmm2\n"
        "movsd 0(%2), %%xmm1\n"
        "movsd 8(%2), %%xmm0\n"
        "mulsd %%xmm0, %%xmm2\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n"
        :
        : "r"(regs), "r"(out), "r"(loads)
        : "xmm0", "xmm1", "xmm2", "memory");
}

/* A chain longer than Transit's chain registers hold: each link with a
 * memory source takes one for the loaded value, so the chain ends part
 * way and another begins. xmm0..xmm3 start from
 * in[0..4], the memory sources are in[4..16]. An early result whose only
 * reader's result is dropped (xmm2's first, read by xmm3's second link,
 * which xmm3's load then replaces) must still get x86's NaN. */
static unsigned chain_long_loads(const uint64_t in[16], struct xmm out[4]) {
    struct xmm regs[4];
    for (int i = 0; i < 4; i++) {
        regs[i] = (struct xmm){ in[i], 0x1111111100000000ull * (i + 1) };
    }
    unsigned mxcsr = 0x1f80;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n movdqu 48(%0), %%xmm3\n"
        "mulsd 32(%2), %%xmm0\n"
        "addsd 40(%2), %%xmm1\n"
        "mulsd %%xmm0, %%xmm1\n"
        "subsd 48(%2), %%xmm2\n"
        "addsd %%xmm2, %%xmm3\n"
        "movsd 56(%2), %%xmm3\n"
        "mulsd %%xmm3, %%xmm1\n"
        "divsd 64(%2), %%xmm0\n"
        "addsd 72(%2), %%xmm1\n"
        "movsd 80(%2), %%xmm2\n"
        "mulsd 88(%2), %%xmm2\n"
        "subsd 96(%2), %%xmm3\n"
        "addsd %%xmm3, %%xmm0\n"
        "mulsd %%xmm1, %%xmm2\n"
        "addsd 104(%2), %%xmm1\n"
        "subsd 112(%2), %%xmm3\n"
        "mulsd 120(%2), %%xmm0\n"
        "addsd %%xmm0, %%xmm3\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n movdqu %%xmm3, 48(%1)\n"
        :
        : "r"(regs), "r"(out), "r"(in)
        : "xmm0", "xmm1", "xmm2", "xmm3", "memory");
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    return mxcsr & 0x3f;
}

/* A compare reading the chain's values, then a conditional branch out
 * of the chain's middle (taken where xmm0 <= 0 or unordered): the way out
 * writes every register as it stands, the way on goes on with the chain. */
static void chain_branch(const uint64_t in[3], struct xmm out[4]) {
    struct xmm regs[4] = { { in[0], 0xa }, { in[1], 0xb }, { in[2], 0xc }, { 0, 0xd } };
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n movdqu 48(%0), %%xmm3\n"
        "mulsd %%xmm1, %%xmm0\n"
        "addsd %%xmm2, %%xmm1\n"
        "ucomisd %%xmm3, %%xmm0\n"
        "jbe 1f\n"
        "subsd %%xmm2, %%xmm0\n"
        "mulsd %%xmm0, %%xmm1\n"
        "1:\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm1, 16(%1)\n movdqu %%xmm2, 32(%1)\n movdqu %%xmm3, 48(%1)\n"
        :
        : "r"(regs), "r"(out)
        : "xmm0", "xmm1", "xmm2", "xmm3", "memory", "cc");
}

/* A scalar load and the links after it writing their results to its
 * register (matmul's inner loop: movsd, mulsd, addsd from memory, movsd
 * back), then one more link reading it, in single precision too. */
static void chain_through(const uint64_t in[3], struct xmm out[3], uint64_t mem[2]) {
    struct xmm regs[3] = { { in[0], 0xa }, { in[1], 0xb }, { in[2], 0xc } };
    mem[0] = in[2];
    mem[1] = in[1];
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n movdqu 16(%0), %%xmm1\n movdqu 32(%0), %%xmm2\n"
        "movsd 8(%2), %%xmm3\n"
        "mulsd %%xmm1, %%xmm3\n"
        "addsd 0(%2), %%xmm3\n"
        "movsd %%xmm3, 0(%2)\n"
        "subsd %%xmm3, %%xmm0\n"
        "movss 8(%2), %%xmm2\n"
        "mulss %%xmm1, %%xmm2\n"
        "movdqu %%xmm0, 0(%1)\n movdqu %%xmm2, 16(%1)\n movdqu %%xmm3, 32(%1)\n"
        :
        : "r"(regs), "r"(out), "r"(mem)
        : "xmm0", "xmm1", "xmm2", "xmm3", "memory");
}

static uint64_t hash(const void *p, size_t n, uint64_t h) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3ull;
    }
    return h;
}

/* One case's results, as the case reports them: registers, memory, and
 * MXCSR's flags. */
struct result {
    struct xmm out[5];
    uint64_t mem[5];
    unsigned flags;
    int nout, nmem, has_flags;
};

static void run_loads(const uint64_t in[3], struct result *r) {
    r->flags = chain_loads(in, r->out);
    r->has_flags = 1;
    r->nout = 4;
}

static void run_stores(const uint64_t in[3], struct result *r) {
    r->flags = chain_stores(in, r->out, r->mem);
    r->has_flags = 1;
    r->nout = r->nmem = 5;
}

static void run_reload(const uint64_t in[3], struct result *r) {
    chain_reload(in, r->out);
    r->nout = 3;
}

static void run_branch(const uint64_t in[3], struct result *r) {
    chain_branch(in, r->out);
    r->nout = 4;
}

static void run_through(const uint64_t in[3], struct result *r) {
    chain_through(in, r->out, r->mem);
    r->nout = 3;
    r->nmem = 2;
}

/* `run` on every triple of the doubles: one triple in N printed, and a
 * hash of all. */
static void each_triple(const char *name, void (*run)(const uint64_t in[3], struct result *r)) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < N; i++) {
        for (unsigned j = 0; j < N; j++) {
            for (unsigned m = 0; m < N; m++) {
                uint64_t in[3] = { doubles[i], doubles[j], doubles[m] };
                struct result r = { 0 };
                run(in, &r);
                if (r.has_flags) {
                    h = hash(&r.flags, sizeof r.flags, h);
                }
                h = hash(r.mem, r.nmem * sizeof r.mem[0], hash(r.out, r.nout * sizeof r.out[0], h));
                if (m == (i + j) % N) {
                    printf("%s %u %u %u:", name, i, j, m);
                    if (r.has_flags) {
                        printf(" flags %02x", r.flags);
                    }
                    for (int k = 0; k < r.nout; k++) {
                        printf(" %016llx:%016llx", (unsigned long long)r.out[k].hi, (unsigned long long)r.out[k].lo);
                    }
                    for (int k = 0; k < r.nmem; k++) {
                        printf(" %016llx", (unsigned long long)r.mem[k]);
                    }
                    printf("\n");
                }
            }
        }
    }
    printf("%s: %016llx\n", name, (unsigned long long)h);
}

int main(void) {
    /* Every combination for the first three inputs, the last two fixed
     * per pass: a hash per pass, and a few results in full. */
    for (unsigned k = 0; k < N; k++) {
        uint64_t h = 0xcbf29ce484222325ull;
        for (unsigned i = 0; i < N; i++) {
            for (unsigned j = 0; j < N; j++) {
                for (unsigned m = 0; m < N; m++) {
                    uint64_t in[5] = { doubles[i], doubles[j], doubles[m], doubles[k], doubles[(k + 3) % N] };
                    struct xmm out[6];
                    chain_double(in, out);
                    h = hash(out, sizeof out, h);
                    if (m == k && j == (i + 5) % N) {
                        printf("double %u %u %u %u:", i, j, m, k);
                        for (int r = 0; r < 6; r++) {
                            printf(" %016llx:%016llx", (unsigned long long)out[r].hi, (unsigned long long)out[r].lo);
                        }
                        printf("\n");
                    }
                }
            }
        }
        printf("double pass %u: %016llx\n", k, (unsigned long long)h);
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < N; i++) {
        for (unsigned j = 0; j < N; j++) {
            for (unsigned m = 0; m < N; m++) {
                struct xmm in[3] = { { doubles[i], doubles[j] }, { doubles[j], doubles[m] }, { doubles[m], doubles[i] } }, out[4];
                chain_packed(in, out);
                h = hash(out, sizeof out, h);
                if (j == (i + 3) % N && m == (i + 7) % N) {
                    printf("packed %u %u %u:", i, j, m);
                    for (int r = 0; r < 4; r++) {
                        printf(" %016llx:%016llx", (unsigned long long)out[r].hi, (unsigned long long)out[r].lo);
                    }
                    printf("\n");
                }
            }
        }
    }
    printf("packed: %016llx\n", (unsigned long long)h);
    for (unsigned i = 0; i < N; i++) {
        struct xmm out;
        unsigned flags = dup_snan_flags(doubles[i], &out);
        printf("dup %u: flags %#x %016llx:%016llx\n", i, flags, (unsigned long long)out.hi, (unsigned long long)out.lo);
        flags = dup_high_snan_flags(doubles[i], &out);
        printf("dup high %u: flags %#x %016llx:%016llx\n", i, flags, (unsigned long long)out.hi, (unsigned long long)out.lo);
    }
    h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < N; i++) {
        for (unsigned j = 0; j < N; j++) {
            for (unsigned m = 0; m < N; m++) {
                uint64_t in[3] = { doubles[i], doubles[j], doubles[m] };
                struct xmm out[3];
                int taken = chain_flags_swap(in, out);
                h = hash(out, sizeof out, hash(&taken, sizeof taken, h));
                if (i == j && j == m) {
                    printf("flags and swap %u: %d %016llx:%016llx %016llx:%016llx %016llx:%016llx\n", i, taken, (unsigned long long)out[0].hi,
                           (unsigned long long)out[0].lo, (unsigned long long)out[1].hi, (unsigned long long)out[1].lo,
                           (unsigned long long)out[2].hi, (unsigned long long)out[2].lo);
                }
            }
        }
    }
    printf("flags and swap: %016llx\n", (unsigned long long)h);
    h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < NS; i++) {
        for (unsigned j = 0; j < NS; j++) {
            for (unsigned m = 0; m < NS; m++) {
                uint32_t in[3] = { singles[i], singles[j], singles[m] }, out[12];
                chain_single(in, out);
                h = hash(out, sizeof out, h);
                if (m == (i + j) % NS) {
                    printf("single %u %u %u: %08x %08x:%08x:%08x:%08x %08x\n", i, j, m, out[0], out[4], out[5], out[6], out[7], out[8]);
                }
            }
        }
    }
    printf("single: %016llx\n", (unsigned long long)h);
    each_triple("loads", run_loads);
    each_triple("stores", run_stores);
    each_triple("reload", run_reload);
    /* Each special value at each of the 16 positions, 1.5 elsewhere, then
     * with a second one four positions on. */
    h = 0xcbf29ce484222325ull;
    for (unsigned v = 0; v < N; v++) {
        for (unsigned pos = 0; pos < 16; pos++) {
            for (unsigned second = 0; second < 2; second++) {
                uint64_t in[16];
                for (int i = 0; i < 16; i++) {
                    in[i] = doubles[0];
                }
                in[pos] = doubles[v];
                if (second) {
                    in[(pos + 4) % 16] = doubles[(v + 3) % N];
                }
                struct xmm out[4];
                unsigned flags = chain_long_loads(in, out);
                h = hash(out, sizeof out, hash(&flags, sizeof flags, h));
                if ((pos + v) % 5 == 0) {
                    printf("long %u %u %u: flags %02x", v, pos, second, flags);
                    for (int r = 0; r < 4; r++) {
                        printf(" %016llx:%016llx", (unsigned long long)out[r].hi, (unsigned long long)out[r].lo);
                    }
                    printf("\n");
                }
            }
        }
    }
    printf("long: %016llx\n", (unsigned long long)h);
    each_triple("branch", run_branch);
    each_triple("through", run_through);
    return 0;
}
