/* execve failures come back as errno, and the program goes on: a missing
 * file, a path through a regular file, a file without execute permission,
 * a directory, files of no executable format, a script whose interpreter
 * is missing or which interprets itself, and an argument over the kernel's
 * per-string limit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *errno_name(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EACCES: return "EACCES";
    case ENOEXEC: return "ENOEXEC";
    case ELOOP: return "ELOOP";
    case E2BIG: return "E2BIG";
    default: return "other";
    }
}

static void make(const char *name, const char *text, mode_t mode) {
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) exit(100);
    close(fd);
    chmod(name, mode);
}

static void try(const char *what, const char *path, char *const argv[]) {
    errno = 0;
    int r = execve(path, argv, (char *[]){NULL});
    printf("%-28s -> %d %s\n", what, r, errno_name(errno));
}

int main(void) {
    char *argv[] = {"prog", NULL};
    make("data.txt", "plain data\n", 0644);
    make("text.bin", "no magic here\n", 0755);
    make("empty.bin", "", 0755);
    make("missing-interp.sh", "#!/nonexistent/interpreter arg\n", 0755);
    make("blank-interp.sh", "#!   \n", 0755);
    make("loop.sh", "#!./loop.sh\n", 0755);
    mkdir("dir", 0755);

    try("missing file", "./does-not-exist", argv);
    try("path through a file", "./data.txt/x", argv);
    try("no execute permission", "./data.txt", argv);
    try("a directory", "./dir", argv);
    try("unknown format", "./text.bin", argv);
    try("empty file", "./empty.bin", argv);
    try("missing interpreter", "./missing-interp.sh", argv);
    try("no interpreter named", "./blank-interp.sh", argv);
    try("script interprets itself", "./loop.sh", argv);

    size_t huge = 200 * 1024;
    char *big = malloc(huge + 1);
    memset(big, 'x', huge);
    big[huge] = 0;
    try("argument over 128 KiB", "./text.bin", (char *[]){"prog", big, NULL});
    free(big);

    printf("still running\n");
    return 0;
}
