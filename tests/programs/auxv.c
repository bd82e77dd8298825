/* What the loader tells a program, checked rather than printed where the
 * value varies: the auxiliary vector (page size, entry point, program
 * headers, AT_RANDOM, AT_PLATFORM, ids, AT_SECURE, AT_BASE of a static
 * program), uname, and sysconf. AT_HWCAP is not compared: it depends on
 * the CPU. The exit status is the number of failed checks. */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char _start[];
extern const ElfW(Ehdr) __ehdr_start; /* defined by the linker: our own ELF header */

static int failures;

static void check(int ok, const char *what) {
    printf("%-48s %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

int main(void) {
    unsigned long page = getauxval(AT_PAGESZ);
    printf("AT_PAGESZ %lu\n", page);
    check(page == 4096, "AT_PAGESZ is 4096");
    check(getauxval(AT_ENTRY) != 0, "AT_ENTRY is set");
    check(getauxval(AT_ENTRY) == (unsigned long)_start, "AT_ENTRY is _start");
    check(getauxval(AT_PHDR) == (unsigned long)&__ehdr_start + __ehdr_start.e_phoff, "AT_PHDR points at our program headers");
    check(getauxval(AT_PHENT) == sizeof(ElfW(Phdr)), "AT_PHENT is sizeof(Elf64_Phdr)");
    check(getauxval(AT_PHNUM) == __ehdr_start.e_phnum, "AT_PHNUM matches the ELF header");
    check(getauxval(AT_BASE) == 0, "AT_BASE is 0 (no interpreter)");
    const unsigned char *random_bytes = (const unsigned char *)getauxval(AT_RANDOM);
    check(random_bytes != NULL, "AT_RANDOM is set");
    if (random_bytes) {
        unsigned sum = 0;
        for (int i = 0; i < 16; i++) sum |= random_bytes[i];
        check(sum != 0, "AT_RANDOM's 16 bytes are not all zero");
    }
    const char *platform = (const char *)getauxval(AT_PLATFORM);
    printf("AT_PLATFORM %s\n", platform ? platform : "(null)");
    check(platform && strcmp(platform, "x86_64") == 0, "AT_PLATFORM is x86_64");
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    const char *slash = execfn ? strrchr(execfn, '/') : NULL;
    check(slash && strcmp(slash, "/auxv") == 0, "AT_EXECFN names this program");
    check(getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid(), "AT_UID and AT_EUID match getuid/geteuid");
    check(getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid(), "AT_GID and AT_EGID match getgid/getegid");
    check(getauxval(AT_SECURE) == 0, "AT_SECURE is 0");
    check(getauxval(AT_CLKTCK) == 100, "AT_CLKTCK is 100");
    check(sysconf(_SC_PAGESIZE) == 4096, "sysconf(_SC_PAGESIZE) is 4096");
    check(sysconf(_SC_CLK_TCK) == 100, "sysconf(_SC_CLK_TCK) is 100");

    struct utsname name;
    check(uname(&name) == 0, "uname succeeds");
    printf("uname: sysname %s machine %s\n", name.sysname, name.machine);
    check(strcmp(name.sysname, "Linux") == 0, "sysname is Linux");
    check(strcmp(name.machine, "x86_64") == 0, "machine is x86_64");

    int local;
    check((unsigned long)&local > (unsigned long)&__ehdr_start, "the stack lies above the program");
    printf("%d failed\n", failures);
    return failures;
}
