/* Double and single precision arithmetic as SSE2 does it: the four
 * operations and sqrt on ordinary and special values (signed zeros,
 * infinities, NaN, subnormals), conversions between integers and floating
 * point (including unsigned 64-bit, which has no single instruction),
 * ordered and unordered comparisons, min/max with NaN operands, and the
 * rounding modes of MXCSR through fesetround. Results are printed as bit
 * patterns, so the sign of a NaN counts: x86 makes negative default NaNs. */
#include <fenv.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile double values[] = {0.0, -0.0, 1.0, -1.0, 0.1, 3.0, -7.5, 1e300, -1e-300, 4.9e-324, 2.2250738585072014e-308,
                                   1.7976931348623157e308, 12345678.9, 0.5};
#define VALUES (sizeof values / sizeof values[0])

static uint64_t bits_of(double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

static uint32_t bits_of_float(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static uint64_t hash = 0;
static void record(uint64_t value) { hash = (hash ^ value) * 0x100000001b3ull; }

__attribute__((noinline)) static void arithmetic(void) {
    static volatile double zero = 0.0;
    double specials[] = {1.0 / zero, -1.0 / zero, zero / zero, -(zero / zero)};
    for (unsigned i = 0; i < VALUES + 4; i++)
        for (unsigned j = 0; j < VALUES + 4; j++) {
            double a = i < VALUES ? values[i] : specials[i - VALUES];
            double b = j < VALUES ? values[j] : specials[j - VALUES];
            record(bits_of(a + b));
            record(bits_of(a - b));
            record(bits_of(a * b));
            record(bits_of(a / b));
            float fa = (float)a, fb = (float)b;
            record(bits_of_float(fa + fb));
            record(bits_of_float(fa * fb));
            record(bits_of_float(fa / fb));
            record((a < b) | (a <= b) << 1 | (a > b) << 2 | (a >= b) << 3 | (a == b) << 4 | (a != b) << 5 |
                   isunordered(a, b) << 6 | isless(a, b) << 7);
            if (i % 5 == 0 && j % 5 == 2)
                printf("%.17g op %.17g: + %016" PRIx64 " - %016" PRIx64 " * %016" PRIx64 " / %016" PRIx64 "\n", a, b,
                       bits_of(a + b), bits_of(a - b), bits_of(a * b), bits_of(a / b));
        }
    printf("arithmetic hash %016" PRIx64 "\n", hash);
    printf("0/0 %016" PRIx64 " inf-inf %016" PRIx64 " 0*inf %016" PRIx64 " sqrt(-1) %016" PRIx64 "\n",
           bits_of(zero / zero), bits_of(specials[0] + specials[1]), bits_of(zero * specials[0]), bits_of(sqrt(-1.0 + zero)));
    printf("printed: %f %f %f %f\n", zero / zero, -(zero / zero), specials[0], specials[1]);
}

__attribute__((noinline)) static void square_roots(void) {
    for (unsigned i = 0; i < VALUES; i++) {
        double v = fabs(values[i]);
        printf("sqrt(%.17g) = %016" PRIx64 ", sqrtf = %08" PRIx32 "\n", v, bits_of(sqrt(v)), bits_of_float(sqrtf((float)v)));
    }
}

__attribute__((noinline)) static void conversions(void) {
    static volatile double convertible[] = {0.0, -0.0, 0.4, 0.5, 0.6, -0.5, -1.5, 2.5, 1e9, -2147483648.0, 2147483647.9,
                                            4294967295.0, 9.2233720368547748e18, -9.2233720368547758e18, 1.8446744073709550e19};
    for (unsigned i = 0; i < sizeof convertible / sizeof convertible[0]; i++) {
        double d = convertible[i];
        printf("%.17g:", d);
        if (d > -2147483649.0 && d < 2147483648.0) printf(" int %d", (int)d);
        if (d > -1.0 && d < 4294967296.0) printf(" unsigned %u", (unsigned)d);
        if (d >= -9.2233720368547758e18 && d < 9.2233720368547758e18) printf(" long %" PRId64, (int64_t)d);
        if (d > -1.0 && d < 1.8446744073709552e19) printf(" ulong %" PRIu64, (uint64_t)d);
        printf(" lrint %ld llround %lld float %a\n", lrint(d), llround(d), (double)(float)d);
    }
    static volatile uint64_t integers[] = {0, 1, 9007199254740993ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
                                           0x8000000000000401ull, 0xffffffffffffffffull, 12345};
    for (unsigned i = 0; i < sizeof integers / sizeof integers[0]; i++) {
        uint64_t u = integers[i];
        printf("%" PRIu64 ": as double %a, as signed %a, as float %a, int32 %a\n", u, (double)u, (double)(int64_t)u,
               (double)(float)u, (double)(int32_t)u);
    }
}

__attribute__((noinline)) static void min_max(void) {
    static volatile double zero = 0.0;
    double nan_value = zero / zero;
    double pairs[][2] = {{1, 2}, {2, 1}, {-0.0, 0.0}, {0.0, -0.0}, {1, nan_value}, {nan_value, 1}};
    for (unsigned i = 0; i < 6; i++) {
        double a = pairs[i][0], b = pairs[i][1];
        /* The ternaries are what minsd/maxsd implement: the second operand wins on NaN and on equal zeros. */
        printf("min/max(%g, %g): ternary %g %g", a, b, a < b ? a : b, a > b ? a : b);
        /* Which zero fmin/fmax return for -0 and +0 is up to the libc. */
        if (a != 0 || b != 0) printf(", fmin/fmax %g %g", fmin(a, b), fmax(a, b));
        printf("\n");
    }
}

__attribute__((noinline)) static void rounding_modes(void) {
    static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    static const char *const names[] = {"nearest", "upward", "downward", "toward-zero"};
    /* Every operand is a volatile load: without -frounding-math the compiler
     * assumes round-to-nearest, and at -O2 inlines rint as if it were in
     * force; the libm functions are called through pointers for that reason. */
    double (*volatile rint_fn)(double) = rint, (*volatile nearbyint_fn)(double) = nearbyint;
    long (*volatile lrint_fn)(double) = lrint;
    static volatile double one = 1.0, minus_one = -1.0, three = 3.0, big = 1e16, two = 2.0, half = 0.5;
    static volatile double two_and_half = 2.5, minus_two_and_half = -2.5, one_and_half = 1.5, one_point_seven = 1.7;
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        double third = one / three, neg_third = minus_one / three;
        float f_third = (float)one / (float)three;
        printf("%-11s 1/3 %a -1/3 %a float %a sum %a rint(2.5) %g rint(-2.5) %g nearbyint(0.5) %g lrint(1.5) %ld (int)1.7 %d sqrt(2) %a\n",
               names[m], third, neg_third, (double)f_third, big + one, rint_fn(two_and_half), rint_fn(minus_two_and_half),
               nearbyint_fn(half), lrint_fn(one_and_half), (int)one_point_seven, sqrt(two));
    }
    fesetround(FE_TONEAREST);
    printf("back to nearest: %d\n", fegetround() == FE_TONEAREST);
}

__attribute__((noinline)) static void classification_and_sums(void) {
    for (unsigned i = 0; i < VALUES; i++) {
        double v = values[i];
        printf("%.17g: class %d normal %d finite %d signbit %d floor %g ceil %g trunc %g round %g\n", v, fpclassify(v),
               isnormal(v), isfinite(v), signbit(v) != 0, floor(v), ceil(v), trunc(v), round(v));
    }
    double sum = 0, compensation = 0, naive = 0;
    float single = 0;
    for (int k = 1; k <= 100000; k++) {
        double term = 1.0 / k;
        naive += term;
        single += (float)term;
        double y = term - compensation, t = sum + y;
        compensation = (t - sum) - y;
        sum = t;
    }
    printf("harmonic(100000): naive %.17g kahan %.17g float %.9g\n", naive, sum, (double)single);
    printf("epsilons: %a %a, max %a %a\n", DBL_EPSILON, (double)FLT_EPSILON, DBL_MAX, (double)FLT_MAX);
}

int main(void) {
    arithmetic();
    square_roots();
    conversions();
    min_max();
    rounding_modes();
    classification_and_sums();
    return 0;
}
