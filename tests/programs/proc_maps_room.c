/* Room that /proc/self/maps shows free is free: PHP's opcache JIT
 * (find_prefered_mmap_base) maps its buffer with MAP_FIXED into a hole it
 * finds there, just below a mapping listed (here the lowest one above
 * 4 GiB, clear of a non-PIE program's image). Under Transit on a
 * host whose address space ends at 2^47, Transit's own memory lies among
 * the guest's; left out of the listing, it was such a hole, and MAP_FIXED
 * overwrote Transit. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void) {
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long lowest = 0, start, end;
    while (maps && fgets(line, sizeof line, maps))
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start >= 1UL << 32) {
            lowest = start;
            break;
        }
    if (!maps || !lowest)
        return 1;
    fclose(maps);
    size_t len = 32 << 20;
    unsigned long hole = (lowest - len) & ~((2UL << 20) - 1);
    char *p = mmap((void *)hole, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p != (char *)hole) {
        printf("32 MiB below a mapping listed: %s\n", strerror(errno));
        return 1;
    }
    memset(p, 0xc3, len);
    printf("32 MiB below a mapping listed: mapped and written\n");
    return 0;
}
