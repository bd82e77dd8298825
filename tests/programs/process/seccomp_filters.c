/* seccomp filters as a sandbox uses them: BPF over x86_64 syscall numbers,
 * architectures and arguments; ERRNO, TRAP (SIGSYS with the call's
 * details), TRACE without a tracer, LOG and KILL_PROCESS; stacked filters
 * (the most restrictive action wins, the newest among equals); filters
 * kept by new threads, forked children and an exec'd program; TSYNC onto
 * a running thread; strict mode; and the filters the kernel refuses. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

/* The kernel's definitions (linux/filter.h, linux/seccomp.h,
 * linux/audit.h), which not every C library's headers carry. */
struct sock_filter {
    unsigned short code;
    unsigned char jt, jf;
    unsigned int k;
};
struct sock_fprog {
    unsigned short len;
    struct sock_filter *filter;
};
struct seccomp_data {
    int nr;
    unsigned arch;
    unsigned long long instruction_pointer, args[6];
};
#define BPF_LD 0x00
#define BPF_W 0x00
#define BPF_ABS 0x20
#define BPF_JMP 0x05
#define BPF_JEQ 0x10
#define BPF_K 0x00
#define BPF_RET 0x06
#define BPF_STMT(code, k) {(unsigned short)(code), 0, 0, k}
#define BPF_JUMP(code, k, jt, jf) {(unsigned short)(code), jt, jf, k}
#define SECCOMP_MODE_STRICT 1
#define SECCOMP_MODE_FILTER 2
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_GET_ACTION_AVAIL 2
#define SECCOMP_FILTER_FLAG_TSYNC 1
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH 16
#define SECCOMP_RET_KILL_PROCESS 0x80000000u
#define SECCOMP_RET_TRAP 0x00030000u
#define SECCOMP_RET_ERRNO 0x00050000u
#define SECCOMP_RET_TRACE 0x7ff00000u
#define SECCOMP_RET_LOG 0x7ffc0000u
#define SECCOMP_RET_ALLOW 0x7fff0000u
#define AUDIT_ARCH_X86_64 0xc000003eu

#define NR offsetof(struct seccomp_data, nr)
#define ARCH offsetof(struct seccomp_data, arch)
#define ARG0 offsetof(struct seccomp_data, args[0])
#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, field)
#define RET(value) BPF_STMT(BPF_RET | BPF_K, value)
/* If the syscall number is `nr`, return `value`; else go on. */
#define ON(nr, value) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1), RET(value)
#define COUNT(filter) (unsigned short)(sizeof filter / sizeof filter[0])

static long sys_seccomp(unsigned op, unsigned flags, void *args) {
    return syscall(SYS_seccomp, op, flags, args);
}

