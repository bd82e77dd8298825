/* A small stack machine interpreting bytecode programs (factorial, gcd,
 * Collatz lengths, prime counting, nested calls), run by two dispatchers:
 * a switch in a loop and direct threading with computed goto. Both must
 * agree; the instruction counts are printed too. */
#include <stdint.h>
#include <stdio.h>

enum op { PUSH, POP, DUP, OVER, SWAP, ADD, SUB, MUL, DIV, MOD, LT, EQ, JMP, JZ, LOAD, STORE, CALL, RET, PRINT, HALT };

struct vm {
    int64_t stack[256];
    int64_t locals[16];
    int sp, rsp;
    int returns[64];
    uint64_t executed;
    int64_t printed[32];
    int printed_count;
};

static int64_t run_switch(const int64_t *code, struct vm *vm) {
    int pc = 0;
    for (;;) {
        vm->executed++;
        switch ((enum op)code[pc++]) {
        case PUSH: vm->stack[vm->sp++] = code[pc++]; break;
        case POP: vm->sp--; break;
        case DUP: vm->stack[vm->sp] = vm->stack[vm->sp - 1]; vm->sp++; break;
        case OVER: vm->stack[vm->sp] = vm->stack[vm->sp - 2]; vm->sp++; break;
        case SWAP: { int64_t t = vm->stack[vm->sp - 1]; vm->stack[vm->sp - 1] = vm->stack[vm->sp - 2]; vm->stack[vm->sp - 2] = t; break; }
        case ADD: vm->sp--; vm->stack[vm->sp - 1] += vm->stack[vm->sp]; break;
        case SUB: vm->sp--; vm->stack[vm->sp - 1] -= vm->stack[vm->sp]; break;
        case MUL: vm->sp--; vm->stack[vm->sp - 1] *= vm->stack[vm->sp]; break;
        case DIV: vm->sp--; vm->stack[vm->sp - 1] /= vm->stack[vm->sp]; break;
        case MOD: vm->sp--; vm->stack[vm->sp - 1] %= vm->stack[vm->sp]; break;
        case LT: vm->sp--; vm->stack[vm->sp - 1] = vm->stack[vm->sp - 1] < vm->stack[vm->sp]; break;
        case EQ: vm->sp--; vm->stack[vm->sp - 1] = vm->stack[vm->sp - 1] == vm->stack[vm->sp]; break;
        case JMP: pc = (int)code[pc]; break;
        case JZ: pc = vm->stack[--vm->sp] ? pc + 1 : (int)code[pc]; break;
        case LOAD: vm->stack[vm->sp++] = vm->locals[code[pc++]]; break;
        case STORE: vm->locals[code[pc++]] = vm->stack[--vm->sp]; break;
        case CALL: vm->returns[vm->rsp++] = pc + 1; pc = (int)code[pc]; break;
        case RET: pc = vm->returns[--vm->rsp]; break;
        case PRINT: vm->printed[vm->printed_count++ % 32] = vm->stack[--vm->sp]; break;
        case HALT: return vm->sp ? vm->stack[vm->sp - 1] : 0;
        }
    }
}

static int64_t run_threaded(const int64_t *code, struct vm *vm) {
    static void *const labels[] = {&&op_push, &&op_pop, &&op_dup, &&op_over, &&op_swap, &&op_add, &&op_sub,
                                   &&op_mul, &&op_div, &&op_mod, &&op_lt, &&op_eq, &&op_jmp, &&op_jz, &&op_load,
                                   &&op_store, &&op_call, &&op_ret, &&op_print, &&op_halt};
    int pc = 0;
#define NEXT do { vm->executed++; goto *labels[code[pc++]]; } while (0)
    NEXT;
op_push: vm->stack[vm->sp++] = code[pc++]; NEXT;
op_pop: vm->sp--; NEXT;
op_dup: vm->stack[vm->sp] = vm->stack[vm->sp - 1]; vm->sp++; NEXT;
op_over: vm->stack[vm->sp] = vm->stack[vm->sp - 2]; vm->sp++; NEXT;
op_swap: { int64_t t = vm->stack[vm->sp - 1]; vm->stack[vm->sp - 1] = vm->stack[vm->sp - 2]; vm->stack[vm->sp - 2] = t; } NEXT;
op_add: vm->sp--; vm->stack[vm->sp - 1] += vm->stack[vm->sp]; NEXT;
op_sub: vm->sp--; vm->stack[vm->sp - 1] -= vm->stack[vm->sp]; NEXT;
op_mul: vm->sp--; vm->stack[vm->sp - 1] *= vm->stack[vm->sp]; NEXT;
op_div: vm->sp--; vm->stack[vm->sp - 1] /= vm->stack[vm->sp]; NEXT;
op_mod: vm->sp--; vm->stack[vm->sp - 1] %= vm->stack[vm->sp]; NEXT;
op_lt: vm->sp--; vm->stack[vm->sp - 1] = vm->stack[vm->sp - 1] < vm->stack[vm->sp]; NEXT;
op_eq: vm->sp--; vm->stack[vm->sp - 1] = vm->stack[vm->sp - 1] == vm->stack[vm->sp]; NEXT;
op_jmp: pc = (int)code[pc]; NEXT;
op_jz: pc = vm->stack[--vm->sp] ? pc + 1 : (int)code[pc]; NEXT;
op_load: vm->stack[vm->sp++] = vm->locals[code[pc++]]; NEXT;
op_store: vm->locals[code[pc++]] = vm->stack[--vm->sp]; NEXT;
op_call: vm->returns[vm->rsp++] = pc + 1; pc = (int)code[pc]; NEXT;
op_ret: pc = vm->returns[--vm->rsp]; NEXT;
op_print: vm->printed[vm->printed_count++ % 32] = vm->stack[--vm->sp]; NEXT;
op_halt: return vm->sp ? vm->stack[vm->sp - 1] : 0;
#undef NEXT
}

