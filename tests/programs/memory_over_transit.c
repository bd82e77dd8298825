/* Memory calls over ranges the program does not own. Under Transit on a
 * host whose address space ends at 2^47 (qemu-user, 47- and 39-bit
 * kernels), Transit's own memory lies among the program's and
 * /proc/self/maps lists it as inaccessible anonymous memory:
 * mapping over it, unmapping, protecting or discarding it used to destroy
 * Transit. Those calls must leave it alone (the program cannot tell where
 * Transit is, so only its survival is printed), while over the program's
 * own mappings with holes they act as the kernel does: mprotect changes
 * what is mapped up to a hole and fails there with ENOMEM, madvise acts on
 * every mapped part and fails with ENOMEM, munmap unmaps the mapped parts,
 * and mremap of a hole fails with EFAULT. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

static int keep_static = 7;

/* Whether [start, end) holds anything the program uses. */
static int own(uintptr_t start, uintptr_t end) {
    uintptr_t ours[] = {(uintptr_t)&keep_static, (uintptr_t)&start, (uintptr_t)own, (uintptr_t)stdout};
    int found = 0;
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
        found |= ours[i] >= start && ours[i] < end;
    return found;
}

/* Every inaccessible anonymous mapping the program does not own: Transit's
 * memory under Transit on such a host (and its brk reservation), none
 * natively. */
static int foreign(uintptr_t *starts, uintptr_t *ends, int max) {
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512], perms[8];
    int n = 0;
    while (maps && fgets(line, sizeof line, maps) && n < max) {
        unsigned long s, e;
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &name_at) < 3)
            continue;
        int unnamed = name_at == 0 || line[name_at] == '\n' || line[name_at] == 0;
        if (strcmp(perms, "---p") == 0 && unnamed && !own(s, e)) {
            starts[n] = s;
            ends[n++] = e;
        }
    }
    if (maps)
        fclose(maps);
    return n;
}

/* The permissions /proc/self/maps shows at `p`, or "none". Reads with no
 * allocation, which could map memory where `p` was. */
static const char *perms_at(void *p) {
    static char text[1 << 16], perms[8];
    int fd = open("/proc/self/maps", O_RDONLY);
    size_t used = 0;
    ssize_t got;
    while (fd >= 0 && used < sizeof text - 1 && (got = read(fd, text + used, sizeof text - 1 - used)) > 0)
        used += got;
    if (fd >= 0)
        close(fd);
    text[used] = 0;
    for (char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : line + strlen(line)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 && (uintptr_t)p >= s && (uintptr_t)p < e)
            return perms;
    }
    return "none";
}

static const char *result(int r) {
    if (r == 0)
        return "ok";
    return errno == ENOMEM ? "ENOMEM" : errno == EPERM ? "EPERM" : errno == EINVAL ? "EINVAL" : strerror(errno);
}

int main(void) {
    uintptr_t starts[64], ends[64];
    int n = foreign(starts, ends, 64);
    for (int i = 0; i < n; i++) {
        size_t len = ends[i] - starts[i];
        void *at = (void *)starts[i];
        void *m = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (m != MAP_FAILED) {
            /* The first and last pages: the range may be large. */
            memset(m, 0x5a, PAGE);
            memset((char *)m + len - PAGE, 0x5a, PAGE);
            munmap(m, len);
        }
        mprotect(at, len, PROT_READ | PROT_WRITE);
        madvise(at, len, MADV_DONTNEED);
        munmap(at, len);
    }
    printf("calls over memory the program does not own: survived, own data %s\n", keep_static == 7 ? "intact" : "changed");

    /* Three pages, the middle one unmapped. */
    char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    memset(p, 1, 3 * PAGE);
    munmap(p + PAGE, PAGE);
    const char *r = result(mprotect(p, 3 * PAGE, PROT_READ));
    printf("mprotect across a hole: %s; first page %s,", r, perms_at(p));
    printf(" last page %s\n", perms_at(p + 2 * PAGE));
    mprotect(p, PAGE, PROT_READ | PROT_WRITE);
    r = result(mprotect(p + PAGE, 2 * PAGE, PROT_READ));
    printf("mprotect starting at the hole: %s; last page %s\n", r, perms_at(p + 2 * PAGE));
    r = result(madvise(p, 3 * PAGE, MADV_DONTNEED));
    printf("madvise(DONTNEED) across a hole: %s; first page reads %d,", r, p[0]);
    printf(" last page %d\n", p[2 * PAGE]);
    r = result(munmap(p, 3 * PAGE));
    printf("munmap across a hole: %s; first page %s,", r, perms_at(p));
    printf(" last page %s\n", perms_at(p + 2 * PAGE));
    void *moved = mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
    printf("mremap of a hole: %s\n", moved != MAP_FAILED ? "moved" : errno == EFAULT ? "EFAULT" : strerror(errno));
    return 0;
}
