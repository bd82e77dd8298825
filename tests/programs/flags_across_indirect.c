/* x86 flags that live across a return or a computed jump, and back from
 * a call through a RIP-relative slot. Hand-written
 * assembly may return a result in CF, though compilers never do. Transit's
 * indirect exits may leave the host's carry in either form (an `add` leaves
 * it one way, a `sub` the other), so a block that reads CF first must
 * still see the value x86 would give. */
#include <stdint.h>
#include <stdio.h>

__asm__(
    ".text\n"
    /* CF = carry out of rdi + rsi (the add leaves the host's carry form). */
    "add_carry:\n"
    "    mov %rdi, %rax\n"
    "    add %rsi, %rax\n"
    "    ret\n"
    /* CF = borrow of rdi - rsi (the subtract leaves the borrow form). */
    "sub_borrow:\n"
    "    mov %rdi, %rax\n"
    "    sub %rsi, %rax\n"
    "    ret\n"
    /* carry_after_call(a, b, fn): calls fn(a, b) through a register and
     * returns the CF it came back with, read first thing after the call. */
    ".globl carry_after_call\n"
    "carry_after_call:\n"
    "    push %rbx\n"
    "    call *%rdx\n"
    "    setc %al\n"
    "    movzbl %al, %eax\n"
    "    pop %rbx\n"
    "    ret\n"
    /* carry_after_jump(a, b): CF of a + b, carried through `jmp reg`; the
     * target moves a register before it branches on CF. */
    ".globl carry_after_jump\n"
    "carry_after_jump:\n"
    "    lea 1f(%rip), %rcx\n"
    "    mov %rdi, %rax\n"
    "    add %rsi, %rax\n"
    "    jmp *%rcx\n"
    "1:  mov $7, %edx\n"
    "    jc 2f\n"
    "    xor %eax, %eax\n"
    "    ret\n"
    "2:  mov %edx, %eax\n"
    "    ret\n"
    /* carry_through_slot(a, b): calls add_carry through a slot addressed
     * from RIP (as a GOT call or a PLT stub does: no flag goes in, but the
     * CF the callee returns is read first thing after the call). */
    ".globl carry_through_slot\n"
    "carry_through_slot:\n"
    "    push %rbx\n"
    "    call *add_carry_fn(%rip)\n"
    "    setc %al\n"
    "    movzbl %al, %eax\n"
    "    pop %rbx\n"
    "    ret\n"
    /* Function pointers to the two callees, for C. */
    ".data\n"
    ".globl add_carry_fn, sub_borrow_fn\n"
    "add_carry_fn: .quad add_carry\n"
    "sub_borrow_fn: .quad sub_borrow\n"
    ".text\n");

int carry_after_call(uint64_t a, uint64_t b, void *fn);
int carry_after_jump(uint64_t a, uint64_t b);
int carry_through_slot(uint64_t a, uint64_t b);
extern void *add_carry_fn, *sub_borrow_fn;

int main(void) {
    static const uint64_t values[] = {0, 1, 5, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffffffeull, 0xffffffffffffffffull};
    const int n = sizeof values / sizeof values[0];
    /* Many rounds: a target reached often through the same exit is where
     * an indirect-branch cache would take over from the dispatcher. */
    unsigned long sums[4] = {0, 0, 0, 0};
    for (int round = 0; round < 2000; round++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                sums[0] += carry_after_call(values[i], values[j], add_carry_fn) << ((i * n + j) % 61);
                sums[1] += carry_after_call(values[i], values[j], sub_borrow_fn) << ((i * n + j) % 61);
                sums[2] += carry_after_jump(values[i], values[j]) << ((i * n + j) % 61);
                sums[3] += carry_through_slot(values[i], values[j]) << ((i * n + j) % 61);
            }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            printf("%d%d%d%d", carry_after_call(values[i], values[j], add_carry_fn),
                   carry_after_call(values[i], values[j], sub_borrow_fn), carry_after_jump(values[i], values[j]) != 0,
                   carry_through_slot(values[i], values[j]));
    printf("\nsums %lx %lx %lx %lx\n", sums[0], sums[1], sums[2], sums[3]);
    return 0;
}
