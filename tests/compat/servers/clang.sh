#!/bin/sh
# clang (LLVM 14) compiles a C program (a tree on the heap, libm, four
# pthreads under a mutex, printf of %e and %a) for x86-64-v2, then runs it.
d=$W/clang_$$
mkdir -p $d && cd $d || exit 1
cat > c.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
struct node { int k; struct node *l, *r; };
static struct node *ins(struct node *t, int k) {
    if (!t) { t = calloc(1, sizeof *t); t->k = k; return t; }
    if (k < t->k) t->l = ins(t->l, k); else t->r = ins(t->r, k);
    return t;
}
static long walk(struct node *t, int d) { return t ? walk(t->l, d + 1) + walk(t->r, d + 1) + (long)t->k * d : 0; }
static long tot; static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *work(void *p) { long k = (long)p, s = 0; for (long j = 0; j < 200000; j++) s += j % (k + 2); pthread_mutex_lock(&mu); tot += s; pthread_mutex_unlock(&mu); return 0; }
int main(void) {
    struct node *t = 0;
    for (int i = 0; i < 20000; i++) t = ins(t, (i * 7919) % 20011);
    printf("%ld\n", walk(t, 0));
    double v[1024]; for (int i = 0; i < 1024; i++) v[i] = sin(i * 0.01) * cos(i * 0.02);
    double s = 0; for (int i = 0; i < 1024; i++) s += v[i] * v[i];
    printf("%.10f\n", s);
    pthread_t th[4]; for (long k = 0; k < 4; k++) pthread_create(&th[k], 0, work, (void *)k);
    for (int k = 0; k < 4; k++) pthread_join(th[k], 0);
    printf("%ld\n", tot);
    char buf[64]; snprintf(buf, sizeof buf, "%e %a", M_PI, 1.5); puts(buf);
    return 0;
}
C
clang -O2 -march=x86-64-v2 -o c c.c -lm -lpthread && ./c
echo "clang exit $?"
cd / && rm -rf $d
