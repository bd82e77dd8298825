/* An emulator-detection probe in the way buildkit's is: no libc, run in a
 * chroot holding nothing else, answering with its exit status, 64 + the
 * x86-64 microarchitecture level CPUID reports (65 = v1, 66 = v2, 67 = v3;
 * 64 = not even v1). Only the bits each level adds are checked.
 * Built with gcc -nostdlib -static. */
    .globl _start
    .text
_start:
    mov $64, %r12d               /* the answer so far */

    mov $1, %eax
    cpuid
    mov %ecx, %r13d              /* leaf 1 ecx */
    /* v1: FPU, CX8, CMOV, MMX, FXSR, SSE, SSE2 */
    mov $((1<<0)|(1<<8)|(1<<15)|(1<<23)|(1<<24)|(1<<25)|(1<<26)), %eax
    and %eax, %edx
    cmp %eax, %edx
    jne done
    mov $0x80000001, %eax
    cpuid
    mov %ecx, %r14d              /* leaf 0x80000001 ecx */
    bt $11, %edx                 /* SYSCALL */
    jnc done
    mov $65, %r12d

    /* v2: SSE3, SSSE3, CX16, SSE4.1, SSE4.2, POPCNT; LAHF/SAHF */
    mov $((1<<0)|(1<<9)|(1<<13)|(1<<19)|(1<<20)|(1<<23)), %eax
    mov %r13d, %ecx
    and %eax, %ecx
    cmp %eax, %ecx
    jne done
    bt $0, %r14d
    jnc done
    mov $66, %r12d

    /* v3: FMA, MOVBE, OSXSAVE, AVX, F16C; LZCNT; AVX2, BMI1, BMI2 */
    mov $((1<<12)|(1<<22)|(1<<27)|(1<<28)|(1<<29)), %eax
    mov %r13d, %ecx
    and %eax, %ecx
    cmp %eax, %ecx
    jne done
    bt $5, %r14d
    jnc done
    mov $7, %eax
    xor %ecx, %ecx
    cpuid
    mov $((1<<3)|(1<<5)|(1<<8)), %eax
    and %eax, %ebx
    cmp %eax, %ebx
    jne done
    mov $67, %r12d

done:
    mov $60, %eax                /* exit */
    mov %r12d, %edi
    syscall
