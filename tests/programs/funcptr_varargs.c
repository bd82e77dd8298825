/* Indirect calls and the variadic ABI: tables of function pointers, a
 * vtable-style struct, callbacks through qsort, and va_list functions mixing
 * integer and floating arguments (the register save area and %al count). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef long (*binary_op)(long, long);
static long op_add(long a, long b) { return a + b; }
static long op_sub(long a, long b) { return a - b; }
static long op_mul(long a, long b) { return a * b; }
static long op_div(long a, long b) { return b ? a / b : 0; }
static long op_mod(long a, long b) { return b ? a % b : 0; }
static long op_max(long a, long b) { return a > b ? a : b; }
static const binary_op ops[] = {op_add, op_sub, op_mul, op_div, op_mod, op_max};
static const char *const op_names[] = {"add", "sub", "mul", "div", "mod", "max"};

struct shape_vtable {
    const char *name;
    double (*area)(const double *);
    double (*perimeter)(const double *);
};
static double rect_area(const double *d) { return d[0] * d[1]; }
static double rect_perimeter(const double *d) { return 2 * (d[0] + d[1]); }
static double tri_area(const double *d) { return d[0] * d[1] / 2; }
static double tri_perimeter(const double *d) { return d[0] + d[1] + d[2]; }
static const struct shape_vtable shapes[] = {
    {"rectangle", rect_area, rect_perimeter},
    {"triangle", tri_area, tri_perimeter},
};

/* Sums `count` arguments described by `kinds`: i = int, l = long, d = double. */
static double sum_mixed(const char *kinds, ...) {
    va_list args;
    va_start(args, kinds);
    double total = 0;
    for (const char *k = kinds; *k; k++) {
        switch (*k) {
        case 'i': total += va_arg(args, int); break;
        case 'l': total += (double)va_arg(args, long); break;
        case 'd': total += va_arg(args, double); break;
        }
    }
    va_end(args);
    return total;
}

static int format_into(char *buffer, size_t size, const char *format, ...) {
    va_list args, copy;
    va_start(args, format);
    va_copy(copy, args);
    int needed = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    int written = vsnprintf(buffer, size, format, args);
    va_end(args);
    return needed == written ? written : -1;
}

static long apply_all(long seed, binary_op const *table, size_t count, long (*combine)(long, long)) {
    long acc = seed;
    for (size_t i = 0; i < count; i++) acc = combine(acc, table[i](seed + (long)i, (long)i + 3));
    return acc;
}

static int compare_desc(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x < y) - (x > y);
}

int main(void) {
    static volatile long operands[] = {-17, 5, 1000000007, -3, 64, 0};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        for (size_t j = 0; j + 1 < sizeof operands / sizeof operands[0]; j++)
            printf("%s(%ld, %ld) = %ld\n", op_names[i], operands[j], operands[j + 1], ops[i](operands[j], operands[j + 1]));
    printf("apply_all = %ld\n", apply_all(11, ops, 6, op_add));

    const double dims[2][3] = {{3, 4.5, 0}, {3, 4, 5}};
    for (int i = 0; i < 2; i++)
        printf("%s: area %.3f perimeter %.3f\n", shapes[i].name, shapes[i].area(dims[i]), shapes[i].perimeter(dims[i]));

    printf("sum_mixed = %.4f\n", sum_mixed("idldidldddiiiddd", 1, 2.5, 3L, 4.25, 5, -6.5, 7L, 8.0, 9.5, 10.125, 11, 12, 13,
                                          14.0, 15.5, 16.75));
    printf("sum_mixed(20 doubles) = %.4f\n", sum_mixed("dddddddddddddddddddd", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0,
                                                       10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.5));
    char buffer[64];
    int n = format_into(buffer, sizeof buffer, "%d|%s|%.2f|%c|%lx", -42, "text", 2.0 / 3, 'Z', 0xfeedUL);
    printf("format_into: %d \"%s\"\n", n, buffer);

    long values[12];
    for (int i = 0; i < 12; i++) values[i] = (i * 7919L) % 23 - 11;
    qsort(values, 12, sizeof values[0], compare_desc);
    printf("sorted descending:");
    for (int i = 0; i < 12; i++) printf(" %ld", values[i]);
    printf("\n");
    int (*volatile cmp)(const char *, const char *) = strcmp;
    printf("strcmp through a pointer: %d\n", cmp("abc", "abd") < 0);
    return 0;
}
