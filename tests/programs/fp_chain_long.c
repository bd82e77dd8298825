/* Long runs of scalar SSE arithmetic, as in nbody's inner loop: more
 * intermediate values than Transit's ten chain registers, so later links
 * reuse the registers of values no guest register holds any more
 * (emit::fp_chain). NaN inputs with payloads, at each position, check
 * that x86's NaN rules (the first NaN operand's payload, quieted) still
 * come out of the chain's recomputation. `longer` has more links than
 * one chain takes (32), so a chain ends and the next goes on. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static double chain(double a, double b, double c, double d, double e, double f)
{
    double t1 = a * b;
    double t2 = c * d;
    double t3 = t1 + t2;
    double t4 = e - f;
    double t5 = t4 * t4;
    double t6 = t3 + t5;
    double t7 = t6 * a;
    double t8 = t7 - b;
    double t9 = t8 * c;
    double t10 = t9 + d;
    double t11 = t10 * t10;
    double t12 = t11 - e;
    double t13 = t12 / (f + 3.0);
    double t14 = t13 + t1;
    double t15 = t14 * t2;
    double t16 = t15 - t4;
    return t16 + t6 * t12;
}

__attribute__((noinline)) static void vec(double *out, const double *in)
{
    /* Three accumulations kept apart, as a vector's components are. */
    double x = in[0], y = in[1], z = in[2];
    double xx = x * x, yy = y * y, zz = z * z;
    double d2 = xx + yy + zz;
    double s = d2 * in[3];
    out[0] = x * s - in[4];
    out[1] = y * s - in[5];
    out[2] = z * s + d2;
    out[3] = (out[0] + out[1]) * (out[2] - xx) / (yy + 1.0);
}

typedef double pair __attribute__((vector_size(16)));

/* About forty links, scalar and packed, with several values live at once. */
__attribute__((noinline)) static double longer(double a, double b, double c, double d, double e, double f)
{
    pair p = {a, b}, q = {c, d};
    double s1 = a * c, s2 = b - d, s3 = e / (f + 2.0);
    pair r = p * q;
    pair t = r + p;
    double s4 = s1 * s2 + s3;
    double s5 = s4 - t[0];
    double s6 = s5 * s5 + t[1];
    pair u = t - q;
    double s7 = s6 / (s1 + 4.0);
    double s8 = s7 * e - f;
    double s9 = s8 + s2 * s3;
    pair v = u * r;
    double s10 = s9 - v[0];
    double s11 = s10 * v[1];
    double s12 = s11 + s4 * s6;
    double s13 = s12 - s7 * s8;
    pair w = v + u;
    double s14 = s13 * w[0] + w[1];
    double s15 = s14 - s9 * s10;
    double s16 = s15 + s11 / (s2 * s2 + 1.0);
    double s17 = s16 * s12 - s13;
    double s18 = s17 + s14 * s5;
    return s18 + s15 * s16 - s1;
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

int main(void)
{
    const double special[] = {
        from_bits(0x7ff8000000000123ull), /* quiet NaN with a payload */
        from_bits(0xfff8000000000456ull), /* negative quiet NaN */
        from_bits(0x7ff0000000000789ull), /* signalling NaN */
        1.0 / 0.0,
        -1.0 / 0.0,
        0.0,
    };
    const int ns = sizeof special / sizeof special[0];
    double args[6] = {1.5, -2.25, 3.0, 0.5, 7.0, -1.0};
    printf("plain: %016llx\n", (unsigned long long)bits(chain(args[0], args[1], args[2], args[3], args[4], args[5])));
    printf("longer plain: %016llx\n", (unsigned long long)bits(longer(args[0], args[1], args[2], args[3], args[4], args[5])));
    for (int pos = 0; pos < 6; pos++) {
        for (int k = 0; k < ns; k++) {
            double a[6];
            memcpy(a, args, sizeof a);
            a[pos] = special[k];
            /* A second NaN elsewhere: which payload wins depends on the order. */
            double b[6];
            memcpy(b, a, sizeof b);
            b[(pos + 3) % 6] = special[(k + 1) % ns];
            printf("pos %d special %d: %016llx %016llx\n", pos, k,
                   (unsigned long long)bits(chain(a[0], a[1], a[2], a[3], a[4], a[5])),
                   (unsigned long long)bits(chain(b[0], b[1], b[2], b[3], b[4], b[5])));
            /* One special input only: with two NaNs, which one wins
             * depends on the compiler's operand order. */
            printf("longer pos %d special %d: %016llx\n", pos, k,
                   (unsigned long long)bits(longer(a[0], a[1], a[2], a[3], a[4], a[5])));
        }
    }
    for (int pos = 0; pos < 6; pos++) {
        for (int k = 0; k < ns; k++) {
            double in[6] = {0.25, -4.0, 2.5, 1.75, 0.125, -8.0}, out[4];
            in[pos] = special[k];
            vec(out, in);
            printf("vec pos %d special %d: %016llx %016llx %016llx %016llx\n", pos, k,
                   (unsigned long long)bits(out[0]), (unsigned long long)bits(out[1]),
                   (unsigned long long)bits(out[2]), (unsigned long long)bits(out[3]));
        }
    }
    return 0;
}
