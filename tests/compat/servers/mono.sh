#!/bin/sh
# Mono (JIT): mcs compiles a C# program with generics, LINQ, the runtime's
# own exceptions (index, null reference: SIGSEGV; divide by zero: SIGFPE),
# four threads under a lock and thread-pool tasks; mono runs it.
d=$W/mono_$$
mkdir -p $d && cd $d || exit 1
cat > P.cs <<'CS'
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

class Box<T> where T : IComparable<T> {
    public T V; public Box(T v) { V = v; }
    public bool Gt(Box<T> o) { return V.CompareTo(o.V) > 0; }
}

class P {
    static int Fib(int n) { return n < 2 ? n : Fib(n - 1) + Fib(n - 2); }
    static void Main() {
        var d = new Dictionary<string, long>();
        for (int i = 0; i < 20000; i++) d["k" + i] = (long)i * i;
        Console.WriteLine(d.Values.Sum());
        var q = Enumerable.Range(1, 1000).Where(x => x % 3 == 0).Select(x => x * 2).OrderByDescending(x => x).Take(3);
        Console.WriteLine(string.Join(",", q));
        Console.WriteLine(new Box<double>(2.5).Gt(new Box<double>(1.5)));
        try { int[] a = new int[2]; int j = 5; a[j] = 1; } catch (IndexOutOfRangeException) { Console.WriteLine("ioore"); }
        try { string s = null; Console.WriteLine(s.Length); } catch (NullReferenceException) { Console.WriteLine("nre"); }
        try { int z = 0; Console.WriteLine(1 / z); } catch (DivideByZeroException) { Console.WriteLine("dbz"); }
        long total = 0; object lk = new object();
        var ts = new Thread[4];
        for (int t = 0; t < 4; t++) { int k = t; ts[t] = new Thread(() => { long s = 0; for (int j = 0; j < 100000; j++) s += j % (k + 2); lock (lk) total += s; }); ts[t].Start(); }
        foreach (var th in ts) th.Join();
        Console.WriteLine(total);
        var tasks = Enumerable.Range(0, 8).Select(i => Task.Run(() => Fib(15 + i % 3))).ToArray();
        Task.WaitAll(tasks);
        Console.WriteLine(tasks.Sum(t => t.Result));
        Console.WriteLine(Math.Sqrt(2).ToString("R") + " " + (1.0/3).ToString("F10"));
    }
}
CS
mcs -out:P.exe P.cs && mono P.exe
echo "mono exit $?"
cd / && rm -rf $d
