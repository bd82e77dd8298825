/* long double libm: glibc's and musl's x87 code paths (fsin, fcos, fptan,
 * fpatan, fyl2x, fyl2xp1, f2xm1, fprem, fprem1, fscale, fxtract, frndint,
 * fsqrt). Exactly specified results print as their 80-bit encoding
 * (sign and exponent, significand: identical text from glibc and musl,
 * whose %La differ), so a wrong last bit of the 64-bit significand shows. The hardware's transcendental instructions
 * are only documented within 1 ulp (Transit's are correctly rounded), so
 * those results print with 12 digits and a check against the correctly
 * rounded value (mpmath at 300 bits) to 2 ulps, for arguments where the
 * hardware and both libms are accurate (musl's expm1l is not at 10, 100). */
#include <math.h>
#include <stdio.h>
#include <string.h>

static long double wrap_atan2(long double x) { return atan2l(x, 0.75L); }
static long double wrap_pow(long double x) { return powl(1.25L, x); }

static const struct {
    const char *name;
    long double (*f)(long double);
} functions[] = {
    {"sinl", sinl}, {"cosl", cosl}, {"tanl", tanl}, {"atanl", atanl}, {"atan2l", wrap_atan2},
    {"expl", expl}, {"exp2l", exp2l}, {"expm1l", expm1l}, {"logl", logl}, {"log2l", log2l},
    {"log10l", log10l}, {"log1pl", log1pl}, {"powl", wrap_pow},
};

