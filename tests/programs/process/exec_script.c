/* execve of #! scripts: a shell script (interpreter /bin/sh), one with an
 * interpreter argument, one whose interpreter is this program itself (with
 * blanks around its argument), and one whose interpreter is another
 * script. The kernel's rules: argv becomes interpreter, its one optional
 * argument, the script's path as given, then the original argv[1..]. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_script(const char *name, const char *text) {
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) _exit(100);
    close(fd);
}

static void run(const char *path, char *const argv[]) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execve(path, argv, (char *[]){"PATH=/usr/bin:/bin", NULL});
        perror("execve");
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("%s: exit %d\n", path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "as interpreter") == 0) {
        const char *base = strrchr(argv[0], '/');
        printf("interpreter %s got %d arguments:", base ? base + 1 : argv[0], argc - 1);
        for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
        printf("\n");
        return 4;
    }
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return 101;
    self[len] = 0;

    write_script("hello.sh", "#!/bin/sh\necho \"shell script: $0 [$1] [$2] $# arguments\"\nexit 7\n");
    run("./hello.sh", (char *[]){"hello.sh", "first", "second word", NULL});

    write_script("strict.sh", "#! /bin/sh -e  \nfalse\necho not reached\n");
    run("./strict.sh", (char *[]){"strict.sh", NULL});

    char text[4200];
    snprintf(text, sizeof text, "#!%s \t as interpreter \nnot read by the shell\n", self);
    write_script("self.sh", text);
    run("./self.sh", (char *[]){"self.sh", "x", NULL});
    run("./self.sh", (char *[]){NULL});

    write_script("nested.sh", "#!./self.sh\n");
    run("./nested.sh", (char *[]){"nested.sh", "y", NULL});
    return 0;
}
