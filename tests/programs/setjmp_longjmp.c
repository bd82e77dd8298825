/* Non-local jumps: setjmp/longjmp out of nested calls, the value 0 turned
 * into 1, volatile locals surviving the jump, several live buffers used as
 * an error-handling stack, and sigsetjmp/siglongjmp restoring the blocked
 * signal mask (so rt_sigprocmask must be emulated faithfully). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf handlers[4];
static int depth_reached;

__attribute__((noinline)) static void descend(int depth, int throw_at, int level) {
    depth_reached = depth;
    if (depth == throw_at) longjmp(handlers[level], depth * 10 + level);
    if (depth > 100) return;
    descend(depth + 1, throw_at, level);
    depth_reached = -1; /* never runs */
}

__attribute__((noinline)) static int try_level(int level, int throw_at) {
    int code = setjmp(handlers[level]);
    if (code == 0) {
        if (level < 3) return try_level(level + 1, throw_at) + 1000;
        descend(0, throw_at, throw_at % 4);
        return -1;
    }
    printf("  level %d caught %d (depth %d)\n", level, code, depth_reached);
    return code;
}

int main(void) {
    jmp_buf buffer;
    volatile int counter = 0;
    int value = setjmp(buffer);
    printf("setjmp returned %d, counter %d\n", value, counter);
    if (counter < 3) {
        counter++;
        longjmp(buffer, counter == 2 ? 0 : counter * 100);
    }

    for (int throw_at = 0; throw_at < 8; throw_at++) printf("try with throw at %d -> %d\n", throw_at, try_level(0, throw_at));

    sigjmp_buf signal_buffer;
    sigset_t blocked, current;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_SETMASK, &blocked, NULL);
    if (sigsetjmp(signal_buffer, 1) == 0) {
        sigaddset(&blocked, SIGUSR2);
        sigprocmask(SIG_SETMASK, &blocked, NULL);
        sigprocmask(SIG_SETMASK, NULL, &current);
        printf("before siglongjmp: USR1 %d USR2 %d\n", sigismember(&current, SIGUSR1), sigismember(&current, SIGUSR2));
        siglongjmp(signal_buffer, 7);
    }
    sigprocmask(SIG_SETMASK, NULL, &current);
    printf("after siglongjmp: USR1 %d USR2 %d\n", sigismember(&current, SIGUSR1), sigismember(&current, SIGUSR2));

    if (sigsetjmp(signal_buffer, 0) == 0) {
        sigemptyset(&blocked);
        sigprocmask(SIG_SETMASK, &blocked, NULL);
        siglongjmp(signal_buffer, 1);
    }
    sigprocmask(SIG_SETMASK, NULL, &current);
    printf("without savemask: USR1 %d\n", sigismember(&current, SIGUSR1));
    return 0;
}
