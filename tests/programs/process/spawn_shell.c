/* Children through the C library: posix_spawn of a program with its output
 * redirected into a pipe, posix_spawnp through PATH, system() and popen()
 * of shell commands (the host's x86_64 /bin/sh and coreutils run under
 * Transit too). Output is flushed before every child writes to stdout. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void report(const char *what, int status) {
    if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", what, WTERMSIG(status));
}

int main(void) {
    /* posix_spawn with stdout going into a pipe. */
    int fds[2];
    if (pipe(fds) != 0) return 100;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    char *echo_argv[] = {"echo", "spawned", "echo", NULL};
    pid_t pid;
    int err = posix_spawn(&pid, "/bin/echo", &actions, NULL, echo_argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (err != 0) {
        printf("posix_spawn failed: %s\n", strerror(err));
        return 1;
    }
    char buf[256];
    ssize_t n, total = 0;
    while ((n = read(fds[0], buf + total, sizeof buf - 1 - total)) > 0) total += n;
    buf[total] = 0;
    close(fds[0]);
    printf("read from the pipe: %s", buf);
    int status;
    if (waitpid(pid, &status, 0) != pid) return 101;
    report("posix_spawn", status);

    /* posix_spawnp finds sh through PATH. */
    char *sh_argv[] = {"sh", "-c", "exit 5", NULL};
    err = posix_spawnp(&pid, "sh", NULL, NULL, sh_argv, environ);
    if (err != 0) return 102;
    if (waitpid(pid, &status, 0) != pid) return 103;
    report("posix_spawnp sh", status);

    /* system: the shell writes to our stdout, then exits 3. */
    fflush(stdout);
    status = system("echo from system; exit 3");
    report("system", status);

    /* popen for reading. */
    FILE *p = popen("echo popen line one; echo popen line two", "r");
    if (!p) return 104;
    while (fgets(buf, sizeof buf, p)) printf("popen read: %s", buf);
    report("pclose (r)", pclose(p));

    /* popen for writing: cat copies what we write to our stdout. */
    fflush(stdout);
    p = popen("cat", "w");
    if (!p) return 105;
    fputs("written to cat through popen\n", p);
    report("pclose (w)", pclose(p));
    return 0;
}
