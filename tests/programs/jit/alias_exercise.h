/* What the alias tests share: x86 code emitters and the sequence of
 * rewrites each kind of alias must get right (jit_dual_mapping.c,
 * jit_mremap_alias.c). */
#ifndef ALIAS_EXERCISE_H
#define ALIAS_EXERCISE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*fn)(int);

/* The page size, set by main before any exercise. */
static long page;

/* mov eax, imm32 ; add eax, edi ; ret. The immediate is at p + 1. */
static void emit_add(unsigned char *p, int imm) {
    p[0] = 0xb8;
    memcpy(p + 1, &imm, 4);
    p[5] = 0x01;
    p[6] = 0xf8;
    p[7] = 0xc3;
}

/* imul eax, edi, imm32 ; ret: a different instruction, not just a new
 * immediate, at the same address. */
static void emit_mul(unsigned char *p, int imm) {
    p[0] = 0x69;
    p[1] = 0xc7;
    memcpy(p + 2, &imm, 4);
    p[6] = 0xc3;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Writes through `rw`, runs through `rx`: first version, a rewrite, a new
 * instruction in place, a second function on the same page written after
 * the first ran, code on the alias's second page, and a rewrite inside a
 * hot loop. */
static void exercise(const char *kind, unsigned char *rw, unsigned char *rx) {
    fn f = (fn)rx;
    emit_add(rw, 100);
    int a = f(1);
    emit_add(rw, 200);
    int b = f(1);
    emit_mul(rw, 7);
    int c = f(6);
    emit_add(rw + 64, 5);
    int d = ((fn)(rx + 64))(1);
    int e = f(3);
    emit_add(rw + page + 16, 40);
    int g = ((fn)(rx + page + 16))(2);
    int sum = 0;
    for (int i = 0; i < 200; i++) {
        emit_add(rw, i);
        sum += f(0);
    }
    printf("%-6s alias: %d then %d, imul %d, same page %d (first still %d), second page %d, "
           "loop sum %d (expected %d)\n",
           kind, a, b, c, d, e, g, sum, 199 * 200 / 2);
}

#endif
