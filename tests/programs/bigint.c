/* Arbitrary precision with base-10^9 limbs: 2^1000, 100!, the first
 * Fibonacci number with 1000 digits, and a digit sum of each (known answers
 * 1366, 648 and index 4782 decide the exit status). Multiplication and
 * division by constants compile to multiply-high sequences. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LIMBS 160
#define BASE 1000000000u

struct big {
    uint32_t limb[LIMBS]; /* little-endian, base 10^9 */
    int used;
};

static void set_small(struct big *b, uint32_t value) {
    memset(b, 0, sizeof *b);
    b->limb[0] = value;
    b->used = 1;
}

static void multiply_small(struct big *b, uint32_t factor) {
    uint64_t carry = 0;
    for (int i = 0; i < b->used; i++) {
        uint64_t product = (uint64_t)b->limb[i] * factor + carry;
        b->limb[i] = (uint32_t)(product % BASE);
        carry = product / BASE;
    }
    while (carry) {
        b->limb[b->used++] = (uint32_t)(carry % BASE);
        carry /= BASE;
    }
}

static void add(struct big *sum, const struct big *a, const struct big *b) {
    uint32_t carry = 0;
    int used = a->used > b->used ? a->used : b->used;
    for (int i = 0; i < used; i++) {
        uint32_t s = a->limb[i] + b->limb[i] + carry;
        carry = s >= BASE;
        sum->limb[i] = s - (carry ? BASE : 0);
    }
    sum->used = used;
    if (carry) sum->limb[sum->used++] = 1;
}

static int digit_sum(const struct big *b) {
    int sum = 0;
    for (int i = 0; i < b->used; i++)
        for (uint32_t v = b->limb[i]; v; v /= 10) sum += (int)(v % 10);
    return sum;
}

static int digit_count(const struct big *b) {
    int digits = (b->used - 1) * 9;
    for (uint32_t v = b->limb[b->used - 1]; v; v /= 10) digits++;
    return digits;
}

static void print(const char *label, const struct big *b) {
    printf("%s", label);
    printf("%u", b->limb[b->used - 1]);
    for (int i = b->used - 2; i >= 0; i--) printf("%09u", b->limb[i]);
    printf("\n");
}

int main(void) {
    struct big power;
    set_small(&power, 1);
    for (int i = 0; i < 1000; i++) multiply_small(&power, 2);
    print("2^1000 = ", &power);
    int power_sum = digit_sum(&power);
    printf("digits %d, digit sum %d\n", digit_count(&power), power_sum);

    struct big factorial;
    set_small(&factorial, 1);
    for (uint32_t n = 2; n <= 100; n++) multiply_small(&factorial, n);
    print("100! = ", &factorial);
    int factorial_sum = digit_sum(&factorial);
    printf("digits %d, digit sum %d\n", digit_count(&factorial), factorial_sum);

    static struct big fib[3]; /* F(n-2), F(n-1), F(n) in rotation */
    set_small(&fib[1], 1);
    set_small(&fib[2], 1);
    int index = 2;
    while (digit_count(&fib[index % 3]) < 1000) {
        index++;
        add(&fib[index % 3], &fib[(index - 1) % 3], &fib[(index - 2) % 3]);
    }
    printf("first Fibonacci number with 1000 digits: F(%d), digit sum %d\n", index, digit_sum(&fib[index % 3]));
    return power_sum == 1366 && factorial_sum == 648 && index == 4782 ? 0 : 1;
}