static int install(struct sock_filter *f, unsigned short len, unsigned flags) {
    struct sock_fprog prog = {len, f};
    return (int)sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* The filters below return errno 7 and 42 to 45. */
static const char *errno_name(int e) {
    switch (e) {
    case E2BIG: return "E2BIG";
    case ENOMSG: return "ENOMSG";
    case EIDRM: return "EIDRM";
    case ECHRNG: return "ECHRNG";
    case EL2NSYNC: return "EL2NSYNC";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESRCH: return "ESRCH";
    default: return "other";
    }
}

static void show(const char *what, long r) {
    printf("%-34s %ld%s%s\n", what, r, r < 0 ? " errno " : "", r < 0 ? errno_name(errno) : "");
}

static volatile int trapped;
static void on_sigsys(int sig, siginfo_t *si, void *uc_) {
    ucontext_t *uc = uc_;
    trapped = 1;
    printf("SIGSYS: code %d, errno %d, syscall %d, arch %s, call address %s, rax %lld\n", si->si_code, si->si_errno,
           si->si_syscall, si->si_arch == AUDIT_ARCH_X86_64 ? "x86_64" : "other", si->si_call_addr ? "set" : "null",
           (long long)uc->uc_mcontext.gregs[REG_RAX]);
    /* Return as the call would have: -1 from uname. */
    uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
    (void)sig;
}

static sem_t ready, go;
static void *tsync_thread(void *arg) {
    (void)arg;
    show("thread: getppid (inherited)", syscall(SYS_getppid));
    sem_post(&ready);
    sem_wait(&go);
    show("thread: getsid after TSYNC", syscall(SYS_getsid, 0));
    return NULL;
}

/* A thread with a filter of its own, which a TSYNC cannot replace. */
static sem_t own_ready, own_go;
static void *own_filter_thread(void *arg) {
    (void)arg;
    struct sock_filter own[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    install(own, 1, 0);
    sem_post(&own_ready);
    sem_wait(&own_go);
    return NULL;
}

static int child_status(pid_t pid) {
    int status;
    waitpid(pid, &status, 0);
    return status;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        /* The exec'd program: the filters came along. */
        show("after exec: prctl(PR_GET_SECCOMP)", prctl(PR_GET_SECCOMP));
        show("after exec: getppid", syscall(SYS_getppid));
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    show("prctl(PR_GET_SECCOMP)", prctl(PR_GET_SECCOMP));
    show("no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));

    /* Strict mode, before any filter (it cannot follow one). */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT);
        write(1, "strict child: write works\n", 26);
        syscall(SYS_getpid);
        syscall(SYS_exit, 0);
    }
    int status = child_status(pid);
    printf("the strict child %s\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? "died of SIGKILL" : "did not die of SIGKILL");

    struct sock_filter bad[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 5, 0), RET(SECCOMP_RET_ALLOW)};
    show("a jump past the end", install(bad, COUNT(bad), 0));
    struct sock_filter unaligned[] = {LOAD(2), RET(SECCOMP_RET_ALLOW)};
    show("an unaligned load", install(unaligned, COUNT(unaligned), 0));
    unsigned action = SECCOMP_RET_LOG;
    show("GET_ACTION_AVAIL(LOG)", sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action));
    action = 0x12340000;
    show("GET_ACTION_AVAIL(unknown)", sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action));

    struct sock_filter first[] = {
        LOAD(ARCH),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        RET(SECCOMP_RET_KILL_PROCESS),
        LOAD(NR),
        ON(SYS_getppid, SECCOMP_RET_ERRNO | 42),
        ON(SYS_uname, SECCOMP_RET_TRAP | 0x77),
        ON(SYS_gettid, SECCOMP_RET_TRACE),
        ON(SYS_getuid, SECCOMP_RET_LOG),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 3),
        LOAD(ARG0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 99, 0, 1),
        RET(SECCOMP_RET_ERRNO | 7),
        RET(SECCOMP_RET_ALLOW),
    };
    show("install a filter", install(first, COUNT(first), 0));
    show("prctl(PR_GET_SECCOMP)", prctl(PR_GET_SECCOMP));
    show("getppid", syscall(SYS_getppid));
    show("write to fd 99", write(99, "x", 1));
    show("gettid (TRACE, no tracer)", syscall(SYS_gettid));
    show("getuid (LOG) is 0 or more", syscall(SYS_getuid) >= 0);

    struct sigaction sa = {0};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    struct utsname u;
    show("uname (TRAP)", syscall(SYS_uname, &u));
    show("the handler ran", trapped);

    /* A second filter, through prctl: ERRNO against ERRNO, the newest wins. */
    struct sock_filter second[] = {
        LOAD(NR),
        ON(SYS_getppid, SECCOMP_RET_ERRNO | 43),
        ON(SYS_getpgrp, SECCOMP_RET_ERRNO | 44),
        RET(SECCOMP_RET_ALLOW),
    };
    show("strict mode over a filter", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
    show("prctl(PR_SET_SECCOMP, FILTER)", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &(struct sock_fprog){COUNT(second), second}));
    show("getppid (both filters)", syscall(SYS_getppid));
    show("getpgrp", syscall(SYS_getpgrp));

    sem_init(&ready, 0, 0);
    sem_init(&go, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, tsync_thread, NULL);
    sem_wait(&ready);
    struct sock_filter third[] = {LOAD(NR), ON(SYS_getsid, SECCOMP_RET_ERRNO | 45), RET(SECCOMP_RET_ALLOW)};
    show("install with TSYNC", install(third, COUNT(third), SECCOMP_FILTER_FLAG_TSYNC));
    sem_post(&go);
    pthread_join(t, NULL);

    sem_init(&own_ready, 0, 0);
    sem_init(&own_go, 0, 0);
    pthread_create(&t, NULL, own_filter_thread, NULL);
    sem_wait(&own_ready);
    struct sock_filter fourth[] = {RET(SECCOMP_RET_ALLOW)};
    long r = install(fourth, COUNT(fourth), SECCOMP_FILTER_FLAG_TSYNC);
    /* (gettid is filtered: the id is another thread's if not the process's.) */
    printf("TSYNC over a thread's own filter   %s\n", r > 0 && r != getpid() ? "returned that thread's id" : "did something else");
    show("the same with TSYNC_ESRCH", install(fourth, COUNT(fourth), SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
    sem_post(&own_go);
    pthread_join(t, NULL);

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        show("forked child: getppid", syscall(SYS_getppid));
        struct sock_filter kill[] = {LOAD(NR), ON(SYS_getpgrp, SECCOMP_RET_KILL_PROCESS), RET(SECCOMP_RET_ALLOW)};
        install(kill, COUNT(kill), 0);
        syscall(SYS_getpgrp);
        _exit(0);
    }
    status = child_status(pid);
    printf("the child %s\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS ? "died of SIGSYS" : "did not die of SIGSYS");


    pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
        _exit(127);
    }
    status = child_status(pid);
    printf("the exec'd child exited %d\n", WEXITSTATUS(status));
    return 0;
}
