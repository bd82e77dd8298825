/* The allocator under a deterministic random workload: malloc, calloc,
 * realloc (growing and shrinking) and free of sizes from a few bytes to
 * over a megabyte (brk and mmap paths), every block filled with a pattern and
 * checked before it changes hands. Prints counts and checksums only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024
#define OPERATIONS 20000

static uint64_t state = 0x243f6a8885a308d3ull;
static uint64_t next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

struct block {
    unsigned char *data;
    size_t size;
    unsigned char seed;
};
static struct block slots[SLOTS];
static unsigned long corrupt, allocated_bytes;

static size_t random_size(void) {
    uint64_t r = next_random() % 1000;
    if (r < 700) return (size_t)(next_random() % 128);
    if (r < 950) return (size_t)(next_random() % 4096);
    if (r < 998) return (size_t)(next_random() % 32768);
    return (size_t)(1 << 18) + (size_t)(next_random() % (1 << 20)); /* mmap-sized */
}

static void fill(struct block *b, size_t from) {
    for (size_t i = from; i < b->size; i++) b->data[i] = (unsigned char)(b->seed + i * 7);
}

static uint64_t verify(const struct block *b, size_t upto) {
    uint64_t sum = 0;
    for (size_t i = 0; i < upto; i++) {
        if (b->data[i] != (unsigned char)(b->seed + i * 7)) {
            corrupt++;
            break;
        }
        sum += b->data[i];
    }
    return sum;
}

int main(void) {
    unsigned long mallocs = 0, callocs = 0, reallocs = 0, frees = 0, failures = 0;
    uint64_t checksum = 0;
    for (int op = 0; op < OPERATIONS; op++) {
        struct block *b = &slots[next_random() % SLOTS];
        unsigned choice = (unsigned)(next_random() % 10);
        if (!b->data) {
            b->size = random_size();
            b->seed = (unsigned char)next_random();
            if (choice < 3) {
                b->data = calloc(1, b->size ? b->size : 1);
                callocs++;
                if (!b->data) { failures++; continue; }
                for (size_t i = 0; i < b->size; i++) corrupt += b->data[i] != 0;
            } else {
                b->data = malloc(b->size ? b->size : 1);
                mallocs++;
                if (!b->data) { failures++; continue; }
            }
            fill(b, 0);
            allocated_bytes += b->size;
        } else if (choice < 5) {
            size_t new_size = choice == 3 ? b->size / 2 : b->size + random_size();
            unsigned char *p = realloc(b->data, new_size ? new_size : 1);
            reallocs++;
            if (!p) { failures++; continue; }
            b->data = p;
            size_t kept = new_size < b->size ? new_size : b->size;
            checksum += verify(b, kept);
            size_t old = b->size;
            b->size = new_size;
            if (new_size > old) fill(b, old);
        } else {
            checksum += verify(b, b->size);
            free(b->data);
            frees++;
            b->data = NULL;
        }
    }
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].data) {
            checksum += verify(&slots[i], slots[i].size);
            free(slots[i].data);
            frees++;
        }

    /* Alignment requests. */
    unsigned misaligned = 0;
    for (size_t align = 16; align <= 65536; align *= 4) {
        void *p = NULL;
        if (posix_memalign(&p, align, align * 3 + 5) != 0) { failures++; continue; }
        misaligned += ((uintptr_t)p % align) != 0;
        memset(p, 0x5a, align * 3 + 5);
        free(p);
        p = aligned_alloc(align, align * 2);
        if (!p) { failures++; continue; }
        misaligned += ((uintptr_t)p % align) != 0;
        free(p);
    }
    /* malloc's own guarantee for x86_64: 16-byte alignment. */
    for (size_t size = 1; size < 200; size += 13) {
        void *p = malloc(size);
        misaligned += ((uintptr_t)p % 16) != 0;
        free(p);
    }

    printf("mallocs %lu callocs %lu reallocs %lu frees %lu\n", mallocs, callocs, reallocs, frees);
    printf("bytes allocated %lu, checksum %llu\n", allocated_bytes, (unsigned long long)checksum);
    printf("corrupt %lu, failures %lu, misaligned %u\n", corrupt, failures, misaligned);
    return corrupt || failures || misaligned;
}
