/* Forms compilers never emit but every x86-64 CPU has: 16-bit stack
 * operations and double shifts, xlatb, loope/loopne, far returns, the
 * segment queries lar/lsl/verr/verw, and privileged instructions (#GP). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FLAGS_MASK 0x8d5 /* CF PF ZF SF OF */

static void stack16(void) {
    uint64_t before, after, popped = 0;
    uint16_t flags16;
    __asm__ volatile("mov %%rsp, %0\n\t"
                     "pushw $0x1234\n\t"
                     "popw %w2\n\t"
                     "pushw $-3\n\t"           /* pushw imm8, sign-extended to 16 bits */
                     "popw %%ax\n\t"
                     "movzwl %%ax, %%eax\n\t"
                     "shl $16, %2\n\t"
                     "or %%rax, %2\n\t"
                     "stc\n\t"
                     "pushfw\n\t"
                     "popw %w3\n\t"
                     "mov %%rsp, %1\n\t"
                     : "=&r"(before), "=&r"(after), "+r"(popped), "=&r"(flags16)
                     :
                     : "rax", "cc");
    printf("pushw/popw: %#llx, rsp back: %d, pushfw CF: %d\n", (unsigned long long)popped, before == after, flags16 & 1);
    uint16_t in = 0x08c1, out; /* popfw sets CF, ZF, SF */
    __asm__ volatile("pushw %1\n\tpopfw\n\tpushfw\n\tpopw %0" : "=r"(out) : "r"(in) : "cc");
    printf("popfw: %#x\n", out & FLAGS_MASK);
}

/* Toggles an RFLAGS bit with popfq and reads it back with pushfq, restoring
 * the flags after: the probe that tells a CPU with cpuid (ID is writable)
 * from a 486, which HotSpot runs at start-up even in 64-bit mode. */
static int flag_is_writable(uint64_t bit) {
    uint64_t original, toggled;
    __asm__ volatile("pushfq\n\t"
                     "pop %0\n\t"
                     "mov %0, %%rax\n\t"
                     "xor %2, %%rax\n\t"
                     "push %%rax\n\t"
                     "popfq\n\t"
                     "pushfq\n\t"
                     "pop %1\n\t"
                     "push %0\n\t"
                     "popfq\n\t"
                     : "=&r"(original), "=&r"(toggled)
                     : "r"(bit)
                     : "rax", "cc");
    return ((original ^ toggled) & bit) != 0;
}

static void system_flags(void) {
    /* IF (bit 9) and IOPL (12-13) cannot change at CPL 3; NT (14) and ID (21) can. */
    printf("popfq writable: ID %d NT %d IF %d IOPL %d\n", flag_is_writable(1 << 21), flag_is_writable(1 << 14),
           flag_is_writable(1 << 9), flag_is_writable(3 << 12));
    uint64_t flags;
    __asm__ volatile("pushfq\n\tpop %0" : "=r"(flags));
    printf("pushfq after: ID %d IF %d\n", (int)(flags >> 21) & 1, (int)(flags >> 9) & 1);
}

static void xlat(void) {
    static const unsigned char table[256] = {[0] = 7, [0x80] = 0x42, [0xff] = 0x99};
    uint64_t rax = 0x1122334455667780;
    __asm__ volatile("xlatb" : "+a"(rax) : "b"(table) : "memory");
    printf("xlatb: %#llx\n", (unsigned long long)rax);
}

