/* printf's conversions, flags, widths and precisions for integers, strings
 * and doubles (%e %f %g %a, rounding, infinities, NaN and its sign), the
 * return values, and snprintf truncation. Values pass through volatile
 * variables so the compiler cannot rewrite the calls. */
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static volatile int ints[] = {0, 1, -1, 42, -42, 255, 65535, INT_MAX, INT_MIN, 123456789};
static volatile double doubles[] = {0.0, -0.0, 1.0, -1.5, 0.1, 2.5, 3.14159265358979, 1e-5, 123456.789, 1e21,
                                    6.02214076e23, 1.7976931348623157e308, 2.2250738585072014e-308,
                                    0.5, 1.5, 999.9999, 1e-300};

static int line(const char *format, ...) __attribute__((format(printf, 1, 2)));

#include <stdarg.h>
/* Prints `format` with its arguments between brackets, and the count. */
static int line(const char *format, ...) {
    char buffer[512];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(buffer, sizeof buffer, format, args);
    va_end(args);
    printf("%-8s -> [%s] (%d)\n", format, buffer, n);
    return n;
}

int main(void) {
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int v = ints[i];
        line("%d", v);
        line("%+d", v);
        line("% d", v);
        line("%8d", v);
        line("%-8d|", v);
        line("%08d", v);
        line("%.5d", v);
        line("%u", (unsigned)v);
        line("%x", (unsigned)v);
        line("%#X", (unsigned)v);
        line("%#o", (unsigned)v);
        line("%hhd", (signed char)v);
        line("%hu", (unsigned short)v);
    }
    line("%ld %lu", LONG_MIN, ULONG_MAX);
    line("%lld %llx", LLONG_MIN, 0xfedcba9876543210ULL);
    line("%zu %zd %td", (size_t)12345, (ptrdiff_t)-6789, (ptrdiff_t)77);
    line("%jd %ju", (intmax_t)INT64_MIN, (uintmax_t)UINT64_MAX);
    line("%" PRId8 " %" PRIu16 " %" PRIx32 " %" PRIo64, (int8_t)-8, (uint16_t)65535, (uint32_t)0xabcdef, (uint64_t)511);
    line("%c%c%c", 'a', 'B', '!');
    line("%5c|%-5c|", 'x', 'y');
    line("%s|%10s|%-10s|%.3s|%10.2s|", "text", "right", "left", "truncate", "ab");
    line("%*d|%-*d|%.*d", 6, 42, 6, 42, 4, 7);
    line("%%|%%%%|");
    int count = 0;
    printf("before %%n%n after\n", &count);
    printf("%%n counted %d\n", count);

    for (unsigned i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        double d = doubles[i];
        line("%f", d);
        line("%.0f", d);
        line("%.3f", d);
        line("%e", d);
        line("%.2E", d);
        line("%g", d);
        line("%.10g", d);
        line("%#g", d);
        line("%a", d);
        line("%.3a", d);
        line("%+012.4f", d);
        line("%.17g", d);
    }
    static volatile double zero = 0.0;
    double inf = 1.0 / zero, nan_value = zero / zero;
    line("%f %F %e %g", inf, inf, -inf, -inf);
    line("%f %F", nan_value, -nan_value);
    line("%5.1f|%-6f|%+f", inf, -inf, inf);
    line("%f", NAN);
    line("%.40f", 0.1);
    line("%.60g", DBL_MIN);
    line("%.0f %.0f %.0f %.0f", 0.5, 1.5, 2.5, -0.5);
    line("%.1f %.1f %.2f", 0.25, 0.35, 1.005);
    line("%.3e", 9.9995);
    line("%g %g %g %g", 100000.0, 1000000.0, 1e-4, 1e-5);
    line("%a %a %a", 1.0, -0.75, (double)FLT_MAX);
    line("%f", (double)(float)0.1);
    /* Subnormals: %a of one is written differently by glibc and musl. */
    line("%g %.3e %.20g", 4.9e-324, 4.9e-324, 1e-310);

    char small[8];
    static volatile size_t small_size = sizeof small, one = 1;
    int n = snprintf(small, small_size, "%s-%d", "truncated", 12345);
    printf("snprintf returned %d, kept \"%s\"\n", n, small);
    n = snprintf(NULL, 0, "%0100d", 1);
    printf("length only: %d\n", n);
    n = snprintf(small, one, "abc");
    printf("size 1: %d \"%s\"\n", n, small);
    return 0;
}
