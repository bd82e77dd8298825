/* Thread-local storage in a static program: __thread variables (with and
 * without initialisers, arrays, a struct) live at fixed offsets below the
 * thread pointer, which is the FS segment base; %fs:0 holds the thread
 * pointer itself; errno is thread-local; the stack-protector canary lives
 * at %fs:0x28 (x86_64 TCB layout, shared by glibc and musl). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static __thread int counter = 41;
static __thread long zeroed[64];
static __thread struct { char name[16]; double ratio; } record = {"initial", 0.5};
__thread unsigned long long global_tls = 0x1122334455667788ull;

__attribute__((noinline)) static void bump(int times) {
    for (int i = 0; i < times; i++) {
        counter++;
        zeroed[i % 64] += i;
        record.ratio *= 1.5;
    }
}

static uintptr_t thread_pointer(void) {
    uintptr_t tp;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
    return tp;
}

static uintptr_t canary(void) {
    uintptr_t value;
    __asm__ volatile("mov %%fs:0x28, %0" : "=r"(value));
    return value;
}

int main(void) {
    printf("initial: counter %d zeroed[5] %ld record %s %.2f global %llx\n", counter, zeroed[5], record.name, record.ratio, global_tls);
    bump(100);
    strcpy(record.name, "updated");
    global_tls ^= 0xffff;
    long sum = 0;
    for (int i = 0; i < 64; i++) sum += zeroed[i];
    printf("after: counter %d zeroed sum %ld record %s %.6g global %llx\n", counter, sum, record.name, record.ratio, global_tls);

    uintptr_t tp = thread_pointer();
    int ok_self = tp == (uintptr_t)pthread_self();
    uintptr_t counter_address = (uintptr_t)&counter, global_address = (uintptr_t)&global_tls;
    int below = counter_address < tp && tp - counter_address < 65536 && global_address < tp && tp - global_address < 65536;
    printf("%%fs:0 is pthread_self(): %s\n", ok_self ? "yes" : "no");
    printf("TLS variables just below the thread pointer: %s\n", below ? "yes" : "no");
    printf("stack protector canary set: %s\n", canary() != 0 ? "yes" : "no");

    errno = 0;
    int *errno_address = &errno;
    long result = write(-1, "x", 1);
    printf("write(-1): %ld, errno EBADF: %s, errno is thread-local: %s\n", result, errno == EBADF ? "yes" : "no",
           (uintptr_t)errno_address < tp + 65536 && (uintptr_t)errno_address + 65536 > tp ? "yes" : "no");
    return !(ok_self && below);
}
