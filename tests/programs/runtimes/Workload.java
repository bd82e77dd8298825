import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;

/**
 * A JVM workload for Transit: threads, collections, streams, the exceptions
 * HotSpot raises from hardware faults (a null dereference is a SIGSEGV in
 * compiled code, an integer division by zero a SIGFPE), and enough
 * allocation under a small heap for several collections. Every line printed
 * is deterministic.
 */
public class Workload {
    static int divide(int a, int b) { return a / b; }
    static long divideLong(long a, long b) { return a / b; }
    static int length(String s) { return s.length(); }
    static int at(int[] a, int i) { return a[i]; }

    public static void main(String[] args) throws Exception {
        // Collections and streams.
        List<Integer> numbers = IntStream.range(0, 100_000).map(i -> (i * 7919) % 100_003).boxed()
                .collect(Collectors.toList());
        Collections.sort(numbers);
        Map<Integer, Long> byDigit = numbers.stream()
                .collect(Collectors.groupingBy(n -> n % 10, TreeMap::new, Collectors.counting()));
        System.out.println("sorted " + numbers.get(0) + " " + numbers.get(50_000) + " " + numbers.get(99_999));
        System.out.println("by last digit " + byDigit);
        String words = Stream.of("delta", "alpha", "charlie", "bravo", "echo")
                .sorted(Comparator.comparing(String::length).thenComparing(Comparator.reverseOrder()))
                .collect(Collectors.joining(","));
        System.out.println("words " + words);
        System.out.println("parallel sum " + LongStream.rangeClosed(1, 2_000_000).parallel().map(x -> x * x % 1000).sum());

        // Hardware-fault exceptions, each thrown often enough that the
        // method is compiled and the fault comes from compiled code.
        int npe = 0, aioobe = 0, arith = 0;
        int[] small = new int[8];
        for (int i = 0; i < 3_000; i++) {
            try { length(i % 4 == 0 ? null : "abc"); } catch (NullPointerException e) { npe++; }
            try { at(small, i % 16); } catch (ArrayIndexOutOfBoundsException e) { aioobe++; }
            try { divide(i, i % 5); } catch (ArithmeticException e) { arith++; }
            try { divideLong(i, i % 7); } catch (ArithmeticException e) { arith++; }
        }
        System.out.println("exceptions npe " + npe + " aioobe " + aioobe + " arithmetic " + arith);
        System.out.println("min int / -1 = " + divide(Integer.MIN_VALUE, -1)
                + ", min long / -1 = " + divideLong(Long.MIN_VALUE, -1));

        // Threads: a pool sharing a concurrent map and an atomic counter.
        ExecutorService pool = Executors.newFixedThreadPool(4);
        ConcurrentHashMap<Integer, Integer> squares = new ConcurrentHashMap<>();
        AtomicLong total = new AtomicLong();
        List<Future<Integer>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            final int part = t;
            futures.add(pool.submit(() -> {
                int count = 0;
                for (int i = part; i < 40_000; i += 8) {
                    squares.put(i, i * i % 9973);
                    total.addAndGet(i);
                    count++;
                }
                return count;
            }));
        }
        int done = 0;
        for (Future<Integer> f : futures) done += f.get();
        pool.shutdown();
        pool.awaitTermination(1, TimeUnit.MINUTES);
        long squareSum = squares.values().stream().mapToLong(Integer::longValue).sum();
        System.out.println("threads " + done + " " + squares.size() + " " + total.get() + " " + squareSum);

        // Allocation: about 120 MB of short-lived objects through a 64 MB heap.
        long checksum = 0;
        for (int round = 0; round < 24; round++) {
            List<int[]> garbage = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) garbage.add(new int[256]);
            for (int[] a : garbage) { a[round % 256] = round; checksum += a.length + a[round % 256]; }
        }
        System.out.println("allocation checksum " + checksum);
        long gcs = java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(b -> b.getCollectionCount()).sum();
        System.out.println("collections > 3: " + (gcs > 3));
        System.exit(4);
    }
}
