/* rep movs and rep stos of every element size, for counts around the
 * 32-byte steps Transit copies in, with the destination before, on and
 * after the source by up to 70 bytes (x86 copies forward one element at a
 * time, so a destination just after the source repeats its first bytes).
 * The buffer's hash after each, the final RSI/RDI/RCX, and the carry flag
 * set before the instruction and read after it (no flag may change). */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
static unsigned char buf[8192];
static uint32_t h(const unsigned char *p, size_t n){ uint32_t x=2166136261u; for(size_t i=0;i<n;i++){x^=p[i];x*=16777619u;} return x; }
static void fill(void){ for (int i=0;i<8192;i++) buf[i]=(unsigned char)(i*7+3); }
int main(void){
  uint32_t acc=0; int flagsok=1;
  for (int d=-70; d<=70; d+=1) for (int n=0; n<300; n+= (n<40?1:37)) for (int sz=1; sz<=8; sz*=2) {
    fill(); unsigned char *src=buf+2000, *dst=buf+2000+d; size_t cnt=n/sz; 
    unsigned char *s=src,*t=dst; size_t c=cnt; unsigned char cf;
    if (sz==1) __asm__ volatile("stc; rep movsb; setc %3" : "+S"(s),"+D"(t),"+c"(c),"=r"(cf) :: "memory");
    else if (sz==2) __asm__ volatile("stc; rep movsw; setc %3" : "+S"(s),"+D"(t),"+c"(c),"=r"(cf) :: "memory");
    else if (sz==4) __asm__ volatile("stc; rep movsl; setc %3" : "+S"(s),"+D"(t),"+c"(c),"=r"(cf) :: "memory");
    else __asm__ volatile("stc; rep movsq; setc %3" : "+S"(s),"+D"(t),"+c"(c),"=r"(cf) :: "memory");
    flagsok &= cf==1 && c==0 && s==src+cnt*sz && t==dst+cnt*sz;
    acc = acc*31 + h(buf, 8192);
    fill(); t=dst; c=cnt; unsigned long v=0x1122334455667788ul;
    if (sz==1) __asm__ volatile("clc; rep stosb; setc %2" : "+D"(t),"+c"(c),"=r"(cf) : "a"(v) : "memory");
    else if (sz==8) __asm__ volatile("clc; rep stosq; setc %2" : "+D"(t),"+c"(c),"=r"(cf) : "a"(v) : "memory");
    else if (sz==4) __asm__ volatile("clc; rep stosl; setc %2" : "+D"(t),"+c"(c),"=r"(cf) : "a"(v) : "memory");
    else __asm__ volatile("clc; rep stosw; setc %2" : "+D"(t),"+c"(c),"=r"(cf) : "a"(v) : "memory");
    flagsok &= cf==0 && c==0 && t==dst+cnt*sz;
    acc = acc*31 + h(buf, 8192);
  }
  printf("%08x flags+regs %s\n", acc, flagsok?"ok":"BAD");
  return 0;
}
