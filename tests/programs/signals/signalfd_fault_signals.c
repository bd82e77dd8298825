/* A signalfd for fault signals (SIGFPE, SIGILL, SIGTRAP) that the program
 * blocks, sent by kill and sigqueue: Transit keeps such instances itself,
 * not in the kernel's queue (the host never blocks fault signals), yet
 * poll must see the signalfd ready and read must return them, synchronous
 * signals lowest number first, then nothing. (SIGSEGV and SIGBUS are left
 * out: qemu-user, which runs the tests on x86_64 hosts, keeps those two
 * for itself.) */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const char *name(unsigned sig) {
    return sig == SIGFPE ? "SIGFPE" : sig == SIGILL ? "SIGILL" : sig == SIGTRAP ? "SIGTRAP" : "other";
}

static void read_one(int fd, const char *what) {
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    if (n < 0) {
        printf("%s: read -1 errno=%s\n", what, errno == EAGAIN ? "EAGAIN" : "other");
        return;
    }
    /* glibc's raise and kill differ from musl's in SI_TKILL vs SI_USER. */
    int code = si.ssi_code == SI_TKILL ? SI_USER : si.ssi_code;
    printf("%s: read %zd %s code=%d from-self=%d value=%d\n", what, n, name(si.ssi_signo), code, si.ssi_pid == (unsigned)getpid(),
           si.ssi_code == SI_QUEUE ? si.ssi_int : -1);
}

int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGFPE);
    sigaddset(&set, SIGILL);
    sigaddset(&set, SIGTRAP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);

    struct pollfd p = {fd, POLLIN, 0};
    printf("poll before: %d\n", poll(&p, 1, 0));

    kill(getpid(), SIGFPE);
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGILL, v);
    p.revents = 0;
    int ready = poll(&p, 1, 1000);
    printf("poll after: %d revents=%s\n", ready, p.revents & POLLIN ? "POLLIN" : "none");
    read_one(fd, "first");
    read_one(fd, "second");
    read_one(fd, "third");

    /* Through epoll, and a signal sent while epoll_wait already waits
     * would need another thread; one sent before is enough here. */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    raise(SIGTRAP);
    struct epoll_event out;
    printf("epoll_wait: %d\n", epoll_wait(ep, &out, 1, 1000));
    read_one(fd, "after epoll");

    /* Still pending for sigpending when nothing read it. */
    kill(getpid(), SIGFPE);
    sigset_t pending;
    sigpending(&pending);
    printf("pending SIGFPE: %d\n", sigismember(&pending, SIGFPE));
    read_one(fd, "last");
    sigpending(&pending);
    printf("pending SIGFPE after read: %d\n", sigismember(&pending, SIGFPE));
    return 0;
}
