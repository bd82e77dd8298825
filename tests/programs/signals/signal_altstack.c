/* sigaltstack with SA_ONSTACK: the handler runs on the alternate stack,
 * sees SS_ONSTACK, cannot change the stack while on it, and nested
 * delivery stays on it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *alt;
static size_t alt_size = 64 * 1024;
static volatile int on_alt, flags_seen, change_errno, nested_on_alt, depth;

static int within(void *p) {
    return (char *)p >= alt && (char *)p < alt + alt_size;
}

static void handler(int sig) {
    int local;
    (void)sig;
    depth++;
    if (depth == 1) {
        on_alt = within(&local);
        stack_t now;
        sigaltstack(NULL, &now);
        flags_seen = now.ss_flags;
        stack_t other = {.ss_sp = malloc(alt_size), .ss_size = alt_size};
        change_errno = sigaltstack(&other, NULL) == 0 ? 0 : errno;
        raise(SIGUSR2);
    } else {
        nested_on_alt = within(&local);
    }
    depth--;
}

int main(void) {
    alt = malloc(alt_size);
    stack_t ss = {.ss_sp = alt, .ss_size = alt_size, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    int local;
    raise(SIGUSR1);
    printf("main on alt stack: %d\n", within(&local));
    printf("handler on alt stack: %d, ss_flags has SS_ONSTACK: %d, change while on it: %s, nested on alt: %d\n",
           on_alt, (flags_seen & SS_ONSTACK) != 0, change_errno == EPERM ? "EPERM" : "allowed", nested_on_alt);
    stack_t after;
    sigaltstack(NULL, &after);
    printf("after: flags=%d same stack: %d\n", after.ss_flags, after.ss_sp == alt);

    /* Without SA_ONSTACK the handler stays on the normal stack. */
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    on_alt = -1;
    raise(SIGUSR1);
    printf("without SA_ONSTACK: on alt stack: %d\n", on_alt);
    return 0;
}