static void double_shifts16(void) {
    uint16_t values[][2] = {{0x8001, 0x7ffe}, {0x1234, 0xabcd}, {0, 0xffff}, {0xffff, 0}};
    for (unsigned v = 0; v < 4; v++) {
        for (unsigned count = 0; count <= 16; count++) {
            uint16_t d1 = values[v][0], d2 = values[v][0], s = values[v][1];
            uint64_t f1, f2;
            __asm__ volatile("xor %%eax, %%eax\n\tshldw %%cl, %2, %0\n\tpushfq\n\tpop %1"
                             : "+r"(d1), "=r"(f1) : "r"(s), "c"(count) : "rax", "cc");
            __asm__ volatile("xor %%eax, %%eax\n\tshrdw %%cl, %2, %0\n\tpushfq\n\tpop %1"
                             : "+r"(d2), "=r"(f2) : "r"(s), "c"(count) : "rax", "cc");
            /* OF is defined for a count of 1 only; CF for counts up to 16.
               AF is undefined after shld/shrd, and after the xor whose
               flags a zero count leaves. */
            uint64_t mask = (count == 1 ? FLAGS_MASK : FLAGS_MASK & ~0x800) & ~0x10;
            printf("shld/shrd %04x,%04x by %2u: %04x %03llx %04x %03llx\n", values[v][0], s, count, d1,
                   (unsigned long long)(f1 & mask), d2, (unsigned long long)(f2 & mask));
        }
    }
    uint16_t m = 0x8421;
    __asm__ volatile("shldw $4, %1, %0" : "+m"(m) : "r"((uint16_t)0xf00f) : "cc");
    printf("shldw imm to memory: %04x\n", m);
}

static void loops(void) {
    uint64_t rcx = 5, iterations = 0;
    /* loope: stop when the count runs out or ZF is clear. */
    __asm__ volatile("1: inc %1\n\t"
                     "cmp $3, %1\n\t"
                     "loopne 1b"
                     : "+c"(rcx), "+r"(iterations) : : "cc");
    printf("loopne: rcx %llu after %llu\n", (unsigned long long)rcx, (unsigned long long)iterations);
    rcx = 4, iterations = 0;
    __asm__ volatile("1: inc %1\n\t"
                     "cmp %1, %1\n\t"
                     "loope 1b"
                     : "+c"(rcx), "+r"(iterations) : : "cc");
    printf("loope: rcx %llu after %llu\n", (unsigned long long)rcx, (unsigned long long)iterations);
    rcx = 0xffffffff00000002ULL, iterations = 0;
    __asm__ volatile("1: inc %1\n\t"
                     "addr32 loop 1b"
                     : "+c"(rcx), "+r"(iterations) : : "cc");
    printf("loop on ecx: rcx %#llx after %llu\n", (unsigned long long)rcx, (unsigned long long)iterations);
}

static void far_returns(void) {
    uint64_t reached = 0;
    __asm__ volatile("lea 1f(%%rip), %%rax\n\t"
                     "pushq $0x33\n\t"
                     "push %%rax\n\t"
                     "lretq\n\t"
                     "1: movq $1, %0\n\t"
                     : "=r"(reached) : : "rax", "memory");
    printf("lretq reached its target: %llu\n", (unsigned long long)reached);
    uint64_t rsp_before, rsp_after;
    __asm__ volatile("mov %%rsp, %0\n\t"
                     "mov %%rsp, %%rdx\n\t"
                     "pushq $0x2b\n\t"
                     "push %%rdx\n\t"
                     "pushfq\n\t"
                     "orq $0x801, (%%rsp)\n\t"  /* CF and OF through iretq */
                     "pushq $0x33\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "push %%rax\n\t"
                     "iretq\n\t"
                     "1: mov %%rsp, %1\n\t"
                     "seto %%al\n\t"
                     "setc %%ah\n\t"
                     "movzwl %%ax, %%eax\n\t"
                     "mov %%rax, %2\n\t"
                     : "=&r"(rsp_before), "=&r"(rsp_after), "=&r"(reached) : : "rax", "rdx", "memory", "cc");
    printf("iretq: rsp restored %d, OF and CF %#llx\n", rsp_before == rsp_after, (unsigned long long)reached);
}

