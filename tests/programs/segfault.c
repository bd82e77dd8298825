/* Death by SIGSEGV: a write through a null pointer after some output. The
 * harness compares the signal, so Transit must die by the same one. */
#include <stdio.h>

int main(void) {
    static int volatile *volatile target = 0;
    printf("about to write through a null pointer\n");
    fflush(stdout);
    fprintf(stderr, "stderr before the fault\n");
    *target = 42;
    printf("still alive?\n");
    return 0;
}
