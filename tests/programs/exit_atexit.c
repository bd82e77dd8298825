/* Leaving through exit(3) from deep inside the program: atexit handlers
 * run in reverse order of registration, stdout's buffered output is
 * flushed afterwards, and the status is 3. */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { printf("atexit: registered first, runs last\n"); }
static void second(void) { printf("atexit: registered second\n"); }
static void third(void) {
    printf("atexit: registered third, runs first\n");
    fprintf(stderr, "stderr from an exit handler\n");
}

__attribute__((noinline)) static void leave(int depth) {
    if (depth == 0) {
        printf("leaving with exit(3)\n");
        exit(3);
    }
    if (depth < 0) return;
    leave(depth - 1);
    printf("never printed\n");
}

int main(void) {
    atexit(first);
    atexit(second);
    atexit(third);
    printf("buffered line, not flushed before exit\n");
    leave(10);
    return 0;
}
