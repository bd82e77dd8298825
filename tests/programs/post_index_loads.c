/* A load from [base] or a store to it, then a step of base (add, sub,
 * inc, dec, lea), at once or past an instruction on other registers,
 * which Transit emits as one post-indexed access
 * (translator/src/emit/fused_pairs.rs, load_then_step, store_then_step,
 * and vector_step for SSE moves):
 * byte, word, dword and qword accesses, steps forward and back, and pairs
 * that must not be fused (the step's flags read, the load into the base
 * register itself, the base stored). An access that faults must leave the
 * base as it was: the SIGSEGV handler reads RCX from the context. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static const unsigned char bytes[64] = "post-indexed loads walk this buffer byte by byte, then by word";

/* FNV-1a over n bytes: movzx r32, byte [p]; add p, 1 (strhash's loop). */
static uint64_t hash_bytes(const unsigned char *p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325ull, c;
    __asm__("1: movzx (%[p]), %k[c]\n add $1, %[p]\n xor %[c], %[h]\n imul %[m], %[h]\n sub $1, %[n]\n jnz 1b"
            : [p] "+r"(p), [h] "+r"(h), [c] "=&r"(c), [n] "+r"(n)
            : [m] "r"(0x100000001b3ull)
            : "cc", "memory");
    return h;
}

/* Each width and step form; returns the sum and leaves *end where the
 * pointer stopped. */
static uint64_t widths(const unsigned char *p, const unsigned char **end) {
    uint64_t a, b, c, d, e;
    __asm__("movzwl (%[p]), %k[a]\n lea 6(%[p]), %[p]\n"
            "movl (%[p]), %k[b]\n inc %[p]\n"
            "movq (%[p]), %[c]\n sub $-16, %[p]\n"
            "movzbq (%[p]), %[d]\n dec %[p]\n"
            "movq (%[p]), %[e]\n add $-3, %[p]\n"
            : [p] "+r"(p), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [e] "=&r"(e)
            :
            : "cc", "memory");
    *end = p;
    return a + 3 * b + 5 * c + 7 * d + 11 * e;
}

/* The step's carry read: not fused, and the carry must be right. */
static uint64_t step_carry(const unsigned char *p, unsigned *carry) {
    uint64_t v;
    unsigned char c;
    __asm__("movzbl (%[p]), %k[v]\n add $1, %[p]\n setc %[c]" : [p] "+r"(p), [v] "=&r"(v), [c] "=r"(c) : : "cc", "memory");
    *carry = c;
    return v + (uint64_t)p;
}

/* The load writes the base itself: not fused. */
static uint64_t load_into_base(uint64_t *slot) {
    uint64_t p = (uint64_t)slot;
    __asm__("movq (%[p]), %[p]\n add $8, %[p]" : [p] "+r"(p) : : "cc", "memory");
    return p;
}

/* Stores: a byte fill (memset's loop), a word, dword and qword, each then
 * a step; and the base itself stored (not fused). */
static void stores(unsigned char *p, uint64_t x) {
    uint64_t n = 5;
    __asm__ volatile("1: mov %b[x], (%[p])\n add $1, %[p]\n sub $1, %[n]\n jnz 1b\n"
            "mov %w[x], (%[p])\n lea 2(%[p]), %[p]\n"
            "mov %k[x], (%[p])\n inc %[p]\n"
            "mov %[x], (%[p])\n sub $-9, %[p]\n"
            "mov %[p], (%[p])\n add $8, %[p]\n"
            "mov %[x], (%[p])\n dec %[p]"
            : [p] "+r"(p), [n] "+r"(n)
            : [x] "r"(x)
            : "cc", "memory");
}

/* A step one instruction later, past integer work on other registers
 * (also fused); a store, too. */
