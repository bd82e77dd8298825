/* libm: transcendental functions printed to 10 significant digits (glibc
 * and musl may differ in the last bit, and glibc picks FMA variants by
 * CPUID), exact functions (frexp, ldexp, modf, fmod, remainder, scalbn,
 * copysign, nextafter) printed in full. */
#include <math.h>
#include <stdio.h>

static volatile double inputs[] = {-3.5, -1.0, -0.25, 0.0, 0.1, 0.5, 1.0, 2.0, 2.718281828459045, 10.0, 100.5, 1e-8};
#define INPUTS (sizeof inputs / sizeof inputs[0])

int main(void) {
    for (unsigned i = 0; i < INPUTS; i++) {
        double x = inputs[i];
        printf("x=%g sin %.10g cos %.10g tan %.10g atan %.10g sinh %.10g tanh %.10g exp %.10g expm1 %.10g cbrt %.10g erf %.10g\n", x,
               sin(x), cos(x), tan(x), atan(x), sinh(x), tanh(x), exp(x), expm1(x), cbrt(x), erf(x));
        if (x > 0)
            printf("x=%g log %.10g log2 %.10g log10 %.10g log1p %.10g sqrt %.10g pow(x,1.5) %.10g tgamma %.10g lgamma %.10g\n", x,
                   log(x), log2(x), log10(x), log1p(x), sqrt(x), pow(x, 1.5), tgamma(x), lgamma(x));
        if (x >= -1 && x <= 1) printf("x=%g asin %.10g acos %.10g atanh %.10g\n", x, asin(x), acos(x), x < 1 && x > -1 ? atanh(x) : 0.0);
    }
    for (unsigned i = 0; i < INPUTS; i++)
        for (unsigned j = 0; j < INPUTS; j += 3) {
            double y = inputs[i], x = inputs[j];
            printf("atan2(%g, %g) %.10g hypot %.10g", y, x, atan2(y, x), hypot(y, x));
            if (x != 0) printf(" fmod %a remainder %a", fmod(y, x), remainder(y, x));
            if (y > 0) printf(" pow %.10g", pow(y, x));
            printf("\n");
        }
    for (unsigned i = 0; i < INPUTS; i++) {
        double x = inputs[i], whole;
        int exponent;
        double mantissa = frexp(x, &exponent);
        double fraction = modf(x, &whole);
        printf("%a: frexp %a*2^%d ldexp(x,-3) %a modf %a + %a scalbn(x,10) %a copysign(1,-x) %g nextafter %.17g ilogb %d\n", x, mantissa,
               exponent, ldexp(x, -3), whole, fraction, scalbn(x, 10), copysign(1.0, -x), nextafter(x, 100.0),
               x != 0 ? ilogb(x) : 0);
    }
    double sum = 0;
    for (int k = 0; k < 2000; k++) sum += sin(k * 0.01) * cos(k * 0.02) + exp(-k * 0.001) + log(k + 1.0);
    printf("accumulated %.10g\n", sum);
    printf("pi %.15g e %.15g\n", 4 * atan(1.0), exp(1.0));
    return 0;
}
