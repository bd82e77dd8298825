/* fork, vfork, pipes and waiting: each child reports through its own pipe
 * and ends with its own status (an exit code, or death by a signal); the
 * parent reads, then waits, in a fixed order. Memory is not shared after
 * fork. A vfork child runs before its parent continues. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int counter = 100;

static void report(const char *what, int status) {
    if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    else
        printf("%s: status %#x\n", what, status);
}

int main(void) {
    static const int codes[] = {0, 1, 42, 255};
    pid_t self = getpid();
    for (int i = 0; i < 4; i++) {
        int fds[2];
        if (pipe(fds) != 0) return 100;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) return 101;
        if (pid == 0) {
            close(fds[0]);
            counter += i;
            char msg[64];
            int n = snprintf(msg, sizeof msg, "child %d: counter %d, parent is ours: %d\n", i, counter,
                             getppid() == self);
            if (write(fds[1], msg, n) != n) _exit(102);
            _exit(codes[i]);
        }
        close(fds[1]);
        char buf[128];
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0) fwrite(buf, 1, n, stdout);
        close(fds[0]);
        int status;
        if (waitpid(pid, &status, 0) != pid) return 103;
        char what[32];
        snprintf(what, sizeof what, "child %d", i);
        report(what, status);
    }
    printf("parent counter still %d\n", counter);

    /* Death by a signal the child sends itself. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGTERM);
        _exit(3);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) return 104;
    report("signalled child", status);

    /* waitid reports the same through siginfo_t. */
    pid = fork();
    if (pid == 0) _exit(9);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, pid, &info, WEXITED) != 0) return 105;
    printf("waitid: code %s, status %d, pid matches %d\n", info.si_code == CLD_EXITED ? "CLD_EXITED" : "other",
           info.si_status, info.si_pid == pid);

    /* vfork: the parent resumes only after the child has exited. */
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        static const char msg[] = "vfork child writes first\n";
        if (write(STDOUT_FILENO, msg, sizeof msg - 1) < 0) _exit(1);
        _exit(5);
    }
    printf("vfork parent continues\n");
    if (waitpid(pid, &status, 0) != pid) return 106;
    report("vfork child", status);

    /* No children left. */
    printf("wait with no children: %d\n", wait(NULL));
    return 0;
}