static uint64_t apart(unsigned char *p, unsigned char **end) {
    uint64_t a, b, c, k = 3;
    __asm__("movq (%[p]), %[a]\n add $5, %[k]\n add $8, %[p]\n"
            "movzbl (%[p]), %k[b]\n imul $7, %[k], %[k]\n sub $-3, %[p]\n"
            "movl (%[p]), %k[c]\n lea 1(%[k],%[k]), %[k]\n add $2, %[p]\n"
            "movw %w[k], (%[p])\n xor $0x55, %k[a]\n inc %[p]\n"
            : [p] "+r"(p), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [k] "+r"(k)
            :
            : "cc", "memory");
    *end = p;
    return a + 3 * b + 5 * c + 7 * k;
}

/* Vector moves at [base], then a step of base, at once or past integer
 * work (matmul's `movsd (%rdi), %xmm0; add $8, %rsi; add $8, %rdi`):
 * movsd, movss, movq, movups, movupd, movaps, movdqu and movdqa, loads
 * and stores, and one whose base is read between (not fused); returns
 * the dot product's bits and what the base read saw. */
static uint64_t vectors(unsigned char *p, unsigned char **end) {
    uint64_t other = 0;
    const unsigned char *start = p;
    double dot = 0;
    _Alignas(16) static const double a[4] = {1.5, -2.25, 3.0, 0.125};
    _Alignas(16) static const double b[4] = {4.0, 0.5, -1.0, 8.0};
    const double *pa = a, *pb = b;
    for (int i = 0; i < 4; i++) {
        double t;
        __asm__("movsd (%[pa]), %[t]\n add $8, %[o]\n add $8, %[pa]\n mulsd (%[pb]), %[t]\n add $8, %[pb]\n addsd %[t], %[d]"
                : [t] "=&x"(t), [d] "+x"(dot), [pa] "+r"(pa), [pb] "+r"(pb), [o] "+r"(other)
                :
                : "cc");
    }
    __asm__ volatile("movups (%[p]), %%xmm1\n add $16, %[p]\n"
                     "movupd (%[p]), %%xmm2\n sub $-16, %[p]\n"
                     "movdqu (%[p]), %%xmm3\n mov $1, %k[o]\n lea 16(%[p]), %[p]\n"
                     "movss (%[p]), %%xmm4\n add $4, %[p]\n"
                     "movq (%[p]), %%xmm5\n add $8, %[p]\n"
                     "and $-16, %[p]\n"
                     "movaps %%xmm1, (%[p])\n add $16, %[p]\n"
                     "movdqa %%xmm2, (%[p])\n dec %[o]\n add $16, %[p]\n"
                     "movdqu %%xmm3, (%[p])\n add $16, %[p]\n"
                     "movss %%xmm4, (%[p])\n add $4, %[p]\n"
                     "movq %%xmm5, (%[p])\n add $12, %[p]\n"
                     "movdqa (%[p]), %%xmm6\n add $-16, %[p]\n"
                     "movapd %%xmm6, (%[p])\n mov %[p], %[o]\n add $16, %[p]\n"
                     "movsd %%xmm6, (%[p])\n add $8, %[p]\n"
                     : [p] "+r"(p), [o] "+r"(other)
                     :
                     : "cc", "memory", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6");
    *end = p;
    uint64_t bits;
    memcpy(&bits, &dot, 8);
    return bits ^ (other - (uint64_t)start);
}

static sigjmp_buf back;
static volatile uint64_t rcx_at_fault;

static void on_segv(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)info;
    rcx_at_fault = (uint64_t)((ucontext_t *)context)->uc_mcontext.gregs[REG_RCX];
    siglongjmp(back, 1);
}

