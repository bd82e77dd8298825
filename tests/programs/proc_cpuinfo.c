/* /proc/cpuinfo agrees with CPUID and with sysconf: one block per online
 * processor with the x86 kernel's lines in its order, the vendor, family,
 * model, stepping, brand, cpuid level, CLFLUSH size and address sizes that
 * CPUID reports, and feature flags present exactly when their CPUID bit is
 * set.
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
    {"clflush", 1, EDX, 19}, {"pclmulqdq", 1, ECX, 1}, {"aes", 1, ECX, 25},
    {"syscall", 0x80000001, EDX, 11}, {"lm", 0x80000001, EDX, 29},
    {"lahf_lm", 0x80000001, ECX, 0}, {"xsave", 1, ECX, 26},
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

/* The lines the kernel writes for every processor, in its order
 * (arch/x86/kernel/cpu/proc.c); it adds others on some CPUs ("vmx flags",
 * AMD's "TLB size"), which the order check skips. "cache size" is left out
 * when the kernel does not know it. */
static const char *const keys[] = {
    "processor", "vendor_id", "cpu family", "model", "model name", "stepping", "microcode",
    "cpu MHz", "cache size", "physical id", "siblings", "core id", "cpu cores", "apicid",
    "initial apicid", "fpu", "fpu_exception", "cpuid level", "wp", "flags", "bugs", "bogomips",
    "clflush size", "cache_alignment", "address sizes", "power management",
};
enum { KEYS = sizeof keys / sizeof keys[0], OPTIONAL_KEY = 8 /* cache size */ };

/* The index of the line's key in `keys`, or -1. */
static int key_index(const char *line) {
    for (int i = 0; i < KEYS; i++) {
        if (field(line, keys[i])) return i;
    }
    return -1;
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

    unsigned max_leaf = __get_cpuid_max(0, NULL);
    unsigned clflush = ((b >> 8) & 0xff) * 8;
    unsigned physical_bits = 36, virtual_bits = 48; /* the kernel's defaults without leaf 80000008h */
    if (max_ext >= 0x80000008) {
        unsigned a8 = 0, b8, c8, d8;
        __get_cpuid(0x80000008, &a8, &b8, &c8, &d8);
        physical_bits = a8 & 0xff;
        virtual_bits = (a8 >> 8) & 0xff;
    }
    char sizes[64];
    snprintf(sizes, sizeof sizes, "%u bits physical, %u bits virtual", physical_bits, virtual_bits);
    int order_ok = 1, all_keys_ok = 1, level_ok = 1, clflush_ok = 1, sizes_ok = 1, mhz_ok = 1, microcode_ok = 1, cache_ok = 1;
    const unsigned long all_keys = (1ul << KEYS) - 1, may_lack = 1ul << OPTIONAL_KEY;
    unsigned long seen_keys = 0;
    int last_key = KEYS;
    int processors = 0, vendor_ok = 1, family_ok = 1, model_ok = 1, stepping_ok = 1, brand_ok = 1, flags_seen = 0;
    int flag_ok[sizeof flags / sizeof flags[0]];
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) flag_ok[i] = 1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        const char *v;
        int key = key_index(line);
        if (key == 0) {
            if (processors > 0) all_keys_ok &= (seen_keys | may_lack) == all_keys;
            last_key = -1;
            seen_keys = 0;
        }
        if (key >= 0) {
            order_ok &= key > last_key;
            last_key = key;
            seen_keys |= 1ul << key;
        }
        if ((v = field(line, "processor"))) processors++;
        if ((v = field(line, "cpuid level"))) level_ok &= (unsigned)atoi(v) == max_leaf;
        if ((v = field(line, "clflush size"))) clflush_ok &= (unsigned)atoi(v) == clflush;
        if ((v = field(line, "cache_alignment"))) clflush_ok &= (unsigned)atoi(v) >= clflush;
        if ((v = field(line, "address sizes"))) sizes_ok &= strcmp(v, sizes) == 0;
        if ((v = field(line, "cpu MHz"))) mhz_ok &= atof(v) > 0;
        if ((v = field(line, "microcode"))) microcode_ok &= strncmp(v, "0x", 2) == 0;
        if ((v = field(line, "cache size"))) cache_ok &= atoi(v) > 0 && strcmp(v + strspn(v, "0123456789"), " KB") == 0;
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
    all_keys_ok &= (seen_keys | may_lack) == all_keys;
    check(processors > 0, "there are processor blocks");
    check(order_ok, "each block's lines are in the kernel's order");
    check(all_keys_ok, "each block has every line the kernel writes");
    check(level_ok, "cpuid level is CPUID's highest basic leaf");
    check(clflush_ok, "clflush size (and cache_alignment) is CPUID's");
    check(sizes_ok, "address sizes are CPUID's (leaf 80000008h)");
    check(mhz_ok, "cpu MHz is a frequency");
    check(microcode_ok, "microcode is a hexadecimal revision");
    check(cache_ok, "cache size, where known, is in KB");
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
