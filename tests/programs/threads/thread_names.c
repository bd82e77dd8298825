/* The names the kernel gives a process and its threads (comm): the
 * program's file name, inherited by a new thread, changed by
 * pthread_setname_np / PR_SET_NAME; what ps, top and /proc show. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void print_comm(const char *who) {
    char path[64], name[32] = {0};
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", gettid());
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(name, sizeof name, f)) name[0] = 0;
        fclose(f);
    }
    name[strcspn(name, "\n")] = 0;
    char got[32] = {0};
    prctl(PR_GET_NAME, got);
    printf("%s: comm %s, PR_GET_NAME %s\n", who, name, got);
}

static void *thread_main(void *arg) {
    (void)arg;
    print_comm("new thread");
    pthread_setname_np(pthread_self(), "worker-1");
    print_comm("renamed thread");
    return NULL;
}

int main(void) {
    print_comm("main");
    pthread_t t;
    pthread_create(&t, NULL, thread_main, NULL);
    pthread_join(t, NULL);
    prctl(PR_SET_NAME, "main-renamed");
    print_comm("main after PR_SET_NAME");
    return 0;
}
