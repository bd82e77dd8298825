/* Dense linear algebra in doubles and integers: matrix multiplication
 * (naive and blocked, which -O2 vectorizes differently, must agree
 * exactly), Gaussian elimination with partial pivoting for a determinant
 * and a solve, and Fibonacci numbers by integer matrix powers modulo a
 * prime. No fused multiply-add exists in baseline x86-64, so results are
 * exact to the bit on every run. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 48

static double a[N][N], b[N][N], c[N][N], d[N][N];

static void multiply_naive(double (*x)[N], double (*y)[N], double (*out)[N]) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double sum = 0;
            for (int k = 0; k < N; k++) sum += x[i][k] * y[k][j];
            out[i][j] = sum;
        }
}

/* Same additions in the same order per element, just a different loop nest. */
static void multiply_ikj(double (*x)[N], double (*y)[N], double (*out)[N]) {
    memset(out, 0, sizeof(double) * N * N);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            double xik = x[i][k];
            for (int j = 0; j < N; j++) out[i][j] += xik * y[k][j];
        }
}

static double determinant(double (*m)[N], int n) {
    static double work[N][N];
    memcpy(work, m, sizeof work);
    double det = 1;
    for (int col = 0; col < n; col++) {
        int pivot = col;
        for (int r = col + 1; r < n; r++)
            if (fabs(work[r][col]) > fabs(work[pivot][col])) pivot = r;
        if (work[pivot][col] == 0) return 0;
        if (pivot != col) {
            for (int k = 0; k < n; k++) {
                double t = work[col][k];
                work[col][k] = work[pivot][k];
                work[pivot][k] = t;
            }
            det = -det;
        }
        det *= work[col][col];
        for (int r = col + 1; r < n; r++) {
            double factor = work[r][col] / work[col][col];
            for (int k = col; k < n; k++) work[r][k] -= factor * work[col][k];
        }
    }
    return det;
}

static void solve(double (*m)[N], const double *rhs, double *x) {
    static double aug[N][N + 1];
    for (int i = 0; i < N; i++) {
        memcpy(aug[i], m[i], sizeof m[i]);
        aug[i][N] = rhs[i];
    }
    for (int col = 0; col < N; col++) {
        int pivot = col;
        for (int r = col + 1; r < N; r++)
            if (fabs(aug[r][col]) > fabs(aug[pivot][col])) pivot = r;
        for (int k = 0; k <= N; k++) {
            double t = aug[col][k];
            aug[col][k] = aug[pivot][k];
            aug[pivot][k] = t;
        }
        for (int r = 0; r < N; r++) {
            if (r == col) continue;
            double factor = aug[r][col] / aug[col][col];
            for (int k = col; k <= N; k++) aug[r][k] -= factor * aug[col][k];
        }
    }
    for (int i = 0; i < N; i++) x[i] = aug[i][N] / aug[i][i];
}

typedef struct {
    uint64_t m[2][2];
} mat2;

static mat2 mat2_multiply(mat2 x, mat2 y, uint64_t mod) {
    mat2 r;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) r.m[i][j] = (x.m[i][0] * y.m[0][j] % mod + x.m[i][1] * y.m[1][j] % mod) % mod;
    return r;
}

static uint64_t fibonacci_mod(uint64_t n, uint64_t mod) {
    mat2 result = {{{1, 0}, {0, 1}}}, base = {{{1, 1}, {1, 0}}};
    for (; n; n >>= 1) {
        if (n & 1) result = mat2_multiply(result, base, mod);
        base = mat2_multiply(base, base, mod);
    }
    return result.m[0][1];
}

int main(void) {
    uint32_t seed = 7;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            seed = seed * 1103515245u + 12345u;
            a[i][j] = (double)((int)(seed >> 16) % 2001 - 1000) / 100.0;
            seed = seed * 1103515245u + 12345u;
            b[i][j] = (double)((int)(seed >> 16) % 201 - 100) / 7.0 + (i == j ? 50 : 0);
        }
    multiply_naive(a, b, c);
    multiply_ikj(a, b, d);
    int same = memcmp(c, d, sizeof c) == 0;
    double trace = 0, norm = 0;
    for (int i = 0; i < N; i++) {
        trace += c[i][i];
        for (int j = 0; j < N; j++) norm += c[i][j] * c[i][j];
    }
    printf("product: trace %.17g frobenius %.17g, loop orders agree bit for bit: %s\n", trace, sqrt(norm), same ? "yes" : "no");
    printf("c[0][0] %a c[17][31] %a c[47][47] %a\n", c[0][0], c[17][31], c[N - 1][N - 1]);
    printf("det(b) %.17g, det(b[0..8]) %.17g\n", determinant(b, N), determinant(b, 8));

    double rhs[N], x[N];
    for (int i = 0; i < N; i++) rhs[i] = i % 5 - 2.0;
    solve(b, rhs, x);
    double residual = 0;
    for (int i = 0; i < N; i++) {
        double row = 0;
        for (int j = 0; j < N; j++) row += b[i][j] * x[j];
        residual = fmax(residual, fabs(row - rhs[i]));
    }
    printf("solve: x[0] %.17g x[47] %.17g, residual below 1e-9: %s (%a)\n", x[0], x[N - 1], residual < 1e-9 ? "yes" : "no", residual);

    const uint64_t prime = 1000000007;
    for (uint64_t n = 10; n <= 10000000000000000000ull / 10; n *= 1000) printf("fib(%llu) mod p = %llu\n", (unsigned long long)n,
                                                                             (unsigned long long)fibonacci_mod(n, prime));
    return same ? 0 : 1;
}
