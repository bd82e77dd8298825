#!/bin/sh
# OpenJDK 17's concurrent collectors: ZGC (its heap multi-mapped through a
# memfd, load barriers) and Shenandoah, each running the same allocation,
# HashMap and four-thread program. The class file below is javac 17's
# output for this source (compiling it under Transit takes minutes; the
# javac_run case covers javac):
#   import java.util.*;
#   public class G {
#       public static void main(String[] a) throws Exception {
#           List<int[]> keep = new ArrayList<>();
#           long s = 0;
#           for (int r = 0; r < 200; r++) {
#               int[] x = new int[10000];
#               for (int i = 0; i < x.length; i++) x[i] = i * r;
#               s += x[x.length - 1];
#               if (r % 10 == 0) keep.add(x);
#           }
#           System.gc();
#           Map<String, Integer> m = new HashMap<>();
#           for (int i = 0; i < 50000; i++) m.put("k" + i, i);
#           Thread[] t = new Thread[4]; long[] out = new long[4];
#           for (int k = 0; k < 4; k++) { final int kk = k; t[k] = new Thread(() -> { long q = 0; for (int j = 0; j < 200000; j++) { q += new Integer(j % (kk + 2)).intValue(); } out[kk] = q; }); t[k].start(); }
#           for (Thread th : t) th.join();
#           System.out.println(s + " " + keep.size() + " " + m.get("k4999") + " " + Arrays.stream(out).sum());
#       }
#   }
d=$W/jgc_$$
mkdir -p $d && cd $d || exit 1
base64 -d > G.class <<'B64'
yv66vgAAAD0AlwoAAgADBwAEDAAFAAYBABBqYXZhL2xhbmcvT2JqZWN0AQAGPGluaXQ+AQADKClW
BwAIAQATamF2YS91dGlsL0FycmF5TGlzdAoABwADCwALAAwHAA0MAA4ADwEADmphdmEvdXRpbC9M
aXN0AQADYWRkAQAVKExqYXZhL2xhbmcvT2JqZWN0OylaCgARABIHABMMABQABgEAEGphdmEvbGFu
Zy9TeXN0ZW0BAAJnYwcAFgEAEWphdmEvdXRpbC9IYXNoTWFwCgAVAAMDAADDUBIAAAAaDAAbABwB
ABdtYWtlQ29uY2F0V2l0aENvbnN0YW50cwEAFShJKUxqYXZhL2xhbmcvU3RyaW5nOwoAHgAfBwAg
DAAhACIBABFqYXZhL2xhbmcvSW50ZWdlcgEAB3ZhbHVlT2YBABYoSSlMamF2YS9sYW5nL0ludGVn
ZXI7CwAkACUHACYMACcAKAEADWphdmEvdXRpbC9NYXABAANwdXQBADgoTGphdmEvbGFuZy9PYmpl
Y3Q7TGphdmEvbGFuZy9PYmplY3Q7KUxqYXZhL2xhbmcvT2JqZWN0OwcAKgEAEGphdmEvbGFuZy9U
aHJlYWQSAAEALAwALQAuAQADcnVuAQAZKElbSilMamF2YS9sYW5nL1J1bm5hYmxlOwoAKQAwDAAF
ADEBABcoTGphdmEvbGFuZy9SdW5uYWJsZTspVgoAKQAzDAA0AAYBAAVzdGFydAoAKQA2DAA3AAYB
AARqb2luCQARADkMADoAOwEAA291dAEAFUxqYXZhL2lvL1ByaW50U3RyZWFtOwsACwA9DAA+AD8B
AARzaXplAQADKClJCABBAQAFazQ5OTkLACQAQwwARABFAQADZ2V0AQAmKExqYXZhL2xhbmcvT2Jq
ZWN0OylMamF2YS9sYW5nL09iamVjdDsKAEcASAcASQwAIQBKAQAQamF2YS9sYW5nL1N0cmluZwEA
JihMamF2YS9sYW5nL09iamVjdDspTGphdmEvbGFuZy9TdHJpbmc7CgBMAE0HAE4MAE8AUAEAEGph
dmEvdXRpbC9BcnJheXMBAAZzdHJlYW0BACEoW0opTGphdmEvdXRpbC9zdHJlYW0vTG9uZ1N0cmVh
bTsLAFIAUwcAVAwAVQBWAQAbamF2YS91dGlsL3N0cmVhbS9Mb25nU3RyZWFtAQADc3VtAQADKClK
EgACAFgMABsAWQEAKShKSUxqYXZhL2xhbmcvU3RyaW5nO0opTGphdmEvbGFuZy9TdHJpbmc7CgBb
AFwHAF0MAF4AXwEAE2phdmEvaW8vUHJpbnRTdHJlYW0BAAdwcmludGxuAQAVKExqYXZhL2xhbmcv
U3RyaW5nOylWAwADDUAKAB4AYgwABQBjAQAEKEkpVgoAHgBlDABmAD8BAAhpbnRWYWx1ZQcAaAEA
AUcBAARDb2RlAQAPTGluZU51bWJlclRhYmxlAQAEbWFpbgEAFihbTGphdmEvbGFuZy9TdHJpbmc7
KVYBAA1TdGFja01hcFRhYmxlBwBvAQACW0kHAHEBABNbTGphdmEvbGFuZy9UaHJlYWQ7BwBzAQAC
W0oBAApFeGNlcHRpb25zBwB2AQATamF2YS9sYW5nL0V4Y2VwdGlvbgEADWxhbWJkYSRtYWluJDAB
AAYoSVtKKVYBAApTb3VyY2VGaWxlAQAGRy5qYXZhAQAQQm9vdHN0cmFwTWV0aG9kcw8GAH0KAH4A
fwcAgAwAGwCBAQAkamF2YS9sYW5nL2ludm9rZS9TdHJpbmdDb25jYXRGYWN0b3J5AQCYKExqYXZh
L2xhbmcvaW52b2tlL01ldGhvZEhhbmRsZXMkTG9va3VwO0xqYXZhL2xhbmcvU3RyaW5nO0xqYXZh
L2xhbmcvaW52b2tlL01ldGhvZFR5cGU7TGphdmEvbGFuZy9TdHJpbmc7W0xqYXZhL2xhbmcvT2Jq
ZWN0OylMamF2YS9sYW5nL2ludm9rZS9DYWxsU2l0ZTsIAIMBAAJrAQ8GAIUKAIYAhwcAiAwAiQCK
AQAiamF2YS9sYW5nL2ludm9rZS9MYW1iZGFNZXRhZmFjdG9yeQEAC21ldGFmYWN0b3J5AQDMKExq
YXZhL2xhbmcvaW52b2tlL01ldGhvZEhhbmRsZXMkTG9va3VwO0xqYXZhL2xhbmcvU3RyaW5nO0xq
YXZhL2xhbmcvaW52b2tlL01ldGhvZFR5cGU7TGphdmEvbGFuZy9pbnZva2UvTWV0aG9kVHlwZTtM
amF2YS9sYW5nL2ludm9rZS9NZXRob2RIYW5kbGU7TGphdmEvbGFuZy9pbnZva2UvTWV0aG9kVHlw
ZTspTGphdmEvbGFuZy9pbnZva2UvQ2FsbFNpdGU7EAAGDwYAjQoAZwCODAB3AHgIAJABAAcBIAEg
ASABAQAMSW5uZXJDbGFzc2VzBwCTAQAlamF2YS9sYW5nL2ludm9rZS9NZXRob2RIYW5kbGVzJExv
b2t1cAcAlQEAHmphdmEvbGFuZy9pbnZva2UvTWV0aG9kSGFuZGxlcwEABkxvb2t1cAAhAGcAAgAA
AAAAAwABAAUABgABAGkAAAAdAAEAAQAAAAUqtwABsQAAAAEAagAAAAYAAQAAAAIACQBrAGwAAgBp
AAABqQAHAAsAAAETuwAHWbcACUwJQQM2BBUEEQDIogBIEScQvAo6BQM2BhUGGQW+ogATGQUVBhUG
FQRoT4QGAaf/6yAZBRkFvgRkLoVhQRUEEApwmgAMKxkFuQAKAgBXhAQBp/+2uAAQuwAVWbcAFzoE
AzYFFQUSGKIAHRkEFQW6ABkAABUFuAAduQAjAwBXhAUBp//iB70AKToFB7wLOgYDNgcVBweiACoV
BzYIGQUVB7sAKVkVCBkGugArAAC3AC9TGQUVBzK2ADKEBwGn/9YZBToHGQe+NggDNgkVCRUIogAV
GQcVCTI6ChkKtgA1hAkBp//qsgA4ICu5ADwBABkEEkC5AEICALgARhkGuABLuQBRAQC6AFcAALYA
WrEAAAACAGoAAABCABAAAAAEAAgABQAKAAYAFQAHABwACAA3AAkAQwAKAFQABgBaAAwAXQANAGYA
DgCKAA8AlQAQAMUAEQDqABIBEgATAG0AAAA8AAv+AA0HAAsEAf0AEQcAbgH6ABf6ABz6AAX9AA4H
ACQB+gAg/gANBwBwBwByAfoALP4ACwcAcAEB+AAYAHQAAAAEAAEAdRAKAHcAeAABAGkAAABTAAcA
BQAAACsJQQM2BBUEEmCiAB0guwAeWRUEGgVgcLcAYbYAZIVhQYQEAaf/4isaIFCxAAAAAgBqAAAA
BgABAAAAEABtAAAACgAC/QAFBAH6ACAAAwB5AAAAAgB6AHsAAAAYAAMAfAABAIIAhAADAIsAjACL
AHwAAQCPAJEAAAAKAAEAkgCUAJYAGQ==
B64
for gc in UseZGC UseShenandoahGC; do
    java -XX:+$gc -Xmx256m -cp . G
    echo "$gc exit $?"
done
cd / && rm -rf $d
