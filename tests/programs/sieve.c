/* Primes: a byte sieve of Eratosthenes to two million and a bit-packed odd-
 * only sieve to one million, with counts and sums checked against known
 * values (the exit status says whether they matched), twin primes, and
 * prime gaps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 2000000

int main(void) {
    unsigned char *composite = calloc(LIMIT + 1, 1);
    if (!composite) return 2;
    for (uint64_t p = 2; p * p <= LIMIT; p++)
        if (!composite[p])
            for (uint64_t m = p * p; m <= LIMIT; m += p) composite[m] = 1;
    unsigned long count = 0, twins = 0, largest_gap = 0, gap_start = 0, previous = 0;
    uint64_t sum = 0;
    for (unsigned long n = 2; n <= LIMIT; n++) {
        if (composite[n]) continue;
        count++;
        sum += n;
        if (previous && n - previous == 2) twins++;
        if (previous && n - previous > largest_gap) {
            largest_gap = n - previous;
            gap_start = previous;
        }
        previous = n;
    }
    printf("primes up to %d: %lu, sum %llu, twin pairs %lu\n", LIMIT, count, (unsigned long long)sum, twins);
    printf("largest gap %lu after %lu, largest prime %lu\n", largest_gap, gap_start, previous);
    printf("last ten:");
    unsigned shown = 0;
    for (unsigned long n = LIMIT; shown < 10; n--)
        if (!composite[n]) {
            printf(" %lu", n);
            shown++;
        }
    printf("\n");

    /* Bit-packed, odd numbers only: bit i stands for 2i+3. */
    const unsigned long bit_limit = 1000000, bits = (bit_limit - 1) / 2;
    uint64_t *odd_composite = calloc(bits / 64 + 1, sizeof(uint64_t));
    if (!odd_composite) return 2;
    for (unsigned long i = 0; (2 * i + 3) * (2 * i + 3) <= bit_limit; i++)
        if (!(odd_composite[i / 64] >> (i % 64) & 1))
            for (unsigned long m = ((2 * i + 3) * (2 * i + 3) - 3) / 2; m < bits; m += 2 * i + 3)
                odd_composite[m / 64] |= 1ull << (m % 64);
    unsigned long bit_count = 1; /* 2 */
    for (unsigned long i = 0; i < bits; i++) bit_count += !(odd_composite[i / 64] >> (i % 64) & 1);
    unsigned long agree = 1;
    for (unsigned long n = 3; n < bit_limit; n += 2)
        agree &= (unsigned long)(composite[n] == (odd_composite[(n - 3) / 2 / 64] >> ((n - 3) / 2 % 64) & 1));
    printf("primes below %lu (bit sieve): %lu, sieves agree: %s\n", bit_limit, bit_count, agree ? "yes" : "no");

    free(composite);
    free(odd_composite);
    int known = count == 148933 && sum == 142913828922ull && bit_count == 78498 && agree;
    printf("matches known values: %s\n", known ? "yes" : "no");
    return known ? 0 : 1;
}