int main(void) {
    printf("hash %016llx\n", (unsigned long long)hash_bytes(bytes, sizeof bytes));
    const unsigned char *end;
    uint64_t sum = widths(bytes, &end);
    printf("widths %016llx end +%ld\n", (unsigned long long)sum, (long)(end - bytes));
    unsigned carry;
    uint64_t v = step_carry(bytes + 5, &carry) - (uint64_t)bytes;
    printf("carry %llu %u\n", (unsigned long long)v, carry);
    uint64_t slot[2] = {0x1000, 0};
    printf("into base %llx\n", (unsigned long long)load_into_base(slot));
    unsigned char out[48];
    memset(out, 0xee, sizeof out);
    stores(out, 0x0123456789abcdefull);
    /* Bytes 0-4 the fill, 5-6 the word, 7-10 the dword, 8-15 the qword
     * over it, 17-24 the base, 25-32 the last qword. */
    printf("stores");
    for (unsigned i = 0; i < 36; i++) {
        if (i >= 17 && i < 25) continue;
        printf(" %02x", out[i]);
    }
    uint64_t stored_base;
    memcpy(&stored_base, out + 17, 8);
    printf(" base %s\n", stored_base == (uint64_t)(out + 17) ? "ok" : "wrong");

    unsigned char copy[sizeof bytes], *copy_end;
    memcpy(copy, bytes, sizeof bytes);
    sum = apart(copy, &copy_end);
    printf("apart %016llx end +%ld stored %02x %02x\n", (unsigned long long)sum, (long)(copy_end - copy), copy[13], copy[14]);
    _Alignas(16) unsigned char vbuf[192];
    for (unsigned i = 0; i < sizeof vbuf; i++)
        vbuf[i] = (unsigned char)(i * 37 + 11);
    unsigned char *vend;
    uint64_t mixed = vectors(vbuf, &vend);
    uint64_t vh = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < sizeof vbuf; i++)
        vh = (vh ^ vbuf[i]) * 0x100000001b3ull;
    printf("vectors %016llx buffer %016llx end +%ld\n", (unsigned long long)mixed, (unsigned long long)vh, (long)(vend - vbuf));

    /* A load from a page with no access, then the step: the handler sees
     * RCX still pointing at the page. */
    unsigned char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(back, 1) == 0) {
        uint64_t c;
        __asm__ volatile("mov %[page], %%rcx\n movzbl (%%rcx), %k[c]\n add $1, %%rcx" : [c] "=&r"(c) : [page] "r"(page) : "rcx", "cc", "memory");
        printf("no fault\n");
        return 1;
    }
    printf("fault: rcx %s the page\n", rcx_at_fault == (uint64_t)page ? "at" : "past");
    /* The same past an instruction between, and for a vector load. */
    if (sigsetjmp(back, 1) == 0) {
        uint64_t c;
        __asm__ volatile("mov %[page], %%rcx\n movq (%%rcx), %[c]\n add $1, %%rdx\n add $8, %%rcx" : [c] "=&r"(c) : [page] "r"(page) : "rcx", "rdx", "cc", "memory");
        printf("no fault\n");
        return 1;
    }
    printf("fault apart: rcx %s the page\n", rcx_at_fault == (uint64_t)page ? "at" : "past");
    if (sigsetjmp(back, 1) == 0) {
        __asm__ volatile("mov %[page], %%rcx\n movsd (%%rcx), %%xmm0\n add $1, %%rdx\n add $8, %%rcx" : : [page] "r"(page) : "rcx", "rdx", "xmm0", "cc", "memory");
        printf("no fault\n");
        return 1;
    }
    printf("vector fault: rcx %s the page\n", rcx_at_fault == (uint64_t)page ? "at" : "past");
    /* The same for a store to a page that may only be read. */
    if (mprotect(page, 4096, PROT_READ) != 0) {
        perror("mprotect");
        return 1;
    }
    if (sigsetjmp(back, 1) == 0) {
        __asm__ volatile("mov %[page], %%rcx\n movq %%rcx, (%%rcx)\n add $8, %%rcx" : : [page] "r"(page) : "rcx", "cc", "memory");
        printf("no fault\n");
        return 1;
    }
    printf("store fault: rcx %s the page\n", rcx_at_fault == (uint64_t)page ? "at" : "past");
    if (sigsetjmp(back, 1) == 0) {
        __asm__ volatile("mov %[page], %%rcx\n movups %%xmm0, (%%rcx)\n add $16, %%rcx" : : [page] "r"(page) : "rcx", "cc", "memory");
        printf("no fault\n");
        return 1;
    }
    printf("vector store fault: rcx %s the page\n", rcx_at_fault == (uint64_t)page ? "at" : "past");
    return 0;
}
