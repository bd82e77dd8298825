/* Pairs of instructions Transit emits as one host instruction
 * (translator/src/emit/fused_pairs.rs): `shr r, n; movzx r, r8/r16` (a
 * bit-field extract), `movzx d, r8/r16; shl d, n` and `shl r, n; add r,
 * s`, `mov d, s; shl/shr/sar d, n` (a copy shifted), `mov d, s; and/or/xor/add/sub d,
 * imm` (a copy combined: with immediates the host cannot encode too), at 32 and 64 bits, with shift counts where the field runs past the
 * register's top, and with the add's flags read after it (the others'
 * flags are overwritten by a compare, as a fused pair's must be), and
 * with an instruction between them (also where two such pairs
 * interleave), a copy then an operation with another register (also past an
 * instruction between), and `mov r32, r32` of a register an instruction
 * just wrote at 32 bits (no code). Also pairs that must not be fused:
 * a shift whose flags are read, an instruction between that reads the
 * shifted register, a movzx from AH, and a 64-bit shift or and of a 32-bit copy. */
#include <stdint.h>
#include <stdio.h>

static uint64_t inputs[] = {
    0, 1, 0x80, 0xff, 0x1234, 0xdeadbeef, 0x80000000, 0xffffffff,
    0x123456789abcdef0ull, 0x8000000000000000ull, 0xffffffffffffffffull, 0x7fffffffffffffffull,
};
#define NIN (sizeof inputs / sizeof inputs[0])

static uint64_t h = 0xcbf29ce484222325ull;
static void mix(uint64_t v) {
    h = (h ^ v) * 0x100000001b3ull;
}

#define EXTRACT32(N, MOVZX)                                                        \
    static uint64_t extract32_##N##_##MOVZX(uint64_t x) {                          \
        __asm__("shr $" #N ", %k0\n movzx %" #MOVZX "0, %k0\n cmp $0, %k0" : "+r"(x) : : "cc"); \
        return x;                                                                  \
    }
#define EXTRACT64(N, MOVZX)                                                        \
    static uint64_t extract64_##N##_##MOVZX(uint64_t x) {                          \
        __asm__("shr $" #N ", %q0\n movzx %" #MOVZX "0, %k0\n cmp $0, %k0" : "+r"(x) : : "cc"); \
        return x;                                                                  \
    }
EXTRACT32(1, b) EXTRACT32(7, b) EXTRACT32(24, b) EXTRACT32(28, b) EXTRACT32(31, b)
EXTRACT32(9, w) EXTRACT32(20, w)
EXTRACT64(7, b) EXTRACT64(33, b) EXTRACT64(60, b) EXTRACT64(63, b) EXTRACT64(16, w) EXTRACT64(55, w)

/* movzx into another register, then shifted: the source stays. */
#define PLACE(N, MOVZX, SHL)                                                                          \
    static uint64_t place_##N##_##MOVZX##_##SHL(uint64_t x, uint64_t *src) {                         \
        uint64_t d = 0x5555555555555555ull;                                                           \
        __asm__("movzx %" #MOVZX "1, %k0\n shl $" #N ", %" #SHL "0\n cmp $0, %k0" : "+&r"(d), "+r"(x) : : "cc"); \
        *src = x;                                                                                     \
        return d;                                                                                     \
    }
PLACE(4, b, q) PLACE(56, b, q) PLACE(60, w, q) PLACE(3, w, k) PLACE(28, b, k) PLACE(20, w, k) PLACE(1, b, k)

/* r = s + (r << n), and the flags of the add. */
#define SHIFTED_ADD(N, SIZE)                                                                        \
    static uint64_t shifted_add_##N##_##SIZE(uint64_t r, uint64_t s, unsigned *flags) {            \
        unsigned char c, o, z, sg;                                                                  \
        __asm__("shl $" #N ", %" #SIZE "0\n add %" #SIZE "5, %" #SIZE "0\n setc %1\n seto %2\n setz %3\n sets %4" \
                : "+r"(r), "=r"(c), "=r"(o), "=r"(z), "=r"(sg)                                     \
                : "r"(s)                                                                            \
                : "cc");                                                                            \
        *flags = c | o << 1 | z << 2 | sg << 3;                                                     \
        return r;                                                                                   \
    }
SHIFTED_ADD(1, q) SHIFTED_ADD(4, q) SHIFTED_ADD(63, q) SHIFTED_ADD(3, k) SHIFTED_ADD(31, k)

