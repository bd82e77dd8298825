/* x86 code the JIT tests write at run time (jit_rewrite.c and the alias
 * tests). */
#ifndef JIT_EMIT_H
#define JIT_EMIT_H

#include <string.h>

typedef int (*fn)(int);

/* mov eax, imm32 ; add eax, edi ; ret. The immediate is at p + 1. */
static inline void emit_add(unsigned char *p, int imm) {
    p[0] = 0xb8;
    memcpy(p + 1, &imm, 4);
    p[5] = 0x01;
    p[6] = 0xf8;
    p[7] = 0xc3;
}

/* imul eax, edi, imm32 ; ret: a different instruction, not just a new
 * immediate, at the same address. */
static inline void emit_mul(unsigned char *p, int imm) {
    p[0] = 0x69;
    p[1] = 0xc7;
    memcpy(p + 2, &imm, 4);
    p[6] = 0xc3;
}

#endif
