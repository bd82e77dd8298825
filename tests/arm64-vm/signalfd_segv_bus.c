/* tests/programs/signals/signalfd_fault_signals.c for SIGSEGV and SIGBUS,
 * which qemu-user keeps for itself, so only a real kernel runs it: sent by
 * kill and sigqueue while blocked, they wait in Transit's queue (the host
 * never blocks fault signals), yet a signalfd must see them. Prints what
 * the x86_64 kernel gives; guest-tests.sh compares. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void read_one(int fd, const char *what) {
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    if (n < 0) {
        printf("%s: read -1 errno=%s\n", what, errno == EAGAIN ? "EAGAIN" : "other");
        return;
    }
    const char *name = si.ssi_signo == SIGSEGV ? "SIGSEGV" : si.ssi_signo == SIGBUS ? "SIGBUS" : "other";
    printf("%s: read %zd %s code=%d value=%d\n", what, n, name, si.ssi_code, si.ssi_code == SI_QUEUE ? si.ssi_int : -1);
}

int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    sigaddset(&set, SIGBUS);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    kill(getpid(), SIGSEGV);
    union sigval v = {.sival_int = 7};
    sigqueue(getpid(), SIGBUS, v);
    struct pollfd p = {fd, POLLIN, 0};
    int ready = poll(&p, 1, 1000);
    printf("poll: %d revents=%s\n", ready, p.revents & POLLIN ? "POLLIN" : "none");
    read_one(fd, "first");
    read_one(fd, "second");
    read_one(fd, "third");
    return 0;
}