/* Flags nobody reads after the add. */
static uint64_t shifted_add_quiet(uint64_t r, uint64_t s) {
    __asm__("shl $4, %0\n add %1, %0" : "+r"(r) : "r"(s) : "cc");
    return r;
}

/* Not fused: the shift's CF is read after the movzx. */
static uint64_t extract_then_carry(uint64_t x, unsigned *carry) {
    unsigned char c;
    __asm__("shr $5, %k0\n movzx %b0, %k0\n setc %1" : "+r"(x), "=r"(c) : : "cc");
    *carry = c;
    return x;
}

/* Not fused: the CF of a shift after a movzx is read. */
static uint64_t place_then_carry(uint64_t x, unsigned *carry) {
    unsigned char c;
    uint64_t d;
    __asm__("movzx %b2, %k0\n shl $57, %q0\n setc %1" : "=&r"(d), "=r"(c) : "r"(x) : "cc");
    *carry = c;
    return d;
}

/* An instruction between the two that touches neither register (the
 * pair still fuses), and one that does (it must not). */
static uint64_t extract_around(uint64_t x, uint64_t y, uint64_t *y_out) {
    __asm__("shr $9, %k0\n and $0x7f, %k1\n movzx %b0, %k0\n cmp $0, %k0" : "+r"(x), "+r"(y) : : "cc");
    *y_out = y;
    return x;
}
static uint64_t extract_around_reader(uint64_t x, uint64_t *y_out) {
    uint64_t y;
    __asm__("shr $9, %k0\n lea 3(%q0), %q1\n movzx %b0, %k0\n cmp $0, %k0" : "+r"(x), "=r"(y) : : "cc");
    *y_out = y;
    return x;
}

/* Two shifts into place interleaved: the first pair takes the third
 * instruction, so the second may not take the fourth across it. */
static uint64_t two_places(uint64_t a, uint64_t b, uint64_t *c_out) {
    uint64_t d, c;
    __asm__("movzx %b2, %k0\n movzx %b3, %k1\n shl $4, %q0\n shl $3, %q1\n cmp $0, %k0" : "=&r"(d), "=&r"(c) : "r"(a), "r"(b) : "cc");
    *c_out = c;
    return d;
}

/* Not fused: movzx from AH after shifting RAX. */
/* d = s shifted; s stays. COPY and SHIFT name the operand sizes. */
#define COPY_SHIFT(OP, N, COPY, SHIFT)                                                                        \
    static uint64_t copy_##OP##_##N##_##COPY##SHIFT(uint64_t s, uint64_t *src) {                            \
        uint64_t d = 0x5555555555555555ull;                                                                  \
        __asm__("mov %" #COPY "1, %" #COPY "0\n " #OP " $" #N ", %" #SHIFT "0\n cmp $0, %k0" : "+&r"(d), "+r"(s) : : "cc"); \
        *src = s;                                                                                            \
        return d;                                                                                            \
    }
COPY_SHIFT(shl, 3, q, q) COPY_SHIFT(shr, 32, q, q) COPY_SHIFT(sar, 63, q, q) COPY_SHIFT(sar, 7, q, k)
COPY_SHIFT(shl, 31, k, k) COPY_SHIFT(shr, 1, k, k) COPY_SHIFT(sar, 12, k, k) COPY_SHIFT(shr, 4, k, q)

/* d = s combined with an immediate (a copy then and/or/xor/add/sub). */
#define COPY_OP(NAME, OP, IMM, COPY, SIZE)                                                                   \
    static uint64_t copy_##NAME(uint64_t s, uint64_t *src) {                                                 \
        uint64_t d = 0x5555555555555555ull;                                                                  \
        __asm__("mov %" #COPY "1, %" #COPY "0\n " #OP " $" #IMM ", %" #SIZE "0\n cmp $0, %k0" : "+&r"(d), "+r"(s) : : "cc"); \
        *src = s;                                                                                            \
        return d;                                                                                            \
    }
COPY_OP(and_kk, and, 127, k, k) COPY_OP(and_qq, and, -16, q, q) COPY_OP(or_qq, or, 0x100, q, q) COPY_OP(xor_kk, xor, 1, k, k)
COPY_OP(add_qq, add, 4095, q, q) COPY_OP(sub_kk, sub, 8, k, k) COPY_OP(add_neg_qq, add, -8, q, q) COPY_OP(sub_neg_kk, sub, -1, k, k)
COPY_OP(and_qk, and, 0x7f, q, k) COPY_OP(and_kq, and, -16, k, q) COPY_OP(add_far_qq, add, 5000, q, q) COPY_OP(xor_odd_kk, xor, 0x5555, k, k)

