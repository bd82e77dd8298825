//! stdin: 12 -7 0x1f 017 3.25 -1e-3 word
//! stdin: 100000 2.5e10 1e400 done
//! stdin: 
//! stdin: remaining line with spaces
/* Parsing numbers: sscanf and scanf (from standard input) with integer,
 * floating, string, scanset and %n conversions; the strto* family with
 * bases, end pointers and ERANGE. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parse_long(const char *text, int base) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, base);
    int range = errno == ERANGE;
    errno = 0;
    unsigned long long uvalue = strtoull(text, NULL, base);
    printf("strtol(\"%s\", %d) = %ld, consumed %ld, erange %d; strtoull = %llu, erange %d\n", text, base, value,
           (long)(end - text), range, uvalue, errno == ERANGE);
}

static void parse_double(const char *text) {
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    int range = errno == ERANGE;
    float single = strtof(text, NULL);
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    printf("strtod(\"%s\") = %.17g (%016" PRIx64 "), consumed %ld, erange %d; strtof = %.9g\n", text, value, bits,
           (long)(end - text), range, (double)single);
}

int main(void) {
    int i1, i2, i3, consumed;
    unsigned u;
    double d;
    char word[16], set[16];
    int n = sscanf("  -123 0x7fff 0755 2.5e-3 hello!", "%d %i %o %lf %15s", &i1, &i2, &i3, &d, word);
    printf("sscanf 1: %d fields: %d %d %d %g \"%s\"\n", n, i1, i2, i3, d, word);
    n = sscanf("key=value;rest", "%15[a-z]=%15[^;];%n", word, set, &consumed);
    printf("sscanf 2: %d fields: \"%s\" \"%s\" consumed %d\n", n, word, set, consumed);
    n = sscanf("42 skipped 43", "%d %*s %u", &i1, &u);
    printf("sscanf 3: %d fields: %d %u\n", n, i1, u);
    n = sscanf("abc", "%d", &i1);
    printf("sscanf 4 (no digits): %d\n", n);
    n = sscanf("", "%d", &i1);
    printf("sscanf 5 (empty): %d\n", n);
    n = sscanf("12345678", "%3d%2d%d", &i1, &i2, &i3);
    printf("sscanf 6 (widths): %d fields: %d %d %d\n", n, i1, i2, i3);
    char c1, c2;
    n = sscanf("x y", "%c %c", &c1, &c2);
    printf("sscanf 7 (chars): %d fields: %c %c\n", n, c1, c2);
    long long big;
    short small;
    unsigned char tiny;
    n = sscanf("-9223372036854775807 -32768 200", "%lld %hd %hhu", &big, &small, &tiny);
    printf("sscanf 8 (sizes): %d fields: %lld %d %u\n", n, big, small, tiny);
    float f;
    n = sscanf("inf -nan 0x1.8p1", "%lf %f %lf", &d, &f, &d);
    printf("sscanf 9 (special floats): %d fields, last %g\n", n, d);

    static const char *integers[][2] = {{"0", "10"}, {"-2147483649", "10"}, {"9223372036854775807", "10"},
                                        {"9223372036854775808", "10"}, {"0x7fffFFFF", "16"}, {"0x1A", "0"},
                                        {"0777", "0"}, {"  +42abc", "10"}, {"zz", "36"}, {"101102", "2"},
                                        {"-1", "10"}, {"18446744073709551616", "10"}, {"", "10"}};
    for (unsigned k = 0; k < sizeof integers / sizeof integers[0]; k++) parse_long(integers[k][0], atoi(integers[k][1]));
    static const char *floats[] = {"0", "-0.0", "3.14159265358979323846", "1e308", "1e309", "2.2250738585072014e-308", "1e-400",
                                   "0x1.fffffffffffffp1023", "123.456e-2xyz", "  .5", "infinity", "-INF", "nan",
                                   "1.00000000000000011102230246251565404236316680908203125"};
    /* Subnormal results are left out: whether they set ERANGE differs between libcs. */
    for (unsigned k = 0; k < sizeof floats / sizeof floats[0]; k++) parse_double(floats[k]);
    printf("atoi %d atol %ld atof %.3f\n", atoi("  -77x"), atol("1234567890123"), atof("2.71828e0"));

    /* Standard input. */
    int a, b, hex, oct;
    double x, y;
    n = scanf("%d %d %x %o %lf %lf %15s", &a, &b, &hex, &oct, &x, &y, word);
    printf("scanf 1: %d fields: %d %d %d %d %g %g \"%s\"\n", n, a, b, hex, oct, x, y, word);
    double huge;
    n = scanf("%d %lf %lf %15s", &a, &x, &huge, word);
    printf("scanf 2: %d fields: %d %.1f %g \"%s\"\n", n, a, x, huge, word);
    char line[128];
    int lines = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        printf("line %d: \"%s\"\n", ++lines, line);
    }
    n = scanf("%d", &a);
    printf("scanf at end of input: %d (EOF is %d)\n", n, EOF);
    return 0;
}
