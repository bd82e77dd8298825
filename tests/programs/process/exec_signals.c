/* Signal dispositions and the blocked mask across execve. The program
 * prints what it inherited, then ignores, blocks and catches signals and
 * executes itself: the kernel keeps ignored signals and the mask, and resets
 * caught ones to SIG_DFL. The sets include the signals Transit handles
 * itself (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP). With SIGSEGV blocked,
 * it rewrites code it has run (Transit write-protects translated code and
 * takes the fault), starts a thread (which inherits the mask), and unblocks
 * a SIGSEGV it sent itself (the handler runs before sigprocmask returns).
 * `exec_signals 0 LAUNCHER` makes the second execve run `LAUNCHER SELF 2`:
 * under Transit, with Transit itself as the launcher, that execve is one the
 * kernel completes (an aarch64 program), not Transit's own.
 * The signal state is read with the raw syscalls, the same on every libc.
 * The state it inherits is its parent's: the `signal_inheritance` suite
 * also runs it with signals ignored and blocked from the start. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The x86_64 kernel's struct sigaction. */
struct kernel_sigaction {
    unsigned long handler, flags, restorer, mask;
};

static unsigned long blocked_mask(void) {
    unsigned long mask = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8);
    return mask;
}

/* Signals 32 to 34 belong to the C library (glibc claims 32 and 33, musl
 * 32 to 34, for threads), and differ between them: they are left out. */
static int libc_internal(int sig) {
    return sig >= 32 && sig <= 34;
}

static void print_set(const char *name, unsigned long set) {
    printf("%s", name);
    int none = 1;
    for (int sig = 1; sig <= 64; sig++)
        if (set >> (sig - 1) & 1 && !libc_internal(sig)) {
            printf(" %d", sig);
            none = 0;
        }
    if (none) printf(" -");
}

static void show(int step, const char *when) {
    unsigned long ignored = 0, caught = 0;
    for (int sig = 1; sig <= 64; sig++) {
        struct kernel_sigaction act;
        if (syscall(SYS_rt_sigaction, sig, NULL, &act, 8) != 0) continue;
        if (act.handler == (unsigned long)SIG_IGN) ignored |= 1UL << (sig - 1);
        else if (act.handler != (unsigned long)SIG_DFL) caught |= 1UL << (sig - 1);
    }
    printf("step %d, %s:", step, when);
    print_set(" ignored", ignored);
    print_set("; caught", caught);
    print_set("; blocked", blocked_mask());
    printf("\n");
    fflush(stdout);
}

static void on_signal(int sig) {
    char line[] = "  handler: signal 00\n";
    line[18] = '0' + sig / 10;
    line[19] = '0' + sig % 10;
    write(1, line, sizeof line - 1);
}

static void catch(int sig) {
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigaction(sig, &act, NULL);
}

static void ignore(int sig) {
    signal(sig, SIG_IGN);
}

static void change_mask(int how, const int *signals, int n) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < n; i++) sigaddset(&set, signals[i]);
    sigprocmask(how, &set, NULL);
}

static void exec_step(const char *self, int step, const char *launcher) {
    char arg[8];
    snprintf(arg, sizeof arg, "%d", step);
    if (launcher)
        execl(launcher, launcher, self, arg, (char *)NULL);
    else
        execl(self, self, arg, (char *)NULL);
    perror("execl");
    exit(1);
}

/* mov eax, imm32; ret */
static void write_function(unsigned char *code, int value) {
    code[0] = 0xb8;
    memcpy(code + 1, &value, 4);
    code[5] = 0xc3;
}

static void rewrite_running_code(void) {
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    int (*function)(void) = (int (*)(void))code;
    printf("  rewritten code returns");
    for (int value = 1; value <= 3; value++) {
        write_function(code, value * 11);
        printf(" %d", function());
    }
    printf("\n");
    munmap(code, 4096);
}

static void *report_thread_mask(void *unused) {
    (void)unused;
    print_set("  a new thread blocks", blocked_mask());
    printf("\n");
    return NULL;
}

int main(int argc, char **argv) {
    int step = argc > 1 ? atoi(argv[1]) : 0;
    const char *launcher = argc > 2 ? argv[2] : NULL;
    show(step, "started");
    switch (step) {
    case 0: {
        ignore(SIGPIPE);
        ignore(SIGSEGV);
        ignore(SIGFPE);
        ignore(SIGUSR2);
        ignore(SIGCHLD);
        ignore(40);
        catch(SIGTERM);
        catch(SIGILL);
        catch(SIGHUP);
        catch(50);
        int blocked[] = {SIGUSR1, SIGSEGV, SIGBUS, SIGTRAP, SIGALRM, 45};
        change_mask(SIG_BLOCK, blocked, sizeof blocked / sizeof *blocked);
        show(step, "before execve");
        if (launcher) {
            char self[4096];
            ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
            if (n <= 0) return 1;
            self[n] = 0;
            execl(argv[0], argv[0], "1", launcher, self, (char *)NULL);
            perror("execl");
            return 1;
        }
        exec_step(argv[0], 1, NULL);
        break;
    }
    case 1: {
        rewrite_running_code();
        pthread_t thread;
        pthread_create(&thread, NULL, report_thread_mask, NULL);
        pthread_join(thread, NULL);
        /* SIGUSR2 and SIGFPE are ignored: nothing happens. */
        raise(SIGUSR2);
        kill(getpid(), SIGFPE);
        catch(SIGSEGV);
        raise(SIGSEGV);
        printf("  SIGSEGV sent while blocked\n");
        fflush(stdout);
        int segv[] = {SIGSEGV};
        change_mask(SIG_UNBLOCK, segv, 1);
        printf("  SIGSEGV unblocked\n");
        /* Next: SIGPIPE back to its default, SIGTRAP ignored (and still
         * blocked), SIGBUS unblocked; the SIGSEGV handler becomes SIG_DFL. */
        signal(SIGPIPE, SIG_DFL);
        ignore(SIGTRAP);
        int bus[] = {SIGBUS};
        change_mask(SIG_UNBLOCK, bus, 1);
        show(step, "before execve");
        exec_step(argc > 3 ? argv[3] : argv[0], 2, launcher);
        break;
    }
    default:
        return 0;
    }
    return 1;
}
