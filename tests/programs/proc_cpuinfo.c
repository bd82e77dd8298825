/* /proc/cpuinfo agrees with CPUID and with sysconf: one block per online
 * processor, the vendor, family, model, stepping and brand that CPUID
 * reports, and feature flags present exactly when their CPUID bit is set.
 * Only the agreement is printed: the CPU differs between machines (and
 * under Transit it is the CPU that Transit presents). The exit status is
 * the number of failed checks. */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%-60s %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

enum reg { EBX, ECX, EDX };

/* Flags whose CPUID bit the kernel reports as it finds it. */
static const struct {
    const char *name;
    unsigned leaf;
    enum reg reg;
    int bit;
} flags[] = {
    {"fpu", 1, EDX, 0},      {"tsc", 1, EDX, 4},      {"cx8", 1, EDX, 8},
    {"cmov", 1, EDX, 15},    {"mmx", 1, EDX, 23},     {"fxsr", 1, EDX, 24},
    {"sse", 1, EDX, 25},     {"sse2", 1, EDX, 26},    {"pni", 1, ECX, 0},
    {"ssse3", 1, ECX, 9},    {"cx16", 1, ECX, 13},    {"sse4_1", 1, ECX, 19},
    {"sse4_2", 1, ECX, 20},  {"popcnt", 1, ECX, 23},  {"hypervisor", 1, ECX, 31},
    {"syscall", 0x80000001, EDX, 11}, {"lm", 0x80000001, EDX, 29},
    {"lahf_lm", 0x80000001, ECX, 0},
};

static unsigned reg_of(unsigned leaf, enum reg reg) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(leaf, &a, &b, &c, &d)) return 0;
    return reg == EBX ? b : reg == ECX ? c : d;
}

/* The value on a line "key<tabs or spaces>: value", or NULL. */
static const char *field(const char *line, const char *key) {
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0) return NULL;
    const char *colon = line + n;
    while (*colon == '\t' || *colon == ' ') colon++;
    if (*colon != ':') return NULL;
    colon++;
    while (*colon == ' ') colon++;
    return colon;
}

static int has_flag(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return 1;
    }
    return 0;
}

static char *trim(char *s) {
    while (*s == ' ') s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ') s[--n] = 0;
    return s;
}

int main(void) {
    static char text[1 << 20];
    FILE *f = fopen("/proc/cpuinfo", "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = 0;
    check(n > 0, "/proc/cpuinfo can be read");

    unsigned a = 0, b = 0, c = 0, d = 0;
    __get_cpuid(0, &a, &b, &c, &d);
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    __get_cpuid(1, &a, &b, &c, &d);
    unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf, stepping = a & 0xf;
    if (family == 0xf) family += (a >> 20) & 0xff;
    if (family >= 6) model += ((a >> 16) & 0xf) << 4;
    char brand_raw[49] = {0};
    unsigned max_ext = __get_cpuid_max(0x80000000, NULL);
    if (max_ext >= 0x80000004) {
        for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, (unsigned *)(brand_raw + 16 * i), (unsigned *)(brand_raw + 16 * i + 4), (unsigned *)(brand_raw + 16 * i + 8), (unsigned *)(brand_raw + 16 * i + 12));
    }
    char *brand = trim(brand_raw);

    int processors = 0, vendor_ok = 1, family_ok = 1, model_ok = 1, stepping_ok = 1, brand_ok = 1, flags_seen = 0;
    int flag_ok[sizeof flags / sizeof flags[0]];
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) flag_ok[i] = 1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        const char *v;
        if ((v = field(line, "processor"))) processors++;
        if ((v = field(line, "vendor_id"))) vendor_ok &= strcmp(v, vendor) == 0;
        if ((v = field(line, "cpu family"))) family_ok &= (unsigned)atoi(v) == family;
        if ((v = field(line, "model"))) model_ok &= (unsigned)atoi(v) == model;
        if ((v = field(line, "stepping"))) stepping_ok &= (unsigned)atoi(v) == stepping;
        if ((v = field(line, "model name"))) {
            char copy[256];
            snprintf(copy, sizeof copy, "%s", v);
            brand_ok &= strcmp(trim(copy), brand) == 0;
        }
        if ((v = field(line, "flags"))) {
            flags_seen++;
            for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
                int bit = (reg_of(flags[i].leaf, flags[i].reg) >> flags[i].bit) & 1;
                flag_ok[i] &= has_flag(v, flags[i].name) == bit;
            }
        }
    }
    check(processors > 0, "there are processor blocks");
    check(processors == sysconf(_SC_NPROCESSORS_ONLN), "one block per online processor (sysconf)");
    check(flags_seen == processors, "each block has a flags line");
    check(vendor_ok, "vendor_id is CPUID's vendor");
    check(family_ok && model_ok && stepping_ok, "cpu family, model, stepping are CPUID's");
    check(max_ext < 0x80000004 || brand_ok, "model name is CPUID's brand string");
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        char what[80];
        snprintf(what, sizeof what, "flag %s is listed iff CPUID has it", flags[i].name);
        check(flag_ok[i], what);
    }
    printf("%d failed\n", failures);
    return failures;
}
