/* A process whose first thread has exited (pthread_exit in main) while
 * another runs on. Linux then finds no memory behind the process's id:
 * process_vm_readv on it fails with ESRCH and /proc/self/maps reads
 * empty. Transit copied signal frames and syscall structs that way, so the
 * remaining thread died of SIGSEGV at its next signal on a real kernel
 * (the arm64 VM); qemu-user, which has no process_vm_readv, hid it. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static pid_t leader;
static volatile sig_atomic_t handled, handled_code;

static void on_usr1(int sig, siginfo_t *info, void *ctx) {
    (void)sig, (void)ctx;
    handled_code = info->si_code;
    handled++;
}

/* The first thread has exited once its /proc entry says so (zombie) or is gone. */
static int leader_gone(void) {
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)leader);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = 0;
    char *end = strrchr(stat, ')');
    return end && (end[2] == 'Z' || end[2] == 'X');
}

static void *survivor(void *arg) {
    (void)arg;
    struct timespec tick = {0, 10 * 1000 * 1000};
    int waited = 0;
    while (!leader_gone() && waited++ < 500) nanosleep(&tick, NULL);
    printf("the first thread has exited: %s\n", leader_gone() ? "yes" : "no");

    /* A handler: its frame is written to this thread's stack and read back
     * by rt_sigreturn. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    printf("sigaction: %d\n", sigaction(SIGUSR1, &sa, NULL));
    for (int i = 0; i < 3; i++) raise(SIGUSR1);
    printf("SIGUSR1 handled %d time(s), si_code %d\n", (int)handled, (int)handled_code);

    /* Structs the kernel's x86_64 and aarch64 layouts share or not. */
    struct utsname u;
    printf("uname: %d, machine %s\n", uname(&u), u.machine);
    struct timespec now;
    printf("clock_gettime: %d\n", clock_gettime(CLOCK_REALTIME, &now));

    /* A file Transit writes itself (x86_64's view of the CPU). */
    char line[64] = "";
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    if (cpuinfo && fgets(line, sizeof line, cpuinfo)) line[strcspn(line, "\t:")] = 0;
    if (cpuinfo) fclose(cpuinfo);
    printf("/proc/cpuinfo starts with: %s\n", line);

    /* Many mappings: placed where the map says there is room. */
    int ok = 1;
    void *maps[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 64; i++) {
            size_t len = (size_t)(i % 7 + 1) << 16;
            maps[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (maps[i] == MAP_FAILED) { ok = 0; continue; }
            memset(maps[i], i, len);
        }
        for (int i = 0; i < 64; i++)
            if (maps[i] != MAP_FAILED) munmap(maps[i], (size_t)(i % 7 + 1) << 16);
    }
    printf("128 anonymous mappings made, written and unmapped: %s\n", ok ? "yes" : "no");

    /* posix_spawn reports a missing program through memory its vfork child
     * shares with this thread. */
    pid_t child;
    char *argv[] = {"/nonexistent/program", NULL};
    int err = posix_spawn(&child, argv[0], NULL, NULL, argv, environ);
    printf("posix_spawn of a missing program: %s\n", err == ENOENT ? "ENOENT" : err == 0 ? "0 (a child was started)" : strerror(err));
    if (err == 0) waitpid(child, NULL, 0);
    fflush(stdout);
    exit(0);
}

int main(void) {
    leader = getpid();
    pthread_t t;
    pthread_create(&t, NULL, survivor, NULL);
    pthread_exit(NULL);
}
