#!/usr/bin/env python3
"""The shared bench's harness.py with two more workloads, node and java
(run.sh builds the cache they need; see the comment there).

Everything else (running, counting, checking that the emulated outputs
equal the native ones, tables, JSON) is the harness's own: this only adds
entries to its workload table before calling its main().
"""

import os
import sys

BENCH_DIR = os.environ.get("TRANSIT_BENCH_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench")
sys.path.insert(0, os.path.abspath(BENCH_DIR))
import harness  # noqa: E402

# Node.js 18 (V8 10.2).  V8 would otherwise compile optimized code and
# mark/sweep its heap on background threads, so how much runs in the
# interpreter before optimized code arrives, and when the GC runs, would
# depend on thread timing: --single-threaded keeps all of it on the main
# thread (tiering itself - Ignition, Sparkplug, TurboFan - is unchanged).
# --random-seed fixes Math.random and V8's hash seed, which it would
# otherwise read from /dev/urandom (qemu's -seed only fixes getrandom).
NODE_FLAGS = ["--single-threaded", "--random-seed=42"]

# OpenJDK 17 (HotSpot, tiered C1 + C2, the defaults kept).
# -XX:+UseSerialGC: one GC thread; the default on this 2-CPU host would be
#   G1 with parallel and concurrent workers whose timing varies.
# -Xms/-Xmx fixed: the heap size not derived from the host's memory.
# -Xbatch: a method's compilation is waited for instead of run on the
#   compiler threads while the program goes on interpreting it, so the
#   amount of interpreted work does not depend on thread timing.
# -Xshare:off: no class-data-sharing archive (the package ships one, which
#   the JVM maps at a fixed address or silently does without, so whether
#   it is used could differ between the two sides; off, both load their
#   classes from the modules image, a heavier start than the default).
# -XX:-UsePerfData: no hsperfdata file in /tmp.
JAVA_FLAGS = ["-XX:+UseSerialGC", "-Xms128m", "-Xmx128m", "-Xbatch", "-Xshare:off",
              "-XX:-UsePerfData"]

JIT_WORKLOADS = [
    ("node", "Node.js 18 (V8): classes, closures, typed arrays, Map/Set, sort, "
     "strings, regexes, JSON", "usr/bin/node", NODE_FLAGS + ["{cache}/jit/bench.js"],
     {"quick": 3000, "default": 20000, "full": 200000}),
    ("java", "OpenJDK 17 (HotSpot C1+C2): records, lambdas, collections, streams, "
     "sort, StringBuilder", "usr/lib/jvm/default-java/bin/java",
     JAVA_FLAGS + ["-cp", "{cache}/jit", "Bench"],
     {"quick": 3000, "default": 20000, "full": 200000}),
]


def jit_workload(name, desc, binary, pre_args, ns):
    def steps(size):
        return [harness.Step("run", "sys:" + binary, pre_args + [str(ns[size])])]
    return harness.Workload(name, "debian", desc, steps)


_standard_workloads = harness.all_workloads


def all_workloads():
    return _standard_workloads() + [jit_workload(*w) for w in JIT_WORKLOADS]


harness.all_workloads = all_workloads

if __name__ == "__main__":
    sys.exit(harness.main(sys.argv[1:]))
