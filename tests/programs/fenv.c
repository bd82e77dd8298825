/* The floating-point environment through glibc's and musl's fenv
 * functions, which use the x87 (fnstenv, fldenv, fnstsw, fnclex, fldcw)
 * and SSE (stmxcsr, ldmxcsr) together, and getcontext/setcontext, which
 * save the x87 environment (fnstenv/fldenv) in the ucontext (musl has no
 * getcontext: the same instructions by hand there). x87 values print as
 * their 80-bit encoding: glibc's and musl's %La differ. */
#include <fenv.h>
#include <float.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <ucontext.h>
#endif

#include "x87_bits.h"

static volatile double zero = 0.0, one = 1.0, big = 1e308, tiny = 1e-308;
static volatile long double lzero = 0.0L, lone = 1.0L, lbig = 1e4000L, ltiny = 1e-4000L;

static void flags(const char *when)
{
    int f = fetestexcept(FE_ALL_EXCEPT);
    printf("%-28s%s%s%s%s%s\n", when, f & FE_INVALID ? " invalid" : "", f & FE_DIVBYZERO ? " divbyzero" : "",
           f & FE_OVERFLOW ? " overflow" : "", f & FE_UNDERFLOW ? " underflow" : "", f & FE_INEXACT ? " inexact" : "");
}

/* The x87 control word's rounding field, in <fenv.h>'s terms (the same
 * bits on x86). */
static int x87_round(void)
{
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw & 0xc00;
}

static const char *mode_name(int m)
{
    return m == FE_TONEAREST ? "nearest" : m == FE_DOWNWARD ? "downward" : m == FE_UPWARD ? "upward" : m == FE_TOWARDZERO ? "towardzero" : "?";
}

int main(void)
{
    feclearexcept(FE_ALL_EXCEPT);
    flags("start:");
    /* x87 operations raise x87 flags, SSE operations SSE flags; fetestexcept
     * reads both. */
    volatile long double l = lone / lzero;
    flags("x87 1/0:");
    feclearexcept(FE_ALL_EXCEPT);
    l = lzero / lzero;
    flags("x87 0/0:");
    feclearexcept(FE_ALL_EXCEPT);
    l = lbig * lbig;
    flags("x87 overflow:");
    feclearexcept(FE_ALL_EXCEPT);
    l = ltiny * ltiny;
    flags("x87 underflow:");
    feclearexcept(FE_ALL_EXCEPT);
    l = lone / 3.0L;
    flags("x87 1/3:");
    feclearexcept(FE_ALL_EXCEPT);
    volatile double d = one / zero;
    flags("sse 1/0:");
    feclearexcept(FE_ALL_EXCEPT);
    d = big * big;
    flags("sse overflow:");
    feclearexcept(FE_ALL_EXCEPT);
    d = tiny * tiny;
    flags("sse underflow:");
    feclearexcept(FE_ALL_EXCEPT);

    static const int each[] = {FE_INVALID, FE_DIVBYZERO, FE_OVERFLOW, FE_UNDERFLOW, FE_INEXACT};
    for (int i = 0; i < 5; i++) {
        int e = each[i];
        feraiseexcept(e);
        printf("raise %#04x -> %#04x\n", e, fetestexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW | FE_UNDERFLOW | FE_INEXACT));
        feclearexcept(FE_ALL_EXCEPT);
    }

    /* Rounding: fesetround changes both the x87 control word and MXCSR. */
    static const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
    for (int i = 0; i < 4; i++) {
        fesetround(modes[i]);
        volatile long double third = lone / 3.0L, mthird = -lone / 3.0L;
        volatile double dthird = one / 3.0, dmthird = -one / 3.0;
        printf("%-10s get=%s x87 %s %s sse %a %a rint(2.5)=%g rintl(-2.5)=%Lg\n", mode_name(modes[i]),
               mode_name(fegetround()), bits(third), bits(mthird), dthird, dmthird, __builtin_rint(2.5 * one),
               __builtin_rintl(-2.5L * lone));
    }
    fesetround(FE_TONEAREST);

    /* fegetenv/fesetenv, feholdexcept/feupdateenv. */
    fenv_t saved, held;
    feraiseexcept(FE_INEXACT);
    fegetenv(&saved);
    fesetround(FE_UPWARD);
    feclearexcept(FE_ALL_EXCEPT);
    flags("after fegetenv+clear:");
    fesetenv(&saved);
    printf("fesetenv restored round=%s\n", mode_name(fegetround()));
    flags("fesetenv restored:");
    feholdexcept(&held);
    flags("feholdexcept:");
    l = lone / lzero;
    d = one / zero;
    flags("held 1/0:");
    feupdateenv(&held);
    flags("feupdateenv:");
    fesetenv(FE_DFL_ENV);
    flags("FE_DFL_ENV:");
    printf("default round=%s\n", mode_name(fegetround()));

    /* getcontext saves the FPU environment; setcontext restores it. */
    volatile int pass = 0;
    fesetround(FE_DOWNWARD);
#ifdef __GLIBC__
    ucontext_t uc;
    getcontext(&uc);
#else
    unsigned char env[28];
    __asm__ volatile("fnstenv %0; fldenv %0" : "=m"(env));
    if (pass == 1) __asm__ volatile("fldenv %0" : : "m"(env));
#endif
    printf("context pass %d x87 round=%s\n", pass, mode_name(x87_round()));
    if (pass++ == 0) {
        fesetround(FE_UPWARD);
#ifdef __GLIBC__
        setcontext(&uc);
#else
        __asm__ volatile("fldenv %0" : : "m"(env));
        printf("context pass %d x87 round=%s\n", pass, mode_name(x87_round()));
#endif
    }
    fesetround(FE_TONEAREST);
    (void)l;
    (void)d;
    return 0;
}
