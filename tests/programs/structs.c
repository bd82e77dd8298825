/* Aggregates and the x86_64 calling convention: structs passed and
 * returned by value in registers (RAX:RDX, XMM0:XMM1, mixed) and in memory
 * (large copies), arrays of structs, unions for type punning, bitfields
 * with signed members, packed structs with unaligned members, flexible
 * array members, compound literals and designated initializers. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pair { int a, b; };                       /* returned in RAX */
struct wide { long a, b; };                      /* RAX:RDX */
struct vec2 { double x, y; };                    /* XMM0:XMM1 */
struct quad { float x, y, z, w; };               /* XMM0:XMM1, two floats each */
struct mixed { long id; double weight; };        /* RAX and XMM0 */
struct big { long values[32]; char tag[16]; };   /* memory, hidden pointer */

__attribute__((noinline)) static struct pair make_pair(int a, int b) { return (struct pair){a * 2, b - a}; }
__attribute__((noinline)) static struct wide widen(struct pair p) { return (struct wide){(long)p.a << 40, (long)p.b * -3}; }
__attribute__((noinline)) static struct vec2 rotate(struct vec2 v) { return (struct vec2){-v.y, v.x * 1.5}; }
__attribute__((noinline)) static struct quad scale(struct quad q, float s) { return (struct quad){q.x * s, q.y + s, q.z - s, q.w / s}; }
__attribute__((noinline)) static struct mixed reweigh(struct mixed m, int times) {
    for (int i = 0; i < times; i++) m = (struct mixed){m.id * 3 + 1, m.weight * 0.5 + (double)m.id};
    return m;
}
__attribute__((noinline)) static struct big fill_big(struct big b, long seed) {
    for (int i = 0; i < 32; i++) b.values[i] += seed * i;
    snprintf(b.tag, sizeof b.tag, "seed-%ld", seed);
    return b;
}
__attribute__((noinline)) static long sum_big(const struct big b) {
    long sum = 0;
    for (int i = 0; i < 32; i++) sum += b.values[i];
    return sum + (long)strlen(b.tag);
}
/* More arguments than registers: the rest go on the stack. */
__attribute__((noinline)) static double many_arguments(int a, double b, long c, float d, struct vec2 e, int f, double g, long h,
                                                       struct pair i, double j, double k, double l, double m, double n, int o,
                                                       struct wide p, double q) {
    return a + b + (double)c + d + e.x + e.y + f + g + (double)h + i.a + i.b + j + k + l + m + n + o + (double)p.a + (double)p.b + q;
}

union bits {
    double d;
    uint64_t u;
    float f[2];
    unsigned char bytes[8];
};

struct flags {
    unsigned ready : 1;
    signed level : 4;
    unsigned mode : 3;
    unsigned : 0;
    unsigned long big : 40;
    signed small : 7;
};

struct __attribute__((packed)) packed {
    char c;
    uint32_t u32;
    uint16_t u16;
    uint64_t u64;
    double d;
};

struct message {
    size_t length;
    char text[];
};

int main(void) {
    struct pair p = make_pair(21, 5);
    struct wide w = widen(p);
    printf("pair %d %d, wide %ld %ld\n", p.a, p.b, w.a, w.b);
    struct vec2 v = {1.25, -2.5};
    for (int i = 0; i < 3; i++) v = rotate(v);
    printf("vec2 %.4f %.4f\n", v.x, v.y);
    struct quad q = scale((struct quad){1, 2, 3, 4}, 0.5f);
    printf("quad %.3f %.3f %.3f %.3f\n", q.x, q.y, q.z, q.w);
    struct mixed m = reweigh((struct mixed){7, 2.0}, 5);
    printf("mixed %ld %.6f\n", m.id, m.weight);

    struct big b = {{0}, "start"};
    for (int i = 0; i < 32; i++) b.values[i] = i * i;
    struct big copy = b;
    b = fill_big(b, 1000);
    printf("big: sum %ld tag %s, copy unchanged: sum %ld tag %s\n", sum_big(b), b.tag, sum_big(copy), copy.tag);
    struct big array[4];
    for (int i = 0; i < 4; i++) array[i] = fill_big(copy, i);
    struct big swap = array[0];
    array[0] = array[3];
    array[3] = swap;
    printf("array of big: %ld %ld %s %s\n", sum_big(array[0]), sum_big(array[3]), array[0].tag, array[3].tag);

    printf("many arguments: %.4f\n", many_arguments(1, 2.5, 3, 4.5f, (struct vec2){5, 6}, 7, 8.25, 9, (struct pair){10, 11}, 12, 13, 14,
                                                      15, 16, 17, (struct wide){18, 19}, 20.125));

    union bits u = {.d = -1.5};
    printf("union: %016llx bytes %02x %02x float halves %a %a\n", (unsigned long long)u.u, u.bytes[0], u.bytes[7], (double)u.f[0],
           (double)u.f[1]);
    u.u = 0x400921fb54442d18ull;
    printf("union pun: %.15f\n", u.d);

    struct flags f = {.ready = 1, .level = -3, .mode = 5, .big = 0xabcdef1234ul, .small = -60};
    for (int i = 0; i < 5; i++) {
        f.level = (signed)(f.level + 3);
        f.mode = (unsigned)(f.mode + 3);
        f.big = f.big * 3 + 1;
        f.small = (signed)(f.small - 17);
        printf("flags: ready %u level %d mode %u big %lx small %d\n", f.ready, f.level, f.mode, (unsigned long)f.big, f.small);
    }
    printf("sizeof flags %zu, packed %zu, offsetof packed.u64 %zu\n", sizeof(struct flags), sizeof(struct packed),
           offsetof(struct packed, u64));

    struct packed packed_array[3];
    for (int i = 0; i < 3; i++)
        packed_array[i] = (struct packed){(char)('x' + i), 0x01020304u * (uint32_t)(i + 1), (uint16_t)(0xbeef + i),
                                          0x1122334455667788ull << i, 1.0 / (i + 3)};
    uint64_t packed_sum = 0;
    for (int i = 0; i < 3; i++)
        packed_sum += (uint64_t)packed_array[i].c + packed_array[i].u32 + packed_array[i].u16 + packed_array[i].u64 +
                      (uint64_t)(packed_array[i].d * 1e6);
    printf("packed sum %016llx\n", (unsigned long long)packed_sum);

    const char *text = "flexible array member";
    struct message *msg = malloc(sizeof *msg + strlen(text) + 1);
    msg->length = strlen(text);
    memcpy(msg->text, text, msg->length + 1);
    printf("message %zu \"%s\"\n", msg->length, msg->text);
    free(msg);

    int matrix[3][4] = {[0] = {1, 2, 3, 4}, [2][1] = 9, [1] = {[3] = 7}};
    int total = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) total += matrix[i][j] * (i + 1) * (j + 1);
    printf("designated matrix total %d, compound literal %d\n", total, ((int[]){5, 6, 7})[2] + ((struct pair){.b = 4}).b);
    return 0;
}
