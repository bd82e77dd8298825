/* Character classes and string utilities in the C locale: the ctype
 * table for all 256 values (as one signature per class), toupper/tolower,
 * strspn/strcspn/strpbrk, strtok_r, strcasecmp, strncat, strndup, and
 * sprintf building a report. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static uint64_t class_signature(int (*classify)(int), int *members) {
    uint64_t signature = 1469598103934665603ull;
    *members = 0;
    for (int c = 0; c < 256; c++) {
        int in = classify(c) != 0;
        *members += in;
        signature = (signature ^ (uint64_t)(in * (c + 1))) * 1099511628211ull;
    }
    return signature;
}

int main(void) {
    static const struct {
        const char *name;
        int (*classify)(int);
    } classes[] = {{"alnum", isalnum}, {"alpha", isalpha}, {"blank", isblank}, {"cntrl", iscntrl}, {"digit", isdigit},
                   {"graph", isgraph}, {"lower", islower}, {"print", isprint}, {"punct", ispunct}, {"space", isspace},
                   {"upper", isupper}, {"xdigit", isxdigit}};
    for (unsigned i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        int members;
        uint64_t signature = class_signature(classes[i].classify, &members);
        printf("%-6s %3d members, signature %016llx\n", classes[i].name, members, (unsigned long long)signature);
    }
    printf("punctuation:");
    for (int c = 0; c < 128; c++)
        if (ispunct(c)) printf("%c", c);
    printf("\n");
    char mixed[] = "Hello, World! 123 MiXeD cAsE";
    for (char *p = mixed; *p; p++) *p = (char)(isupper((unsigned char)*p) ? tolower((unsigned char)*p) : toupper((unsigned char)*p));
    printf("swapped case: %s\n", mixed);

    const char *line = "  key1=value1; key2 = value two ;key3=;=orphan;  ";
    printf("strspn spaces %zu, strcspn '=' %zu, strpbrk ';=' at %ld\n", strspn(line, " "), strcspn(line, "="),
           (long)(strpbrk(line, ";=") - line));
    char *copy = strdup(line), *outer_save, *inner_save;
    for (char *pair = strtok_r(copy, ";", &outer_save); pair; pair = strtok_r(NULL, ";", &outer_save)) {
        char *key = strtok_r(pair, "= ", &inner_save);
        char *value = strtok_r(NULL, "=", &inner_save);
        printf("pair: key [%s] value [%s]\n", key ? key : "(none)", value ? value : "(none)");
    }
    free(copy);

    static const char *const words[][2] = {{"Apple", "apple"}, {"apple", "APPLES"}, {"Zebra", "aardvark"}, {"", ""}, {"MiXeD", "mixed"}};
    for (unsigned i = 0; i < 5; i++) {
        int full = strcasecmp(words[i][0], words[i][1]), prefix = strncasecmp(words[i][0], words[i][1], 5);
        printf("strcasecmp(%s, %s) %d, strncasecmp 5: %d\n", words[i][0], words[i][1], (full > 0) - (full < 0), (prefix > 0) - (prefix < 0));
    }

    char buffer[64] = "start";
    static volatile size_t keep = 9;
    strncat(buffer, "-appended-and-cut", keep);
    char *duplicate = strndup("duplicate me partially", 9);
    printf("strncat: %s, strndup: %s\n", buffer, duplicate);
    free(duplicate);

    char report[256];
    int used = 0;
    for (int i = 0; i < 6; i++) used += sprintf(report + used, "%s%d:%c", i ? "," : "", i * i, 'a' + i);
    printf("report (%d): %s\n", used, report);
    printf("atoi/strtol in C locale: %d %ld\n", atoi("0042"), strtol("-0x10", NULL, 16));
    return 0;
}