/* d = s op r of two registers (a copy then and/or/xor/add/sub of d with
 * r), at once or past an instruction on another register (x), r being d
 * itself in some; and a copy then shift or immediate past one too. The
 * cmp after overwrites the flags. */
#define COPY_REG(NAME, BODY)                                                                                 \
    static uint64_t copy_##NAME(uint64_t s, uint64_t *src) {                                                 \
        uint64_t d = 0x5555555555555555ull, r = s * 0x9e3779b97f4a7c15ull + 3, x = 11;                     \
        __asm__(BODY "\n cmp $0, %k0" : "+&r"(d), "+r"(s), "+r"(r), "+r"(x) : : "cc");                       \
        *src = s ^ r ^ x;                                                                                    \
        return d;                                                                                            \
    }
COPY_REG(add_reg_qq, "mov %q1, %q0\n add %q2, %q0") COPY_REG(sub_reg_kk, "mov %k1, %k0\n sub %k2, %k0")
COPY_REG(and_reg_qk, "mov %q1, %q0\n and %k2, %k0") COPY_REG(xor_self_kk, "mov %k1, %k0\n xor %k0, %k0")
COPY_REG(sub_self_qq, "mov %q1, %q0\n sub %q0, %q0") COPY_REG(add_self_qq, "mov %q1, %q0\n add %q0, %q0")
COPY_REG(or_apart_qq, "mov %q1, %q0\n add $5, %q3\n or %q2, %q0") COPY_REG(sub_apart_kk, "mov %k1, %k0\n imul $3, %q3, %q3\n sub %k2, %k0")
COPY_REG(shl_apart_kk, "mov %k1, %k0\n lea 7(%q3), %q3\n shl $9, %k0") COPY_REG(and_apart_qq, "mov %q1, %q0\n xor $1, %k3\n and $-64, %q0")
COPY_REG(add_mixed_kq, "mov %k1, %k0\n add %q2, %q0")
/* Not fused: the instruction between reads d, writes s or writes r. */
COPY_REG(between_reads_d, "mov %q1, %q0\n mov %q0, %q3\n add %q2, %q0") COPY_REG(between_writes_s, "mov %q1, %q0\n add $1, %q1\n add %q2, %q0")
COPY_REG(between_writes_r, "mov %q1, %q0\n add $1, %q2\n add %q2, %q0")

/* mov r32, r32 of one register right after an instruction wrote it:
 * zero-extended already (each is also run with bits 32..63 set). */
#define ZERO_EXT(NAME, BODY)                                                                                 \
    static uint64_t zext_##NAME(uint64_t s, uint64_t *src) {                                                 \
        uint64_t d = s | 0xabcdef0000000000ull, c = ~s;                                                     \
        __asm__(BODY "\n mov %k0, %k0" : "+&r"(d), "+r"(c) : : "cc");                                       \
        *src = c;                                                                                            \
        return d;                                                                                            \
    }
ZERO_EXT(lea, "lea (%q0,%q0), %k0") ZERO_EXT(add, "add %k1, %k0") ZERO_EXT(cmov_not_taken, "cmp %q0, %q0\n cmovne %k1, %k0")
ZERO_EXT(shr, "shr $3, %k0") ZERO_EXT(imul3, "imul $3, %k1, %k0") ZERO_EXT(add64, "add %q1, %q0") ZERO_EXT(cmp, "cmp %k1, %k0")
ZERO_EXT(add16, "add %w1, %w0") ZERO_EXT(none, "") ZERO_EXT(apart, "add %k1, %k0\n shl $24, %k1")
ZERO_EXT(writer_then_64, "lea (%q0,%q0), %k0\n add %q1, %q0") ZERO_EXT(neg, "neg %k0")

/* The shift's flags read: no pair. */
static uint64_t copy_shift_then_carry(uint64_t s, unsigned *carry) {
    uint64_t d;
    unsigned char c;
    __asm__("mov %q2, %q0\n shr $3, %q0\n setc %1" : "=&r"(d), "=r"(c) : "r"(s) : "cc");
    *carry = c;
    return d;
}

static uint64_t extract_high_byte(uint64_t x) {
    __asm__("shr $3, %%eax\n movzx %%ah, %%eax" : "+a"(x) : : "cc");
    return x;
}

/* " |", then what each of the n functions makes of x (mixing it and the
 * source each leaves). */
