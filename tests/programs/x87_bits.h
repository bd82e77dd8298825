/* Shared by the x87 test programs: a long double as its 80-bit encoding
 * (sign and exponent, then the significand), which prints the same under
 * glibc and musl where %La does not. */
#ifndef X87_BITS_H
#define X87_BITS_H
#include <stdio.h>
#include <string.h>

static const char *bits(long double v)
{
    static char buf[4][32];
    static int next;
    unsigned long long m;
    unsigned short se;
    memcpy(&m, &v, 8);
    memcpy(&se, (char *)&v + 8, 2);
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%04x:%016llx", se, m);
    return b;
}

#endif
