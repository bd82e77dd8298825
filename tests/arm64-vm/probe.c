/* What an x86_64 program sees of how it was started: the arm64 VM tests
 * (run.sh, guest-tests.sh) run it through binfmt_misc and read these lines.
 * Built static, so it needs nothing from the chroot or container around it. */
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct utsname u;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n < 0 ? 0 : n] = 0;
    uname(&u);
    printf("machine=%s\n", u.machine);
    printf("argv0=%s\n", argv[0]);
    for (int i = 1; i < argc; i++)
        printf("arg%d=%s\n", i, argv[i]);
    printf("uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
    printf("at_secure=%lu\n", getauxval(AT_SECURE));
    printf("exe=%s\n", n < 0 ? "?" : exe);
    return 0;
}
