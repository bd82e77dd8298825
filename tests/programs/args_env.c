//! args: alpha beta --gamma=1 -x --version -L /nonexistent --help
//! arg: two  spaces and	a tab
//! arg:
//! arg: ünïcödé
/* The command line and environment the guest receives: argc, every argv
 * string (argv[0] by its last component, since the directory varies),
 * the NULL after argv, every environment string, and getenv, setenv and
 * unsetenv. The environment is printed sorted: qemu-user, which runs
 * Transit on x86_64 hosts, hands its own guest the environment in reverse
 * order, so the order Transit receives is not the harness's to promise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv, char **envp) {
    printf("argc %d\n", argc);
    const char *slash = strrchr(argv[0], '/');
    printf("argv[0] ends with \"%s\"\n", slash ? slash + 1 : argv[0]);
    for (int i = 1; i < argc; i++) printf("argv[%d] = \"%s\" (%zu bytes)\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc] is %s\n", argv[argc] ? "not NULL" : "NULL");
    printf("envp follows argv: %s\n", envp == argv + argc + 1 ? "yes" : "no");
    printf("environ is envp: %s\n", environ == envp ? "yes" : "no");
    int count = 0;
    while (envp[count]) count++;
    char **sorted = malloc(sizeof *sorted * (size_t)(count + 1));
    memcpy(sorted, envp, sizeof *sorted * (size_t)(count + 1));
    qsort(sorted, (size_t)count, sizeof *sorted, compare_strings);
    for (int i = 0; i < count; i++) printf("env (sorted) \"%s\"\n", sorted[i]);
    free(sorted);
    printf("%d environment strings\n", count);

    const char *home = getenv("HOME"), *missing = getenv("TRANSIT_SURELY_UNSET");
    printf("HOME=%s, unset variable %s\n", home ? home : "(null)", missing ? "found" : "not found");
    setenv("ADDED", "by setenv", 1);
    setenv("HOME", "not replaced", 0);
    setenv("LANG", "replaced", 1);
    unsetenv("TZ");
    printf("ADDED=%s HOME=%s LANG=%s TZ=%s\n", getenv("ADDED"), getenv("HOME"), getenv("LANG"), getenv("TZ") ? getenv("TZ") : "(unset)");
    int after = 0;
    for (char **e = environ; *e; e++) after++;
    printf("%d environment strings after changes\n", after);
    return argc;
}
