# libseccomp's filters (python3-seccomp): an errno for a syscall, one for
# an argument under a mask, and KILL_PROCESS in a forked child (signal 31).
import errno, os, seccomp
f = seccomp.SyscallFilter(seccomp.ALLOW)
f.add_rule(seccomp.ERRNO(errno.EPERM), "getppid")
f.add_rule(seccomp.ERRNO(errno.EACCES), "mkdir", seccomp.Arg(1, seccomp.MASKED_EQ, 0o777, 0o700))
f.add_rule(seccomp.KILL_PROCESS, "ptrace")
f.load()
for name, call in [("getppid", os.getppid), ("mkdir 0700", lambda: os.mkdir("/nonexistent/x", 0o700)), ("mkdir 0755", lambda: os.mkdir("/nonexistent/x", 0o755))]:
    try:
        call(); print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
pid = os.fork()
if pid == 0:
    import ctypes
    ctypes.CDLL(None).ptrace(0, 0, 0, 0)
    os._exit(0)
print("child:", os.waitpid(pid, 0)[1] & 0x7f)
