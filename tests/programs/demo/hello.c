//! args: Transit
/* The program `cargo xtask demo` runs: a greeting, some arithmetic and a
 * checksum, all printed, so the demo shows real x86_64 work being done. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int is_prime(unsigned n) {
    if (n < 2) return 0;
    for (unsigned d = 2; d * d <= n; d++)
        if (n % d == 0) return 0;
    return 1;
}

static uint32_t fnv1a(const char *text) {
    uint32_t hash = 2166136261u;
    for (; *text; text++) hash = (hash ^ (uint8_t)*text) * 16777619u;
    return hash;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "world";
    printf("Hello, %s! This is an x86_64 program.\n", name);

    int count = 0;
    printf("Primes below 100:");
    for (unsigned n = 2; n < 100; n++)
        if (is_prime(n)) {
            printf(" %u", n);
            count++;
        }
    printf("\nThat is %d primes.\n", count);

    uint64_t a = 0, b = 1;
    for (int i = 0; i < 90; i++) {
        uint64_t next = a + b;
        a = b;
        b = next;
    }
    printf("fib(90) = %llu\n", (unsigned long long)a);
    double root = 1.0;
    for (int i = 0; i < 6; i++) root = (root + 2.0 / root) / 2.0; /* Newton's method */
    printf("sqrt(2) ~ %.12f\n", root);
    printf("FNV-1a(\"%s\") = 0x%08x (%zu bytes)\n", name, fnv1a(name), strlen(name));
    return count == 25 ? 0 : 1;
}
