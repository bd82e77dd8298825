/* File I/O in $TMPDIR (the harness makes it a fresh directory): open,
 * write, lseek from each origin, read, pread/pwrite, fstat/stat sizes,
 * ftruncate, rename, a directory listing, dup2, a pipe, buffered stdio
 * (fopen/fprintf/fseek/ftell/fgets/fread), and errno for missing files.
 * Paths are never printed, only what is read back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char directory[512];
static unsigned failures;

static const char *in_dir(const char *name) {
    static char paths[4][600];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", directory, name);
    return path;
}

#define CHECK(condition)                                                   \
    do {                                                                   \
        if (!(condition)) {                                                \
            failures++;                                                    \
            printf("FAIL line %d: %s (errno %d)\n", __LINE__, #condition, errno); \
        }                                                                  \
    } while (0)

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(directory, sizeof directory, "%s/file-io-test", tmp && *tmp ? tmp : "/tmp");
    umask(022); /* modes are printed: do not inherit the caller's mask */
    CHECK(mkdir(directory, 0755) == 0);

    const char *path = in_dir("data.bin");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    char block[4096];
    for (size_t i = 0; i < sizeof block; i++) block[i] = (char)('A' + i % 26);
    CHECK(write(fd, "header\n", 7) == 7);
    CHECK(write(fd, block, sizeof block) == (ssize_t)sizeof block);
    CHECK(write(fd, "footer\n", 7) == 7);
    printf("lseek end: %ld\n", (long)lseek(fd, 0, SEEK_END));
    printf("lseek set 3: %ld\n", (long)lseek(fd, 3, SEEK_SET));
    char small[16] = {0};
    CHECK(read(fd, small, 4) == 4);
    printf("read at 3: \"%s\"\n", small);
    printf("lseek cur +10: %ld\n", (long)lseek(fd, 10, SEEK_CUR));
    memset(small, 0, sizeof small);
    CHECK(read(fd, small, 5) == 5);
    printf("read: \"%s\"\n", small);
    printf("lseek end -7: %ld\n", (long)lseek(fd, -7, SEEK_END));
    memset(small, 0, sizeof small);
    printf("read to end: %ld \"%.6s\"\n", (long)read(fd, small, sizeof small - 1), small);
    printf("read at eof: %ld\n", (long)read(fd, small, 1));
    CHECK(pwrite(fd, "PWRITE", 6, 100) == 6);
    memset(small, 0, sizeof small);
    CHECK(pread(fd, small, 10, 98) == 10);
    printf("pread: \"%s\", offset still %ld\n", small, (long)lseek(fd, 0, SEEK_CUR));

    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    printf("fstat: size %ld regular %d mode %o\n", (long)st.st_size, S_ISREG(st.st_mode), (unsigned)(st.st_mode & 0777));
    CHECK(ftruncate(fd, 1000) == 0);
    CHECK(stat(path, &st) == 0);
    printf("after ftruncate: size %ld\n", (long)st.st_size);
    CHECK(ftruncate(fd, 5000) == 0);
    CHECK(pread(fd, small, 4, 4990) == 4);
    printf("extended with zeros: %d %d %d %d\n", small[0], small[1], small[2], small[3]);

    int copy = dup(fd);
    CHECK(copy >= 0);
    CHECK(lseek(copy, 0, SEEK_SET) == 0);
    printf("dup shares the offset: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    CHECK(dup2(fd, 40) == 40);
    CHECK(close(40) == 0 && close(copy) == 0 && close(fd) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);

    const char *renamed = in_dir("renamed.bin");
    CHECK(rename(path, renamed) == 0);
    errno = 0;
    CHECK(open(path, O_RDONLY) == -1);
    printf("open after rename: errno %s\n", errno == ENOENT ? "ENOENT" : "other");
    CHECK(access(renamed, R_OK | W_OK) == 0);

    FILE *file = fopen(in_dir("text.txt"), "w+");
    CHECK(file != NULL);
    for (int i = 1; i <= 5; i++) fprintf(file, "line %d: %d squared is %d\n", i, i, i * i);
    fputs("last line without newline", file);
    printf("ftell after writing: %ld\n", ftell(file));
    rewind(file);
    char text[128];
    int lines = 0;
    while (fgets(text, sizeof text, file)) {
        lines++;
        if (lines == 3 || !strchr(text, '\n')) printf("fgets %d: %s%s", lines, text, strchr(text, '\n') ? "" : "\n");
    }
    CHECK(feof(file) && !ferror(file));
    CHECK(fseek(file, -9, SEEK_END) == 0);
    size_t got = fread(text, 1, 100, file);
    text[got] = 0;
    printf("fread tail: %zu \"%s\"\n", got, text);
    CHECK(fclose(file) == 0);

    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    CHECK(write(pipe_fds[1], "through a pipe", 14) == 14);
    close(pipe_fds[1]);
    memset(text, 0, sizeof text);
    long first = (long)read(pipe_fds[0], text, sizeof text);
    printf("pipe: %ld \"%s\"", first, text);
    printf(", then %ld\n", (long)read(pipe_fds[0], text, 1));
    close(pipe_fds[0]);

    CHECK(mkdir(in_dir("subdir"), 0700) == 0);
    DIR *dir = opendir(directory);
    CHECK(dir != NULL);
    char *names[16];
    int count = 0;
    struct dirent *entry;
    while (dir && (entry = readdir(dir)) && count < 16) names[count++] = strdup(entry->d_name);
    if (dir) closedir(dir);
    qsort(names, (size_t)count, sizeof names[0], compare_names);
    printf("directory:");
    for (int i = 0; i < count; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");

    CHECK(unlink(renamed) == 0);
    CHECK(unlink(in_dir("text.txt")) == 0);
    CHECK(rmdir(in_dir("subdir")) == 0);
    errno = 0;
    CHECK(unlink(renamed) == -1);
    printf("unlink twice: errno %s\n", errno == ENOENT ? "ENOENT" : "other");
    errno = 0;
    CHECK(rmdir(directory) == 0);
    CHECK(stat(directory, &st) == -1 && errno == ENOENT);
    printf("%u failures\n", failures);
    return failures != 0;
}
