/* The guest side of tests/suites/rootfs.rs: runs the commands in its
 * arguments and prints what it sees, one line each.
 *   read PATH     the file's first line, or the errno name
 *   create PATH   creates PATH with "created"
 *   cd PATH       chdir, then prints getcwd
 *   starts PATH S whether the file starts with S */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *errno_name(int e) {
    return e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : e == ENOTDIR ? "ENOTDIR" : "other error";
}

static int first_line(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

int main(int argc, char **argv) {
    char buf[4096];
    for (int i = 1; i < argc; i++) {
        const char *cmd = argv[i], *path = i + 1 < argc ? argv[++i] : "";
        if (strcmp(cmd, "read") == 0) {
            int r = first_line(path, buf, sizeof buf);
            printf("read %s: %s\n", path, r < 0 ? errno_name(-r) : buf);
        } else if (strcmp(cmd, "create") == 0) {
            int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
            int ok = fd >= 0 && write(fd, "created\n", 8) == 8;
            if (fd >= 0) close(fd);
            printf("create %s: %s\n", path, ok ? "ok" : errno_name(errno));
        } else if (strcmp(cmd, "cd") == 0) {
            int ok = chdir(path) == 0 && getcwd(buf, sizeof buf) != NULL;
            printf("cd %s: %s\n", path, ok ? buf : errno_name(errno));
        } else if (strcmp(cmd, "starts") == 0 && i + 1 < argc) {
            const char *prefix = argv[++i];
            int r = first_line(path, buf, sizeof buf);
            printf("starts %s %s: %s\n", path, prefix, r < 0 ? errno_name(-r) : strncmp(buf, prefix, strlen(prefix)) == 0 ? "yes" : "no");
        } else {
            printf("unknown command %s\n", cmd);
            return 2;
        }
    }
    return 0;
}