static void show_each(uint64_t (*const *fns)(uint64_t, uint64_t *), unsigned n, uint64_t x) {
    printf(" |");
    for (unsigned f = 0; f < n; f++) {
        uint64_t src, v = fns[f](x, &src);
        printf(" %llx", (unsigned long long)v);
        mix(v);
        mix(src);
    }
}

int main(void) {
    uint64_t (*extracts[])(uint64_t) = {
        extract32_1_b, extract32_7_b, extract32_24_b, extract32_28_b, extract32_31_b, extract32_9_w, extract32_20_w,
        extract64_7_b, extract64_33_b, extract64_60_b, extract64_63_b, extract64_16_w, extract64_55_w,
    };
    uint64_t (*places[])(uint64_t, uint64_t *) = {
        place_4_b_q, place_56_b_q, place_60_w_q, place_3_w_k, place_28_b_k, place_20_w_k, place_1_b_k,
    };
    uint64_t (*copies[])(uint64_t, uint64_t *) = {
        copy_shl_3_qq, copy_shr_32_qq, copy_sar_63_qq, copy_sar_7_qk, copy_shl_31_kk, copy_shr_1_kk, copy_sar_12_kk, copy_shr_4_kq,
        copy_and_kk, copy_and_qq, copy_or_qq, copy_xor_kk, copy_add_qq, copy_sub_kk, copy_add_neg_qq, copy_sub_neg_kk,
        copy_and_qk, copy_and_kq, copy_add_far_qq, copy_xor_odd_kk,
        copy_add_reg_qq, copy_sub_reg_kk, copy_and_reg_qk, copy_xor_self_kk, copy_sub_self_qq, copy_add_self_qq, copy_or_apart_qq,
        copy_sub_apart_kk, copy_shl_apart_kk, copy_and_apart_qq, copy_add_mixed_kq, copy_between_reads_d, copy_between_writes_s,
        copy_between_writes_r, zext_lea, zext_add, zext_cmov_not_taken, zext_shr, zext_imul3, zext_add64, zext_cmp, zext_add16, zext_none, zext_apart, zext_writer_then_64, zext_neg,
    };
    uint64_t (*adds[])(uint64_t, uint64_t, unsigned *) = {
        shifted_add_1_q, shifted_add_4_q, shifted_add_63_q, shifted_add_3_k, shifted_add_31_k,
    };
    for (unsigned i = 0; i < NIN; i++) {
        uint64_t x = inputs[i];
        printf("%016llx:", (unsigned long long)x);
        for (unsigned f = 0; f < sizeof extracts / sizeof extracts[0]; f++) {
            uint64_t v = extracts[f](x);
            printf(" %llx", (unsigned long long)v);
            mix(v);
        }
        show_each(places, sizeof places / sizeof places[0], x);
        show_each(copies, sizeof copies / sizeof copies[0], x);
        unsigned carry;
        uint64_t v = copy_shift_then_carry(x, &carry);
        printf(" | %llx c%u", (unsigned long long)v, carry);
        mix(v);
        mix(carry);
        v = extract_then_carry(x, &carry);
        printf(" | %llx c%u %llx", (unsigned long long)v, carry, (unsigned long long)extract_high_byte(x));
        mix(v);
        mix(carry);
        v = place_then_carry(x, &carry);
        uint64_t y1, y2, a1 = extract_around(x, ~x, &y1), a2 = extract_around_reader(x, &y2);
        printf(" | %llx c%u | %llx %llx %llx %llx\n", (unsigned long long)v, carry, (unsigned long long)a1, (unsigned long long)y1,
               (unsigned long long)a2, (unsigned long long)y2);
        mix(v);
        mix(carry);
        mix(a1 ^ y1 ^ a2 ^ y2);
        uint64_t c, d = two_places(x, ~x, &c);
        printf("  two places: %llx %llx\n", (unsigned long long)d, (unsigned long long)c);
        mix(d ^ c);
        for (unsigned j = 0; j < NIN; j++) {
            for (unsigned f = 0; f < sizeof adds / sizeof adds[0]; f++) {
                unsigned flags;
                uint64_t r = adds[f](x, inputs[j], &flags);
                mix(r);
                mix(flags);
                if (j == (i * 5 + f) % NIN) {
                    printf("  add %u %u: %llx flags %x\n", j, f, (unsigned long long)r, flags);
                }
            }
            mix(shifted_add_quiet(x, inputs[j]));
        }
    }
    printf("hash %016llx\n", (unsigned long long)h);
    return 0;
}
