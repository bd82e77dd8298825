import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;

/* Four pool threads run the same hot methods while C1 and C2 compile them,
 * so call sites move through HotSpot's inline-cache states (patched code,
 * stubs in the inline-cache buffer, interpreted and compiled entries)
 * while other threads run that code; then a parallel stream. Under
 * Transit it once crashed in the I2C/C2I adapters in 2 of 10 runs: a new
 * call site linked to a stale translation of the stub it called. */
public class ThreadedJit {
    static long work(int seed) {
        // Allocation-heavy, JIT-hot: maps, strings, boxing.
        Map<String, Integer> m = new HashMap<>();
        long h = seed;
        for (int i = 0; i < 20000; i++) {
            h = h * 6364136223846793005L + 1442695040888963407L;
            String k = Long.toHexString(h >>> 40);
            m.merge(k, 1, Integer::sum);
        }
        long sum = 0;
        for (Map.Entry<String, Integer> e : m.entrySet()) sum += e.getKey().hashCode() * (long) e.getValue();
        List<Long> list = new ArrayList<>();
        for (int i = 0; i < 5000; i++) list.add((h ^ i) % 1000003);
        Collections.sort(list);
        return sum ^ list.get(list.size() / 2);
    }
    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        ConcurrentHashMap<Integer, Long> results = new ConcurrentHashMap<>();
        AtomicLong counter = new AtomicLong();
        List<Future<?>> fs = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            final int seed = r;
            fs.add(pool.submit(() -> { results.put(seed, work(seed)); counter.incrementAndGet(); }));
        }
        for (Future<?> f : fs) f.get();
        pool.shutdown();
        long par = IntStream.range(0, 200000).parallel().mapToLong(i -> (long) i * i % 7919).sum();
        long x = 0;
        for (int r = 0; r < rounds; r++) x = x * 31 + results.get(r);
        System.out.println("rounds=" + counter.get() + " x=" + x + " par=" + par);
    }
}
