/* What /proc says about the process itself: /proc/self/cmdline is argv,
 * /proc/self/exe is this program (readlink, open, stat), /proc/self/auxv is
 * the auxiliary vector the program started with. Values that vary between
 * runs or machines are checked, not printed. The exit status is the number
 * of failed checks. */
//! args: alpha beta
//! arg: two words
//! arg:
//! args: last
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%-56s %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

/* The whole file, read in small pieces as a careful reader would. */
static size_t slurp(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        return 0;
    }
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - n < 100 ? cap - n : 100);
        if (got <= 0) break;
        n += (size_t)got;
    }
    close(fd);
    return n;
}

static void cmdline(int argc, char **argv) {
    static char buf[65536];
    size_t n = slurp("/proc/self/cmdline", buf, sizeof buf);
    size_t expected = 0;
    for (int i = 0; i < argc; i++) expected += strlen(argv[i]) + 1;
    check(n == expected, "cmdline is as long as the arguments");
    size_t pos = 0;
    int same = 1, count = 0;
    while (pos < n) {
        const char *arg = buf + pos;
        if (count < argc && strcmp(arg, argv[count]) != 0) same = 0;
        if (count > 0) printf("cmdline[%d] = \"%s\"\n", count, arg);
        pos += strlen(arg) + 1;
        count++;
    }
    check(count == argc, "cmdline holds argc strings");
    check(same, "each string is the argument");
    const char *slash = strrchr(buf, '/');
    check(slash && strcmp(slash, "/proc_self") == 0, "cmdline[0] names this program");
}

static void exe(const char *argv0) {
    char real[PATH_MAX], link[PATH_MAX], own[64];
    check(realpath(argv0, real) != NULL, "realpath(argv[0])");
    ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    check(n > 0 && strcmp(link, real) == 0, "readlink /proc/self/exe is this program");
    snprintf(own, sizeof own, "/proc/%d/exe", (int)getpid());
    n = readlink(own, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    check(n > 0 && strcmp(link, real) == 0, "readlink /proc/<pid>/exe too");
    n = readlink("/proc/self/exe", link, 4);
    check(n == 4 && memcmp(link, real, 4) == 0, "a short buffer gets a truncated name");

    unsigned char header[64];
    int fd = open("/proc/self/exe", O_RDONLY);
    check(fd >= 0 && read(fd, header, sizeof header) == sizeof header, "open and read /proc/self/exe");
    if (fd >= 0) close(fd);
    check(memcmp(header, ELFMAG, SELFMAG) == 0, "it is an ELF file");
    check(header[18] == EM_X86_64 && header[19] == 0, "for x86_64");
    struct stat via_proc, direct;
    check(stat("/proc/self/exe", &via_proc) == 0 && stat(real, &direct) == 0, "stat both names");
    check(via_proc.st_ino == direct.st_ino && via_proc.st_dev == direct.st_dev, "stat /proc/self/exe is this program");
    check(access("/proc/self/exe", X_OK) == 0, "access /proc/self/exe X_OK");
}

static void auxv(void) {
    static unsigned long words[1024], again[1024];
    size_t n = slurp("/proc/self/auxv", (char *)words, sizeof words);
    check(n > 0 && n % 16 == 0, "auxv is (key, value) pairs of 8 bytes");
    size_t pairs = n / 16;
    check(pairs > 0 && words[2 * pairs - 2] == AT_NULL, "auxv ends with AT_NULL");
    int matches = 1, pagesz = 0, entry = 0, phdr = 0, random = 0, execfn = 0;
    for (size_t i = 0; i + 1 < pairs; i++) {
        unsigned long key = words[2 * i], value = words[2 * i + 1];
        /* glibc answers AT_HWCAP and AT_HWCAP2 with its own values on x86. */
        if (key != AT_HWCAP && key != AT_HWCAP2 && getauxval(key) != value) {
            printf("key %lu: auxv %#lx, getauxval %#lx\n", key, value, getauxval(key));
            matches = 0;
        }
        pagesz |= key == AT_PAGESZ && value == 4096;
        entry |= key == AT_ENTRY && value != 0;
        phdr |= key == AT_PHDR && value != 0;
        random |= key == AT_RANDOM && value != 0;
        execfn |= key == AT_EXECFN && value != 0;
    }
    check(matches, "every entry is what getauxval says");
    check(pagesz, "AT_PAGESZ is 4096");
    check(entry && phdr, "AT_ENTRY and AT_PHDR are there");
    check(random && execfn, "AT_RANDOM and AT_EXECFN are there");
    char own[64];
    snprintf(own, sizeof own, "/proc/%d/auxv", (int)getpid());
    size_t m = slurp(own, (char *)again, sizeof again);
    check(m == n && memcmp(words, again, n) == 0, "/proc/<pid>/auxv is the same");
}

int main(int argc, char **argv) {
    cmdline(argc, argv);
    exe(argv[0]);
    auxv();
    printf("%d failed\n", failures);
    return failures;
}
