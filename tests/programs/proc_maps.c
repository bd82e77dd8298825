/* /proc/self/maps describes the program's own memory: well-formed sorted
 * lines, the program's code in a readable mapping of the program's file
 * (its path, device and inode: V8, valgrind and sanitizers look modules up
 * this way), its bss anonymous, the dynamic loader mapped from its file,
 * the stack in [stack], the brk area in [heap], and nothing named after an
 * emulator. Addresses vary between runs, so only facts are
 * printed. The exit status is the number of failed checks. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%-56s %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

struct mapping {
    unsigned long start, end, inode;
    char perms[5];
    char name[PATH_MAX];
};

static struct mapping maps[4096];
static int count;

static int read_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[PATH_MAX + 128];
    int ok = 1;
    count = 0;
    while (count < 4096 && fgets(line, sizeof line, f)) {
        struct mapping *m = &maps[count];
        unsigned long offset;
        unsigned major, minor;
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &m->start, &m->end, m->perms, &offset, &major, &minor, &m->inode, &name_at) < 7) {
            printf("unparsable: %s", line);
            ok = 0;
            continue;
        }
        snprintf(m->name, sizeof m->name, "%s", line + name_at);
        m->name[strcspn(m->name, "\n")] = 0;
        count++;
    }
    fclose(f);
    return ok && count > 0;
}

/* Larger than a page, and zero: the middle lies past the file's last page. */
static char big_bss[64 * 1024];

static const struct mapping *holding(unsigned long addr) {
    for (int i = 0; i < count; i++)
        if (maps[i].start <= addr && addr < maps[i].end) return &maps[i];
    return NULL;
}

int main(int argc, char **argv) {
    (void)argc;
    /* Grow the brk heap first (raw syscall: musl's sbrk only reads it). */
    unsigned long brk_before = syscall(SYS_brk, 0);
    unsigned long brk_after = syscall(SYS_brk, brk_before + 3 * 4096);

    check(read_maps(), "every line parses");
    int sorted = 1;
    for (int i = 0; i < count; i++) {
        sorted &= maps[i].start < maps[i].end;
        if (i > 0) sorted &= maps[i - 1].end <= maps[i].start;
    }
    check(sorted, "mappings are sorted and disjoint");

    char real[PATH_MAX];
    check(realpath(argv[0], real) != NULL, "realpath(argv[0])");
    const struct mapping *code = holding((unsigned long)&main);
    check(code != NULL, "a mapping holds main");
    check(code && code->perms[0] == 'r', "it is readable");
    check(code && strcmp(code->name, real) == 0, "it is named by the program's path");
    struct stat st;
    check(stat(real, &st) == 0 && code && code->inode == st.st_ino, "it maps the program's file (its inode)");
    big_bss[sizeof big_bss / 2] = 1;
    const struct mapping *bss = holding((unsigned long)&big_bss[sizeof big_bss / 2]);
    check(bss && bss->name[0] == 0 && bss->inode == 0, "the bss is anonymous");
    unsigned long base = getauxval(AT_BASE);
    const struct mapping *loader = base ? holding(base) : NULL;
    check(!base || (loader && loader->name[0] == '/' && loader->inode != 0), "the dynamic loader, if any, maps its file");

    int local = 0;
    const struct mapping *stack = holding((unsigned long)&local);
    check(stack && strcmp(stack->name, "[stack]") == 0, "the stack is [stack]");
    check(stack && stack->perms[0] == 'r' && stack->perms[1] == 'w', "it is read-write");

    check(brk_after == brk_before + 3 * 4096, "brk grows");
    const struct mapping *heap = holding(brk_before);
    check(heap && strcmp(heap->name, "[heap]") == 0, "the brk area is [heap]");

    int emulator = 0;
    for (int i = 0; i < count; i++) {
        const char *base = strrchr(maps[i].name, '/');
        base = base ? base + 1 : maps[i].name;
        emulator |= strcmp(base, "transit") == 0 || strncmp(base, "qemu-", 5) == 0;
    }
    check(!emulator, "no mapping is named after an emulator");
    printf("%d failed\n", failures);
    return failures;
}
