/* A program that re-executes itself, one step further each time: by its
 * argv[0] path, through /proc/self/exe with another argv[0] and its own
 * environment, with fexecve on a descriptor, with execveat, and with an
 * empty environment. Each step prints, flushing before the next exec. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int count_environ(void) {
    int n = 0;
    for (char **e = environ; *e; e++) n++;
    return n;
}

int main(int argc, char **argv) {
    int step = argc > 1 ? atoi(argv[1]) : 0;
    printf("step %d: argc %d", step, argc);
    if (step > 1) printf(", argv[0] %s", argv[0]); /* step 1 has the build path */
    printf("\n");
    fflush(stdout);
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return 100;
    self[len] = 0;
    switch (step) {
    case 0: {
        char *args[] = {argv[0], "1", NULL};
        execv(argv[0], args);
        break;
    }
    case 1: {
        char *args[] = {"renamed", "2", "extra argument", NULL};
        char *env[] = {"CHAIN=from step 1", "SECOND=2", NULL};
        execve("/proc/self/exe", args, env);
        break;
    }
    case 2: {
        printf("  CHAIN=%s, %d variables\n", getenv("CHAIN"), count_environ());
        fflush(stdout);
        int fd = open(self, O_RDONLY | O_CLOEXEC);
        char *args[] = {"by-fexecve", "3", NULL};
        fexecve(fd, args, environ);
        break;
    }
    case 3: {
        char *args[] = {"by-execveat", "4", NULL};
        char *env[] = {NULL};
        syscall(SYS_execveat, AT_FDCWD, self, args, env, 0);
        break;
    }
    default:
        printf("  done after %d steps, %d variables\n", step, count_environ());
        return 0;
    }
    perror("exec");
    return 1;
}
