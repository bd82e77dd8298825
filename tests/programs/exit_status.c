/* Standard output and standard error, through stdio and through write(2),
 * then `return 42` from main. The two streams are captured separately, so
 * each stream's own order is what must hold. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    printf("stdout 1 (stdio, buffered)\n");
    fprintf(stderr, "stderr 1 (stdio, unbuffered)\n");
    fflush(stdout);
    const char *raw_out = "stdout 2 (write after fflush)\n", *raw_err = "stderr 2 (write)\n";
    if (write(STDOUT_FILENO, raw_out, strlen(raw_out)) < 0) return 1;
    if (write(STDERR_FILENO, raw_err, strlen(raw_err)) < 0) return 1;
    for (int i = 3; i <= 6; i++) {
        fprintf(i % 2 ? stdout : stderr, "%s %d\n", i % 2 ? "stdout" : "stderr", i);
        fputs(i % 2 ? "err line\n" : "out line\n", i % 2 ? stderr : stdout);
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("stdout 7 (unbuffered now)\n");
    fputs("stderr 8 (fputs)\n", stderr);
    return 42;
}
