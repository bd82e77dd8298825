/* A vfork child shares its parent's memory until it execs or exits, and
 * what it wrote stays: posix_spawn reports the child's exec error that
 * way (glibc stores it from the child), so a missing program is an error
 * and not a child exiting 127. Also vfork itself and a raw clone with
 * CLONE_VM|CLONE_VFORK on a stack of its own, writing globals, the
 * parent's stack, the heap, memory the kernel writes (read(2) into a
 * buffer) and zeroes (MADV_DONTNEED), around mappings of the child's own. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int global_word;
static char global_text[64];

static void spawn(const char *what, int use_path, const char *program) {
    char *argv[] = {(char *)program, "-c", "exit 3", NULL};
    pid_t pid = -1;
    int r = use_path ? posix_spawnp(&pid, program, NULL, NULL, argv, environ)
                     : posix_spawn(&pid, program, NULL, NULL, argv, environ);
    if (r != 0) {
        printf("%-34s error %s\n", what, strerror(r));
        return;
    }
    int status;
    waitpid(pid, &status, 0);
    printf("%-34s started, exit %d\n", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

struct shared {
    int stack_word;
    char *heap;
    char from_pipe[16];
    int pipe_read;
};

static int clone_child(void *arg) {
    struct shared *s = arg;
    s->stack_word = 4242;
    strcpy(s->heap, "written by the clone child");
    global_word += 1000;
    _exit(0);
}

int main(void) {
    spawn("posix_spawn of a missing file", 0, "/nonexistent/program");
    spawn("posix_spawnp of a missing program", 1, "no-such-program-anywhere");
    spawn("posix_spawn of /bin/sh", 0, "/bin/sh");
    spawn("posix_spawnp of sh", 1, "sh");

    /* vfork: the child writes, then exits or execs. */
    volatile int on_stack = 1;
    char *heap = malloc(64);
    strcpy(heap, "parent's");
    int fds[2];
    if (pipe(fds) != 0 || write(fds[1], "through a pipe", 15) != 15) return 1;
    struct shared s = {0};
    pid_t pid = vfork();
    if (pid == 0) {
        on_stack = 2;
        global_word = 7;
        strcpy(global_text, "written by the vfork child");
        strcpy(heap, "the child's");
        /* The kernel writes this one. */
        s.pipe_read = (int)read(fds[0], s.from_pipe, sizeof s.from_pipe);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("after vfork and _exit: stack %d, global %d, text \"%s\", heap \"%s\", read %d \"%s\"\n",
           on_stack, global_word, global_text, heap, s.pipe_read, s.from_pipe);

    pid = vfork();
    if (pid == 0) {
        global_word = 8;
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    printf("after vfork and exec: global %d, exit %d\n", global_word, WEXITSTATUS(status));

    pid = vfork();
    if (pid == 0) {
        int e = execl("/nonexistent/program", "x", (char *)NULL);
        global_word = -errno;
        _exit(e == -1 ? 127 : 0);
    }
    waitpid(pid, &status, 0);
    printf("after vfork and a failed exec: the child saw %s, exit %d\n",
           global_word == -ENOENT ? "ENOENT" : "something else", WEXITSTATUS(status));

    /* The child maps, writes and unmaps a page of its own, and drops one
     * of the parent's pages, which the parent then reads as zeros. */
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    strcpy(page, "dropped by the child");
    pid = vfork();
    if (pid == 0) {
        char *own = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (own == MAP_FAILED) _exit(1);
        strcpy(own, "the child's own");
        munmap(own, 8192);
        madvise(page, 4096, MADV_DONTNEED);
        global_word = 9;
        _exit(0);
    }
    waitpid(pid, &status, 0);
    printf("after vfork with mappings: global %d, the dropped page holds \"%s\"\n", global_word, page);

    /* A fork inside the vfork child: the grandchild's memory is its own. */
    pid = vfork();
    if (pid == 0) {
        pid_t grandchild = fork();
        if (grandchild == 0) {
            global_word = -1;
            strcpy(heap, "the grandchild's");
            _exit(0);
        }
        waitpid(grandchild, NULL, 0);
        global_word = 10;
        _exit(0);
    }
    waitpid(pid, &status, 0);
    printf("after a fork in a vfork child: global %d, heap \"%s\"\n", global_word, heap);

    /* clone with CLONE_VM|CLONE_VFORK on a stack of its own, as
     * posix_spawn does. */
    size_t size = 1 << 16;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return 1;
    s.heap = heap;
    pid = clone(clone_child, stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &s);
    if (pid < 0) {
        printf("clone: %s\n", strerror(errno));
        return 1;
    }
    waitpid(pid, &status, 0);
    printf("after clone(CLONE_VM|CLONE_VFORK): stack %d, global %d, heap \"%s\"\n", s.stack_word, global_word, heap);
    return 0;
}
