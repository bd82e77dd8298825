/* The program cargo xtask fuzz-elf mutates (built static, static-PIE and
 * dynamically linked): it reads everything the loader and the stack
 * builder give it (argv, envp, the auxiliary vector and the strings and
 * program headers it points to) and prints a digest, so that a wrong
 * stack is a wrong output or a fault, not unnoticed.
 * `elf_seed reexec` execs itself with an empty argv and envp (argc 0). */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static unsigned long digest(unsigned long h, const char *s) {
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3UL;
    return h;
}

int main(int argc, char **argv, char **envp) {
    if (argc == 2 && strcmp(argv[1], "reexec") == 0) {
        char *none[] = {NULL};
        execve("/proc/self/exe", none, none);
        perror("execve");
        return 1;
    }
    unsigned long h = 0xcbf29ce484222325UL;
    int envc = 0;
    for (int i = 0; i < argc; i++)
        h = digest(h, argv[i]);
    for (char **e = envp; *e; e++, envc++)
        h = digest(h, *e);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    const char *platform = (const char *)getauxval(AT_PLATFORM);
    const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
    const Elf64_Phdr *phdr = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long phnum = getauxval(AT_PHNUM), loads = 0;
    for (unsigned long i = 0; phdr && i < phnum; i++)
        loads += phdr[i].p_type == PT_LOAD;
    unsigned random_sum = 0;
    for (int i = 0; random && i < 16; i++)
        random_sum += random[i];
    printf("argc %d envc %d digest %lx execfn %s platform %s loads %lu random %s\n", argc, envc, h,
           execfn ? execfn : "-", platform ? platform : "-", loads, random_sum ? "yes" : "zero");
    return 0;
}
