/* SSSE3 on MMX registers (pshufb, palignr, phadd*, phsub*, pmaddubsw,
 * pmulhrsw, pabs*, psign*), register and memory sources, on edge lanes,
 * printed in hex. Inline assembly: gcc without -mssse3 emits none of
 * them, and the program never asks CPUID, so it needs a CPU (or a
 * presented x86-64-v2) with SSSE3. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "mmx_ops.h"

static void ssse3_on_mmx(void) {
    for (unsigned i = 0; i < N_LANES; i++) {
        for (unsigned j = 0; j < N_LANES; j++) {
            uint64_t a = lanes[i], b = lanes[j];
            printf("%016" PRIx64 " %016" PRIx64 ":", a, b);
            printf(" pshufb=%016" PRIx64, MMX_OP("pshufb", a, b));
            printf(" phaddw=%016" PRIx64, MMX_OP("phaddw", a, b));
            printf(" phaddd=%016" PRIx64, MMX_OP("phaddd", a, b));
            printf(" phaddsw=%016" PRIx64, MMX_OP("phaddsw", a, b));
            printf(" phsubw=%016" PRIx64, MMX_OP("phsubw", a, b));
            printf(" phsubd=%016" PRIx64, MMX_OP("phsubd", a, b));
            printf(" phsubsw=%016" PRIx64, MMX_OP_MEM("phsubsw", a, b));
            printf(" pmaddubsw=%016" PRIx64, MMX_OP("pmaddubsw", a, b));
            printf(" pmulhrsw=%016" PRIx64, MMX_OP_MEM("pmulhrsw", a, b));
            printf(" pabsb=%016" PRIx64, MMX_OP("pabsb", a, b));
            printf(" pabsw=%016" PRIx64, MMX_OP_MEM("pabsw", a, b));
            printf(" pabsd=%016" PRIx64, MMX_OP("pabsd", a, b));
            printf(" psignb=%016" PRIx64, MMX_OP("psignb", a, b));
            printf(" psignw=%016" PRIx64, MMX_OP_MEM("psignw", a, b));
            printf(" psignd=%016" PRIx64, MMX_OP("psignd", a, b));
            printf("\n");
        }
    }
    uint64_t a = lanes[0], b = lanes[6];
#define PALIGNR(n)                                                                                     \
    do {                                                                                               \
        uint64_t r_ = a;                                                                               \
        __asm__ volatile("movq %0, %%mm0\n\tmovq %1, %%mm1\n\tpalignr $" #n ", %%mm1, %%mm0\n\tmovq %%mm0, %0\n\temms" \
                         : "+r"(r_)                                                                    \
                         : "r"(b)                                                                      \
                         : "mm0", "mm1");                                                              \
        printf("palignr %2d %016" PRIx64 "\n", n, r_);                                                 \
    } while (0)
    PALIGNR(0);
    PALIGNR(1);
    PALIGNR(7);
    PALIGNR(8);
    PALIGNR(13);
    PALIGNR(16);
    PALIGNR(255);
}

int main(void) {
    ssse3_on_mmx();
    return 0;
}
