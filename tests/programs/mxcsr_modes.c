/* MXCSR's modes as -ffast-math programs set them: flush-to-zero with
 * denormals-are-zero (crtfastmath.o sets both), and the rounding modes,
 * on SSE arithmetic with denormal inputs and results. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xmmintrin.h>

static uint64_t bits(double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static void show(const char *mode) {
    volatile double denormal = 4.9406564584124654e-324, tiny = 2.2250738585072014e-308, one = 1.0, half = 0.5;
    volatile float fden = 1.4e-45f, ftiny = 1.17549435e-38f;
    float fr = ftiny * 0.25f, fs = fden * 1.0f;
    uint32_t fb, fsb;
    memcpy(&fb, &fr, 4);
    memcpy(&fsb, &fs, 4);
    printf("%-10s denormal*1 %016llx  tiny*0.5 %016llx  denormal+tiny %016llx  -tiny*0.5 %016llx  float %08x %08x\n",
           mode, (unsigned long long)bits(denormal * one), (unsigned long long)bits(tiny * half),
           (unsigned long long)bits(denormal + tiny), (unsigned long long)bits(-tiny * half), fb, fsb);
}

int main(void) {
    unsigned base = _mm_getcsr();
    show("default");
    _mm_setcsr(base | 0x8040); /* FTZ | DAZ */
    show("ftz+daz");
    _mm_setcsr((base | 0x8040 | 0x6000));
    show("+truncate");
    _mm_setcsr(base);
    show("restored");
    printf("mxcsr control %#x\n", _mm_getcsr() & 0xffc0);
    return 0;
}