/* Correctly rounded values, generated with mpmath. */
static const struct {
    const char *name;
    long double x, expected;
} approximated[] = {
    {"sinl", 0x1p-40L, 0x8000000000000000p-103L},
    {"cosl", 0x1p-40L, 0x8000000000000000p-63L},
    {"tanl", 0x1p-40L, 0x8000000000000000p-103L},
    {"atanl", 0x1p-40L, 0x8000000000000000p-103L},
    {"atan2l", 0x1p-40L, 0xaaaaaaaaaaaaaaabp-103L},
    {"expl", 0x1p-40L, 0x8000000000800000p-63L},
    {"exp2l", 0x1p-40L, 0x800000000058b90cp-63L},
    {"expm1l", 0x1p-40L, 0x8000000000400000p-103L},
    {"logl", 0x1p-40L, -0xddce9df5c6435817p-59L},
    {"log2l", 0x1p-40L, -0xa000000000000000p-58L},
    {"log10l", 0x1p-40L, -0xc0a8c1263ac3f57fp-60L},
    {"log1pl", 0x1p-40L, 0xffffffffff800000p-104L},
    {"powl", 0x1p-40L, 0x80000000001c8ff8p-63L},
    {"sinl", 0.1L, 0xcc75765c5e595e98p-67L},
    {"cosl", 0.1L, 0xfeb897cd40be0413p-64L},
    {"tanl", 0.1L, 0xcd7c43ba185bfda3p-67L},
    {"atanl", 0.1L, 0xcc1f1417166261d7p-67L},
    {"atan2l", 0.1L, 0x87bb96c0fee058d6p-66L},
    {"expl", 0.1L, 0x8d763d9ad0069cd8p-63L},
    {"exp2l", 0.1L, 0x892fdf7128332131p-63L},
    {"expm1l", 0.1L, 0xd763d9ad0069cd7cp-67L},
    {"logl", 0.1L, -0x935d8dddaaa8ac17p-62L},
    {"log2l", 0.1L, -0xd49a784bcd1b8afep-62L},
    {"log10l", 0.1L, -0x8000000000000000p-63L},
    {"log1pl", 0.1L, 0xc331fbc9e23634dfp-67L},
    {"powl", 0.1L, 0x82e36a7891c4b200p-63L},
    {"sinl", 0.5L, 0xf57743a2582f7f44p-65L},
    {"cosl", 0.5L, 0xe0a94032dbea7ceep-64L},
    {"tanl", 0.5L, 0x8bda7adf9a3a5219p-64L},
    {"atanl", 0.5L, 0xed63382b0dda7b45p-65L},
    {"atan2l", 0.5L, 0x968756b0331cab69p-64L},
    {"expl", 0.5L, 0xd3094c70f034de4cp-63L},
    {"exp2l", 0.5L, 0xb504f333f9de6484p-63L},
    {"expm1l", 0.5L, 0xa61298e1e069bc97p-64L},
    {"logl", 0.5L, -0xb17217f7d1cf79acp-64L},
    {"log2l", 0.5L, -0x8000000000000000p-63L},
    {"log10l", 0.5L, -0x9a209a84fbcff799p-65L},
    {"log1pl", 0.5L, 0xcf991f65fcc25f96p-65L},
    {"powl", 0.5L, 0x8f1bbcdcbfa53e0bp-63L},
    {"sinl", 1.0L, 0xd76aa47848677021p-64L},
    {"cosl", 1.0L, 0x8a51407da8345c92p-64L},
    {"tanl", 1.0L, 0xc75922e5f71d2dc5p-63L},
    {"atanl", 1.0L, 0xc90fdaa22168c235p-64L},
    {"atan2l", 1.0L, 0xed63382b0dda7b45p-64L},
    {"expl", 1.0L, 0xadf85458a2bb4a9bp-62L},
    {"exp2l", 1.0L, 0x8000000000000000p-62L},
    {"expm1l", 1.0L, 0xdbf0a8b145769535p-63L},
    {"logl", 1.0L, 0.0L},
    {"log2l", 1.0L, 0.0L},
    {"log10l", 1.0L, 0.0L},
    {"log1pl", 1.0L, 0xb17217f7d1cf79acp-64L},
    {"powl", 1.0L, 0xa000000000000000p-63L},
    {"sinl", 1.5L, 0xff5bd4d9636c56f3p-64L},
    {"cosl", 1.5L, 0x90deaa7e2fcd3a20p-67L},
    {"tanl", 1.5L, 0xe19f6a85c43bbad3p-60L},
    {"atanl", 1.5L, 0xfb985e940fb4d900p-64L},
    {"atan2l", 1.5L, 0x8db70c975df22363p-63L},
    {"expl", 1.5L, 0x8f69ff327e2a0abfp-61L},
    {"exp2l", 1.5L, 0xb504f333f9de6484p-62L},
    {"expm1l", 1.5L, 0xded3fe64fc54157ep-62L},
    {"logl", 1.5L, 0xcf991f65fcc25f96p-65L},
    {"log2l", 1.5L, 0x95c01a39fbd687a0p-64L},
    {"log10l", 1.5L, 0xb451445b05bfe15bp-66L},
    {"log1pl", 1.5L, 0xea9207870703bd04p-64L},
    {"powl", 1.5L, 0xb2e2ac13ef8e8d8ep-63L},
    {"sinl", 2.0L, 0xe8c7b7568da22efdp-64L},
    {"cosl", 2.0L, -0xd51132ba9b902522p-65L},
    {"tanl", 2.0L, -0x8bd7b1704a87c1dbp-62L},
    {"atanl", 2.0L, 0x8db70c975df22363p-63L},
    {"atan2l", 2.0L, 0x9b23a81e57aae118p-63L},
    {"expl", 2.0L, 0xec7325c6a6ed6e62p-61L},
    {"exp2l", 2.0L, 0x8000000000000000p-61L},
    {"expm1l", 2.0L, 0xcc7325c6a6ed6e62p-61L},
    {"logl", 2.0L, 0xb17217f7d1cf79acp-64L},
    {"log2l", 2.0L, 0x8000000000000000p-63L},
    {"log10l", 2.0L, 0x9a209a84fbcff799p-65L},
    {"log1pl", 2.0L, 0x8c9f53d5681854bbp-63L},
    {"powl", 2.0L, 0xc800000000000000p-63L},
    {"sinl", 3.0L, 0x9081c36db6aada79p-66L},
    {"cosl", 3.0L, -0xfd7025f42f2e9308p-64L},
    {"tanl", 3.0L, -0x91f7b892a5c37866p-66L},
    {"atanl", 3.0L, 0x9fe0bb5bd42affecp-63L},
    {"atan2l", 3.0L, 0xa9b464a8f4e7e4d2p-63L},
    {"expl", 3.0L, 0xa0af2dfb7d882f97p-59L},
    {"exp2l", 3.0L, 0x8000000000000000p-60L},
    {"expm1l", 3.0L, 0x98af2dfb7d882f97p-59L},
    {"logl", 3.0L, 0x8c9f53d5681854bbp-63L},
    {"log2l", 3.0L, 0xcae00d1cfdeb43d0p-63L},
    {"log10l", 3.0L, 0xf4493cb27eafe846p-65L},
    {"log1pl", 3.0L, 0xb17217f7d1cf79acp-63L},
    {"powl", 3.0L, 0xfa00000000000000p-63L},
    {"sinl", -0.75L, -0xae7fe0b5fc786b2ep-64L},
    {"cosl", -0.75L, 0xbb4ff632a908f73fp-64L},
    {"tanl", -0.75L, -0xee7d1b0887775f06p-64L},
    {"atanl", -0.75L, -0xa4bc7d1934f70924p-64L},
    {"atan2l", -0.75L, -0xc90fdaa22168c235p-64L},
    {"expl", -0.75L, 0xf1da075f7e6bf297p-65L},
    {"exp2l", -0.75L, 0x9837f0518db8a96fp-64L},
    {"expm1l", -0.75L, -0x8712fc5040ca06b4p-64L},
    {"log1pl", -0.75L, -0xb17217f7d1cf79acp-63L},
    {"powl", -0.75L, 0xd88cb4dcf747c1a7p-64L},
    {"sinl", -3.5L, 0xb399dbf5d310f9aep-65L},
    {"cosl", -3.5L, -0xefbba01e08d2f7bep-64L},
    {"tanl", -3.5L, -0xbfc9b06410953487p-65L},
    {"atanl", -3.5L, -0xa57087e32c4d258ap-63L},
    {"atan2l", -3.5L, -0xae0abf68d53517dfp-63L},
    {"expl", -3.5L, 0xf76080c727fb2fb5p-69L},
    {"exp2l", -3.5L, 0xb504f333f9de6484p-67L},
    {"expm1l", -3.5L, -0xf844fbf9c6c02682p-64L},
    {"powl", -3.5L, 0xea77fe22d050adbep-65L},
    {"atanl", 10.0L, 0xbc4de960b0029c17p-63L},
    {"atan2l", 10.0L, 0xbf7ad8b747a51479p-63L},
    {"expl", 10.0L, 0xac14ee7ca82afcf8p-49L},
    {"exp2l", 10.0L, 0x8000000000000000p-53L},
    {"logl", 10.0L, 0x935d8dddaaa8ac17p-62L},
    {"log2l", 10.0L, 0xd49a784bcd1b8afep-62L},
    {"log10l", 10.0L, 0x8000000000000000p-63L},
    {"log1pl", 10.0L, 0x99771dbbf9ba5dbep-62L},
    {"powl", 10.0L, 0x9502f90000000000p-60L},
    {"atanl", 100.0L, 0xc7c82f596f790c5fp-63L},
    {"atan2l", 100.0L, 0xc81a1940c00d2c0fp-63L},
    {"expl", 100.0L, 0x9a4a54d8b8dfa566p81L},
    {"exp2l", 100.0L, 0x8000000000000000p37L},
    {"logl", 100.0L, 0x935d8dddaaa8ac17p-61L},
    {"log2l", 100.0L, 0xd49a784bcd1b8afep-61L},
    {"log10l", 100.0L, 0x8000000000000000p-62L},
    {"log1pl", 100.0L, 0x93af1138ddd185f2p-61L},
    {"powl", 100.0L, 0x924d692ca61be758p-31L},

};

