/* What the alias tests share: the sequence of
 * rewrites each kind of alias must get right (jit_dual_mapping.c,
 * jit_mremap_alias.c). */
#ifndef ALIAS_EXERCISE_H
#define ALIAS_EXERCISE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit_emit.h"

/* The page size, set by main before any exercise. */
static long page;

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
