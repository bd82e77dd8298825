// Bench N - a small JVM compute workload for the JIT bench: records and
// interfaces (megamorphic calls), lambdas, collections (ArrayList,
// HashMap, TreeMap, ArrayDeque), streams, sorting with comparators,
// StringBuilder, boxing, allocation of short-lived objects.  Deterministic:
// its own PRNG, no time, no threads of its own; prints checksums only.
// Enough iterations that HotSpot's C1 and C2 compile the hot methods.

import java.util.*;
import java.util.function.*;
import java.util.stream.*;

public final class Bench {
    static long seed = 12345;

    static int rand() {                      // 31-bit LCG: its high 15 bits
        seed = (seed * 1103515245L + 12345L) & 0x7fffffffL;
        return (int) (seed >>> 16);
    }

    interface Shape {
        int id();
        long area();
        long perimeter();
    }

    record Rect(int id, int w, int h) implements Shape {
        public long area() { return (long) w * h; }
        public long perimeter() { return 2L * (w + h); }
    }

    record Circle(int id, int r) implements Shape {
        public long area() { return 355L * r * r / 113; }
        public long perimeter() { return 710L * r / 113; }
    }

    record Tri(int id, int a, int b, int c) implements Shape {
        public long area() { return ((long) a * b) >> 1; }
        public long perimeter() { return a + b + c; }
    }

    static String shapes(int n) {
        List<Shape> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = rand() % 3, x = 1 + rand() % 50, y = 1 + rand() % 50;
            list.add(switch (k) {
                case 0 -> new Rect(i, x, y);
                case 1 -> new Circle(i, x);
                default -> new Tri(i, x, y, 1 + ((x + y) >> 1));
            });
        }
        long total = 0;
        for (int round = 0; round < 4; round++)
            for (Shape s : list) total = (total + s.area() + s.perimeter()) % 1_000_000_007L;
        list.sort(Comparator.comparingLong(Shape::area).thenComparingInt(Shape::id));
        Map<String, Long> byKind = list.stream().collect(Collectors.groupingBy(
                s -> s.getClass().getSimpleName(), TreeMap::new, Collectors.summingLong(Shape::perimeter)));
        return "shapes " + total + " first=" + list.get(0).id() + " last=" + list.get(list.size() - 1).id()
                + " " + byKind;
    }

    static String lambdas(int n) {
        int[] counters = new int[16];
        List<IntUnaryOperator> ops = List.of(x -> x + 1, x -> x * 3, x -> x ^ 0x55, x -> x - 7);
        IntUnaryOperator f = ops.stream().reduce(IntUnaryOperator.identity(), IntUnaryOperator::andThen);
        Supplier<Integer> sup = () -> rand() & 1023;
        long acc = 0;
        for (int i = 0; i < n * 8; i++) {
            int c = i & 15;
            counters[c] += f.applyAsInt(i & 1023);
            acc += counters[c];
            if ((i & 255) == 0) acc ^= sup.get();
        }
        return "lambdas " + acc + " " + Arrays.stream(counters).sum();
    }

    static String collections(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = (rand() * 32768 + rand()) % 100000;
        List<Integer> boxed = new ArrayList<>(n);
        for (int x : a) boxed.add(x * 2);
        long evens = boxed.stream().filter(x -> x % 3 == 0).mapToLong(x -> x >> 1).sum();
        List<Integer> sorted = new ArrayList<>(boxed);
        Collections.sort(sorted);
        Set<Integer> uniq = new HashSet<>(sorted);
        Map<Integer, Integer> buckets = new HashMap<>();
        for (int x : a) buckets.merge(x % 1000, 1, Integer::sum);
        int maxBucket = buckets.values().stream().max(Integer::compare).orElse(0);
        ArrayDeque<Integer> dq = new ArrayDeque<>();
        long dsum = 0;
        for (int i = 0; i < n; i++) {
            dq.addLast(a[i]);
            if (dq.size() > 64) dsum += dq.pollFirst();
        }
        double fs = 0;
        for (int x : a) fs += x / 7.0 + Math.sqrt(x);
        int lim = n * 4;
        boolean[] sieve = new boolean[lim + 1];
        int primes = 0;
        for (int i = 2; i <= lim; i++) {
            if (!sieve[i]) {
                primes++;
                for (long j = (long) i * i; j <= lim; j += i) sieve[(int) j] = true;
            }
        }
        return "collections " + evens + " " + String.format("%.3f", fs) + " " + uniq.size() + " "
                + maxBucket + " " + dsum + " " + primes + " " + sorted.get(n / 2);
    }

    static final String[] WORDS = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
            "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi"};

    static String strings(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int v = rand() % 1000;
            if (i > 0) sb.append(' ');
            sb.append(WORDS[rand() & 15]).append('-').append(Integer.toHexString(v)).append(':').append((v * 31) % 97);
        }
        String text = sb.toString();
        Map<String, Integer> freq = new TreeMap<>();
        for (String tok : text.split(" ")) {
            int dash = tok.indexOf('-'), colon = tok.indexOf(':');
            freq.merge(tok.substring(0, dash), Integer.parseInt(tok.substring(dash + 1, colon), 16), Integer::sum);
        }
        String upper = text.replaceAll("[aeiou]", "#");
        int h = upper.hashCode();
        String joined = IntStream.range(0, n).mapToObj(i -> String.valueOf((char) ('a' + i % 26)))
                .collect(Collectors.joining());
        String rev = new StringBuilder(joined).reverse().toString();
        return "strings " + text.length() + " " + h + " " + rev.substring(0, 8) + " " + freq;
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        System.out.println(shapes(n));
        System.out.println(lambdas(n));
        System.out.println(collections(n));
        System.out.println(strings(n));
    }
}