/* Units in the last place between a and b (same sign and binade, or near). */
static long double ulps(long double a, long double b)
{
    if (a == b) return 0;
    int e;
    frexpl(b, &e);
    return fabsl(a - b) / ldexpl(1.0L, e - 64);
}

#include "x87_bits.h"

static void show(const char *name, long double x, long double r)
{
    printf("%-10s(%s) = %s\n", name, bits(x), bits(r));
}

int main(void)
{
    for (unsigned i = 0; i < sizeof approximated / sizeof approximated[0]; i++) {
        long double (*f)(long double) = 0;
        for (unsigned j = 0; j < sizeof functions / sizeof functions[0]; j++)
            if (strcmp(functions[j].name, approximated[i].name) == 0) f = functions[j].f;
        long double x = approximated[i].x, r = f(x);
        printf("%-8s(%s) = %.12Lg %s\n", approximated[i].name, bits(x), r,
               ulps(r, approximated[i].expected) <= 2 ? "within 2 ulps" : "OFF");
    }

    static const long double args[] = {
        0.0L, -0.0L, 1e-30L, 0.1L, 0.5L, 1.0L, 1.5L, 2.0L, 3.0L, 10.0L, 100.0L, 1e6L, -0.75L, -3.5L, 1e4000L,
    };
    for (unsigned i = 0; i < sizeof args / sizeof args[0]; i++) {
        long double x = args[i];
        show("sqrtl", x, sqrtl(fabsl(x)));
        show("fmodl", x, fmodl(x, 0.3L));
        show("fmodl", x, fmodl(x, 3.0L));
        show("remainder", x, remainderl(x, 0.3L));
        show("remainder", x, remainderl(x, 7.0L));
        int e;
        long double m = frexpl(x, &e);
        printf("frexpl(%s) = %s, %d\n", bits(x), bits(m), e);
        show("ldexpl", x, ldexpl(x, 100));
        show("ldexpl", x, ldexpl(x, -16400));
        long double ip;
        long double fp = modfl(x, &ip);
        printf("modfl(%s) = %s, %s\n", bits(x), bits(fp), bits(ip));
        show("rintl", x, rintl(x * 7.3L));
        show("nearbyint", x, nearbyintl(x * 7.3L));
        show("truncl", x, truncl(x * 7.3L));
        show("floorl", x, floorl(x * 7.3L));
        show("ceill", x, ceill(x * 7.3L));
        show("logbl", x, logbl(x));
        printf("ilogbl(%s) = %d\n", bits(x), ilogbl(x));
        show("scalbnl", x, scalbnl(x, 3));
        if (fabsl(x) < 1e15L) printf("lrintl(%s) = %ld\n", bits(x), lrintl(x * 1.7L));
    }
    /* The out-of-range trigonometric path: glibc reduces with fprem1. */
    printf("sinl(1e30) finite: %d, sinl(inf) nan: %d\n", isfinite(sinl(1e30L)), isnan(sinl(INFINITY)));
    printf("%.25Lg %.25Lg %Lf\n", 1.0L / 3.0L, 2.0L / 3.0L, 123456789.123456789L);
    return 0;
}
