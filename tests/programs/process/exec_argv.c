//! args: /bin/echo run by exec_argv
/* Runs its arguments as a command, like env(1) without assignments: by
 * default the host's /bin/echo (an x86_64 program found by path). The
 * process_log test also points it at an aarch64 program, which Transit
 * must run directly instead of translating. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: exec_argv PROGRAM [ARGS...]\n");
        return 2;
    }
    execv(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
