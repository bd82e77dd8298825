#!/bin/sh
# Valgrind's memcheck (a dynamic binary translator itself) on a small C
# program with a heap overflow: the program's output, memcheck's error
# count and its --error-exitcode.
d=$W/valgrind_$$
mkdir -p $d && cd $d || exit 1
cat > v.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void) { int *p = malloc(10 * sizeof *p); for (int i = 0; i < 10; i++) p[i] = i * i; long s = 0; for (int i = 0; i < 10; i++) s += p[i]; printf("%ld\n", s); free(p); char *q = malloc(8); q[8] = 1; free(q); return 0; }
C
gcc -g -O0 -o v v.c && valgrind -q --error-exitcode=3 ./v 2> err
echo "valgrind exit $?"
grep -c "Invalid write of size 1" err
cd / && rm -rf $d