/* Programs are assembled at run time, with labels resolved in a second pass. */
struct assembler {
    int64_t code[512];
    int size;
    int labels[16];
    int fixups[64][2]; /* code index, label */
    int fixup_count;
};

static void emit(struct assembler *a, int64_t word) { a->code[a->size++] = word; }
static void op(struct assembler *a, enum op o) { emit(a, o); }
static void op_arg(struct assembler *a, enum op o, int64_t argument) { emit(a, o); emit(a, argument); }
static void op_label(struct assembler *a, enum op o, int label) {
    emit(a, o);
    a->fixups[a->fixup_count][0] = a->size;
    a->fixups[a->fixup_count++][1] = label;
    emit(a, -1);
}
static void place(struct assembler *a, int label) { a->labels[label] = a->size; }
static const int64_t *finish(struct assembler *a) {
    for (int i = 0; i < a->fixup_count; i++) a->code[a->fixups[i][0]] = a->labels[a->fixups[i][1]];
    return a->code;
}

/* acc = 1; n = 20; while (n) { acc *= n; n -= 1; } */
static const int64_t *factorial(struct assembler *a) {
    enum { LOOP, DONE };
    op_arg(a, PUSH, 1); op_arg(a, STORE, 0); op_arg(a, PUSH, 20); op_arg(a, STORE, 1);
    place(a, LOOP);
    op_arg(a, LOAD, 1); op_label(a, JZ, DONE);
    op_arg(a, LOAD, 0); op_arg(a, LOAD, 1); op(a, MUL); op_arg(a, STORE, 0);
    op_arg(a, LOAD, 1); op_arg(a, PUSH, 1); op(a, SUB); op_arg(a, STORE, 1);
    op_label(a, JMP, LOOP);
    place(a, DONE);
    op_arg(a, LOAD, 0); op(a, HALT);
    return finish(a);
}

/* Prints gcd(a, b) for three pairs through a subroutine; leaves their sum. */
static const int64_t *gcd(struct assembler *a) {
    enum { GCD, GCD_LOOP, GCD_DONE };
    static const int64_t pairs[3][2] = {{1071, 462}, {832040, 514229}, {1u << 30, 3u << 20}};
    op_arg(a, PUSH, 0); op_arg(a, STORE, 0);
    for (int i = 0; i < 3; i++) {
        op_arg(a, PUSH, pairs[i][0]); op_arg(a, PUSH, pairs[i][1]); op_label(a, CALL, GCD);
        op(a, DUP); op(a, PRINT); op_arg(a, LOAD, 0); op(a, ADD); op_arg(a, STORE, 0);
    }
    op_arg(a, LOAD, 0); op(a, HALT);
    place(a, GCD); /* ( a b -- gcd ) */
    place(a, GCD_LOOP);
    op(a, DUP); op_label(a, JZ, GCD_DONE);
    op(a, SWAP); op(a, OVER); op(a, MOD); op_label(a, JMP, GCD_LOOP);
    place(a, GCD_DONE);
    op(a, POP); op(a, RET);
    return finish(a);
}

