//! The differential check behind every `pass` in the syscall table: structs
//! that cross the syscall boundary unconverted must have the same size,
//! alignment and field offsets when compiled for x86_64 and for aarch64.
//! (C library types stand in for the kernel's where the two agree, which
//! is the case for all types below on both 64-bit glibc ports.)

use super::oracle::{run_aarch64_c, run_x86_64_c};

const HEADERS: &str = r#"
#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <signal.h>
#include <time.h>
#include <poll.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/times.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/sem.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <netinet/in.h>
#include <asm/termbits.h>
#include <linux/stat.h>
#include <linux/futex.h>
#include <linux/aio_abi.h>
#include <linux/capability.h>
#define S(t) printf(#t " size %zu align %zu\n", sizeof(t), _Alignof(t));
#define F(t, f) printf(#t "." #f " %zu\n", offsetof(t, f));
int main(void) {
"#;

/// Every struct a `pass` entry or a passed-through ioctl relies on.
const IDENTICAL: &str = r#"
S(struct termios) F(struct termios, c_lflag) F(struct termios, c_line) F(struct termios, c_cc)
S(struct termios2) F(struct termios2, c_ispeed) F(struct termios2, c_ospeed)
S(struct termio) F(struct termio, c_cc)
S(struct winsize) F(struct winsize, ws_ypixel)
S(struct timespec) F(struct timespec, tv_nsec)
S(struct timeval) F(struct timeval, tv_usec)
S(struct itimerval) F(struct itimerval, it_value)
S(struct itimerspec) F(struct itimerspec, it_value)
S(struct rusage) F(struct rusage, ru_maxrss) F(struct rusage, ru_nivcsw)
S(struct sysinfo) F(struct sysinfo, totalram) F(struct sysinfo, procs) F(struct sysinfo, totalhigh) F(struct sysinfo, mem_unit)
S(struct statfs) F(struct statfs, f_blocks) F(struct statfs, f_fsid) F(struct statfs, f_namelen) F(struct statfs, f_flags)
S(struct utsname) F(struct utsname, machine)
S(struct iovec) F(struct iovec, iov_len)
S(struct pollfd) F(struct pollfd, events) F(struct pollfd, revents)
S(struct sockaddr_in6) F(struct sockaddr_in6, sin6_scope_id)
S(struct msghdr) F(struct msghdr, msg_iovlen) F(struct msghdr, msg_control) F(struct msghdr, msg_flags)
S(struct cmsghdr) F(struct cmsghdr, cmsg_type)
S(struct mmsghdr) F(struct mmsghdr, msg_len)
S(struct rlimit) F(struct rlimit, rlim_max)
S(struct tms) F(struct tms, tms_cstime)
S(struct flock) F(struct flock, l_start) F(struct flock, l_len) F(struct flock, l_pid)
S(struct f_owner_ex) F(struct f_owner_ex, pid)
S(siginfo_t) F(siginfo_t, si_code) F(siginfo_t, si_pid) F(siginfo_t, si_uid) F(siginfo_t, si_status) F(siginfo_t, si_addr)
S(struct sigevent) F(struct sigevent, sigev_signo) F(struct sigevent, sigev_notify)
S(struct signalfd_siginfo) F(struct signalfd_siginfo, ssi_pid) F(struct signalfd_siginfo, ssi_addr)
S(struct sembuf) F(struct sembuf, sem_flg)
S(struct mq_attr) F(struct mq_attr, mq_curmsgs)
S(struct statx) F(struct statx, stx_size) F(struct statx, stx_mtime) F(struct statx, stx_dev_minor)
S(struct robust_list_head) F(struct robust_list_head, futex_offset) F(struct robust_list_head, list_op_pending)
S(struct iocb) F(struct iocb, aio_fildes) F(struct iocb, aio_buf) F(struct iocb, aio_offset) F(struct iocb, aio_resfd)
S(struct io_event) F(struct io_event, res2)
S(struct timex) F(struct timex, freq) F(struct timex, tai)
S(struct __user_cap_header_struct) S(struct __user_cap_data_struct)
S(fd_set) S(stack_t) F(stack_t, ss_size)
"#;

/// Structs the `abi` module converts: the test must see them differ, which
/// also shows that it can tell.
const DIFFERENT: &str = r#"
#include <sys/stat.h>
#include <sys/epoll.h>
int main(void) {
S(struct stat) F(struct stat, st_nlink) F(struct stat, st_mode)
S(struct epoll_event)
return 0; }
"#;

fn program(body: &str) -> String {
    format!("{HEADERS}{body}\nreturn 0; }}\n")
}

#[test]
fn identical_layouts() {
    let source = program(IDENTICAL);
    let (Some(x86), Some(arm)) = (run_x86_64_c(&source), run_aarch64_c(&source)) else {
        return;
    };
    assert!(
        x86.lines().count() > 60,
        "oracle printed too little:\n{x86}"
    );
    for (x, a) in x86.lines().zip(arm.lines()) {
        assert_eq!(x, a, "x86_64 vs aarch64");
    }
    assert_eq!(x86.lines().count(), arm.lines().count());
}

#[test]
fn converted_layouts_do_differ() {
    let source = HEADERS.replace("int main(void) {", "") + DIFFERENT;
    let (Some(x86), Some(arm)) = (run_x86_64_c(&source), run_aarch64_c(&source)) else {
        return;
    };
    for (x, a) in x86.lines().zip(arm.lines()) {
        assert_ne!(x, a, "expected a difference");
    }
}
