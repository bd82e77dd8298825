/* A program started with a standard descriptor closed finds it closed
 * (CPython's test_posix spawns with POSIX_SPAWN_CLOSE 0 and expects
 * os.fstat(0) to fail with EBADF). Transit's own runtime opens /dev/null on
 * closed standard descriptors at start-up; the guest must not see that.
 * The program spawns itself with 0 closed, then with 0 and 2 closed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void spawn_closing(const int *fds, int n) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int i = 0; i < n; i++)
        posix_spawn_file_actions_addclose(&actions, fds[i]);
    char *argv[] = {"exec_closed_fds", "child", NULL};
    pid_t pid;
    int r = posix_spawn(&pid, "/proc/self/exe", &actions, NULL, argv, environ);
    if (r != 0) {
        printf("posix_spawn: %s\n", strerror(r));
        return;
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child exited %d\n", WEXITSTATUS(status));
    posix_spawn_file_actions_destroy(&actions);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        char line[128];
        int len = 0;
        for (int fd = 0; fd < 3; fd++) {
            int open = fcntl(fd, F_GETFD) != -1;
            len += snprintf(line + len, sizeof line - len, "fd %d %s%s", fd,
                            open ? "open" : errno == EBADF ? "closed (EBADF)" : "?", fd < 2 ? ", " : "\n");
        }
        /* stdout is open in every run. */
        write(1, line, len);
        return 0;
    }
    spawn_closing((int[]){0}, 1);
    fflush(stdout);
    spawn_closing((int[]){0, 2}, 2);
    return 0;
}