/* The start below 3000 with the longest Collatz chain, and its length. */
static const int64_t *collatz(struct assembler *a) {
    enum { OUTER, INNER, EVEN, STEP_DONE, CHAIN_DONE, NOT_LONGER, END };
    op_arg(a, PUSH, 0); op_arg(a, STORE, 2); /* best length */
    op_arg(a, PUSH, 0); op_arg(a, STORE, 3); /* best start */
    op_arg(a, PUSH, 1); op_arg(a, STORE, 0); /* start */
    place(a, OUTER);
    op_arg(a, LOAD, 0); op_arg(a, PUSH, 3000); op(a, LT); op_label(a, JZ, END);
    op_arg(a, LOAD, 0); op_arg(a, STORE, 1); op_arg(a, PUSH, 0); op_arg(a, STORE, 4);
    place(a, INNER);
    op_arg(a, LOAD, 1); op_arg(a, PUSH, 1); op(a, EQ); op_label(a, JZ, EVEN);
    op_label(a, JMP, CHAIN_DONE);
    place(a, EVEN);
    op_arg(a, LOAD, 4); op_arg(a, PUSH, 1); op(a, ADD); op_arg(a, STORE, 4);
    op_arg(a, LOAD, 1); op_arg(a, PUSH, 2); op(a, MOD); op_label(a, JZ, STEP_DONE);
    op_arg(a, LOAD, 1); op_arg(a, PUSH, 3); op(a, MUL); op_arg(a, PUSH, 1); op(a, ADD); op_arg(a, STORE, 1);
    op_label(a, JMP, INNER);
    place(a, STEP_DONE);
    op_arg(a, LOAD, 1); op_arg(a, PUSH, 2); op(a, DIV); op_arg(a, STORE, 1);
    op_label(a, JMP, INNER);
    place(a, CHAIN_DONE);
    op_arg(a, LOAD, 2); op_arg(a, LOAD, 4); op(a, LT); op_label(a, JZ, NOT_LONGER);
    op_arg(a, LOAD, 4); op_arg(a, STORE, 2); op_arg(a, LOAD, 0); op_arg(a, STORE, 3);
    place(a, NOT_LONGER);
    op_arg(a, LOAD, 0); op_arg(a, PUSH, 1); op(a, ADD); op_arg(a, STORE, 0);
    op_label(a, JMP, OUTER);
    place(a, END);
    op_arg(a, LOAD, 2); op(a, PRINT); op_arg(a, LOAD, 3); op(a, HALT);
    return finish(a);
}

/* fib(20) by naive recursion through CALL/RET. */
static const int64_t *fibonacci(struct assembler *a) {
    enum { FIB, RECURSE };
    op_arg(a, PUSH, 20); op_label(a, CALL, FIB); op(a, HALT);
    place(a, FIB); /* ( n -- fib(n) ) */
    op(a, DUP); op_arg(a, PUSH, 2); op(a, LT); op_label(a, JZ, RECURSE); op(a, RET);
    place(a, RECURSE);
    op(a, DUP); op_arg(a, PUSH, 1); op(a, SUB); op_label(a, CALL, FIB);
    op(a, SWAP); op_arg(a, PUSH, 2); op(a, SUB); op_label(a, CALL, FIB);
    op(a, ADD); op(a, RET);
    return finish(a);
}

static int64_t run(const int64_t *code, int threaded, struct vm *vm) {
    *vm = (struct vm){0};
    return threaded ? run_threaded(code, vm) : run_switch(code, vm);
}

static int64_t native_collatz(int64_t *best_length) {
    int64_t best = 0, best_start = 0;
    for (int64_t start = 1; start < 3000; start++) {
        int64_t n = start, length = 0;
        while (n != 1) {
            length++;
            n = n % 2 ? 3 * n + 1 : n / 2;
        }
        if (length > best) {
            best = length;
            best_start = start;
        }
    }
    *best_length = best;
    return best_start;
}

int main(void) {
    static const char *const names[] = {"factorial(20)", "gcd x3", "collatz<3000", "fib(20)"};
    const int64_t *(*const builders[])(struct assembler *) = {factorial, gcd, collatz, fibonacci};
    int64_t best_length;
    const int64_t expected[] = {2432902008176640000LL, 21 + 1 + (1 << 20), native_collatz(&best_length), 6765};
    int mismatches = 0;
    for (int p = 0; p < 4; p++) {
        static struct assembler assembler;
        assembler = (struct assembler){0};
        const int64_t *code = builders[p](&assembler);
        static struct vm vm;
        int64_t results[2];
        uint64_t executed[2];
        for (int threaded = 0; threaded < 2; threaded++) {
            results[threaded] = run(code, threaded, &vm);
            executed[threaded] = vm.executed;
        }
        printf("%-14s %d words: switch %lld (%llu ops), threaded %lld (%llu ops), printed", names[p], assembler.size,
               (long long)results[0], (unsigned long long)executed[0], (long long)results[1], (unsigned long long)executed[1]);
        for (int i = 0; i < vm.printed_count && i < 32; i++) printf(" %lld", (long long)vm.printed[i]);
        int ok = results[0] == expected[p] && results[1] == expected[p] && executed[0] == executed[1];
        printf(" -> %s\n", ok ? "ok" : "MISMATCH");
        mismatches += !ok;
    }
    printf("native collatz: longest chain %lld steps\n", (long long)best_length);
    return mismatches;
}
