/* Shared by the MMX test programs: run one MMX instruction on two 64-bit
 * values (register or memory source), and the edge lanes they try. */
#ifndef MMX_OPS_H
#define MMX_OPS_H
#include <stdint.h>

#define MMX_OP(insn, a, b)                                                                        \
    ({                                                                                            \
        uint64_t r_ = (a);                                                                        \
        __asm__ volatile("movq %0, %%mm0\n\tmovq %1, %%mm1\n\t" insn " %%mm1, %%mm0\n\tmovq %%mm0, %0\n\temms" \
                         : "+r"(r_)                                                               \
                         : "r"((uint64_t)(b))                                                     \
                         : "mm0", "mm1");                                                         \
        r_;                                                                                       \
    })

#define MMX_OP_MEM(insn, a, b)                                                                    \
    ({                                                                                            \
        uint64_t r_ = (a), m_ = (b);                                                              \
        __asm__ volatile("movq %0, %%mm0\n\t" insn " %1, %%mm0\n\tmovq %%mm0, %0\n\temms"          \
                         : "+r"(r_)                                                               \
                         : "m"(m_)                                                                \
                         : "mm0");                                                                \
        r_;                                                                                       \
    })

static const uint64_t lanes[] = {
    0x0123456789abcdef, 0x8000800080008000, 0x7fff7fff7fff7fff, 0xffffffffffffffff,
    0x0000000000000000, 0x80017fff0001ffff, 0x7f80ff0001fe8081, 0x8000000080000000,
};
#define N_LANES (sizeof lanes / sizeof lanes[0])

#endif
