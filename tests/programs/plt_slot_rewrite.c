/* Calls through a read-only slot, as a PLT stub jumps through a GOT entry
 * that RELRO made read-only, then changes the slot the only way a program
 * can (mprotect it writable, write, protect it again): later calls must
 * reach the new target. Transit turns such a branch into a direct one
 * while the slot's page stays read-only (frontend::fixed_slots), so a
 * translation that outlived the change would still call the old one.
 * Also a call through the slot (-fno-plt code) and a slot the program
 * leaves writable. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static long add_one(long x) { return x + 1; }
static long times_three(long x) { return x * 3; }
static long minus_seven(long x) { return x - 7; }

/* Page-aligned so that mprotect touches the slots alone. */
__attribute__((aligned(4096))) void *slot_page[512];

/* A PLT stub: a tail jump through slot 0. And a caller through slot 1
 * (keeps the stack 16-byte aligned for the callee). */
__asm__(".text\n"
        ".globl via_jump\n"
        "via_jump: jmp *slot_page(%rip)\n"
        ".globl via_call\n"
        "via_call: sub $8, %rsp\n"
        "    call *slot_page+8(%rip)\n"
        "    add $8, %rsp\n"
        "    ret\n");
long via_jump(long);
long via_call(long);

static void set_slots(void *jump_to, void *call_to, int leave_writable)
{
    if (mprotect(slot_page, sizeof slot_page, PROT_READ | PROT_WRITE) != 0) {
        perror("mprotect");
    }
    slot_page[0] = jump_to;
    slot_page[1] = call_to;
    if (!leave_writable && mprotect(slot_page, sizeof slot_page, PROT_READ) != 0) {
        perror("mprotect");
    }
}

static void run(const char *what)
{
    long jumped = 0, called = 0;
    /* Enough calls for every block on the way to be translated and linked. */
    for (long i = 0; i < 20000; i++) {
        jumped += via_jump(i);
        called += via_call(i);
    }
    printf("%s: through the jump %ld, through the call %ld\n", what, jumped, called);
}

int main(void)
{
    set_slots((void *)add_one, (void *)times_three, 0);
    run("read-only");
    set_slots((void *)times_three, (void *)minus_seven, 0);
    run("changed, read-only again");
    set_slots((void *)minus_seven, (void *)add_one, 1);
    run("changed, left writable");
    slot_page[0] = (void *)add_one;
    slot_page[1] = (void *)minus_seven;
    run("written in place");
    return 0;
}