static void segment_queries(void) {
    uint16_t selectors[] = {0, 0x10, 0x23, 0x2b, 0x33, 0x7b, 0x40, 0x1234};
    for (unsigned i = 0; i < sizeof selectors / sizeof *selectors; i++) {
        uint32_t sel = selectors[i], lar = 0xdead, lsl = 0xbeef;
        uint8_t lar_ok, lsl_ok, r, w;
        __asm__ volatile("lar %2, %0\n\tsetz %1" : "+r"(lar), "=r"(lar_ok) : "r"(sel) : "cc");
        __asm__ volatile("lsl %2, %0\n\tsetz %1" : "+r"(lsl), "=r"(lsl_ok) : "r"(sel) : "cc");
        __asm__ volatile("verr %w1\n\tsetz %0" : "=r"(r) : "r"(sel) : "cc");
        __asm__ volatile("verw %w1\n\tsetz %0" : "=r"(w) : "r"(sel) : "cc");
        /* lar's bits 16-19 are undefined (SDM); 0x7b's limit is the CPU number. */
        if (sel == 0x7b) lsl = lsl_ok ? lsl >> 12 : lsl;
        printf("selector %#06x: lar %d %#010x lsl %d %#x verr %d verw %d\n", sel, lar_ok, lar & 0x00f0ff00, lsl_ok,
               lsl, r, w);
    }
}

static void segment_registers(void) {
    uint16_t cs, ss, ds, es, gs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    __asm__ volatile("mov %%ss, %0" : "=r"(ss));
    __asm__ volatile("mov %%ds, %0" : "=r"(ds));
    __asm__ volatile("mov %%es, %0" : "=r"(es));
    printf("cs %#x ss %#x ds %#x es %#x\n", cs, ss, ds, es);
    /* GS is free in a Linux program (its base is 0): load user data, then null. */
    uint16_t user_ds = 0x2b, null = 0;
    __asm__ volatile("mov %1, %%gs\n\tmov %%gs, %0" : "=r"(gs) : "r"(user_ds));
    printf("gs after mov: %#x\n", gs);
    struct __attribute__((packed)) { uint32_t offset; uint16_t selector; } far = {0x12345678, 0x33};
    uint32_t offset = 0;
    __asm__ volatile("lgs %1, %0" : "=r"(offset) : "m"(far) : "memory");
    __asm__ volatile("mov %%gs, %0" : "=r"(gs));
    printf("lgs: offset %#x gs %#x\n", offset, gs);
    uint64_t rsp_before, rsp_after;
    __asm__ volatile("mov %%rsp, %0\n\tpushw %%fs\n\tpopw %%gs\n\tpush %%fs\n\tpop %%gs\n\tmov %%rsp, %1" : "=r"(rsp_before), "=r"(rsp_after));
    __asm__ volatile("mov %%gs, %0" : "=r"(gs));
    printf("push fs, pop gs: gs %#x, rsp back %d\n", gs, rsp_before == rsp_after);
    __asm__ volatile("mov %0, %%ss\n\tmov %1, %%ds\n\tmov %1, %%es" : : "r"((uint16_t)0x2b), "r"(null));
}

static sigjmp_buf back;
static void on_segv(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    printf("signal %d code %d addr %#lx\n", sig, info->si_code, (unsigned long)info->si_addr);
    siglongjmp(back, 1);
}

static void privileged(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (!sigsetjmp(back, 1)) __asm__ volatile("cli");
    if (!sigsetjmp(back, 1)) __asm__ volatile("inb $0x80, %%al" : : : "rax");
    if (!sigsetjmp(back, 1)) __asm__ volatile("wbinvd");
    /* The kernel's data segment, and a code segment for SS. */
    if (!sigsetjmp(back, 1)) __asm__ volatile("mov %0, %%ds" : : "r"((uint16_t)0x18));
    if (!sigsetjmp(back, 1)) __asm__ volatile("mov %0, %%ss" : : "r"((uint16_t)0x33));
    if (!sigsetjmp(back, 1)) {
        /* A far return to the 32-bit code segment: not this test's business
         * beyond a fault for a selector that is not code at all. */
        __asm__ volatile("pushq $0x2b\n\tpushq $0\n\tlretq" : : : "memory");
    }
}

int main(void) {
    stack16();
    system_flags();
    xlat();
    double_shifts16();
    loops();
    far_returns();
    segment_queries();
    segment_registers();
    privileged();
    return 0;
}
